package charts

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/releaseutil"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// Every hook the charts render (Jobs, and the helm test pod) has a deadline, so that one whose
// pod cannot start (an image that cannot be pulled) fails and Helm reports it instead of waiting
// out its own timeout; a hook that waits with `kubectl … --timeout=Ns` gets longer than that, and
// a Job's retries are bounded. The one Job without a deadline is flink-job's JobManager: it runs
// the job for as long as it streams.
func TestHooksHaveDeadlines(t *testing.T) {
	for _, chart := range charts {
		for _, file := range valuesSets(t, chart) {
			t.Run(chart+"/"+filepath.Base(file), func(t *testing.T) {
				manifest := render(t, chart, []string{file})
				manifest = manifest[:strings.LastIndex(manifest, "---\n# NOTES.txt\n")]
				for _, doc := range releaseutil.SplitManifests(manifest) {
					var head struct {
						Kind     string `json:"kind"`
						Metadata struct {
							Name        string            `json:"name"`
							Labels      map[string]string `json:"labels"`
							Annotations map[string]string `json:"annotations"`
						} `json:"metadata"`
					}
					if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
						t.Fatal(err)
					}
					var deadline *int64
					var pod corev1.PodSpec
					switch head.Kind {
					case "Job":
						var job batchv1.Job
						if err := yaml.Unmarshal([]byte(doc), &job); err != nil {
							t.Fatal(err)
						}
						if head.Metadata.Annotations["helm.sh/hook"] == "" && head.Metadata.Labels["app.kubernetes.io/component"] == "jobmanager" {
							continue
						}
						if job.Spec.BackoffLimit == nil || *job.Spec.BackoffLimit > 6 {
							t.Errorf("Job %s: backoffLimit %v, want one set, at most 6", head.Metadata.Name, job.Spec.BackoffLimit)
						}
						deadline, pod = job.Spec.ActiveDeadlineSeconds, job.Spec.Template.Spec
					case "Pod":
						var p corev1.Pod
						if err := yaml.Unmarshal([]byte(doc), &p); err != nil {
							t.Fatal(err)
						}
						deadline, pod = p.Spec.ActiveDeadlineSeconds, p.Spec
					default:
						continue
					}
					if deadline == nil || *deadline <= 0 {
						t.Errorf("%s %s has no activeDeadlineSeconds", head.Kind, head.Metadata.Name)
						continue
					}
					for _, c := range append(pod.InitContainers, pod.Containers...) {
						for _, a := range append(append([]string{}, c.Command...), c.Args...) {
							if s, ok := strings.CutPrefix(a, "--timeout="); ok {
								secs, err := strconv.Atoi(strings.TrimSuffix(s, "s"))
								if err != nil || int64(secs) >= *deadline {
									t.Errorf("%s %s: container %s waits %s, its deadline is %ds", head.Kind, head.Metadata.Name, c.Name, s, *deadline)
								}
							}
						}
					}
				}
			})
		}
	}
}
