package manifest

import (
	"fmt"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/helm-flink/helm-flink/plugin/kube"
)

// Action is what going from one manifest to another does to an object.
type Action string

// Actions of an ObjectChange. Scaled and Replaced are changed workloads: only their replica
// count changed, or their pod template did (their pods are replaced).
const (
	Added    Action = "added"
	Removed  Action = "removed"
	Changed  Action = "changed"
	Scaled   Action = "scaled"
	Replaced Action = "replaced"
)

// ObjectChange is one object that differs between two manifests.
type ObjectChange struct {
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Action Action `json:"action"`
	// Component is the Flink component a workload runs (jobmanager, taskmanager), or "".
	Component string `json:"component,omitempty"`
	// Replicas are a scaled workload's before and after.
	Replicas []int32 `json:"replicas,omitempty"`
}

// Workload says whether the object runs pods: a Deployment, StatefulSet or Job.
func (c ObjectChange) Workload() bool {
	return c.Kind == "Deployment" || c.Kind == "StatefulSet" || c.Kind == "Job"
}

func (c ObjectChange) String() string {
	s := fmt.Sprintf("%s %s/%s", c.Action, c.Kind, c.Name)
	if len(c.Replicas) == 2 {
		s += fmt.Sprintf(" (%d → %d replicas)", c.Replicas[0], c.Replicas[1])
	}
	return s
}

// Compare lists the objects that differ from cur to next, sorted by kind and name: typed objects
// compared field by field (equality.Semantic, so 1 and 1000m are one quantity), workloads
// classified by what changed in them. Identical manifests give none.
func Compare(cur, next Manifest) []ObjectChange {
	before := index(cur)
	after := index(next)
	var out []ObjectChange
	for k, n := range after {
		c, ok := before[k]
		switch {
		case !ok:
			out = append(out, ObjectChange{Kind: k.kind, Name: k.name, Action: Added, Component: component(n)})
		case !equality.Semantic.DeepEqual(c, n):
			out = append(out, workloadChange(k, c, n))
		}
	}
	for k, c := range before {
		if _, ok := after[k]; !ok {
			out = append(out, ObjectChange{Kind: k.kind, Name: k.name, Action: Removed, Component: component(c)})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Name < out[j].Name
	})
	return out
}

type key struct{ kind, name string }

func index(m Manifest) map[key]Object {
	out := make(map[key]Object, len(m))
	for _, o := range m {
		out[key{kindOf(o), o.GetName()}] = o
	}
	return out
}

func kindOf(o runtime.Object) string {
	if k := o.GetObjectKind().GroupVersionKind().Kind; k != "" {
		return k
	}
	return fmt.Sprintf("%T", o)
}

func component(o Object) string { return o.GetLabels()[kube.ComponentLabel] }

// workload is what Compare reads of a Deployment, StatefulSet or Job.
type workload struct {
	template *corev1.PodTemplateSpec
	replicas int32
	// rest is the object with its template and replicas cleared.
	rest Object
}

func asWorkload(o Object) (workload, bool) {
	one := func(r *int32) int32 {
		if r == nil {
			return 1
		}
		return *r
	}
	switch w := o.(type) {
	case *appsv1.Deployment:
		c := w.DeepCopy()
		c.Spec.Template, c.Spec.Replicas = corev1.PodTemplateSpec{}, nil
		return workload{&w.Spec.Template, one(w.Spec.Replicas), c}, true
	case *appsv1.StatefulSet:
		c := w.DeepCopy()
		c.Spec.Template, c.Spec.Replicas = corev1.PodTemplateSpec{}, nil
		return workload{&w.Spec.Template, one(w.Spec.Replicas), c}, true
	case *batchv1.Job:
		c := w.DeepCopy()
		c.Spec.Template, c.Spec.Parallelism = corev1.PodTemplateSpec{}, nil
		return workload{&w.Spec.Template, one(w.Spec.Parallelism), c}, true
	}
	return workload{}, false
}

// workloadChange classifies a changed object: a workload whose pod template changed is
// Replaced, one whose replica count alone changed is Scaled; anything else is Changed.
func workloadChange(k key, cur, next Object) ObjectChange {
	ch := ObjectChange{Kind: k.kind, Name: k.name, Action: Changed, Component: component(next)}
	c, ok1 := asWorkload(cur)
	n, ok2 := asWorkload(next)
	if !ok1 || !ok2 {
		return ch
	}
	switch {
	case !equality.Semantic.DeepEqual(c.template, n.template):
		ch.Action = Replaced
	case c.replicas != n.replicas && equality.Semantic.DeepEqual(c.rest, n.rest):
		ch.Action, ch.Replicas = Scaled, []int32{c.replicas, n.replicas}
	}
	return ch
}
