package upgrade

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/flink"
	"github.com/helm-flink/helm-flink/plugin/internal/fake"
	"github.com/helm-flink/helm-flink/plugin/jobmanager"
	"github.com/helm-flink/helm-flink/plugin/savepoint"
	"github.com/helm-flink/helm-flink/plugin/values"
	"github.com/helm-flink/helm-flink/schema"
)

var ctx = context.Background()

func ref(name string) act.ChartRef { return act.ChartRef{Name: "../../charts/" + name} }

// The new revision's values: the user's over the release's with --reuse-values (the stored
// release untouched), and for an application a job id of the new revision unless one is fixed.
func TestNextValues(t *testing.T) {
	cfg := fake.Config(t, "")
	app := fake.Install(t, cfg, "app", "flink-job", map[string]any{"parallelism": 2, "job": map[string]any{"entryClass": "a.B"}})
	got := nextValues(app.Release, map[string]any{"parallelism": 3}, true, act.Application)
	want := map[string]any{"parallelism": 3, "job": map[string]any{"entryClass": "a.B", "jobId": revisionJobID("flink", "app", 2)}}
	if !reflect.DeepEqual(got.values, want) || !reflect.DeepEqual(got.own, []string{"job.jobId"}) {
		t.Errorf("reuse: %v (own %v), want %v", got.values, got.own, want)
	}
	if _, leaked := app.Config["job"].(map[string]any)["jobId"]; leaked || app.Config["parallelism"] != 2 {
		t.Errorf("the stored release was written into: %v", app.Config)
	}
	fixed := map[string]any{"job": map[string]any{"jobId": "0000000000000000000000000000000f"}}
	if got := nextValues(app.Release, fixed, false, act.Application); got.values["job"].(map[string]any)["jobId"] != "0000000000000000000000000000000f" || len(got.own) != 0 {
		t.Errorf("a job id the values fix stays: %v", got)
	}
	if got := nextValues(app.Release, map[string]any{"a": 1}, false, act.Session); !reflect.DeepEqual(got.values, map[string]any{"a": 1}) {
		t.Errorf("a session's values stay the user's: %v", got)
	}
	ids := map[string]bool{revisionJobID("flink", "app", 2): true, revisionJobID("flink", "app", 3): true, revisionJobID("other", "app", 2): true}
	for id := range ids {
		if !flink.IsJobID(id) {
			t.Errorf("%q is no job id", id)
		}
	}
	if len(ids) != 3 {
		t.Error("job ids must differ per namespace, release and revision")
	}
}

// What the plugin set for one revision (job id, savepoint) is not the next revision's user
// values: two --reuse-values upgrades in a row start from the user's values only, and the
// release labels record what the plugin owns, dropping the previous record.
func TestPluginValuesDoNotLeak(t *testing.T) {
	cfg := fake.Config(t, "")
	rel := fake.Install(t, cfg, "app", "flink-job", map[string]any{"parallelism": 2, "job": map[string]any{"entryClass": "a.B"}}).Release
	first := nextValues(rel, map[string]any{"parallelism": 3}, true, act.Application)
	restoreFrom(first, "file:/flink-data/savepoints/savepoint-1", false)
	if l := first.labels(rel); l[ownedPrefix+"job.jobId"] != "true" || l[ownedPrefix+"job.fromSavepoint"] != "true" {
		t.Fatalf("labels of the first upgrade: %v", l)
	}
	// The first upgrade's revision as Helm stores it.
	rel2 := *rel
	rel2.Version, rel2.Config, rel2.Labels = 2, first.values, map[string]string{}
	for k, v := range first.labels(rel) {
		rel2.Labels[k] = v
	}
	second := nextValues(&rel2, map[string]any{"taskmanager": map[string]any{"replicas": 3}}, true, act.Application)
	job := second.values["job"].(map[string]any)
	if _, leaked := job["fromSavepoint"]; leaked {
		t.Errorf("the first upgrade's savepoint leaked into the second: %v", second.values)
	}
	if job["jobId"] != revisionJobID("flink", "app", 3) || job["entryClass"] != "a.B" || second.values["parallelism"] != 3 {
		t.Errorf("second upgrade's values: %v", second.values)
	}
	if l := second.labels(&rel2); l[ownedPrefix+"job.fromSavepoint"] != "null" || l[ownedPrefix+"job.jobId"] != "true" {
		t.Errorf("labels of the second upgrade: %v", l)
	}
	// A savepoint the user gives is the user's and stays.
	rel3 := rel2
	rel3.Config = map[string]any{"job": map[string]any{"fromSavepoint": "s3://b/sp-1"}}
	rel3.Labels = map[string]string{}
	if got := nextValues(&rel3, nil, true, act.Application); got.values["job"].(map[string]any)["fromSavepoint"] != "s3://b/sp-1" {
		t.Errorf("the user's own savepoint was dropped: %v", got.values)
	}
}

