package submit

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/flink"
)

// fixture is a response the real JobManager gave (plugin/flink/testdata, `make fixtures`).
type fixture struct {
	Status int             `json:"status"`
	Body   json.RawMessage `json:"body"`
}

func load(t *testing.T, version, name string) fixture {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("../flink/testdata", version, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

// jobServer answers GET /jobs/<id> with the fixtures in turn (the last one repeats) and
// /jobs/<id>/exceptions with exceptions.
func jobServer(t *testing.T, exceptions fixture, states ...fixture) *flink.Client {
	var mu sync.Mutex
	i := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		f := states[min(i, len(states)-1)]
		if strings.HasSuffix(r.URL.Path, "/exceptions") {
			f = exceptions
		} else {
			i++
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.Status)
		w.Write(f.Body)
	}))
	t.Cleanup(srv.Close)
	return flink.New(srv.URL)
}

func TestWaitRunningWaitsForEveryTask(t *testing.T) {
	for _, v := range []string{"1.20.0", "2.3.0"} {
		// Unknown first (an application submits after start), then RUNNING with tasks scheduled,
		// then every task running.
		c := jobServer(t, load(t, v, "exceptions-none"), load(t, v, "job-unknown"), load(t, v, "job-scheduled"), load(t, v, "job-running"))
		var seen []string
		p, err := WaitRunning(context.Background(), c, "id", func(p Progress) { seen = append(seen, p.State) })
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if p.State != "RUNNING" || p.Total == 0 || p.Running+p.Finished != p.Total {
			t.Fatalf("%s: returned %+v", v, p)
		}
		if len(seen) != 2 || seen[0] != "RUNNING" {
			t.Fatalf("%s: progress %v, want the scheduled RUNNING first, then the running one", v, seen)
		}
	}
}

func TestWaitRunningReportsTheRootException(t *testing.T) {
	for _, v := range []string{"1.20.0", "2.3.0"} {
		for _, state := range []string{"failed", "restarting"} {
			c := jobServer(t, load(t, v, "exceptions-"+state), load(t, v, "job-"+state))
			_, err := WaitRunning(context.Background(), c, "id", nil)
			var fe *FailedError
			if !errors.As(err, &fe) || exit.Code(err) != exit.JobFailed {
				t.Fatalf("%s %s: %v, want a FailedError exiting 3", v, state, err)
			}
			if fe.Root == nil || fe.Root.Class == "" || !strings.Contains(err.Error(), "\tat ") {
				t.Fatalf("%s %s: no root exception with frames:\n%v", v, state, err)
			}
		}
	}
}

func TestWaitRunningTimesOutWithTheLastState(t *testing.T) {
	c := jobServer(t, load(t, "2.3.0", "exceptions-none"), load(t, "2.3.0", "job-scheduled"))
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	_, err := WaitRunning(ctx, c, "id", nil)
	if exit.Code(err) != exit.Timeout || !strings.Contains(err.Error(), "RUNNING, 0/") {
		t.Fatalf("want a timeout naming the last state, got exit %d: %v", exit.Code(err), err)
	}
}

func TestIsURL(t *testing.T) {
	for in, want := range map[string]bool{"https://x/j.jar": true, "http://x:80/j.jar": true, "/tmp/j.jar": false, "local:///opt/j.jar": false, "https:///j.jar": false} {
		if IsURL(in) != want {
			t.Errorf("IsURL(%q) != %v", in, want)
		}
	}
}
