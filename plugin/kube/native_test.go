package kube

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// A TaskManager pod the API server refused, as Flink 2.3's JobManager logs it (the stack, a Role
// without pods/create): one refusal with the API server's message; the stack trace lines and
// the resource manager's own warning are not refusals.
func TestPodCreateFailures(t *testing.T) {
	log, err := os.ReadFile("testdata/refused-pod-2.3.log")
	if err != nil {
		t.Fatal(err)
	}
	found := podCreateFailures(string(log))
	if len(found) != 1 {
		t.Fatalf("%d refusals, want 1: %v", len(found), found)
	}
	for _, e := range found {
		want := `pods is forbidden: User "system:serviceaccount:nat1:nat-flink-session" cannot create resource "pods" in API group "" in the namespace "nat1"`
		if e.Pod != "nat-flink-session-taskmanager-1-3" || e.Message != want {
			t.Fatalf("pod %q, message %q", e.Pod, e.Message)
		}
	}
	if n := len(podCreateFailures("INFO KubernetesResourceManagerDriver - Creating new TaskManager pod with name x-taskmanager-1-1")); n != 0 {
		t.Fatalf("a pod being created is no refusal: %d", n)
	}
}

// The watch reports the pods Flink created and how many are ready, not other pods; WaitGone waits
// for the named pods only.
func TestNativeWatchCountsFlinkPods(t *testing.T) {
	pod := func(name string, labels map[string]string, ready bool) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: labels}}
		if ready {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
		}
		return p
	}
	tm := map[string]string{"type": "flink-native-kubernetes", "component": "taskmanager", "app": "c"}
	cs := fake.NewClientset(pod("c-taskmanager-1-1", tm, true), pod("c-taskmanager-1-2", tm, false),
		pod("other", map[string]string{"app": "c"}, true), pod("c-jm", map[string]string{"app.kubernetes.io/instance": "r", "app.kubernetes.io/component": "jobmanager"}, true))
	var mu sync.Mutex
	var seen [][2]int
	w := &NativeWatch{Kube: cs, Namespace: "ns", ClusterID: "c", JobManagerPod: "c-jm", Release: "r", Progress: func(pods, ready int, _ string) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, [2]int{pods, ready})
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := w.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if len(seen) == 0 || seen[0] != [2]int{2, 1} {
		t.Fatalf("progress %v, want 2 pods of which 1 ready", seen)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	if err := WaitGone(ctx2, cs, "ns", "app=c", []string{"gone"}, nil); err != nil {
		t.Fatalf("a pod that is not there: %v", err)
	}
	if err := WaitGone(ctx2, cs, "ns", "app=c", []string{"other"}, nil); err == nil || !strings.Contains(err.Error(), "1 pod(s) still there") {
		t.Fatalf("a pod that stays: %v", err)
	}
}

// A TaskManager pod that cannot start ends the watch with a *PodStartError naming it, one that
// fails later too; one being deleted does not.
func TestNativeWatchReportsATaskManagerThatCannotStart(t *testing.T) {
	tm := map[string]string{"type": "flink-native-kubernetes", "component": "taskmanager", "app": "c"}
	failing := func(name string, deleted bool) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: tm},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "flink-main-container"}}}}
		if deleted {
			p.DeletionTimestamp = &metav1.Time{Time: time.Now()}
			p.Finalizers = []string{"test"}
		}
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "flink-main-container", State: corev1.ContainerState{
			Waiting: &corev1.ContainerStateWaiting{Reason: "CreateContainerConfigError", Message: `secret "s3" not found`}}}}
		return p
	}
	for _, later := range []bool{false, true} {
		cs := fake.NewClientset(failing("c-taskmanager-1-1", true))
		if !later {
			cs = fake.NewClientset(failing("c-taskmanager-1-1", true), failing("c-taskmanager-1-2", false))
		}
		w := &NativeWatch{Kube: cs, Namespace: "ns", ClusterID: "c", JobManagerPod: "c-jm", Release: "r"}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		errs := make(chan error, 1)
		go func() { errs <- w.Run(ctx) }()
		if later {
			select {
			case err := <-errs:
				t.Fatalf("a pod being deleted: %v", err)
			case <-time.After(300 * time.Millisecond):
			}
			if _, err := cs.CoreV1().Pods("ns").Create(ctx, failing("c-taskmanager-1-2", false), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		err := <-errs
		var start *PodStartError
		if !errors.As(err, &start) || !strings.HasPrefix(start.Pod, "c-taskmanager-1-2 ") ||
			!strings.Contains(err.Error(), `CreateContainerConfigError: secret "s3" not found`) {
			t.Fatalf("later %v: %v", later, err)
		}
	}
}
