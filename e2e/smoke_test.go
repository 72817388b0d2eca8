//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

const (
	jmSelector = "app=flink,component=jobmanager"
	tmSelector = "app=flink,component=taskmanager"
	// podTimeout bounds a Flink pod's start: JVMs of three tests share the node's two cores.
	podTimeout = 3 * time.Minute
	jobTimeout = 2 * time.Minute
)

// The whole path before the plugin exists: manifests → real API server → the node's containers
// of real Flink → port-forward through the API server and the kubelet → Flink REST.
func TestSessionClusterFlink1(t *testing.T) {
	t.Parallel()
	sessionCluster(t, "flink:1.20-java17", env.versions["FLINK1_VERSION"], true)
}

func TestSessionClusterFlink2(t *testing.T) {
	t.Parallel()
	sessionCluster(t, "flink:2.3-java17", env.versions["FLINK2_VERSION"], false)
}

func sessionCluster(t *testing.T, image, version string, scale bool) {
	ns := newNamespace(t)
	applyFile(t, ns, "session.yaml", map[string]string{"FLINK_IMAGE": image})
	jm := waitPods(t, ns, jmSelector, podTimeout, "the JobManager is ready", allReady(1))[0]
	waitPods(t, ns, tmSelector, podTimeout, "2 TaskManagers are ready", allReady(2))
	rest := forwardREST(t, ns, jm.Name)

	t.Run("overview shows the real Flink and 2 TaskManagers", func(t *testing.T) {
		rest.t = t
		var o overview
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		// A TaskManager is listed as soon as it registers; its slots follow with its first report.
		eventually(t, ctx, "2 TaskManagers with 2 slots each registered", func() (bool, string) {
			rest.get("/overview", &o)
			return o.TaskManagers == 2 && o.SlotsTotal == 4, fmt.Sprintf("%+v", o)
		})
		if o.FlinkVersion != version {
			t.Fatalf("flink-version %q, want %q", o.FlinkVersion, version)
		}
	})

	t.Run("TopSpeedWindowing runs with every task RUNNING", func(t *testing.T) {
		rest.t = t
		jar := rest.upload(exampleJar(version, "TopSpeedWindowing"))
		job := rest.run(jar, 2)
		d := rest.waitAllTasksRunning(job, jobTimeout)
		if len(d.Vertices) < 2 {
			t.Fatalf("TopSpeedWindowing has %d vertices, want its source, window and sink", len(d.Vertices))
		}
		var o overview
		rest.get("/overview", &o)
		if o.SlotsAvailable >= o.SlotsTotal {
			t.Fatalf("a running job with parallelism 2 uses no slots: %+v", o)
		}
	})

	if !scale {
		return
	}
	t.Run("scaling the TaskManager Deployment to 3 registers a third TaskManager", func(t *testing.T) {
		rest.t = t
		scaleDeployment(t, ns, "flink-taskmanager", 3)
		waitPods(t, ns, tmSelector, podTimeout, "3 TaskManagers are ready", allReady(3))
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		eventually(t, ctx, "3 TaskManagers registered", func() (bool, string) {
			var o overview
			rest.get("/overview", &o)
			return o.TaskManagers == 3, fmt.Sprintf("%+v", o)
		})
	})

	t.Run("a killed TaskManager shows as a container restart and comes back", func(t *testing.T) {
		rest.t = t
		victim := waitPods(t, ns, tmSelector, podTimeout, "3 TaskManagers are ready", allReady(3))[0]
		if err := syscall.Kill(jvmOf(t, &victim, "TaskManagerRunner"), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		pods := waitPods(t, ns, tmSelector, podTimeout, "the killed TaskManager restarted and is ready again", func(pods []corev1.Pod) bool {
			for _, p := range pods {
				if p.Name == victim.Name {
					cs := p.Status.ContainerStatuses
					return podReady(&p) && len(cs) == 1 && cs[0].RestartCount == 1
				}
			}
			return false
		})
		for _, p := range pods {
			if p.Name == victim.Name {
				last := p.Status.ContainerStatuses[0].LastTerminationState.Terminated
				if last == nil || last.ExitCode != 137 {
					t.Fatalf("last termination %+v, want exit code 137 (SIGKILL)", last)
				}
			}
		}
	})

	t.Run("scaling down stops the removed TaskManager's processes", func(t *testing.T) {
		rest.t = t
		before := waitPods(t, ns, tmSelector, podTimeout, "3 TaskManagers are ready", allReady(3))
		scaleDeployment(t, ns, "flink-taskmanager", 2)
		pods := waitPods(t, ns, tmSelector, podTimeout, "2 TaskManager pods are left", allReady(2))
		keep := map[string]bool{}
		for _, p := range pods {
			keep[p.Name] = true
		}
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		for _, p := range before {
			if keep[p.Name] {
				continue
			}
			eventually(t, ctx, "the processes of removed pod "+p.Name+" are gone", func() (bool, string) {
				left := podProcesses(t, p.UID)
				return len(left) == 0, fmt.Sprintf("pids %v alive", left)
			})
		}
	})
}

func scaleDeployment(t *testing.T, ns, name string, replicas int) {
	t.Helper()
	patch := fmt.Sprintf(`{"spec":{"replicas":%d}}`, replicas)
	if _, err := env.cs.AppsV1().Deployments(ns).Patch(t.Context(), name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

// Application mode: the JobManager is a batch/v1 Job running standalone-job; its pod stays
// Running while the job runs and ends by the process's exit code.
func TestApplicationCluster(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	version := env.versions["FLINK1_VERSION"]
	jobID := "00000000000000000000000000000042"
	applyFile(t, ns, "application.yaml", map[string]string{"FLINK_IMAGE": "flink-examples:1.20-java17", "JOB_ID": jobID})
	jm := waitPods(t, ns, jmSelector, podTimeout, "the application JobManager is ready", allReady(1))[0]
	waitPods(t, ns, tmSelector, podTimeout, "2 TaskManagers are ready", allReady(2))
	rest := forwardREST(t, ns, jm.Name)
	rest.waitAllTasksRunning(jobID, jobTimeout)
	var o overview
	rest.get("/overview", &o)
	if o.FlinkVersion != version {
		t.Fatalf("flink-version %q, want %q", o.FlinkVersion, version)
	}

	rest.do(http.MethodPatch, "/jobs/"+jobID+"?mode=cancel", nil, "", nil)
	pods := waitPods(t, ns, jmSelector, podTimeout, "the JobManager pod ends after its job was cancelled", func(pods []corev1.Pod) bool {
		return len(pods) == 1 && (pods[0].Status.Phase == corev1.PodSucceeded || pods[0].Status.Phase == corev1.PodFailed)
	})
	term := pods[0].Status.ContainerStatuses[0].State.Terminated
	if term == nil {
		t.Fatalf("ended JobManager pod has no terminated container state: %+v", pods[0].Status.ContainerStatuses[0].State)
	}
	// A cancelled application exits with 0 (ApplicationStatus.CANCELED), so the Job succeeds.
	if term.ExitCode != 0 || pods[0].Status.Phase != corev1.PodSucceeded {
		t.Fatalf("phase %s with exit code %d, want Succeeded with 0 for a cancelled application", pods[0].Status.Phase, term.ExitCode)
	}
}

// podProcesses are the processes of this machine in the cgroup the kubelet made for pod uid
// (cgroupfs: …/pod<uid>/<container id>): what runs in its containers, seen from the node.
func podProcesses(t *testing.T, uid types.UID) []int {
	t.Helper()
	cgroups, _ := filepath.Glob("/proc/[0-9]*/cgroup")
	var pids []int
	for _, f := range cgroups {
		data, err := os.ReadFile(f)
		if err != nil || !strings.Contains(string(data), "/pod"+string(uid)+"/") {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(f))); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}
