package manifest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func golden(t *testing.T, chart, name string) (Manifest, string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("../../charts/testdata", chart, name+".golden.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The golden files end with the rendered NOTES.txt, which no release manifest holds.
	text, _, _ := strings.Cut(string(data), "\n---\n# NOTES.txt")
	m, err := Parse(text)
	if err != nil {
		t.Fatalf("%s/%s: %v", chart, name, err)
	}
	return m, text
}

// Every golden render of both charts decodes: typed where client-go knows the kind.
func TestParseGoldenRenders(t *testing.T) {
	files, _ := filepath.Glob("../../charts/testdata/*/*.golden.yaml")
	if len(files) == 0 {
		t.Fatal("no golden renders")
	}
	for _, f := range files {
		chart, name := filepath.Base(filepath.Dir(f)), filepath.Base(f)
		m, _ := golden(t, chart, name[:len(name)-len(".golden.yaml")])
		if len(m) == 0 || m.JobManager() == nil {
			t.Errorf("%s: %d objects, JobManager %v", f, len(m), m.JobManager())
		}
		for _, o := range m {
			if u, ok := o.(*unstructured.Unstructured); ok && u.GetAPIVersion() != "monitoring.coreos.com/v1" {
				t.Errorf("%s: %s %s left unstructured", f, u.GetKind(), u.GetName())
			}
		}
	}
	m, _ := golden(t, "flink-session", "default")
	if _, ok := m[0].(*networkingv1.NetworkPolicy); !ok || m.Label("app.kubernetes.io/instance") != "golden" {
		t.Errorf("labels: %q", m.Label("app.kubernetes.io/instance"))
	}
	if got := (Manifest{&appsv1.Deployment{}}).JobManager(); got != nil {
		t.Error("a Deployment without the jobmanager label is not the JobManager")
	}
	if m, err := Parse("# Source: empty.yaml\n---\n\n"); err != nil || len(m) != 0 {
		t.Errorf("comments only: %v, %v", m, err)
	}
	if _, err := Parse("kind: [\n"); err == nil {
		t.Error("broken YAML must be an error")
	}
}

// The application's job id is the one the chart renders into its JobManager's arguments.
func TestJobID(t *testing.T) {
	m, text := golden(t, "flink-job", "default")
	want := regexp.MustCompile(`- --job-id\n\s*- ([0-9a-f]{32})`).FindStringSubmatch(text)
	if want == nil || m.JobID() != want[1] {
		t.Fatalf("job id %q, the chart renders %v", m.JobID(), want)
	}
	// Native mode: no JobManager arguments, the job id is in the configuration.
	m, text = golden(t, "flink-job", "native")
	want = regexp.MustCompile(`\$internal\.pipeline\.job-id: ([0-9a-f]{32})`).FindStringSubmatch(text)
	if want == nil || m.JobID() != want[1] || !m.Native() {
		t.Fatalf("native job id %q (native %t), the chart renders %v", m.JobID(), m.Native(), want)
	}
	if s, _ := golden(t, "flink-session", "default"); s.JobID() != "" || s.Native() {
		t.Errorf("a standalone session names no job id: %q (native %t)", s.JobID(), s.Native())
	}
}

// The cluster id is read from the rendered Flink configuration of an HA release, flat or nested.
func TestClusterID(t *testing.T) {
	if m, _ := golden(t, "flink-session", "ha"); m.ClusterID() != "golden-flink-session" {
		t.Fatalf("cluster id %q", m.ClusterID())
	}
	if m, _ := golden(t, "flink-session", "default"); m.ClusterID() != "" {
		t.Fatalf("no HA, yet cluster id %q", m.ClusterID())
	}
	if m, _ := golden(t, "flink-session", "native"); m.ClusterID() != "golden-flink-session" || !m.Native() {
		t.Fatalf("native: cluster id %q, native %t", m.ClusterID(), m.Native())
	}
	nested := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  config.yaml: |\n    kubernetes:\n      cluster-id: nested\n"
	if m, err := Parse(nested); err != nil || m.ClusterID() != "nested" {
		t.Fatalf("nested: %q %v", m.ClusterID(), err)
	}
}

// The TaskManagers a native JobManager starts with: the minimum slots over the slots of one
// TaskManager, rounded up; none without a minimum.
func TestNativeMinTaskManagers(t *testing.T) {
	m, text := golden(t, "flink-session", "native")
	slots := regexp.MustCompile(`slotmanager\.number-of-slots\.min: (\d+)`).FindStringSubmatch(text)
	if slots == nil || m.NativeMinTaskManagers() == 0 {
		t.Fatalf("the native golden render sets no minimum (%v): %d", slots, m.NativeMinTaskManagers())
	}
	conf := func(c string) int {
		m, err := Parse("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  config.yaml: |\n" + c)
		if err != nil {
			t.Fatal(err)
		}
		return m.NativeMinTaskManagers()
	}
	for c, want := range map[string]int{
		"    slotmanager.number-of-slots.min: 4\n    taskmanager.numberOfTaskSlots: 2\n": 2,
		"    slotmanager.number-of-slots.min: 5\n    taskmanager.numberOfTaskSlots: 2\n": 3,
		"    slotmanager:\n      number-of-slots:\n        min: 3\n":                     3,
		"    taskmanager.numberOfTaskSlots: 2\n":                                         0,
		"    slotmanager.number-of-slots.min: x\n":                                       0,
	} {
		if got := conf(c); got != want {
			t.Errorf("%q: %d, want %d", c, got, want)
		}
	}
}

// A session keeps uploaded jars where it keeps its state, on its claim; a session without one,
// or an application (which uploads nothing), keeps none.
func TestKeptUploadDir(t *testing.T) {
	for _, c := range []struct{ chart, name, want string }{
		{"flink-session", "persistence", "/flink-data/uploads"},
		{"flink-session", "ha", "/flink-data/uploads"},
		{"flink-session", "default", ""},
		{"flink-job", "savepoint", ""},
	} {
		if m, _ := golden(t, c.chart, c.name); m.KeptUploadDir() != c.want {
			t.Errorf("%s/%s: kept upload dir %q, want %q", c.chart, c.name, m.KeptUploadDir(), c.want)
		}
	}
	// A web.upload.dir the user sets off the claim does not outlive the JobManager.
	m, text := golden(t, "flink-session", "persistence")
	off, err := Parse(strings.Replace(text, "web.upload.dir: /flink-data/uploads", "web.upload.dir: /tmp/uploads", 1))
	if err != nil || m.KeptUploadDir() == "" || off.KeptUploadDir() != "" {
		t.Fatalf("web.upload.dir off the claim: %q (%v)", off.KeptUploadDir(), err)
	}
}
