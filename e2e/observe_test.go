//go:build e2e

package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// `helm flink logs` and `helm flink ui` on a running session: the logs of every Flink pod with
// its name, one component, -f picking up a TaskManager that starts meanwhile; the UI's URL
// answering the REST API until Ctrl-C, and a --port in use refused naming it.
func TestLogsAndUI(t *testing.T) {
	t.Parallel()
	ns := restrictedNamespace(t)
	s := newStandalone(t)
	if _, _, code := s.run(t, "install", "flink", filepath.Join(env.root, "charts/flink-session"), "-n", ns,
		"-f", filepath.Join(env.root, "charts/flink-session/ci/minimal-values.yaml"),
		"--jar", exampleJar(env.versions["FLINK1_VERSION"], "TopSpeedWindowing"), "--parallelism", "1", "--timeout", "4m"); code != 0 {
		t.Fatalf("install: exit %d", code)
	}
	const jm, tm = "[flink-flink-session-jobmanager-", "[flink-flink-session-taskmanager-"

	out, _, code := s.run(t, "logs", "flink", "-n", ns)
	if code != 0 || !strings.Contains(out, jm) || !strings.Contains(out, tm) || !strings.Contains(out, "StandaloneSessionClusterEntrypoint") ||
		strings.Index(out, jm) > strings.Index(out, tm) {
		t.Fatalf("logs: exit %d, want the JobManager's then the TaskManager's lines, each with its pod", code)
	}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(l, "[flink-flink-session-") {
			t.Fatalf("a line without its pod: %q", l)
		}
	}
	out, _, code = s.run(t, "logs", "flink", "-n", ns, "--component", "taskmanager", "--tail", "5")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); code != 0 || len(lines) != 5 || !strings.HasPrefix(lines[0], tm) {
		t.Fatalf("logs --component taskmanager --tail 5: exit %d, %d lines", code, len(lines))
	}
	if _, errOut, code := s.run(t, "logs", "flink", "-n", ns, "--component", "worker"); code != 1 || !strings.Contains(errOut, `--component "worker": want jobmanager or taskmanager`) {
		t.Fatalf("logs --component worker: exit %d\n%s", code, errOut)
	}

	// -f follows the pods there are and those that start: a second TaskManager.
	follow := startBackground(t, s.cmd(t, "logs", "flink", "-n", ns, "-f", "--component", "taskmanager", "--tail", "1"))
	first := follow.until(t, time.Minute, "a line of the first TaskManager", func(l string) bool { return strings.HasPrefix(l, tm) })
	scaleDeployment(t, ns, "flink-flink-session-taskmanager", 2)
	follow.until(t, 3*time.Minute, "a line of the TaskManager that started meanwhile", func(l string) bool {
		return strings.HasPrefix(l, tm) && !strings.HasPrefix(l, first[:strings.Index(first, "]")+1])
	})
	if code, _ := follow.end(t, true); code != 0 {
		t.Fatalf("logs -f after Ctrl-C: exit %d, want 0", code)
	}

	port := freePort(t)
	ui := startBackground(t, s.cmd(t, "ui", "flink", "-n", ns, "--port", strconv.Itoa(port)))
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	ui.until(t, time.Minute, "the UI's URL", func(l string) bool { return strings.Contains(l, url) })
	resp, err := http.Get(url + "/config")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "flink-version") {
		t.Fatalf("GET %s/config: %s\n%s", url, resp.Status, body)
	}
	if _, errOut, code := s.run(t, "ui", "flink", "-n", ns, "--port", strconv.Itoa(port)); code != 1 ||
		!strings.Contains(errOut, fmt.Sprintf("--port %d: ", port)) || !strings.Contains(errOut, "address already in use") {
		t.Fatalf("a second ui on the same port: exit %d, want 1 naming --port\n%s", code, errOut)
	}
	if code, _ := ui.end(t, true); code != 0 {
		t.Fatalf("ui after Ctrl-C: exit %d, want 0", code)
	}
	if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
		c.Close()
		t.Fatal("the UI's port is still open after Ctrl-C")
	}
}
