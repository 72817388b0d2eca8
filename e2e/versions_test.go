//go:build e2e

package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// previousRelease is the package of a chart's last released version kept in the repository
// (go test ./charts -record keeps it) and its version.
func previousRelease(t *testing.T, chart string) (tgz, version string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(env.root, "charts/testdata/released", chart+"-*.tgz"))
	if err != nil || len(files) != 1 {
		t.Fatalf("charts/testdata/released: %d packages of %s (%v), want one", len(files), chart, err)
	}
	return files[0], strings.TrimSuffix(strings.TrimPrefix(filepath.Base(files[0]), chart+"-"), ".tgz")
}

func podUIDs(t *testing.T, ns, selector string) map[string]types.UID {
	t.Helper()
	pods, err := env.cs.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]types.UID{}
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodRunning {
			out[p.Name] = p.UID
		}
	}
	return out
}

func assertSamePods(t *testing.T, what string, before, after map[string]types.UID) {
	t.Helper()
	if len(before) == 0 || len(after) != len(before) {
		t.Fatalf("%s: %d running pods before the upgrade, %d after", what, len(before), len(after))
	}
	for name, uid := range before {
		if after[name] != uid {
			t.Fatalf("%s: pod %s (uid %s) was replaced by the chart version upgrade: %v", what, name, uid, after)
		}
	}
}

// The chart version upgrade Flux does unattended, with plain Helm and no plugin: from the
// previous released package to the chart of this checkout. Without HA a restarted JobManager
// would forget the session's job; no Flink pod restarts and the job keeps every task running.
func TestChartVersionUpgradeRestartsNothing(t *testing.T) {
	for _, c := range []struct{ chart, helm string }{{"flink-session", "helm3"}, {"flink-job", "helm4"}} {
		t.Run(c.chart, func(t *testing.T) {
			t.Parallel()
			prevTgz, prev := previousRelease(t, c.chart)
			current := chartVersion(t, c.chart)
			if prev == current {
				t.Fatalf("%s: the checkout's version %s is the last release; nothing to upgrade to", c.chart, current)
			}
			ns := newNamespace(t)
			h := newHelm(t, c.helm)
			if out, err := h.run(t, "install", "flink", prevTgz, "-n", ns, "--wait", "--timeout", "3m"); err != nil {
				t.Fatalf("%s install %s %s: %v\n%s", c.helm, c.chart, prev, err, out)
			}
			ch, err := loader.Load(prevTgz)
			if err != nil {
				t.Fatal(err)
			}
			vals, err := chartutil.CoalesceValues(ch, nil)
			if err != nil {
				t.Fatal(err)
			}
			r := &release{ns: ns, chart: c.chart, cfg: helmConfig(t, ns), values: vals}
			rest := r.overview(t)
			var jobID string
			if c.chart == "flink-session" {
				jobID = rest.run(rest.upload(exampleJar(env.versions["FLINK1_VERSION"], "TopSpeedWindowing")), 2)
			} else {
				jobID = r.jobID(t)
			}
			rest.waitAllTasksRunning(jobID, jobTimeout)
			jms, tms := podUIDs(t, ns, releaseSel+"jobmanager"), podUIDs(t, ns, releaseSel+"taskmanager")
			jobs, _ := env.cs.BatchV1().Jobs(ns).List(t.Context(), metav1.ListOptions{LabelSelector: releaseSel + "jobmanager"})

			if out, err := h.run(t, "upgrade", "flink", filepath.Join(env.root, "charts", c.chart), "-n", ns, "--wait", "--timeout", "3m"); err != nil {
				t.Fatalf("%s upgrade to %s: %v\n%s", c.helm, current, err, out)
			}
			out, err := h.run(t, "list", "-n", ns)
			if err != nil || !strings.Contains(out, c.chart+"-"+current) {
				t.Fatalf("the release does not run %s-%s after the upgrade: %v\n%s", c.chart, current, err, out)
			}
			assertSamePods(t, "JobManager", jms, podUIDs(t, ns, releaseSel+"jobmanager"))
			assertSamePods(t, "TaskManagers", tms, podUIDs(t, ns, releaseSel+"taskmanager"))
			if after, _ := env.cs.BatchV1().Jobs(ns).List(t.Context(), metav1.ListOptions{LabelSelector: releaseSel + "jobmanager"}); len(after.Items) != len(jobs.Items) ||
				(len(jobs.Items) == 1 && (after.Items[0].Name != jobs.Items[0].Name || after.Items[0].UID != jobs.Items[0].UID)) {
				t.Fatalf("the JobManager Job changed with the chart version: %d before, %d after", len(jobs.Items), len(after.Items))
			}
			d := rest.waitAllTasksRunning(jobID, jobTimeout)
			if d.State != "RUNNING" {
				t.Fatalf("job %s is %s after the upgrade", jobID, d.State)
			}
			if out, err := h.run(t, "uninstall", "flink", "-n", ns, "--wait"); err != nil {
				t.Fatalf("uninstall: %v\n%s", err, out)
			}
			assertNothingLeft(t, ns)
		})
	}
}

// The Helm CLIs carry the stamps of Helm's release builds: `helm template` offline assumes the
// Kubernetes version of the Helm release, which our charts' kubeVersion accepts.
func TestHelmTemplateOffline(t *testing.T) {
	for _, name := range []string{"helm3", "helm4"} {
		h := newHelm(t, name)
		out, err := h.run(t, "version", "--short")
		if err != nil || !strings.HasPrefix(out, env.versions[strings.ToUpper(name)+"_VERSION"]) {
			t.Errorf("%s version --short: %v %q, want %s", name, err, out, env.versions[strings.ToUpper(name)+"_VERSION"])
		}
		for _, chart := range []string{"flink-session", "flink-job"} {
			if out, err := h.run(t, "template", "x", filepath.Join(env.root, "charts", chart)); err != nil || !strings.Contains(out, "kind: Deployment") {
				t.Errorf("%s template %s: %v\n%s", name, chart, err, out)
			}
		}
	}
}
