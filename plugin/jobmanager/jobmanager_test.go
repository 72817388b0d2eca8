package jobmanager_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/flink"
	"github.com/helm-flink/helm-flink/plugin/internal/fake"
	"github.com/helm-flink/helm-flink/plugin/jobmanager"
)

var ctx = context.Background()

// fake is a JobManager answering with the given captured answers (see fake.Serve).
func connect(t *testing.T, answers ...fake.Answer) *jobmanager.JobManager {
	t.Helper()
	jm, err := jobmanager.Connect(ctx, nil, nil, "ns", "r", fake.Serve(t, answers...))
	if err != nil {
		t.Fatal(err)
	}
	return jm
}

// overview is the captured GET /jobs/overview answer jobs, with the job of the captured
// GET /jobs/:id answer job called "id": how a wait for job "id" sees it.
func overview(t *testing.T, v, jobs, job string) fake.Answer {
	t.Helper()
	return fake.Load(t, v, jobs).Renamed(fake.Load(t, v, job).JobID(), "id")
}

// lines collects what a wait prints.
type lines []string

func (l *lines) printf(format string, a ...any) { *l = append(*l, fmt.Sprintf(format, a...)) }

func TestWaitWaitsForEveryTask(t *testing.T) {
	for _, v := range fake.Versions {
		// Unknown first (an application submits after start), then RUNNING with tasks scheduled,
		// then every task running.
		jm := connect(t, fake.Load(t, v, "jobs-running"), overview(t, v, "jobs", "job-scheduled"), overview(t, v, "jobs-running", "job-running"))
		var seen lines
		p, err := jm.Wait(ctx, "id", seen.printf)
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if p.Outcome != flink.Running || p.Total == 0 || p.Running+p.Finished != p.Total {
			t.Fatalf("%s: returned %+v", v, p)
		}
		if len(seen) != 2 || !strings.Contains(seen[0], "RUNNING, 0/") || !strings.HasSuffix(seen[1], "RUNNING, 2/2 tasks running") {
			t.Fatalf("%s: progress %q, want the scheduled RUNNING first, then the running one", v, seen)
		}
	}
}

// A bounded job that ran to its end is a success, and says so.
func TestWaitFinishedIsSuccess(t *testing.T) {
	for _, v := range fake.Versions {
		jm := connect(t, overview(t, v, "jobs-stopped", "job-stopped"))
		var seen lines
		p, err := jm.Wait(ctx, "id", seen.printf)
		if err != nil || p.Outcome != flink.Finished || p.Tasks() != "2/2 finished" {
			t.Fatalf("%s: %+v, %v", v, p, err)
		}
		if len(seen) != 1 || !strings.HasSuffix(seen[0], "FINISHED, 2/2 tasks finished") {
			t.Fatalf("%s: progress %q", v, seen)
		}
	}
}

func TestWaitReportsTheRootException(t *testing.T) {
	for _, v := range fake.Versions {
		for _, state := range []string{"failed", "restarting"} {
			jm := connect(t, overview(t, v, "jobs-"+state, "job-"+state), fake.Load(t, v, "exceptions-"+state).At("GET /jobs/id/exceptions"))
			_, err := jm.Wait(ctx, "id", func(string, ...any) {})
			var fe *jobmanager.FailedError
			if !errors.As(err, &fe) || exit.Code(err) != exit.JobFailed || fe.Outcome != flink.Failed {
				t.Fatalf("%s %s: %v, want a FailedError exiting 3", v, state, err)
			}
			if fe.Root == nil || fe.Root.Class == "" || !strings.Contains(err.Error(), "\tat ") {
				t.Fatalf("%s %s: no root exception with frames:\n%v", v, state, err)
			}
		}
	}
}

func TestWaitTimesOutWithTheLastState(t *testing.T) {
	jm := connect(t, overview(t, "2.3.0", "jobs", "job-scheduled"))
	jm.Namespace, jm.Release = "ns", "r"
	ctx, cancel := context.WithTimeout(ctx, 700*time.Millisecond)
	defer cancel()
	_, err := jm.Wait(ctx, "id", func(string, ...any) {})
	if exit.Code(err) != exit.Timeout || !strings.Contains(err.Error(), "RUNNING, 0/") {
		t.Fatalf("want a timeout naming the last state, got exit %d: %v", exit.Code(err), err)
	}
	// The job the wait gave up on is not left behind silently.
	if !strings.Contains(err.Error(), "job id stays on the JobManager (helm flink cancel r id -n ns removes it)") {
		t.Errorf("no word of the job left running: %v", err)
	}
}

