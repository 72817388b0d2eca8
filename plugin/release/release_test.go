package release

import (
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/release"
)

func TestChartMode(t *testing.T) {
	for dir, want := range map[string]Mode{"../../charts/flink-session": Session, "../../charts/flink-job": Application} {
		ch, err := loader.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got := ChartMode(ch); got != want {
			t.Errorf("%s: %s, want %s", dir, got, want)
		}
	}
	renamed := &chart.Chart{Metadata: &chart.Metadata{Name: "streams", Annotations: map[string]string{ModeAnnotation: "application"}}}
	if ChartMode(renamed) != Application {
		t.Error("the annotation must win over the name")
	}
}

func TestFluxOwner(t *testing.T) {
	byLabels := &release.Release{Namespace: "apps", Labels: map[string]string{
		"helm.toolkit.fluxcd.io/name": "flink", "helm.toolkit.fluxcd.io/namespace": "flux-system"}}
	if got, ok := FluxOwner(byLabels); !ok || got != "flux-system/flink" {
		t.Errorf("storage labels: %q %v", got, ok)
	}
	byManifest := &release.Release{Namespace: "apps", Manifest: "metadata:\n  labels:\n    helm.toolkit.fluxcd.io/name: \"flink\"\n"}
	if got, ok := FluxOwner(byManifest); !ok || got != "apps/flink" {
		t.Errorf("object labels: %q %v", got, ok)
	}
	if _, ok := FluxOwner(&release.Release{Manifest: "kind: ConfigMap\n"}); ok {
		t.Error("a plain release is not Flux's")
	}
}
