//go:build e2e

package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/repo"
)

// The chart repository `make charts` builds (ci/charts.sh): signed packages and an index served
// over HTTP, found, pulled and verified by Helm 3 and Helm 4; the same packages pushed to an OCI
// registry with their provenance. Installing them is the charts tests' business.

var repoCharts = []string{"flink-session", "flink-job"}

// testKey is a throwaway signing key made by ci/testkey.sh.
type testKey struct{ name, secring, pubring string }

func newTestKey(t *testing.T) testKey {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.CommandContext(t.Context(), "bash", filepath.Join(env.root, "ci/testkey.sh"), dir).Output()
	if err != nil {
		t.Fatalf("ci/testkey.sh: %v", err)
	}
	return testKey{strings.TrimSpace(string(out)), filepath.Join(dir, "secring.gpg"), filepath.Join(dir, "pubring.gpg")}
}

// chartsScript runs ci/charts.sh with the stack's helm3, Helm's dirs in a fresh folder and only
// the settings given (none inherited from the caller's environment).
func chartsScript(t *testing.T, args []string, settings ...string) string {
	t.Helper()
	home := t.TempDir()
	cmd := exec.CommandContext(t.Context(), "bash", append([]string{filepath.Join(env.root, "ci/charts.sh")}, args...)...)
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "CHARTS_DIR", "SIGN_KEY", "KEYRING", "PASSPHRASE_FILE", "CHART_REPO_URL", "PUBLISHED_INDEX",
			"RELEASED_DIR", "OCI_REPO", "PLAIN_HTTP", "HELM":
		default:
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "HELM="+filepath.Join(env.root, ".cache/bin/helm3"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"), "HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"))
	cmd.Env = append(cmd.Env, settings...)
	out, err := cmd.CombinedOutput()
	t.Logf("ci/charts.sh %s %s\n%s", strings.Join(settings, " "), strings.Join(args, " "), out)
	if err != nil {
		t.Fatalf("ci/charts.sh: %v", err)
	}
	return string(out)
}

// chartVersion is a chart's version in the checkout, read from its Chart.yaml.
func chartVersion(t *testing.T, chart string) string {
	t.Helper()
	md, err := chartutil.LoadChartfile(filepath.Join(env.root, "charts", chart, "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return md.Version
}

// releasedVersions are the versions of the previously released packages kept in
// charts/testdata/released, which ci/charts.sh adds to the repository: chart name → versions.
func releasedVersions(t *testing.T) map[string][]string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(env.root, "charts/testdata/released/*.tgz"))
	out := map[string][]string{}
	for _, f := range files {
		ch, err := loader.Load(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[ch.Name()] = append(out[ch.Name()], ch.Metadata.Version)
	}
	return out
}

// tamper rewrites a chart package with one file changed, a valid chart that is not the signed one.
func tamper(t *testing.T, src, dst, file string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	tr := tar.NewReader(gz)
	changed := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		if strings.HasSuffix(h.Name, "/"+file) && strings.Count(h.Name, "/") == 1 {
			body = append(body, []byte("\n# tampered\n")...)
			h.Size, changed = int64(len(body)), true
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(body)
	}
	if !changed {
		t.Fatalf("%s has no %s", src, file)
	}
	tw.Close()
	zw.Close()
	if err := os.WriteFile(dst, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestChartRepo(t *testing.T) {
	key, other := newTestKey(t), newTestKey(t)
	dir := t.TempDir()
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	chartsScript(t, nil, "CHARTS_DIR="+dir, "SIGN_KEY="+key.name, "KEYRING="+key.secring, "CHART_REPO_URL="+srv.URL)

	versions := map[string][]string{} // every version the index must hold
	for name, vs := range releasedVersions(t) {
		versions[name] = vs
	}
	current := map[string]string{}
	for _, chart := range repoCharts {
		current[chart] = chartVersion(t, chart)
		if !slices.Contains(versions[chart], current[chart]) {
			versions[chart] = append(versions[chart], current[chart])
		}
		for _, f := range []string{".tgz", ".tgz.prov"} {
			if _, err := os.Stat(filepath.Join(dir, chart+"-"+current[chart]+f)); err != nil {
				t.Fatalf("ci/charts.sh with SIGN_KEY: %v", err)
			}
		}
	}
	t.Logf("versions in the repository: %v", versions)
	index, err := repo.LoadIndexFile(filepath.Join(dir, "index.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for chart, vs := range versions {
		for _, v := range vs {
			if !index.Has(chart, v) {
				t.Errorf("index.yaml has no %s %s", chart, v)
			}
		}
	}

	for _, name := range []string{"helm3", "helm4"} {
		t.Run(name, func(t *testing.T) {
			h := newHelm(t, name)
			helm := func(args ...string) string {
				t.Helper()
				out, err := h.run(t, args...)
				if err != nil {
					t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
				}
				return out
			}
			helm("repo", "add", "flink", srv.URL)

			// helm search repo lists every chart with every version of the index.
			var found []struct{ Name, Version string }
			if err := json.Unmarshal([]byte(helm("search", "repo", "flink/", "--versions", "-o", "json")), &found); err != nil {
				t.Fatal(err)
			}
			for chart, vs := range versions {
				for _, v := range vs {
					if !slices.ContainsFunc(found, func(f struct{ Name, Version string }) bool {
						return f.Name == "flink/"+chart && f.Version == v
					}) {
						t.Errorf("helm search repo does not list %s %s: %+v", chart, v, found)
					}
				}
			}
			// Without --versions, the latest of each.
			out := helm("search", "repo", "flink/")
			for _, chart := range repoCharts {
				latest, err := index.Get(chart, "")
				if err != nil {
					t.Fatal(err)
				}
				if !regexp.MustCompile(`(?m)^flink/` + chart + `\s+` + regexp.QuoteMeta(latest.Version) + `\s`).MatchString(out) {
					t.Errorf("helm search repo does not show %s %s:\n%s", chart, latest.Version, out)
				}
			}

			pulled := t.TempDir()
			for chart, v := range current {
				// Pulled and verified against the public key; the install path (LocateChart) verifies alike.
				out := helm("pull", "flink/"+chart, "--version", v, "--verify", "--keyring", key.pubring, "-d", pulled)
				if !strings.Contains(out, "Signed by: "+key.name) {
					t.Errorf("helm pull --verify names no signer:\n%s", out)
				}
				tgz := filepath.Join(pulled, chart+"-"+v+".tgz")
				helm("verify", tgz, "--keyring", key.pubring)
				helm("template", "flink", "flink/"+chart, "--version", v, "--verify", "--keyring", key.pubring, "--kube-version", "1.37.2")

				// The library chart is inside once, found by helm dependency list.
				deps := helm("dependency", "list", tgz)
				if !strings.Contains(deps, "flink-common") || !(strings.Contains(deps, "unpacked") || strings.Contains(deps, " ok")) {
					t.Errorf("helm dependency list %s:\n%s", filepath.Base(tgz), deps)
				}

				// A package changed after signing is refused.
				bad := filepath.Join(t.TempDir(), chart+"-"+v+".tgz")
				tamper(t, tgz, bad, "values.yaml")
				prov, _ := os.ReadFile(tgz + ".prov")
				os.WriteFile(bad+".prov", prov, 0o644)
				if out, err := h.run(t, "verify", bad, "--keyring", key.pubring); err == nil || !strings.Contains(out, "sha256 sum does not match") {
					t.Errorf("helm verify accepted a tampered %s: %v\n%s", filepath.Base(bad), err, out)
				}
				// And so is the signed package against another key.
				if out, err := h.run(t, "pull", "flink/"+chart, "--version", v, "--verify", "--keyring", other.pubring, "-d", t.TempDir()); err == nil {
					t.Errorf("helm pull --verify with another key accepted %s %s:\n%s", chart, v, out)
				}
			}
		})
	}

	// Without SIGN_KEY: no provenance, and one line saying so.
	t.Run("unsigned", func(t *testing.T) {
		out := t.TempDir()
		log := chartsScript(t, nil, "CHARTS_DIR="+out, "RELEASED_DIR=")
		if !strings.Contains(log, "not signed") {
			t.Errorf("no word that the packages are not signed:\n%s", log)
		}
		provs, _ := filepath.Glob(filepath.Join(out, "*.prov"))
		if len(provs) != 0 {
			t.Errorf("provenance files without SIGN_KEY: %v", provs)
		}
	})

	// The same packages pushed to an OCI registry, each with its .prov as a layer.
	t.Run("oci", func(t *testing.T) {
		addr := startRegistry(t)
		chartsScript(t, []string{"push"}, "CHARTS_DIR="+dir, "OCI_REPO=oci://"+addr+"/charts", "PLAIN_HTTP=1")
		for chart, v := range current {
			if layers := manifestLayers(t, addr, "charts/"+chart, v); !slices.Contains(layers, "application/vnd.cncf.helm.chart.provenance.v1.prov") {
				t.Errorf("%s:%s has no provenance layer: %v", chart, v, layers)
			}
		}
		for _, name := range []string{"helm3", "helm4"} {
			t.Run(name, func(t *testing.T) {
				h := newHelm(t, name)
				for chart, v := range current {
					ref := "oci://" + addr + "/charts/" + chart
					out, err := h.run(t, "show", "chart", ref, "--version", v, "--plain-http")
					if err != nil || !strings.Contains(out, "name: "+chart) || !strings.Contains(out, "version: "+v) {
						t.Errorf("%s show chart %s: %v\n%s", name, ref, err, out)
					}
					pulled := t.TempDir()
					out, err = h.run(t, "pull", ref, "--version", v, "--plain-http", "--verify", "--keyring", key.pubring, "-d", pulled)
					if err != nil || !strings.Contains(out, "Signed by: "+key.name) {
						t.Errorf("%s pull %s --verify: %v\n%s", name, ref, err, out)
					}
					if _, err := os.Stat(filepath.Join(pulled, chart+"-"+v+".tgz.prov")); err != nil {
						t.Errorf("%s pull --verify of %s kept no .prov: %v", name, ref, err)
					}
				}
			})
		}
	})
}

// manifestLayers are the media types of the layers of an OCI artifact in the registry.
func manifestLayers(t *testing.T, addr, name, tag string) []string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+addr+"/v2/"+name+"/manifests/"+tag, nil)
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m struct {
		Layers []struct {
			MediaType string `json:"mediaType"`
		} `json:"layers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("manifest %s:%s: %s %v", name, tag, resp.Status, err)
	}
	var out []string
	for _, l := range m.Layers {
		out = append(out, l.MediaType)
	}
	return out
}
