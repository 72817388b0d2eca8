package charts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/yaml"

	"github.com/helm-flink/helm-flink/plugin/savepoint"
)

// The session's pre-upgrade hook writes the savepoint it took into the release's savepoint
// record as the plugin does: the same ConfigMap name, an entry the plugin reads back against
// the revision being left, and the entries already there kept (the record is applied whole).
func TestHookRecordsSavepointAsThePluginReads(t *testing.T) {
	objs := renderUpgrade(t, load(t, "flink-session"), []string{submitSet}, nil)
	stop := objs["Job/golden-flink-session-pre-upgrade"]
	var script string
	for _, c := range stop.Spec.Template.Spec.InitContainers {
		if c.Name == "stop" {
			script = c.Args[0]
		}
	}
	// The record's lines, with the quote function they use, run by bash as the hook runs them.
	var lines []string
	in := false
	for _, l := range strings.Split(script, "\n") {
		switch {
		case strings.HasPrefix(l, "quote() "):
			lines = append(lines, l)
		case strings.HasPrefix(l, "now=$(date"):
			in = true
		}
		if in {
			lines = append(lines, l)
		}
		if strings.HasPrefix(l, "} > /out/record.yaml") {
			in = false
		}
	}
	if len(lines) < 3 || in {
		t.Fatalf("no savepoint record lines in the stop hook:\n%s", script)
	}
	dir := t.TempDir()
	record, out := filepath.Join(dir, "record"), filepath.Join(dir, "out")
	for _, d := range []string{record, out} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	earlier := `{"revision":1,"jobId":"0123456789abcdef0123456789abcdef","path":"s3://b/sp \"1\"","reason":"stop","time":"2026-12-01T00:00:00Z"}`
	if err := os.WriteFile(filepath.Join(record, "20261201T000000.000000000Z-01234567"), []byte(earlier), 0o644); err != nil {
		t.Fatal(err)
	}
	run := strings.NewReplacer("/etc/helm-flink/record", record, "/out/", out+"/").Replace(strings.Join(lines, "\n"))
	cmd := exec.Command("bash", "-c", "set -eu\n"+run)
	cmd.Env = append(os.Environ(), "stop=fedcba9876543210fedcba9876543210", "location=file:/flink-data/savepoints/savepoint-fedcba-1", "JOB_NAME=Top Speed")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the hook's record lines: %v\n%s", err, b)
	}
	b, err := os.ReadFile(filepath.Join(out, "record.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cm corev1.ConfigMap
	if err := yaml.UnmarshalStrict(b, &cm); err != nil {
		t.Fatalf("record.yaml: %v\n%s", err, b)
	}
	if cm.Name != savepoint.Name("golden") || cm.Namespace != "flink" || cm.Labels[savepoint.RecordLabel] != "golden" {
		t.Fatalf("the hook writes record %s/%s %v; the plugin reads %s labelled %s=golden", cm.Namespace, cm.Name, cm.Labels, savepoint.Name("golden"), savepoint.RecordLabel)
	}
	r := savepoint.Record{Kube: fake.NewClientset(&cm), Namespace: "flink", Release: "golden"}
	entries, err := r.List(t.Context())
	if err != nil || len(entries) != 2 {
		t.Fatalf("the plugin reads %+v, %v from:\n%s", entries, err, b)
	}
	if e := entries[0]; e.Path != `s3://b/sp "1"` {
		t.Errorf("the earlier entry came back as %+v", e)
	}
	e := entries[1]
	if e.Revision != 1 || e.JobID != "fedcba9876543210fedcba9876543210" || e.JobName != "Top Speed" || e.Path != "file:/flink-data/savepoints/savepoint-fedcba-1" || e.Reason != savepoint.Upgrade || e.Time.IsZero() {
		t.Errorf("the hook's entry reads as %+v", e)
	}
}

// A plain helm uninstall deletes the savepoint record only when its savepoints go with the
// release (on its claim, not kept), as helm flink uninstall does.
func TestCleanupDeletesRecordWithItsSavepoints(t *testing.T) {
	for _, c := range []struct {
		name    string
		set     []string
		deletes bool
	}{
		{"savepoints on the claim", nil, true},
		{"claim kept", []string{"persistence.keepOnUninstall=true"}, false},
		{"savepoints in object storage", []string{"flinkConfiguration.state\\.savepoints\\.dir=s3://bucket/savepoints"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			objs := objects(t, render(t, "flink-session", []string{submitSet}, c.set...))
			cleanup, ok := objs["Job/golden-flink-session-submit-cleanup"]
			if !ok {
				t.Fatal("no cleanup hook")
			}
			args := strings.Join(cleanup.Spec.Template.Spec.Containers[0].Args, " ")
			if strings.Contains(args, " "+savepoint.Name("golden")+" ") != c.deletes {
				t.Fatalf("cleanup %q: deletes the record %v, want %v", args, !c.deletes, c.deletes)
			}
		})
	}
}
