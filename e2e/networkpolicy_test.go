//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The charts' NetworkPolicy (on by default), enforced by the stack's kube-router firewall: a pod in
// another namespace reaches neither the JobManager's REST and RPC ports nor a TaskManager's, while
// the plugin (through its port-forward) installs the application to RUNNING — its TaskManagers
// registered, its health hook passed — `helm test`'s pod passes, a namespace named in
// networkPolicy.rest reaches REST (only), and one named in networkPolicy.metrics scrapes the
// metrics port (only).
func TestNetworkPolicyLetsInOnlyWhatTheValuesName(t *testing.T) {
	t.Parallel()
	ns, caller, scraper, stranger := restrictedNamespace(t), restrictedNamespace(t), restrictedNamespace(t), restrictedNamespace(t)
	s := newStandalone(t)
	out, errOut, code := s.run(t, "install", "app", filepath.Join(env.root, "charts/flink-job"), "-n", ns, "--timeout", "4m",
		"--set", "networkPolicy.rest.namespaces={"+caller+"}", "--set", "metrics.enabled=true",
		"--set", "networkPolicy.metrics.namespaces={"+scraper+"}", "--set", "healthCheck.enabled=true", "--set", "taskmanager.replicas=1")
	if code != 0 {
		t.Fatalf("install behind the NetworkPolicy: exit %d\n%s%s", code, errOut, out)
	}
	if out, err := newHelm(t, "helm3").run(t, "test", "app", "-n", ns); err != nil {
		t.Fatalf("helm test behind the NetworkPolicy: %v\n%s", err, out)
	}
	jm := waitPods(t, ns, "app.kubernetes.io/component=jobmanager", 10*time.Second, "jobmanager", allReady(1))[0]
	tm := waitPods(t, ns, "app.kubernetes.io/component=taskmanager", 10*time.Second, "taskmanager", func(p []corev1.Pod) bool {
		return len(p) > 0 && podReady(&p[0])
	})[0]
	rest := "http://" + jm.Status.PodIP + ":8081/overview"
	metrics := "http://" + jm.Status.PodIP + ":9249/metrics"
	rpc := "telnet://" + jm.Status.PodIP + ":6123"
	tmRPC := "telnet://" + tm.Status.PodIP + ":6122"

	probes := map[string]string{}
	for _, n := range []string{caller, scraper, stranger} {
		probes[n] = probePod(t, n)
	}
	// The firewall lets a new pod's connections in once it has seen the pod: wait for that here, so
	// that the refusals below are the policy's and not a pod the firewall does not know yet.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	eventually(t, ctx, "a pod in "+caller+" reaches REST", func() (bool, string) {
		r := reach(t, caller, probes[caller], rest)
		return r == "200", r
	})
	eventually(t, ctx, "a pod in "+scraper+" scrapes the metrics port", func() (bool, string) {
		r := reach(t, scraper, probes[scraper], metrics)
		return r == "200", r
	})
	for _, c := range []struct{ ns, url, what string }{
		{stranger, rest, "the JobManager's REST API"},
		{stranger, rpc, "the JobManager's RPC port"},
		{stranger, tmRPC, "a TaskManager's RPC port"},
		{stranger, metrics, "the metrics port"},
		{caller, rpc, "the JobManager's RPC port"},
		{scraper, rest, "the JobManager's REST API"},
	} {
		if r := reach(t, c.ns, probes[c.ns], c.url); r != "refused" {
			t.Errorf("a pod in %s reached %s (%s): %s", c.ns, c.what, c.url, r)
		}
	}
}

// probePod starts a pod that sleeps in namespace ns (Pod Security restricted) and returns its name
// once it runs.
func probePod(t *testing.T, ns string) string {
	t.Helper()
	no, yes := false, true
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "probe"}, Spec: corev1.PodSpec{
		RestartPolicy: corev1.RestartPolicyNever,
		SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: &yes,
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
		Containers: []corev1.Container{{Name: "probe", Image: "curlimages/curl:8.11.1", ImagePullPolicy: corev1.PullIfNotPresent,
			Command: []string{"sleep", "3600"},
			SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: &no,
				Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}}},
	}}
	if _, err := env.cs.CoreV1().Pods(ns).Create(t.Context(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("probe pod in %s: %v", ns, err)
	}
	waitPods(t, ns, "", time.Minute, "the probe pod", allReady(1))
	return pod.Name
}

// reach connects from the probe pod to url: the HTTP status, "refused" when the connection is
// refused (the firewall rejects), or what else curl said.
func reach(t *testing.T, ns, pod, url string) string {
	t.Helper()
	out, err := execIn(t, ns, pod, "probe", "curl", "-sS", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}", url)
	switch {
	case err == nil:
		return strings.TrimSpace(out)
	case strings.Contains(out, "Couldn't connect"):
		return "refused"
	default:
		return fmt.Sprintf("%v: %s", err, out)
	}
}

// TaskManagers that run but cannot reach the JobManager (here a NetworkPolicy of the cluster's
// refuses every connection to the JobManager pod; the plugin's port-forward still reaches REST):
// the install's wait times out naming each one with the JobManager address it tries.
func TestTaskManagersThatNeverRegisterAreNamed(t *testing.T) {
	t.Parallel()
	ns := restrictedNamespace(t)
	apply(t, ns, isolateJobManagers)
	s := newStandalone(t)
	_, errOut, code := s.run(t, "install", "flink", filepath.Join(env.root, "charts/flink-session"), "-n", ns,
		"-f", filepath.Join(env.root, "charts/flink-session/ci/minimal-values.yaml"),
		"--set", "networkPolicy.enabled=false", "--set", "tests.enabled=false", "--timeout", "90s")
	if code != 2 || !strings.Contains(errOut, "0/1 taskmanagers registered") ||
		!regexp.MustCompile(`taskmanager pod flink-flink-session-taskmanager-\S+ \(\S+\) runs but has not registered with the JobManager at flink-flink-session-jobmanager[^ ]*:6123 \(its log: `).MatchString(errOut) {
		t.Fatalf("exit %d, want 2 naming the TaskManager and the JobManager address it tries:\n%s", code, errOut)
	}
}
