package cluster_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/helm-flink/helm-flink/plugin/cluster"
	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/flink"
	"github.com/helm-flink/helm-flink/plugin/internal/fake"
	"github.com/helm-flink/helm-flink/plugin/jobmanager"
)

var ctx = context.Background()

func pod(name, component string, ready bool) *corev1.Pod {
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "flink", Labels: map[string]string{
			"app.kubernetes.io/instance": "flink", "app.kubernetes.io/component": component}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: status}},
			ContainerStatuses: []corev1.ContainerStatus{{RestartCount: 1}}},
	}
}

// Status puts Helm's, Kubernetes' and Flink's parts together, each job with its outcome.
func TestStatus(t *testing.T) {
	for _, v := range fake.Versions {
		jm := fake.Serve(t, fake.Load(t, v, "overview"), fake.Load(t, v, "jobs"))
		cfg := fake.Config(t, jm, pod("flink-tm-b", "taskmanager", true), pod("flink-jm", "jobmanager", true), pod("flink-tm-a", "taskmanager", false))
		rel := fake.Install(t, cfg, "flink", "flink-session", nil)
		r, err := cluster.NewStatus(cfg).Run(ctx, rel)
		if err != nil {
			t.Fatal(err)
		}
		if r.Release.Name != "flink" || r.Release.Revision != 1 || r.Release.Status != "deployed" || !strings.HasPrefix(r.Release.Chart, "flink-session-") || r.Release.FluxOwner != "" {
			t.Errorf("%s: release %+v", v, r.Release)
		}
		if len(r.Pods) != 3 || r.Pods[0].Name != "flink-jm" || r.Pods[1].Name != "flink-tm-a" || r.Pods[1].Ready || r.Pods[2].Restarts != 1 {
			t.Errorf("%s: pods %+v", v, r.Pods)
		}
		if r.JobManagerError != "" || r.TaskManagers != 2 || r.SlotsTotal != 4 || r.FlinkVersion != v || len(r.Jobs) < 5 {
			t.Errorf("%s: flink part %+v", v, r)
		}
		for _, j := range r.Jobs {
			if j.Outcome == "" || (j.State == "RUNNING" && j.Outcome != flink.Starting) {
				t.Errorf("%s: job %+v", v, j)
			}
		}
	}
}

// A JobManager that cannot be reached still gives the Kubernetes part, with the reason.
func TestStatusWithoutJobManager(t *testing.T) {
	cfg := fake.Config(t, "", pod("flink-jm", "jobmanager", false))
	rel := fake.Install(t, cfg, "flink", "flink-session", nil)
	r, err := cluster.NewStatus(cfg).Run(ctx, rel)
	if err != nil || len(r.Pods) != 1 || !strings.Contains(r.JobManagerError, "no ready pod") || r.Jobs != nil {
		t.Fatalf("%+v, %v", r, err)
	}
}

