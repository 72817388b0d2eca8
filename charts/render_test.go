package charts

import (
	"flag"
	"io"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/getter"
	"helm.sh/helm/v3/pkg/releaseutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/helm-flink/helm-flink/plugin/chartdir"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestMain(m *testing.M) {
	// Helm's SDK logs on the standard logger: noise here.
	log.SetOutput(io.Discard)
	os.Exit(m.Run())
}

var charts = []string{"flink-session", "flink-job"}

// render renders a chart as `helm template` does (hooks and test pods included), against the
// stack's Kubernetes version.
func render(t *testing.T, chart string, files []string, set ...string) string {
	t.Helper()
	return renderChart(t, load(t, chart), files, set...)
}

func load(t *testing.T, dir string) *chart.Chart {
	t.Helper()
	ch, err := chartdir.Load(dir)
	if err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	return ch
}

func renderChart(t *testing.T, ch *chart.Chart, files []string, set ...string) string {
	t.Helper()
	return renderAs(t, ch, "golden", "flink", files, set...)
}

// renderAs renders the chart as release name in namespace ns.
func renderAs(t *testing.T, ch *chart.Chart, name, ns string, files []string, set ...string) string {
	t.Helper()
	vals, err := (&values.Options{ValueFiles: files, Values: set}).MergeValues(getter.Providers{})
	if err != nil {
		t.Fatal(err)
	}
	install := action.NewInstall(&action.Configuration{})
	install.DryRun, install.ClientOnly, install.Replace = true, true, true
	install.ReleaseName, install.Namespace = name, ns
	install.KubeVersion = &chartutil.KubeVersion{Version: "v1.37.2", Major: "1", Minor: "37"}
	// As on a cluster with the prometheus-operator CRDs.
	install.APIVersions = chartutil.VersionSet{"monitoring.coreos.com/v1", "monitoring.coreos.com/v1/PodMonitor"}
	rel, err := install.Run(ch, vals)
	if err != nil {
		t.Fatalf("render %s %v %v: %v", ch.Name(), files, set, err)
	}
	var b strings.Builder
	b.WriteString(rel.Manifest)
	hooks := rel.Hooks
	sort.Slice(hooks, func(i, j int) bool { return hooks[i].Path < hooks[j].Path })
	for _, h := range hooks {
		b.WriteString("---\n# Source: " + h.Path + "\n" + h.Manifest + "\n")
	}
	b.WriteString("---\n# NOTES.txt\n" + rel.Info.Notes + "\n")
	return b.String()
}

func valuesSets(t *testing.T, chart string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(chart, "ci", "*-values.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("%s has no ci/*-values.yaml: %v", chart, err)
	}
	return files
}

func TestGolden(t *testing.T) {
	for _, chart := range charts {
		for _, file := range valuesSets(t, chart) {
			name := strings.TrimSuffix(filepath.Base(file), "-values.yaml")
			t.Run(chart+"/"+name, func(t *testing.T) {
				got := render(t, chart, []string{file})
				golden := filepath.Join("testdata", chart, name+".golden.yaml")
				if *update {
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./charts -update)", err)
				}
				if got != string(want) {
					t.Fatalf("%s renders differently from %s (review, then go test ./charts -update):\n%s", file, golden, lineDiff(string(want), got))
				}
			})
		}
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	for _, chart := range charts {
		for _, file := range valuesSets(t, chart) {
			if a, b := render(t, chart, []string{file}), render(t, chart, []string{file}); a != b {
				t.Fatalf("%s with %s renders differently twice:\n%s", chart, file, lineDiff(a, b))
			}
		}
	}
}

// Scaling is a replicas change and nothing else: no pod of the release restarts. (The NOTES,
// which count what the release requests, follow the replicas.)
func TestReplicasChangeOnlyChangesReplicas(t *testing.T) {
	objects := func(manifest string) string { return manifest[:strings.LastIndex(manifest, "---\n# NOTES.txt\n")] }
	for _, chart := range charts {
		a := objects(render(t, chart, nil))
		b := objects(render(t, chart, nil, "taskmanager.replicas=7"))
		diff := changedLines(a, b)
		if len(diff) != 1 || strings.TrimSpace(diff[0][1]) != "replicas: 7" {
			t.Fatalf("%s: taskmanager.replicas=7 changed %d lines, want only the TaskManager replicas: %v", chart, len(diff), diff)
		}
		if !strings.Contains(diff[0][2], "kind: Deployment") || !strings.Contains(diff[0][2], "-taskmanager") {
			t.Fatalf("%s: the replicas change is not in the TaskManager Deployment:\n%s", chart, diff[0][2])
		}
	}
}

// A Flink configuration change rolls every Flink pod through the config checksum.
func TestConfigChangeRollsPods(t *testing.T) {
	for _, chart := range charts {
		a := render(t, chart, nil)
		b := render(t, chart, nil, "flinkConfiguration.execution\\.checkpointing\\.interval=10s")
		var checksums int
		for _, d := range changedLines(a, b) {
			if strings.Contains(d[1], "checksum/config:") {
				checksums++
			}
		}
		if want := strings.Count(a, "checksum/config:"); checksums != want || want < 2 {
			t.Fatalf("%s: a config change changed %d of %d config checksums", chart, checksums, want)
		}
	}
}

// changedLines pairs the lines of two renders of the same shape: [old, new, the document].
func changedLines(a, b string) [][3]string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out [][3]string
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			start := i
			for start > 0 && al[start] != "---" {
				start--
			}
			end := i
			for end < len(al) && end-start < 12 {
				end++
			}
			out = append(out, [3]string{al[i], bl[i], strings.Join(al[start:end], "\n")})
		}
	}
	if len(al) != len(bl) {
		out = append(out, [3]string{"(line count)", "(differs)", ""})
	}
	return out
}

func lineDiff(want, got string) string {
	var b strings.Builder
	for _, d := range changedLines(want, got) {
		b.WriteString("- " + d[0] + "\n+ " + d[1] + "\n")
		if b.Len() > 4000 {
			break
		}
	}
	return b.String()
}

// A release or namespace named like a YAML 1.1 boolean (n, no, on, y…) still renders objects
// Kubernetes can decode: every name and label value is a string, the TaskManager pod template of
// native mode included.
func TestBooleanLookingNames(t *testing.T) {
	for _, chart := range charts {
		ch := load(t, chart)
		for _, file := range valuesSets(t, chart) {
			rendered := renderAs(t, ch, "no", "on", []string{file})
			rendered = rendered[:strings.LastIndex(rendered, "---\n# NOTES.txt\n")]
			for _, doc := range releaseutil.SplitManifests(rendered) {
				var o struct {
					Kind     string            `json:"kind"`
					Metadata metav1.ObjectMeta `json:"metadata"`
					Data     map[string]string `json:"data"`
				}
				if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
					t.Fatalf("%s %s as release no in namespace on: %v\n%s", chart, file, err, doc)
				}
				if tpl := o.Data["taskmanager-pod-template.yaml"]; tpl != "" {
					var pod corev1.Pod
					if err := yaml.Unmarshal([]byte(tpl), &pod); err != nil {
						t.Fatalf("%s %s: the TaskManager pod template: %v\n%s", chart, file, err, tpl)
					}
					if pod.Labels["app.kubernetes.io/instance"] != "no" {
						t.Fatalf("%s %s: pod template labels %v", chart, file, pod.Labels)
					}
				}
				if o.Kind != "" && (o.Metadata.Namespace != "on" || o.Metadata.Labels["app.kubernetes.io/instance"] != "no") {
					t.Fatalf("%s %s: %s %s in namespace %q, labels %v", chart, file, o.Kind, o.Metadata.Name, o.Metadata.Namespace, o.Metadata.Labels)
				}
			}
		}
	}
}
