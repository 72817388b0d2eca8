package charts

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"helm.sh/helm/v3/pkg/releaseutil"
)

// pod is one pod spec a render holds, named by where it is.
type pod struct {
	where  string
	labels map[string]string
	spec   corev1.PodSpec
}

// pods are every pod spec of a render: workloads' and CronJobs' templates, bare pods (helm
// test), and the TaskManager pod template native mode hands Flink in a ConfigMap.
func pods(t *testing.T, manifest string) []pod {
	t.Helper()
	if i := strings.LastIndex(manifest, "---\n# NOTES.txt\n"); i >= 0 {
		manifest = manifest[:i]
	}
	var out []pod
	for _, doc := range releaseutil.SplitManifests(manifest) {
		var obj struct {
			Kind     string            `json:"kind"`
			Metadata metav1.ObjectMeta `json:"metadata"`
			Data     map[string]string `json:"data"`
			Spec     struct {
				corev1.PodSpec
				Template    corev1.PodTemplateSpec `json:"template"`
				JobTemplate struct {
					Spec struct {
						Template corev1.PodTemplateSpec `json:"template"`
					} `json:"spec"`
				} `json:"jobTemplate"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatalf("rendered object: %v\n%s", err, doc)
		}
		where := obj.Kind + "/" + obj.Metadata.Name
		switch obj.Kind {
		case "Deployment", "StatefulSet", "Job":
			out = append(out, pod{where, obj.Spec.Template.Labels, obj.Spec.Template.Spec})
		case "CronJob":
			tpl := obj.Spec.JobTemplate.Spec.Template
			out = append(out, pod{where, tpl.Labels, tpl.Spec})
		case "Pod":
			out = append(out, pod{where, obj.Metadata.Labels, obj.Spec.PodSpec})
		case "ConfigMap":
			for k, v := range obj.Data {
				if strings.HasSuffix(k, "pod-template.yaml") {
					var p corev1.Pod
					if err := yaml.Unmarshal([]byte(v), &p); err != nil {
						t.Fatalf("%s %s: %v", where, k, err)
					}
					out = append(out, pod{where + " " + k, p.Labels, p.Spec})
				}
			}
		}
	}
	return out
}

// optIns turn on every opt-in pod the charts have, over any values set.
var optIns = []string{"periodicSavepoints.enabled=true", "periodicSavepoints.dir=s3://b/sp", "healthCheck.enabled=true", "tests.enabled=true"}

// Every pod the charts render, whatever its image (Flink, curl, kubectl), honours
// image.pullPolicy and image.pullSecrets: with a private registry none may fail to start.
func TestEveryPodHonoursPullSettings(t *testing.T) {
	for _, chart := range charts {
		files, _ := filepath.Glob(filepath.Join(chart, "ci", "*-values.yaml"))
		for _, f := range files {
			set := append([]string{"image.pullPolicy=Always", "image.pullSecrets[0].name=regcred"}, optIns...)
			n := 0
			for _, p := range pods(t, render(t, chart, []string{f}, set...)) {
				n++
				if !slices.Contains(p.spec.ImagePullSecrets, corev1.LocalObjectReference{Name: "regcred"}) {
					t.Errorf("%s %s: %s has no pull secret regcred", chart, filepath.Base(f), p.where)
				}
				for _, c := range append(slices.Clone(p.spec.InitContainers), p.spec.Containers...) {
					// Flink sets its own container's from kubernetes.container.image.pull-policy,
					// which the chart sets from image.pullPolicy.
					if c.Name == "flink-main-container" && strings.Contains(p.where, "pod-template") {
						continue
					}
					if c.ImagePullPolicy != corev1.PullAlways {
						t.Errorf("%s %s: %s container %s has pull policy %q, want Always", chart, filepath.Base(f), p.where, c.Name, c.ImagePullPolicy)
					}
				}
			}
			if n < 3 {
				t.Errorf("%s %s: only %d pods", chart, f, n)
			}
		}
	}
}
