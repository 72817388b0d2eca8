// Package upgrade is `helm flink upgrade`: a Helm upgrade that keeps the jobs' state.
//
// An application cluster's job is stopped with a savepoint and restarted from it by the upgraded
// release; a session cluster is not upgraded in a way that restarts its JobManager under running
// jobs without HA, unless forced. What an upgrade decides (the new revision's values, which job
// is stopped, what restarts, what is refused) is in decide.go, apart from what it does.
package upgrade

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/getter"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/jobmanager"
	"github.com/helm-flink/helm-flink/plugin/kube"
	"github.com/helm-flink/helm-flink/plugin/manifest"
	"github.com/helm-flink/helm-flink/plugin/savepoint"
	"github.com/helm-flink/helm-flink/plugin/values"
	"github.com/helm-flink/helm-flink/schema"
)

// Upgrade is one upgrade of a release; New sets the defaults.
type Upgrade struct {
	cfg *act.Config

	// ReuseValues starts from the release's values and merges the new ones in, with the
	// previous chart's defaults, as Helm's --reuse-values does.
	ReuseValues bool
	// ResetThenReuseValues is Helm's --reset-then-reuse-values: the release's values over the
	// new chart's defaults.
	ResetThenReuseValues bool
	// SavepointDir is where an application's job is stopped to; "" uses the cluster's
	// state.savepoints.dir.
	SavepointDir string
	// NoSavepoint upgrades an application without stopping its job first (it restarts from its
	// latest checkpoint with HA, else from scratch).
	NoSavepoint           bool
	AllowNonRestoredState bool
	// Mode is how an application's job crosses the upgrade: SavepointMode (stop with a
	// savepoint, restart from it) or LastStateMode (with Kubernetes HA, no savepoint: the new
	// JobManager recovers the same job from its latest checkpoint).
	Mode string
	// StopJobs lets a session upgrade that leaves too few task slots for its running jobs stop
	// them with savepoints into SavepointDir first.
	StopJobs bool
	// Force lets a session upgrade restart the JobManager under running jobs without HA.
	Force       bool
	Description string
	// NoRollback leaves a failed upgrade's revision as it is instead of returning the release to
	// the previous chart and values (and an application's job to the upgrade's savepoint).
	NoRollback bool
	// State is what a rollback starts an application's job from: StateNewest or StateRevision.
	State string
}

// Upgrade modes.
const (
	SavepointMode = "savepoint"
	LastStateMode = "last-state"
)

// New is an upgrade with cfg.
func New(cfg *act.Config) *Upgrade {
	return &Upgrade{cfg: cfg, Mode: SavepointMode, State: StateNewest}
}

// Validate checks the options alone, before anything is contacted.
func (u *Upgrade) Validate() error {
	if u.Mode != SavepointMode && u.Mode != LastStateMode {
		return exit.InputError(fmt.Errorf("--upgrade-mode %q: want %s or %s", u.Mode, SavepointMode, LastStateMode))
	}
	if u.State != StateNewest && u.State != StateRevision {
		return exit.InputError(fmt.Errorf("--state %q: want %s (the savepoint the rollback stops the job with, else the newest recorded) or %s (the one taken when the revision was left)", u.State, StateNewest, StateRevision))
	}
	if u.StopJobs && u.SavepointDir == "" {
		return exit.InputError(errors.New("--stop-jobs needs --savepoint-dir: where the stopped jobs' savepoints go, e.g. s3://bucket/savepoints"))
	}
	return nil
}

