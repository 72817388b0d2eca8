//go:build e2e

package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/buildinfo"
	"debug/elf"
	"debug/macho"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The released plugin (make dist): per-platform tarballs that install into Helm 3 and Helm 4
// without a Go toolchain, Helm 4 verifying their signature, and install-binary.sh fetching the
// released binary for a plugin installed from its source.

// Each OS and each architecture of the release's four once (linux/amd64 is this machine's): the
// other two are the same script over the same code, and every cross build compiles Helm's SDK
// and client-go from scratch, minutes of the CI machine's two cores.
var distPlatforms = []string{"linux/amd64", "darwin/arm64"}

// distEntries is what every tarball holds, in this order, at its root.
var distEntries = []string{"plugin.yaml", "plugin.complete", "install-binary.sh", "LICENSE", "README.md", "bin/", "bin/helm-flink"}

var distBuild struct {
	once    sync.Once
	err     error
	dir     string // DIST_DIR; the artifacts are in dir/plugin
	keyDir  string // the throwaway key: secring.gpg, pubring.gpg
	version string // plugin.yaml's
}

// distDir runs `make dist` once per test run, signed with a throwaway key, into a scratch
// DIST_DIR under the checkout's (git-ignored) .cache, never into dist/. It returns DIST_DIR.
func distDir(t *testing.T) string {
	t.Helper()
	distBuild.once.Do(func() {
		distBuild.err = func() error {
			distBuild.dir = filepath.Join(env.root, ".cache/e2e-dist")
			distBuild.keyDir = filepath.Join(distBuild.dir, "key")
			yaml, err := os.ReadFile(filepath.Join(env.root, "plugin.yaml"))
			if err != nil {
				return err
			}
			m := regexp.MustCompile(`(?m)^version:\s*"?([^"\s]+)"?\s*$`).FindSubmatch(yaml)
			if m == nil {
				return errors.New("plugin.yaml has no version")
			}
			distBuild.version = string(m[1])
			key, err := exec.Command("bash", filepath.Join(env.root, "ci/testkey.sh"), distBuild.keyDir).Output()
			if err != nil {
				return fmt.Errorf("ci/testkey.sh: %w", err)
			}
			cmd := exec.Command("make", "-C", env.root, "dist")
			cmd.Env = append(os.Environ(), "DIST_DIR="+distBuild.dir, "PLATFORMS="+strings.Join(distPlatforms, " "),
				"SIGN_KEY="+strings.TrimSpace(string(key)), "KEYRING="+filepath.Join(distBuild.keyDir, "secring.gpg"))
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("make dist: %w\n%s", err, out)
			}
			return nil
		}()
	})
	if distBuild.err != nil {
		t.Fatal(distBuild.err)
	}
	return distBuild.dir
}

func distName(goos, goarch string) string {
	return fmt.Sprintf("helm-flink-%s-%s-%s.tgz", distBuild.version, goos, goarch)
}

