package upgrade

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/helm-flink/helm-flink/plugin/internal/fake"
	"github.com/helm-flink/helm-flink/plugin/manifest"
	"github.com/helm-flink/helm-flink/plugin/values"
)

// Whether an upgrade replaces the session's JobManager is decided twice: by the plugin's plan
// (the typed objects compared) and by the chart's pre-upgrade hook for Helm and Flux without the
// plugin (the JobManager's pod-template hash, annotated on its Deployment). They must agree.
func TestPlanAndChartHookAgreeOnJobManagerReplacement(t *testing.T) {
	cfg := fake.Config(t, "")
	fake.Install(t, cfg, "flink", "flink-session", map[string]any{
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
			next, err := u.prepare(ref("flink-session"), values.Options{Values: []string{set}})
			if err != nil {
				t.Fatal(err)
			}
			rendered, err := u.helmUpgrade(ctx, next, "client")
			if err != nil {
				t.Fatal(err)
			}
			objects, err := compare(cfg.Release, rendered)
			if err != nil {
				t.Fatal(err)
			}
			plan := classify(objects) == JobManagerRestarts
			hook := hash(t, cfg.Release.Manifest) != hash(t, rendered.Manifest)
			if plan != hook {
				t.Fatalf("the plan says the JobManager is replaced: %v (%v); the chart's hook: %v", plan, objects, hook)
			}
		})
	}
}