// Result is what an upgrade did.
type Result struct {
	Release   string   `json:"release"`
	Namespace string   `json:"namespace"`
	Revision  int      `json:"revision"`
	Mode      act.Mode `json:"mode"`
	// Savepoint is the one the job was stopped with.
	Savepoint string `json:"savepoint,omitempty"`
	// Restored is the savepoint the job started from, when not Savepoint (a rollback's choice).
	Restored string `json:"restoredFrom,omitempty"`
	// RolledBackTo is the revision whose chart and values a rollback runs again.
	RolledBackTo int `json:"rolledBackTo,omitempty"`
	// StoppedJobs are the session jobs --stop-jobs stopped, with their savepoints.
	StoppedJobs map[string]string `json:"stoppedJobs,omitempty"`
	// Resubmitted are the session jobs stopped with a savepoint and run again from their kept jars.
	Resubmitted []Resubmission       `json:"resubmitted,omitempty"`
	Job         *jobmanager.Progress `json:"job,omitempty"`
	Elapsed     jobmanager.Seconds   `json:"elapsedSeconds"`
	// Failure is why the new revision failed, and Rollback what was done about it.
	Failure  string    `json:"failure,omitempty"`
	Rollback *Rollback `json:"rollback,omitempty"`
}

// Resubmission is a session job stopped with a savepoint for an upgrade that replaced the
// JobManager, and run again from its kept jar.
type Resubmission struct {
	JobID     string `json:"jobId"`
	Name      string `json:"name"`
	Savepoint string `json:"savepoint"`
	// NewJobID is the job run again from the savepoint; "" when it could not be.
	NewJobID string `json:"newJobId,omitempty"`
}

// target is the revision an upgrade is to make.
type target struct {
	chart *chart.Chart
	mode  act.Mode
	// values are the new revision's, complete: Helm gets them with ResetValues.
	*revisionValues
	// merged are values with the chart's defaults, as the templates see them.
	merged map[string]any
	// rollback is set for a rollback: the revision and the savepoints to choose the job's from.
	rollback *rollbackState
	// restore is the savepoint the job starts from when the plan chose it (a rollback's);
	// "" starts it from the one it is stopped with.
	restore string
	// description is the revision's in Helm's history.
	description string
}

// Run upgrades rel to the chart with the user's values and waits until the cluster (and an
// application's job) runs again.
func (u *Upgrade) Run(ctx context.Context, rel *act.Release, ref act.ChartRef, vals values.Options) (*Result, error) {
	if err := act.RefuseFlux(rel.Release, "undo this upgrade"); err != nil {
		return nil, err
	}
	next, err := u.prepare(rel, ref, vals)
	if err != nil {
		return nil, err
	}
	return u.run(ctx, rel, ref, next)
}

// run carries out the plan of the upgrade of rel to next: stops what the plan stops, upgrades the
// release, retires what the new revision replaces and waits, rolling a failed revision back.
func (u *Upgrade) run(ctx context.Context, rel *act.Release, ref act.ChartRef, next *target) (*Result, error) {
	start := time.Now()
	p, jm, err := u.plan(ctx, rel, next)
	if err != nil {
		return nil, err
	}
	res := &Result{Release: rel.Name, Namespace: rel.Namespace, Mode: next.mode}
	err = p.refusal
	if err == nil {
		// Before the first job is stopped: every permission the upgrade and its wait take.
		err = u.cfg.CheckAccess(ctx, p.rendered.Release, act.Upgrading)
	}
	if err == nil {
		err = u.execute(ctx, rel, p, jm, res)
	}
	// The JobManager this connection reaches is about to go.
	jm.Close()
	if err != nil {
		return res, err
	}
	cs, _, err := u.cfg.Clientset()
	if err != nil {
		return res, err
	}
	retiring, err := rel.Kind.Retiring(ctx, cs, rel)
	if err != nil {
		return res, err
	}
	u.cfg.Progressf("Upgrading release %s to chart %s-%s", rel.Name, next.chart.Name(), next.chart.Metadata.Version)
	up, err := u.helmUpgrade(ctx, rel, next, "")
	if err != nil {
		if res.Savepoint != "" {
			err = fmt.Errorf("%w\nthe job was stopped with savepoint %s; start it from there with: helm flink upgrade %s CHART --reuse-values --set job.fromSavepoint=%s", err, res.Savepoint, rel.Name, res.Savepoint)
		}
		return res, err
	}
	res.Revision = up.Version
	if p.Change == JobManagerRestarts && retiring != nil {
		if err := rel.Kind.Retire(ctx, cs, up, retiring, u.cfg.Progressf); err != nil {
			return res, err
		}
	}
	if err := u.waitWatched(ctx, up, res, p.recovering()); err != nil {
		back, err := u.undo(ctx, ref, rel, up, next.chart, res, err)
		// The stopped jobs run again on the rolled-back revision's JobManager.
		if fe := (*FailedError)(nil); back != nil && errors.As(err, &fe) && fe.Rollback.Error == "" {
			if rerr := u.resubmit(ctx, back, p, res); rerr != nil {
				fe.Rollback.Error = rerr.Error()
			}
		}
		return res, err
	}
	if err := u.resubmit(ctx, up, p, res); err != nil {
		return res, err
	}
	res.Elapsed = jobmanager.Seconds(time.Since(start))
	return res, nil
}

