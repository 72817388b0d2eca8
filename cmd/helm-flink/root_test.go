package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/version"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	root := newRootCmd(&out, &out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func TestVersionTable(t *testing.T) {
	out, err := run(t, "version")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "helm-flink "+version.Version+" ") {
		t.Fatalf("version output %q does not start with the version", out)
	}
}

func TestVersionJSON(t *testing.T) {
	out, err := run(t, "version", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var info version.Info
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("version -o json is not JSON: %v\n%s", err, out)
	}
	if info.Version != version.Version || info.GoVersion == "" {
		t.Fatalf("unexpected version info %+v", info)
	}
}

func TestVersionBadOutputIsUserError(t *testing.T) {
	_, err := run(t, "version", "-o", "xml")
	if err == nil || !strings.Contains(err.Error(), "want table, json or yaml") {
		t.Fatalf("want an error naming the valid formats, got %v", err)
	}
	if exit.Code(err) != 1 {
		t.Fatalf("exit code %d, want 1", exit.Code(err))
	}
}
