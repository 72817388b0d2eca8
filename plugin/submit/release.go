package submit

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/helm-flink/helm-flink/plugin/cluster"
	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/release"
	"github.com/helm-flink/helm-flink/schema"
)

// Options submit a job to an installed session release; NewOptions sets the defaults.
type Options struct {
	Release       string
	Namespace     string
	Job           Job
	NoWaitRunning bool
	RESTURL       string
	Timeout       time.Duration
	Progress      io.Writer
}

// NewOptions are the defaults.
func NewOptions() *Options { return &Options{Timeout: 5 * time.Minute} }

// Result is the submitted job.
type Result struct {
	Release         string          `json:"release"`
	Namespace       string          `json:"namespace"`
	Job             Progress        `json:"job"`
	SubmitToRunning cluster.Seconds `json:"submitToRunningSeconds,omitempty"`
}

func (o *Options) progressf(format string, a ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, format+"\n", a...)
	}
}

// Run checks the jar, then submits it to the release's JobManager and waits until it runs.
func (o *Options) Run(ctx context.Context, env *release.Env) (*Result, error) {
	if o.Job.Jar == "" {
		return nil, exit.InputError(fmt.Errorf("--jar is required: a local jar file or an http(s) URL"))
	}
	if !IsURL(o.Job.Jar) {
		if problems := schema.CheckJob(schema.CheckOptions{Jar: o.Job.Jar, EntryClass: o.Job.EntryClass, SavepointPath: o.Job.Savepoint}); len(problems) > 0 {
			return nil, &schema.InvalidError{Subject: "job", Problems: problems}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	cfg, err := env.ActionConfig(o.Namespace)
	if err != nil {
		return nil, err
	}
	rel, err := release.Find(cfg, o.Release, o.Namespace)
	if err != nil {
		return nil, err
	}
	if release.ChartMode(rel.Chart) != release.Session {
		return nil, exit.InputError(fmt.Errorf("release %q runs chart %s, an application cluster with its own job: submit needs a session release", o.Release, rel.Chart.Name()))
	}
	cs, restCfg, err := env.Clientset()
	if err != nil {
		return nil, err
	}
	c, err := cluster.Connect(ctx, cs, restCfg, o.Namespace, o.Release, o.RESTURL)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	start := time.Now()
	o.progressf("Submitting %s to release %s", o.Job.Jar, o.Release)
	id, err := Run(ctx, c.REST, o.Job)
	if err != nil {
		return nil, fmt.Errorf("submit job: %w", err)
	}
	res := &Result{Release: o.Release, Namespace: o.Namespace, Job: Progress{JobID: id}}
	o.progressf("  job %s submitted", id)
	if o.NoWaitRunning {
		return res, nil
	}
	res.Job, err = WaitRunning(ctx, c.REST, id, func(p Progress) { o.progressf("  %s", p) })
	if err != nil {
		return res, err
	}
	res.SubmitToRunning = cluster.Seconds(time.Since(start))
	return res, nil
}
