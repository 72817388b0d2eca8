// Package submit is `helm flink submit`: a jar run on an installed session release until every task runs.
package submit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/jobmanager"
	"github.com/helm-flink/helm-flink/schema"
)

// Submit runs a job on a session release; New sets the defaults.
type Submit struct {
	cfg *act.Config

	Job jobmanager.Spec
	// NoWaitRunning returns once the job is submitted.
	NoWaitRunning bool
}

// New is a submission with cfg.
func New(cfg *act.Config) *Submit { return &Submit{cfg: cfg} }

// Result is the submitted job.
type Result struct {
	Release         string              `json:"release"`
	Namespace       string              `json:"namespace"`
	Job             jobmanager.Progress `json:"job"`
	SubmitToRunning jobmanager.Seconds  `json:"submitToRunningSeconds,omitempty"`
}

// Validate checks the job before anything is contacted: a jar, and a local one that holds the
// entry class.
func (s *Submit) Validate() error {
	if s.Job.Jar == "" {
		return exit.InputError(errors.New("--jar is required: a local jar file or an http(s) URL"))
	}
	if s.Job.Parallelism < 0 {
		return exit.InputError(fmt.Errorf("--parallelism %d: want a positive number", s.Job.Parallelism))
	}
	if !jobmanager.IsURL(s.Job.Jar) {
		if problems := schema.CheckJob(schema.CheckOptions{Jar: s.Job.Jar, EntryClass: s.Job.EntryClass, SavepointPath: s.Job.Savepoint}); len(problems) > 0 {
			return &schema.InvalidError{Subject: "job", Problems: problems}
		}
	}
	return nil
}

// Run submits the jar to rel's JobManager and waits until the job runs.
func (s *Submit) Run(ctx context.Context, rel *act.Release) (*Result, error) {
	if rel.Mode() != act.Session {
		return nil, exit.InputError(fmt.Errorf("release %q runs chart %s, an application cluster with its own job: submit needs a session release", rel.Name, rel.Chart.Name()))
	}
	jm, err := s.cfg.Connect(ctx, rel)
	if err != nil {
		return nil, err
	}
	defer jm.Close()
	start := time.Now()
	s.cfg.Progressf("Submitting %s to release %s", s.Job.Jar, rel.Name)
	p, err := s.cfg.RunJar(ctx, rel, jm, s.Job, s.NoWaitRunning)
	if p.JobID == "" {
		return nil, err
	}
	res := &Result{Release: rel.Name, Namespace: rel.Namespace, Job: p}
	if err == nil && !s.NoWaitRunning {
		res.SubmitToRunning = jobmanager.Seconds(time.Since(start))
	}
	return res, err
}
