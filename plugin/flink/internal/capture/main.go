// Command capture records what a live Flink JobManager answers to every call of package flink.
//
// It drives the JobManager with the package's own client and writes each answer that the unit
// tests replay to <out>/<flink version>/<name>.json: the request (method, path, JSON body) and the
// answer (status, body) exactly as the server sent them.
//
//	go run ./plugin/flink/internal/capture -url http://127.0.0.1:8081 \
//	    -jar ~/.cache/helm-flink/flink/2.3.0/examples/TopSpeedWindowing.jar -savepoint-dir /tmp/sp
//
// It wants a fresh session cluster with 2 TaskManagers of 2 slots each and no default savepoint
// directory (ci/smoke/session.yaml); ci/capture-fixtures.sh (make fixtures) sets that up for Flink
// 1.20 and 2.x. A run takes under a minute.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/helm-flink/helm-flink/plugin/flink"
)

func main() {
	var (
		url     = flag.String("url", "", "JobManager REST address, e.g. http://127.0.0.1:8081")
		out     = flag.String("out", "plugin/flink/testdata", "fixture folder; answers go to <out>/<flink version>/")
		jar     = flag.String("jar", "", "the TopSpeedWindowing example jar of the cluster's Flink version")
		spDir   = flag.String("savepoint-dir", "", "a local folder for savepoints (the JVMs run on this host)")
		timeout = flag.Duration("timeout", 10*time.Minute, "bound of the whole capture")
	)
	flag.Parse()
	if *url == "" || *jar == "" || *spDir == "" {
		flag.Usage()
		os.Exit(2)
	}
	log.SetFlags(0)
	log.SetPrefix("capture: ")
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	abs, err := filepath.Abs(*spDir)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		log.Fatal(err)
	}
	rec := &recorder{base: http.DefaultTransport}
	c := flink.New(*url)
	c.HTTP = &http.Client{Transport: rec}
	s := &session{c: c, rec: rec, out: *out, jar: *jar, spDir: "file://" + abs}
	if err := s.run(ctx); err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote %d fixtures to %s", s.saved, s.dir)
}

// exchange is one request and its answer, as stored in a fixture.
type exchange struct {
	FlinkVersion string          `json:"flinkVersion"`
	Request      reqInfo         `json:"request"`
	Status       int             `json:"status"`
	Body         json.RawMessage `json:"body,omitempty"`
	// BodyText is a body that is not JSON.
	BodyText string `json:"bodyText,omitempty"`
}

type reqInfo struct {
	Method      string          `json:"method"`
	Path        string          `json:"path"`
	ContentType string          `json:"contentType,omitempty"`
	Body        json.RawMessage `json:"body,omitempty"`
}

// recorder is an http.RoundTripper that keeps the last exchange.
type recorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	last *exchange
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	ex := &exchange{Request: reqInfo{Method: req.Method, Path: req.URL.RequestURI()}}
	if ct := req.Header.Get("Content-Type"); ct != "" {
		ex.Request.ContentType, _, _ = mime.ParseMediaType(ct)
	}
	if req.Body != nil && ex.Request.ContentType == "application/json" {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		ex.Request.Body = json.RawMessage(b)
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	ex.Status = resp.StatusCode
	if json.Valid(b) {
		ex.Body = json.RawMessage(b)
	} else {
		ex.BodyText = string(b)
	}
	r.mu.Lock()
	r.last = ex
	r.mu.Unlock()
	return resp, nil
}

func (r *recorder) take() *exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

type session struct {
	c          *flink.Client
	rec        *recorder
	out, dir   string
	jar, spDir string
	version    string
	saved      int
	jarID      string
}

// save writes the last exchange as fixture name.
func (s *session) save(name string) { s.saveEx(name, s.rec.take()) }

