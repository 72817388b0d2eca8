package kube

import (
	"os"
	"testing"
)

// A TaskManager pod the API server refused, as Flink 2.3's JobManager logs it (the stack, a Role
// without pods/create): one refusal with the API server's message; the stack trace lines and
// the resource manager's own warning are not refusals.
func TestPodCreateFailures(t *testing.T) {
	log, err := os.ReadFile("testdata/refused-pod-2.3.log")
	if err != nil {
		t.Fatal(err)
	}
	found := podCreateFailures(string(log))
	if len(found) != 1 {
		t.Fatalf("%d refusals, want 1: %v", len(found), found)
	}
	for _, e := range found {
		want := `pods is forbidden: User "system:serviceaccount:nat1:nat-flink-session" cannot create resource "pods" in API group "" in the namespace "nat1"`
		if e.Pod != "nat-flink-session-taskmanager-1-3" || e.Message != want {
			t.Fatalf("pod %q, message %q", e.Pod, e.Message)
		}
	}
	if n := len(podCreateFailures("INFO KubernetesResourceManagerDriver - Creating new TaskManager pod with name x-taskmanager-1-1")); n != 0 {
		t.Fatalf("a pod being created is no refusal: %d", n)
	}
}