// resubmit runs the session jobs the plan stopped for the replaced JobManager again on rel from
// their kept jars and savepoints, and waits until every task of each runs.
func (u *Upgrade) resubmit(ctx context.Context, rel *act.Release, p *Plan, res *Result) error {
	if len(res.Resubmitted) == 0 {
		return nil
	}
	jm, err := u.cfg.Connect(ctx, rel)
	if err != nil {
		return err
	}
	defer jm.Close()
	for i := range res.Resubmitted {
		r := &res.Resubmitted[i]
		sub := p.submission(r.JobID)
		u.cfg.Progressf("Running job %s (%s) again from its kept jar and savepoint %s", r.JobID, r.Name, r.Savepoint)
		s := jobmanager.Spec{JarID: sub.JarID, Jar: sub.Jar, EntryClass: sub.EntryClass, Args: sub.Args, Parallelism: sub.Parallelism,
			Savepoint: r.Savepoint, AllowNonRestoredState: u.AllowNonRestoredState || sub.AllowNonRestoredState}
		prog, _, err := jm.Run(ctx, s, false, u.cfg.Progressf)
		if prog.JobID != "" {
			r.NewJobID = prog.JobID
			sub.JobID, sub.Revision, sub.Time = prog.JobID, 0, time.Time{}
			u.cfg.RecordSubmission(ctx, rel, sub, r.JobID)
		}
		if err != nil {
			return fmt.Errorf("run job %s (%s) again: %w; its state is in savepoint %s: submit its jar with --savepoint %s", r.JobID, r.Name, err, r.Savepoint, r.Savepoint)
		}
	}
	return nil
}

// prepare loads the chart and decides the new revision's values, and validates them.
func (u *Upgrade) prepare(rel *act.Release, ref act.ChartRef, vals values.Options) (*target, error) {
	ch, err := u.cfg.LoadChart(ref)
	if err != nil {
		return nil, exit.InputError(err)
	}
	mode := act.ChartMode(ch)
	if was := rel.Mode(); was != mode {
		return nil, exit.InputError(fmt.Errorf("release %q is a %s cluster and chart %s is a %s cluster: uninstall and install instead", rel.Name, was, ch.Name(), mode))
	}
	user, err := values.User(&vals, getter.All(u.cfg.Settings))
	if err != nil {
		return nil, exit.InputError(err)
	}
	reuse := u.ReuseValues || u.ResetThenReuseValues
	if u.ReuseValues && !u.ResetThenReuseValues {
		// Helm's --reuse-values keeps the previous chart's defaults too (--reset-then-reuse-values
		// takes the new chart's).
		ch.Values = values.Copy(rel.Chart.Values)
	}
	next := &target{chart: ch, mode: mode, revisionValues: nextValues(rel.Release, user, reuse, mode), description: u.Description}
	if next.merged, err = values.ForChart(ch, next.values); err != nil {
		return nil, exit.InputError(err)
	}
	if u.Mode == LastStateMode {
		if err := lastState(rel, next, mode); err != nil {
			return nil, err
		}
	}
	problems, err := schema.CheckRelease(ch, next.merged, next.values, schema.CheckOptions{ReleaseName: rel.Name, SavepointDir: u.SavepointDir},
		chartutil.ReleaseOptions{Name: rel.Name, Namespace: rel.Namespace, Revision: rel.Version + 1, IsUpgrade: true})
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, &schema.InvalidError{Subject: "values of chart " + ch.Name(), Problems: problems}
	}
	return next, nil
}

