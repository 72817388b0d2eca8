package upgrade

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/release"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/jobmanager"
	"github.com/helm-flink/helm-flink/plugin/kube"
	"github.com/helm-flink/helm-flink/plugin/values"
)

// Rollback is what was done after an upgrade's new revision failed.
type Rollback struct {
	// Revision runs the previous revision's chart and user values again; 0 when none was made.
	Revision int `json:"revision,omitempty"`
	// Savepoint is what the job was restarted from: the one the upgrade stopped it with.
	Savepoint string `json:"savepoint,omitempty"`
	// Job is the job as the rollback left it (an application).
	Job *jobmanager.Progress `json:"job,omitempty"`
	// Error is why the rollback failed, or that none was made (--no-rollback).
	Error string `json:"error,omitempty"`
}

// FailedError is an upgrade whose new revision failed (a JobManager that crashed or cannot
// start, a JobManager Job at its backoff limit, a job that failed), and what was done about it.
// It exits 3 whether or not the rollback worked: the upgrade failed.
type FailedError struct {
	Release  string
	Revision int
	// Cause is the failure, with Flink's exception from the container's log.
	Cause    error
	Rollback *Rollback
	// Restart says how to start the job from its savepoint when the rollback did not.
	Restart string
	// Mode is the release's.
	Mode act.Mode
}

func (e *FailedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "upgrade to revision %d failed: %v", e.Revision, e.Cause)
	r := e.Rollback
	switch {
	case r.Revision != 0 && r.Error == "":
		fmt.Fprintf(&b, "\nrolled back to the previous chart and values as revision %d", r.Revision)
		switch {
		case r.Job != nil && r.Savepoint != "":
			fmt.Fprintf(&b, "; job %s restored from savepoint %s and %s with every task (%s)", r.Job.JobID, r.Savepoint, r.Job.State, r.Job.Tasks())
		case r.Job != nil:
			fmt.Fprintf(&b, "; job %s %s with every task (%s), started without a savepoint of this upgrade (none was taken)", r.Job.JobID, r.Job.State, r.Job.Tasks())
		default:
			b.WriteString("; the cluster is up again")
		}
	case r.Revision != 0:
		fmt.Fprintf(&b, "\nthe rollback to the previous chart and values (revision %d) failed too: %s", r.Revision, r.Error)
	default:
		fmt.Fprintf(&b, "\n%s", r.Error)
	}
	if e.Restart != "" {
		b.WriteString("\n" + e.Restart)
	}
	return b.String()
}

// Unwrap is the failure.
func (e *FailedError) Unwrap() error { return e.Cause }

// ExitCode is 3: the upgrade failed, rolled back or not.
func (e *FailedError) ExitCode() int { return exit.JobFailed }

// failure is err when it is the new revision failing (not a timeout, not an interrupt).
func failure(err error) bool {
	var start *kube.PodStartError
	var job *jobmanager.FailedError
	return errors.As(err, &start) || errors.As(err, &job)
}

// waitWatched is wait while the revision's JobManager is watched (act.Config.Watched).
func (u *Upgrade) waitWatched(ctx context.Context, rel *act.Release, res *Result, recovering []string) error {
	return u.cfg.Watched(ctx, rel, func(ctx context.Context) error { return u.wait(ctx, rel, res, recovering) })
}

// rollbackValues are the values that return to prev (the revision before the failed one): its
// user values with its chart, without what the plugin set for prev only; an application's job
// gets an id of the rollback's revision and starts from savepoint when the upgrade took one.
func rollbackValues(prev, failed *release.Release, mode act.Mode, savepoint string) *revisionValues {
	p := *prev
	p.Version = failed.Version // the job id is the rollback's revision's, failed.Version+1
	next := nextValues(&p, map[string]any{}, true, mode)
	if mode == act.Application && savepoint != "" {
		restoreFrom(next, savepoint, false)
	}
	return next
}

