package install

import (
	"regexp"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/release"
)

// The plugin must wait for exactly the job id the chart gives the application's JobManager.
func TestApplicationJobIDMatchesTheChart(t *testing.T) {
	ch, err := loader.Load("../../charts/flink-job")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, ns string
		vals     map[string]any
	}{
		{"app", "default", nil},
		{"fraud-detection", "team-a", nil},
		{"app", "default", map[string]any{"job": map[string]any{"jobId": "00000000000000000000000000000abc"}}},
	} {
		install := action.NewInstall(&action.Configuration{})
		install.ReleaseName, install.Namespace = tc.name, tc.ns
		install.DryRun, install.ClientOnly, install.Replace = true, true, true
		install.KubeVersion = &chartutil.KubeVersion{Version: "v1.37.2", Major: "1", Minor: "37"}
		rel, err := install.Run(ch, tc.vals)
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`- "?--job-id"?\n\s*- "?([0-9a-f]{32})"?`).FindStringSubmatch(rel.Manifest)
		if m == nil {
			t.Fatalf("no --job-id in the rendered JobManager:\n%s", rel.Manifest)
		}
		got := ApplicationJobID(&release.Release{Name: tc.name, Namespace: tc.ns, Config: tc.vals, Chart: ch})
		if got != m[1] {
			t.Errorf("%s/%s: plugin waits for %s, chart runs %s", tc.ns, tc.name, got, m[1])
		}
	}
}

func TestJobFlagsBecomeApplicationValues(t *testing.T) {
	o := NewOptions()
	o.Job.Jar = "https://repo.example.com/job.jar"
	o.Job.EntryClass = "com.example.Job"
	o.Job.Args = []string{"--input", "a b", `"quoted"`}
	o.Job.Parallelism = 4
	if err := o.jobValues("application"); err != nil {
		t.Fatal(err)
	}
	want := `job.args=["--input","a b","\"quoted\""]`
	if len(o.Values.JSONValues) != 1 || o.Values.JSONValues[0] != want {
		t.Fatalf("args as --set-json: %q, want %q", o.Values.JSONValues, want)
	}
	o = NewOptions()
	o.Job.Jar = "/tmp/job.jar"
	if err := o.jobValues("application"); err == nil {
		t.Fatal("a local jar file for an application chart must be refused: the pods cannot see it")
	}
	o = NewOptions()
	o.Job.EntryClass = "com.example.Job"
	if err := o.jobValues("session"); err == nil {
		t.Fatal("--entry-class without --jar on a session chart must be refused")
	}
}
