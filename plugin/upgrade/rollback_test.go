package upgrade

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/internal/fake"
	"github.com/helm-flink/helm-flink/plugin/jobmanager"
	"github.com/helm-flink/helm-flink/plugin/kube"
)

// The rollback returns to the previous revision's user values (not what the plugin set for it
// only) with a job id of its own revision, starting from the upgrade's savepoint; the labels
// record that and drop the failed revision's record.
func TestRollbackValues(t *testing.T) {
	cfg := fake.Config(t, "")
	prev := fake.Install(t, cfg, "app", "flink-job", map[string]any{"parallelism": 2, "job": map[string]any{"entryClass": "a.B", "jobId": "0000000000000000000000000000000a", "fromSavepoint": "file:/sp/old"}})
	prev.Labels = map[string]string{ownedPrefix + "job.jobId": "true", ownedPrefix + "job.fromSavepoint": "true"}
	failed := *prev.Release
	failed.Version = 2
	failed.Config = map[string]any{"parallelism": 2, "job": map[string]any{"entryClass": "com.example.NoSuchJob", "jobId": revisionJobID("flink", "app", 2), "fromSavepoint": "file:/sp/new"}}
	got := rollbackValues(prev.Release, &failed, act.Application, "file:/sp/new")
	want := map[string]any{"parallelism": 2, "job": map[string]any{"entryClass": "a.B", "jobId": revisionJobID("flink", "app", 3), "fromSavepoint": "file:/sp/new"}}
	if !reflect.DeepEqual(got.values, want) {
		t.Errorf("rollback values %v, want %v", got.values, want)
	}
	if l := got.labels(&failed); l[ownedPrefix+"job.jobId"] != "true" || l[ownedPrefix+"job.fromSavepoint"] != "true" {
		t.Errorf("labels %v", l)
	}
	if prev.Config["job"].(map[string]any)["fromSavepoint"] != "file:/sp/old" {
		t.Error("the stored release was written into")
	}
	if got := rollbackValues(prev.Release, &failed, act.Application, ""); got.values["job"].(map[string]any)["fromSavepoint"] != nil {
		t.Errorf("without a savepoint of the upgrade the job starts as the previous values say: %v", got.values)
	}
}

// The reported scenario: the new application JobManager gets Ready, then its main() fails and
// the container restarts, while the plugin waits for TaskManagers to register with a JobManager
// that refuses connections. The failure is reported at once, exit 3, and with --no-rollback the
// message says where the savepoint is and how to start from it.
func TestFailedJobManagerReportedAtOnce(t *testing.T) {
	cfg := fake.Config(t, fake.Serve(t)) // a JobManager that answers nothing
	rel := fake.Install(t, cfg, "app", "flink-job", nil)
	if jms := act.RevisionJobManagers(rel); len(jms.Jobs) != 0 {
		t.Fatalf("the JobManager is a Deployment, no Job to watch: %v", jms)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	u := New(cfg)
	u.NoRollback = true
	go func() {
		time.Sleep(100 * time.Millisecond)
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "app-jm-x", Namespace: "flink",
			Labels:          map[string]string{"app.kubernetes.io/instance": "app", kube.ComponentLabel: kube.JobManager},
			OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "app-flink-job-jobmanager-5d4f"}}},
			Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "jobmanager"}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}}
		pod, _ = cfg.Kube.CoreV1().Pods("flink").Create(ctx, pod, metav1.CreateOptions{})
		time.Sleep(300 * time.Millisecond)
		pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "jobmanager", RestartCount: 1,
			State:                corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}}}}
		_, _ = cfg.Kube.CoreV1().Pods("flink").UpdateStatus(ctx, pod, metav1.UpdateOptions{})
	}()
	start := time.Now()
	res := &Result{Release: "app", Namespace: "flink", Mode: act.Application, Savepoint: "file:/flink-data/savepoints/savepoint-1"}
	err := u.waitWatched(ctx, rel, res, nil)
	var f *kube.PodStartError
	if !errors.As(err, &f) || !strings.Contains(f.Reason, "container jobmanager exited with 1") {
		t.Fatalf("%v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("reported after %s", d)
	}
	back, err := u.undo(ctx, ref("flink-job"), rel, rel, nil, res, err)
	var fe *FailedError
	if exit.Code(err) != exit.JobFailed || !errors.As(err, &fe) || res.Rollback == nil || res.Failure == "" || back != nil {
		t.Fatalf("exit %d: %v", exit.Code(err), err)
	}
	for _, s := range []string{"upgrade to revision 1 failed: pod app-jm-x: container jobmanager exited with 1", "not rolled back (--no-rollback)",
		"savepoint file:/flink-data/savepoints/savepoint-1", "helm upgrade app ../../charts/flink-job -n flink --reset-values -f previous.yaml --set job.fromSavepoint=file:/flink-data/savepoints/savepoint-1"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("message lacks %q:\n%v", s, err)
		}
	}
}

func TestFailedErrorMessage(t *testing.T) {
	cause := &kube.PodStartError{Pod: "app-jm-x", Reason: "container jobmanager exited with 1", Log: []string{"java.lang.ClassNotFoundException: com.example.NoSuchJob"}}
	e := &FailedError{Revision: 2, Cause: cause, Rollback: &Rollback{Revision: 3, Savepoint: "file:/sp/savepoint-1"}}
	e.Rollback.Job = &jobmanagerProgress
	want := "upgrade to revision 2 failed: pod app-jm-x: container jobmanager exited with 1\n  java.lang.ClassNotFoundException: com.example.NoSuchJob\n" +
		"rolled back to the previous chart and values as revision 3; job 0123 restored from savepoint file:/sp/savepoint-1 and RUNNING with every task (2/2 running)"
	if e.Error() != want || exit.Code(e) != exit.JobFailed {
		t.Errorf("%d %s", exit.Code(e), e)
	}
}

var jobmanagerProgress = jobmanager.Progress{JobID: "0123", State: "RUNNING", Running: 2, Total: 2}
