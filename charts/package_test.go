package charts

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/ignore"

	"github.com/helm-flink/helm-flink/plugin/chartdir"
)

// The library chart flink-common is each chart's file://../flink-common dependency. Packaged, it
// must be inside exactly once: ci/charts.sh puts it unpacked in a staging copy's charts/, and an
// archive `helm dependency build` left in the checkout's charts/ beside it would make `helm
// package` write every library file twice.

// entry is one file of a chart archive, nested archives (a dependency .tgz) listed as "outer!inner".
type entry struct {
	name string
	data []byte
}

// archiveEntries lists every file of a .tgz in order, descending into .tgz files inside it.
func archiveEntries(t *testing.T, data []byte, prefix string) []entry {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", prefix, err)
	}
	tr := tar.NewReader(gz)
	var out []entry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", prefix, err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, entry{prefix + h.Name, b})
		if strings.HasSuffix(h.Name, ".tgz") {
			out = append(out, archiveEntries(t, b, prefix+h.Name+"!")...)
		}
	}
}

// sdkPackage packages a chart folder as `helm package` does once its dependency is in charts/:
// loaded (the library from file://../flink-common), then chartutil.Save.
func sdkPackage(t *testing.T, dir string) []byte {
	t.Helper()
	ch, err := chartdir.Load(dir)
	if err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	// Chart.lock is what make chart-deps leaves in a checkout (with its build time), not a source.
	ch.Lock = nil
	out := t.TempDir()
	file, err := chartutil.Save(ch, out)
	if err != nil {
		t.Fatalf("save %s: %v", dir, err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// libraryFiles are the files of charts/flink-common a package must hold, as its .helmignore keeps them.
func libraryFiles(t *testing.T) map[string][]byte {
	t.Helper()
	rules, err := ignore.ParseFile(filepath.Join("flink-common", ignore.HelmIgnore))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	err = filepath.WalkDir("flink-common", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("flink-common", p)
		info, err := d.Info()
		if err != nil || rel == "." {
			return err
		}
		if rules.Ignore(filepath.ToSlash(rel), info) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			files[filepath.ToSlash(rel)] = data
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 || files["Chart.yaml"] == nil {
		t.Fatalf("flink-common has no chart files: %v", files)
	}
	return files
}

// checkOnce fails unless every entry of the archive is there once and the library chart is there
// exactly once, as charts/flink-common/ with every one of its files (lib), and in no other form.
func checkOnce(t testing.TB, chart string, entries []entry, lib map[string][]byte) {
	t.Helper()
	seen := map[string]int{}
	for _, e := range entries {
		seen[e.name]++
	}
	for _, name := range slices.Sorted(maps.Keys(seen)) {
		if n := seen[name]; n > 1 {
			t.Errorf("%s: %s is in the archive %d times", chart, name, n)
		}
	}
	libCharts := 0
	for _, e := range entries {
		if path.Base(e.name) == "Chart.yaml" && strings.Contains(e.name, "flink-common") {
			libCharts++
		}
		if strings.Contains(e.name, "!") || strings.HasSuffix(e.name, ".tgz") {
			t.Errorf("%s: a nested archive %s: the library must be unpacked once, not archived beside it", chart, e.name)
		}
	}
	if libCharts != 1 {
		t.Errorf("%s: the flink-common chart is in the archive %d times, want 1", chart, libCharts)
	}
	for _, name := range slices.Sorted(maps.Keys(lib)) {
		want := lib[name]
		full := chart + "/charts/flink-common/" + name
		i := slices.IndexFunc(entries, func(e entry) bool { return e.name == full })
		switch {
		case i < 0:
			t.Errorf("%s: %s is missing", chart, full)
		case name != "Chart.yaml" && !bytes.Equal(entries[i].data, want): // Chart.yaml is re-serialized by Helm
			t.Errorf("%s: %s differs from charts/flink-common/%s", chart, full, name)
		}
	}
}

func names(entries []entry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.name)
	}
	slices.Sort(out)
	return out
}

// Helm's SDK packages each chart folder, its dependency loaded from file://../flink-common, with
// every file once and the library chart once.
func TestPackageShipsEachFileOnce(t *testing.T) {
	for _, chart := range charts {
		t.Run(chart, func(t *testing.T) {
			ch, err := chartdir.Load(chart)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(ch.Dependencies()); n != 1 || ch.Dependencies()[0].Name() != "flink-common" {
				t.Fatalf("%s loads %d dependencies, want flink-common once", chart, n)
			}
			entries := archiveEntries(t, sdkPackage(t, chart), "")
			checkOnce(t, chart, entries, libraryFiles(t))
			t.Logf("%s: %d files\n%s", chart, len(entries), strings.Join(names(entries), "\n"))
		})
	}
}

// The check above catches the trap: a chart folder with the library both unpacked and as the
// archive `helm dependency build` adds packages it twice.
func TestPackageCheckCatchesTheLibraryTwice(t *testing.T) {
	dir := t.TempDir()
	copyRegular(t, "flink-common", filepath.Join(dir, "flink-common"))
	copyRegular(t, "flink-session", filepath.Join(dir, "flink-session"))
	sub := filepath.Join(dir, "flink-session", "charts")
	copyRegular(t, "flink-common", filepath.Join(sub, "flink-common"))
	lib, err := loader.Load(filepath.Join(dir, "flink-common"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chartutil.Save(lib, sub); err != nil { // what `helm dependency build` writes
		t.Fatal(err)
	}
	// As the helm CLI packages it: every dependency charts/ holds, both copies.
	ch, err := loader.Load(filepath.Join(dir, "flink-session"))
	if err != nil {
		t.Fatal(err)
	}
	file, err := chartutil.Save(ch, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	entries := archiveEntries(t, data, "")
	ft := &fakeT{}
	checkOnce(ft, "flink-session", entries, libraryFiles(t))
	if len(ft.errors) == 0 {
		t.Fatal("a package with the library twice passed the check")
	}
	t.Logf("the check reports:\n%s", strings.Join(ft.errors, "\n"))
}

// ci/charts.sh (make charts) packages with the helm CLI from a staging copy: its archives hold
// every file once and exactly the files the SDK packages from the chart folders. It needs the
// stack's helm3 (make tools) or HELM.
func TestChartsScriptShipsEachFileOnce(t *testing.T) {
	helm := os.Getenv("HELM")
	if helm == "" {
		helm = filepath.Join("..", ".cache", "bin", "helm3")
	}
	helm, err := filepath.Abs(helm)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(helm); err != nil {
		t.Skipf("no helm to run ci/charts.sh with (make tools): %v", err)
	}
	out, home := t.TempDir(), t.TempDir()
	cmd := exec.CommandContext(t.Context(), "bash", filepath.Join("..", "ci", "charts.sh"))
	cmd.Env = append(os.Environ(), "HELM="+helm, "CHARTS_DIR="+out, "RELEASED_DIR=", "PUBLISHED_INDEX=", "SIGN_KEY=",
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"), "HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"))
	log, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ci/charts.sh: %v\n%s", err, log)
	}
	for _, chart := range charts {
		ch, err := loader.Load(chart)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(out, chart+"-"+ch.Metadata.Version+".tgz"))
		if err != nil {
			t.Fatalf("ci/charts.sh: %v\n%s", err, log)
		}
		entries := archiveEntries(t, data, "")
		checkOnce(t, chart, entries, libraryFiles(t))
		if got, want := names(entries), names(archiveEntries(t, sdkPackage(t, chart), "")); !slices.Equal(got, want) {
			t.Errorf("%s: ci/charts.sh packaged\n  %v\nthe SDK packages\n  %v", chart, got, want)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "index.yaml")); err != nil {
		t.Errorf("ci/charts.sh wrote no index.yaml: %v", err)
	}
}

// copyRegular copies the regular files of a folder, not its symlinks.
func copyRegular(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		switch {
		case d.IsDir():
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		case d.Type().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(to, rel), data, 0o644)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// fakeT collects the errors of a check that is expected to fail.
type fakeT struct {
	testing.TB
	errors []string
}

func (f *fakeT) Helper() {}
func (f *fakeT) Errorf(format string, args ...any) {
	f.errors = append(f.errors, strings.TrimSpace(fmt.Sprintf(format, args...)))
}
