//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// What a platform engineer does with the released artifacts only, with Helm 3 and Helm 4 on a
// PATH without go: the plugin from its release tarball (Helm 4 verifying its signature), the
// charts from a chart repository holding the previous and the current version (Helm 3) or from
// an OCI registry (Helm 4); install the previous version with a job, upgrade to the current one,
// verified: the job lives on. 0.5 changes the Flink pods (bounded scratch volumes, readiness on the
// TaskManager's shuffle server), so the upgrade replaces the JobManager: the release runs with
// Kubernetes HA, as one whose jobs must outlive a JobManager does, and the new JobManager
// recovers the job under its id; the upgrade returns once it runs every task again.
func TestConsumeReleasedArtifacts(t *testing.T) {
	t.Parallel()
	start := time.Now()
	distRoot := distDir(t)
	keyName, err := exec.Command("bash", filepath.Join(env.root, "ci/testkey.sh"), distBuild.keyDir).Output()
	if err != nil {
		t.Fatal(err)
	}
	pubring := filepath.Join(distBuild.keyDir, "pubring.gpg")

	// One web root as a release page would be: the plugin's assets and the chart repository.
	root := t.TempDir()
	if err := os.Symlink(filepath.Join(distRoot, "plugin"), filepath.Join(root, "plugin")); err != nil {
		t.Fatal(err)
	}
	url := serve(t, root)
	chartsDir := filepath.Join(root, "charts")
	sign := []string{"CHARTS_DIR=" + chartsDir, "SIGN_KEY=" + strings.TrimSpace(string(keyName)),
		"KEYRING=" + filepath.Join(distBuild.keyDir, "secring.gpg")}
	chartsScript(t, nil, append(sign, "CHART_REPO_URL="+url+"/charts")...)

	// The OCI registry holds both versions too: the previous release's package as it was
	// published, the current one pushed by ci/charts.sh with its provenance.
	addr := startRegistry(t)
	prevTgz, prev := previousRelease(t, "flink-session")
	current := chartVersion(t, "flink-session")
	newStandalone(t).helm(t, "push", prevTgz, "oci://"+addr+"/charts", "--plain-http")
	chartsScript(t, []string{"push"}, append(sign, "OCI_REPO=oci://"+addr+"/charts", "PLAIN_HTTP=1")...)
	t.Logf("artifacts built and served in %s", time.Since(start).Round(time.Second))

	for _, name := range []string{"helm3", "helm4"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHelm(t, name)
			h.extraEnv = []string{"PATH=" + noGoPath(t)}
			install := []string{"plugin", "install", url + "/plugin/" + hostDist(t)}
			if name == "helm4" {
				install = append(install, "--keyring", pubring) // verification on, as by default
			}
			if out, err := h.run(t, install...); err != nil {
				t.Fatalf("%s %s: %v\n%s", name, strings.Join(install, " "), err, out)
			}
			if out, err := h.run(t, "repo", "add", "hf", url+"/charts"); err != nil {
				t.Fatalf("repo add: %v\n%s", err, out)
			}
			out, err := h.run(t, "search", "repo", "hf/flink-session", "--versions")
			if err != nil || !strings.Contains(out, prev) || !strings.Contains(out, current) {
				t.Fatalf("the repository does not offer %s and %s: %v\n%s", prev, current, err, out)
			}
			jar := exampleJar(env.versions["FLINK1_VERSION"], "TopSpeedWindowing")
			// Helm 3 from the chart repository, Helm 4 from the OCI registry (TestChartRepo pulls
			// from both with both).
			sources := map[string][]struct{ name, ref string }{
				"helm3": {{"repo", "hf/flink-session"}},
				"helm4": {{"oci", "oci://" + addr + "/charts/flink-session"}},
			}
			for _, src := range sources[name] {
				t.Run(src.name, func(t *testing.T) {
					ns := newNamespace(t)
					extra := []string{"-n", ns}
					if src.name == "oci" {
						extra = append(extra, "--plain-http")
					}
					began := time.Now()
					ha := []string{"--set", "highAvailability.enabled=true", "--set", "highAvailability.storageDir=file:///flink-data/ha",
						"--set", "persistence.enabled=true", "--set", "persistence.size=1Gi", "--set", "persistence.keepOnUninstall=false"}
					stdout, _, code := h.flink(t, append(append([]string{"install", "r", src.ref, "--version", prev, "--jar", jar, "-o", "json"}, ha...), extra...)...)
					in := decode[cliInstall](t, stdout)
					if code != 0 || in.Job.State != "RUNNING" || in.Job.Running != in.Job.Total {
						t.Fatalf("install %s --version %s: exit %d, %+v", src.ref, prev, code, in)
					}
					stdout, _, code = h.flink(t, append([]string{"upgrade", "r", src.ref, "--version", current, "--reset-then-reuse-values",
						"--verify", "--keyring", pubring, "-o", "json"}, extra...)...)
					if code != 0 {
						t.Fatalf("upgrade to %s --version %s --verify: exit %d", src.ref, current, code)
					}
					stdout, _, code = h.flink(t, "status", "r", "-n", ns, "-o", "json")
					st := decode[struct {
						Release struct {
							Revision int    `json:"revision"`
							Chart    string `json:"chart"`
						} `json:"release"`
						Jobs []cliJob `json:"jobs"`
					}](t, stdout)
					if code != 0 || st.Release.Revision != 2 || st.Release.Chart != "flink-session-"+current || len(st.Jobs) != 1 || st.Jobs[0].ID != in.Job.JobID || st.Jobs[0].State != "RUNNING" {
						t.Fatalf("after the upgrade to %s: exit %d, %+v", current, code, st)
					}
					t.Logf("%s %s: install %s with a job to RUNNING and upgrade to %s in %s", name, src.name, prev, current, time.Since(began).Round(100*time.Millisecond))
					if _, _, code := h.flink(t, "uninstall", "r", "-n", ns); code != 0 {
						t.Fatalf("uninstall: exit %d", code)
					}
					assertNothingLeft(t, ns)
				})
			}
			// A package that is not the signed one is refused before anything is installed.
			ns := newNamespace(t)
			_, _, code := h.flink(t, "install", "bad", prevTgz, "-n", ns, "--verify", "--keyring", pubring)
			if code != 1 {
				t.Fatalf("install --verify of an unsigned package: exit %d, want 1", code)
			}
			assertNothingLeft(t, ns)
		})
	}
}
