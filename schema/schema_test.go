package schema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"
	"sigs.k8s.io/yaml"

	"github.com/helm-flink/helm-flink/plugin/chartdir"
)

// The corpus of good and bad values gets the same verdict from gojsonschema (what the plugin
// uses) and from Helm's own schema validation (what `helm install` and Flux do); every bad
// file names, in its "# want:" line, the path both must point at.
func TestCorpusAgreesWithHelm(t *testing.T) {
	for _, chartName := range []string{"flink-session", "flink-job"} {
		chart, err := chartdir.Load(filepath.Join("..", "charts", chartName))
		if err != nil {
			t.Fatal(err)
		}
		for _, verdict := range []string{"good", "bad"} {
			files, _ := filepath.Glob(filepath.Join("testdata", chartName, verdict, "*.yaml"))
			if len(files) < 3 {
				t.Fatalf("%s/%s: corpus too small (%d files)", chartName, verdict, len(files))
			}
			for _, file := range files {
				t.Run(chartName+"/"+verdict+"/"+filepath.Base(file), func(t *testing.T) {
					vals := readValues(t, file)
					coalesced, err := chartutil.CoalesceValues(chart, vals)
					if err != nil {
						t.Fatal(err)
					}
					problems, err := Validate(chart.Schema, coalesced)
					if err != nil {
						t.Fatal(err)
					}
					helmErr := chartutil.ValidateAgainstSchema(chart, coalesced)
					if verdict == "good" {
						if len(problems) > 0 || helmErr != nil {
							t.Fatalf("good values rejected: gojsonschema %v; helm %v", problems, helmErr)
						}
						return
					}
					want := wantPath(t, file)
					if helmErr == nil {
						t.Fatalf("helm accepts bad values (want a problem at %s)", want)
					}
					found := false
					for _, p := range problems {
						found = found || p.Path == want
					}
					if !found {
						t.Fatalf("gojsonschema reports %v, want a problem at %s", problems, want)
					}
					last := want[strings.LastIndex(want, ".")+1:]
					if !strings.Contains(helmErr.Error(), last) {
						t.Fatalf("helm's error does not name %s: %v", last, helmErr)
					}
				})
			}
		}
	}
}

func readValues(t *testing.T, file string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string]any{}
	if err := yaml.Unmarshal(data, &vals); err != nil {
		t.Fatal(err)
	}
	return vals
}

// comments is the text after "# <key>: " on each such line of a corpus file, in order.
func comments(t *testing.T, file, key string) []string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "# "+key+": "); ok {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

func wantPath(t *testing.T, file string) string {
	t.Helper()
	w := comments(t, file, "want")
	if len(w) == 0 {
		t.Fatalf("%s has no '# want: <path>' line", file)
	}
	return w[0]
}

func TestProblemString(t *testing.T) {
	if s := (Problem{Path: "taskmanager.replicas", Message: "Must be greater than or equal to 0"}).String(); s != "taskmanager.replicas: Must be greater than or equal to 0" {
		t.Fatal(s)
	}
	if s := (Problem{Message: "x"}).String(); s != "x" {
		t.Fatal(s)
	}
}

func TestProblemStringGotWant(t *testing.T) {
	for p, want := range map[Problem]string{
		{Path: "taskmanager.replicas", Message: "wrong type", Got: `string "two"`, Want: "integer"}: `taskmanager.replicas: wrong type (got string "two", want integer)`,
		{Path: "a", Message: "m", Got: "1"}:      "a: m (got 1)",
		{Path: "a", Message: "m", Want: "2"}:     "a: m (want 2)",
		{Message: "m", Got: "1", Want: "2"}:      "m (got 1, want 2)",
		{Path: "--jar", Message: "no such file"}: "--jar: no such file",
	} {
		if s := p.String(); s != want {
			t.Errorf("%q, want %q", s, want)
		}
	}
}

// Validate says what it got and what it wants, and suggests the key meant for an unknown one.
func TestValidateMessages(t *testing.T) {
	schemaJSON := []byte(`{
	  "$schema": "http://json-schema.org/draft-07/schema#",
	  "type": "object", "additionalProperties": false, "required": ["name"],
	  "definitions": {"size": {"type": "string", "pattern": "^[1-9][0-9]*[mg]$", "description": "Memory, e.g. 1600m or 2g"}},
	  "properties": {
	    "name": {"type": "string", "minLength": 1},
	    "replicas": {"type": "integer", "minimum": 1, "maximum": 10},
	    "slots": {"type": "integer", "minimum": 1, "maximum": 10},
	    "policy": {"type": "string", "enum": ["Always", "Never"]},
	    "memory": {"$ref": "#/definitions/size"},
	    "id": {"type": "string", "pattern": "^[0-9a-f]{4}$"},
	    "conf": {"type": "object", "propertyNames": {"pattern": "^[a-z.]+$"}, "additionalProperties": {"type": ["string", "number", "boolean"]}},
	    "taskmanager": {"type": "object", "additionalProperties": false,
	      "properties": {"replicas": {"type": "integer"}, "numberOfTaskSlots": {"type": "integer"}}},
	    "ha": {"type": "object", "additionalProperties": false,
	      "properties": {"enabled": {"type": "boolean"}, "dir": {"type": "string"}},
	      "if": {"properties": {"enabled": {"const": true}}, "required": ["enabled"]},
	      "then": {"required": ["dir"], "properties": {"dir": {"minLength": 1, "pattern": "^[a-z]+://.+"}}}}
	  }}`)
	vals := map[string]any{
		"replicas": "two", "slots": 0, "policy": "Sometimes", "memory": "1600MB", "id": "xyz", "Replicas": 2, "extra": 1,
		"conf":        map[string]any{"Bad Key": 1, "ok": map[string]any{"nested": 1}, "fine.key": true},
		"taskmanager": map[string]any{"replica": 3, "numberofTaskslots": 2},
		"ha":          map[string]any{"enabled": true, "dir": ""},
	}
	problems, err := Validate(schemaJSON, vals)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, p := range problems {
		got = append(got, p.String())
	}
	want := []string{
		`Replicas: unknown key (did you mean replicas?)`,
		`conf.Bad Key: invalid key (got "Bad Key", want a string matching ^[a-z.]+$)`,
		`conf.ok: wrong type (got object {"nested":1}, want string, number or boolean)`,
		`extra: unknown key`,
		`ha.dir: must not be empty (want a string matching ^[a-z]+://.+)`,
		`id: invalid format (got "xyz", want a string matching ^[0-9a-f]{4}$)`,
		`memory: invalid format (got "1600MB", want e.g. 1600m or 2g)`,
		`name: required value missing`,
		`policy: not an allowed value (got "Sometimes", want one of Always, Never)`,
		`replicas: wrong type (got string "two", want integer)`,
		`slots: too small (got 0, want at least 1)`,
		`taskmanager.numberofTaskslots: unknown key (did you mean numberOfTaskSlots?)`,
		`taskmanager.replica: unknown key (did you mean replicas?)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestClosest(t *testing.T) {
	names := []string{"replicas", "numberOfTaskSlots", "memoryProcessSize", "resources", "cpu"}
	for in, want := range map[string]string{
		"replica": "replicas", "Replicas": "replicas", "replicaz": "replicas", "numberOfSlots": "numberOfTaskSlots",
		"memory": "memoryProcessSize", "resource": "resources", "cpus": "cpu", "image": "", "x": "", "limits": "",
	} {
		if got := closest(in, names); got != want {
			t.Errorf("closest(%q) = %q, want %q", in, got, want)
		}
	}
}
