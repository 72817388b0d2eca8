package fleet

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/flink"
	"github.com/helm-flink/helm-flink/plugin/internal/fake"
	"github.com/helm-flink/helm-flink/plugin/jobmanager"
	"github.com/helm-flink/helm-flink/plugin/savepoint"
)

// jmMeta is the metadata the charts give a JobManager workload of release in ns.
func jmMeta(ns, release, chart, managedBy string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: release + "-jm", Namespace: ns, Labels: map[string]string{
		"app.kubernetes.io/instance": release, "app.kubernetes.io/name": strings.TrimSuffix(chart, "-0.5.0"),
		"helm.sh/chart": chart, "app.kubernetes.io/managed-by": managedBy,
		"app.kubernetes.io/part-of": "flink", "app.kubernetes.io/component": "jobmanager"}}
}

func deployment(meta metav1.ObjectMeta, ready int32, podLabels map[string]string) *appsv1.Deployment {
	d := &appsv1.Deployment{ObjectMeta: meta, Status: appsv1.DeploymentStatus{ReadyReplicas: ready}}
	d.Spec.Template.Labels = podLabels
	return d
}

// Releases are found by their JobManager workloads in every namespace (each kind listed once),
// with their mode and newest recorded savepoint; one whose JobManager is scaled to zero or does
// not answer is unreachable, without holding up the others.
func TestListFindsReleasesByTheirLabels(t *testing.T) {
	rec := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: savepoint.Name("a"), Namespace: "one", Labels: map[string]string{savepoint.RecordLabel: "a"}},
		Data: map[string]string{
			"20261201T000000.000000000Z-01234567": `{"revision":1,"jobId":"0123456789abcdef0123456789abcdef","path":"s3://b/old","reason":"stop","time":"2026-12-01T00:00:00Z"}`,
			"20261202T000000.000000000Z-01234567": `{"revision":2,"jobId":"0123456789abcdef0123456789abcdef","path":"s3://b/new","reason":"upgrade","time":"2026-12-02T00:00:00Z"}`,
		}}
	ha := &appsv1.StatefulSet{ObjectMeta: jmMeta("two", "b", "flink-session-0.5.0", "Helm")}
	objects := []runtime.Object{
		deployment(jmMeta("one", "a", "flink-session-0.5.0", "Helm"), 1, nil),
		deployment(jmMeta("one", "c", "flink-job-0.5.0", "Helm"), 0, map[string]string{act.TemplateHashLabel: "abc"}),
		deployment(jmMeta("one", "not-helm", "flink-job-0.5.0", "someone"), 1, nil),
		ha, rec,
	}
	l := New(fake.Config(t, "", objects...))
	l.AllNamespaces, l.Ask = true, 2*time.Second
	got, err := l.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"one/a session unreachable", "one/c native application unreachable", "two/b session unreachable"}
	if len(got) != len(want) {
		t.Fatalf("found %+v, want %v", got, want)
	}
	for i, r := range got {
		if line := r.Namespace + "/" + r.Name + " " + r.Mode + " " + string(r.Health); line != want[i] || r.Reason == "" {
			t.Errorf("release %d: %q (%s), want %q", i, line, r.Reason, want[i])
		}
	}
	if sp := got[0].LastSavepoint; sp == nil || sp.Path != "s3://b/new" || got[2].LastSavepoint != nil {
		t.Errorf("newest savepoints %+v, %+v", got[0].LastSavepoint, got[2].LastSavepoint)
	}
	if !strings.Contains(got[1].Reason, "no JobManager pod is ready") || strings.Contains(got[0].Reason, "no JobManager pod is ready") {
		t.Errorf("reasons %q, %q", got[0].Reason, got[1].Reason)
	}
	l.AllNamespaces = false // HELM_NAMESPACE=flink: none there
	if got, err := l.Run(context.Background()); err != nil || len(got) != 0 {
		t.Errorf("namespace flink: %+v %v", got, err)
	}
}

// A release's health by status's rule (jobmanager.Judge), from real Flink answers; the job the
// release defines comes from its JobManager workload's annotations.
func TestListJudgesJobs(t *testing.T) {
	for _, v := range fake.Versions {
		for _, c := range []struct {
			answer string
			own    jobmanager.Own
			want   jobmanager.Health
		}{
			{"jobs-running", jobmanager.Own{}, jobmanager.Healthy},
			{"jobs-failed", jobmanager.Own{}, jobmanager.JobFailing},
			{"jobs-restarting", jobmanager.Own{}, jobmanager.JobFailing},
			{"jobs-running", jobmanager.Own{Name: "CarTopSpeedWindowingExample"}, jobmanager.Healthy},
			{"jobs-running", jobmanager.Own{Name: "Fraud"}, jobmanager.JobMissing},
			{"jobs-running", jobmanager.Own{ID: "0123456789abcdef0123456789abcdef"}, jobmanager.JobMissing},
		} {
			l := New(fake.Config(t, ""))
			r := Release{Jobs: map[string]int{}}
			jm := &jobmanager.JobManager{REST: flink.New(fake.Serve(t, fake.Load(t, v, c.answer)))}
			if err := l.jobs(context.Background(), jm, &r, c.own); err != nil {
				t.Fatal(err)
			}
			if r.Health != c.want || (c.want == jobmanager.Healthy) != (r.Reason == "") || len(r.Jobs) == 0 {
				t.Errorf("%s %s %+v: %s (%s) %v, want %s", v, c.answer, c.own, r.Health, r.Reason, r.Jobs, c.want)
			}
		}
	}
}

