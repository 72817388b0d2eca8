package flink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var ctx = context.Background()

const topSpeed = "org.apache.flink.streaming.examples.windowing.TopSpeedWindowing"

func TestConfig(t *testing.T) {
	forVersions(t, func(t *testing.T, v string) {
		c, _ := replay(t, load(t, v, "config"))
		cfg, err := c.Config(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.FlinkVersion != v || cfg.FlinkRevision == "" || !cfg.Features.WebSubmit || !cfg.Features.WebCancel {
			t.Errorf("config %+v", cfg)
		}
		if got, err := c.Version(ctx); err != nil || got != v {
			t.Errorf("Version = %q, %v: want %s, remembered from /config", got, err, v)
		}
	})
}

func TestVersionAsksConfigOnce(t *testing.T) {
	forVersions(t, func(t *testing.T, v string) {
		c, r := replay(t, load(t, v, "config"))
		for range 3 {
			if got, err := c.Version(ctx); err != nil || got != v {
				t.Fatalf("Version = %q, %v", got, err)
			}
		}
		if n := len(r.servedNames()); n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
	})
}

func TestOverview(t *testing.T) {
	forVersions(t, func(t *testing.T, v string) {
		c, _ := replay(t, load(t, v, "overview"))
		o, err := c.Overview(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := Overview{TaskManagers: 2, SlotsTotal: 4, SlotsAvailable: 4, FlinkVersion: v, FlinkCommit: o.FlinkCommit}
		if *o != want || o.FlinkCommit == "" {
			t.Errorf("fresh cluster: %+v", o)
		}
		c, _ = replay(t, load(t, v, "overview-busy"))
		if o, err = c.Overview(ctx); err != nil {
			t.Fatal(err)
		}
		want = Overview{TaskManagers: 2, SlotsTotal: 4, SlotsAvailable: 0, JobsRunning: 1, JobsFinished: 1,
			JobsCancelled: 2, JobsFailed: 2, FlinkVersion: v, FlinkCommit: o.FlinkCommit}
		if *o != want {
			t.Errorf("after the capture's jobs: %+v", o)
		}
	})
}

func TestTaskManagers(t *testing.T) {
	forVersions(t, func(t *testing.T, v string) {
		c, _ := replay(t, load(t, v, "taskmanagers"))
		tms, err := c.TaskManagers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(tms) != 2 {
			t.Fatalf("%d task managers", len(tms))
		}
		for _, tm := range tms {
			if !strings.HasPrefix(tm.ID, "flink-taskmanager-") || tm.SlotsNumber != 2 || tm.FreeSlots != 2 ||
				tm.DataPort == 0 || tm.TotalResource.CPUCores <= 0 ||
				tm.Memory.TotalProcessMemory <= tm.Memory.TotalFlinkMemory || tm.Hardware.CPUCores == 0 {
				t.Errorf("task manager %+v", tm)
			}
		}
	})
}

func TestUploadJar(t *testing.T) {
	forVersions(t, func(t *testing.T, v string) {
		f := load(t, v, "upload")
		var filename string
		f.field(t, false, "filename", &filename)
		want := filepath.Base(filename)
		if !strings.HasSuffix(want, "_TopSpeedWindowing.jar") {
			t.Fatalf("captured filename %q", filename)
		}

		c, r := replay(t, f)
		id, err := c.UploadJar(ctx, "TopSpeedWindowing.jar", strings.NewReader("PK fake jar"))
		if err != nil || id != want {
			t.Fatalf("UploadJar = %q, %v; want %q", id, err, want)
		}
		if string(r.upload) != "PK fake jar" {
			t.Errorf("server got %q", r.upload)
		}

		path := filepath.Join(t.TempDir(), "TopSpeedWindowing.jar")
		if err := os.WriteFile(path, []byte("PK from a file"), 0o644); err != nil {
			t.Fatal(err)
		}
		c, r = replay(t, f)
		if id, err := c.UploadJarFile(ctx, path); err != nil || id != want {
			t.Fatalf("UploadJarFile = %q, %v", id, err)
		}
		if string(r.upload) != "PK from a file" {
			t.Errorf("server got %q", r.upload)
		}
		if _, err := c.UploadJarFile(ctx, filepath.Join(t.TempDir(), "missing.jar")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("missing file: %v", err)
		}

		c, _ = replay(t, load(t, v, "upload-not-jar"))
		_, err = c.UploadJar(ctx, "notes.txt", strings.NewReader("not a jar\n"))
		wantAPIError(t, err, http.StatusBadRequest, "Only Jar files are allowed.")
	})
}

func TestJars(t *testing.T) {
	forVersions(t, func(t *testing.T, v string) {
		upload := load(t, v, "upload")
		c, _ := replay(t, load(t, v, "jars"))
		jars, err := c.Jars(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var filename string
		upload.field(t, false, "filename", &filename)
		if len(jars) != 1 || jars[0].ID != filepath.Base(filename) || jars[0].Name != "TopSpeedWindowing.jar" ||
			jars[0].Uploaded.IsZero() || len(jars[0].Entry) != 1 || jars[0].Entry[0].Name != topSpeed {
			t.Errorf("jars %+v", jars)
		}
	})
}

func TestDeleteJar(t *testing.T) {
	forVersions(t, func(t *testing.T, v string) {
		f := load(t, v, "delete-jar")
		c, _ := replay(t, f, load(t, v, "delete-jar-unknown"))
		if err := c.DeleteJar(ctx, f.segment(t, 1)); err != nil {
			t.Fatal(err)
		}
		// Flink says 400, not 404, for a jar it does not have.
		err := c.DeleteJar(ctx, f.segment(t, 1))
		ae := wantAPIError(t, err, http.StatusBadRequest, "")
		if s := ae.Summary(); !strings.HasPrefix(s, "File "+f.segment(t, 1)+" does not exist in /") {
			t.Errorf("summary %q", s)
		}
	})
}

func TestRunJar(t *testing.T) {
	forVersions(t, func(t *testing.T, v string) {
		f := load(t, v, "run")
		var want string
		f.field(t, false, "jobid", &want)
		c, r := replay(t, f)
		id, err := c.RunJar(ctx, f.segment(t, 1), RunRequest{Parallelism: 1, Args: []string{"--execution-mode", "STREAMING"}})
		if err != nil || id != want || !IsJobID(id) {
			t.Fatalf("RunJar = %q, %v; want %s", id, err, want)
		}
		if got := r.servedNames(); !reflect.DeepEqual(got, []string{"run"}) {
			t.Errorf("without a claim mode the version does not matter; served %v", got)
		}

		f = load(t, v, "run-flink-configuration")
		c, _ = replay(t, f)
		_, err = c.RunJar(ctx, f.segment(t, 1), RunRequest{Parallelism: 1, Args: []string{"--output", "/proc/no-such-dir/out"},
			FlinkConfiguration: map[string]string{
				"restart-strategy.type":                 "fixed-delay",
				"restart-strategy.fixed-delay.attempts": "1000",
				"restart-strategy.fixed-delay.delay":    "3 s",
			}})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestRunJarFromSavepoint(t *testing.T) {
	forVersions(t, func(t *testing.T, v string) {
		f := load(t, v, "run-from-savepoint")
		var jobID, sp string
		f.field(t, true, "jobId", &jobID)
		f.field(t, true, "savepointPath", &sp)
		// What Flink 1.20 and 2.x were sent: claimMode, not the deprecated restoreMode.
		var claim string
		f.field(t, true, "claimMode", &claim)
		if claim != "NO_CLAIM" || strings.Contains(string(f.Request.Body), "restoreMode") {
			t.Errorf("captured request %s", f.Request.Body)
		}
		c, r := replay(t, load(t, v, "config"), f)
		id, err := c.RunJar(ctx, f.segment(t, 1), RunRequest{
			Parallelism: 1, JobID: jobID, SavepointPath: sp, AllowNonRestoredState: true, ClaimMode: "no_claim",
		})
		if err != nil || id != jobID {
			t.Fatalf("RunJar = %q, %v; want %s", id, err, jobID)
		}
		if got := r.servedNames(); !reflect.DeepEqual(got, []string{"config", "run-from-savepoint"}) {
			t.Errorf("served %v: the version comes from /config first", got)
		}
		// With the version known, /config is not asked.
		c, r = replay(t, f)
		c.FlinkVersion = v
		if _, err := c.RunJar(ctx, f.segment(t, 1), RunRequest{Parallelism: 1, JobID: jobID, SavepointPath: sp,
			AllowNonRestoredState: true, ClaimMode: ClaimModeNoClaim}); err != nil {
			t.Fatal(err)
		}
		if got := r.servedNames(); !reflect.DeepEqual(got, []string{"run-from-savepoint"}) {
			t.Errorf("served %v", got)
		}
	})
}

func TestRunJarErrors(t *testing.T) {
	forVersions(t, func(t *testing.T, v string) {
		f := load(t, v, "run-wrong-class")
		c, _ := replay(t, f, load(t, v, "run-bad-args"))
		_, err := c.RunJar(ctx, f.segment(t, 1), RunRequest{EntryClass: "com.example.NoSuchJob"})
		ae := wantAPIError(t, err, http.StatusInternalServerError, "java.lang.ClassNotFoundException: com.example.NoSuchJob")
		if d := chainLines(ae); !contains(d, "org.apache.flink.client.program.ProgramInvocationException: The program's entry point class 'com.example.NoSuchJob' was not found in the jar file.") {
			t.Errorf("details %q", d)
		}
		if s := err.Error(); !strings.HasPrefix(s, "post /jars/"+f.segment(t, 1)+"/run: 500 Internal Server Error: java.lang.ClassNotFoundException") || strings.Contains(s, "\n") {
			t.Errorf("Error() = %q", s)
		}
		_, err = c.RunJar(ctx, f.segment(t, 1), RunRequest{Args: []string{"--execution-mode", "nope"}})
		ae = wantAPIError(t, err, http.StatusBadRequest, "java.lang.IllegalArgumentException: No enum constant org.apache.flink.api.common.RuntimeExecutionMode.NOPE")
		if d := chainLines(ae); len(d) != 5 || d[0] != "org.apache.flink.runtime.rest.handler.RestHandlerException: Could not execute application." {
			t.Errorf("details %q", d)
		}
	})
}

func TestRunRequestBody(t *testing.T) {
	req := RunRequest{EntryClass: "a.B", Args: []string{"--x", "a b"}, Parallelism: 2, JobID: "abcdef00000000000000000000000000",
		SavepointPath: "s3://b/sp", AllowNonRestoredState: true, ClaimMode: "claim"}
	base := runBody{EntryClass: "a.B", ProgramArgsList: []string{"--x", "a b"}, Parallelism: 2,
		JobID: "abcdef00000000000000000000000000", SavepointPath: "s3://b/sp", AllowNonRestoredState: true}
	for _, tc := range []struct{ version, claim, restore string }{
		{"1.18.1", "", "CLAIM"},
		{"1.19.0", "", "CLAIM"},
		{"1.20.0", "CLAIM", ""},
		{"1.20-SNAPSHOT", "CLAIM", ""},
		{"2.0.0", "CLAIM", ""},
		{"2.3.0", "CLAIM", ""},
		{"", "CLAIM", "CLAIM"}, // unknown: both, each version reads the one it knows
		{"garbage", "CLAIM", "CLAIM"},
	} {
		want := base
		want.ClaimMode, want.RestoreMode = tc.claim, tc.restore
		if got := req.body(tc.version); !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %+v, want %+v", tc.version, got, want)
		}
	}
	if got := (RunRequest{}).body("1.19.0"); !reflect.DeepEqual(got, runBody{}) {
		t.Errorf("empty request: %+v", got)
	}
}

func TestRunRequestValidation(t *testing.T) {
	c := New("http://127.0.0.1:1") // never asked
	for _, req := range []RunRequest{
		{ClaimMode: "RECLAIM"},
		{JobID: "123"},
		{JobID: "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"},
		{JobID: "ABCDEF00000000000000000000000000"}, // Flink prints job ids in lower case
		{Parallelism: -1},
	} {
		_, err := c.RunJar(ctx, "x.jar", req)
		if err == nil || StatusCode(err) != 0 || !strings.HasPrefix(err.Error(), "post /jars/x.jar/run: ") {
			t.Errorf("%+v: %v", req, err)
		}
	}
}

func TestJobs(t *testing.T) {
	forVersions(t, func(t *testing.T, v string) {
		c, _ := replay(t, load(t, v, "jobs"))
		jobs, err := c.Jobs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		byID := map[string]JobOverview{}
		for _, j := range jobs {
			byID[j.ID] = j
			if j.Name != "CarTopSpeedWindowingExample" || j.StartTime.IsZero() || j.Tasks.Total == 0 {
				t.Errorf("job %+v", j)
			}
		}
		want := map[string]JobState{
			"job-scheduled": JobRunning, "job-failed": JobFailed, "job-canceled": JobCanceled,
			"job-stopped": JobFinished, "job-restarting": JobCanceled, // cancelled by the capture later
		}
		for name, state := range want {
			id := load(t, v, name).segment(t, 1)
			j, ok := byID[id]
			if !ok || j.State != state {
				t.Errorf("%s (%s): %+v, want %s", name, id, j, state)
			}
		}
		sched := byID[load(t, v, "job-scheduled").segment(t, 1)]
		if sched.Outcome() != Starting || sched.Tasks.Scheduled == 0 || sched.Tasks.Scheduled != sched.Tasks.Total {
			t.Errorf("waiting for slots: %+v", sched)
		}
		stopped := byID[load(t, v, "job-stopped").segment(t, 1)]
		if stopped.Outcome() != Finished || stopped.Tasks.Finished != stopped.Tasks.Total || stopped.EndTime.IsZero() || stopped.Duration.Duration() <= 0 {
			t.Errorf("stopped: %+v", stopped)
		}
		if strings.HasPrefix(v, "2.") && (sched.JobType != "STREAMING" || sched.SchedulerType == "") {
			t.Errorf("2.x reports job and scheduler type: %+v", sched)
		}
	})
}

func TestJob(t *testing.T) {
	forVersions(t, func(t *testing.T, v string) {
		get := func(name string) *Job {
			t.Helper()
			f := load(t, v, name)
			c, _ := replay(t, f)
			j, err := c.Job(ctx, f.segment(t, 1))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if j.ID != f.segment(t, 1) {
				t.Errorf("%s: id %s", name, j.ID)
			}
			if strings.HasPrefix(v, "2.") != (j.ApplicationID == j.ID) {
				t.Errorf("%s: application id %q (2.3 sets it, 1.20 does not)", name, j.ApplicationID)
			}
			return j
		}

		j := get("job-running")
		tasks := j.Tasks()
		if j.Outcome() != Running || len(j.Vertices) != 2 ||
			tasks != (TaskCounts{Total: 2, Running: 2}) || j.StartTime.IsZero() || !j.EndTime.IsZero() ||
			j.Timestamps[JobRunning].IsZero() || !j.Timestamps[JobFailed].IsZero() || j.JobType != "STREAMING" {
			t.Errorf("running: %+v, tasks %+v", j, tasks)
		}
		for _, vx := range j.Vertices {
			if vx.Status != "RUNNING" || vx.Parallelism != 1 || (Job{Vertices: []Vertex{vx}}).Tasks() != (TaskCounts{Total: 1, Running: 1}) {
				t.Errorf("vertex %+v", vx)
			}
		}

		j = get("job-scheduled") // RUNNING for Flink, not for us
		if j.State != JobRunning || j.Outcome() != Starting || j.Tasks().Scheduled != j.Tasks().Total {
			t.Errorf("scheduled: state %s, tasks %+v", j.State, j.Tasks())
		}

		j = get("job-restarting")
		if j.State != JobRestarting || j.Outcome() != Failed || j.Timestamps[JobRestarting].IsZero() {
			t.Errorf("restarting: %s %+v", j.State, j.Tasks())
		}

		j = get("job-failed")
		if j.State != JobFailed || j.Outcome() != Failed || j.EndTime.IsZero() || j.Duration.Duration() <= 0 {
			t.Errorf("failed: %+v", j)
		}

		j = get("job-canceled")
		if j.State != JobCanceled || j.Outcome() != Failed || j.Timestamps[JobCancelling].IsZero() {
			t.Errorf("canceled: %+v", j)
		}

		j = get("job-stopped")
		if j.State != JobFinished || j.Outcome() != Finished || !j.Outcome().OK() || j.Tasks().Finished != j.Tasks().Total {
			t.Errorf("stopped: %+v", j)
		}
	})
}

func TestJobErrors(t *testing.T) {
	forVersions(t, func(t *testing.T, v string) {
		c, _ := replay(t, load(t, v, "job-unknown"), load(t, v, "job-bad-id"))
		_, err := c.Job(ctx, "00000000000000000000000000000000")
		wantAPIError(t, err, http.StatusNotFound, "org.apache.flink.runtime.messages.FlinkJobNotFoundException: Could not find Flink job (00000000000000000000000000000000)")
		if !IsNotFound(err) || !strings.HasPrefix(err.Error(), "get /jobs/00000000000000000000000000000000: 404 Not Found: ") {
			t.Errorf("%v", err)
		}
		_, err = c.Job(ctx, "not-a-job-id")
		wantAPIError(t, err, http.StatusBadRequest, `org.apache.flink.runtime.rest.handler.HandlerRequestException: Cannot resolve path parameter (jobid) from value "not-a-job-id".`)
	})
}

// A job's checkpoint statistics, as real JobManagers answer before any checkpoint and after a
// savepoint, which Flink keeps under latest.savepoint apart from latest.completed.
func TestCheckpoints(t *testing.T) {
	forVersions(t, func(t *testing.T, v string) {
		get := func(f fixture) *Checkpoints {
			t.Helper()
			c, _ := replay(t, f)
			cp, err := c.Checkpoints(ctx, f.segment(t, 1))
			if err != nil {
				t.Fatalf("%s: %v", f.name, err)
			}
			return cp
		}
		if cp := get(load(t, v, "checkpoints-none")); cp.Newest() != nil || cp.Counts.Completed != 0 {
			t.Errorf("no checkpoint yet: %+v", cp)
		}
		cp := get(load(t, v, "checkpoints-savepoint"))
		n := cp.Newest()
		if n == nil || !n.IsSavepoint || n.ExternalPath == "" || n.Acknowledged.IsZero() || cp.Counts.Completed < 1 {
			t.Errorf("after a savepoint: %+v, newest %+v", cp, n)
		}
	})
}

func TestExceptions(t *testing.T) {
	forVersions(t, func(t *testing.T, v string) {
		get := func(f fixture) *Exceptions {
			t.Helper()
			c, _ := replay(t, f)
			ex, err := c.Exceptions(ctx, f.segment(t, 1))
			if err != nil {
				t.Fatalf("%s: %v", f.name, err)
			}
			return ex
		}

		if ex := get(load(t, v, "exceptions-none")); ex.Root != nil || len(ex.History) != 0 || ex.Truncated {
			t.Errorf("healthy job: %+v", ex)
		}

		// A global failure: the source's enumerator finds no input.
		f := load(t, v, "exceptions-failed")
		var legacy string
		if has := jsonField(f.Body, "root-exception", &legacy) == nil; has != (v == "1.20.0") {
			t.Errorf("root-exception present: %v; 1.20 has it, 2.x not", has)
		}
		ex := get(f)
		r := ex.Root
		if r == nil || len(ex.History) != 1 || r != &ex.History[0] {
			t.Fatalf("failed job: %+v", ex)
		}
		if r.Class != "org.apache.flink.runtime.JobException" || r.Message != "Recovery is suppressed by NoRestartBackoffTimeStrategy" ||
			len(r.Frames) == 0 || !strings.HasPrefix(r.Frames[0], "org.apache.flink.runtime.executiongraph.failover.ExecutionFailureHandler.handleFailure(") ||
			r.Timestamp.IsZero() || r.TaskName != "" || len(r.Causes) != 4 {
			t.Errorf("root %s: %q, frames %d, causes %d, at %v", r.Class, r.Message, len(r.Frames), len(r.Causes), r.Timestamp)
		}
		if s := r.Summary(); s != "java.io.FileNotFoundException: File /no/such/input.txt does not exist or the user running Flink ('root') has insufficient permissions to access it." {
			t.Errorf("summary %q", s)
		}
		if in := r.Innermost(); in.Class != "java.io.FileNotFoundException" || len(in.Frames) == 0 || in.Omitted == 0 {
			t.Errorf("innermost %+v", in)
		}

		// 1.20's older fields alone (as before exceptionHistory) still give the root.
		if v == "1.20.0" {
			old := get(f.without(t, "exceptionHistory"))
			if old.Root == nil || len(old.History) != 0 || old.Root.Class != r.Class || old.Root.Summary() != r.Summary() || old.Root.Timestamp.IsZero() {
				t.Errorf("root-exception only: %+v", old)
			}
		}

		// A task's failure: the root is the JobException, the task's IOException a concurrent one.
		ex = get(load(t, v, "exceptions-task-failed"))
		if ex.Root == nil || len(ex.Root.Concurrent) != 1 {
			t.Fatalf("task failure: %+v", ex)
		}
		task := ex.Root.Concurrent[0]
		if task.Class != "java.io.IOException" || !strings.HasPrefix(task.Message, "Failed to create the parent directory: /proc/no-such-dir/out/") ||
			!strings.Contains(task.TaskName, "file-sink: Writer") || !strings.HasPrefix(task.TaskManagerID, "flink-taskmanager-") ||
			!strings.HasPrefix(task.Endpoint, "localhost:") || task.Timestamp.IsZero() {
			t.Errorf("task failure %+v", task)
		}
		if s := ex.Root.Summary(); !strings.HasPrefix(s, "java.io.IOException: Failed to create the parent directory: ") {
			t.Errorf("summary %q", s)
		}

		// Restarts: one entry per failure, newest first.
		ex = get(load(t, v, "exceptions-restarting"))
		if len(ex.History) < 2 || ex.Root != &ex.History[0] {
			t.Fatalf("restarting: %d entries", len(ex.History))
		}
		for i, h := range ex.History {
			if h.Class != "java.io.IOException" || h.TaskName == "" || (i > 0 && h.Timestamp.After(ex.History[i-1].Timestamp)) {
				t.Errorf("entry %d: %s %q at %v", i, h.Class, h.TaskName, h.Timestamp)
			}
		}
	})
}

func TestCancel(t *testing.T) {
	forVersions(t, func(t *testing.T, v string) {
		f := load(t, v, "cancel")
		c, r := replay(t, f, load(t, v, "cancel-terminal"), load(t, v, "cancel-unknown"))
		if err := c.Cancel(ctx, f.segment(t, 1)); err != nil {
			t.Fatal(err)
		}
		if err := c.Cancel(ctx, f.segment(t, 1)); err != nil { // Flink accepts it for a cancelled job
			t.Fatal(err)
		}
		err := c.Cancel(ctx, "00000000000000000000000000000000")
		if !IsNotFound(err) || !strings.HasPrefix(err.Error(), "patch /jobs/00000000000000000000000000000000?mode=cancel: 404 Not Found: ") {
			t.Errorf("%v", err)
		}
		if got := r.servedNames(); !reflect.DeepEqual(got, []string{"cancel", "cancel-terminal", "cancel-unknown"}) {
			t.Errorf("served %v", got)
		}
	})
}

func TestSavepoints(t *testing.T) {
	forVersions(t, func(t *testing.T, v string) {
		trig := load(t, v, "savepoint-trigger")
		job := trig.segment(t, 1)
		var dir, want string
		trig.field(t, true, "target-directory", &dir)
		trig.field(t, false, "request-id", &want)
		progress, done := load(t, v, "savepoint-in-progress"), load(t, v, "savepoint-completed")
		if progress.segment(t, 3) != want || done.segment(t, 3) != want {
			t.Fatalf("fixtures of different triggers")
		}

		c, _ := replay(t, trig, progress, done, done)
		id, err := c.TriggerSavepoint(ctx, job, dir, false)
		if err != nil || id != want {
			t.Fatalf("TriggerSavepoint = %q, %v", id, err)
		}
		s, err := c.SavepointStatus(ctx, job, id)
		if err != nil || s.State != SavepointInProgress || s.Completed() || s.Location != "" || s.Failure != nil {
			t.Fatalf("in progress: %+v, %v", s, err)
		}
		s, err = c.SavepointStatus(ctx, job, id)
		if err != nil || !s.Completed() || !strings.HasPrefix(s.Location, "file:/") || !strings.Contains(s.Location, "/savepoint-"+job[:6]+"-") || s.Failure != nil {
			t.Fatalf("completed: %+v, %v", s, err)
		}

		c, r := replay(t, progress, progress, done)
		loc, err := c.WaitSavepoint(ctx, job, id, time.Millisecond)
		if err != nil || loc != s.Location {
			t.Fatalf("WaitSavepoint = %q, %v", loc, err)
		}
		if n := len(r.servedNames()); n != 3 {
			t.Errorf("%d polls", n)
		}

		c, _ = replay(t, progress)
		cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		if _, err := c.WaitSavepoint(cctx, job, id, time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("never completing: %v", err)
		}

		failed := load(t, v, "savepoint-failed")
		c, _ = replay(t, failed, failed)
		s, err = c.SavepointStatus(ctx, job, failed.segment(t, 3))
		if err != nil || !s.Completed() || s.Failure == nil || s.Location != "" {
			t.Fatalf("failed: %+v, %v", s, err)
		}
		if s.Failure.Class != "java.util.concurrent.CompletionException" || s.Failure.Summary() != "java.io.IOException: Failed to create savepoint directory at file:/proc/no-such-dir/savepoints" {
			t.Errorf("failure %s, %q", s.Failure.Class, s.Failure.Summary())
		}
		_, err = c.WaitSavepoint(ctx, job, failed.segment(t, 3), time.Millisecond)
		var se *SavepointError
		if !errors.As(err, &se) || se.JobID != job || se.TriggerID != failed.segment(t, 3) ||
			err.Error() != "savepoint "+se.TriggerID+" of job "+job+" failed: java.io.IOException: Failed to create savepoint directory at file:/proc/no-such-dir/savepoints" {
			t.Errorf("WaitSavepoint of a failure: %v", err)
		}

		c, _ = replay(t, load(t, v, "savepoint-no-target"), load(t, v, "savepoint-unknown-trigger"))
		_, err = c.TriggerSavepoint(ctx, job, "", false)
		wantAPIError(t, err, http.StatusBadRequest, "Config key [execution.checkpointing.savepoint-dir] is not set. Property [target-directory] must be provided.")
		_, err = c.SavepointStatus(ctx, job, "00000000000000000000000000000000")
		wantAPIError(t, err, http.StatusNotFound, "There is no savepoint operation with triggerId=00000000000000000000000000000000 for job "+job+".")
	})
}

func TestStop(t *testing.T) {
	forVersions(t, func(t *testing.T, v string) {
		stop, done := load(t, v, "stop"), load(t, v, "stop-completed")
		job := stop.segment(t, 1)
		var dir, want string
		stop.field(t, true, "targetDirectory", &dir)
		stop.field(t, false, "request-id", &want)
		c, _ := replay(t, stop, done)
		id, err := c.Stop(ctx, job, dir, false)
		if err != nil || id != want || done.segment(t, 3) != id {
			t.Fatalf("Stop = %q, %v", id, err)
		}
		loc, err := c.WaitSavepoint(ctx, job, id, time.Millisecond)
		if err != nil || !strings.Contains(loc, "/savepoint-"+job[:6]+"-") {
			t.Fatalf("WaitSavepoint = %q, %v", loc, err)
		}
	})
}

func TestTransportErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	c := New(srv.URL)
	_, err := c.Job(ctx, "00000000000000000000000000000000")
	var ue *url.Error
	if !errors.As(err, &ue) || StatusCode(err) != 0 || IsNotFound(err) ||
		!strings.HasPrefix(err.Error(), "get /jobs/00000000000000000000000000000000: ") {
		t.Errorf("connection refused: %v", err)
	}

	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer hang.Close()
	c = New(hang.URL)
	c.Timeout = 50 * time.Millisecond
	if _, err := c.Overview(ctx); !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(err.Error(), "get /overview: ") {
		t.Errorf("timeout: %v", err)
	}
}

func TestNonFlinkErrorBody(t *testing.T) {
	// A proxy in front of the JobManager, not Flink, answers.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "upstream connect error", http.StatusBadGateway)
	}))
	defer srv.Close()
	_, err := New(srv.URL + "/").Overview(ctx)
	wantAPIError(t, err, http.StatusBadGateway, "upstream connect error")
	if err.Error() != "get /overview: 502 Bad Gateway: upstream connect error" {
		t.Errorf("%q", err.Error())
	}
}

func TestTimestamp(t *testing.T) {
	var v struct{ A, B, C, D Timestamp }
	if err := jsonUnmarshal(`{"A":-1,"B":0,"C":1795553223935,"D":null}`, &v); err != nil {
		t.Fatal(err)
	}
	if !v.A.IsZero() || !v.B.IsZero() || v.C.UnixMilli() != 1795553223935 || !v.D.IsZero() {
		t.Errorf("%+v", v)
	}
	if b, _ := v.A.MarshalJSON(); string(b) != "-1" {
		t.Errorf("zero marshals to %s", b)
	}
	if Millis(-1).Duration() != 0 || Millis(1500).Duration() != 1500*time.Millisecond {
		t.Error("Millis")
	}
}

// wantAPIError checks err is an *APIError with the status and summary.
func wantAPIError(t *testing.T, err error, status int, summary string) *APIError {
	t.Helper()
	var ae *APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want an APIError, got %v", err)
	}
	if ae.StatusCode != status || StatusCode(err) != status {
		t.Errorf("status %d, want %d", ae.StatusCode, status)
	}
	if got := ae.Summary(); summary != "" && got != summary {
		t.Errorf("summary\n got %q\nwant %q", got, summary)
	}
	return ae
}