// undo handles err of waiting for the upgraded revision failed: a failure of the new revision
// is rolled back to prev's chart and values (unless NoRollback) and returned as a *FailedError,
// with the rollback's release when one was made; anything else (a timeout, an interrupt) is
// returned as it is.
func (u *Upgrade) undo(ctx context.Context, ref act.ChartRef, prev, failed *act.Release, loaded *chart.Chart, res *Result, err error) (*act.Release, error) {
	if !failure(err) || ctx.Err() != nil {
		return nil, err
	}
	fe := &FailedError{Release: failed.Name, Revision: failed.Version, Cause: err, Mode: res.Mode, Rollback: &Rollback{}}
	res.Failure, res.Rollback = err.Error(), fe.Rollback
	u.cfg.Progressf("Revision %d failed: %v", failed.Version, err)
	if u.NoRollback {
		fe.Rollback.Error = fmt.Sprintf("not rolled back (--no-rollback): release %s stays on revision %d", failed.Name, failed.Version)
		fe.Restart = restartHint(ref, prev.Release, failed.Release, res)
		return nil, fe
	}
	mode := res.Mode
	back := &target{chart: previousChart(prev.Release, loaded), mode: mode, revisionValues: rollbackValues(prev.Release, failed.Release, mode, res.Savepoint)}
	if back.chart == nil {
		fe.Rollback.Error = fmt.Sprintf("cannot render revision %d's chart again: Helm stored it without its library chart", prev.Version)
		fe.Restart = restartHint(ref, prev.Release, failed.Release, res)
		return nil, fe
	}
	if mode == act.Application && u.Mode == LastStateMode {
		// No savepoint was taken: with HA the job's checkpoints are under its id, so the rolled
		// back JobManager recovers the same job.
		if id, err := failed.JobID(); err == nil {
			back.set("job.jobId", id)
		}
	}
	u.cfg.Progressf("Rolling back release %s to the chart and values of revision %d", failed.Name, prev.Version)
	back.description = fmt.Sprintf("Rollback of failed revision %d to the chart and values of revision %d", failed.Version, prev.Version)
	if back.merged, err = values.ForChart(back.chart, back.values); err != nil {
		fe.Rollback.Error = fmt.Sprintf("the values of revision %d: %v", prev.Version, err)
		fe.Restart = restartHint(ref, prev.Release, failed.Release, res)
		return nil, fe
	}
	// Planned as any upgrade, with no job to ask the failed JobManager about.
	p, rerr := u.decide(ctx, failed, back, nil, nil)
	cs, _, cerr := u.cfg.Clientset()
	rerr = errors.Join(rerr, cerr)
	var retiring, failedPods []string
	if rerr == nil {
		retiring, rerr = failed.Kind.Retiring(ctx, cs, failed)
	}
	if rerr == nil && retiring == nil && mode == act.Application {
		failedPods, rerr = kube.PodNames(ctx, cs, failed.Namespace, kube.Selector(failed.Name, kube.JobManager))
	}
	var up *act.Release
	if rerr == nil {
		up, rerr = u.helmUpgrade(ctx, failed, back, "")
	}
	if rerr != nil {
		fe.Rollback.Error = rerr.Error()
		fe.Restart = restartHint(ref, prev.Release, failed.Release, res)
		return nil, fe
	}
	fe.Rollback.Revision = up.Version
	if mode == act.Application {
		fe.Rollback.Savepoint = res.Savepoint
	}
	if retiring != nil {
		// Native: the failed revision's JobManager goes with the rollback's Deployment update,
		// and the TaskManager pods it created after it.
		if p.Change == JobManagerRestarts {
			if err := failed.Kind.Retire(ctx, cs, up, retiring, u.cfg.Progressf); err != nil {
				fe.Rollback.Error = err.Error()
				fe.Restart = restartHint(ref, prev.Release, up.Release, res)
				return nil, fe
			}
		}
	} else if mode == act.Application {
		// The failed revision's JobManager pods go with the rollback's Deployment update (or,
		// made by a chart before 0.5, with its Job): none of them may be taken for the
		// rollback's.
		var cerr error
		if failedJMs := act.RevisionJobManagers(failed); len(failedJMs.Jobs) > 0 {
			cerr = kube.WaitStopped(ctx, cs, failedJMs)
		} else {
			cerr = kube.WaitGone(ctx, cs, up.Namespace, kube.Selector(up.Name, kube.JobManager), failedPods, nil)
		}
		// TaskManagers that followed the failed JobManager start afresh with the rollback's.
		if cerr == nil {
			u.cfg.Progressf("  restarting the TaskManagers for the rolled-back JobManager")
			cerr = kube.RestartPods(ctx, cs, up.Namespace, kube.Selector(up.Name, kube.TaskManager))
		}
		if cerr != nil {
			fe.Rollback.Error = fmt.Sprintf("wait for the failed JobManager to end: %v", cerr)
			fe.Restart = restartHint(ref, prev.Release, up.Release, res)
			return nil, fe
		}
	}
	var after Result
	werr := u.waitWatched(ctx, up, &after, nil)
	fe.Rollback.Job = after.Job
	if werr != nil {
		fe.Rollback.Error = werr.Error()
		fe.Restart = restartHint(ref, prev.Release, up.Release, res)
		return nil, fe
	}
	return up, fe
}

// restartHint is the exact command that starts the job from the upgrade's savepoint with the
// previous revision's values, when the plugin could not; "" without a savepoint.
func restartHint(ref act.ChartRef, prev, current *release.Release, res *Result) string {
	if res.Savepoint == "" {
		return ""
	}
	ns, name := current.Namespace, current.Name
	return fmt.Sprintf("the job's state is in savepoint %s; start the job from it with the values of revision %d:\n  helm get values %s -n %s --revision %d -o yaml > previous.yaml && helm upgrade %s %s -n %s --reset-values -f previous.yaml --set job.fromSavepoint=%s --set job.jobId=%s",
		res.Savepoint, prev.Version, name, ns, prev.Version, name, ref.Name, ns, res.Savepoint, revisionJobID(ns, name, current.Version+1))
}

// previousChart is prev's chart as it can be rendered again. The plugin folds the library chart
// into every chart it installs (act.FoldLibraries), so a revision it made renders by itself; one
// made by Helm alone was stored without its library, which is then lent by lib, a chart loaded
// by the plugin (the upgrade's). Nil when neither has it.
func previousChart(prev *release.Release, lib *chart.Chart) *chart.Chart {
	ch := *prev.Chart
	if act.Renderable(&ch) {
		return &ch
	}
	if lib == nil {
		return nil
	}
	ch.Templates = append([]*chart.File{}, ch.Templates...)
	for _, t := range lib.Templates {
		if strings.HasPrefix(t.Name, act.LibraryTemplates) {
			ch.Templates = append(ch.Templates, t)
		}
	}
	if !act.Renderable(&ch) {
		return nil
	}
	return &ch
}