// The jobs as `jobs` and `status` list them: newest first, finished tasks counted as running,
// each with its outcome.
func TestJobs(t *testing.T) {
	for _, v := range fake.Versions {
		jobs, err := connect(t, fake.Load(t, v, "jobs")).Jobs(ctx)
		if err != nil || len(jobs) < 5 {
			t.Fatalf("%s: %v %v", v, jobs, err)
		}
		outcomes := map[flink.Outcome]int{}
		for i, j := range jobs {
			outcomes[j.Outcome]++
			if i > 0 && j.Started.After(jobs[i-1].Started) {
				t.Errorf("%s: %s started after %s, yet listed later", v, j.ID, jobs[i-1].ID)
			}
			if j.State == "FINISHED" && (j.Running != j.Total || j.Outcome != flink.Finished) {
				t.Errorf("%s: finished job %+v", v, j)
			}
		}
		if outcomes[flink.Starting] != 1 || outcomes[flink.Finished] != 1 || outcomes[flink.Failed] < 3 {
			t.Errorf("%s: outcomes %v", v, outcomes)
		}
	}
}

func TestCancel(t *testing.T) {
	for _, v := range fake.Versions {
		canceled := fake.Load(t, v, "job-canceled")
		id := strings.TrimPrefix(canceled.Request.Path, "/jobs/")
		// Known (running), cancelled, then CANCELED.
		jm := connect(t, fake.Load(t, v, "job-running").At(canceled.Route()), canceled, fake.Load(t, v, "cancel"))
		if err := jm.Cancel(ctx, id); err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		err := connect(t).Cancel(ctx, id)
		if exit.Code(err) != exit.Input || !strings.Contains(err.Error(), "helm flink jobs r") {
			t.Fatalf("%s: an unknown job: exit %d: %v", v, exit.Code(err), err)
		}
	}
}

func TestStopAndSavepoint(t *testing.T) {
	for _, v := range fake.Versions {
		stop, done := fake.Load(t, v, "stop"), fake.Load(t, v, "stop-completed")
		id := strings.Split(stop.Request.Path, "/")[2]
		running := fake.Load(t, v, "job-running").At("GET /jobs/" + id)
		loc, err := connect(t, running, stop, done).Stop(ctx, id, "file:///sp", false)
		if err != nil || !strings.Contains(loc, "/savepoint-") {
			t.Fatalf("%s: stop: %q %v", v, loc, err)
		}
		trigger, taken := fake.Load(t, v, "savepoint-trigger"), fake.Load(t, v, "savepoint-completed")
		id = strings.Split(trigger.Request.Path, "/")[2]
		loc, err = connect(t, running.At("GET /jobs/"+id), trigger, taken).Savepoint(ctx, id, "file:///sp")
		if err != nil || !strings.Contains(loc, "/savepoint-") {
			t.Fatalf("%s: savepoint: %q %v", v, loc, err)
		}
		// Only a running job can take a savepoint: the user's mistake, said before asking Flink.
		_, err = connect(t, fake.Load(t, v, "job-stopped").At("GET /jobs/"+id)).Stop(ctx, id, "file:///sp", false)
		if exit.Code(err) != exit.Input || !strings.Contains(err.Error(), "is FINISHED: only a RUNNING job can be stopped") {
			t.Fatalf("%s: stop of a finished job: exit %d: %v", v, exit.Code(err), err)
		}
	}
}