func jsonUnmarshal(s string, out any) error { return json.Unmarshal([]byte(s), out) }

// jsonField decodes one top-level field of a JSON object; an error when it is missing.
func jsonField(body []byte, name string, out any) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return err
	}
	raw, ok := m[name]
	if !ok {
		return fmt.Errorf("no field %q", name)
	}
	return json.Unmarshal(raw, out)
}

// chainLines are the exceptions of the answer's first stack trace, outermost first, one line each.
func chainLines(ae *APIError) []string {
	var out []string
	for _, t := range ae.causes()[0] {
		out = append(out, firstLine(t.String()))
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// The one rule, on every job state the real JobManagers answered with, and on 2.x's pending
// operators (a RUNNING job whose every task runs while operators wait is not running yet).
func TestOutcome(t *testing.T) {
	want := map[string]Outcome{
		"job-running": Running, "job-scheduled": Starting, "job-stopped": Finished,
		"job-restarting": Failed, "job-failed": Failed, "job-canceled": Failed,
	}
	forVersions(t, func(t *testing.T, v string) {
		for name, outcome := range want {
			f := load(t, v, name)
			var j Job
			if err := json.Unmarshal(f.Body, &j); err != nil {
				t.Fatal(err)
			}
			if got := j.Outcome(); got != outcome || got.OK() != (outcome == Running || outcome == Finished) {
				t.Errorf("%s: %s, want %s", name, got, outcome)
			}
			if name == "job-running" {
				j.PendingOperators = 1
				if got := j.Outcome(); got != Starting {
					t.Errorf("running with a pending operator: %s, want starting", got)
				}
			}
			// GET /jobs/overview, captured in the same state, judges the job the same.
			overview := "jobs" + strings.TrimPrefix(name, "job")
			if name == "job-scheduled" {
				overview = "jobs"
			}
			var o struct{ Jobs []JobOverview }
			if err := json.Unmarshal(load(t, v, overview).Body, &o); err != nil {
				t.Fatal(err)
			}
			found := false
			for _, e := range o.Jobs {
				if e.ID == j.ID {
					found = true
					if got := e.Outcome(); got != outcome {
						t.Errorf("%s: %s in %s, want %s", name, got, overview, outcome)
					}
				}
			}
			if !found {
				t.Errorf("%s: job %s is not in %s", name, j.ID, overview)
			}
		}
	})
}
