package install

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/internal/fake"
	"github.com/helm-flink/helm-flink/plugin/jobmanager"
	"github.com/helm-flink/helm-flink/plugin/savepoint"
	"github.com/helm-flink/helm-flink/plugin/values"
)

// An application's job flags are values over the user's, as a last --set would be; the user's
// other values under job stay.
func TestJobFlagsOverUserValues(t *testing.T) {
	i := New(fake.Config(t, ""))
	i.ReleaseName = "app"
	i.Job = jobmanager.Spec{EntryClass: "com.example.Flag", Args: []string{"a b", "c,d"}, Parallelism: 3}
	vals := values.Options{Values: []string{"job.entryClass=com.example.User", "job.jarURI=local:///opt/flink/usrlib/mine.jar", "parallelism=2"}}
	p, err := i.Prepare(act.ChartRef{Name: "../../charts/flink-job"}, vals)
	if err != nil {
		t.Fatal(err)
	}
	job, _ := p.Values["job"].(map[string]any)
	if job["entryClass"] != "com.example.Flag" || job["jarURI"] != "local:///opt/flink/usrlib/mine.jar" || p.Values["parallelism"] != int64(3) {
		t.Errorf("values %v", p.Values)
	}
	if args, _ := job["args"].([]any); len(args) != 2 || args[1] != "c,d" {
		t.Errorf("args %#v, want each argument as it is", job["args"])
	}
	i.Job = jobmanager.Spec{Jar: "/tmp/job.jar"}
	if _, err := i.Prepare(act.ChartRef{Name: "../../charts/flink-job"}, values.Options{}); exit.Code(err) != exit.Input {
		t.Errorf("a local jar for an application chart: %v", err)
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