// Which job gets the savepoint, and how the new revision starts from it.
func TestSavepointOfTheRunningJob(t *testing.T) {
	jobs := []jobmanager.Job{{ID: "a", State: "FINISHED"}, {ID: "b", State: "RUNNING"}}
	if running("a", jobs) || !running("b", jobs) || running("c", jobs) {
		t.Error("only the application's own running job is stopped")
	}
	vals := &revisionValues{values: map[string]any{"job": map[string]any{"jobId": "x"}}}
	restoreFrom(vals, "file:/sp/savepoint-1", true)
	want := map[string]any{"jobId": "x", "fromSavepoint": "file:/sp/savepoint-1", "allowNonRestoredState": true}
	if !reflect.DeepEqual(vals.values["job"], want) {
		t.Errorf("%v", vals.values)
	}
	vals = &revisionValues{values: map[string]any{}}
	if restoreFrom(vals, "s", false); !reflect.DeepEqual(vals.values, map[string]any{"job": map[string]any{"fromSavepoint": "s"}}) {
		t.Errorf("%v", vals.values)
	}
}

// plannedSession is a session release "flink" whose JobManager runs one job (Flink 1.20's real
// answers: TopSpeedWindowing, RUNNING), with the user's values.
func plannedSession(t *testing.T, vals map[string]any) (*Upgrade, *act.Release) {
	t.Helper()
	running := fake.Load(t, "1.20.0", "job-running")
	url := fake.Serve(t, fake.Load(t, "1.20.0", "jobs-running").Renamed("", ""), running)
	cfg := fake.Config(t, url)
	rel := fake.Install(t, cfg, "flink", "flink-session", vals)
	return New(cfg), rel
}

// The plan of a session upgrade from the chart's own renders and the JobManager's real answers:
// what changes (none, objects, scale, pods replaced, JobManager restart), what happens to the
// running job, and which upgrades are refused — and planning changes nothing.
func TestPlanSession(t *testing.T) {
	for _, tc := range []struct {
		name, set string
		force, ha bool
		change    Change
		fate      Fate
		refused   string
	}{
		{"nothing", "", false, false, NoChange, KeepsRunning, ""},
		{"the REST Service only", "jobmanager.service.type=NodePort", false, false, ObjectsOnly, KeepsRunning, ""},
		{"more TaskManagers", "taskmanager.replicas=3", false, false, ScaleOnly, KeepsRunning, ""},
		{"TaskManager memory", "taskmanager.memoryProcessSize=2g", false, false, JobManagerRestarts, Lost, "without HA Flink would lose 1 running job(s): "},
		{"config, forced", `flinkConfiguration.execution\.checkpointing\.interval=10s`, true, false, JobManagerRestarts, Lost, ""},
		{"config with HA", `flinkConfiguration.execution\.checkpointing\.interval=10s`, false, true, JobManagerRestarts, CheckpointRecovered, ""},
		{"too few slots", "taskmanager.replicas=0", false, false, ScaleOnly, StoppedForSlots, "this upgrade leaves 0 task slots"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var vals map[string]any
			if tc.ha {
				vals = map[string]any{"highAvailability": map[string]any{"enabled": true, "storageDir": "s3://b/ha"}, "objectStorage": s3FromNodes}
			}
			u, before := plannedSession(t, vals)
			u.Force, u.ReuseValues = tc.force, true
			var set []string
			if tc.set != "" {
				set = []string{tc.set}
			}
			p, err := u.Plan(ctx, before, ref("flink-session"), values.Options{Values: set})
			if err != nil {
				t.Fatal(err)
			}
			if p.Change != tc.change || len(p.Jobs) != 1 || p.Jobs[0].Fate != tc.fate || !strings.Contains(p.Refused, tc.refused) || (tc.refused == "") != (p.Refused == "") {
				t.Fatalf("plan %+v, want change %s, the job %q, refused %q", p, tc.change, tc.fate, tc.refused)
			}
			if (p.Change == NoChange) != (len(p.Objects) == 0) {
				t.Fatalf("change %s with objects %v", p.Change, p.Objects)
			}
			if got, err := u.cfg.Helm.Releases.Last("flink"); err != nil || got.Version != before.Version {
				t.Fatalf("planning made revision %d (%v)", got.Version, err)
			}
		})
	}
}

