package upgrade

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/flink"
	"github.com/helm-flink/helm-flink/plugin/internal/fake"
	"github.com/helm-flink/helm-flink/plugin/jobmanager"
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
	got := nextValues(app, map[string]any{"parallelism": 3}, true, act.Application)
	want := map[string]any{"parallelism": 3, "job": map[string]any{"entryClass": "a.B", "jobId": revisionJobID("flink", "app", 2)}}
	if !reflect.DeepEqual(got.values, want) || !reflect.DeepEqual(got.own, []string{"job.jobId"}) {
		t.Errorf("reuse: %v (own %v), want %v", got.values, got.own, want)
	}
	if _, leaked := app.Config["job"].(map[string]any)["jobId"]; leaked || app.Config["parallelism"] != 2 {
		t.Errorf("the stored release was written into: %v", app.Config)
	}
	fixed := map[string]any{"job": map[string]any{"jobId": "0000000000000000000000000000000f"}}
	if got := nextValues(app, fixed, false, act.Application); got.values["job"].(map[string]any)["jobId"] != "0000000000000000000000000000000f" || len(got.own) != 0 {
		t.Errorf("a job id the values fix stays: %v", got)
	}
	if got := nextValues(app, map[string]any{"a": 1}, false, act.Session); !reflect.DeepEqual(got.values, map[string]any{"a": 1}) {
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
	rel := fake.Install(t, cfg, "app", "flink-job", map[string]any{"parallelism": 2, "job": map[string]any{"entryClass": "a.B"}})
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

// What restarts, from the chart's own renders: scaling TaskManagers leaves the JobManager's pod
// alone, a Flink configuration change (its checksum is on the pod) replaces it.
func TestJobManagerRestarts(t *testing.T) {
	cfg := fake.Config(t, "")
	fake.Install(t, cfg, "flink", "flink-session", nil)
	u := New(cfg)
	for _, tc := range []struct {
		set  string
		want bool
	}{
		{"taskmanager.replicas=3", false},
		{"tests.enabled=false", false},
		{`flinkConfiguration.execution\.checkpointing\.interval=10s`, true},
		{"jobmanager.memoryProcessSize=2g", true},
	} {
		next, err := u.prepare(ref("flink-session"), values.Options{Values: []string{tc.set}})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := u.jobManagerRestarts(ctx, next); err != nil || got != tc.want {
			t.Errorf("--set %s: restarts %v (%v), want %v", tc.set, got, err, tc.want)
		}
	}
	if got, err := jobManagerRestarts(cfg.Release.Manifest, cfg.Release.Manifest); err != nil || got {
		t.Errorf("the same manifest restarts nothing: %v %v", got, err)
	}
}

// The session guard: refused only with running jobs, no HA, no --force, and a JobManager that
// would restart; the render is asked only when it decides.
func TestRefuseSession(t *testing.T) {
	runs := []jobmanager.Job{{ID: "j1", Name: "TopSpeed", State: "RUNNING"}, {ID: "j2", State: "FINISHED"}}
	renderErr := errors.New("render failed")
	for _, tc := range []struct {
		name      string
		jobs      []jobmanager.Job
		ha, force bool
		restarts  bool
		err       error
		want      int // exit code, 0 for allowed
		rendered  bool
	}{
		{"no running job", runs[1:], false, false, true, nil, exit.OK, false},
		{"HA keeps the jobs", runs, true, false, true, nil, exit.OK, false},
		{"forced", runs, false, true, true, nil, exit.OK, false},
		{"JobManager stays", runs, false, false, false, nil, exit.OK, true},
		{"render fails", runs, false, false, false, renderErr, exit.Other, true},
		{"refused", runs, false, false, true, nil, exit.Input, true},
	} {
		rendered := false
		err := refuseSession("flink", tc.jobs, tc.ha, tc.force, func() (bool, error) { rendered = true; return tc.restarts, tc.err })
		if exit.Code(err) != tc.want || rendered != tc.rendered {
			t.Errorf("%s: exit %d (%v), rendered %v", tc.name, exit.Code(err), err, rendered)
		}
		if tc.want == exit.Input && (!strings.Contains(err.Error(), "1 running job(s): j1 (TopSpeed)") || !strings.Contains(err.Error(), "helm flink stop flink JOB")) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// Guards before anything changes: Flux's releases, another kind of chart, invalid values.
func TestGuards(t *testing.T) {
	cfg := fake.Config(t, "")
	fake.Install(t, cfg, "flink", "flink-session", nil)
	u := New(cfg)
	_, err := u.prepare(ref("flink-job"), values.Options{})
	if exit.Code(err) != exit.Input || !strings.Contains(err.Error(), "is a session cluster and chart flink-job is a application cluster") {
		t.Errorf("another mode: %v", err)
	}
	_, err = u.prepare(ref("flink-session"), values.Options{Values: []string{"taskmanager.replica=3"}})
	var invalid *schema.InvalidError
	if !errors.As(err, &invalid) || exit.Code(err) != exit.Input {
		t.Errorf("invalid values: %v", err)
	}
	cfg.Release.Labels = map[string]string{"helm.toolkit.fluxcd.io/name": "flink"}
	if _, err := u.Run(ctx, ref("flink-session"), values.Options{}); exit.Code(err) != exit.Input || !strings.Contains(err.Error(), "undo this upgrade") {
		t.Errorf("a Flux release: %v", err)
	}
}

// last-state keeps the application's job id (HA recovers it from its checkpoint) and needs HA.
func TestLastState(t *testing.T) {
	cfg := fake.Config(t, "")
	ha := map[string]any{"highAvailability": map[string]any{"enabled": true, "storageDir": "s3://b/ha"}}
	app := fake.Install(t, cfg, "app", "flink-job", ha)
	id, err := act.JobID(app)
	if err != nil {
		t.Fatal(err)
	}
	next := &target{revisionValues: nextValues(app, map[string]any{"parallelism": 3}, true, act.Application), merged: ha}
	if err := lastState(app, next, act.Application); err != nil {
		t.Fatal(err)
	}
	if got := next.values["job"].(map[string]any)["jobId"]; got != id {
		t.Errorf("last-state job id %v, want the running job's %s", got, id)
	}
	noHA := &target{revisionValues: nextValues(app, nil, false, act.Application), merged: map[string]any{}}
	if err := lastState(app, noHA, act.Application); exit.Code(err) != exit.Input || !strings.Contains(err.Error(), "needs Kubernetes HA") {
		t.Errorf("last-state without HA: %v", err)
	}
	if err := (&Upgrade{Mode: "fast"}).Validate(); exit.Code(err) != exit.Input {
		t.Errorf("--upgrade-mode fast: %v", err)
	}
}
