package submit

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/internal/fake"
	"github.com/helm-flink/helm-flink/plugin/jobmanager"
)

func TestValidate(t *testing.T) {
	for _, job := range []jobmanager.Spec{{}, {Jar: "https://x/j.jar", Parallelism: -1}, {Jar: filepath.Join(t.TempDir(), "missing.jar")}} {
		s := New(act.New())
		s.Job = job
		if err := s.Validate(); exit.Code(err) != exit.Input {
			t.Errorf("%+v: exit %d: %v", job, exit.Code(err), err)
		}
	}
}

// The jar is uploaded, run, deleted again, and the job followed until every task runs.
func TestRun(t *testing.T) {
	for _, v := range fake.Versions {
		run := fake.Load(t, v, "run")
		running := fake.Load(t, v, "job-running")
		cfg := fake.Config(t, fake.Serve(t, fake.Load(t, v, "upload"), run, fake.Load(t, v, "delete-jar"), fake.Load(t, v, "jobs-running")))
		rel := fake.Install(t, cfg, "flink", "flink-session", nil)
		s := New(cfg)
		s.Job.Jar = filepath.Join(t.TempDir(), "TopSpeedWindowing.jar")
		os.WriteFile(s.Job.Jar, []byte("PK"), 0o644)
		res, err := s.Run(context.Background(), rel)
		if err != nil || res.Job.JobID != strings.TrimPrefix(running.Request.Path, "/jobs/") || res.Job.Tasks() != "2/2 running" || res.Release != "flink" {
			t.Fatalf("%s: %+v, %v", v, res, err)
		}
	}
	cfg := fake.Config(t, "")
	app := fake.Install(t, cfg, "app", "flink-job", nil)
	if _, err := New(cfg).Run(context.Background(), app); exit.Code(err) != exit.Input || !strings.Contains(err.Error(), "submit needs a session release") {
		t.Fatalf("an application release: %v", err)
	}
}
