package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

// The test binary is the runner's mount-exec too: processes the tests start go through it.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == mountExecCmd {
		mountExecMain(os.Args[2:])
	}
	os.Exit(m.Run())
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mount namespaces need root")
	}
}

func TestPrivateRoot(t *testing.T) {
	for in, want := range map[string]string{
		"/flink-data/savepoints": "/flink-data",
		"/flink-data":            "/flink-data",
		"/tmp/x/y":               "/tmp",
		"/var/flink/ha":          "/var/flink",
		"/var/lib/flink":         "/var/lib",
		"/var":                   "",
		"/usr":                   "",
		"/":                      "",
		"relative":               "",
	} {
		if got := privateRoot(in); got != want {
			t.Errorf("privateRoot(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPrivateBinds(t *testing.T) {
	vols := []bindMount{{src: "/h/data", dst: "/data"}, {src: "/h/pvc", dst: "/flink-data/savepoints"}}
	got := privateBinds(vols, []string{"/data/ha", "/ckpt/x", "/ckpt/y", "/flink-data/savepoints/s1"}, "/p")
	want := []bindMount{{src: "/p/flink-data", dst: "/flink-data"}, {src: "/p/ckpt", dst: "/ckpt"}, vols[0], vols[1]}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("privateBinds = %+v, want %+v", got, want)
	}
	if got := privateBinds([]bindMount{{src: "/h", dst: "/"}}, []string{"/x"}, "/p"); len(got) != 1 {
		t.Fatalf("a volume at / covers everything: %+v", got)
	}
}

// mount-exec for real: volumes at their paths (nested, read-only, a file), nothing visible
// outside the process's mount namespace, and a host path the process needs kept visible under
// a volume mounted over it.
func TestMountExec(t *testing.T) {
	needRoot(t)
	root := t.TempDir()
	mk := func(rel, content string) string {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if content != "" {
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	vol := filepath.Dir(mk("host/vol/a.txt", "volume\n"))
	conf := mk("host/conf.yaml", "conf\n")
	ro := filepath.Dir(mk("host/ro/r.txt", "ro\n"))
	keep := filepath.Dir(mk("pod/hidden/keep/k.txt", "kept\n"))
	empty := filepath.Dir(mk("host/empty/.x", "x"))
	data := filepath.Join(root, "pod/data")
	binds := []bindMount{
		{src: ro, dst: data + "/ro", readOnly: true}, // listed before its parent: still mounted after it
		{src: vol, dst: data},
		{src: conf, dst: filepath.Join(root, "pod/etc/conf.yaml"), readOnly: true},
		{src: empty, dst: filepath.Join(root, "pod/hidden")},
	}
	script := `set -u
cat "$D/a.txt"; echo new > "$D/new.txt"
touch "$D/ro/w" 2>/dev/null && echo writable || echo read-only
cat "$R/pod/etc/conf.yaml"; cat "$R/pod/hidden/keep/k.txt"; pwd`
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal(err)
	}
	self, _ := selfExe()
	cmd := exec.Command(self, mountExecArgs(binds, []string{keep, "/nonexistent/x"}, data, bash, "bash", []string{"-c", script})...)
	cmd.Env = []string{"D=" + data, "R=" + root, "PATH=" + os.Getenv("PATH")}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mount-exec: %v\n%s", err, out)
	}
	if want := "volume\nread-only\nconf\nkept\n" + data + "\n"; string(out) != want {
		t.Fatalf("output %q, want %q", out, want)
	}
	if got, _ := os.ReadFile(filepath.Join(vol, "new.txt")); string(got) != "new\n" {
		t.Errorf("a write to the volume's mount path is not in the volume: %q", got)
	}
	// Out here nothing is mounted: the mount points are empty.
	for _, d := range []string{data, filepath.Join(root, "pod/hidden")} {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if d == data || e.Name() != "keep" {
				t.Errorf("%s holds %s outside the mount namespace", d, e.Name())
			}
		}
	}
	if fi, err := os.Stat(filepath.Join(root, "pod/etc/conf.yaml")); err != nil || fi.Size() != 0 {
		t.Errorf("the file mount point is not an empty file outside: %v", err)
	}
}

func TestMountExecFailsClearly(t *testing.T) {
	needRoot(t)
	self, _ := selfExe()
	cmd := exec.Command(self, mountExecArgs([]bindMount{{src: "/nonexistent/src", dst: t.TempDir()}}, nil, "", "true", "true", nil)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "volume source /nonexistent/src") {
		t.Fatalf("err %v, output %q", err, out)
	}
}
