package act_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/release"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/internal/fake"
	"github.com/helm-flink/helm-flink/plugin/jobmanager"

	"github.com/helm-flink/helm-flink/plugin/chartdir"
)

func TestChartMode(t *testing.T) {
	for dir, want := range map[string]act.Mode{"../../charts/flink-session": act.Session, "../../charts/flink-job": act.Application} {
		ch, err := chartdir.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got := act.ChartMode(ch); got != want {
			t.Errorf("%s: %s, want %s", dir, got, want)
		}
	}
	renamed := &chart.Chart{Metadata: &chart.Metadata{Name: "streams", Annotations: map[string]string{act.ModeAnnotation: "application"}}}
	if act.ChartMode(renamed) != act.Application {
		t.Error("the annotation must win over the name")
	}
}

// The plugin waits for exactly the job id the chart gives the application's JobManager.
func TestJobIDIsTheChartsOwn(t *testing.T) {
	for _, tc := range []struct {
		name string
		vals map[string]any
	}{
		{"app", nil},
		{"fraud-detection", nil},
		{"app", map[string]any{"job": map[string]any{"jobId": "00000000000000000000000000000abc"}}},
	} {
		cfg := fake.Config(t, "")
		rel := fake.Install(t, cfg, tc.name, "flink-job", tc.vals)
		m := regexp.MustCompile(`- "?--job-id"?\n\s*- "?([0-9a-f]{32})"?`).FindStringSubmatch(rel.Release.Manifest)
		got, err := rel.JobID()
		if m == nil || err != nil || got != m[1] {
			t.Errorf("%s: plugin waits for %q (%v), chart runs %v", tc.name, got, err, m)
		}
	}
	if _, err := fake.Install(t, fake.Config(t, ""), "s", "flink-session", nil).JobID(); err == nil {
		t.Error("a session release runs no job of its own")
	}
}

func TestLoad(t *testing.T) {
	cfg := fake.Config(t, "")
	_, err := cfg.Load("nope")
	if exit.Code(err) != exit.Input || !strings.Contains(err.Error(), "in namespace flink (see helm list -n flink)") {
		t.Fatalf("a release that does not exist: exit %d: %v", exit.Code(err), err)
	}
	fake.Install(t, cfg, "there", "flink-session", map[string]any{"taskmanager": map[string]any{"replicas": 3}})
	rel, err := cfg.Load("there")
	if err != nil || rel.Name != "there" || rel.Mode() != act.Session || len(rel.Objects) == 0 {
		t.Fatalf("%v, %v", err, rel)
	}
	tm, _ := rel.Values["taskmanager"].(map[string]any)
	if tm["replicas"] != 3 || rel.Values["image"] == nil {
		t.Errorf("the values as the templates saw them: the user's over the chart's defaults, got taskmanager %v, image %v", tm, rel.Values["image"])
	}
}

// Each of the four kinds of cluster is told from the release as the charts render it.
func TestKindOf(t *testing.T) {
	native := map[string]any{"mode": "native"}
	for _, tc := range []struct {
		chart  string
		vals   map[string]any
		want   string
		native bool
	}{
		{"flink-session", nil, "standalone session", false},
		{"flink-session", native, "native session", true},
		{"flink-job", nil, "standalone application", false},
		{"flink-job", native, "native application", true},
	} {
		rel := fake.Install(t, fake.Config(t, ""), "k", tc.chart, tc.vals)
		k := rel.Kind
		if k.String() != tc.want || (k.Native(nil) != nil) != tc.native || (k.ClusterID() != "") != tc.native {
			t.Errorf("%s %v: %s (native %v, cluster id %q), want %s", tc.chart, tc.vals, k, k.Native(nil), k.ClusterID(), tc.want)
		}
		jms, err := k.Retiring(context.Background(), fake.Config(t, "").Kube, rel)
		if err != nil || (jms != nil) != tc.native {
			t.Errorf("%s: JobManager pods to retire the TaskManagers of %v (%v): only native TaskManagers are the JobManager's", tc.want, jms, err)
		}
	}
}

// An application's job flags are chart values, as they are (no string round trip); a session
// takes them as flags of the submission.
func TestJobValues(t *testing.T) {
	job := jobmanager.Spec{Jar: "https://repo.example.com/job.jar", EntryClass: "com.example.Job",
		Args: []string{"--input", "a b", `"quoted"`, "k=v,w"}, Parallelism: 4, Savepoint: "s3://b/sp-1", AllowNonRestoredState: true}
	got, err := act.JobsOf(act.Application).Values(job)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"parallelism": int64(4), "job": map[string]any{
		"jarURI": job.Jar, "entryClass": job.EntryClass, "args": []any{"--input", "a b", `"quoted"`, "k=v,w"},
		"fromSavepoint": job.Savepoint, "allowNonRestoredState": true}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("application values\n got %#v\nwant %#v", got, want)
	}
	if _, err := act.JobsOf(act.Application).Values(jobmanager.Spec{Jar: "/tmp/job.jar"}); err == nil {
		t.Error("a local jar file for an application chart must be refused: the pods cannot see it")
	}
	if v, err := act.JobsOf(act.Session).Values(jobmanager.Spec{Jar: "/tmp/job.jar", Parallelism: 2}); v != nil || err != nil {
		t.Errorf("a session's job is submitted, not a value: %v %v", v, err)
	}
	if _, err := act.JobsOf(act.Session).Values(jobmanager.Spec{EntryClass: "com.example.Job"}); err == nil {
		t.Error("--entry-class without --jar on a session chart must be refused")
	}
}

