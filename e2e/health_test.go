//go:build e2e

package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The charts' opt-in health hook (healthCheck.enabled) fails `helm install --wait
// --wait-for-jobs` of an application whose pods are all ready but whose job cannot run (no
// TaskManager: plain Helm renders it, the plugin would refuse it; without restarts it FAILS once
// Flink gives up waiting for slots), which --wait alone passes; its log gives Flink's root
// exception. `helm test` of that release fails the same way, at once. A healthy release passes both
// (TestListAcrossNamespaces installs one with the hook, the values sets run helm test). (A
// JobManager that crashes, e.g. on an entry class its jar lacks, already fails --wait.)
func TestHealthHookFailsAJobThatDoesNotRun(t *testing.T) {
	t.Parallel()
	ns := restrictedNamespace(t)
	h := newHelm(t, "helm3")
	out, err := h.run(t, "install", "flink", filepath.Join(env.root, "charts/flink-job"), "-n", ns,
		"--set", "taskmanager.replicas=0", "--set", "healthCheck.enabled=true", "--set", "healthCheck.timeoutSeconds=60",
		"--set-string", `flinkConfiguration.slot\.request\.timeout=10 s`, "--set-string", `flinkConfiguration.restart-strategy\.type=none`,
		"--wait", "--wait-for-jobs", "--timeout", "4m")
	if err == nil {
		t.Fatalf("helm install passed with a job that cannot run:\n%s", out)
	}
	if !strings.Contains(out, "post-install") || !strings.Contains(out, "flink-flink-job-health") {
		t.Fatalf("helm install failed, but not on the health hook:\n%s", out)
	}
	pods, err := env.cs.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=health"})
	if err != nil || len(pods.Items) == 0 {
		t.Fatalf("the health hook's pod: %v", err)
	}
	log, err := env.cs.CoreV1().Pods(ns).GetLogs(pods.Items[0].Name, &corev1.PodLogOptions{}).DoRaw(t.Context())
	if err != nil || !strings.Contains(string(log), "unhealthy: job") || !strings.Contains(string(log), " FAILED: ") {
		t.Fatalf("the health hook's log does not say why (%v):\n%s", err, log)
	}
	t.Logf("helm install failed on the health hook:\n%s\nhook log:\n%s", clip(out), clip(fmt.Sprint(string(log))))
	out, err = h.run(t, "test", "flink", "-n", ns, "--logs")
	if err == nil || !strings.Contains(out, "unhealthy: job") || !strings.Contains(out, " FAILED: ") {
		t.Fatalf("helm test of the release whose job failed (err %v):\n%s", err, out)
	}
	t.Logf("helm test of the release whose job failed:\n%s", clip(out))
	if out, err := h.run(t, "uninstall", "flink", "-n", ns, "--wait"); err != nil {
		t.Fatalf("uninstall: %v\n%s", err, out)
	}
}

// An application whose entry class its jar lacks: Flink exits the JobManager before any job (or
// hook) exists, so `helm install --wait --wait-for-jobs` fails on the wait — and the reason is
// where a Helm or Flux user looks without the plugin, on the JobManager pod's status (the Flink
// containers' termination message falls back to the end of their log).
func TestMissingEntryClassLeavesTheReasonOnThePod(t *testing.T) {
	t.Parallel()
	ns := restrictedNamespace(t)
	h := newHelm(t, "helm3")
	out, err := h.run(t, "install", "flink", filepath.Join(env.root, "charts/flink-job"), "-n", ns,
		"--set", "job.entryClass=org.example.NotInTheJar", "--set", "healthCheck.enabled=true",
		"--wait", "--wait-for-jobs", "--timeout", "90s")
	if err == nil {
		t.Fatalf("helm install passed with an entry class the jar lacks:\n%s", out)
	}
	pods, err := env.cs.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=jobmanager"})
	if err != nil || len(pods.Items) == 0 {
		t.Fatalf("the JobManager's pod: %v", err)
	}
	var message string
	for _, s := range pods.Items[0].Status.ContainerStatuses {
		for _, term := range []*corev1.ContainerStateTerminated{s.State.Terminated, s.LastTerminationState.Terminated} {
			if term != nil && strings.Contains(term.Message, "NotInTheJar") {
				message = term.Message
			}
		}
	}
	if !strings.Contains(message, "ClassNotFoundException") {
		t.Fatalf("the JobManager pod's status does not say why it exited (helm: %s): %+v", clip(out), pods.Items[0].Status.ContainerStatuses)
	}
	t.Logf("helm install failed on the wait:\n%s\nthe JobManager pod's termination message ends:\n%s", clip(out), clip(message))
	if out, err := h.run(t, "uninstall", "flink", "-n", ns, "--wait"); err != nil {
		t.Fatalf("uninstall: %v\n%s", err, out)
	}
}
