package flink

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
)

// The Flink versions whose answers testdata/ holds, captured from real JobManagers by
// internal/capture (make fixtures).
var versions = []string{"1.20.0", "2.3.0"}

// fixtureNames are the fixtures every version must have.
var fixtureNames = []string{
	"cancel", "cancel-terminal", "cancel-unknown", "checkpoints-none", "checkpoints-savepoint", "config", "delete-jar", "delete-jar-unknown",
	"exceptions-failed", "exceptions-none", "exceptions-restarting", "exceptions-task-failed",
	"job-bad-id", "job-canceled", "job-failed", "job-restarting", "job-running", "job-scheduled",
	"job-stopped", "job-unknown", "jars", "jobs", "jobs-canceled", "jobs-failed", "jobs-restarting",
	"jobs-running", "jobs-stopped", "overview", "overview-busy", "run", "run-bad-args",
	"run-flink-configuration", "run-from-savepoint", "run-wrong-class", "savepoint-completed",
	"savepoint-failed", "savepoint-in-progress", "savepoint-no-target", "savepoint-trigger",
	"savepoint-unknown-trigger", "stop", "stop-completed", "taskmanagers", "upload", "upload-not-jar",
}

// fixture is one captured exchange (see internal/capture).
type fixture struct {
	name         string
	FlinkVersion string `json:"flinkVersion"`
	Request      struct {
		Method      string          `json:"method"`
		Path        string          `json:"path"`
		ContentType string          `json:"contentType"`
		Body        json.RawMessage `json:"body"`
	} `json:"request"`
	Status   int             `json:"status"`
	Body     json.RawMessage `json:"body"`
	BodyText string          `json:"bodyText"`
}

func load(t testing.TB, version, name string) fixture {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", version, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s/%s: %v", version, name, err)
	}
	if f.FlinkVersion != version {
		t.Fatalf("%s/%s: captured from Flink %q", version, name, f.FlinkVersion)
	}
	f.name = name
	return f
}

// segment is the i-th segment of the captured request's path (without query): for
// /jobs/<id>/savepoints/<trigger>, segment(1) is the job id and segment(3) the trigger id.
func (f fixture) segment(t *testing.T, i int) string {
	t.Helper()
	p, _, _ := strings.Cut(f.Request.Path, "?")
	parts := strings.Split(strings.Trim(p, "/"), "/")
	if i >= len(parts) {
		t.Fatalf("%s: path %s has no segment %d", f.name, f.Request.Path, i)
	}
	return parts[i]
}

// field decodes one field of the answer's (or, with request, the request's) JSON body.
func (f fixture) field(t *testing.T, request bool, name string, out any) {
	t.Helper()
	body := f.Body
	if request {
		body = f.Request.Body
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("%s: %v", f.name, err)
	}
	raw, ok := m[name]
	if !ok {
		t.Fatalf("%s: no field %q", f.name, name)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("%s: field %q: %v", f.name, name, err)
	}
}

// without is f with top-level fields of its answer removed (to replay what an older or newer
// server leaves out).
func (f fixture) without(t *testing.T, fields ...string) fixture {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(f.Body, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range fields {
		delete(m, k)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	f.Body = b
	return f
}

// replayer serves fixtures at the method and path they were captured with. Fixtures sharing a
// route are answered in turn, the last one repeatedly. A request's JSON body must equal the
// captured one; a multipart upload must carry the jar in the field "jarfile".
type replayer struct {
	t      *testing.T
	mu     sync.Mutex
	routes map[string][]fixture
	served []string
	upload []byte // the last uploaded file
}

func replay(t *testing.T, fixtures ...fixture) (*Client, *replayer) {
	t.Helper()
	r := &replayer{t: t, routes: map[string][]fixture{}}
	for _, f := range fixtures {
		k := f.Request.Method + " " + f.Request.Path
		r.routes[k] = append(r.routes[k], f)
	}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return New(srv.URL), r
}

func (r *replayer) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	key := req.Method + " " + req.URL.RequestURI()
	r.mu.Lock()
	queue := r.routes[key]
	if len(queue) == 0 {
		r.mu.Unlock()
		r.t.Errorf("unexpected request %s", key)
		http.Error(w, "no fixture for "+key, http.StatusTeapot)
		return
	}
	f := queue[0]
	if len(queue) > 1 {
		r.routes[key] = queue[1:]
	}
	r.served = append(r.served, f.name)
	r.mu.Unlock()

	ct, params, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if f.Request.ContentType != "" && ct != f.Request.ContentType {
		r.t.Errorf("%s: content type %q, captured %q", f.name, ct, f.Request.ContentType)
	}
	switch {
	case ct == "multipart/form-data":
		mr, err := req.MultipartReader()
		if err != nil {
			r.t.Errorf("%s: %v (boundary %q)", f.name, err, params["boundary"])
			break
		}
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			b, _ := io.ReadAll(p)
			if p.FormName() != "jarfile" {
				r.t.Errorf("%s: multipart field %q, want jarfile", f.name, p.FormName())
			}
			r.mu.Lock()
			r.upload = b
			r.mu.Unlock()
		}
	case len(f.Request.Body) > 0:
		got, _ := io.ReadAll(req.Body)
		var a, b any
		if err := json.Unmarshal(got, &a); err != nil {
			r.t.Errorf("%s: request body %q: %v", f.name, got, err)
		}
		_ = json.Unmarshal(f.Request.Body, &b)
		if !reflect.DeepEqual(a, b) {
			r.t.Errorf("%s: request body\n got %s\nwant %s", f.name, got, f.Request.Body)
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(f.Status)
	if len(f.Body) > 0 {
		_, _ = w.Write(f.Body)
	} else {
		_, _ = io.WriteString(w, f.BodyText)
	}
}

func (r *replayer) servedNames() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.served...)
}

// forVersions runs f as a subtest per captured Flink version.
func forVersions(t *testing.T, f func(t *testing.T, v string)) {
	for _, v := range versions {
		t.Run(v, func(t *testing.T) { f(t, v) })
	}
}

func TestFixturesComplete(t *testing.T) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	if !reflect.DeepEqual(dirs, versions) {
		t.Errorf("testdata has %v, the tests know %v", dirs, versions)
	}
	forVersions(t, func(t *testing.T, v string) {
		files, _ := filepath.Glob(filepath.Join("testdata", v, "*.json"))
		var have []string
		for _, f := range files {
			have = append(have, strings.TrimSuffix(filepath.Base(f), ".json"))
		}
		want := append([]string(nil), fixtureNames...)
		sort.Strings(want)
		sort.Strings(have)
		if !reflect.DeepEqual(have, want) {
			t.Errorf("fixtures\n have %v\n want %v", have, want)
		}
		for _, n := range have {
			f := load(t, v, n)
			if f.Status == 0 || f.Request.Method == "" || !bytes.HasPrefix([]byte(f.Request.Path), []byte("/")) {
				t.Errorf("%s: incomplete fixture", n)
			}
		}
	})
}