// A session job across an upgrade that replaces the JobManager without HA: where the session
// keeps uploaded jars on its claim, a job the plugin ran from a kept jar is stopped with a
// savepoint and run again from it; the chart's own job (submit.enabled) is carried by the
// chart's hooks; one the plugin has no record of, or any job of a session that keeps no jar,
// would be lost, and refuses the upgrade naming why.
func TestPlanSessionJobsAcrossAReplacedJobManager(t *testing.T) {
	persistence := map[string]any{"persistence": map[string]any{"enabled": true}}
	id := fake.Load(t, "1.20.0", "job-running").JobID()
	for _, tc := range []struct {
		name     string
		vals     map[string]any
		recorded bool
		fate     Fate
		refused  string
	}{
		{"kept and recorded", persistence, true, Resubmitted, ""},
		{"kept, not recorded", persistence, false, Lost, "not submitted by helm flink, ConfigMap flink-flink-jobs has no entry for it"},
		{"not kept", nil, true, Lost, "its jar is not kept: a session keeps uploaded jars with persistence.enabled"},
		{"the chart's job", map[string]any{"persistence": map[string]any{"enabled": true}, "submit": map[string]any{"enabled": true}}, false, HookRestored, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, rel := plannedSession(t, tc.vals)
			u.ReuseValues = true
			if tc.recorded {
				u.cfg.RecordSubmission(ctx, rel, savepoint.Submission{JobID: id, JarID: "1234_job.jar", Parallelism: 2}, "")
			}
			p, err := u.Plan(ctx, rel, ref("flink-session"), values.Options{Values: []string{"taskmanager.memoryProcessSize=2g"}})
			if err != nil {
				t.Fatal(err)
			}
			if p.Change != JobManagerRestarts || len(p.Jobs) != 1 || p.Jobs[0].Fate != tc.fate || !strings.Contains(p.Refused, tc.refused) || (tc.refused == "") != (p.Refused == "") {
				t.Fatalf("plan %+v, want the job %q, refused %q", p, tc.fate, tc.refused)
			}
			if tc.fate == Resubmitted && (len(p.resubmit) != 1 || p.submission(id).JarID != "1234_job.jar" || p.submission(id).Parallelism != 2) {
				t.Fatalf("runs again %+v", p.resubmit)
			}
		})
	}
}

