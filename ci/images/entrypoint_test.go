// Package images tests the files ci/images.sh builds the stack's images from. Here: the Flink
// images' /docker-entrypoint.sh, run against a fake FLINK_HOME whose scripts only print how they
// were called.
package images

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const entrypoint = "flink/docker-entrypoint.sh"

// stub writes an executable shell script.
func stub(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

type fakeFlink struct {
	home, bin string // FLINK_HOME and the folder of stub commands put first on PATH
}

func newFakeFlink(t *testing.T) fakeFlink {
	t.Helper()
	f := fakeFlink{home: t.TempDir(), bin: t.TempDir()}
	for _, s := range []string{"jobmanager.sh", "taskmanager.sh", "standalone-job.sh", "historyserver.sh"} {
		stub(t, filepath.Join(f.home, "bin", s), `echo "CALL $(basename "$0") $*"; echo "LD_PRELOAD=$LD_PRELOAD"`)
	}
	// Flink's config-parser-utils.sh rewrites conf/config.yaml; the stub logs its arguments and,
	// like the real one on a read-only conf mount, fails when asked to.
	stub(t, filepath.Join(f.home, "bin", "config-parser-utils.sh"),
		`echo "$*" >> "$(dirname "$0")/../config-calls"
if [ -n "$FAIL_CONFIG" ]; then echo "config.yaml: Read-only file system" >&2; exit 1; fi`)
	if err := os.MkdirAll(filepath.Join(f.home, "opt"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.home, "opt", "flink-s3-fs-presto-1.20.0.jar"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	stub(t, filepath.Join(f.bin, "hostname"), `echo jm.example`)
	stub(t, filepath.Join(f.bin, "id"), `echo "${FAKE_UID:-9999}"`)
	stub(t, filepath.Join(f.bin, "gosu"), `echo "GOSU $1"; shift; exec "$@"`)
	if _, err := exec.LookPath("envsubst"); err != nil {
		stub(t, filepath.Join(f.bin, "envsubst"), `cat`) // gettext-base is in the image, maybe not here
	}
	return f
}

// run runs the entrypoint with ARGS and environment ENV (KEY=VALUE) on top of a minimal one.
func (f fakeFlink) run(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command("bash", append([]string{entrypoint}, args...)...)
	cmd.Env = append([]string{"PATH=" + f.bin + ":/usr/bin:/bin", "FLINK_HOME=" + f.home, "DISABLE_JEMALLOC=true"}, env...)
	out, err := cmd.CombinedOutput()
	code := 0
	if exitErr, ok := err.(*exec.ExitError); ok {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

func (f fakeFlink) configCalls(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.home, "config-calls"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func wantLine(t *testing.T, out, line string) {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if l == line {
			return
		}
	}
	t.Errorf("no line %q in output:\n%s", line, out)
}

func TestEntrypointStartsTheCommandsScriptInTheForeground(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"jobmanager"}, "CALL jobmanager.sh start-foreground"},
		{[]string{"jobmanager", "-D", "jobmanager.rpc.address=127.0.0.1"}, "CALL jobmanager.sh start-foreground -D jobmanager.rpc.address=127.0.0.1"},
		{[]string{"taskmanager", "-Dtaskmanager.numberOfTaskSlots=2"}, "CALL taskmanager.sh start-foreground -Dtaskmanager.numberOfTaskSlots=2"},
		{[]string{"standalone-job", "--job-classname", "org.example.Job", "--fromSavepoint", "/s p"}, "CALL standalone-job.sh start-foreground --job-classname org.example.Job --fromSavepoint /s p"},
		{[]string{"history-server"}, "CALL historyserver.sh start-foreground"},
		{[]string{"bash", "-c", "echo passed through: $0", "x"}, "passed through: x"},
	} {
		f := newFakeFlink(t)
		out, code := f.run(t, nil, tc.args...)
		if code != 0 {
			t.Errorf("%v: exit %d\n%s", tc.args, code, out)
		}
		wantLine(t, out, tc.want)
		if strings.Contains(out, "GOSU") {
			t.Errorf("%v: not root, yet gosu:\n%s", tc.args, out)
		}
	}
}

func TestEntrypointHelpStartsNothing(t *testing.T) {
	out, code := newFakeFlink(t).run(t, nil, "help")
	if code != 0 || !strings.Contains(out, "Usage: docker-entrypoint.sh (jobmanager|standalone-job|taskmanager|history-server)") || strings.Contains(out, "CALL") {
		t.Errorf("exit %d\n%s", code, out)
	}
}

func TestEntrypointAsRootStartsFlinkAsUserFlink(t *testing.T) {
	f := newFakeFlink(t)
	out, _ := f.run(t, []string{"FAKE_UID=0"}, "taskmanager")
	wantLine(t, out, "GOSU flink")
	wantLine(t, out, "CALL taskmanager.sh start-foreground")
	out, _ = f.run(t, []string{"FAKE_UID=0"}, "bash", "-c", "echo other")
	wantLine(t, out, "GOSU flink")
}

func TestEntrypointWritesTheConfigurationWithFlinksTool(t *testing.T) {
	f := newFakeFlink(t)
	props := "rest.port: 8082\n\n  state.checkpoints.dir : s3://bucket/${SUB}/ck  \nparallelism.default:3\n"
	out, code := f.run(t, []string{"TASK_MANAGER_NUMBER_OF_TASK_SLOTS=4", "FLINK_PROPERTIES=" + props, "SUB=team"}, "jobmanager")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	dirs := f.home + "/conf " + f.home + "/bin " + f.home + "/lib "
	calls := f.configCalls(t)
	want0 := dirs + "-Djobmanager.rpc.address=jm.example -Dblob.server.port=6124 -Dquery.server.port=6125 -Dtaskmanager.numberOfTaskSlots=4"
	sub := "team"
	if _, err := os.Stat(filepath.Join(f.bin, "envsubst")); err == nil {
		sub = "${SUB}" // no envsubst on this machine: the stub leaves it
	}
	want1 := dirs + "-Drest.port=8082 -Dstate.checkpoints.dir=s3://bucket/" + sub + "/ck -Dparallelism.default=3"
	if len(calls) != 2 || calls[0] != want0 || calls[1] != want1 {
		t.Errorf("config-parser-utils.sh calls:\n%s\nwant:\n%s\n%s", strings.Join(calls, "\n"), want0, want1)
	}

	f = newFakeFlink(t)
	f.run(t, []string{"JOB_MANAGER_RPC_ADDRESS=flink-jobmanager"}, "taskmanager")
	if calls := f.configCalls(t); len(calls) != 1 || !strings.Contains(calls[0], " -Djobmanager.rpc.address=flink-jobmanager ") {
		t.Errorf("config-parser-utils.sh calls: %q", calls)
	}
}

func TestEntrypointStartsWhenTheConfigurationCannotBeWritten(t *testing.T) {
	out, code := newFakeFlink(t).run(t, []string{"FAIL_CONFIG=1", "FLINK_PROPERTIES=rest.port: 8082"}, "jobmanager")
	if code != 0 || strings.Count(out, "config.yaml: Read-only file system") != 2 {
		t.Errorf("exit %d, want the tool's error twice:\n%s", code, out)
	}
	wantLine(t, out, "CALL jobmanager.sh start-foreground")
}

func TestEntrypointLinksBuiltInPlugins(t *testing.T) {
	f := newFakeFlink(t)
	out, code := f.run(t, []string{"ENABLE_BUILT_IN_PLUGINS=flink-s3-fs-presto-1.20.0.jar;"}, "jobmanager")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	link := filepath.Join(f.home, "plugins", "flink-s3-fs-presto-1.20.0", "flink-s3-fs-presto-1.20.0.jar")
	if target, err := os.Readlink(link); err != nil || target != filepath.Join(f.home, "opt", "flink-s3-fs-presto-1.20.0.jar") {
		t.Errorf("%s -> %q, %v", link, target, err)
	}

	// The official entrypoint links into $FLINK_HOME/plugins whatever FLINK_PLUGINS_DIR (Flink's
	// own variable) says: under a read-only root file system it cannot enable a plugin.
	f = newFakeFlink(t)
	plugins := t.TempDir()
	f.run(t, []string{"ENABLE_BUILT_IN_PLUGINS=flink-s3-fs-presto-1.20.0.jar", "FLINK_PLUGINS_DIR=" + plugins}, "jobmanager")
	if _, err := os.Readlink(filepath.Join(f.home, "plugins", "flink-s3-fs-presto-1.20.0", "flink-s3-fs-presto-1.20.0.jar")); err != nil {
		t.Error(err)
	}
	if entries, _ := os.ReadDir(plugins); len(entries) > 0 {
		t.Errorf("linked into FLINK_PLUGINS_DIR: %v", entries)
	}
}

func TestEntrypointStopsOnAMissingPlugin(t *testing.T) {
	out, code := newFakeFlink(t).run(t, []string{"ENABLE_BUILT_IN_PLUGINS=flink-s3-fs-presto-1.20.0.jar;flink-s3-fs-nope.jar"}, "jobmanager")
	if code != 1 || !strings.Contains(out, "Plugin flink-s3-fs-nope.jar does not exist") || strings.Contains(out, "CALL") {
		t.Errorf("exit %d, want 1 naming the plugin and nothing started:\n%s", code, out)
	}
}

func TestEntrypointPreloadsJemallocUnlessDisabled(t *testing.T) {
	f := newFakeFlink(t)
	out, _ := f.run(t, nil, "jobmanager")
	wantLine(t, out, "LD_PRELOAD=")
	out, _ = f.run(t, []string{"DISABLE_JEMALLOC=false", "LD_PRELOAD=/lib/other.so"}, "jobmanager")
	if !strings.Contains(out, "LD_PRELOAD=/lib/other.so:/usr/lib/") && !strings.Contains(out, "WARNING: /usr/lib/") {
		t.Errorf("want jemalloc appended to LD_PRELOAD, or a warning where it is not installed:\n%s", out)
	}
}