// The job a release defines is read from the annotations the charts put on its JobManager.
func TestListReadsTheOwnJobFromTheWorkload(t *testing.T) {
	meta := jmMeta("one", "a", "flink-job-0.5.0", "Helm")
	meta.Annotations = map[string]string{act.OwnJobIDAnnotation: "0123456789abcdef0123456789abcdef"}
	other := jmMeta("one", "b", "flink-session-0.5.0", "Helm")
	other.Annotations = map[string]string{act.OwnJobNameAnnotation: "Fraud"}
	cs, _, err := fake.Config(t, "", deployment(meta, 0, nil), deployment(other, 0, nil)).Clientset()
	if err != nil {
		t.Fatal(err)
	}
	found, err := find(context.Background(), cs, "one")
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 2 || found[0].own != (jobmanager.Own{ID: "0123456789abcdef0123456789abcdef"}) || found[1].own != (jobmanager.Own{Name: "Fraud"}) {
		t.Errorf("found %+v", found)
	}
}

// What list reads from the charts' JobManager workloads is the job status judges by
// (act.Kind.Own of the release): for an application, a session submitting its own job, a
// session with none, in standalone and native mode.
func TestOwnJobAnnotations(t *testing.T) {
	for _, c := range []struct {
		chart string
		vals  map[string]any
	}{
		{"flink-job", map[string]any{"job": map[string]any{"entryClass": "org.example.Job"}}},
		{"flink-job", map[string]any{"mode": "native", "job": map[string]any{"entryClass": "org.example.Job", "jobId": "00000000000000000000000000000abc"}}},
		{"flink-session", nil},
		{"flink-session", map[string]any{"persistence": map[string]any{"enabled": true}, "submit": map[string]any{"enabled": true, "jobName": "Fraud"}}},
		{"flink-session", map[string]any{"highAvailability": map[string]any{"enabled": true, "storageDir": "file:///flink/ha"},
			"submit": map[string]any{"enabled": true, "jobName": "Fraud"}}},
	} {
		cfg := fake.Config(t, "")
		rel := fake.Install(t, cfg, "r", c.chart, c.vals)
		var objects []runtime.Object
		for _, o := range rel.Objects {
			if o.GetLabels()["app.kubernetes.io/component"] == "jobmanager" {
				switch o.(type) {
				case *appsv1.Deployment, *appsv1.StatefulSet:
					objects = append(objects, o)
				}
			}
		}
		cs, _, err := fake.Config(t, "", objects...).Clientset()
		if err != nil {
			t.Fatal(err)
		}
		found, err := find(context.Background(), cs, "flink")
		if err != nil || len(found) != 1 {
			t.Fatalf("%s %v: found %v, %v", c.chart, c.vals, found, err)
		}
		id, name := rel.Kind.Own(rel)
		if want := (jobmanager.Own{ID: id, Name: name}); found[0].own != want {
			t.Errorf("%s %v: list reads %+v, status judges by %+v", c.chart, c.vals, found[0].own, want)
		}
	}
}

// The last checkpoint column is the newest completed checkpoint or savepoint of a running job,
// from real Flink answers (Flink keeps a savepoint apart from checkpoints).
func TestListShowsTheNewestCheckpoint(t *testing.T) {
	for _, v := range fake.Versions {
		jobs := fake.Load(t, v, "jobs-running")
		var overview struct {
			Jobs []struct {
				ID    string `json:"jid"`
				State string `json:"state"`
			} `json:"jobs"`
		}
		if err := json.Unmarshal(jobs.Body, &overview); err != nil {
			t.Fatal(err)
		}
		running := ""
		for _, j := range overview.Jobs {
			if j.State == "RUNNING" {
				running = j.ID
			}
		}
		sp := fake.Load(t, v, "checkpoints-savepoint")
		var cp flink.Checkpoints
		if err := json.Unmarshal(sp.Body, &cp); err != nil || cp.Newest() == nil {
			t.Fatalf("%s checkpoints-savepoint: %v", v, err)
		}
		jm := &jobmanager.JobManager{REST: flink.New(fake.Serve(t, jobs, sp.At("GET /jobs/"+running+"/checkpoints")))}
		r := Release{Jobs: map[string]int{}}
		if err := New(fake.Config(t, "")).jobs(context.Background(), jm, &r, jobmanager.Own{}); err != nil {
			t.Fatal(err)
		}
		if r.LastCheckpoint == nil || !r.LastCheckpoint.Equal(cp.Newest().Acknowledged.Time) {
			t.Errorf("%s: last checkpoint %v, want the savepoint's %v", v, r.LastCheckpoint, cp.Newest().Acknowledged.Time)
		}
	}
}
