package schema

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"sigs.k8s.io/yaml"
)

// The corpus of good and bad values gets the same verdict from gojsonschema (what the plugin
// uses) and from Helm's own schema validation (what `helm install` and Flux do); every bad
// file names, in its "# want:" line, the path both must point at.
func TestCorpusAgreesWithHelm(t *testing.T) {
	for _, chartName := range []string{"flink-session", "flink-job"} {
		chart, err := loader.Load(filepath.Join("..", "charts", chartName))
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

func wantPath(t *testing.T, file string) string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "# want: "); ok {
			return strings.TrimSpace(p)
		}
	}
	t.Fatalf("%s has no '# want: <path>' line", file)
	return ""
}

func TestProblemString(t *testing.T) {
	if s := (Problem{Path: "taskmanager.replicas", Message: "Must be greater than or equal to 0"}).String(); s != "taskmanager.replicas: Must be greater than or equal to 0" {
		t.Fatal(s)
	}
	if s := (Problem{Message: "x"}).String(); s != "x" {
		t.Fatal(s)
	}
}
