package savepoint

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// The jobs record: a submission per job, one run again replaces the entry of the job it was
// run for, an entry that is not a submission is named, and the record goes on Delete.
func TestJobsRecord(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewSimpleClientset()
	r := Jobs{Kube: cs, Namespace: "ns", Release: "flink"}
	if got, err := r.List(ctx); err != nil || len(got) != 0 {
		t.Fatalf("no record yet: %v, %v", got, err)
	}
	a := Submission{JobID: "a1", JarID: "1_a.jar", Jar: "/jobs/a.jar", Args: []string{"--x"}, Parallelism: 2, Revision: 1}
	b := Submission{JobID: "b1", JarID: "2_b.jar", Revision: 1}
	for _, s := range []Submission{a, b} {
		if err := r.Add(ctx, s, ""); err != nil {
			t.Fatal(err)
		}
	}
	a2 := a
	a2.JobID, a2.Revision = "a2", 2
	if err := r.Add(ctx, a2, "a1"); err != nil {
		t.Fatal(err)
	}
	got, err := r.List(ctx)
	if err != nil || len(got) != 2 || got["a2"].JarID != "1_a.jar" || got["a2"].Parallelism != 2 || got["a2"].Args[0] != "--x" || got["b1"].JarID != "2_b.jar" {
		t.Fatalf("record %+v (%v), want a2 and b1", got, err)
	}
	cm, err := cs.CoreV1().ConfigMaps("ns").Get(ctx, "flink-flink-jobs", metav1.GetOptions{})
	if err != nil || cm.Labels[JobsLabel] != "flink" {
		t.Fatalf("record labels: %v (%v)", cm, err)
	}
	cm.Data["junk"] = "{}"
	if _, err := cs.CoreV1().ConfigMaps("ns").Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, err := r.List(ctx); err == nil || !strings.Contains(err.Error(), "entries junk are not submissions") || len(got) != 2 {
		t.Fatalf("an entry that is no submission: %v, %v", got, err)
	}
	if err := r.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(ctx); err != nil {
		t.Fatalf("delete of no record: %v", err)
	}
}
