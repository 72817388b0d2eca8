package charts

import (
	"fmt"
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

// hookLines are the lines of script from the first that starts with from to the first after it
// that starts with to.
func hookLines(t *testing.T, script, from, to string) string {
	t.Helper()
	var lines []string
	in := false
	for _, l := range strings.Split(script, "\n") {
		if strings.HasPrefix(l, from) {
			in = true
		}
		if in {
			lines = append(lines, l)
			if strings.HasPrefix(l, to) && len(lines) > 1 {
				return strings.Join(lines, "\n")
			}
		}
	}
	t.Fatalf("no lines from %q to %q in:\n%s", from, to, script)
	return ""
}

// The session's submit hook reads what the release's records say of its job — whether it ran
// (the jobs record, else the state of a chart before 0.5), the savepoint it resumes from (the
// newest of it recorded since its last submission) — and records its submission in the jobs
// record as the plugin reads it, keeping the entries of other writers.
func TestSubmitHookFollowsTheRecords(t *testing.T) {
	objs := objects(t, render(t, "flink-session", []string{submitSet}))
	var script string
	for _, c := range objs["Job/golden-flink-session-submit"].Spec.Template.Spec.InitContainers {
		if c.Name == "submit" {
			script = c.Args[0]
		}
	}
	funcs := hookLines(t, script, "quote() ", "  echo \"$path\"") + "\n}"
	record := hookLines(t, script, "  at=$(date", "  } > /out/jobs.yaml")
	const job, other = "Top \"Speed\"", "0123456789abcdef0123456789abcdef"
	type files map[string]string
	run := func(t *testing.T, jobs, sps, state files, line string) (string, string) {
		t.Helper()
		dir := t.TempDir()
		for sub, fs := range map[string]files{"jobs": jobs, "record": sps, "state": state, "out": nil} {
			if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
				t.Fatal(err)
			}
			for k, v := range fs {
				if err := os.WriteFile(filepath.Join(dir, sub, k), []byte(v), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		text := strings.NewReplacer("/etc/helm-flink/", dir+"/", "/out/", dir+"/out/").Replace(funcs + "\n" + line)
		cmd := exec.Command("bash", "-c", "set -eu\n"+text)
		cmd.Env = append(os.Environ(), "JOB_NAME="+job, "JAR=/opt/flink/examples/streaming/TopSpeedWindowing.jar")
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v\n%s", err, b)
		}
		out, _ := os.ReadFile(filepath.Join(dir, "out", "jobs.yaml"))
		return strings.TrimSpace(string(b)), string(out)
	}
	mine := func(rev int) string {
		return fmt.Sprintf(`{"jobId":"fedcba9876543210fedcba9876543210","jarId":"","name":"Top \"Speed\"","revision":%d,"time":"2026-12-01T00:00:00Z"}`, rev)
	}
	plugins := `{"jobId":"` + other + `","jarId":"1234_job.jar","revision":1,"time":"2026-12-01T00:00:00Z"}`
	sp := func(rev int, name, path string) string {
		return fmt.Sprintf(`{"revision":%d,"jobId":"fedcba9876543210fedcba9876543210","jobName":%q,"path":%q,"reason":"upgrade","time":"2026-12-01T00:00:00Z"}`, rev, name, path)
	}
	savepoints := files{
		"20261201T000000.000000000Z-fedcba98": sp(1, job, "file:/sp/rev-1"),
		"20261202T000000.000000000Z-fedcba98": sp(3, job, "file:/sp/rev-3"),
		"20261203T000000.000000000Z-01234567": sp(4, "another job", "file:/sp/other"),
	}
	for _, c := range []struct {
		name             string
		jobs, sps, state files
		ran, pending     string
	}{
		{"never ran", files{"x": plugins}, savepoints, nil, "", "file:/sp/rev-3"},
		{"ran in revision 2", files{"x": plugins, "y": mine(2)}, savepoints, nil, "2", "file:/sp/rev-3"},
		{"ran in revision 4", files{"y": mine(4)}, savepoints, nil, "4", ""},
		{"ran under chart 0.4", nil, nil, files{"job-ran": "true", "savepoint": "file:/sp/legacy"}, "0", "file:/sp/legacy"},
		{"ran under chart 0.4, then stopped", nil, savepoints, files{"job-ran": "true", "savepoint": ""}, "0", "file:/sp/rev-3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got, _ := run(t, c.jobs, c.sps, c.state, `ran=$(submitted); echo "$ran|$(pending "$ran")"`); got != c.ran+"|"+c.pending {
				t.Errorf("submitted|pending %q, want %q", got, c.ran+"|"+c.pending)
			}
		})
	}
	_, out := run(t, files{other: plugins, "fedcba9876543210fedcba9876543210": mine(2)}, nil, nil, "id=00000000000000000000000000000abc\n"+record)
	var cm corev1.ConfigMap
	if err := yaml.UnmarshalStrict([]byte(out), &cm); err != nil {
		t.Fatalf("jobs.yaml: %v\n%s", err, out)
	}
	if cm.Name != savepoint.JobsName("golden") || cm.Labels[savepoint.JobsLabel] != "golden" {
		t.Fatalf("the hook writes record %s %v; the plugin reads %s labelled %s=golden", cm.Name, cm.Labels, savepoint.JobsName("golden"), savepoint.JobsLabel)
	}
	subs, err := savepoint.Jobs{Kube: fake.NewClientset(&cm), Namespace: "flink", Release: "golden"}.List(t.Context())
	if err != nil || len(subs) != 2 {
		t.Fatalf("the plugin reads %+v, %v from:\n%s", subs, err, out)
	}
	if s := subs["00000000000000000000000000000abc"]; s.Name != job || s.JarID != "" || s.Revision != 1 || s.Jar != "/opt/flink/examples/streaming/TopSpeedWindowing.jar" {
		t.Errorf("the hook's entry reads as %+v", s)
	}
	if s := subs[other]; s.JarID != "1234_job.jar" {
		t.Errorf("the plugin's entry came back as %+v", s)
	}
}
