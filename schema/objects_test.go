package schema

import (
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/strvals"
)

func checkObjects(t *testing.T, chartName, release string, set ...string) []Problem {
	t.Helper()
	ch := loadChart(t, chartName)
	user := map[string]any{}
	for _, s := range set {
		if err := strvals.ParseInto(s, user); err != nil {
			t.Fatal(err)
		}
	}
	problems, err := CheckObjects(ch, coalesced(t, ch, user), user, chartutil.ReleaseOptions{Name: release, Namespace: "flink"})
	if err != nil {
		t.Fatal(err)
	}
	return problems
}

// Values the schema passes that make objects the API server refuses are caught before install,
// once per cause, at the value that holds the offending text.
func TestCheckObjects(t *testing.T) {
	for _, c := range []struct {
		name, chart, release string
		set                  []string
		path, message        string
	}{
		{"a release name Services cannot have", "flink-session", "my.app", nil,
			"", `release name "my.app" makes invalid objects: the rendered Service my.app-flink-session`},
		{"an int32 out of range", "flink-session", "r", []string{"taskmanager.replicas=3000000000"},
			"taskmanager.replicas", "cannot decode it"},
		{"a label value", "flink-job", "r", []string{"podLabels.team=not a label value"},
			"podLabels.team", "metadata.labels"},
		{"a ConfigMap over 1 MiB", "flink-session", "r", []string{"log4j=" + strings.Repeat("x", 1<<20)},
			"log4j", "over the API server's limit"},
		{"a probe's port", "flink-session", "r", []string{"jobmanager.livenessProbe.tcpSocket.port=70000"},
			"jobmanager.livenessProbe.tcpSocket.port", "livenessProbe.port"},
		{"the chart's own refusal", "flink-session", "r", []string{"submit.enabled=true"},
			"", "the chart refuses these values: submit.enabled without highAvailability"},
	} {
		t.Run(c.name, func(t *testing.T) {
			problems := checkObjects(t, c.chart, c.release, c.set...)
			if len(problems) != 1 || problems[0].Path != c.path || !strings.Contains(problems[0].Message, c.message) {
				t.Errorf("got %d problems %v, want one at %q saying %q", len(problems), problems, c.path, c.message)
			}
		})
	}
}

// Every values set the charts ship (ci/*-values.yaml) renders objects the checks accept, with the
// longest release name Helm allows.
func TestCheckObjectsAcceptsTheShippedValues(t *testing.T) {
	for _, name := range chartNames {
		for _, release := range []string{"r", strings.Repeat("a", 53)} {
			ci, _ := filepath.Glob(filepath.Join("..", "charts", name, "ci", "*-values.yaml"))
			good, _ := filepath.Glob(filepath.Join("testdata", name, "good", "*.yaml"))
			for _, f := range append(ci, good...) {
				ch := loadChart(t, name)
				user := readValues(t, f)
				problems, err := CheckObjects(ch, coalesced(t, ch, user), user, chartutil.ReleaseOptions{Name: release, Namespace: "flink"})
				// Flink's own 45-character limit on a native cluster id is the chart's to refuse.
				if len(problems) == 1 && strings.Contains(problems[0].Message, "longer than Flink's 45 characters") && len(release) > 45 {
					continue
				}
				if err != nil || len(problems) > 0 {
					t.Errorf("%s %s release %s: %v %v", name, f, release, problems, err)
				}
			}
		}
	}
}
