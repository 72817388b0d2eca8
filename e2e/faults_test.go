//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Faults while a command waits: what the user sees when the cluster breaks under it.

// startInstall starts a session install with job jar, its temporary files kept in a folder of
// the test's (tmpDir) to be found if any is left.
func startInstall(t *testing.T, ns, jar string, extra ...string) (b *background, tmpDir string) {
	t.Helper()
	args := append([]string{"install", "flink", filepath.Join(env.root, "charts/flink-session"), "-n", ns,
		"-f", filepath.Join(env.root, "charts/flink-session/ci/minimal-values.yaml"),
		"--set", "networkPolicy.enabled=false",
		"--jar", jar, "--parallelism", "1"}, extra...)
	cmd := newStandalone(t).cmd(t, args...)
	tmpDir = t.TempDir()
	cmd.Env = append(cmd.Env, "TMPDIR="+tmpDir)
	return startBackground(t, cmd), tmpDir
}

// registering is the line install writes while it waits for its TaskManagers to register.
func registering(l string) bool { return strings.Contains(l, "taskmanagers registered 0/1") }

// The JobManager's JVM killed (an OOM kill, a lost node) while install waits for its
// TaskManagers: the install ends at once as a failure with the container's exit, not a timeout
// minutes later.
func TestJobManagerKilledWhileInstallWaits(t *testing.T) {
	t.Parallel()
	ns := restrictedNamespace(t)
	apply(t, ns, isolateJobManagers)
	install, _ := startInstall(t, ns, exampleJar(env.versions["FLINK1_VERSION"], "TopSpeedWindowing"), "--timeout", "5m")
	install.until(t, 3*time.Minute, "the wait for TaskManagers", registering)
	jm := waitPods(t, ns, releaseSel+"jobmanager", podTimeout, "the JobManager pod", allReady(1))[0]
	if err := syscall.Kill(jvmOf(t, &jm, "ClusterEntrypoint"), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	code, out := install.end(t, false)
	if code != 3 || !strings.Contains(out, "pod "+jm.Name+": container jobmanager exited with 137 (killed)") {
		t.Fatalf("exit %d, want 3 naming the JobManager container's exit 137 (killed)", code)
	}
}

// The API server restarts while install waits for its TaskManagers to register, which breaks
// the install's watches and its port-forward to the JobManager: the watches resume, the next
// request dials a new forward on the same local port, and once the TaskManagers may register the
// install finishes with the job running, its jar downloaded from a URL and no temporary file
// left. Not parallel: every other test's clients would see the restart too.
func TestWaitSurvivesAnAPIServerRestart(t *testing.T) {
	ns := restrictedNamespace(t)
	apply(t, ns, isolateJobManagers)
	jar := exampleJar(env.versions["FLINK1_VERSION"], "TopSpeedWindowing")
	jars := httptest.NewServer(http.FileServer(http.Dir(filepath.Dir(jar))))
	defer jars.Close()
	install, tmp := startInstall(t, ns, jars.URL+"/"+filepath.Base(jar), "--timeout", "5m")
	install.until(t, 3*time.Minute, "the wait for TaskManagers", registering)
	restart := exec.Command("bash", filepath.Join(env.root, "ci/stack.sh"), "restart-apiserver")
	if out, err := restart.CombinedOutput(); err != nil {
		t.Fatalf("restart the API server: %v\n%s", err, out)
	} else {
		t.Log(strings.TrimSpace(string(out)))
	}
	if err := env.cs.NetworkingV1().NetworkPolicies(ns).Delete(t.Context(), "isolate-jobmanagers", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	code, out := install.end(t, false)
	if code != 0 || !strings.Contains(out, "taskmanagers registered 1/1") || !strings.Contains(out, "RUNNING") {
		t.Fatalf("exit %d, want 0 with the TaskManager registered and the job running", code)
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("the install left %d temporary files, e.g. %s", len(left), left[0].Name())
	}
}

// A TaskManager's JVM killed under a running job: the kubelet restarts its container, Flink
// restarts the job (the chart's exponential-delay strategy) once the TaskManager is back, and
// status shows both — the pod's restart and the job's failure with Flink's reason — with the job
// running again.
func TestTaskManagerKilledUnderARunningJob(t *testing.T) {
	t.Parallel()
	ns := restrictedNamespace(t)
	s := newStandalone(t)
	_, _, code := s.run(t, "install", "flink", filepath.Join(env.root, "charts/flink-session"), "-n", ns,
		"-f", filepath.Join(env.root, "charts/flink-session/ci/minimal-values.yaml"),
		"--jar", exampleJar(env.versions["FLINK1_VERSION"], "TopSpeedWindowing"), "--parallelism", "1", "--timeout", "4m")
	if code != 0 {
		t.Fatalf("install: exit %d", code)
	}
	tm := waitPods(t, ns, releaseSel+"taskmanager", podTimeout, "the TaskManager pod", allReady(1))[0]
	if err := syscall.Kill(jvmOf(t, &tm, "TaskManagerRunner"), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	type statusJSON struct {
		Pods []struct {
			Name     string `json:"name"`
			Restarts int    `json:"restarts"`
		} `json:"pods"`
		Jobs   []cliJob `json:"jobs"`
		Health string   `json:"health"`
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	var last statusJSON
	eventually(t, ctx, "status shows the restarted TaskManager and the job running again after its failure", func() (bool, string) {
		out, _, code := s.run(t, "status", "flink", "-n", ns, "-o", "json")
		last = decode[statusJSON](t, out)
		restarted := false
		for _, p := range last.Pods {
			restarted = restarted || (p.Name == tm.Name && p.Restarts == 1)
		}
		ok := code == 0 && restarted && len(last.Jobs) == 1 && last.Jobs[0].State == "RUNNING" && last.Jobs[0].Failures >= 1
		return ok, fmt.Sprintf("exit %d: %+v", code, last)
	})
	// Flink's reason: the TaskManager the job lost.
	if f := last.Jobs[0].LastFailure; !strings.Contains(f, "TaskManager") && !strings.Contains(f, "taskmanager") {
		t.Fatalf("last failure %q does not name the lost TaskManager", f)
	}
	out, _, _ := s.run(t, "status", "flink", "-n", ns)
	if !strings.Contains(out, "last failure: ") {
		t.Fatalf("status table does not show the last failure:\n%s", out)
	}
}
