package charts

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// flinkAnswer is a JobManager's REST answer captured from a real Flink (plugin/flink/testdata).
type flinkAnswer struct {
	Request struct {
		Path string `json:"path"`
	} `json:"request"`
	Body json.RawMessage `json:"body"`
}

// serveFlink answers GETs as the captured answers did, compact as Flink writes them (the
// script reads the JSON as text), everything else 404.
func serveFlink(t *testing.T, names ...string) string {
	t.Helper()
	answers := map[string][]byte{}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("..", "plugin", "flink", "testdata", "1.20.0", n+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var a flinkAnswer
		if err := json.Unmarshal(b, &a); err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		if err := json.Compact(&body, a.Body); err != nil {
			t.Fatal(err)
		}
		answers[a.Request.Path] = body.Bytes()
	}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read the whole request first, as Flink's REST server does: a server that closes an
		// HTTP/1.0 connection with request bytes unread makes the kernel reset it, and the
		// script's read of the answer fails ("Connection reset by peer") when that wins.
		_, _ = io.Copy(io.Discard, r.Body)
		b, ok := answers[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	}))
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://")
}

// lateRelay listens on a free port only after delay, relaying each connection to addr.
func lateRelay(t *testing.T, addr string, delay time.Duration) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	late := l.Addr().String()
	l.Close()
	go func() {
		time.Sleep(delay)
		l, err := net.Listen("tcp", late)
		if err != nil {
			return // the script then fails, and says so
		}
		t.Cleanup(func() { l.Close() })
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				up, err := net.Dial("tcp", addr)
				if err != nil {
					return
				}
				defer up.Close()
				go func() { _, _ = io.Copy(up, c) }()
				_, _ = io.Copy(c, up)
			}()
		}
	}()
	return late
}

// The `helm test` script both charts render, run by bash against a JobManager's captured
// answers: healthy with every task running, unhealthy at once with the root exception when a
// job failed, unhealthy while a job restarts or the release's job is missing.
func TestHealthTestScript(t *testing.T) {
	objs := objects(t, render(t, "flink-session", nil))
	pod, ok := objs["Pod/golden-flink-session-test-health"]
	if !ok {
		t.Fatal("no test pod")
	}
	var spec struct {
		Spec struct {
			Containers []container `json:"containers"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal([]byte(pod.Raw), &spec); err != nil || len(spec.Spec.Containers) != 1 || len(spec.Spec.Containers[0].Args) != 1 {
		t.Fatalf("the test pod %v:\n%s", err, pod.Raw)
	}
	script := spec.Spec.Containers[0].Args[0]
	for _, c := range []struct {
		name    string
		answers []string
		jobID   string
		ok      bool
		says    string
	}{
		{"a running job", []string{"overview", "jobs-running"}, "", true, "healthy: the JobManager answers with 2 TaskManager(s)"},
		{"the release's job runs", []string{"overview", "jobs-running"}, "ef1f5c5b11baebd61a53cdd783008db6", true, "healthy"},
		{"a failed job", []string{"overview", "jobs-failed", "exceptions-failed"}, "", false, "FAILED: org.apache.flink.runtime.JobException: Recovery is suppressed by NoRestartBackoffTimeStrategy"},
		{"a restarting job", []string{"overview", "jobs-restarting"}, "", false, "is RESTARTING"},
		{"the release's job is missing", []string{"overview", "jobs-running"}, "0123456789abcdef0123456789abcdef", false, "the release's, is not on the JobManager"},
		{"no JobManager", nil, "", false, "does not answer"},
		{"refused at first", []string{"overview", "jobs-running"}, "late", true, "healthy"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			addr := serveFlink(t, c.answers...)
			switch {
			case c.answers == nil:
				addr = "127.0.0.1:1"
			case c.jobID == "late":
				// Connections are refused for 3 s, as a network plugin refuses a new pod's
				// until it admits the pod's address under the NetworkPolicy; then answered.
				addr = lateRelay(t, addr, 3*time.Second)
				c.jobID = ""
			}
			cmd := exec.Command("bash", "-c", script)
			cmd.Env = append(os.Environ(), "REST_ADDRESS="+addr, "JOB_ID="+c.jobID, "MIN_TASKMANAGERS=1", "CHECKPOINTS=false", "TRIES=1")
			out, err := cmd.CombinedOutput()
			if (err == nil) != c.ok || !strings.Contains(string(out), c.says) {
				t.Fatalf("exit %v, want healthy %v saying %q:\n%s", err, c.ok, c.says, out)
			}
		})
	}
}

// The opt-in health hook runs the test pod's check as a post-install/post-upgrade Job (after the
// session's submit hook), without waiting for a checkpoint, bounded by healthCheck.timeoutSeconds;
// off by default.
func TestHealthHook(t *testing.T) {
	for _, chart := range []string{"flink-session", "flink-job"} {
		t.Run(chart, func(t *testing.T) {
			name := "Job/golden-" + chart + "-health"
			if _, ok := objects(t, render(t, chart, nil))[name]; ok {
				t.Fatal("the health hook is rendered by default")
			}
			objs := objects(t, render(t, chart, nil, "healthCheck.enabled=true", "healthCheck.timeoutSeconds=60",
				`flinkConfiguration.execution\.checkpointing\.interval=10s`))
			hook, ok := objs[name]
			if !ok {
				t.Fatalf("no %s", name)
			}
			var spec struct {
				Spec struct {
					BackoffLimit          int `json:"backoffLimit"`
					ActiveDeadlineSeconds int `json:"activeDeadlineSeconds"`
				} `json:"spec"`
			}
			if err := yaml.Unmarshal([]byte(hook.Raw), &spec); err != nil {
				t.Fatal(err)
			}
			a := hook.Metadata.Annotations
			if a["helm.sh/hook"] != "post-install,post-upgrade" || a["helm.sh/hook-weight"] != "20" || spec.Spec.BackoffLimit != 0 || spec.Spec.ActiveDeadlineSeconds < 60 {
				t.Errorf("hook %v, spec %+v", a, spec.Spec)
			}
			c := hook.Spec.Template.Spec.Containers
			if len(c) != 1 || c[0].env("TRIES") != "30" || c[0].env("CHECKPOINTS") != "false" {
				t.Fatalf("the hook's container %+v", c)
			}
			var pod struct {
				Spec struct {
					Containers []container `json:"containers"`
				} `json:"spec"`
			}
			if err := yaml.Unmarshal([]byte(objs["Pod/golden-"+chart+"-test-health"].Raw), &pod); err != nil || len(pod.Spec.Containers) != 1 {
				t.Fatalf("the test pod: %v", err)
			}
			if test := pod.Spec.Containers[0]; test.Args[0] != c[0].Args[0] || test.env("CHECKPOINTS") != "true" {
				t.Error("the hook and the test pod run different checks, or the test pod does not wait for a checkpoint")
			}
			if (c[0].env("JOB_ID") != "") != (chart == "flink-job") {
				t.Errorf("the hook checks job %q", c[0].env("JOB_ID"))
			}
		})
	}
}
