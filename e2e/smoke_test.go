//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
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
	podTimeout = 90 * time.Second
	jobTimeout = 2 * time.Minute
)

// The whole path before the plugin exists: manifests → real API server → pods → pod runner →
// real Flink → port-forward through the API server → Flink REST.
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
		var victim process
		for _, p := range processes(t, ns) {
			if p.Role == "taskmanager" && p.PID > 0 {
				victim = p
				break
			}
		}
		if victim.PID == 0 {
			t.Fatal("no running TaskManager process")
		}
		if err := syscall.Kill(-victim.PID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		pods := waitPods(t, ns, tmSelector, podTimeout, "the killed TaskManager restarted and is ready again", func(pods []corev1.Pod) bool {
			for _, p := range pods {
				if p.Name == victim.Pod {
					cs := p.Status.ContainerStatuses
					return podReady(&p) && len(cs) == 1 && cs[0].RestartCount == 1
				}
			}
			return false
		})
		for _, p := range pods {
			if p.Name == victim.Pod {
				last := p.Status.ContainerStatuses[0].LastTerminationState.Terminated
				if last == nil || last.ExitCode != 137 {
					t.Fatalf("last termination %+v, want exit code 137 (SIGKILL)", last)
				}
			}
		}
		// The reaped process's group id may be reused: it must not stay listed for a later kill.
		tracked, err := os.ReadFile(filepath.Join(env.root, ".cache/stack/runner/processes"))
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(strings.Fields(string(tracked)), strconv.Itoa(victim.PID)) {
			t.Fatalf("process group %d of the killed TaskManager is still recorded for killing", victim.PID)
		}
	})

	t.Run("scaling down stops the removed TaskManager's process", func(t *testing.T) {
		rest.t = t
		before := processes(t, ns)
		scaleDeployment(t, ns, "flink-taskmanager", 2)
		pods := waitPods(t, ns, tmSelector, podTimeout, "2 TaskManager pods are left", allReady(2))
		keep := map[string]bool{}
		for _, p := range pods {
			keep[p.Name] = true
		}
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		for _, p := range before {
			if p.Role != "taskmanager" || keep[p.Pod] {
				continue
			}
			eventually(t, ctx, "the process of removed pod "+p.Pod+" is gone", func() (bool, string) {
				return syscall.Kill(p.PID, 0) != nil, fmt.Sprintf("pid %d alive", p.PID)
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
	applyFile(t, ns, "application.yaml", map[string]string{"FLINK_IMAGE": "flink:1.20-java17", "JOB_ID": jobID})
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

// A Flink pod in a namespace without the label is not run, and says why.
func TestUnlabelledNamespaceIsNotRun(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	if _, err := env.cs.CoreV1().Namespaces().Patch(t.Context(), ns, types.MergePatchType,
		[]byte(`{"metadata":{"labels":{"`+runnerLabel+`":null}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	applyFile(t, ns, "session.yaml", map[string]string{"FLINK_IMAGE": "flink:1.20-java17"})
	waitPods(t, ns, jmSelector, podTimeout, "the JobManager says why it is not run", func(pods []corev1.Pod) bool {
		if len(pods) != 1 || len(pods[0].Status.ContainerStatuses) != 1 {
			return false
		}
		w := pods[0].Status.ContainerStatuses[0].State.Waiting
		return w != nil && w.Reason == "NamespaceNotEnabled"
	})
	for _, p := range processes(t, ns) {
		if p.PID != 0 {
			t.Fatalf("pod %s runs process %d in an unlabelled namespace", p.Pod, p.PID)
		}
	}
}