func TestJobActions(t *testing.T) {
	v := "2.3.0"
	canceled := fake.Load(t, v, "job-canceled")
	id := strings.TrimPrefix(canceled.Request.Path, "/jobs/")
	trigger, taken := fake.Load(t, v, "savepoint-trigger"), fake.Load(t, v, "savepoint-completed")
	cfg := fake.Config(t, fake.Serve(t, fake.Load(t, v, "jobs"), fake.Load(t, v, "job-running").At(canceled.Route()),
		fake.Load(t, v, "cancel"), canceled, trigger, taken))
	rel := fake.Install(t, cfg, "flink", "flink-session", nil)
	if jobs, err := cluster.NewJobs(cfg).Run(ctx, rel); err != nil || len(jobs) < 5 {
		t.Fatalf("jobs: %v %v", jobs, err)
	}
	if err := cluster.NewCancel(cfg).Run(ctx, rel, id); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	sp := cluster.NewSavepoint(cfg)
	// A directory in a pod's own file system is refused before the JobManager is asked.
	sp.Dir = "file:///sp"
	if _, err := sp.Run(ctx, rel, id); exit.Code(err) != exit.Input || !strings.Contains(err.Error(), "--dir: savepoint directory is on the pod's own file system") {
		t.Fatalf("savepoint into a pod's own file system: %v", err)
	}
	sp.Dir = "s3://bucket/sp"
	// The job is CANCELED by now: a savepoint is refused as the user's mistake.
	if _, err := sp.Run(ctx, rel, id); exit.Code(err) != exit.Input {
		t.Fatalf("savepoint of a cancelled job: exit %d: %v", exit.Code(err), err)
	}
	sid := strings.Split(trigger.Request.Path, "/")[2]
	cfg = fake.Config(t, fake.Serve(t, fake.Load(t, v, "job-running").At("GET /jobs/"+sid), trigger, taken))
	rel = fake.Install(t, cfg, "flink", "flink-session", map[string]any{"persistence": map[string]any{"enabled": true}})
	sp = cluster.NewSavepoint(cfg)
	sp.Dir = "file:///flink-data/sp"
	if loc, err := sp.Run(ctx, rel, sid); err != nil || !strings.Contains(loc, "savepoint-") {
		t.Fatalf("savepoint: %q %v", loc, err)
	}
}

// Status judges the release's health: a failed or restarting job, the release's own job missing
// (an application's, by id; the session chart's submit.jobName, by name), or none of these.
func TestStatusHealth(t *testing.T) {
	v := "1.20.0"
	running := fake.Load(t, v, "jobs-running")
	for _, c := range []struct {
		name, chart, jobs string
		vals              map[string]any
		want              jobmanager.Health
	}{
		{"a session's jobs run", "flink-session", "jobs-running", nil, jobmanager.Healthy},
		{"a session's job failed", "flink-session", "jobs-failed", nil, jobmanager.JobFailing},
		{"a session's job restarts", "flink-session", "jobs-restarting", nil, jobmanager.JobFailing},
		{"the session chart's job runs", "flink-session", "jobs-running", map[string]any{"submit": map[string]any{"enabled": true, "jobName": "CarTopSpeedWindowingExample"}}, jobmanager.Healthy},
		{"the session chart's job is not there", "flink-session", "jobs-running", map[string]any{"submit": map[string]any{"enabled": true, "jobName": "Fraud"}}, jobmanager.JobMissing},
		{"another job than the application's", "flink-job", "jobs-running", nil, jobmanager.JobMissing},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.vals != nil && c.chart == "flink-session" {
				c.vals["persistence"] = map[string]any{"enabled": true}
			}
			cfg := fake.Config(t, fake.Serve(t, fake.Load(t, v, "overview"), fake.Load(t, v, c.jobs)))
			rel := fake.Install(t, cfg, "flink", c.chart, c.vals)
			r, err := cluster.NewStatus(cfg).Run(ctx, rel)
			if err != nil || r.Health != c.want || (c.want == jobmanager.Healthy) != (r.Problem == "") {
				t.Fatalf("health %q (%s), %v; want %q", r.Health, r.Problem, err, c.want)
			}
		})
	}
	// The application's own job, by id, running.
	cfg := fake.Config(t, "")
	rel := fake.Install(t, cfg, "app", "flink-job", nil)
	id, _ := rel.JobID()
	var body struct {
		Jobs []struct{ JID string } `json:"jobs"`
	}
	if err := json.Unmarshal(running.Body, &body); err != nil || len(body.Jobs) != 1 {
		t.Fatalf("jobs-running: %v", err)
	}
	cfg.RESTURL = fake.Serve(t, fake.Load(t, v, "overview"), running.Renamed(body.Jobs[0].JID, id))
	if r, err := cluster.NewStatus(cfg).Run(ctx, rel); err != nil || r.Health != jobmanager.Healthy {
		t.Fatalf("the application's job runs: %q (%s) %v", r.Health, r.Problem, err)
	}
}
