//go:build e2e

package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

type rollbackResult struct {
	Revision  int    `json:"revision"`
	Savepoint string `json:"savepoint"`
	Failure   string `json:"failure"`
	Rollback  struct {
		Revision  int         `json:"revision"`
		Savepoint string      `json:"savepoint"`
		Error     string      `json:"error"`
		Job       cliProgress `json:"job"`
	} `json:"rollback"`
}

// cliProgress is a job as upgrade and rollback print it.
type cliProgress struct {
	JobID   string `json:"jobId"`
	State   string `json:"state"`
	Running int    `json:"runningTasks"`
	Total   int    `json:"totalTasks"`
}

// cliRollback is what `helm flink rollback -o json` prints.
type cliRollback struct {
	Revision     int         `json:"revision"`
	RolledBackTo int         `json:"rolledBackTo"`
	Savepoint    string      `json:"savepoint"`
	Restored     string      `json:"restoredFrom"`
	Job          cliProgress `json:"job"`
}

// jmCrash watches the release's JobManager containers and sends when the first of them that
// was not there before exits with an error.
func jmCrash(t *testing.T, ns string) <-chan time.Time {
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	before, err := env.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=jobmanager"})
	if err != nil {
		t.Fatal(err)
	}
	old := map[string]bool{}
	for _, p := range before.Items {
		old[p.Name] = true
	}
	w, err := env.cs.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=jobmanager", ResourceVersion: before.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan time.Time, 1)
	go func() {
		defer w.Stop()
		for ev := range w.ResultChan() {
			p, ok := ev.Object.(*corev1.Pod)
			if !ok || old[p.Name] {
				continue
			}
			for _, s := range p.Status.ContainerStatuses {
				for _, st := range []corev1.ContainerState{s.State, s.LastTerminationState} {
					if tt := st.Terminated; tt != nil && tt.ExitCode != 0 {
						out <- tt.FinishedAt.Time
						return
					}
				}
			}
		}
	}()
	return out
}

// An upgrade whose new JobManager crashes (its job's main class does not exist) is reported at
// once with Flink's exception, exit 3, and rolled back: the release runs the previous values
// again and the job restores from the savepoint the upgrade took.
func TestRollbackApplication(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	s := newStandalone(t)
	chart := filepath.Join(env.root, "charts/flink-job")
	if _, _, code := s.run(t, append([]string{"install", "app", chart, "-n", ns}, claimValues...)...); code != 0 {
		t.Fatalf("install: exit %d", code)
	}
	crashed := jmCrash(t, ns)
	start := time.Now()
	out, errOut, code := s.run(t, "upgrade", "app", chart, "-n", ns, "--reuse-values", "--set", "job.entryClass=com.example.NoSuchJob", "-o", "json")
	took := time.Since(start)
	if code != 3 || !strings.Contains(errOut, "ClassNotFoundException") || !strings.Contains(errOut, "rolled back to the previous chart and values as revision 3") {
		t.Fatalf("upgrade: exit %d, want 3 naming the ClassNotFoundException and the rollback", code)
	}
	res := decode[rollbackResult](t, out)
	t.Logf("failed upgrade reported and rolled back %s after it started", took.Round(100*time.Millisecond))
	select {
	case at := <-crashed:
		// The report came after the rollback: the detection itself is in the progress lines.
		t.Logf("new JobManager crashed at %s; the upgrade ended %s later", at.Format(time.RFC3339), time.Since(at).Round(100*time.Millisecond))
	default:
		t.Log("the new JobManager's crash was not seen by the test's watch")
	}
	if res.Revision != 2 || res.Savepoint == "" || res.Rollback.Revision != 3 || res.Rollback.Savepoint != res.Savepoint ||
		res.Rollback.Job.State != "RUNNING" || res.Rollback.Job.Running != res.Rollback.Job.Total || res.Rollback.Error != "" {
		t.Fatalf("result %+v", res)
	}
	vals := s.helm(t, "get", "values", "app", "-n", ns, "-o", "json")
	if strings.Contains(vals, "NoSuchJob") || !strings.Contains(vals, res.Savepoint) {
		t.Fatalf("revision 3's values: %s", vals)
	}
	jm := waitPods(t, ns, "app.kubernetes.io/component=jobmanager", 30e9, "jobmanager", allReady(1))
	rest := forwardREST(t, ns, jm[0].Name)
	rest.waitAllTasksRunning(res.Rollback.Job.JobID, 30e9)
	assertRestoredFrom(t, rest, res.Rollback.Job.JobID, res.Savepoint)

	// --no-rollback: reported as quickly, the release stays on the failed revision, and the
	// message says where the state is and how to start from it.
	crashed = jmCrash(t, ns)
	start = time.Now()
	_, errOut, code = s.run(t, "upgrade", "app", chart, "-n", ns, "--reuse-values", "--set", "job.entryClass=com.example.NoSuchJob", "--no-rollback")
	took = time.Since(start)
	select {
	case at := <-crashed:
		t.Logf("--no-rollback: reported %s after the upgrade started, %s after the new JobManager crashed (%s)", took.Round(100*time.Millisecond), time.Since(at).Round(100*time.Millisecond), at.Format(time.RFC3339))
	default:
		t.Logf("--no-rollback: reported %s after the upgrade started", took.Round(100*time.Millisecond))
	}
	if code != 3 || took > 90*time.Second || !strings.Contains(errOut, "ClassNotFoundException") || !strings.Contains(errOut, "not rolled back (--no-rollback)") ||
		!strings.Contains(errOut, "savepoint ") || !strings.Contains(errOut, "--set job.fromSavepoint=") {
		t.Fatalf("--no-rollback: exit %d after %s", code, took)
	}
	if vals := s.helm(t, "get", "values", "app", "-n", ns, "-o", "json"); !strings.Contains(vals, "NoSuchJob") {
		t.Fatalf("--no-rollback left values %s", vals)
	}
	s.run(t, "uninstall", "app", "-n", ns)
}
