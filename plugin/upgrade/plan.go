package upgrade

import (
	"context"
	"fmt"
	"strings"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/flink"
	"github.com/helm-flink/helm-flink/plugin/jobmanager"
	"github.com/helm-flink/helm-flink/plugin/manifest"
	"github.com/helm-flink/helm-flink/plugin/savepoint"
	"github.com/helm-flink/helm-flink/plugin/values"
	"github.com/helm-flink/helm-flink/schema"
)

// Change is what an upgrade does to the running cluster, from the least disruptive.
type Change string

// Changes of a Plan.
const (
	// NoChange: the new revision renders the same objects.
	NoChange Change = "none"
	// ObjectsOnly: objects change, but no Flink pod is scaled or replaced.
	ObjectsOnly Change = "objects"
	// ScaleOnly: TaskManagers are added or removed; nothing is replaced.
	ScaleOnly Change = "scale"
	// PodsReplaced: TaskManager pods are replaced; the JobManager stays.
	PodsReplaced Change = "replace"
	// JobManagerRestarts: the JobManager is replaced, and with it what its jobs run on.
	JobManagerRestarts Change = "restart"
)

// Fate is what an upgrade does to a job.
type Fate string

// Fates of a PlannedJob.
const (
	KeepsRunning Fate = "keeps running"
	NotRunning   Fate = "not running"
	// SavepointRestored: stopped with a savepoint, which the new revision starts from.
	SavepointRestored Fate = "stopped with a savepoint and restored from it"
	// CheckpointRecovered: with Kubernetes HA the new JobManager recovers it from its latest
	// checkpoint.
	CheckpointRecovered Fate = "recovered from its latest checkpoint (HA)"
	// StoppedForSlots: a session job stopped with a savepoint (--stop-jobs), to be resubmitted.
	StoppedForSlots Fate = "stopped with a savepoint (too few slots left)"
	// RevisionRestored: a rollback's job stopped with a savepoint and started from the one taken
	// when the revision rolled back to was left.
	RevisionRestored Fate = "stopped with a savepoint and started from the one taken when the revision was left"
	// RecordRestored: a rollback's job that does not run started from a recorded savepoint.
	RecordRestored Fate = "started from a recorded savepoint"
	// HookRestored: the session chart's own job (submit.enabled), which the chart's pre-upgrade
	// hook stops with a savepoint and its post-upgrade hook resumes from it.
	HookRestored Fate = "stopped with a savepoint and restored from it by the chart's hooks"
	// Resubmitted: a session job stopped with a savepoint and run again from its kept jar once
	// the new JobManager is up.
	Resubmitted Fate = "stopped with a savepoint and run again from its kept jar"
	// Lost: the job ends without its state kept (it starts from scratch, or not at all).
	Lost Fate = "lost: its state is not kept"
)

// recovering are the session jobs a replaced JobManager recovers (HA); an application's job is
// waited for by its kind.
func (p *Plan) recovering() []string {
	if p.Mode != act.Session {
		return nil
	}
	var ids []string
	for _, j := range p.Jobs {
		if j.Fate == CheckpointRecovered {
			ids = append(ids, j.ID)
		}
	}
	return ids
}

// PlannedJob is a job of the cluster and what the upgrade does to it.
type PlannedJob struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	State string `json:"state"`
	Fate  Fate   `json:"fate"`
	// Parallelism is an application's before and after, when the upgrade changes it.
	Parallelism []int `json:"parallelism,omitempty"`
}

// Plan is what an upgrade will do, decided before anything is done: the new revision's values,
// what happens to each job, which objects change, or why the upgrade is refused. Run carries out
// the plan that Plan shows.
type Plan struct {
	Release   string   `json:"release"`
	Namespace string   `json:"namespace"`
	Revision  int      `json:"revision"`
	Chart     string   `json:"chart"`
	Mode      act.Mode `json:"mode"`
	Change    Change   `json:"change"`
	// HA says whether the new revision runs with Kubernetes HA.
	HA      bool                    `json:"highAvailability"`
	Jobs    []PlannedJob            `json:"jobs"`
	Objects []manifest.ObjectChange `json:"objects"`
	// Restore is the savepoint the job starts from when it is chosen before the job is stopped
	// (a rollback's); "" is the one it is stopped with.
	Restore string `json:"restore,omitempty"`
	// RollbackTo is the revision a rollback's plan returns to.
	RollbackTo int `json:"rollbackTo,omitempty"`
	// Refused is why the upgrade is refused, with the ways out; "" when it may go on.
	Refused string `json:"refused,omitempty"`

	next    *target
	refusal error
	// rendered is the new revision as the upgrade will make it (a client dry run).
	rendered *act.Release
	// savepoint is the application job to stop with a savepoint first; stop the session jobs.
	savepoint string
	stop      []heldJob
	// resubmit are the session jobs stopped with a savepoint and run again from their kept jars.
	resubmit []savepoint.Submission
	// slots are what a session keeps when it has a bound.
	slots int
}

