//go:build e2e

package e2e

import (
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// cliPlan is what `helm flink plan -o json` prints.
type cliPlan struct {
	Revision int    `json:"revision"`
	Change   string `json:"change"`
	Jobs     []struct {
		ID          string `json:"id"`
		Fate        string `json:"fate"`
		Parallelism []int  `json:"parallelism"`
	} `json:"jobs"`
	Objects []struct {
		Kind, Name, Action, Component string
	} `json:"objects"`
	Refused    string `json:"refused"`
	Restore    string `json:"restore"`
	RollbackTo int    `json:"rollbackTo"`
}

// planOf runs `helm flink plan … -o json --detailed-exitcode` and checks that it changed
// nothing: the release's revision and every pod of the namespace are the same afterwards.
func planOf(t *testing.T, s *standalone, ns, release, chart string, args ...string) (cliPlan, int) {
	t.Helper()
	before := podUIDs(t, ns, "app.kubernetes.io/instance="+release)
	out, _, code := s.run(t, append([]string{"plan", release, chart, "-n", ns, "--reuse-values", "-o", "json", "--detailed-exitcode"}, args...)...)
	p := decode[cliPlan](t, out)
	assertSamePods(t, "pods after the plan", before, podUIDs(t, ns, "app.kubernetes.io/instance="+release))
	assertRevisions(t, ns, release, p.Revision)
	return p, code
}

// assertRevisions fails unless release has n revisions: a plan makes none.
func assertRevisions(t *testing.T, ns, release string, n int) {
	t.Helper()
	secrets, err := env.cs.CoreV1().Secrets(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "owner=helm,name=" + release})
	if err != nil || len(secrets.Items) != n {
		t.Fatalf("%d release revisions after the plan (%v), want %d: the plan made one", len(secrets.Items), err, n)
	}
}

// assertSessionPlans checks `helm flink plan` on session release "flink" running job: a
// TaskManager scale keeps the job running (exit 5) and lists the scaled Deployment; a
// configuration change restarts the JobManager, which without HA would lose the job, so it is
// refused (exit 1); no change is exit 0; `upgrade --dry-run` prints the plan — and none of them
// changes anything.
func assertSessionPlans(t *testing.T, s *standalone, ns, chart, job string) {
	t.Helper()
	p, code := planOf(t, s, ns, "flink", chart, "--set", "taskmanager.replicas=3")
	if code != 5 || p.Change != "scale" || len(p.Jobs) != 1 || p.Jobs[0].ID != job || p.Jobs[0].Fate != "keeps running" ||
		len(p.Objects) != 1 || p.Objects[0].Action != "scaled" || p.Objects[0].Component != "taskmanager" {
		t.Fatalf("plan of a scale: exit %d, %+v", code, p)
	}
	p, code = planOf(t, s, ns, "flink", chart, "--set-string", `flinkConfiguration.execution\.checkpointing\.interval=10s`)
	if code != 1 || p.Change != "restart" || p.Jobs[0].Fate != "lost: its state is not kept" || !strings.Contains(p.Refused, "restarts the JobManager") {
		t.Fatalf("plan of a config change: exit %d, %+v", code, p)
	}
	if _, _, code := s.run(t, "plan", "flink", chart, "-n", ns, "--reuse-values", "--detailed-exitcode"); code != 0 {
		t.Fatalf("plan of nothing: exit %d, want 0", code)
	}
	table, _, _ := s.run(t, "upgrade", "flink", chart, "-n", ns, "--reuse-values", "--set", "taskmanager.replicas=3", "--dry-run")
	if !strings.Contains(table, "TaskManagers scaled; no pod replaced") || !strings.Contains(table, "keeps running") {
		t.Fatalf("upgrade --dry-run does not print the plan:\n%s", table)
	}
}

// assertApplicationPlan checks `helm flink plan` of application release "app" running job
// with parallelism from: a parallelism change to 3 stops the job with a savepoint and restores
// it with parallelism from → 3 (exit 6), the JobManager restarts; nothing is changed.
func assertApplicationPlan(t *testing.T, s *standalone, ns, chart, job string, from int) {
	t.Helper()
	p, code := planOf(t, s, ns, "app", chart, "--set", "parallelism=3")
	if code != 6 || p.Change != "restart" || len(p.Jobs) != 1 || p.Jobs[0].ID != job ||
		p.Jobs[0].Fate != "stopped with a savepoint and restored from it" || !reflect.DeepEqual(p.Jobs[0].Parallelism, []int{from, 3}) {
		t.Fatalf("plan of a parallelism change: exit %d, %+v", code, p)
	}
}
