package manifest

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Compare over the charts' own renders: a render against itself is no change; replicas alone
// scale the workload; a container change replaces its pods; objects only one side has are added
// or removed.
func TestCompare(t *testing.T) {
	m, _ := golden(t, "flink-session", "default")
	if d := Compare(m, m); len(d) != 0 {
		t.Fatalf("a manifest against itself: %v", d)
	}

	var tm *appsv1.Deployment
	next := make(Manifest, 0, len(m))
	for _, o := range m {
		if d, ok := o.(*appsv1.Deployment); ok && d.Labels["app.kubernetes.io/component"] == "taskmanager" {
			tm = d.DeepCopy()
			o = tm
		}
		next = append(next, o)
	}
	if tm == nil {
		t.Fatal("no TaskManager Deployment in the default render")
	}
	three := int32(3)
	tm.Spec.Replicas = &three
	d := Compare(m, next)
	if len(d) != 1 || d[0].Action != Scaled || d[0].Kind != "Deployment" || d[0].Component != "taskmanager" ||
		len(d[0].Replicas) != 2 || d[0].Replicas[1] != 3 {
		t.Fatalf("replicas 3: %v", d)
	}

	// The same quantity written otherwise is no change; another one replaces the pods.
	c := &tm.Spec.Template.Spec.Containers[0]
	if c.Resources.Requests == nil {
		c.Resources.Requests = corev1.ResourceList{}
	}
	q := c.Resources.Requests[corev1.ResourceCPU]
	c.Resources.Requests[corev1.ResourceCPU] = resource.MustParse(q.String())
	if d := Compare(m, next); len(d) != 1 || d[0].Action != Scaled {
		t.Fatalf("an equal quantity: %v", d)
	}
	c.Resources.Requests[corev1.ResourceCPU] = resource.MustParse("3")
	if d := Compare(m, next); len(d) != 1 || d[0].Action != Replaced || d[0].String() != "replaced Deployment/"+tm.Name {
		t.Fatalf("a CPU request: %v", d)
	}

	d = Compare(m[1:], m[:len(m)-1])
	if len(d) != 2 {
		t.Fatalf("first object dropped, last added: %v", d)
	}
	for _, ch := range d {
		want := Added
		if ch.Name == m[len(m)-1].GetName() && ch.Kind == kindOf(m[len(m)-1]) {
			want = Removed
		}
		if ch.Action != want {
			t.Fatalf("%v: want %s", ch, want)
		}
	}
}