// job is the planned job of id.
func (p *Plan) job(id string) PlannedJob {
	for _, j := range p.Jobs {
		if j.ID == id {
			return j
		}
	}
	return PlannedJob{ID: id}
}

// submission is how the plan runs the session job id again.
func (p *Plan) submission(id string) savepoint.Submission {
	for _, s := range p.resubmit {
		if s.JobID == id {
			return s
		}
	}
	return savepoint.Submission{JobID: id}
}

// TouchesState says whether the plan stops, restores, recovers or loses a job's state (a job
// that keeps running, or none, is untouched).
func (p *Plan) TouchesState() bool {
	for _, j := range p.Jobs {
		if j.Fate != KeepsRunning && j.Fate != NotRunning {
			return true
		}
	}
	return false
}

// Plan decides the upgrade of rel to the chart with the user's values from the release, the
// rendered revision and the jobs the JobManager runs, and changes nothing.
func (u *Upgrade) Plan(ctx context.Context, rel *act.Release, ref act.ChartRef, vals values.Options) (*Plan, error) {
	next, err := u.prepare(rel, ref, vals)
	if err != nil {
		return nil, err
	}
	return u.planOnly(ctx, rel, next)
}

// planOnly is the plan of the upgrade of rel to next, with nothing done.
func (u *Upgrade) planOnly(ctx context.Context, rel *act.Release, next *target) (*Plan, error) {
	p, jm, err := u.plan(ctx, rel, next)
	if err != nil {
		return nil, err
	}
	jm.Close()
	return p, nil
}

// plan is the plan of the upgrade of rel to next, with the connection to the JobManager it asked,
// for run to act through and close.
func (u *Upgrade) plan(ctx context.Context, rel *act.Release, next *target) (p *Plan, jm *jobmanager.JobManager, err error) {
	jm, err = u.cfg.Connect(ctx, rel)
	if err != nil {
		return nil, nil, fmt.Errorf("before the upgrade: %w", err)
	}
	defer func() {
		if err != nil {
			jm.Close()
		}
	}()
	jobs, err := jm.Jobs(ctx)
	if err != nil {
		return nil, nil, err
	}
	if p, err = u.decide(ctx, rel, next, jm, jobs); err != nil {
		return nil, nil, err
	}
	return p, jm, nil
}

// decide is the plan of the upgrade of rel to next, rendered, for the jobs that jm runs (none,
// and no jm, for a failed revision's JobManager, which a rollback replaces).
func (u *Upgrade) decide(ctx context.Context, rel *act.Release, next *target, jm *jobmanager.JobManager, jobs []jobmanager.Job) (*Plan, error) {
	rendered, err := u.helmUpgrade(ctx, rel, next, "client")
	if err != nil {
		return nil, err
	}
	after := rendered.Objects
	objects := manifest.Compare(rel.Objects, after)
	p := &Plan{
		Release: rel.Name, Namespace: rel.Namespace, Revision: rel.Version, Mode: next.mode,
		Chart: next.chart.Name() + "-" + next.chart.Metadata.Version, HA: haEnabled(next.merged),
		Objects: objects, Change: classify(objects), Jobs: []PlannedJob{}, next: next, rendered: rendered,
	}
	if next.rollback != nil {
		p.RollbackTo = next.rollback.revision
	}
	if p.Mode == act.Application {
		err = u.planApplication(p, rel, jobs)
	} else {
		jars := &keptJars{release: rel.Name}
		if rel.KeepsJars() && rel.Objects.KeptUploadDir() == after.KeptUploadDir() {
			jars.dir = rel.Objects.KeptUploadDir()
		}
		err = u.planSession(ctx, p, jm, jobs, jars)
	}
	if err != nil {
		return nil, err
	}
	if p.refusal != nil {
		p.Refused = p.refusal.Error()
	}
	return p, nil
}

// classify is the most disruptive change among the objects'.
func classify(objects []manifest.ObjectChange) Change {
	c := NoChange
	if len(objects) > 0 {
		c = ObjectsOnly
	}
	for _, o := range objects {
		if !o.Workload() {
			continue
		}
		pods := o.Action != manifest.Changed && o.Action != manifest.Scaled // replaced, added or removed
		switch {
		case o.Component == "jobmanager" && pods:
			return JobManagerRestarts
		case o.Component == "taskmanager" && pods:
			c = PodsReplaced
		case o.Component == "taskmanager" && o.Action == manifest.Scaled && c != PodsReplaced:
			c = ScaleOnly
		}
	}
	return c
}

