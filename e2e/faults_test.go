//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Faults while a command waits: what the user sees when the cluster breaks under it.

// isolateJobManagers keeps every pod from the namespace's JobManagers (the plugin's port-forward,
// made by the node, still reaches them): TaskManagers start but never register, and an install
// waits for them for as long as the test needs.
const isolateJobManagers = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: isolate-jobmanagers}
spec:
  podSelector:
    matchLabels: {app.kubernetes.io/component: jobmanager}
  policyTypes: [Ingress]
`

// waitingInstall is a session install with a job, started and followed line by line.
type waitingInstall struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	lines  []string
	at     map[string]chan struct{} // closed when a line holding the key has been written
	done   chan struct{}
	tmpDir string
}

func startInstall(t *testing.T, ns, jar string, extra ...string) *waitingInstall {
	t.Helper()
	s := newStandalone(t)
	args := append([]string{"install", "flink", filepath.Join(env.root, "charts/flink-session"), "-n", ns,
		"-f", filepath.Join(env.root, "charts/flink-session/ci/minimal-values.yaml"),
		"--set", "networkPolicy.enabled=false",
		"--jar", jar, "--parallelism", "1"}, extra...)
	w := &waitingInstall{cmd: s.cmd(t, args...), at: map[string]chan struct{}{}, done: make(chan struct{}), tmpDir: t.TempDir()}
	// The plugin's temporary files go here, to be found if any is left.
	w.cmd.Env = append(w.cmd.Env, "TMPDIR="+w.tmpDir)
	out, err := w.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	w.cmd.Stdout = w.cmd.Stderr
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(w.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			w.mu.Lock()
			w.lines = append(w.lines, sc.Text())
			for key, ch := range w.at {
				if strings.Contains(sc.Text(), key) {
					close(ch)
					delete(w.at, key)
				}
			}
			w.mu.Unlock()
		}
	}()
	return w
}

// reached waits until the install writes a line holding key; it fails the test when the install
// ends first.
func (w *waitingInstall) reached(t *testing.T, key string) {
	t.Helper()
	w.mu.Lock()
	for _, l := range w.lines {
		if strings.Contains(l, key) {
			w.mu.Unlock()
			return
		}
	}
	ch := make(chan struct{})
	w.at[key] = ch
	w.mu.Unlock()
	select {
	case <-ch:
	case <-w.done:
		t.Fatalf("install ended before %q:\n%s", key, w.output())
	}
}

func (w *waitingInstall) output() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.lines, "\n")
}

// end waits for the install's exit code; no temporary file of it may be left.
func (w *waitingInstall) end(t *testing.T) (code int, output string) {
	t.Helper()
	<-w.done
	err := w.cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	out := w.output()
	t.Logf("install → exit %d\n%s", code, out)
	if left, _ := os.ReadDir(w.tmpDir); len(left) > 0 {
		t.Errorf("the install left %d temporary files, e.g. %s", len(left), left[0].Name())
	}
	return code, out
}

// The JobManager's JVM killed (an OOM kill, a lost node) while install waits for its
// TaskManagers: the install ends at once as a failure with the container's exit, not a timeout
// minutes later.
func TestJobManagerKilledWhileInstallWaits(t *testing.T) {
	t.Parallel()
	ns := restrictedNamespace(t)
	apply(t, ns, isolateJobManagers)
	w := startInstall(t, ns, exampleJar(env.versions["FLINK1_VERSION"], "TopSpeedWindowing"), "--timeout", "5m")
	w.reached(t, "taskmanagers registered 0/1")
	jm := waitPods(t, ns, releaseSel+"jobmanager", podTimeout, "the JobManager pod", allReady(1))[0]
	jvm := 0
	for _, pid := range podProcesses(t, jm.UID) {
		if cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); strings.Contains(string(cmd), "ClusterEntrypoint") {
			jvm = pid
		}
	}
	if jvm == 0 {
		t.Fatalf("no JobManager JVM on this machine in pod %s's cgroup", jm.Name)
	}
	if err := syscall.Kill(jvm, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	code, out := w.end(t)
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
	w := startInstall(t, ns, jars.URL+"/"+filepath.Base(jar), "--timeout", "5m")
	w.reached(t, "taskmanagers registered 0/1")
	restart := exec.Command("bash", filepath.Join(env.root, "ci/stack.sh"), "restart-apiserver")
	if out, err := restart.CombinedOutput(); err != nil {
		t.Fatalf("restart the API server: %v\n%s", err, out)
	} else {
		t.Log(strings.TrimSpace(string(out)))
	}
	if err := env.cs.NetworkingV1().NetworkPolicies(ns).Delete(t.Context(), "isolate-jobmanagers", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	code, out := w.end(t)
	if code != 0 || !strings.Contains(out, "taskmanagers registered 1/1") || !strings.Contains(out, "RUNNING") {
		t.Fatalf("exit %d, want 0 with the TaskManager registered and the job running", code)
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
	jvm := 0
	for _, pid := range podProcesses(t, tm.UID) {
		if cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); strings.Contains(string(cmd), "TaskManagerRunner") {
			jvm = pid
		}
	}
	if jvm == 0 {
		t.Fatalf("no TaskManager JVM on this machine in pod %s's cgroup", tm.Name)
	}
	if err := syscall.Kill(jvm, syscall.SIGKILL); err != nil {
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
