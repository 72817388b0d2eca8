package kube

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func TestCannotStart(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status corev1.PodStatus
		want   string // "" = keep waiting
	}{
		{"pending", corev1.PodStatus{Phase: corev1.PodPending}, ""},
		{"starting", corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{
			{Name: "jobmanager", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}}}, ""},
		{"fetch failed", corev1.PodStatus{Phase: corev1.PodPending, InitContainerStatuses: []corev1.ContainerStatus{
			{Name: "fetch-jar", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Message: "sha256 mismatch"}}}}},
			"init container fetch-jar exited with 1: sha256 mismatch"},
		{"init retried", corev1.PodStatus{Phase: corev1.PodPending, InitContainerStatuses: []corev1.ContainerStatus{
			{Name: "fetch-jar", RestartCount: 1, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}},
				LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 22}}}}},
			"init container fetch-jar exited with 22"},
		{"image", corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{
			{Name: "taskmanager", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: "flink:9.9 not found"}}}}},
			"container taskmanager: ImagePullBackOff: flink:9.9 not found"},
		{"failed", corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{
			{Name: "jobmanager", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1}}}}},
			"failed: container jobmanager exited with 1"},
	} {
		got, _, _ := cannotStart(&corev1.Pod{Status: tc.status})
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestSelector(t *testing.T) {
	if got := Selector("r", JobManager); got != "app.kubernetes.io/instance=r,app.kubernetes.io/component=jobmanager" {
		t.Fatal(got)
	}
	if got := Selector("r", ""); got != "app.kubernetes.io/instance=r" {
		t.Fatal(got)
	}
}

// status says why a pod's containers do not run, as kubectl's STATUS column does.
func TestPodsSayWhyNotRunning(t *testing.T) {
	waiting := func(reason string) corev1.PodStatus {
		return corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{
			{Name: "flink-main-container", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}}}}
	}
	labels := map[string]string{"app.kubernetes.io/instance": "r", ComponentLabel: TaskManager}
	pods := []runtime.Object{
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "ns", Labels: labels}, Status: waiting("CreateContainerConfigError")},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: "ns", Labels: labels}, Status: corev1.PodStatus{Phase: corev1.PodRunning}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns", Labels: labels, DeletionTimestamp: &metav1.Time{}, Finalizers: []string{"x"}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning}},
	}
	got, err := Pods(t.Context(), fake.NewClientset(pods...), "ns", "r")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "CreateContainerConfigError", "b": "", "c": "Terminating"}
	for _, p := range got {
		if p.Reason != want[p.Name] {
			t.Errorf("%s: reason %q, want %q", p.Name, p.Reason, want[p.Name])
		}
	}
	if len(got) != 3 {
		t.Fatalf("%d pods", len(got))
	}
}

// A pod the scheduler could not place is noted with the scheduler's words, the first by name;
// one placed or being deleted is not.
func TestUnschedulable(t *testing.T) {
	pending := func(node string, deleted bool) *corev1.Pod {
		p := &corev1.Pod{Spec: corev1.PodSpec{NodeName: node}, Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{
			Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: "0/3 nodes are available: 3 Insufficient cpu."}}}}
		if deleted {
			p.DeletionTimestamp = &metav1.Time{}
		}
		return p
	}
	running := &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	if got := unschedulable(map[string]*corev1.Pod{"a": pending("", true), "b": running, "d": pending("", false), "c": pending("", false)}); got != "pod c cannot be scheduled: 0/3 nodes are available: 3 Insufficient cpu." {
		t.Fatalf("%q", got)
	}
	if got := unschedulable(map[string]*corev1.Pod{"a": pending("", true), "b": running, "c": pending("node-1", false)}); got != "" {
		t.Fatalf("%q", got)
	}
	if Note("") != "" || Note("x") != " (x)" {
		t.Fatal(Note("x"))
	}
}