// execute does what the plan decided before the release is upgraded: an application's job
// stopped with a savepoint, which the new revision starts from; a session's jobs that would lose
// their slots stopped with savepoints (--stop-jobs).
func (u *Upgrade) execute(ctx context.Context, rel *act.Release, p *Plan, jm *jobmanager.JobManager, res *Result) error {
	if p.Mode == act.Application {
		return u.stopApplication(ctx, rel, p, jm, res)
	}
	if len(p.stop) > 0 {
		res.StoppedJobs = map[string]string{}
	}
	for _, sub := range p.resubmit {
		j := p.job(sub.JobID)
		u.cfg.Progressf("Stopping job %s (%s) with a savepoint: the upgrade replaces the JobManager, and the job runs again from its kept jar", j.ID, j.Name)
		loc, err := jm.Stop(ctx, j.ID, u.SavepointDir, false)
		if err != nil {
			return fmt.Errorf("nothing upgraded: %w", err)
		}
		u.cfg.RecordSavepoint(ctx, rel, savepoint.Entry{JobID: j.ID, JobName: j.Name, Path: loc, Reason: savepoint.Upgrade})
		u.cfg.Progressf("  savepoint %s", loc)
		res.Resubmitted = append(res.Resubmitted, Resubmission{JobID: j.ID, Name: j.Name, Savepoint: loc})
	}
	for _, h := range p.stop {
		u.cfg.Progressf("Stopping job %s (%s, %d slots) with a savepoint: the upgrade leaves %d slots", h.ID, h.Name, h.Slots, p.slots)
		loc, err := jm.Stop(ctx, h.ID, u.SavepointDir, false)
		if err != nil {
			return fmt.Errorf("nothing upgraded: %w", err)
		}
		res.StoppedJobs[h.ID] = loc
		u.cfg.RecordSavepoint(ctx, rel, savepoint.Entry{JobID: h.ID, JobName: h.Name, Path: loc, Reason: savepoint.Upgrade})
		u.cfg.Progressf("  savepoint %s; resubmit with: helm flink submit %s --jar JAR --savepoint %s", loc, p.Release, loc)
	}
	return nil
}

// stopApplication stops the application's job with a savepoint when the plan says so and points
// the new revision at it.
func (u *Upgrade) stopApplication(ctx context.Context, rel *act.Release, p *Plan, jm *jobmanager.JobManager, res *Result) error {
	j := p.Jobs[0]
	switch {
	case u.Mode == LastStateMode:
		u.cfg.Progressf("Upgrading with the job's last state: the new JobManager recovers it from its latest checkpoint (Kubernetes HA)")
		return nil
	case u.NoSavepoint:
		u.cfg.Progressf("Not stopping the job first (--no-savepoint)")
		return nil
	case p.savepoint == "" && p.next.restore != "":
		u.cfg.Progressf("Job %s is %s: it starts from recorded savepoint %s", j.ID, j.State, p.next.restore)
		res.Restored = p.next.restore
		return nil
	case p.savepoint == "":
		u.cfg.Progressf("Job %s is not running: upgrading without a savepoint", j.ID)
		return nil
	}
	u.cfg.Progressf("Stopping job %s with a savepoint", p.savepoint)
	loc, err := jm.Stop(ctx, p.savepoint, u.SavepointDir, false)
	if err != nil {
		return fmt.Errorf("nothing upgraded: %w", err)
	}
	u.cfg.Progressf("  savepoint %s", loc)
	u.cfg.RecordSavepoint(ctx, rel, savepoint.Entry{JobID: p.savepoint, JobName: j.Name, Path: loc, Reason: savepoint.Upgrade})
	res.Savepoint = loc
	if p.next.restore != "" {
		u.cfg.Progressf("  the job starts from savepoint %s (--state %s)", p.next.restore, u.State)
		res.Restored = p.next.restore
	} else {
		if err := p.next.restoreFrom(loc, u.AllowNonRestoredState); err != nil {
			return err
		}
	}
	if !rel.Objects.JobManagerExitsWithJob() {
		// The JobManager Deployment outlives its job; the upgrade replaces it.
		return nil
	}
	// A JobManager Job (charts before 0.5) shuts down by itself once its job stopped: let it,
	// so the upgraded TaskManagers find only the new one.
	cs, _, err := u.cfg.Clientset()
	if err != nil {
		return err
	}
	if err := kube.WaitNoneRunning(ctx, cs, rel.Namespace, kube.Selector(rel.Name, kube.JobManager)); err != nil {
		return fmt.Errorf("wait for the stopped JobManager to end: %w", err)
	}
	return nil
}

