//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// helmCLI runs one of the stack's helm binaries with Helm's dirs in a fresh folder, so that the
// plugins it sees are only the ones a test installs.
type helmCLI struct {
	bin  string
	home string
	// extraEnv is added to every command's environment (e.g. a PATH without go).
	extraEnv []string
}

func newHelm(t *testing.T, name string) *helmCLI {
	t.Helper()
	return &helmCLI{bin: filepath.Join(env.root, ".cache/bin", name), home: t.TempDir()}
}

func (h *helmCLI) env() []string {
	data := filepath.Join(h.home, "data")
	return append(append(os.Environ(),
		"HELM_DATA_HOME="+data, "HELM_CONFIG_HOME="+filepath.Join(h.home, "config"),
		"HELM_CACHE_HOME="+filepath.Join(h.home, "cache"),
		// Helm 4 installs into $HELM_DATA_HOME/plugins whatever HELM_PLUGINS says; keep them one.
		"HELM_PLUGINS="+filepath.Join(data, "plugins"),
		"KUBECONFIG="+env.kubeconfig), h.extraEnv...)
}

func (h *helmCLI) run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), h.bin, forNode(args)...)
	cmd.Env = h.env()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// checkoutCopy copies the files git tracks (no bin/) so that the install hook must build.
func checkoutCopy(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "helm-flink")
	files, err := exec.Command("git", "-C", env.root, "ls-files", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range strings.Fields(string(files)) {
		data, err := os.ReadFile(filepath.Join(env.root, f))
		if err != nil {
			continue // deleted in the work tree
		}
		dst := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		info, _ := os.Stat(filepath.Join(env.root, f))
		if err := os.WriteFile(dst, data, info.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// One plugin.yaml loads under Helm 3 and Helm 4; installing from a checkout builds the binary.
func TestPluginInstallsInHelm3AndHelm4(t *testing.T) {
	for _, name := range []string{"helm3", "helm4"} {
		t.Run(name, func(t *testing.T) {
			h := newHelm(t, name)
			h.extraEnv = []string{"HELM_FLINK_FROM_SOURCE=1"}
			src := checkoutCopy(t)
			if out, err := h.run(t, "plugin", "install", src); err != nil {
				t.Fatalf("helm plugin install: %v\n%s", err, out)
			}
			if _, err := os.Stat(filepath.Join(src, "bin/helm-flink")); err != nil {
				t.Fatalf("the install hook built no binary: %v", err)
			}
			out, err := h.run(t, "plugin", "list")
			if err != nil || !strings.Contains(out, "flink") {
				t.Fatalf("helm plugin list does not show flink: %v\n%s", err, out)
			}
			out, err = h.run(t, "flink", "version")
			if err != nil || !strings.HasPrefix(out, "helm-flink ") {
				t.Fatalf("helm flink version: %v\n%s", err, out)
			}
			out, err = h.run(t, "flink", "version", "-o", "xml")
			if err == nil || !strings.Contains(out, "want table, json or yaml") {
				t.Fatalf("a bad flag value must fail with the valid values named: %v\n%s", err, out)
			}
		})
	}
}

// Every values set of every chart lints clean under --strict with both Helm CLIs.
func TestChartsLintStrict(t *testing.T) {
	for _, chart := range []string{"flink-session", "flink-job"} {
		for _, file := range valuesSets(t, chart) {
			for _, helm := range []string{"helm3", "helm4"} {
				h := newHelm(t, helm)
				out, err := h.run(t, "lint", "--strict", filepath.Join(env.root, "charts", chart), "-f", file, "--kube-version", "1.37.2")
				if err != nil || !strings.Contains(out, "0 chart(s) failed") {
					t.Errorf("%s lint --strict %s -f %s: %v\n%s", helm, chart, filepath.Base(file), err, out)
				}
			}
		}
	}
}