func TestFluxOwner(t *testing.T) {
	byLabels := &release.Release{Name: "r", Namespace: "apps", Labels: map[string]string{
		"helm.toolkit.fluxcd.io/name": "flink", "helm.toolkit.fluxcd.io/namespace": "flux-system"}}
	if got, ok := act.FluxOwner(byLabels); !ok || got != "flux-system/flink" {
		t.Errorf("storage labels: %q %v", got, ok)
	}
	err := act.RefuseFlux(byLabels, "undo this upgrade")
	if exit.Code(err) != exit.Input || !strings.Contains(err.Error(), "managed by Flux HelmRelease flux-system/flink, which would undo this upgrade") {
		t.Errorf("refusal: %v", err)
	}
	byManifest := &release.Release{Namespace: "apps", Manifest: "---\n# Source: x/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels:\n    helm.toolkit.fluxcd.io/name: \"flink\"\n"}
	if got, ok := act.FluxOwner(byManifest); !ok || got != "apps/flink" {
		t.Errorf("object labels: %q %v", got, ok)
	}
	plain := &release.Release{Manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"}
	if _, ok := act.FluxOwner(plain); ok || act.RefuseFlux(plain, "x") != nil {
		t.Error("a plain release is not Flux's")
	}
}

// Helm's own timeouts get what is left of the command's.
func TestHelmTimeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if d := act.HelmTimeout(ctx); d <= 50*time.Second || d > time.Minute {
		t.Errorf("%s left of a minute", d)
	}
	if d := act.HelmTimeout(context.Background()); d != 5*time.Minute {
		t.Errorf("no deadline: %s", d)
	}
}

// A chart loaded by the plugin carries its library's templates itself: it renders the same as
// the chart with its library, and still does after Helm stored it (without its dependencies).
func TestFoldedChartRendersAsStored(t *testing.T) {
	vals := map[string]map[string]any{
		"flink-job":     {"job": map[string]any{"jarURI": "local:///opt/flink/usrlib/job.jar"}},
		"flink-session": {},
	}
	render := func(ch *chart.Chart) string {
		t.Helper()
		i := action.NewInstall(&action.Configuration{})
		i.ReleaseName, i.Namespace, i.DryRun, i.ClientOnly, i.Replace = "flink", "ns", true, true, true
		i.KubeVersion = &chartutil.KubeVersion{Version: "v1.33.0", Major: "1", Minor: "33"}
		rel, err := i.Run(ch, vals[ch.Name()])
		if err != nil {
			t.Fatal(err)
		}
		return rel.Manifest
	}
	for _, name := range []string{"flink-job", "flink-session"} {
		plain, err := chartdir.Load("../../charts/" + name)
		if err != nil {
			t.Fatal(err)
		}
		cfg := act.New()
		folded, err := cfg.LoadChart(act.ChartRef{Name: "../../charts/" + name})
		if err != nil {
			t.Fatal(err)
		}
		want := render(plain)
		if got := render(folded); got != want {
			t.Fatalf("%s: the folded chart renders otherwise", name)
		}
		// Helm's storage keeps exported fields only: no dependencies.
		b, err := json.Marshal(folded)
		if err != nil {
			t.Fatal(err)
		}
		var stored, bare chart.Chart
		if err := json.Unmarshal(b, &stored); err != nil {
			t.Fatal(err)
		}
		if !act.Renderable(&stored) {
			t.Fatalf("%s: the stored folded chart is not renderable", name)
		}
		if got := render(&stored); got != want {
			t.Fatalf("%s: the stored chart renders otherwise", name)
		}
		b, _ = json.Marshal(plain)
		if err := json.Unmarshal(b, &bare); err != nil {
			t.Fatal(err)
		}
		if act.Renderable(&bare) {
			t.Fatalf("%s: a chart stored without its library is taken for renderable", name)
		}
	}
}

// A standalone session refuses, before anything is submitted, a job wider than every slot its
// TaskManagers can have, with the numbers; a native one has no such bound.
func TestRunJarRefusesAJobWiderThanTheCluster(t *testing.T) {
	cfg := fake.Config(t, "")
	rel := fake.Install(t, cfg, "s", "flink-session", map[string]any{"taskmanager": map[string]any{"replicas": 2, "numberOfTaskSlots": 2}})
	_, err := cfg.RunJar(context.Background(), rel, &jobmanager.JobManager{}, jobmanager.Spec{Jar: "x.jar", Parallelism: 5}, true)
	if exit.Code(err) != exit.JobFailed || !strings.Contains(fmt.Sprint(err), "--parallelism 5: release s has 4 task slots (taskmanager.replicas 2 × taskmanager.numberOfTaskSlots 2)") {
		t.Errorf("exit %d: %v", exit.Code(err), err)
	}
	native := fake.Install(t, cfg, "n", "flink-session", map[string]any{"mode": "native"})
	if _, err := cfg.RunJar(context.Background(), native, &jobmanager.JobManager{}, jobmanager.Spec{Jar: "x.jar", Parallelism: 5}, true); strings.Contains(fmt.Sprint(err), "task slots") {
		t.Errorf("native without native.maxTaskManagers has no bound: %v", err)
	}
}
