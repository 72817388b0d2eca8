package charts

import (
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/getter"
	hrelease "helm.sh/helm/v3/pkg/release"

	pvalues "github.com/helm-flink/helm-flink/plugin/values"
	"github.com/helm-flink/helm-flink/schema"
)

// Env the official image's entrypoint cannot apply under the chart is refused twice: by the
// chart's render (flink.checkEnv, for Flux and plain Helm) and by `helm flink validate`/install
// (schema.Check). Both name the same field in the same words, and both let the rest pass.
func TestEntrypointEnvRefusedAlike(t *testing.T) {
	cases := []struct {
		name string
		set  []string
		want string // the field named; "" when the values are fine
	}{
		{"FLINK_PROPERTIES in extraEnv", []string{`extraEnv[0].name=FLINK_PROPERTIES`, `extraEnv[0].value=a: b`}, "extraEnv.0.name"},
		{"FLINK_PROPERTIES in taskmanager.extraEnv", []string{`taskmanager.extraEnv[0].name=TZ`, `taskmanager.extraEnv[1].name=FLINK_PROPERTIES`}, "taskmanager.extraEnv.1.name"},
		{"ENABLE_BUILT_IN_PLUGINS, read-only root", []string{`jobmanager.extraEnv[0].name=ENABLE_BUILT_IN_PLUGINS`}, "jobmanager.extraEnv.0.name"},
		{"ENABLE_BUILT_IN_PLUGINS, writable root", []string{`jobmanager.extraEnv[0].name=ENABLE_BUILT_IN_PLUGINS`, `securityContext.readOnlyRootFilesystem=false`}, ""},
		{"native TaskManager env", []string{`mode=native`, `flinkConfiguration.containerized\.taskmanager\.env\.FLINK_PROPERTIES=a: b`}, "flinkConfiguration.containerized.taskmanager.env.FLINK_PROPERTIES"},
		{"standalone ignores containerized env", []string{`flinkConfiguration.containerized\.taskmanager\.env\.FLINK_PROPERTIES=a: b`}, ""},
		{"other env", []string{`extraEnv[0].name=TZ`, `extraEnv[0].value=UTC`}, ""},
	}
	for _, chart := range charts {
		ch := load(t, chart)
		for _, tc := range cases {
			t.Run(chart+"/"+tc.name, func(t *testing.T) {
				problems, _, renderErr := checkAndRender(t, ch, tc.set)

				if !refusedAt(t, problems, renderErr, tc.want) {
					return
				}
				if renderErr == nil {
					t.Fatalf("the chart renders; want it to fail as the check does: %s", problems[0])
				}
				if !strings.Contains(renderErr.Error(), problems[0].String()) {
					t.Fatalf("render error\n  %v\ndoes not say what the check says\n  %s", renderErr, problems[0])
				}
			})
		}
	}
}

// checkAndRender judges --set values twice, as `helm flink validate` (schema.Check) and as plain
// Helm's client-side install (the chart's own refusals); the release holds the render's NOTES.
func checkAndRender(t *testing.T, ch *chart.Chart, set []string) ([]schema.Problem, *hrelease.Release, error) {
	t.Helper()
	user, err := (&values.Options{Values: set}).MergeValues(getter.Providers{})
	if err != nil {
		t.Fatal(err)
	}
	merged, err := pvalues.ForChart(ch, user)
	if err != nil {
		t.Fatal(err)
	}
	problems, err := schema.Check(ch, merged, schema.CheckOptions{ReleaseName: "golden"})
	if err != nil {
		t.Fatal(err)
	}
	install := action.NewInstall(&action.Configuration{})
	install.DryRun, install.ClientOnly, install.Replace = true, true, true
	install.ReleaseName, install.Namespace = "golden", "flink"
	install.KubeVersion = &chartutil.KubeVersion{Version: "v1.37.2", Major: "1", Minor: "37"}
	rel, renderErr := install.Run(ch, user)
	return problems, rel, renderErr
}

// refusedAt: with want "" the values must pass both judges (false: nothing more to check); else
// schema.Check must report exactly one problem, at want (true: the render's verdict is next).
func refusedAt(t *testing.T, problems []schema.Problem, renderErr error, want string) bool {
	t.Helper()
	if want == "" {
		if len(problems) > 0 || renderErr != nil {
			t.Fatalf("refused: check %v; render %v", problems, renderErr)
		}
		return false
	}
	if len(problems) != 1 || problems[0].Path != want {
		t.Fatalf("check reports %v, want one problem at %s", problems, want)
	}
	return true
}
