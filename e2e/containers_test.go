//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
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
var nodeFit = append(append([]string{}, nodeMemory...), nodeCPU...)

// nodeMemory is nodeFit's memory part: what the node's scheduler reserves for each pod.
var nodeMemory = []string{"jobmanager.memoryProcessSize=1g", "taskmanager.memoryProcessSize=1536m"}

// nodeCPU is nodeFit's CPU part, for a values set whose memory sizes are its point. The JVMs
// compile with C1 only (-XX:TieredStopAtLevel=1): a JobManager then starts on ~40% less CPU
// (measured: 2.7 s instead of 4.4 s to its REST API), which on two cores shared by the releases
// of three tests is most of what a test waits for; the example jobs need no C2 code.
var nodeCPU = []string{"jobmanager.cpu=0.05", "taskmanager.cpu=0.05", `flinkConfiguration.kubernetes\.taskmanager\.cpu\.limit-factor=40`,
	`flinkConfiguration.env\.java\.opts\.all=-XX:TieredStopAtLevel=1`}

// onNode are the --set values that run chart's release on the stack's node: nodeCPU, and for the
// application chart the image built FROM the Flink image with the example jobs in usrlib (the
// chart's default job.jarURI).
func onNode(chart string) []string {
	if chart == "flink-job" {
		return append([]string{"image.repository=flink-examples"}, nodeCPU...)
	}
	return nodeCPU
}

// forNode sizes the release of a `helm [flink] install|upgrade NAME CHART …` command line for the
// node: nodeMemory's and onNode's values go right after CHART, so that every --set and -f of the
// test's own still applies and its --set wins. Other command lines are returned as they are.
func forNode(args []string) []string {
	if len(args) < 3 || (args[0] != "install" && args[0] != "upgrade") || strings.HasPrefix(args[1], "-") {
		return args
	}
	chart := "flink-session"
	if meta, err := os.ReadFile(filepath.Join(args[2], "Chart.yaml")); err == nil {
		if strings.Contains(string(meta), "\nname: flink-job\n") {
			chart = "flink-job"
		}
	} else if strings.Contains(filepath.Base(args[2]), "flink-job") {
		chart = "flink-job"
	}
	sized := append([]string{}, args[:3]...)
	for _, s := range append(append([]string{}, nodeMemory...), onNode(chart)...) {
		sized = append(sized, "--set", s)
	}
	return append(sized, args[3:]...)
}

// modeValues is the chart's ci values set of a mode: the defaults, or native mode's.
func modeValues(chart, mode string) string {
	set := map[string]string{"standalone": "default", "native": "native"}[mode]
	return filepath.Join(env.root, "charts", chart, "ci", set+"-values.yaml")
}

// nodeTimeout bounds a pod's start on the node: image already there, but JVMs of tests running side
// by side share two cores.
const nodeTimeout = 4 * time.Minute

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

