package upgrade

import (
	"context"
	"errors"
	"fmt"

	"helm.sh/helm/v3/pkg/storage/driver"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/flink"
	"github.com/helm-flink/helm-flink/plugin/savepoint"
	"github.com/helm-flink/helm-flink/plugin/values"
)

// States a rollback can start an application's job from.
const (
	// StateNewest: the newest savepoint, the one the rollback stops the job with when it runs,
	// else the newest the release's record holds.
	StateNewest = "newest"
	// StateRevision: the savepoint taken when the revision rolled back to was left.
	StateRevision = "revision"
)

// rollbackState is what a rollback's planner chooses the job's savepoint from.
type rollbackState struct {
	// revision is the revision rolled back to.
	revision int
	state    string
	entries  []savepoint.Entry
}

// Rollback returns the release to the chart and values of revision (0: the one before the
// current) as a new revision, as an upgrade to them: the plan, the savepoint, the wait and the
// rollback of a failed revision are the upgrade's. An application's job is stopped with a
// savepoint and starts from the one State chooses; a rollback with no savepoint to start from is
// refused.
func (u *Upgrade) Rollback(ctx context.Context, rel *act.Release, revision int) (*Result, error) {
	if err := act.RefuseFlux(rel.Release, "roll it back"); err != nil {
		return nil, err
	}
	next, ref, err := u.rollbackTarget(ctx, rel, revision)
	if err != nil {
		return nil, err
	}
	res, err := u.run(ctx, rel, ref, next)
	if res != nil {
		res.RolledBackTo = next.rollback.revision
	}
	return res, err
}

// RollbackPlan is the plan of Rollback, and changes nothing.
func (u *Upgrade) RollbackPlan(ctx context.Context, rel *act.Release, revision int) (*Plan, error) {
	next, _, err := u.rollbackTarget(ctx, rel, revision)
	if err != nil {
		return nil, err
	}
	return u.planOnly(ctx, rel, next)
}

// rollbackTarget is the revision a rollback makes: revision's chart (rendered by itself: the
// plugin folds the library chart into the charts it installs) with revision's user values, an
// application's job under an id of the new revision.
func (u *Upgrade) rollbackTarget(ctx context.Context, rel *act.Release, revision int) (*target, act.ChartRef, error) {
	var ref act.ChartRef
	if revision == 0 {
		revision = rel.Version - 1
	}
	if revision < 1 || revision >= rel.Version {
		return nil, ref, exit.InputError(fmt.Errorf("revision %d: release %q is at revision %d; roll back to an earlier one (see helm history %s -n %s)", revision, rel.Name, rel.Version, rel.Name, rel.Namespace))
	}
	old, err := u.cfg.Helm.Releases.Get(rel.Name, revision)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, ref, exit.InputError(fmt.Errorf("revision %d of release %q is not in its history any more (Helm keeps --history-max revisions; see helm history %s -n %s)", revision, rel.Name, rel.Name, rel.Namespace))
	}
	if err != nil {
		return nil, ref, fmt.Errorf("revision %d of release %q: %w", revision, rel.Name, err)
	}
	ch := previousChart(old, nil)
	if ch == nil {
		v := old.Chart.Metadata.Version
		return nil, ref, exit.InputError(fmt.Errorf("revision %d (chart %s-%s) was made by helm alone, which stored its chart without the library chart it renders with, so it cannot be rendered again with a savepoint to start from; upgrade to that chart and values instead: helm get values %s -n %s --revision %d -o yaml > values.yaml && helm flink upgrade %s CHART --version %s --reset-values -f values.yaml",
			revision, old.Chart.Name(), v, rel.Name, rel.Namespace, revision, rel.Name, v))
	}
	mode := act.ChartMode(ch)
	if was := rel.Mode(); was != mode {
		return nil, ref, exit.InputError(fmt.Errorf("revision %d of release %q is a %s cluster and the release is a %s cluster now: uninstall and install instead", revision, rel.Name, mode, was))
	}
	next := &target{chart: ch, mode: mode, revisionValues: rollbackValues(old, rel.Release, mode, "")}
	if next.merged, err = values.ForChart(ch, next.values); err != nil {
		return nil, ref, exit.InputError(fmt.Errorf("the values of revision %d: %w", revision, err))
	}
	next.rollback = &rollbackState{revision: revision, state: u.State}
	next.description = u.Description
	if next.description == "" {
		next.description = fmt.Sprintf("Rollback to %d", revision)
	}
	if mode == act.Application {
		r, err := u.cfg.Savepoints(rel.Name)
		if err != nil {
			return nil, ref, err
		}
		if next.rollback.entries, err = r.List(ctx); err != nil {
			return nil, ref, err
		}
	}
	return next, act.ChartRef{Name: ch.Name()}, nil
}

// planRollbackJob chooses the savepoint a rolled back application's job starts from, and sets
// it in the new revision's values: the one the job is stopped with when it runs (the default),
// else the newest recorded; with StateRevision the one recorded when the revision was left. A
// rollback with none is refused.
func (u *Upgrade) planRollbackJob(p *Plan, j *PlannedJob, r *rollbackState) {
	runs := j.State == string(flink.JobRunning)
	if r.state != StateRevision && runs {
		return // stopped with a savepoint and restored from it, as an upgrade
	}
	var left []savepoint.Entry
	for _, e := range r.entries {
		if e.Reason == savepoint.Upgrade {
			left = append(left, e)
		}
	}
	var from savepoint.Entry
	var err error
	if r.state == StateRevision {
		if from, err = savepoint.Newest(left, "", r.revision); err != nil {
			p.refusal = exit.InputError(fmt.Errorf("no savepoint was recorded when revision %d was left (the record %s holds %d): roll back with --state %s", r.revision, savepoint.Name(p.Release), len(r.entries), StateNewest))
			return
		}
	} else if from, err = savepoint.Newest(r.entries, "", 0); err != nil {
		p.refusal = exit.InputError(fmt.Errorf("job %s is %s and no savepoint of release %s is recorded: the rollback has no state to start it from; helm rollback %s %d starts it from scratch", j.ID, j.State, p.Release, p.Release, r.revision))
		return
	}
	if err := p.next.restoreFrom(from.Path, u.AllowNonRestoredState); err != nil {
		p.refusal = err
		return
	}
	p.Restore, p.next.restore = from.Path, from.Path
	if runs {
		j.Fate = RevisionRestored
	} else {
		j.Fate = RecordRestored
	}
}