// helmUpgrade upgrades rel (dryRun "") or renders the upgrade ("client", "server") without
// waiting: the caller watches. The upgraded release is read (see act.Read); a dry run's is not.
func (u *Upgrade) helmUpgrade(ctx context.Context, rel *act.Release, next *target, dryRun string) (*act.Release, error) {
	up := action.NewUpgrade(u.cfg.Helm)
	up.Namespace, up.Timeout = rel.Namespace, act.HelmTimeout(ctx)
	up.ResetValues = true // the values are complete; Helm must not merge the old ones in again
	up.Labels = next.labels(rel.Release)
	if dryRun != "" {
		up.DryRun, up.DryRunOption = true, dryRun
	} else {
		up.Description = next.description
	}
	done, err := up.RunWithContext(ctx, rel.Name, next.chart, next.values)
	if err != nil {
		if u.ReuseValues && !u.ResetThenReuseValues && strings.Contains(err.Error(), "nil pointer evaluating") {
			// Helm's --reuse-values renders the new chart with the previous chart's defaults.
			return nil, exit.InputError(fmt.Errorf("upgrade release %q: %w; with --reuse-values the previous chart's default values are kept, as in Helm, and this chart version has values they lack: use --reset-then-reuse-values", rel.Name, err))
		}
		return nil, fmt.Errorf("upgrade release %q: %w", rel.Name, err)
	}
	if dryRun != "" {
		m, err := manifest.Parse(done.Manifest)
		if err != nil {
			return nil, fmt.Errorf("the upgrade's manifest: %w", err)
		}
		return &act.Release{Release: done, Objects: m, Kind: act.KindOf(next.mode, m), Values: next.merged}, nil
	}
	return act.Read(done)
}

// wait waits until rel's cluster is up, and the job it runs itself (an application's).
// recovering are the ids of the session jobs the new JobManager recovers (HA).
func (u *Upgrade) wait(ctx context.Context, rel *act.Release, res *Result, recovering []string) error {
	jm, err := u.cfg.WaitUp(ctx, rel, jobmanager.UpOptions{})
	if err != nil {
		return err
	}
	defer jm.Close()
	if res.Job, err = rel.Kind.Wait(ctx, rel, jm, u.Mode == LastStateMode, u.cfg.Progressf); err != nil {
		return err
	}
	// An upgrade returns when the jobs it kept run every task again, as an install does.
	for _, id := range recovering {
		u.cfg.Progressf("Waiting for job %s, recovered by the new JobManager, to run every task", id)
		if _, err := jm.WaitRecovered(ctx, id, u.cfg.Progressf); err != nil {
			return fmt.Errorf("job %s recovered by the new JobManager: %w", id, err)
		}
	}
	return nil
}