// hostDist is the tarball of this machine's platform.
func hostDist(t *testing.T) string {
	t.Helper()
	distDir(t)
	if !slices.Contains(distPlatforms, runtime.GOOS+"/"+runtime.GOARCH) {
		t.Skipf("no release tarball for %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	return distName(runtime.GOOS, runtime.GOARCH)
}

// serve serves dir over http on 127.0.0.1 until the test ends, tarballs as application/gzip:
// Helm 3 takes a URL for a tarball only when a HEAD request answers with a gzip or gtar
// Content-Type (the release assets are uploaded with that type), Helm 4 by its suffix.
func serve(t *testing.T, dir string) string {
	t.Helper()
	files := http.FileServer(http.Dir(dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".tgz") {
			w.Header().Set("Content-Type", "application/gzip")
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// noGoPath is a PATH without go, which lives in /usr/local/go/bin on our machines.
func noGoPath(t *testing.T) string {
	t.Helper()
	const path = "/usr/bin:/bin"
	for _, dir := range filepath.SplitList(path) {
		if _, err := os.Stat(filepath.Join(dir, "go")); err == nil {
			t.Fatalf("%s/go exists: cannot make a PATH without go", dir)
		}
	}
	return path
}

// runEnv runs helm with extra environment variables (the last value of a variable wins).
func (h *helmCLI) runEnv(t *testing.T, extraEnv []string, args ...string) (string, error) {
	t.Helper()
	c := *h
	c.extraEnv = append(append([]string{}, h.extraEnv...), extraEnv...)
	return c.run(t, args...)
}

// distTarFile is one entry of a tarball.
type distTarFile struct {
	name string
	mode int64
	data []byte
}

func distReadTarball(t *testing.T, path string) []distTarFile {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var files []distTarFile
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, distTarFile{name: h.Name, mode: h.Mode, data: data})
	}
}

func distBinary(t *testing.T, path string) []byte {
	t.Helper()
	for _, f := range distReadTarball(t, path) {
		if f.name == "bin/helm-flink" {
			return f.data
		}
	}
	t.Fatalf("%s has no bin/helm-flink", path)
	return nil
}

func distSHA256(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func distCopy(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// distAssertNoPlugin checks that a refused install left no plugin behind.
func distAssertNoPlugin(t *testing.T, h *helmCLI) {
	t.Helper()
	if out, err := h.run(t, "plugin", "list"); err != nil || strings.Contains(out, "flink") {
		t.Errorf("helm plugin list after a refused install: %v\n%s", err, out)
	}
	entries, _ := os.ReadDir(filepath.Join(h.home, "data/plugins"))
	for _, e := range entries {
		if e.IsDir() {
			t.Errorf("a refused install left the plugin folder %s", e.Name())
		}
	}
}

// Every tarball holds the plugin at its root with a static, stripped, stamped binary of its
// platform; checksums.txt lists each tarball's sha256 and each has its signature beside it.
func TestDistArtifacts(t *testing.T) {
	dir := filepath.Join(distDir(t), "plugin")
	sums, err := os.ReadFile(filepath.Join(dir, "checksums.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, p := range distPlatforms {
		goos, goarch, _ := strings.Cut(p, "/")
		name := distName(goos, goarch)
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, distSHA256(data)+"  "+name)
		if _, err := os.Stat(path + ".prov"); err != nil {
			t.Errorf("no signature beside %s: %v", name, err)
		}
		files := distReadTarball(t, path)
		var names []string
		for _, f := range files {
			names = append(names, f.name)
			switch f.name {
			case "bin/", "bin/helm-flink", "install-binary.sh", "plugin.complete":
				if f.mode&0o111 == 0 {
					t.Errorf("%s: %s is not executable (mode %o)", name, f.name, f.mode)
				}
			case "plugin.yaml", "LICENSE", "README.md":
				orig, err := os.ReadFile(filepath.Join(env.root, f.name))
				if err != nil || !bytes.Equal(orig, f.data) {
					t.Errorf("%s: %s differs from the checkout's (%v)", name, f.name, err)
				}
			}
		}
		if !slices.Equal(names, distEntries) {
			t.Errorf("%s holds %q, want %q", name, names, distEntries)
		}
		distCheckBinary(t, name, goos, goarch, distBinary(t, path))
		out, err := newHelm(t, "helm4").run(t, "plugin", "verify", path, "--keyring", filepath.Join(distBuild.keyDir, "pubring.gpg"))
		if err != nil || !strings.Contains(out, "Plugin Hash Verified: sha256:"+distSHA256(data)) {
			t.Errorf("helm4 plugin verify %s: %v\n%s", name, err, out)
		}
	}
	if got := strings.Split(strings.TrimSpace(string(sums)), "\n"); !slices.Equal(got, want) {
		t.Errorf("checksums.txt:\n%s\nwant:\n%s", sums, strings.Join(want, "\n"))
	}
}

func distCheckBinary(t *testing.T, name, goos, goarch string, bin []byte) {
	t.Helper()
	info, err := buildinfo.Read(bytes.NewReader(bin))
	if err != nil {
		t.Errorf("%s: bin/helm-flink: %v", name, err)
		return
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	for k, v := range map[string]string{"GOOS": goos, "GOARCH": goarch, "CGO_ENABLED": "0", "-trimpath": "true"} {
		if settings[k] != v {
			t.Errorf("%s: bin/helm-flink built with %s=%q, want %q", name, k, settings[k], v)
		}
	}
	if info.Path != "github.com/helm-flink/helm-flink/cmd/helm-flink" {
		t.Errorf("%s: bin/helm-flink is %s", name, info.Path)
	}
	switch goos {
	case "linux":
		f, err := elf.NewFile(bytes.NewReader(bin))
		if err != nil {
			t.Errorf("%s: bin/helm-flink is no ELF binary: %v", name, err)
			return
		}
		machine := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[goarch]
		if f.Machine != machine {
			t.Errorf("%s: bin/helm-flink is for %v", name, f.Machine)
		}
		if f.Section(".symtab") != nil || f.Section(".debug_info") != nil {
			t.Errorf("%s: bin/helm-flink is not stripped", name)
		}
		if slices.ContainsFunc(f.Progs, func(p *elf.Prog) bool { return p.Type == elf.PT_INTERP }) {
			t.Errorf("%s: bin/helm-flink is dynamically linked", name)
		}
	case "darwin":
		f, err := macho.NewFile(bytes.NewReader(bin))
		if err != nil {
			t.Errorf("%s: bin/helm-flink is no Mach-O binary: %v", name, err)
			return
		}
		cpu := map[string]macho.Cpu{"amd64": macho.CpuAmd64, "arm64": macho.CpuArm64}[goarch]
		if f.Cpu != cpu {
			t.Errorf("%s: bin/helm-flink is for %v", name, f.Cpu)
		}
		if f.Segment("__DWARF") != nil {
			t.Errorf("%s: bin/helm-flink carries DWARF", name)
		}
	}
}

// A release tarball installs by URL into Helm 3 and Helm 4 with no go on PATH; Helm 4 verifies
// its signature (verification is on by default) against the public key.
func TestDistInstallTarballWithoutGo(t *testing.T) {
	name := hostDist(t)
	url := serve(t, distBuild.dir) + "/plugin/" + name
	path := noGoPath(t)
	sum := distSHA256(distRead(t, filepath.Join(distBuild.dir, "plugin", name)))
	for _, helm := range []string{"helm3", "helm4"} {
		t.Run(helm, func(t *testing.T) {
			h := newHelm(t, helm)
			args := []string{"plugin", "install", url}
			if helm == "helm4" {
				args = append(args, "--keyring", filepath.Join(distBuild.keyDir, "pubring.gpg"))
			}
			out, err := h.runEnv(t, []string{"PATH=" + path}, args...)
			if err != nil {
				t.Fatalf("helm plugin install %s: %v\n%s", url, err, out)
			}
			if helm == "helm4" && !strings.Contains(out, "Plugin Hash Verified: sha256:"+sum) {
				t.Errorf("helm4 did not report the verified signature:\n%s", out)
			}
			if strings.Contains(out, "installed bin/helm-flink") || strings.Contains(out, "building bin/helm-flink") {
				t.Errorf("the install hook fetched or built a binary although the tarball has one:\n%s", out)
			}
			out, err = h.runEnv(t, []string{"PATH=" + path}, "flink", "version")
			if want := "helm-flink v" + distBuild.version + " "; err != nil || !strings.HasPrefix(out, want) {
				t.Fatalf("helm flink version: %v\n%s\nwant it to start with %q", err, out, want)
			}
			out, err = h.run(t, "plugin", "list")
			if err != nil || !regexp.MustCompile(`(?m)^flink\s+`+regexp.QuoteMeta(distBuild.version)+`\s`).MatchString(out) {
				t.Errorf("helm plugin list: %v\n%s", err, out)
			}
		})
	}
}

func distRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Helm 4 refuses a tarball whose signature does not vouch for it, and installs nothing.
func TestDistHelm4RefusesTampered(t *testing.T) {
	name := hostDist(t)
	plugin := filepath.Join(distBuild.dir, "plugin")
	// A tarball the release holds for another platform.
	other := ""
	for _, p := range distPlatforms {
		if goos, goarch, _ := strings.Cut(p, "/"); distName(goos, goarch) != name {
			other = distName(goos, goarch)
			break
		}
	}
	otherKey := filepath.Join(t.TempDir(), "other-key")
	if out, err := exec.Command("bash", filepath.Join(env.root, "ci/testkey.sh"), otherKey).CombinedOutput(); err != nil {
		t.Fatalf("ci/testkey.sh: %v\n%s", err, out)
	}
	cases := []struct {
		name    string
		tarball string // served as name
		prov    string // served as name.prov; "" serves none
		keyring string
		want    string
	}{
		{"one byte changed", "tampered", name + ".prov", "", "sha256 sum does not match for " + name},
		{"signature of another tarball", name, other + ".prov", "", fmt.Sprintf("provenance does not contain a SHA for a file named %q", name)},
		{"another platform's tarball", other, name + ".prov", "", "sha256 sum does not match for " + name},
		{"no signature", name, "", "", "no provenance file (.prov) found"},
		{"signed by an unknown key", name, name + ".prov", filepath.Join(otherKey, "pubring.gpg"), "plugin verification failed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			dst := filepath.Join(dir, "plugin", name)
			if c.tarball == "tampered" {
				data := distRead(t, filepath.Join(plugin, name))
				data[len(data)/2] ^= 0x01
				if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(dst, data, 0o644); err != nil {
					t.Fatal(err)
				}
			} else {
				distCopy(t, filepath.Join(plugin, c.tarball), dst)
			}
			if c.prov != "" {
				distCopy(t, filepath.Join(plugin, c.prov), dst+".prov")
			}
			keyring := c.keyring
			if keyring == "" {
				keyring = filepath.Join(distBuild.keyDir, "pubring.gpg")
			}
			url := serve(t, dir) + "/plugin/" + name
			h := newHelm(t, "helm4")
			out, err := h.runEnv(t, []string{"PATH=" + noGoPath(t)}, "plugin", "install", url, "--keyring", keyring)
			if err == nil {
				t.Fatalf("helm4 installed %s:\n%s", c.name, out)
			}
			if !strings.Contains(out, "plugin verification failed") || !strings.Contains(out, c.want) {
				t.Errorf("helm4 refused %s without saying %q:\n%s", c.name, c.want, out)
			}
			distAssertNoPlugin(t, h)
		})
	}
}

// Installed from its source with no go on PATH, the plugin downloads the release binary of its
// version from HELM_FLINK_DOWNLOAD_URL and checks it against checksums.txt.
func TestDistCheckoutDownloadsRelease(t *testing.T) {
	name := hostDist(t)
	base := serve(t, distBuild.dir) + "/plugin"
	want := distSHA256(distBinary(t, filepath.Join(distBuild.dir, "plugin", name)))
	extra := []string{"PATH=" + noGoPath(t), "HELM_FLINK_DOWNLOAD_URL=" + base}
	for _, helm := range []string{"helm3", "helm4"} {
		t.Run(helm, func(t *testing.T) {
			h := newHelm(t, helm)
			src := checkoutCopy(t)
			out, err := h.runEnv(t, extra, "plugin", "install", src)
			if err != nil {
				t.Fatalf("helm plugin install %s: %v\n%s", src, err, out)
			}
			if !strings.Contains(out, "from "+base+"/"+name+" (sha256 verified)") {
				t.Errorf("the install hook did not report the verified download:\n%s", out)
			}
			bin, err := os.ReadFile(filepath.Join(src, "bin/helm-flink"))
			if err != nil || distSHA256(bin) != want {
				t.Fatalf("bin/helm-flink is not the binary of %s: %v", name, err)
			}
			out, err = h.runEnv(t, extra, "flink", "version")
			if want := "helm-flink v" + distBuild.version + " "; err != nil || !strings.HasPrefix(out, want) {
				t.Fatalf("helm flink version: %v\n%s\nwant it to start with %q", err, out, want)
			}
		})
	}
}

// A download that does not match checksums.txt fails the install with the mismatch named, even
// with go on PATH: a bad download never falls back to building.
func TestDistCheckoutChecksumMismatchFails(t *testing.T) {
	name := hostDist(t)
	dir := t.TempDir()
	distCopy(t, filepath.Join(distBuild.dir, "plugin", name), filepath.Join(dir, "plugin", name))
	sums := strings.ReplaceAll(string(distRead(t, filepath.Join(distBuild.dir, "plugin/checksums.txt"))),
		distSHA256(distRead(t, filepath.Join(dir, "plugin", name))), strings.Repeat("0", 64))
	if err := os.WriteFile(filepath.Join(dir, "plugin/checksums.txt"), []byte(sums), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatalf("this test needs go on PATH to show there is no fallback: %v", err)
	}
	base := serve(t, dir) + "/plugin"
	for _, helm := range []string{"helm3", "helm4"} {
		t.Run(helm, func(t *testing.T) {
			h := newHelm(t, helm)
			src := checkoutCopy(t)
			out, err := h.runEnv(t, []string{"HELM_FLINK_DOWNLOAD_URL=" + base}, "plugin", "install", src)
			if err == nil {
				t.Fatalf("helm plugin install succeeded with a mismatching checksum:\n%s", out)
			}
			if !strings.Contains(out, "helm-flink: checksum mismatch: "+base+"/"+name+" has sha256 ") {
				t.Errorf("the failure does not name the checksum mismatch:\n%s", out)
			}
			if _, err := os.Stat(filepath.Join(src, "bin/helm-flink")); err == nil {
				t.Errorf("a binary was installed after a checksum mismatch")
			}
		})
	}
}

// With the release unreachable and no go on PATH, installing from the source fails with one
// message naming the URL, the failure and both fixes.
func TestDistCheckoutUnreachableWithoutGoFails(t *testing.T) {
	name := hostDist(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + l.Addr().String() + "/plugin"
	l.Close() // nothing listens there any more
	extra := []string{"PATH=" + noGoPath(t), "HELM_FLINK_DOWNLOAD_URL=" + base}
	for _, helm := range []string{"helm3", "helm4"} {
		t.Run(helm, func(t *testing.T) {
			h := newHelm(t, helm)
			src := checkoutCopy(t)
			out, err := h.runEnv(t, extra, "plugin", "install", src)
			if err == nil {
				t.Fatalf("helm plugin install succeeded with neither a release nor go:\n%s", out)
			}
			url := base + "/" + name
			for _, want := range []string{
				"helm-flink: cannot install bin/helm-flink " + distBuild.version + ": downloading " + url + " failed (",
				"go is not on PATH to build it from source",
				"install Go (https://go.dev/dl/)",
				"install a release tarball: helm plugin install " + url,
			} {
				if !strings.Contains(out, want) {
					t.Errorf("the failure does not say %q:\n%s", want, out)
				}
			}
			if _, err := os.Stat(filepath.Join(src, "bin/helm-flink")); err == nil {
				t.Errorf("a binary appeared without a download or go")
			}
		})
	}
}
