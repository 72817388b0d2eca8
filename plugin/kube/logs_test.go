package kube

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func logPod(name, component string, status corev1.ContainerStatus) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: map[string]string{"app.kubernetes.io/instance": "r", ComponentLabel: component}},
		Spec:       corev1.PodSpec{InitContainers: []corev1.Container{{Name: "fetch-jar"}}, Containers: []corev1.Container{{Name: status.Name}}},
		Status:     corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{status}},
	}
}

// JobManagers first, each line with its pod; a container waiting to restart gives its previous
// run's log, said so; a pod that never ran one gives none; --component keeps to one kind.
func TestLogs(t *testing.T) {
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	cs := fake.NewClientset(
		logPod("r-taskmanager-b", TaskManager, corev1.ContainerStatus{Name: "taskmanager", RestartCount: 2,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}}),
		logPod("r-taskmanager-a", TaskManager, corev1.ContainerStatus{Name: "flink-main-container", State: running}),
		logPod("r-jobmanager-x", JobManager, corev1.ContainerStatus{Name: "jobmanager", State: running}),
		logPod("r-taskmanager-c", TaskManager, corev1.ContainerStatus{Name: "taskmanager",
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}),
	)
	var out strings.Builder
	if err := Logs(t.Context(), cs, "ns", "r", LogOptions{Tail: -1}, &out); err != nil {
		t.Fatal(err)
	}
	want := "[r-jobmanager-x] fake logs\n" +
		"[r-taskmanager-a] fake logs\n" +
		"[r-taskmanager-b] (the log of container taskmanager's previous run: it is not running now)\n" +
		"[r-taskmanager-b] fake logs\n"
	if out.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", out.String(), want)
	}
	out.Reset()
	if err := Logs(t.Context(), cs, "ns", "r", LogOptions{Component: JobManager, Tail: 10}, &out); err != nil || out.String() != "[r-jobmanager-x] fake logs\n" {
		t.Fatalf("jobmanager only: %v\n%s", err, out.String())
	}
	if err := Logs(t.Context(), cs, "ns", "other", LogOptions{Tail: -1}, &out); err == nil || !strings.Contains(err.Error(), `release "other" has no Flink pods in namespace ns`) {
		t.Fatalf("a release without pods: %v", err)
	}
}
