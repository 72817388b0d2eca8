//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The charts as a cluster runs them: real containers of the images ci/images.sh builds from
// Apache Flink's own distribution, started by the image's entrypoint and Flink's scripts, on the
// stack's kubelet node, in namespaces that enforce Pod Security restricted.

// nodeFit sizes a release for the stack's one node (2 CPUs), so that tests run side by side there:
// small CPU requests, and in native mode a CPU limit above them (Flink sets request × limit-factor,
// 1.0 by default: a TaskManager held to 0.05 CPU misses its heartbeats). A TaskManager of 1536m
// leaves its tasks ~290m of heap (1g would leave 26m).
var nodeFit = []string{"jobmanager.cpu=0.05", "taskmanager.cpu=0.05", "jobmanager.memoryProcessSize=1g", "taskmanager.memoryProcessSize=1536m",
	`flinkConfiguration.kubernetes\.taskmanager\.cpu\.limit-factor=40`}

// modeValues is the chart's ci values set of a mode: the defaults, or native mode's.
func modeValues(chart, mode string) string {
	set := map[string]string{"standalone": "default", "native": "native"}[mode]
	return filepath.Join(env.root, "charts", chart, "ci", set+"-values.yaml")
}

// nodeTimeout bounds a pod's start on the node: image already there, but JVMs of tests running side
// by side share two cores.
const nodeTimeout = 4 * time.Minute

func nodeRestrictedNamespace(t testing.TB) string { return restrict(t, newNodeNamespace(t)) }

// assertOnNode fails unless every pod is a container the node's kubelet runs.
func assertOnNode(t *testing.T, pods []corev1.Pod) {
	t.Helper()
	for _, p := range pods {
		if p.Spec.NodeName != realNode {
			t.Fatalf("pod %s runs on %q, want the real node %s", p.Name, p.Spec.NodeName, realNode)
		}
		for _, c := range p.Status.ContainerStatuses {
			if !strings.HasPrefix(c.ContainerID, "containerd://") {
				t.Fatalf("pod %s container %s has id %q, want containerd://…", p.Name, c.Name, c.ContainerID)
			}
		}
	}
}

// A jar submitted over REST runs on Java 17 — the plugin's main path — to a session in standalone
// and in native mode, where the TaskManager pods Flink creates are containers on the node too.
func TestRealContainersSessionRunsJarOverREST(t *testing.T) {
	t.Parallel()
	for _, v := range nativeVersions() {
		for _, mode := range []string{"standalone", "native"} {
			t.Run(v.name+"/"+mode, func(t *testing.T) {
				ns := nodeRestrictedNamespace(t)
				r := install(t, ns, "flink-session", modeValues("flink-session", mode), true, append([]string{"image.tag=" + v.tag}, nodeFit...)...)
				jm := waitPods(t, ns, releaseSel+"jobmanager", nodeTimeout, "the JobManager is ready", allReady(1))
				assertOnNode(t, jm)
				rest := forwardREST(t, ns, jm[0].Name)
				var o overview
				ctx, cancel := context.WithTimeout(t.Context(), nodeTimeout)
				defer cancel()
				eventually(t, ctx, "the JobManager answers", func() (bool, string) {
					err := rest.try("GET", "/overview", nil, "", &o)
					return err == nil, fmt.Sprint(err)
				})
				if o.FlinkVersion != v.release {
					t.Fatalf("flink-version %q, want %q", o.FlinkVersion, v.release)
				}
				job := rest.run(rest.upload(exampleJar(v.release, "TopSpeedWindowing")), 2)
				rest.waitAllTasksRunning(job, nodeTimeout)
				tms := releaseSel + "taskmanager"
				if mode == "native" {
					tms = nativeTaskManagers("flink-flink-session")
				}
				pods, err := env.cs.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{LabelSelector: tms})
				if err != nil || len(pods.Items) == 0 {
					t.Fatalf("no TaskManager pods (%s): %v", tms, err)
				}
				assertOnNode(t, pods.Items)
				r.uninstall(t)
			})
		}
	}
}

// The session chart with Kubernetes HA: both JobManagers start under jobmanager.sh (the rpc
// address as a dynamic property), one leads, and when its pod is deleted the standby takes over
// and recovers the running job from the HA store on the release's claim.
//
// Flink 1.20 only for now: on 2.3 a jar run over REST once failed to upload the job's files to
// "BlobServer at address <JobManager pod name>/<unresolved>:6124" (UnknownHostException), an
// address no other pod can resolve; until that is understood and fixed in the chart, a 2.3 run
// here would pass or fail by which JobManager answers.
func TestRealContainersHighAvailability(t *testing.T) {
	t.Parallel()
	for _, v := range nativeVersions()[:1] {
		t.Run(v.name, func(t *testing.T) {
			ns := nodeRestrictedNamespace(t)
			file := filepath.Join(env.root, "charts/flink-session/ci/ha-values.yaml")
			r := install(t, ns, "flink-session", file, true, append([]string{"image.tag=" + v.tag}, nodeFit...)...)
			jms := waitPods(t, ns, releaseSel+"jobmanager", nodeTimeout, "both JobManagers are ready", allReady(2))
			assertOnNode(t, jms)
			leader := haLeader(t, ns, jms)
			rest := forwardREST(t, ns, leader)
			job := rest.run(rest.upload(exampleJar(v.release, "TopSpeedWindowing")), 2)
			rest.waitAllTasksRunning(job, nodeTimeout)

			if err := env.cs.CoreV1().Pods(ns).Delete(t.Context(), leader, metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			jms = waitPods(t, ns, releaseSel+"jobmanager", nodeTimeout, "two JobManagers again, without the deleted one", func(p []corev1.Pod) bool {
				for _, pod := range p {
					if pod.Name == leader {
						return false
					}
				}
				return allReady(2)(p)
			})
			next := haLeader(t, ns, jms)
			rest = forwardREST(t, ns, next)
			rest.waitAllTasksRunning(job, nodeTimeout)
			r.uninstall(t)
		})
	}
}

// The application chart's job from an image built FROM the Flink image with the jar in usrlib, as
// users build one, in standalone and in native mode.
func TestRealContainersApplication(t *testing.T) {
	t.Parallel()
	for _, v := range nativeVersions() {
		for _, mode := range []string{"standalone", "native"} {
			t.Run(v.name+"/"+mode, func(t *testing.T) {
				ns := nodeRestrictedNamespace(t)
				set := append([]string{"image.repository=flink-examples", "image.tag=" + v.tag}, nodeFit...)
				r := install(t, ns, "flink-job", modeValues("flink-job", mode), false, set...)
				jm := waitPods(t, ns, releaseSel+"jobmanager", nodeTimeout, "the JobManager is ready", allReady(1))
				assertOnNode(t, jm)
				rest := forwardREST(t, ns, jm[0].Name)
				job := ""
				if mode == "native" {
					job = (&nativeCluster{release: r, id: "flink-flink-job"}).nativeJobID(t)
				} else {
					job = r.jobID(t)
				}
				rest.waitAllTasksRunning(job, nodeTimeout)
				r.uninstall(t)
			})
		}
	}
}
