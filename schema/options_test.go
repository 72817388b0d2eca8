package schema

import (
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"sigs.k8s.io/yaml"
)

// Flink options are checked as Flink parses them, one problem each, and what Flink accepts passes.
func TestFlinkOptionTypes(t *testing.T) {
	ch := loadChart(t, "flink-session")
	for _, c := range []struct {
		key  string
		val  any
		want string // "" for accepted
	}{
		{"execution.checkpointing.interval", "10 parsecs", "not a Flink duration"},
		{"execution.checkpointing.interval", "10 s", ""},
		{"execution.checkpointing.interval", "1min", ""},
		{"execution.checkpointing.interval", 60000, ""},
		{"execution.checkpointing.interval", "-5 s", "not a Flink duration"},
		{"restart-strategy.fixed-delay.attempts", "three", "not a whole number"},
		{"restart-strategy.fixed-delay.attempts", 3, ""},
		{"parallelism.default", 0, "not a whole number Flink accepts here"},
		{"restart-strategy.fixed-delay.attempts", 3000000000, "not a whole number Flink accepts here"},
		{"parallelism.default", 3000000000, "parallelism above the task slots"},
		{"execution.checkpointing.mode", "exactly-once", "not one of the values"},
		{"execution.checkpointing.mode", "EXACTLY_ONCE", ""},
		{"execution.checkpointing.mode", "at_least_once", ""},
		{"state.backend.incremental", "yes", "not a Flink boolean"},
		{"state.backend.incremental", true, ""},
		{"taskmanager.memory.managed.fraction", 1.5, "not a fraction"},
		{"restart-strategy.type", "fixed-delay", ""},
		{"restart-strategy.type", "sometimes", "not one of the values"},
		{"rest.port", 9000, "set by the chart"},
		{"rest.port", 8081, ""},
		{"rest.bind-address", "localhost", "set by the chart"},
	} {
		user := map[string]any{"flinkConfiguration": map[string]any{c.key: c.val}}
		got := check(t, ch, user, CheckOptions{ReleaseName: "r"})
		if c.want == "" && len(got) > 0 || c.want != "" && (len(got) != 1 || !strings.Contains(got[0], c.want) || !strings.Contains(got[0], "flinkConfiguration."+c.key)) {
			t.Errorf("%s: %v: got %q, want %q", c.key, c.val, got, c.want)
		}
	}
}

// The settings the checks call the chart's own are what both charts render.
func TestChartOwnedOptionsAreTheChartsOwn(t *testing.T) {
	for _, name := range chartNames {
		ch := loadChart(t, name)
		top, err := chartutil.ToRenderValues(ch, coalesced(t, ch, nil), chartutil.ReleaseOptions{Name: "r", Namespace: "flink", IsInstall: true, Revision: 1}, chartutil.DefaultCapabilities)
		if err != nil {
			t.Fatal(err)
		}
		files, err := engine.Render(ch, top)
		if err != nil {
			t.Fatal(err)
		}
		var cm struct {
			Data map[string]string `json:"data"`
		}
		if err := yaml.Unmarshal([]byte(files[name+"/templates/configmap.yaml"]), &cm); err != nil {
			t.Fatal(err)
		}
		var conf map[string]any
		if err := yaml.Unmarshal([]byte(cm.Data["config.yaml"]), &conf); err != nil || len(conf) == 0 {
			t.Fatalf("%s config.yaml: %v", name, err)
		}
		for _, o := range chartOwned {
			if got := scalarString(conf[o.key]); got != o.want {
				t.Errorf("%s renders %s: %q, the checks say the chart sets %q", name, o.key, got, o.want)
			}
		}
	}
}
