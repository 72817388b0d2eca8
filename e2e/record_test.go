//go:build e2e

package e2e

import (
	"encoding/json"
	"reflect"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// recordEntry is an entry of a release's savepoint record as the cluster holds it.
type recordEntry struct {
	Revision int    `json:"revision"`
	Path     string `json:"path"`
	Reason   string `json:"reason"`
}

// record is the release's savepoint record, read from the cluster without the plugin.
func record(t *testing.T, ns, release string) []recordEntry {
	t.Helper()
	cm, err := env.cs.CoreV1().ConfigMaps(ns).Get(t.Context(), release+"-flink-savepoints", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the savepoint record: %v", err)
	}
	var out []recordEntry
	for _, v := range cm.Data {
		var e recordEntry
		if err := json.Unmarshal([]byte(v), &e); err != nil {
			t.Fatalf("savepoint record entry %q: %v", v, err)
		}
		out = append(out, e)
	}
	return out
}

// submitted are the job ids of the release's jobs record by the name each was submitted under,
// read from the cluster without the plugin; none when there is no record.
func submitted(t *testing.T, ns, release string) map[string][]string {
	t.Helper()
	cm, err := env.cs.CoreV1().ConfigMaps(ns).Get(t.Context(), release+"-flink-jobs", metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatalf("the jobs record: %v", err)
	}
	out := map[string][]string{}
	for k, v := range cm.Data {
		var s struct {
			JobID string `json:"jobId"`
			Name  string `json:"name"`
		}
		if err := json.Unmarshal([]byte(v), &s); err != nil || s.JobID != k {
			t.Fatalf("jobs record entry %s: %q (%v)", k, v, err)
		}
		out[s.Name] = append(out[s.Name], s.JobID)
	}
	return out
}

// assertRecorded fails unless the release's savepoint record holds each savepoint against its
// revision, as an upgrade's.
func assertRecorded(t *testing.T, ns, release string, want map[int]string) {
	t.Helper()
	got := map[int]string{}
	for _, e := range record(t, ns, release) {
		if e.Reason == "upgrade" {
			got[e.Revision] = e.Path
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("savepoints recorded by revision %v, want %v", got, want)
	}
}

// assertRecordKept fails unless the record of an uninstalled release whose claim was kept holds
// savepoint, then deletes the record with the claim's other leftovers' owner (the test).
func assertRecordKept(t *testing.T, ns, release, savepoint string) {
	t.Helper()
	for _, e := range record(t, ns, release) {
		if e.Path == savepoint {
			if err := env.cs.CoreV1().ConfigMaps(ns).Delete(t.Context(), release+"-flink-savepoints", metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("the savepoint record kept after the uninstall lacks %s: %+v", savepoint, record(t, ns, release))
}