// planApplication: the application's job gets an id of the new revision, so its JobManager is
// always replaced; the job crosses by a savepoint (default), its latest checkpoint (last-state
// with HA), or not at all (--no-savepoint without HA).
func (u *Upgrade) planApplication(p *Plan, rel *act.Release, jobs []jobmanager.Job) error {
	id, err := rel.JobID()
	if err != nil {
		return err
	}
	j := PlannedJob{ID: id, State: "not found", Fate: NotRunning}
	for _, x := range jobs {
		if x.ID == id {
			j.Name, j.State = x.Name, x.State
		}
	}
	if j.State == string(flink.JobRunning) {
		switch {
		case u.Mode == LastStateMode:
			j.Fate = CheckpointRecovered
		case u.NoSavepoint && p.HA:
			j.Fate = CheckpointRecovered
		case u.NoSavepoint:
			j.Fate = Lost
		default:
			j.Fate, p.savepoint = SavepointRestored, id
		}
		cur, _ := schema.Int(rel.Values["parallelism"])
		if n, ok := schema.Int(p.next.merged["parallelism"]); ok && n != cur {
			j.Parallelism = []int{int(cur), int(n)}
		}
	}
	if r := p.next.rollback; r != nil {
		u.planRollbackJob(p, &j, r)
	}
	p.Jobs = append(p.Jobs, j)
	return nil
}

// planSession: jobs that would lose their slots are stopped with savepoints (--stop-jobs) or
// refuse the upgrade; a JobManager replaced under running jobs recovers them with HA, and
// without it refuses the upgrade unless forced (Flink would forget them).
func (u *Upgrade) planSession(ctx context.Context, p *Plan, jm *jobmanager.JobManager, jobs []jobmanager.Job, jars *keptJars) error {
	stopped := map[string]bool{}
	if c, ok := schema.TaskSlots(p.next.merged); ok {
		held, err := heldJobs(ctx, jm, jobs, adaptiveScheduler(p.next.merged))
		if err != nil {
			return err
		}
		p.slots = int(c.Total())
		if lost := tooFewSlots(held, p.slots); len(lost) > 0 {
			if !u.StopJobs {
				p.refusal = refuseScaleDown(p.Release, lost, c)
			}
			for _, h := range lost {
				stopped[h.ID] = true
			}
			p.stop = lost
		}
	}
	var runs []string
	hookJob := act.SubmitJob(p.next.merged)
	for _, j := range jobs {
		pj := PlannedJob{ID: j.ID, Name: j.Name, State: j.State, Fate: NotRunning}
		switch {
		case j.State != string(flink.JobRunning):
		case stopped[j.ID]:
			pj.Fate = StoppedForSlots
		case p.Change != JobManagerRestarts:
			pj.Fate = KeepsRunning
		case p.HA:
			pj.Fate = CheckpointRecovered
		case j.Name == hookJob:
			// The hook stops the first job of the name it finds.
			pj.Fate, hookJob = HookRestored, ""
		default:
			sub, why, err := jars.of(ctx, u.cfg, j)
			if err != nil {
				return err
			}
			if why != "" {
				pj.Fate = Lost
				runs = append(runs, j.ID+" ("+j.Name+": "+why+")")
				break
			}
			pj.Fate = Resubmitted
			p.resubmit = append(p.resubmit, sub)
		}
		p.Jobs = append(p.Jobs, pj)
	}
	if len(runs) > 0 && !u.Force && p.refusal == nil {
		p.refusal = refuseSession(p.Release, runs)
	}
	return nil
}

// refuseSession refuses a session upgrade that restarts the JobManager under running jobs
// without HA that cannot run again from a kept jar, since Flink would forget those jobs.
func refuseSession(name string, runs []string) error {
	return exit.InputError(fmt.Errorf("this upgrade restarts the JobManager, and without HA Flink would lose %d running job(s): %s; stop them with savepoints first (helm flink stop %s JOB --savepoint-dir DIR), enable highAvailability, or pass --force",
		len(runs), strings.Join(runs, ", "), name))
}

// keptJars tells which session jobs can run again from a jar that a replacing JobManager finds:
// the JobManager keeps uploaded jars before and after the upgrade, in the same place, and the
// plugin recorded how it ran the job.
type keptJars struct {
	release string
	// dir is the kept upload dir; "" when the jars do not survive the upgrade.
	dir  string
	subs map[string]savepoint.Submission
}

// of is how to run job j again, or why it cannot be.
func (k *keptJars) of(ctx context.Context, cfg *act.Config, j jobmanager.Job) (savepoint.Submission, string, error) {
	if k.dir == "" {
		return savepoint.Submission{}, "its jar is not kept: a session keeps uploaded jars with persistence.enabled", nil
	}
	if k.subs == nil {
		r, err := cfg.Jobs(k.release)
		if err == nil {
			k.subs, err = r.List(ctx)
		}
		if err != nil {
			return savepoint.Submission{}, "", err
		}
	}
	sub, ok := k.subs[j.ID]
	if !ok {
		return savepoint.Submission{}, fmt.Sprintf("not submitted by helm flink, ConfigMap %s has no entry for it", savepoint.JobsName(k.release)), nil
	}
	if sub.JarID == "" {
		return savepoint.Submission{}, "submitted by the chart's submit hook, which runs only its own job (submit.jobName) again", nil
	}
	return sub, "", nil
}
