package schema

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"

	"github.com/helm-flink/helm-flink/plugin/values"
)

// An entry class in a lib/*.jar of the job jar is accepted: Flink puts those on the class path.
func TestCheckJarFindsNestedLibClasses(t *testing.T) {
	dir := t.TempDir()
	inner := writeJar(t, filepath.Join(dir, "dep.jar"), "", "org.example.Job")
	data, err := os.ReadFile(inner)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("META-INF/MANIFEST.MF")
	w.Write([]byte("Manifest-Version: 1.0\nMain-Class: org.example.Job\n"))
	w, _ = zw.Create("lib/dep.jar")
	w.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	outer := filepath.Join(dir, "job.jar")
	if err := os.WriteFile(outer, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := CheckJob(CheckOptions{Jar: outer}); len(got) != 0 {
		t.Errorf("a jar whose entry class is in lib/dep.jar: %v", got)
	}
	if got := CheckJob(CheckOptions{Jar: outer, EntryClass: "org.example.Missing"}); len(got) != 1 {
		t.Errorf("a class in neither jar: %v", got)
	}
}

// FuzzReadJar: any bytes as a jar give classes or an error, never a panic or a hang.
func FuzzReadJar(f *testing.F) {
	jars, _ := filepath.Glob(filepath.Join("..", ".cache", "flink", "*", "examples", "streaming", "*.jar"))
	for _, j := range jars[:min(len(jars), 3)] {
		if b, err := os.ReadFile(j); err == nil && len(b) < 1<<20 {
			f.Add(b)
		}
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("META-INF/MANIFEST.MF")
	w.Write([]byte("Main-Class: a.B\n"))
	zw.Close()
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		info := &jarInfo{classes: map[string]bool{}}
		_ = info.read(r, true)
	})
}

// FuzzValues: a values file and a --set argument through the merge, the schema and every check
// and the render: problems or an error, never a panic.
func FuzzValues(f *testing.F) {
	for _, name := range chartNames {
		files, _ := filepath.Glob(filepath.Join("..", "charts", name, "ci", "*-values.yaml"))
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(name == "flink-job", string(b), "taskmanager.replicas=2")
			}
		}
	}
	f.Add(false, "a: &a [1]\nb: *a\n", "=1")
	f.Fuzz(func(t *testing.T, job bool, file, set string) {
		name := "flink-session"
		if job {
			name = "flink-job"
		}
		ch := loadChart(t, name)
		path := filepath.Join(t.TempDir(), "v.yaml")
		if err := os.WriteFile(path, []byte(file), 0o644); err != nil {
			t.Fatal(err)
		}
		user, err := values.User(&values.Options{ValueFiles: []string{path}, Values: []string{set}}, nil)
		if err != nil {
			return
		}
		merged, err := values.ForChart(ch, user)
		if err != nil {
			return
		}
		problems, err := Check(ch, merged, CheckOptions{ReleaseName: "fuzz"})
		if err != nil || len(problems) > 0 {
			return
		}
		if _, err := CheckObjects(ch, merged, user, chartutil.ReleaseOptions{Name: "fuzz", Namespace: "flink"}); err != nil && !strings.Contains(err.Error(), "render") {
			t.Fatalf("check objects: %v", err)
		}
	})
}
