//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// readmeRole is the Role the README documents (its yaml block headed "# helm-flink-user:").
func readmeRole(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(env.root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "```yaml\n# helm-flink-user:")
	if !ok {
		t.Fatal("README.md documents no helm-flink-user Role")
	}
	role, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("README.md: the Role's yaml block does not end")
	}
	return "#" + role
}

// bindRole binds Role role in ns to user.
func bindRole(t *testing.T, ns, role, user string) {
	t.Helper()
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: role + "-" + user},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role},
		Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}}}
	if _, err := env.cs.RbacV1().RoleBindings(ns).Create(t.Context(), rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// The README's Role is all a user needs in the namespace: the plugin, impersonating a user bound
// to it alone (Helm's --kube-as-user), installs a session with a job, reads it, submits, lists
// the savepoint catalog, cancels, plans and makes an upgrade (back to one TaskManager), lists and
// uninstalls. A user whose Role lacks one
// permission (the port-forward) gets the API server's refusal and exit 4, without a wait, and
// an install that would need it is refused before anything is made.
func TestLeastPrivilegeRole(t *testing.T) {
	t.Parallel()
	ns := restrictedNamespace(t)
	role := readmeRole(t)
	apply(t, ns, role)
	bindRole(t, ns, "helm-flink-user", "alice")
	lacking := strings.Replace(strings.Replace(role, "name: helm-flink-user", "name: no-portforward", 1),
		"resources: [pods/portforward]\n    verbs: [create]", "resources: [pods/portforward]\n    verbs: [get]", 1)
	if lacking == role {
		t.Fatal("the Role has no pods/portforward create rule to take away")
	}
	apply(t, ns, lacking)
	bindRole(t, ns, "no-portforward", "bob")

	s := newStandalone(t)
	chart := filepath.Join(env.root, "charts/flink-session")
	minimal := filepath.Join(env.root, "charts/flink-session/ci/minimal-values.yaml")
	jar := exampleJar(env.versions["FLINK1_VERSION"], "TopSpeedWindowing")
	as := func(user string, args ...string) (string, string, int) {
		t.Helper()
		return s.run(t, append(args, "-n", ns, "--kube-as-user", user)...)
	}
	ok := func(args ...string) string {
		t.Helper()
		out, errOut, code := as("alice", args...)
		if code != 0 {
			t.Fatalf("as alice, helm flink %s: exit %d\n%s%s", strings.Join(args, " "), code, errOut, out)
		}
		return out
	}
	ok("install", "flink", chart, "-f", minimal, "--set", "taskmanager.replicas=2", "--jar", jar, "--timeout", "4m")
	ok("status", "flink")
	jobs := decode[[]cliJob](t, ok("jobs", "flink", "-o", "json"))
	if len(jobs) != 1 || jobs[0].State != "RUNNING" {
		t.Fatalf("jobs: %+v", jobs)
	}
	ok("submit", "flink", "--jar", jar, "--timeout", "3m")
	ok("savepoints", "flink")
	for _, j := range decode[[]cliJob](t, ok("jobs", "flink", "-o", "json")) {
		if j.State == "RUNNING" {
			ok("cancel", "flink", j.ID)
		}
	}
	ok("plan", "flink", chart, "-f", minimal)
	ok("upgrade", "flink", chart, "-f", minimal, "--timeout", "4m")
	ok("list")

	start := time.Now()
	_, errOut, code := as("bob", "status", "flink", "--timeout", "60s")
	if code != 4 || !strings.Contains(errOut, "forbidden") || !strings.Contains(errOut, "pods/portforward") || time.Since(start) > 30*time.Second {
		t.Fatalf("as bob (no pods/portforward): exit %d after %s, want 4 with the refusal at once:\n%s", code, time.Since(start), errOut)
	}
	// An install that would need the missing permission halfway is refused before it makes
	// anything.
	_, errOut, code = as("bob", "install", "other", chart, "-f", minimal)
	if code != 4 || !strings.Contains(errOut, "forbidden: in namespace "+ns+" the user may not create pods/portforward") ||
		!strings.Contains(errOut, "nothing was installed") {
		t.Fatalf("as bob, install: exit %d, want 4 naming the permission before anything is made:\n%s", code, errOut)
	}
	if s, err := env.cs.CoreV1().Secrets(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "owner=helm,name=other"}); err != nil || len(s.Items) > 0 {
		t.Fatalf("bob's refused install left a release record: %v %v", s, err)
	}
	if d, err := env.cs.AppsV1().Deployments(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=other"}); err != nil || len(d.Items) > 0 {
		t.Fatalf("bob's refused install left Deployments: %v %v", d, err)
	}
	ok("uninstall", "flink")
	assertNothingLeft(t, ns)
}
