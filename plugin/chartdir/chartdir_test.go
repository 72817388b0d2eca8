package chartdir

import (
	"os"
	"path/filepath"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
)

// A checkout's chart loads its library from file://../flink-common, also over a stale build of
// it in charts/ (what an earlier `helm dependency build` left).
func TestLoadTakesTheLibraryFromItsSource(t *testing.T) {
	for _, name := range []string{"flink-session", "flink-job"} {
		dir := filepath.Join("..", "..", "charts", name)
		ch, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if d := ch.Dependencies(); len(d) != 1 || d[0].Name() != "flink-common" || len(d[0].Templates) == 0 {
			t.Fatalf("%s: dependencies %v", name, d)
		}
	}
	root := t.TempDir()
	if err := os.CopyFS(filepath.Join(root, "flink-session"), os.DirFS("../../charts/flink-session")); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(root, "flink-common"), os.DirFS("../../charts/flink-common")); err != nil {
		t.Fatal(err)
	}
	stale, err := loader.Load(filepath.Join(root, "flink-common"))
	if err != nil {
		t.Fatal(err)
	}
	stale.Templates = nil
	if err := os.MkdirAll(filepath.Join(root, "flink-session", "charts"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := chartutil.Save(stale, filepath.Join(root, "flink-session", "charts")); err != nil {
		t.Fatal(err)
	}
	ch, err := Load(filepath.Join(root, "flink-session"))
	if err != nil {
		t.Fatal(err)
	}
	if d := ch.Dependencies(); len(d) != 1 || len(d[0].Templates) == 0 {
		t.Fatalf("the stale build won: %d dependencies, %d library templates", len(d), len(d[0].Templates))
	}
	if _, err := Load(filepath.Join(root, "nowhere")); err == nil {
		t.Error("a missing chart loaded")
	}
	// Away from its library, the built copy is the library; without either, an error.
	if err := os.RemoveAll(filepath.Join(root, "flink-common")); err != nil {
		t.Fatal(err)
	}
	if ch, err := Load(filepath.Join(root, "flink-session")); err != nil || len(ch.Dependencies()) != 1 {
		t.Errorf("the chart with its library built in, away from the source: %v", err)
	}
	if err := os.RemoveAll(filepath.Join(root, "flink-session", "charts")); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(filepath.Join(root, "flink-session")); err == nil {
		t.Error("a chart whose file:// dependency is missing loaded")
	}
}
