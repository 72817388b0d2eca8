package kube

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
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

func TestLastException(t *testing.T) {
	log := []string{
		"2026-11-24 21:40:00,001 INFO  org.apache.flink.runtime.entrypoint.ClusterEntrypoint [] - Starting",
		"2026-11-24 21:40:01,002 ERROR org.apache.flink.runtime.entrypoint.ClusterEntrypoint [] - Could not start cluster entrypoint StandaloneApplicationClusterEntryPoint.",
		"org.apache.flink.util.FlinkException: Could not load the provided entrypoint class.",
		"\tat org.apache.flink.client.program.DefaultPackagedProgramRetriever.getPackagedProgram(DefaultPackagedProgramRetriever.java:215) ~[flink-clients-1.20.0.jar:1.20.0]",
		"Caused by: org.apache.flink.client.program.ProgramInvocationException: The program's entry point class 'com.example.Nope' was not found in the jar file.",
		"\t... 2 more",
		"Caused by: java.lang.ClassNotFoundException: com.example.Nope",
		"\tat java.net.URLClassLoader.findClass(URLClassLoader.java:445) ~[?:?]",
		"2026-11-24 21:40:01,003 INFO  org.apache.flink.runtime.blob.BlobServer [] - Stopped BLOB server",
	}
	got := lastException(log)
	want := []string{log[2], log[4], log[6]}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if lastException(log[:2]) != nil {
		t.Fatal("no exception, yet an excerpt")
	}
}
