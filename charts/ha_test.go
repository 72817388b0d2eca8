package charts

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/helm-flink/helm-flink/plugin/uninstall"
)

// Flink's Kubernetes HA ConfigMaps outlive the release (Flink gives them no owner) and are
// deleted twice: by `helm flink uninstall` (uninstall.HAConfigMap) and by the charts' post-delete
// hook for Helm and Flux without the plugin. Both must take the ConfigMaps Flink's HA keeps, as
// each Flink version labels them, and nothing of another cluster.
func TestPluginAndChartHookDeleteTheSameHAConfigMaps(t *testing.T) {
	const id = "golden-flink-session"
	for _, c := range []struct {
		version string
		set     []string
		ha      map[string]string
	}{
		{"1.20", nil, map[string]string{"app": id, "configmap-type": "high-availability", "type": "flink-native-kubernetes"}},
		{"2.x", []string{"image.tag=2.3-java17"}, map[string]string{"app": id, "type": "flink-native-kubernetes"}},
	} {
		t.Run(c.version, func(t *testing.T) {
			set := append([]string{"highAvailability.enabled=true", "highAvailability.storageDir=s3://bucket/ha"}, c.set...)
			hook, ok := objects(t, render(t, "flink-session", nil, set...))["Job/golden-flink-session-ha-cleanup"]
			if !ok {
				t.Fatal("no HA cleanup hook")
			}
			var selector string
			for _, a := range hook.Spec.Template.Spec.Containers[0].Command {
				if s, ok := strings.CutPrefix(a, "--selector="); ok {
					selector = s
				}
			}
			sel, err := labels.Parse(selector)
			if err != nil {
				t.Fatalf("the hook's selector %q: %v", selector, err)
			}
			if !sel.Matches(labels.Set(c.ha)) || !uninstall.HAConfigMap(c.ha) {
				t.Errorf("Flink %s's HA ConfigMap %v: the hook (%s) takes it %v, the plugin %v", c.version, c.ha, selector, sel.Matches(labels.Set(c.ha)), uninstall.HAConfigMap(c.ha))
			}
			other := map[string]string{"app": "another-cluster", "configmap-type": "high-availability", "type": "flink-native-kubernetes"}
			if sel.Matches(labels.Set(other)) {
				t.Errorf("the hook (%s) takes another cluster's %v", selector, other)
			}
		})
	}
}
