//go:build e2e

package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/chartutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/helm-flink/helm-flink/plugin/chartdir"
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

// The chart version upgrade Flux does unattended, with plain Helm and no plugin: from this
// checkout's chart to the same chart under the next patch version, as a release that changes no
// pod template is. The pod templates carry no label or annotation that follows the chart
// version, so no Flink pod restarts: without HA a restarted JobManager would forget the
// session's job, or run the application's job again from its start.
func TestChartVersionUpgradeRestartsNothing(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ chart, helm string }{{"flink-session", "helm3"}, {"flink-job", "helm4"}} {
		t.Run(c.chart, func(t *testing.T) {
			t.Parallel()
			ch, err := chartdir.Load(filepath.Join(env.root, "charts", c.chart))
			if err != nil {
				t.Fatal(err)
			}
			current := semver.MustParse(ch.Metadata.Version)
			ch.Metadata.Version = current.IncPatch().String()
			next, err := chartutil.Save(ch, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			ns := newNamespace(t)
			h := newHelm(t, c.helm)
			if out, err := h.run(t, "install", "flink", filepath.Join(env.root, "charts", c.chart), "-n", ns, "--wait", "--timeout", "3m"); err != nil {
				t.Fatalf("%s install %s %s: %v\n%s", c.helm, c.chart, current, err, out)
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

			if out, err := h.run(t, "upgrade", "flink", next, "-n", ns, "--wait", "--timeout", "3m"); err != nil {
				t.Fatalf("%s upgrade to %s: %v\n%s", c.helm, ch.Metadata.Version, err, out)
			}
			out, err := h.run(t, "list", "-n", ns)
			if err != nil || !strings.Contains(out, c.chart+"-"+ch.Metadata.Version) {
				t.Fatalf("the release does not run %s-%s after the upgrade: %v\n%s", c.chart, ch.Metadata.Version, err, out)
			}
			assertSamePods(t, "JobManager", jms, podUIDs(t, ns, releaseSel+"jobmanager"))
			assertSamePods(t, "TaskManagers", tms, podUIDs(t, ns, releaseSel+"taskmanager"))
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
// Kubernetes version of the Helm release, which our charts' kubeVersion accepts. And a checkout's
// charts (the library built in by make chart-deps, as e2e's setup does) render and lint without a
// word on stderr: tools that scan charts through `helm template` (checkov) count any as a failure.
func TestHelmTemplateOffline(t *testing.T) {
	for _, name := range []string{"helm3", "helm4"} {
		h := newHelm(t, name)
		out, err := h.run(t, "version", "--short")
		if err != nil || !strings.HasPrefix(out, env.versions[strings.ToUpper(name)+"_VERSION"]) {
			t.Errorf("%s version --short: %v %q, want %s", name, err, out, env.versions[strings.ToUpper(name)+"_VERSION"])
		}
		for _, chart := range []string{"flink-session", "flink-job"} {
			for _, args := range [][]string{{"template", "x"}, {"lint"}} {
				cmd := exec.CommandContext(t.Context(), h.bin, append(args, filepath.Join(env.root, "charts", chart))...)
				cmd.Env = h.env()
				var stdout, stderr strings.Builder
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				if err != nil || stderr.Len() > 0 || (args[0] == "template" && !strings.Contains(stdout.String(), "kind: Deployment")) {
					t.Errorf("%s %s %s: %v\nstderr:\n%s\nstdout:\n%s", name, args[0], chart, err, stderr.String(), clip(stdout.String()))
				}
			}
		}
	}
}