// The session chart with Kubernetes HA: both JobManagers start under jobmanager.sh (the rpc
// address as a dynamic property), one leads, and a jar runs over REST through either of them: the
// standby hands the job to the leader, whose blob server it reaches by the host name Flink 2.x
// gives out (the StatefulSet's pods are in its headless Service's domain). When the leader's pod
// is deleted the standby takes over and recovers the running jobs from the HA store on the
// release's claim.
func TestRealContainersHighAvailability(t *testing.T) {
	t.Parallel()
	for _, v := range nativeVersions() {
		t.Run(v.name, func(t *testing.T) {
			ns := restrictedNamespace(t)
			file := filepath.Join(env.root, "charts/flink-session/ci/ha-values.yaml")
			r := install(t, ns, "flink-session", file, true, append([]string{"image.tag=" + v.tag}, nodeFit...)...)
			jms := waitPods(t, ns, releaseSel+"jobmanager", nodeTimeout, "both JobManagers are ready", allReady(2))
			assertOnNode(t, jms)
			leader := haLeader(t, ns, jms)
			var jobs []string
			for _, via := range []string{leader, other(jms, leader).Name} {
				rest := forwardREST(t, ns, via)
				rest.waitAnswers(nodeTimeout)
				job := rest.run(rest.upload(exampleJar(v.release, "TopSpeedWindowing")), 1)
				rest.waitAllTasksRunning(job, nodeTimeout)
				jobs = append(jobs, job)
			}

			gone := podUIDs(t, ns, releaseSel+"jobmanager")[leader]
			if err := env.cs.CoreV1().Pods(ns).Delete(t.Context(), leader, metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			jms = waitPods(t, ns, releaseSel+"jobmanager", nodeTimeout, "two JobManagers again, without the deleted one", func(p []corev1.Pod) bool {
				for _, pod := range p {
					if pod.UID == gone {
						return false
					}
				}
				return allReady(2)(p)
			})
			rest := forwardREST(t, ns, haLeader(t, ns, jms))
			for _, job := range jobs {
				rest.waitAllTasksRunning(job, nodeTimeout)
			}
			r.uninstall(t)
		})
	}
}

// other is the pod of pods that is not name.
func other(pods []corev1.Pod, name string) corev1.Pod {
	for _, p := range pods {
		if p.Name != name {
			return p
		}
	}
	return corev1.Pod{}
}

// The application chart under the wait Flux's helm-controller and Argo CD do: Helm 4's kstatus
// watcher, which waits for every object of the release, batch Jobs to complete. The release is
// Ready while a streaming job runs (a JobManager Job would be in progress for ever); a bounded
// job that finished leaves its JobManager up with the job FINISHED on the REST API, not
// restarted, so the job is never run again.
func TestRealContainersApplicationReadyUnderKstatus(t *testing.T) {
	t.Parallel()
	vs := nativeVersions()
	// Standalone on Flink 2.x too: the application chart on both versions in both modes (Flink
	// 1.20 standalone in TestJobChartValuesSets, 2.x native in TestNativeApplication).
	for _, c := range []struct {
		mode, job string
		v         nativeVersion
	}{{"standalone", "TopSpeedWindowing", vs[1]}, {"native", "TopSpeedWindowing", vs[0]}, {"standalone", "WordCount", vs[0]}} {
		v := c.v
		t.Run(c.mode+"/"+c.job+"/"+v.name, func(t *testing.T) {
			t.Parallel()
			ns := restrictedNamespace(t)
			set := append([]string{"image.repository=flink-examples", "image.tag=" + v.tag,
				"job.jarURI=local:///opt/flink/usrlib/" + c.job + ".jar",
				"job.entryClass=org.apache.flink.streaming.examples." + map[string]string{"TopSpeedWindowing": "windowing", "WordCount": "wordcount"}[c.job] + "." + c.job}, nodeFit...)
			args := []string{"install", "flink", filepath.Join(env.root, "charts/flink-job"), "-n", ns, "-f", modeValues("flink-job", c.mode),
				"--wait=watcher", "--wait-for-jobs", "--timeout", nodeTimeout.String()}
			for _, s := range set {
				args = append(args, "--set", s)
			}
			h := newHelm(t, "helm4")
			if out, err := h.run(t, args...); err != nil {
				t.Fatalf("helm4 install --wait=watcher --wait-for-jobs: %v\n%s", err, out)
			}
			jm := waitPods(t, ns, releaseSel+"jobmanager", nodeTimeout, "the JobManager is ready", allReady(1))
			assertOnNode(t, jm)
			rest := forwardREST(t, ns, jm[0].Name)
			ctx, cancel := context.WithTimeout(t.Context(), nodeTimeout)
			defer cancel()
			var jobs struct {
				Jobs []struct{ ID, Status string } `json:"jobs"`
			}
			eventually(t, ctx, "the JobManager lists the job", func() (bool, string) {
				err := rest.try("GET", "/jobs", nil, "", &jobs)
				return err == nil && len(jobs.Jobs) == 1, fmt.Sprint(jobs, err)
			})
			if c.job == "WordCount" {
				rest.waitJobState(jobs.Jobs[0].ID, "FINISHED", nodeTimeout)
				// The JobManager stays: the same pod, never restarted, still Ready, the job still FINISHED.
				time.Sleep(10 * time.Second)
				after := waitPods(t, ns, releaseSel+"jobmanager", nodeTimeout, "the JobManager is ready", allReady(1))
				if after[0].UID != jm[0].UID || after[0].Status.ContainerStatuses[0].RestartCount != 0 {
					t.Fatalf("the JobManager pod was replaced or restarted after the job finished: %s restarts %d (was %s)",
						after[0].UID, after[0].Status.ContainerStatuses[0].RestartCount, jm[0].UID)
				}
				rest.waitJobState(jobs.Jobs[0].ID, "FINISHED", time.Second)
			} else {
				rest.waitAllTasksRunning(jobs.Jobs[0].ID, nodeTimeout)
			}
			// kstatus again on what is there now: every object Current.
			if out, err := h.run(t, "upgrade", "flink", filepath.Join(env.root, "charts/flink-job"), "-n", ns, "--reuse-values", "--wait=watcher", "--wait-for-jobs", "--timeout", "1m"); err != nil {
				t.Fatalf("helm4 upgrade --wait=watcher with nothing changed: %v\n%s", err, out)
			}
			if out, err := h.run(t, "uninstall", "flink", "-n", ns, "--wait"); err != nil {
				t.Fatalf("uninstall: %v\n%s", err, out)
			}
		})
	}
}