// A jar that does not run is the job's failure (exit 3), and the uploaded jar is deleted again,
// also one that was to be kept.
func TestSubmitWrongClass(t *testing.T) {
	for _, v := range fake.Versions {
		run := fake.Load(t, v, "run-wrong-class")
		jar := strings.TrimSuffix(strings.TrimPrefix(run.Request.Path, "/jars/"), "/run")
		upload := fake.Load(t, v, "upload")
		upload.Body = []byte(`{"filename":"/tmp/flink-web/flink-web-upload/` + jar + `","status":"success"}`)
		deleted := fake.Load(t, v, "delete-jar")
		file := filepath.Join(t.TempDir(), "job.jar")
		os.WriteFile(file, []byte("PK"), 0o644)
		for _, keep := range []bool{false, true} {
			_, jarID, err := connect(t, upload, run, deleted).Submit(ctx, jobmanager.Spec{Jar: file, EntryClass: "com.example.Nope", KeepJar: keep})
			if exit.Code(err) != exit.JobFailed || !strings.Contains(err.Error(), "run jar job.jar: ") || jarID != "" {
				t.Fatalf("%s (keep jar %v): exit %d, jar %q: %v", v, keep, exit.Code(err), jarID, err)
			}
		}
	}
}

func TestIsURL(t *testing.T) {
	for in, want := range map[string]bool{"https://x/j.jar": true, "http://x:80/j.jar": true, "/tmp/j.jar": false, "local:///opt/j.jar": false, "https:///j.jar": false} {
		if jobmanager.IsURL(in) != want {
			t.Errorf("IsURL(%q) != %v", in, want)
		}
	}
}

// A job every task of which runs is settling for a second: a bounded job that finishes then is
// reported finished, a streaming job running after it. Two seconds when some tasks finished: a
// bounded job then FINISHED is waited for and reported finished; one that stays so (a streaming
// job whose bounded input is done) is running after them.
func TestWaitLetsABoundedJobFinish(t *testing.T) {
	for _, v := range fake.Versions {
		running := overview(t, v, "jobs-running", "job-running")
		p, err := connect(t, running, overview(t, v, "jobs-stopped", "job-stopped")).Wait(ctx, "id", nil)
		if err != nil || p.Outcome != flink.Finished {
			t.Fatalf("%s: a bounded job seen with every task running: %+v, %v", v, p, err)
		}
		start := time.Now()
		p, err = connect(t, running).Wait(ctx, "id", nil)
		if took := time.Since(start); err != nil || p.Outcome != flink.Running || took < time.Second || took > 2*time.Second {
			t.Fatalf("%s: a streaming job: %+v, %v after %s", v, p, err, took)
		}
		// The running job's answer with one of its two tasks finished (the counts edited).
		half := overview(t, v, "jobs-running", "job-running").Renamed(`"running": 2`, `"running": 1`).Renamed(`"finished": 0`, `"finished": 1`)
		if !strings.Contains(string(half.Body), `"finished": 1`) {
			t.Fatalf("%s: the answer's task counts are not where this test edits them: %s", v, half.Body)
		}
		p, err = connect(t, half, overview(t, v, "jobs-stopped", "job-stopped")).Wait(ctx, "id", nil)
		if err != nil || p.Outcome != flink.Finished {
			t.Fatalf("%s: a bounded job: %+v, %v", v, p, err)
		}
		start = time.Now()
		p, err = connect(t, half).Wait(ctx, "id", nil)
		if err != nil || p.Outcome != flink.Running || p.Finished != 1 || time.Since(start) < 2*time.Second {
			t.Fatalf("%s: a streaming job with a finished task: %+v, %v after %s", v, p, err, time.Since(start))
		}
	}
}

// A job that restarted shows its failures and the newest root cause; one without keeps none.
func TestWithFailures(t *testing.T) {
	for _, v := range fake.Versions {
		jm := connect(t, fake.Load(t, v, "exceptions-restarting").At("GET /jobs/a/exceptions"), fake.Load(t, v, "exceptions-none").At("GET /jobs/b/exceptions"))
		jobs := []jobmanager.Job{{ID: "a"}, {ID: "b"}}
		jm.WithFailures(ctx, jobs)
		if jobs[0].Failures < 1 || !strings.Contains(jobs[0].LastFailure, "java.io.IOException: Failed to create the parent directory") {
			t.Errorf("%s: restarting job: %d failures, last %q", v, jobs[0].Failures, jobs[0].LastFailure)
		}
		if strings.Contains(jobs[0].LastFailure, "\n") {
			t.Errorf("%s: last failure spans lines: %q", v, jobs[0].LastFailure)
		}
		if jobs[1].Failures != 0 || jobs[1].LastFailure != "" {
			t.Errorf("%s: job without failures: %+v", v, jobs[1])
		}
	}
}
