//go:build e2e

package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var (
	standaloneOnce sync.Once
	standaloneBin  string
	standaloneErr  error
)

// standalone is the plugin built as the plain `helm-flink` binary, run with Helm's environment
// variables only (no helm around it).
type standalone struct {
	home string
	env  []string
}

func newStandalone(t testing.TB, extraEnv ...string) *standalone {
	t.Helper()
	standaloneOnce.Do(func() {
		dir, err := os.MkdirTemp("", "helm-flink-e2e-bin-")
		if err != nil {
			standaloneErr = err
			return
		}
		standaloneBin = filepath.Join(dir, "helm-flink")
		out, err := exec.Command("go", "build", "-o", standaloneBin, filepath.Join(env.root, "cmd/helm-flink")).CombinedOutput()
		if err != nil {
			standaloneErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if standaloneErr != nil {
		t.Fatal(standaloneErr)
	}
	home := t.TempDir()
	return &standalone{home: home, env: append(append(os.Environ(),
		"KUBECONFIG="+env.kubeconfig, "HELM_NAMESPACE=", "HELM_KUBECONTEXT=", "HELM_DRIVER=",
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"), "HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_DATA_HOME="+filepath.Join(home, "data")), extraEnv...)}
}

func (s *standalone) cmd(t testing.TB, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(t.Context(), standaloneBin, forNode(args)...)
	cmd.Env = s.env
	return cmd
}

func (s *standalone) run(t testing.TB, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := s.cmd(t, args...)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	// A benchmark prints its log whatever -v says: the timings alone there.
	if _, bench := t.(*testing.B); !bench || code != 0 {
		t.Logf("helm-flink %s → exit %d\n%s%s", strings.Join(args, " "), code, e.String(), clip(o.String()))
	}
	return o.String(), e.String(), code
}

// helm runs the stack's helm3 with the same Helm home, for what users do with helm beside the plugin.
func (s *standalone) helm(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), filepath.Join(env.root, ".cache/bin/helm3"), forNode(args)...)
	cmd.Env = s.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helm %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// Chart references as helm takes them: directory, .tgz, --repo URL, repo/chart and oci://.
func TestChartReferences(t *testing.T) {
	t.Parallel()
	s := newStandalone(t)
	pkgDir := t.TempDir()
	s.helm(t, "package", filepath.Join(env.root, "charts/flink-session"), "-d", pkgDir)
	version := chartVersion(t, "flink-session")
	tgz := filepath.Join(pkgDir, "flink-session-"+version+".tgz")

	// A chart repository: index.yaml made by helm, served over HTTP.
	repo := httptest.NewServer(http.FileServer(http.Dir(pkgDir)))
	t.Cleanup(repo.Close)
	s.helm(t, "repo", "index", pkgDir, "--url", repo.URL)
	s.helm(t, "repo", "add", "local", repo.URL)

	// An OCI registry (the distribution registry, in memory), the chart pushed by helm.
	addr := startRegistry(t)
	s.helm(t, "push", tgz, "oci://"+addr+"/charts", "--plain-http")

	ns := newNamespace(t)
	for _, ref := range [][]string{
		{filepath.Join(env.root, "charts/flink-session")},
		{tgz},
		{"flink-session", "--repo", repo.URL, "--version", version},
		{"local/flink-session"},
		{"oci://" + addr + "/charts/flink-session", "--version", version, "--plain-http"},
	} {
		args := append([]string{"install", "flink", ref[0], "-n", ns, "--dry-run"}, ref[1:]...)
		out, _, code := s.run(t, args...)
		if code != 0 || !strings.Contains(out, "helm.sh/chart: flink-session-"+version) || !strings.Contains(out, "kind: Deployment") {
			t.Fatalf("%v: exit %d, no rendered flink-session manifest", ref, code)
		}
	}
	// A dry run creates nothing; the OCI chart installs for real and its job runs.
	assertNothingLeft(t, ns)
	out, _, code := s.run(t, "install", "flink", "oci://"+addr+"/charts/flink-session", "--version", version, "--plain-http",
		"-n", ns, "--jar", exampleJar(env.versions["FLINK1_VERSION"], "TopSpeedWindowing"), "-o", "json")
	if code != 0 || decode[cliInstall](t, out).Job.State != "RUNNING" {
		t.Fatalf("install from oci://: exit %d", code)
	}
	if _, _, code := s.run(t, "install", "flink2", "local/no-such-chart", "-n", ns); code != 1 {
		t.Fatalf("an unknown chart: exit %d, want 1", code)
	}
	s.run(t, "uninstall", "flink", "-n", ns)
	assertNothingLeft(t, ns)
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Helm's environment: HELM_NAMESPACE and HELM_DRIVER decide where and how the release is stored.
func TestHelmEnvironment(t *testing.T) {
	ns := newNamespace(t)
	s := newStandalone(t, "HELM_NAMESPACE="+ns, "HELM_DRIVER=configmap")
	if _, _, code := s.run(t, "install", "env", filepath.Join(env.root, "charts/flink-session"), "--set", "tests.enabled=false"); code != 0 {
		t.Fatalf("install: exit %d", code)
	}
	sel := metav1.ListOptions{LabelSelector: "owner=helm,name=env"}
	cms, _ := env.cs.CoreV1().ConfigMaps(ns).List(t.Context(), sel)
	secrets, _ := env.cs.CoreV1().Secrets(ns).List(t.Context(), sel)
	if len(cms.Items) != 1 || len(secrets.Items) != 0 {
		t.Fatalf("HELM_DRIVER=configmap: %d release config maps, %d release secrets", len(cms.Items), len(secrets.Items))
	}
	out, _, code := s.run(t, "status", "env", "-o", "json")
	if code != 0 || !strings.Contains(out, `"taskManagers": 2`) {
		t.Fatalf("status: exit %d", code)
	}
	// Shell completion lists the namespace's releases.
	out, _, _ = s.run(t, "__complete", "status", "")
	if !strings.Contains(out, "env\tflink-session-"+chartVersion(t, "flink-session")) {
		t.Fatalf("completion does not offer the release:\n%s", out)
	}
	if _, _, code := s.run(t, "uninstall", "env"); code != 0 {
		t.Fatalf("uninstall: exit %d", code)
	}
	assertNothingLeft(t, ns)
}

// Ctrl-C while waiting: the command stops at once with 130, and --atomic takes the release back.
func TestInterrupt(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	s := newStandalone(t)
	cmd := s.cmd(t, "install", "flink", filepath.Join(env.root, "charts/flink-session"), "-n", ns, "--atomic",
		"--jar", exampleJar(env.versions["FLINK1_VERSION"], "TopSpeedWindowing"))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stderr)
	var seen []string
	for lines.Scan() {
		seen = append(seen, lines.Text())
		if strings.Contains(lines.Text(), "taskmanager pods ready") {
			break
		}
	}
	start := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	for lines.Scan() {
		seen = append(seen, lines.Text())
	}
	err = cmd.Wait()
	took := time.Since(start)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("after Ctrl-C: %v, want exit 130\n%s", err, strings.Join(seen, "\n"))
	}
	if took > 60*time.Second {
		t.Fatalf("took %s to stop after Ctrl-C", took)
	}
	if !strings.Contains(strings.Join(seen, "\n"), "interrupted") {
		t.Fatalf("no word of the interrupt:\n%s", strings.Join(seen, "\n"))
	}
	assertNothingLeft(t, ns)
}

// A release Flux manages is refused: Flux would put back whatever the plugin removed.
func TestFluxOwnedReleaseIsRefused(t *testing.T) {
	ns := newNamespace(t)
	install := action.NewInstall(helmConfig(t, ns))
	install.ReleaseName, install.Namespace = "flux", ns
	install.Labels = map[string]string{"helm.toolkit.fluxcd.io/name": "flink", "helm.toolkit.fluxcd.io/namespace": "flux-system"}
	ch := &chart.Chart{
		Metadata:  &chart.Metadata{APIVersion: "v2", Name: "flink-session", Version: "0.1.0"},
		Templates: []*chart.File{{Name: "templates/cm.yaml", Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: flux-owned\n")}},
	}
	if _, err := install.Run(ch, nil); err != nil {
		t.Fatal(err)
	}
	s := newStandalone(t)
	_, errOut, code := s.run(t, "uninstall", "flux", "-n", ns)
	if code != 1 || !strings.Contains(errOut, "Flux HelmRelease flux-system/flink") {
		t.Fatalf("uninstall of a Flux release: exit %d", code)
	}
	if _, err := env.cs.CoreV1().ConfigMaps(ns).Get(t.Context(), "flux-owned", metav1.GetOptions{}); err != nil {
		t.Fatalf("the refused uninstall removed objects: %v", err)
	}
	out, _, _ := s.run(t, "status", "flux", "-n", ns)
	if !strings.Contains(out, "Flux HelmRelease flux-system/flink") {
		t.Fatalf("status does not say who manages the release:\n%s", out)
	}
}

// clip keeps test logs readable when a command prints a whole manifest.
func clip(s string) string {
	if len(s) > 1500 {
		return s[:1500] + fmt.Sprintf("\n… (%d more bytes)\n", len(s)-1500)
	}
	return s
}