// The plan of an application upgrade: the job crosses by a savepoint, or with last-state its
// latest checkpoint; a parallelism change is shown; without a savepoint or HA its state is lost.
func TestPlanApplication(t *testing.T) {
	running := fake.Load(t, "1.20.0", "jobs-running")
	cfg := fake.Config(t, "")
	rel := fake.Install(t, cfg, "app", "flink-job", map[string]any{"parallelism": 2,
		"highAvailability": map[string]any{"enabled": false}})
	id, err := rel.JobID()
	if err != nil {
		t.Fatal(err)
	}
	cfg.RESTURL = fake.Serve(t, running.Renamed(running.JobID(), id).Renamed(firstJobID(t, running), id))
	u := New(cfg)
	u.ReuseValues = true
	p, err := u.Plan(ctx, rel, ref("flink-job"), values.Options{Values: []string{"parallelism=3"}})
	if err != nil {
		t.Fatal(err)
	}
	j := p.Jobs[0]
	if p.Change != JobManagerRestarts || j.ID != id || j.Fate != SavepointRestored || !reflect.DeepEqual(j.Parallelism, []int{2, 3}) || p.Refused != "" || !p.TouchesState() {
		t.Fatalf("plan %+v, job %+v", p, j)
	}
	u.NoSavepoint = true
	if p, err := u.Plan(ctx, rel, ref("flink-job"), values.Options{}); err != nil || p.Jobs[0].Fate != Lost {
		t.Fatalf("--no-savepoint without HA: %+v %v", p, err)
	}
}

// firstJobID is the first job id in an answer's body.
func firstJobID(t *testing.T, a fake.Answer) string {
	t.Helper()
	var body struct {
		Jobs []struct{ JID string } `json:"jobs"`
	}
	if err := json.Unmarshal(a.Body, &body); err != nil || len(body.Jobs) == 0 {
		t.Fatalf("no job in %s: %v", a.Body, err)
	}
	return body.Jobs[0].JID
}

// Guards before anything changes: Flux's releases, another kind of chart, invalid values.
func TestGuards(t *testing.T) {
	cfg := fake.Config(t, "")
	rel := fake.Install(t, cfg, "flink", "flink-session", nil)
	u := New(cfg)
	_, err := u.prepare(rel, ref("flink-job"), values.Options{})
	if exit.Code(err) != exit.Input || !strings.Contains(err.Error(), "is a session cluster and chart flink-job is a application cluster") {
		t.Errorf("another mode: %v", err)
	}
	_, err = u.prepare(rel, ref("flink-session"), values.Options{Values: []string{"taskmanager.replica=3"}})
	var invalid *schema.InvalidError
	if !errors.As(err, &invalid) || exit.Code(err) != exit.Input {
		t.Errorf("invalid values: %v", err)
	}
	rel.Labels = map[string]string{"helm.toolkit.fluxcd.io/name": "flink"}
	if _, err := u.Run(ctx, rel, ref("flink-session"), values.Options{}); exit.Code(err) != exit.Input || !strings.Contains(err.Error(), "undo this upgrade") {
		t.Errorf("a Flux release: %v", err)
	}
}

// last-state keeps the application's job id (HA recovers it from its checkpoint) and needs HA.
func TestLastState(t *testing.T) {
	cfg := fake.Config(t, "")
	ha := map[string]any{"highAvailability": map[string]any{"enabled": true, "storageDir": "s3://b/ha"}, "objectStorage": s3FromNodes}
	app := fake.Install(t, cfg, "app", "flink-job", ha)
	id, err := app.JobID()
	if err != nil {
		t.Fatal(err)
	}
	next := &target{revisionValues: nextValues(app.Release, map[string]any{"parallelism": 3}, true, act.Application), merged: ha}
	if err := lastState(app, next, act.Application); err != nil {
		t.Fatal(err)
	}
	if got := next.values["job"].(map[string]any)["jobId"]; got != id {
		t.Errorf("last-state job id %v, want the running job's %s", got, id)
	}
	noHA := &target{revisionValues: nextValues(app.Release, nil, false, act.Application), merged: map[string]any{}}
	if err := lastState(app, noHA, act.Application); exit.Code(err) != exit.Input || !strings.Contains(err.Error(), "needs Kubernetes HA") {
		t.Errorf("last-state without HA: %v", err)
	}
	if err := (&Upgrade{Mode: "fast"}).Validate(); exit.Code(err) != exit.Input {
		t.Errorf("--upgrade-mode fast: %v", err)
	}
}

