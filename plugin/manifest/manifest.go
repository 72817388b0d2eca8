// Package manifest reads a release's manifest as typed Kubernetes objects.
//
// The manifest is split as Helm splits it (releaseutil.SplitManifests) and each document decoded
// by client-go's scheme; kinds that scheme does not know (e.g. a PodMonitor) stay unstructured.
package manifest

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"helm.sh/helm/v3/pkg/releaseutil"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"github.com/helm-flink/helm-flink/plugin/kube"
)

// Object is one document of a manifest: a typed object, or *unstructured.Unstructured.
type Object interface {
	metav1.Object
	runtime.Object
}

// Manifest is a release's objects in the order of the manifest.
type Manifest []Object

// Parse splits and decodes a release manifest. Documents holding only comments are skipped.
func Parse(text string) (Manifest, error) {
	docs := releaseutil.SplitManifests(text)
	keys := make([]string, 0, len(docs))
	for k := range docs {
		keys = append(keys, k)
	}
	sort.Sort(releaseutil.BySplitManifestsOrder(keys))
	var m Manifest
	for i, k := range keys {
		o, err := decode(docs[k])
		if err != nil {
			return nil, fmt.Errorf("manifest document %d: %w", i+1, err)
		}
		if o != nil {
			m = append(m, o)
		}
	}
	return m, nil
}

func decode(doc string) (Object, error) {
	data, err := yaml.YAMLToJSON([]byte(doc))
	if err != nil {
		return nil, err
	}
	if s := strings.TrimSpace(string(data)); s == "null" || s == "{}" {
		return nil, nil
	}
	obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(data, nil, nil)
	if runtime.IsNotRegisteredError(err) {
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(data); err != nil {
			return nil, err
		}
		return u, nil
	}
	if err != nil {
		return nil, err
	}
	o, ok := obj.(Object)
	if !ok {
		return nil, fmt.Errorf("%T has no object metadata", obj)
	}
	return o, nil
}

// Label is the value of label key on the first object that carries it, or "".
func (m Manifest) Label(key string) string {
	for _, o := range m {
		if v := o.GetLabels()[key]; v != "" {
			return v
		}
	}
	return ""
}

// JobManager is the pod template of the release's JobManager: its Deployment, the StatefulSet of
// a standalone HA session, or the Job of an application made by a chart before 0.5; nil when the
// release has none.
func (m Manifest) JobManager() *corev1.PodTemplateSpec {
	for _, o := range m {
		if o.GetLabels()[kube.ComponentLabel] != kube.JobManager {
			continue
		}
		switch w := o.(type) {
		case *appsv1.Deployment:
			return &w.Spec.Template
		case *appsv1.StatefulSet:
			return &w.Spec.Template
		case *batchv1.Job:
			return &w.Spec.Template
		}
	}
	return nil
}

// JobManagerExitsWithJob: the release's JobManager is a batch Job (an application of a chart
// before 0.5), which ends when its job does; a JobManager Deployment outlives its job.
func (m Manifest) JobManagerExitsWithJob() bool {
	for _, o := range m {
		if j, ok := o.(*batchv1.Job); ok && j.Labels[kube.ComponentLabel] == kube.JobManager {
			return true
		}
	}
	return false
}

// JobID is the job id an application's JobManager is started with (its --job-id argument, or in
// native mode the $internal.pipeline.job-id of its configuration), or "".
func (m Manifest) JobID() string {
	jm := m.JobManager()
	if jm == nil {
		return ""
	}
	if m.Native() {
		return m.flinkOption("$internal.pipeline.job-id")
	}
	for _, c := range jm.Spec.Containers {
		args := append(append([]string{}, c.Command...), c.Args...)
		for i, a := range args {
			if a == "--job-id" && i+1 < len(args) {
				return args[i+1]
			}
		}
	}
	return ""
}

// ClusterID is the kubernetes.cluster-id the release's Flink configuration sets (with Kubernetes
// HA or in native mode), or "".
func (m Manifest) ClusterID() string { return m.flinkOption("kubernetes", "cluster-id") }

// Native says whether the release runs Flink's native Kubernetes mode (execution.target
// kubernetes-session or kubernetes-application): its JobManager creates the TaskManager pods.
func (m Manifest) Native() bool {
	return strings.HasPrefix(m.flinkOption("execution", "target"), "kubernetes-")
}

// KeptUploadDir is the web.upload.dir the release's Flink configuration sets when it lies on a
// claim the JobManager mounts (the session chart puts it on the release's), else "": where the
// JobManager keeps uploaded jars that a replaced JobManager finds again.
func (m Manifest) KeptUploadDir() string {
	dir := m.flinkOption("web", "upload", "dir")
	jm := m.JobManager()
	if dir == "" || jm == nil {
		return ""
	}
	claims := map[string]bool{}
	for _, v := range jm.Spec.Volumes {
		claims[v.Name] = v.PersistentVolumeClaim != nil
	}
	for _, c := range jm.Spec.Containers {
		for _, vm := range c.VolumeMounts {
			if claims[vm.Name] && strings.HasPrefix(dir+"/", strings.TrimSuffix(vm.MountPath, "/")+"/") {
				return dir
			}
		}
	}
	return ""
}

// NativeMinTaskManagers is how many TaskManagers a native cluster's JobManager starts with and
// keeps: slotmanager.number-of-slots.min over taskmanager.numberOfTaskSlots, rounded up.
func (m Manifest) NativeMinTaskManagers() int {
	slots, err := strconv.Atoi(m.flinkOption("slotmanager", "number-of-slots", "min"))
	if err != nil || slots <= 0 {
		return 0
	}
	per, err := strconv.Atoi(m.flinkOption("taskmanager", "numberOfTaskSlots"))
	if err != nil || per <= 0 {
		per = 1
	}
	return (slots + per - 1) / per
}

// flinkOption is an option of the release's Flink configuration, from the first ConfigMap that
// sets it.
func (m Manifest) flinkOption(path ...string) string {
	for _, o := range m {
		cm, ok := o.(*corev1.ConfigMap)
		if !ok {
			continue
		}
		for _, file := range []string{"config.yaml", "flink-conf.yaml"} {
			if v := flinkOption(cm.Data[file], path...); v != "" {
				return v
			}
		}
	}
	return ""
}

// flinkOption reads an option of a Flink configuration file, written flat (a.b: v, as
// flink-conf.yaml must) or nested (a: {b: v}, as config.yaml may).
func flinkOption(file string, path ...string) string {
	if file == "" {
		return ""
	}
	var conf map[string]any
	if yaml.Unmarshal([]byte(file), &conf) != nil {
		return ""
	}
	if v, ok := conf[strings.Join(path, ".")]; ok {
		return fmt.Sprint(v)
	}
	var v any = conf
	for _, key := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[key]
	}
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// KeepsClaim says whether a claim of the release outlives its uninstall (Helm's
// resource-policy keep, which the charts set with persistence.keepOnUninstall).
func (m Manifest) KeepsClaim() bool {
	for _, o := range m {
		if c, ok := o.(*corev1.PersistentVolumeClaim); ok && c.Annotations["helm.sh/resource-policy"] == "keep" {
			return true
		}
	}
	return false
}
