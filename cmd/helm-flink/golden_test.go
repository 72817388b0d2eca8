package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helm-flink/helm-flink/plugin/exit"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/helm-flink -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (go test ./cmd/helm-flink -update rewrites it):\n%s", name, path, got)
	}
}

// Every command's help, as users read it: reviewed in diffs when flags or texts change.
func TestHelpGolden(t *testing.T) {
	noCluster(t)
	// Helm's flag defaults name these folders: fixed, so the help is the same everywhere.
	t.Setenv("HELM_CONFIG_HOME", "/home/user/.config/helm")
	t.Setenv("HELM_CACHE_HOME", "/home/user/.cache/helm")
	t.Setenv("HELM_DATA_HOME", "/home/user/.local/share/helm")
	t.Setenv("GNUPGHOME", "/home/user/.gnupg")
	// The root's and every command's, so that a new command comes with its golden.
	commands := []string{""}
	for _, c := range newRootCmd(io.Discard, io.Discard).Commands() {
		if !c.Hidden && c.Name() != "help" && c.Name() != "completion" {
			commands = append(commands, c.Name())
		}
	}
	for _, c := range commands {
		args := append(strings.Fields(c), "--help")
		out, err := runSplit(t, args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		name := c
		if name == "" {
			name = "flink"
		}
		golden(t, "help/"+name, out)
	}
}

// The report of a values file with several mistakes, as the user sees it.
func TestValidateReportGolden(t *testing.T) {
	noCluster(t)
	_, err := runSplit(t, "validate", "../../charts/flink-session", "-f", "../../schema/testdata/flink-session/multi-mistake.yaml")
	if exit.Code(err) != 1 {
		t.Fatalf("exit %d: %v", exit.Code(err), err)
	}
	golden(t, "validate-multi-mistake", "Error: "+err.Error()+"\n")
}