func (s *session) saveEx(name string, ex *exchange) {
	if ex == nil {
		log.Fatalf("%s: no exchange to save", name)
	}
	ex.FlinkVersion = s.version
	b, err := json.MarshalIndent(ex, "", "  ")
	if err != nil {
		log.Fatalf("%s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, name+".json"), append(b, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
	s.saved++
	log.Printf("%-26s %s %s -> %d", name, ex.Request.Method, ex.Request.Path, ex.Status)
}

// wantAPIError: err must be an *APIError (a real answer to save), not a transport failure.
func wantAPIError(what string, err error) {
	var ae *flink.APIError
	if !errors.As(err, &ae) {
		log.Fatalf("%s: want an error answer from Flink, got %v", what, err)
	}
}

func (s *session) run(ctx context.Context) error {
	c := s.c
	// The cluster, once every TaskManager has registered.
	if err := poll(ctx, "2 TaskManagers with every slot free", func() (bool, error) {
		o, err := c.Overview(ctx)
		return err == nil && o.TaskManagers >= 2 && o.SlotsAvailable == o.SlotsTotal && o.JobsRunning == 0, nil
	}); err != nil {
		return err
	}
	cfg, err := c.Config(ctx)
	if err != nil {
		return err
	}
	s.version = cfg.FlinkVersion
	s.dir = filepath.Join(s.out, s.version)
	if err := os.RemoveAll(s.dir); err != nil {
		return err
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return err
	}
	s.save("config")
	if _, err := c.Overview(ctx); err != nil {
		return err
	}
	s.save("overview")
	if _, err := c.TaskManagers(ctx); err != nil {
		return err
	}
	s.save("taskmanagers")

	// Jars.
	if s.jarID, err = c.UploadJarFile(ctx, s.jar); err != nil {
		return err
	}
	s.save("upload")
	_, err = c.UploadJar(ctx, "notes.txt", strings.NewReader("not a jar\n"))
	wantAPIError("upload of a text file", err)
	s.save("upload-not-jar")
	if _, err := c.Jars(ctx); err != nil {
		return err
	}
	s.save("jars")
	_, err = c.RunJar(ctx, s.jarID, flink.RunRequest{EntryClass: "com.example.NoSuchJob"})
	wantAPIError("run with a wrong entry class", err)
	s.save("run-wrong-class")
	_, err = c.RunJar(ctx, s.jarID, flink.RunRequest{Args: []string{"--execution-mode", "nope"}})
	wantAPIError("run with a bad argument", err)
	s.save("run-bad-args")

	// A: runs until cancelled.
	a, err := c.RunJar(ctx, s.jarID, flink.RunRequest{Parallelism: 1, Args: []string{"--execution-mode", "STREAMING"}})
	if err != nil {
		return err
	}
	s.save("run")
	if err := s.waitJob(ctx, a, "every task running", running); err != nil {
		return err
	}
	s.save("job-running")
	if _, err := c.Jobs(ctx); err != nil {
		return err
	}
	s.save("jobs-running")
	if _, err := c.Exceptions(ctx, a); err != nil {
		return err
	}
	s.save("exceptions-none")
	if _, err := c.Checkpoints(ctx, a); err != nil {
		return err
	}
	s.save("checkpoints-none")

	// Savepoints of A: one caught in progress, then completed.
	var trig *exchange
	var trigID string
	for attempt := 1; attempt <= 20 && trig == nil; attempt++ {
		id, err := c.TriggerSavepoint(ctx, a, s.spDir, false)
		if err != nil {
			return err
		}
		ex := s.rec.take()
		st, err := c.SavepointStatus(ctx, a, id)
		if err != nil {
			return err
		}
		trigID = id
		if st.State == flink.SavepointInProgress {
			trig = ex
			s.save("savepoint-in-progress")
		} else if attempt == 20 {
			log.Printf("no savepoint seen in progress after %d tries; savepoint-in-progress not written", attempt)
			trig = ex
		}
	}
	s.saveEx("savepoint-trigger", trig)
	location, err := c.WaitSavepoint(ctx, a, trigID, 100*time.Millisecond)
	if err != nil {
		return err
	}
	s.save("savepoint-completed")
	// The JobManager caches checkpoint statistics (rest.cache.checkpoint-statistics.timeout):
	// ask until the savepoint shows.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(500 * time.Millisecond) {
		cp, err := c.Checkpoints(ctx, a)
		if err != nil {
			return err
		}
		if cp.Latest.Savepoint != nil || time.Now().After(deadline) {
			break
		}
	}
	s.save("checkpoints-savepoint")
	id, err := c.TriggerSavepoint(ctx, a, "file:///proc/no-such-dir/savepoints", false)
	if err != nil {
		return err
	}
	_, err = c.WaitSavepoint(ctx, a, id, 100*time.Millisecond)
	var se *flink.SavepointError
	if !errors.As(err, &se) {
		return fmt.Errorf("savepoint into /proc: want a failed savepoint, got %v", err)
	}
	s.save("savepoint-failed")
	_, err = c.TriggerSavepoint(ctx, a, "", false)
	wantAPIError("savepoint without a target directory", err)
	s.save("savepoint-no-target")
	_, err = c.SavepointStatus(ctx, a, "00000000000000000000000000000000")
	wantAPIError("status of an unknown trigger", err)
	s.save("savepoint-unknown-trigger")

	// B: restored from A's savepoint, then stopped with a savepoint.
	b := randomJobID()
	if _, err := c.RunJar(ctx, s.jarID, flink.RunRequest{
		Parallelism: 1, JobID: b, SavepointPath: location, AllowNonRestoredState: true, ClaimMode: flink.ClaimModeNoClaim,
	}); err != nil {
		return err
	}
	s.save("run-from-savepoint")
	if err := s.waitJob(ctx, b, "every task running", running); err != nil {
		return err
	}
	stopID, err := c.Stop(ctx, b, s.spDir, false)
	if err != nil {
		return err
	}
	s.save("stop")
	if _, err := c.WaitSavepoint(ctx, b, stopID, 100*time.Millisecond); err != nil {
		return err
	}
	s.save("stop-completed")
	if err := s.waitJob(ctx, b, "FINISHED", state(flink.JobFinished)); err != nil {
		return err
	}
	s.save("job-stopped")
	if _, err := c.Jobs(ctx); err != nil {
		return err
	}
	s.save("jobs-stopped")

	// A cancelled, and cancelled once more.
	if err := c.Cancel(ctx, a); err != nil {
		return err
	}
	s.save("cancel")
	if err := s.waitJob(ctx, a, "CANCELED", state(flink.JobCanceled)); err != nil {
		return err
	}
	s.save("job-canceled")
	if _, err := c.Jobs(ctx); err != nil {
		return err
	}
	s.save("jobs-canceled")
	if err := c.Cancel(ctx, a); err != nil {
		wantAPIError("cancel of a cancelled job", err)
	}
	s.save("cancel-terminal")

	// C: fails on the JobManager (its source finds no input); no restart strategy: FAILED.
	cj, err := c.RunJar(ctx, s.jarID, flink.RunRequest{Parallelism: 1, Args: []string{"--input", "/no/such/input.txt"}})
	if err != nil {
		return err
	}
	if err := s.waitJob(ctx, cj, "FAILED", state(flink.JobFailed)); err != nil {
		return err
	}
	s.save("job-failed")
	if _, err := c.Jobs(ctx); err != nil {
		return err
	}
	s.save("jobs-failed")
	if _, err := c.Exceptions(ctx, cj); err != nil {
		return err
	}
	s.save("exceptions-failed")

	// D: a task fails (its sink cannot write): FAILED, the task's exception as a concurrent one.
	d, err := c.RunJar(ctx, s.jarID, flink.RunRequest{Parallelism: 1, Args: []string{"--output", "/proc/no-such-dir/out"}})
	if err != nil {
		return err
	}
	if err := s.waitJob(ctx, d, "FAILED", state(flink.JobFailed)); err != nil {
		return err
	}
	if _, err := c.Exceptions(ctx, d); err != nil {
		return err
	}
	s.save("exceptions-task-failed")

	// E: the same task failure with a restart strategy: RESTARTING, a history of task failures.
	e, err := c.RunJar(ctx, s.jarID, flink.RunRequest{
		Parallelism: 1, Args: []string{"--output", "/proc/no-such-dir/out"},
		FlinkConfiguration: map[string]string{
			"restart-strategy.type":                 "fixed-delay",
			"restart-strategy.fixed-delay.attempts": "1000",
			"restart-strategy.fixed-delay.delay":    "3 s",
		},
	})
	if err != nil {
		return err
	}
	s.save("run-flink-configuration")
	var jobEx, jobsEx *exchange
	if err := poll(ctx, "job "+e+" RESTARTING after two failures", func() (bool, error) {
		j, err := c.Job(ctx, e)
		if err != nil || j.State != flink.JobRestarting {
			return false, err
		}
		jobEx = s.rec.take()
		if _, err := c.Jobs(ctx); err != nil {
			return false, err
		}
		jobsEx = s.rec.take()
		ex, err := c.Exceptions(ctx, e)
		return err == nil && len(ex.History) >= 2 && overviewState(jobsEx, e) == flink.JobRestarting, err
	}); err != nil {
		return err
	}
	s.save("exceptions-restarting")
	s.saveEx("job-restarting", jobEx)
	s.saveEx("jobs-restarting", jobsEx)
	if err := c.Cancel(ctx, e); err != nil {
		return err
	}
	if err := s.waitJob(ctx, e, "CANCELED", state(flink.JobCanceled)); err != nil {
		return err
	}

	// F: wants 8 slots of 4: RUNNING, its tasks SCHEDULED.
	f, err := c.RunJar(ctx, s.jarID, flink.RunRequest{Parallelism: 8})
	if err != nil {
		return err
	}
	scheduled := func(j flink.Job) bool { return j.State == flink.JobRunning && j.Tasks().Scheduled > 0 }
	if err := s.waitJob(ctx, f, "RUNNING with scheduled tasks", scheduled); err != nil {
		return err
	}
	time.Sleep(2 * time.Second)
	if err := s.waitJob(ctx, f, "RUNNING with scheduled tasks", scheduled); err != nil {
		return err
	}
	s.save("job-scheduled")
	if _, err := c.Jobs(ctx); err != nil {
		return err
	}
	s.save("jobs")
	if _, err := c.Overview(ctx); err != nil {
		return err
	}
	s.save("overview-busy")
	if err := c.Cancel(ctx, f); err != nil {
		return err
	}
	if err := s.waitJob(ctx, f, "CANCELED", state(flink.JobCanceled)); err != nil {
		return err
	}

	// Unknown things.
	_, err = c.Job(ctx, "00000000000000000000000000000000")
	wantAPIError("unknown job", err)
	s.save("job-unknown")
	_, err = c.Job(ctx, "not-a-job-id")
	wantAPIError("malformed job id", err)
	s.save("job-bad-id")
	err = c.Cancel(ctx, "00000000000000000000000000000000")
	wantAPIError("cancel of an unknown job", err)
	s.save("cancel-unknown")
	if err := c.DeleteJar(ctx, s.jarID); err != nil {
		return err
	}
	s.save("delete-jar")
	err = c.DeleteJar(ctx, s.jarID)
	wantAPIError("delete of a deleted jar", err)
	s.save("delete-jar-unknown")
	return nil
}

func state(want flink.JobState) func(flink.Job) bool {
	return func(j flink.Job) bool { return j.State == want }
}

// waitJob polls GET /jobs/:id until ok; the last exchange is then that answer.
func (s *session) waitJob(ctx context.Context, id, what string, ok func(flink.Job) bool) error {
	return poll(ctx, "job "+id+" "+what, func() (bool, error) {
		j, err := s.c.Job(ctx, id)
		if err != nil {
			return false, err
		}
		return ok(*j), nil
	})
}

// running is the plugin's rule for a job that runs.
func running(j flink.Job) bool { return j.Outcome() == flink.Running }

// poll calls f every 200ms until it says done, fails, or 3 minutes pass.
func poll(ctx context.Context, what string, f func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	for {
		done, err := f()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func randomJobID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		log.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// overviewState is the state GET /jobs/overview (the exchange) gives job id.
func overviewState(ex *exchange, id string) flink.JobState {
	var o struct {
		Jobs []struct {
			ID    string         `json:"jid"`
			State flink.JobState `json:"state"`
		} `json:"jobs"`
	}
	if ex == nil || json.Unmarshal(ex.Body, &o) != nil {
		return ""
	}
	for _, j := range o.Jobs {
		if j.ID == id {
			return j.State
		}
	}
	return ""
}
