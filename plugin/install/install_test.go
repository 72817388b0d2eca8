package install

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/internal/fake"
	"github.com/helm-flink/helm-flink/plugin/jobmanager"
	"github.com/helm-flink/helm-flink/plugin/savepoint"
	"github.com/helm-flink/helm-flink/plugin/values"
)

func TestJobFlagsBecomeApplicationValues(t *testing.T) {
	job := jobmanager.Spec{Jar: "https://repo.example.com/job.jar", EntryClass: "com.example.Job",
		Args: []string{"--input", "a b", `"quoted"`}, Parallelism: 4}
	user := make([]string, 1, 4) // room to append: the user's slice must not be written into
	vals := values.Options{JSONValues: user[:0]}
	if err := jobValues(act.Application, job, &vals); err != nil {
		t.Fatal(err)
	}
	want := `job.args=["--input","a b","\"quoted\""]`
	if len(vals.JSONValues) != 1 || vals.JSONValues[0] != want || user[0] != "" {
		t.Fatalf("args as --set-json: %q, want %q (user's slice %q)", vals.JSONValues, want, user)
	}
	if err := jobValues(act.Application, jobmanager.Spec{Jar: "/tmp/job.jar"}, &values.Options{}); err == nil {
		t.Fatal("a local jar file for an application chart must be refused: the pods cannot see it")
	}
	if err := jobValues(act.Session, jobmanager.Spec{EntryClass: "com.example.Job"}, &values.Options{}); err == nil {
		t.Fatal("--entry-class without --jar on a session chart must be refused")
	}
}

// A reinstall whose job starts afresh names the newest savepoint an earlier installation left in
// the release's record, and how to start from it; one that starts from a savepoint does not.
func TestReinstallPointsAtRecordedSavepoint(t *testing.T) {
	cfg := fake.Config(t, "")
	var progress bytes.Buffer
	cfg.Progress = &progress
	rec := savepoint.Record{Kube: cfg.Kube, Namespace: "flink", Release: "app"}
	for _, path := range []string{"file:///sp/old", "file:///sp/new"} {
		if err := rec.Add(context.Background(), savepoint.Entry{Revision: 3, JobID: "0123456789abcdef0123456789abcdef", JobName: "job", Path: path, Reason: savepoint.Uninstall}); err != nil {
			t.Fatal(err)
		}
	}
	i := New(cfg)
	i.ReleaseName = "app"
	p, err := i.Prepare(act.ChartRef{Name: "../../charts/flink-job"}, values.Options{})
	if err != nil {
		t.Fatal(err)
	}
	i.pointAtRecord(context.Background(), p)
	if got := progress.String(); !strings.Contains(got, "recorded 2 savepoint(s) in app-flink-savepoints") || !strings.Contains(got, "--set job.fromSavepoint=file:///sp/new") {
		t.Fatalf("progress: %q", got)
	}
	progress.Reset()
	p.Values["job"] = map[string]any{"fromSavepoint": "file:///sp/old"}
	if i.pointAtRecord(context.Background(), p); progress.Len() != 0 {
		t.Fatalf("a job started from a savepoint: %q", progress.String())
	}
}
