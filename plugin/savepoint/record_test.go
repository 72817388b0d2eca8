package savepoint

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestRecordAddListNewest(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewSimpleClientset()
	r := Record{Kube: cs, Namespace: "ns", Release: "flink"}
	if got, err := r.List(ctx); err != nil || len(got) != 0 {
		t.Fatalf("no record yet: %v, %v", got, err)
	}
	t0 := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	add := []Entry{
		{Revision: 1, JobID: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", JobName: "a", Path: "file:///sp/1", Reason: Upgrade, Time: t0},
		{Revision: 2, JobID: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", JobName: "b", Path: "file:///sp/2", Reason: Manual, Time: t0.Add(2 * time.Minute)},
		{Revision: 2, JobID: "cccccccccccccccccccccccccccccccc", JobName: "a", Path: "file:///sp/3", Reason: Upgrade, Time: t0.Add(time.Minute)},
	}
	for _, e := range add {
		if err := r.Add(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	cm, err := cs.CoreV1().ConfigMaps("ns").Get(ctx, "flink-flink-savepoints", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Labels[RecordLabel] != "flink" || len(cm.Data) != 3 {
		t.Fatalf("record %v with %d entries, want label %s=flink and 3", cm.Labels, len(cm.Data), RecordLabel)
	}
	got, err := r.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, e := range got {
		paths = append(paths, e.Path)
	}
	if strings.Join(paths, " ") != "file:///sp/1 file:///sp/3 file:///sp/2" {
		t.Fatalf("entries oldest first: %v", paths)
	}
	for _, c := range []struct {
		job      string
		revision int
		want     string
	}{{"", 0, "file:///sp/2"}, {"a", 0, "file:///sp/3"}, {"a", 1, "file:///sp/1"}, {"b", 1, ""}} {
		e, err := Newest(got, c.job, c.revision)
		if e.Path != c.want || (c.want == "") != (err == ErrNone) {
			t.Errorf("Newest(%q, %d) = %q, %v; want %q", c.job, c.revision, e.Path, err, c.want)
		}
	}
	cm.Data["junk"] = "{"
	if _, err := cs.CoreV1().ConfigMaps("ns").Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, err := r.List(ctx); err == nil || !strings.Contains(err.Error(), "junk") || len(got) != 3 {
		t.Fatalf("a broken entry: %d entries, error %v; want the 3 good ones and an error naming it", len(got), err)
	}
	if err := r.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(ctx); err != nil {
		t.Fatalf("deleting no record: %v", err)
	}
}

func TestPrunableKeepsTheNewest(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	var entries []Entry
	for i, age := range []time.Duration{72 * time.Hour, 48 * time.Hour, 2 * time.Hour, time.Hour} {
		entries = append(entries, Entry{Path: string(rune('a' + i)), Time: now.Add(-age)})
	}
	paths := func(es []Entry) string {
		var b strings.Builder
		for _, e := range es {
			b.WriteString(e.Path)
		}
		return b.String()
	}
	for _, c := range []struct {
		keep      int
		olderThan time.Duration
		want      string
	}{{1, 0, "abc"}, {3, 0, "a"}, {4, 0, ""}, {9, 0, ""}, {0, 0, "abcd"}, {1, 24 * time.Hour, "ab"}, {0, 3 * time.Hour, "ab"}} {
		if got := paths(Prunable(entries, c.keep, c.olderThan, now)); got != c.want {
			t.Errorf("keep %d, older than %s: prune %q, want %q", c.keep, c.olderThan, got, c.want)
		}
	}
}

func TestRemoveTakesEntriesOut(t *testing.T) {
	ctx := context.Background()
	r := Record{Kube: fake.NewSimpleClientset(), Namespace: "ns", Release: "flink"}
	for i := range 3 {
		if err := r.Add(ctx, Entry{JobID: "0123456789abcdef0123456789abcdef", Path: string(rune('a' + i)), Time: time.Unix(int64(i), 0)}); err != nil {
			t.Fatal(err)
		}
	}
	all, _ := r.List(ctx)
	if err := r.Remove(ctx, all[:2]); err != nil {
		t.Fatal(err)
	}
	if left, err := r.List(ctx); err != nil || len(left) != 1 || left[0].Path != "c" {
		t.Fatalf("left %+v, %v; want c only", left, err)
	}
}
