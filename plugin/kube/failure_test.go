package kube

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sfake "k8s.io/client-go/kubernetes/fake"
)

func jmPod(name, job string, status corev1.PodStatus) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "flink",
			Labels:          map[string]string{"app.kubernetes.io/instance": "app", ComponentLabel: JobManager},
			OwnerReferences: []metav1.OwnerReference{{Kind: "Job", Name: job}}},
		Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "jobmanager"}}},
		Status: status,
	}
}

var crashed = corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{
	Name: "jobmanager", RestartCount: 1, Ready: true,
	State:                corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
	LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}},
}}}

// A JobManager container that exited with an error is a failure at once, even when it runs (and
// is Ready) again; only the revision's own Job's pods are judged.
func TestWatchFailurePod(t *testing.T) {
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		want string // "" = no failure
	}{
		{"restarted after exit 1", jmPod("new", "app-jm-new", crashed), "container jobmanager exited with 1: Error and was restarted 1 time(s)"},
		{"crash loop", jmPod("new", "app-jm-new", corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Name: "jobmanager", RestartCount: 2,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 20s"}}}}}), "CrashLoopBackOff"},
		{"exited", jmPod("new", "app-jm-new", corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Name: "jobmanager",
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 163}}}}}), "exited with 163"},
		{"image", jmPod("new", "app-jm-new", corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{Name: "jobmanager",
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImagePull"}}}}}), "ErrImagePull"},
		{"previous revision's pod", jmPod("old", "app-jm-old", crashed), ""},
		{"starting", jmPod("new", "app-jm-new", corev1.PodStatus{Phase: corev1.PodPending}), ""},
	} {
		cs := k8sfake.NewClientset(tc.pod)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		start := time.Now()
		err := WatchFailure(ctx, cs, JobManagers{Namespace: "flink", Release: "app", Jobs: []string{"app-jm-new"}})
		cancel()
		var f *PodStartError
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (!errors.As(err, &f) || !strings.Contains(f.Reason, tc.want)):
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		case tc.want != "" && time.Since(start) > 200*time.Millisecond:
			t.Errorf("%s: reported after %s", tc.name, time.Since(start))
		}
	}
}

// A JobManager Job at its backoff limit is a failure as soon as its condition says so.
func TestWatchFailureJob(t *testing.T) {
	cs := k8sfake.NewClientset()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go func() {
		time.Sleep(50 * time.Millisecond)
		job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "app-jm-new", Namespace: "flink",
			Labels: map[string]string{"app.kubernetes.io/instance": "app", ComponentLabel: JobManager}},
			Status: batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionTrue,
				Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit"}}}}
		_, _ = cs.BatchV1().Jobs("flink").Create(ctx, job, metav1.CreateOptions{})
	}()
	start := time.Now()
	err := WatchFailure(ctx, cs, JobManagers{Namespace: "flink", Release: "app", Jobs: []string{"app-jm-new"}})
	var f *PodStartError
	if !errors.As(err, &f) || !strings.Contains(f.Error(), "job app-jm-new: failed: BackoffLimitExceeded: Job has reached the specified backoff limit") {
		t.Fatalf("%v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("reported after %s", d)
	}
}

// The failed revision's JobManager pods are waited out; the rollback's are not.
func TestWaitStopped(t *testing.T) {
	old := jmPod("old", "app-jm-old", corev1.PodStatus{Phase: corev1.PodRunning})
	cs := k8sfake.NewClientset(old, jmPod("new", "app-jm-new", corev1.PodStatus{Phase: corev1.PodRunning}))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go func() {
		time.Sleep(50 * time.Millisecond)
		_ = cs.CoreV1().Pods("flink").Delete(ctx, "old", metav1.DeleteOptions{})
	}()
	if err := WaitStopped(ctx, cs, JobManagers{Namespace: "flink", Release: "app", Jobs: []string{"app-jm-old"}}); err != nil {
		t.Fatal(err)
	}
}

func TestExitTextNamesTheSignal(t *testing.T) {
	for code, want := range map[int32]string{1: "1", 137: "137 (killed)", 143: "143 (terminated)", 255: "255"} {
		if got := exitText(code); got != want {
			t.Errorf("exitText(%d) = %q, want %q", code, got, want)
		}
	}
}