// A rollback plans as an upgrade to the revision's chart and values: the job is stopped with a
// savepoint and started from the newest state, or from the savepoint recorded when the revision
// was left; with none to start from it is refused.
func TestPlanRollback(t *testing.T) {
	cfg := fake.Config(t, "")
	fake.Install(t, cfg, "app", "flink-job", map[string]any{"parallelism": 2})
	ch, err := cfg.LoadChart(ref("flink-job"))
	if err != nil {
		t.Fatal(err)
	}
	up := action.NewUpgrade(cfg.Helm)
	up.Namespace, up.ReuseValues = "flink", true
	done, err := up.Run("app", ch, map[string]any{"parallelism": 3, "job": map[string]any{"jobId": revisionJobID("flink", "app", 2)}})
	if err != nil {
		t.Fatal(err)
	}
	rel, err := act.Read(done)
	if err != nil {
		t.Fatal(err)
	}
	id, err := rel.JobID()
	if err != nil {
		t.Fatal(err)
	}
	plan := func(answer string, state string) *Plan {
		t.Helper()
		a := fake.Load(t, "1.20.0", answer)
		cfg.RESTURL = fake.Serve(t, a.Renamed(firstJobID(t, a), id))
		u := New(cfg)
		u.State = state
		p, err := u.RollbackPlan(ctx, rel, 0)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	p := plan("jobs-running", StateNewest)
	j := p.Jobs[0]
	if p.RollbackTo != 1 || p.Change != JobManagerRestarts || j.Fate != SavepointRestored || !reflect.DeepEqual(j.Parallelism, []int{3, 2}) || p.Refused != "" || p.Restore != "" {
		t.Fatalf("rollback plan %+v, job %+v", p, j)
	}
	if got := p.next.values["job"].(map[string]any)["jobId"]; got != revisionJobID("flink", "app", 3) {
		t.Fatalf("the rollback's job id %v, want the new revision's", got)
	}
	if p := plan("jobs-running", StateRevision); !strings.Contains(p.Refused, "no savepoint was recorded when revision 1 was left") {
		t.Fatalf("--state revision without a record: %+v", p)
	}
	if p := plan("jobs-failed", StateNewest); !strings.Contains(p.Refused, "no savepoint of release app is recorded") {
		t.Fatalf("a job that does not run, no record: %+v", p)
	}

	cfg.RecordSavepoint(ctx, rel, savepoint.Entry{Revision: 1, JobID: revisionJobID("flink", "app", 1), Path: "file:///sp/left-1", Reason: savepoint.Upgrade})
	cfg.RecordSavepoint(ctx, rel, savepoint.Entry{Revision: 2, JobID: id, Path: "file:///sp/manual-2", Reason: savepoint.Manual})
	for _, c := range []struct {
		answer, state string
		fate          Fate
		restore       string
	}{
		{"jobs-running", StateRevision, RevisionRestored, "file:///sp/left-1"},
		{"jobs-failed", StateNewest, RecordRestored, "file:///sp/manual-2"},
		{"jobs-failed", StateRevision, RecordRestored, "file:///sp/left-1"},
	} {
		p := plan(c.answer, c.state)
		from := p.next.values["job"].(map[string]any)["fromSavepoint"]
		if p.Refused != "" || p.Jobs[0].Fate != c.fate || p.Restore != c.restore || from != c.restore {
			t.Errorf("%s, --state %s: fate %q, restore %q, job.fromSavepoint %v, refused %q; want %q from %s", c.answer, c.state, p.Jobs[0].Fate, p.Restore, from, p.Refused, c.fate, c.restore)
		}
	}

	u := New(cfg)
	for _, rev := range []int{2, 5} {
		if _, err := u.RollbackPlan(ctx, rel, rev); exit.Code(err) != exit.Input || !strings.Contains(err.Error(), "roll back to an earlier one") {
			t.Errorf("revision %d: %v", rev, err)
		}
	}
	u.State = "oldest"
	if err := u.Validate(); exit.Code(err) != exit.Input {
		t.Errorf("--state oldest: %v", err)
	}
}

// s3FromNodes enables the S3 file system with the nodes' credentials.
var s3FromNodes = map[string]any{"plugins": []any{"s3-fs-presto"}, "credentials": map[string]any{"fromEnvironment": true}}