// Of several ready JobManagers the one Flink's Kubernetes HA ConfigMap names as the leading
// dispatcher is taken, though older ones are ready too; without such a ConfigMap, the oldest.
func TestReadyPodPrefersTheHALeader(t *testing.T) {
	jm := func(name, ip string, age int) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "flink",
			Labels:            map[string]string{"app.kubernetes.io/instance": "s", ComponentLabel: JobManager},
			CreationTimestamp: metav1.Unix(int64(1000-age), 0)},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}}
	}
	pods := []runtime.Object{jm("s-jobmanager-0", "10.88.0.7", 2), jm("s-jobmanager-1", "10.88.0.9", 1)}
	sel := Selector("s", JobManager)

	cs := fake.NewSimpleClientset(pods...)
	if p, err := ReadyPod(t.Context(), cs, "flink", sel); err != nil || p.Name != "s-jobmanager-0" {
		t.Fatalf("without HA: %v %v, want the oldest", p, err)
	}
	if _, err := LeaderPod(t.Context(), cs, "flink", sel); err == nil {
		t.Fatal("LeaderPod without an HA ConfigMap: want an error")
	}

	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "s-cluster-config-map", Namespace: "flink", Labels: map[string]string{"app": "s", "type": "flink-native-kubernetes"}}, // as Flink 2.3 labels it
		Data: map[string]string{haLeaderKey: "310e4ceb-8f73-4562-9e77-dc548666b301,pekko.tcp://flink@10.88.0.9:6123/user/rpc/dispatcher_1"}}
	cs = fake.NewSimpleClientset(append(pods, cm)...)
	for name, f := range map[string]func() (*corev1.Pod, error){
		"ReadyPod":  func() (*corev1.Pod, error) { return ReadyPod(t.Context(), cs, "flink", sel) },
		"LeaderPod": func() (*corev1.Pod, error) { return LeaderPod(t.Context(), cs, "flink", sel) },
	} {
		if p, err := f(); err != nil || p.Name != "s-jobmanager-1" {
			t.Errorf("%s: %v %v, want the leader s-jobmanager-1", name, p, err)
		}
	}
}

// A replaced revision's pod that ends by its deletion (exit 143 after SIGTERM, phase Failed) is
// no failure of the pods waited for; the new pod's readiness ends the wait.
func TestWaitReadyIgnoresPodsOnTheirWayOut(t *testing.T) {
	labels := map[string]string{"app.kubernetes.io/instance": "r", ComponentLabel: JobManager}
	gone := metav1.Now()
	old := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "old", Namespace: "ns", Labels: labels, DeletionTimestamp: &gone, Finalizers: []string{"x"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "jobmanager"}}},
		Status: corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{{Name: "jobmanager",
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 143}}}}}}
	cs := fake.NewClientset()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	go func() {
		time.Sleep(50 * time.Millisecond)
		_, _ = cs.CoreV1().Pods("ns").Create(ctx, old, metav1.CreateOptions{})
		time.Sleep(50 * time.Millisecond)
		ready := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "new", Namespace: "ns", Labels: labels},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}}
		_, _ = cs.CoreV1().Pods("ns").Create(ctx, ready, metav1.CreateOptions{})
	}()
	if err := WaitReady(ctx, cs, "ns", Selector("r", JobManager), 1, nil); err != nil {
		t.Fatalf("a deleted pod's end failed the wait: %v", err)
	}
}

// A wait that times out names each pod that is not ready with the last event recorded about it.
func TestWaitReadyTimeoutNamesEachPodsLastEvent(t *testing.T) {
	labels := map[string]string{"app.kubernetes.io/instance": "r", ComponentLabel: TaskManager}
	running := corev1.PodStatus{Phase: corev1.PodRunning}
	event := func(name, pod, reason, message string, at time.Time) runtime.Object {
		return &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: pod, Namespace: "ns"},
			Reason:         reason, Message: message, LastTimestamp: metav1.NewTime(at)}
	}
	now := time.Now()
	cs := fake.NewClientset(
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "tm-a", Namespace: "ns", Labels: labels}, Status: running},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "tm-b", Namespace: "ns", Labels: labels}, Status: running},
		event("e1", "tm-a", "Unhealthy", "Readiness probe failed: dial tcp 10.88.0.7:6121: connect: connection refused", now),
		event("e2", "tm-a", "Started", "Started container taskmanager", now.Add(-time.Minute)),
	)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	err := WaitReady(ctx, cs, "ns", Selector("r", TaskManager), 2, nil)
	if err == nil {
		t.Fatal("no pod is ready, yet the wait passed")
	}
	for _, want := range []string{"0/2 pods ready", "pod tm-a: last event Unhealthy: Readiness probe failed: dial tcp 10.88.0.7:6121: connect: connection refused", "pod tm-b: no event"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v\nwant %q", err, want)
		}
	}
}

// A user who may not list or watch the pods gets the API server's refusal at once, not a wait
// until the deadline (a reflector retries every error).
func TestWaitReadyEndsOnARefusal(t *testing.T) {
	for _, verb := range []string{"list", "watch"} {
		cs := fake.NewClientset()
		cs.PrependReactor(verb, "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New(`User "bob" cannot `+verb+` resource "pods"`))
		})
		cs.PrependWatchReactor("pods", func(k8stesting.Action) (bool, watch.Interface, error) {
			if verb == "watch" {
				return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New(`User "bob" cannot watch resource "pods"`))
			}
			return false, nil, nil
		})
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		start := time.Now()
		err := WaitReady(ctx, cs, "ns", Selector("r", TaskManager), 1, nil)
		cancel()
		if err == nil || !apierrors.IsForbidden(errors.Unwrap(err)) || !strings.Contains(err.Error(), "cannot "+verb) || time.Since(start) > 5*time.Second {
			t.Errorf("%s refused: %v after %s, want the refusal at once", verb, err, time.Since(start))
		}
	}
}
