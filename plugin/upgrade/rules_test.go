package upgrade

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/internal/fake"
	"github.com/helm-flink/helm-flink/plugin/manifest"
	"github.com/helm-flink/helm-flink/plugin/values"
)

// Whether an upgrade replaces the session's JobManager is decided twice: by the plugin's plan
// (the typed objects compared) and by the chart's pre-upgrade hook for Helm and Flux without the
// plugin (the JobManager's pod-template hash, annotated on its Deployment). They must agree.
func TestPlanAndChartHookAgreeOnJobManagerReplacement(t *testing.T) {
	cfg := fake.Config(t, "")
	rel := fake.Install(t, cfg, "flink", "flink-session", map[string]any{
		"submit":      map[string]any{"enabled": true, "jar": "/opt/flink/examples/streaming/TopSpeedWindowing.jar", "jobName": "CarTopSpeedWindowingExample"},
		"persistence": map[string]any{"enabled": true},
	})
	hash := func(t *testing.T, text string) string {
		t.Helper()
		m, err := manifest.Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range m {
			if d, ok := o.(*appsv1.Deployment); ok && d.Labels["app.kubernetes.io/component"] == "jobmanager" {
				if h := d.Annotations["helm-flink.dev/pod-template-hash"]; h != "" {
					return h
				}
			}
		}
		t.Fatal("no JobManager Deployment with a pod-template hash")
		return ""
	}
	for _, set := range []string{
		"taskmanager.replicas=3",
		"taskmanager.memoryProcessSize=2g",
		"jobmanager.memoryProcessSize=2g",
		`flinkConfiguration.execution\.checkpointing\.interval=10s`,
		"image.tag=1.20.1-java17",
		"jobmanager.service.type=NodePort",
		"submit.parallelism=1",
		"podAnnotations.team=streams",
		"taskmanager.cpu=2",
	} {
		t.Run(set, func(t *testing.T) {
			u := New(cfg)
			u.ReuseValues = true
			next, err := u.prepare(rel, ref("flink-session"), values.Options{Values: []string{set}})
			if err != nil {
				t.Fatal(err)
			}
			rendered, err := u.helmUpgrade(ctx, rel, next, "client")
			if err != nil {
				t.Fatal(err)
			}
			objects := manifest.Compare(rel.Objects, rendered.Objects)
			plan := classify(objects) == JobManagerRestarts
			hook := hash(t, rel.Release.Manifest) != hash(t, rendered.Release.Manifest)
			if plan != hook {
				t.Fatalf("the plan says the JobManager is replaced: %v (%v); the chart's hook: %v", plan, objects, hook)
			}
		})
	}
}

// The TaskManager pods a replaced native JobManager left behind are retired twice: by the plugin
// after its upgrade (act.RetiredTaskManagers) and by the chart's post-upgrade hook for Helm and
// Flux without the plugin. They must select the same pods.
func TestPluginAndChartHookRetireTheSameTaskManagers(t *testing.T) {
	for _, chart := range []string{"flink-session", "flink-job"} {
		t.Run(chart, func(t *testing.T) {
			cfg := fake.Config(t, "")
			rel := fake.Install(t, cfg, "flink", chart, map[string]any{"mode": "native"})
			u := New(cfg)
			u.ReuseValues = true
			next, err := u.prepare(rel, ref(chart), values.Options{Values: []string{"taskmanager.memoryProcessSize=2g"}})
			if err != nil {
				t.Fatal(err)
			}
			up, err := u.helmUpgrade(ctx, rel, next, "client")
			if err != nil {
				t.Fatal(err)
			}
			var hook string
			for _, h := range up.Hooks {
				if strings.HasSuffix(h.Name, "-native-retire-delete") {
					for _, l := range strings.Split(h.Manifest, "\n") {
						if s, ok := strings.CutPrefix(strings.TrimSpace(l), "- --selector="); ok {
							hook = s
						}
					}
				}
			}
			plugin := act.RetiredTaskManagers(up)
			if hook == "" || !sameSelector(t, hook, plugin) {
				t.Fatalf("the chart's hook deletes %q, the plugin %q", hook, plugin)
			}
			if !strings.Contains(plugin, "!=") {
				t.Fatalf("the plugin's selector %q keeps no pod of the new template", plugin)
			}
		})
	}
}

// sameSelector says whether two label selectors select the same.
func sameSelector(t *testing.T, a, b string) bool {
	t.Helper()
	sa, err := labels.Parse(a)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := labels.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	ra, _ := sa.Requirements()
	rb, _ := sb.Requirements()
	key := func(r []labels.Requirement) []string {
		var out []string
		for _, x := range r {
			out = append(out, x.String())
		}
		sort.Strings(out)
		return out
	}
	return reflect.DeepEqual(key(ra), key(rb))
}
