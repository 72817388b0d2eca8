//go:build e2e

package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// `helm flink list` finds the charts' releases across namespaces by their labels; one whose
// JobManager is scaled to zero is unreachable without holding up the rest. `status` exits by the
// release's health: 0 healthy, 4 when no JobManager answers.
func TestListAcrossNamespaces(t *testing.T) {
	t.Parallel()
	up, down := restrictedNamespace(t), restrictedNamespace(t)
	minimal := filepath.Join(env.root, "charts/flink-session/ci/minimal-values.yaml")
	installChart(t, up, "flink-session", minimal, "healthCheck.enabled=true", "healthCheck.timeoutSeconds=60")
	install(t, down, "flink-session", minimal, false, "taskmanager.replicas=0")
	if _, err := env.cs.AppsV1().Deployments(down).Patch(t.Context(), "flink-flink-session-jobmanager", types.MergePatchType,
		[]byte(`{"spec":{"replicas":0}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}

	s := newStandalone(t)
	out, errOut, code := s.run(t, "list", "-A", "-o", "json")
	if code != 0 {
		t.Fatalf("list -A: exit %d: %s", code, errOut)
	}
	type line struct {
		Namespace string         `json:"namespace"`
		Release   string         `json:"release"`
		Chart     string         `json:"chart"`
		Mode      string         `json:"mode"`
		Jobs      map[string]int `json:"jobs"`
		Health    string         `json:"health"`
		Reason    string         `json:"reason"`
	}
	byNamespace := map[string]line{}
	for _, l := range decode[[]line](t, out) {
		byNamespace[l.Namespace] = l
	}
	if l := byNamespace[up]; l.Release != "flink" || l.Mode != "session" || !strings.HasPrefix(l.Chart, "flink-session-") || l.Health != "healthy" || len(l.Jobs) != 0 {
		t.Errorf("the running release: %+v", l)
	}
	if l := byNamespace[down]; l.Release != "flink" || l.Health != "unreachable" || !strings.Contains(l.Reason, "no JobManager pod is ready") {
		t.Errorf("the release scaled to zero: %+v", l)
	}
	table, _, code := s.run(t, "list", "-n", up)
	if code != 0 || !strings.HasPrefix(table, "NAMESPACE") || !strings.Contains(table, up) || strings.Contains(table, down) {
		t.Errorf("list -n %s: exit %d\n%s", up, code, table)
	}
	t.Logf("helm flink list -n %s:\n%s", up, table)

	if _, errOut, code := s.run(t, "status", "flink", "-n", up); code != 0 {
		t.Errorf("status of the healthy release: exit %d: %s", code, errOut)
	}
	if out, errOut, code := s.run(t, "status", "flink", "-n", down); code != 4 || !strings.Contains(out, "HEALTH") || !strings.Contains(errOut, "unreachable: the JobManager cannot be reached") {
		t.Errorf("status of the release scaled to zero: exit %d\n%s%s", code, out, errOut)
	}
}
