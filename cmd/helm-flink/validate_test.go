package main

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helm-flink/helm-flink/plugin/exit"
)

// noCluster points every Kubernetes client at a server that is not there: commands that must not
// contact the cluster still work, and one that tried would fail with a connection error.
func noCluster(t *testing.T) {
	t.Helper()
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:1"}}]
contexts: [{name: none, context: {cluster: none, user: none}}]
users: [{name: none, user: {token: x}}]
current-context: none
`), 0o600)
	t.Setenv("KUBECONFIG", kc)
	t.Setenv("HELM_NAMESPACE", "")
	t.Setenv("HELM_KUBECONTEXT", "")
	t.Setenv("HELM_CACHE_HOME", t.TempDir())
	t.Setenv("HELM_CONFIG_HOME", t.TempDir())
	t.Setenv("HELM_DATA_HOME", t.TempDir())
}

func runSplit(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd(&out, &errOut)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func jarWith(t *testing.T, classes ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "job.jar")
	f, _ := os.Create(path)
	w := zip.NewWriter(f)
	m, _ := w.Create("META-INF/MANIFEST.MF")
	m.Write([]byte("Manifest-Version: 1.0\r\n\r\n"))
	for _, c := range classes {
		e, _ := w.Create(strings.ReplaceAll(c, ".", "/") + ".class")
		e.Write([]byte{0xca, 0xfe, 0xba, 0xbe})
	}
	w.Close()
	f.Close()
	return path
}

func TestValidateGoodValues(t *testing.T) {
	noCluster(t)
	for _, chart := range []string{"flink-session", "flink-job"} {
		out, err := runSplit(t, "validate", "../../charts/"+chart, "-f", "../../charts/"+chart+"/ci/default-values.yaml")
		if err != nil || !strings.Contains(out, "values are valid") {
			t.Fatalf("%s: %v\n%s", chart, err, out)
		}
	}
}

// Every mistake at once, named by path with got/want, exit 1, and no cluster contact.
func TestValidateReportsEveryProblem(t *testing.T) {
	noCluster(t)
	jar := jarWith(t, "com.example.Job")
	_, err := runSplit(t, "validate", "../../charts/flink-session",
		"--set", "taskmanager.replica=3", "--set-string", "taskmanager.numberOfTaskSlots=two",
		"--set", "jobmanager.memoryProcessSize=1600MB", "--jar", jar, "--entry-class", "com.example.Jbo")
	if exit.Code(err) != 1 {
		t.Fatalf("exit %d, want 1: %v", exit.Code(err), err)
	}
	msg := err.Error()
	for _, want := range []string{
		"4 problems",
		"taskmanager.replica: unknown key (did you mean replicas?)",
		"taskmanager.numberOfTaskSlots:",
		`jobmanager.memoryProcessSize: invalid format (got "1600MB", want e.g. 1600m or 2g)`,
		"--entry-class: entry class not in the jar (did you mean com.example.Job?)",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("report lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "127.0.0.1:1") {
		t.Fatalf("validate contacted the cluster:\n%s", msg)
	}
}

func TestValidateJSON(t *testing.T) {
	noCluster(t)
	out, err := runSplit(t, "validate", "../../charts/flink-job", "--set", "taskmanager.replicas=-1", "-o", "json")
	if exit.Code(err) != 1 || !strings.Contains(out, `"valid": false`) || !strings.Contains(out, `"path": "taskmanager.replicas"`) {
		t.Fatalf("exit %d: %v\n%s", exit.Code(err), err, out)
	}
}

// install validates before it installs: with invalid values nothing reaches the (absent) cluster.
func TestInstallRefusesBadValuesBeforeTheCluster(t *testing.T) {
	noCluster(t)
	_, err := runSplit(t, "install", "flink", "../../charts/flink-session", "--set", "taskmanager.replicas=lots")
	if exit.Code(err) != 1 || !strings.Contains(err.Error(), "taskmanager.replicas") || strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("exit %d: %v", exit.Code(err), err)
	}
}

// Input Helm accepts that makes objects the API server refuses is refused before the cluster,
// naming the cause once: a release name with a dot (no Service may hold one), an int32 overflow.
func TestInstallRefusesInvalidObjectsBeforeTheCluster(t *testing.T) {
	noCluster(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"install", "my.app", "../../charts/flink-session"}, `release name "my.app" makes invalid objects: the rendered Service my.app-flink-session`},
		{[]string{"install", "r", "../../charts/flink-session", "--set", "taskmanager.replicas=3000000000"}, "taskmanager.replicas: the rendered Deployment"},
		{[]string{"validate", "../../charts/flink-job", "--set", "podLabels.team=not a label"}, "podLabels.team: the rendered"},
	} {
		_, err := runSplit(t, c.args...)
		if exit.Code(err) != 1 || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "127.0.0.1:1") || strings.Count(err.Error(), "the rendered") != 1 {
			t.Errorf("%v: exit %d: %v, want exit 1 and one problem: %s", c.args, exit.Code(err), err, c.want)
		}
	}
}

func TestUserErrorsExit1(t *testing.T) {
	noCluster(t)
	for _, args := range [][]string{
		{"install", "only-release"},
		{"install", "Bad_Name", "../../charts/flink-session"},
		{"install", "r", "../../charts/no-such-chart"},
		{"install", "r", "../../charts/flink-session", "--timeout", "soon"},
		{"install", "r", "../../charts/flink-job", "--jar", "/tmp/local.jar"},
		{"install", "r", "../../charts/flink-session", "-f", "/no/such/values.yaml"},
		{"cancel", "r", "not-a-job-id"},
		{"stop", "r", "0123456789abcdef0123456789abcdef"},
		{"uninstall", "r", "--stop-jobs"},
		{"jobs", "r", "-o", "xml"},
		{"submit", "r"},
	} {
		_, err := runSplit(t, args...)
		if err == nil || exit.Code(err) != 1 {
			t.Errorf("%v: exit %d (%v), want 1", args, exit.Code(err), err)
		}
	}
}

// A release that cannot be reached is not the user's input: exit 4, with the cause.
func TestUnreachableClusterIsNotAnInputError(t *testing.T) {
	noCluster(t)
	_, err := runSplit(t, "status", "r", "--timeout", "5s")
	if err == nil || exit.Code(err) == 0 || exit.Code(err) == 1 {
		t.Fatalf("exit %d: %v", exit.Code(err), err)
	}
}

// A kubeconfig that is not there is named as such (client-go would try localhost:8080), exit 1.
func TestMissingKubeconfigIsNamed(t *testing.T) {
	noCluster(t)
	missing := filepath.Join(t.TempDir(), "no-such-kubeconfig")
	t.Setenv("KUBECONFIG", missing)
	for _, args := range [][]string{{"status", "r"}, {"install", "r", "../../charts/flink-session"}, {"list", "-A"}} {
		_, err := runSplit(t, args...)
		if exit.Code(err) != 1 || !strings.Contains(fmt.Sprint(err), "kubeconfig "+missing+" (KUBECONFIG): no such file") || strings.Contains(fmt.Sprint(err), "8080") {
			t.Errorf("%v: exit %d: %v", args, exit.Code(err), err)
		}
	}
	t.Setenv("KUBECONFIG", "")
	t.Setenv("HOME", t.TempDir())
	if _, err := runSplit(t, "status", "r"); exit.Code(err) != 1 || !strings.Contains(fmt.Sprint(err), "no kubeconfig:") {
		t.Errorf("no kubeconfig at all: exit %d: %v", exit.Code(err), err)
	}
}

// A chart whose values.schema.json is broken is bad input: exit 1, the file named.
func TestBrokenSchemaIsNamed(t *testing.T) {
	noCluster(t)
	charts := t.TempDir()
	dir := filepath.Join(charts, "flink-session")
	for _, c := range []string{"flink-session", "flink-common"} {
		if err := os.CopyFS(filepath.Join(charts, c), os.DirFS("../../charts/"+c)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "values.schema.json"), []byte(`{"type": "object", "properties": {"a": {"type": 7}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := runSplit(t, "validate", dir)
	if exit.Code(err) != 1 || !strings.Contains(fmt.Sprint(err), "values.schema.json") {
		t.Fatalf("exit %d: %v", exit.Code(err), err)
	}
}

// Flags out of range are refused when parsed, by one rule per flag type, for every command.
func TestFlagRangesAreChecked(t *testing.T) {
	noCluster(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"validate", "../../charts/flink-session", "--parallelism", "-3"}, `invalid argument "-3" for "--parallelism" flag: must be at least 1`},
		{[]string{"install", "r", "../../charts/flink-session", "--parallelism", "0"}, "must be at least 1"},
		{[]string{"status", "r", "--timeout", "-1s"}, "must be positive"},
		{[]string{"savepoints", "r", "--prune", "--keep", "-2"}, "must be at least 0"},
		{[]string{"savepoints", "r", "--prune", "--older-than", "0s"}, "must be positive"},
		{[]string{"list", "--parallel", "0"}, "must be at least 1"},
	} {
		_, err := runSplit(t, c.args...)
		if exit.Code(err) != 1 || !strings.Contains(fmt.Sprint(err), c.want) {
			t.Errorf("%v: exit %d: %v, want %q", c.args, exit.Code(err), err, c.want)
		}
	}
}
