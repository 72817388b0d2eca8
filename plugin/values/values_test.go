package values

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/cli"
	"helm.sh/helm/v3/pkg/getter"

	"github.com/helm-flink/helm-flink/plugin/chartdir"
)

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// jsonRoundTrip makes values comparable whatever Go number types they carry.
func jsonRoundTrip(t *testing.T, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// Every kind of value flag, in Helm's order: files one over the other, then --set-json, --set,
// --set-string, --set-file, --set-literal.
func TestUserMergesInHelmsOrder(t *testing.T) {
	dir := t.TempDir()
	base := write(t, dir, "base.yaml", "taskmanager:\n  replicas: 2\n  numberOfTaskSlots: 2\nimage:\n  tag: \"1.20-java17\"\nflinkConfiguration:\n  a: x\n")
	prod := write(t, dir, "prod.yaml", "taskmanager:\n  replicas: 4\nflinkConfiguration:\n  b: z\n")
	log4j := write(t, dir, "log4j.properties", "rootLogger.level = WARN\n")
	o := &Options{
		ValueFiles:    []string{base, prod},
		JSONValues:    []string{`jobmanager={"memoryProcessSize":"2g"}`, `taskmanager.replicas=5`},
		Values:        []string{"taskmanager.replicas=6,parallelism=8", "highAvailability.enabled=true", `flinkConfiguration.state\.backend\.type=rocksdb`},
		StringValues:  []string{"image.tag=2.1", "taskmanager.numberOfTaskSlots=3"},
		FileValues:    []string{"log4j=" + log4j},
		LiteralValues: []string{"nameOverride=a,b=c"},
	}
	got, err := User(o, getter.Providers{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"taskmanager":      map[string]any{"replicas": 6.0, "numberOfTaskSlots": "3"},
		"image":            map[string]any{"tag": "2.1"},
		"jobmanager":       map[string]any{"memoryProcessSize": "2g"},
		"parallelism":      8.0,
		"highAvailability": map[string]any{"enabled": true},
		"log4j":            "rootLogger.level = WARN\n",
		// --set takes \. as a dot inside a key, as Flink's dotted keys need.
		"flinkConfiguration": map[string]any{"a": "x", "b": "z", "state.backend.type": "rocksdb"},
		// --set-literal takes the whole rest as the value, commas and all.
		"nameOverride": "a,b=c",
	}
	if !reflect.DeepEqual(jsonRoundTrip(t, got), jsonRoundTrip(t, want)) {
		t.Fatalf("got  %v\nwant %v", jsonRoundTrip(t, got), jsonRoundTrip(t, want))
	}
	// Exactly what Helm's own MergeValues gives.
	helm, err := o.MergeValues(getter.Providers{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, helm) {
		t.Fatalf("differs from Helm's MergeValues:\n%v\n%v", got, helm)
	}
}

func TestUserErrorsNameTheFileOrFlag(t *testing.T) {
	dir := t.TempDir()
	good := write(t, dir, "good.yaml", "a: 1\n")
	bad := write(t, dir, "bad.yaml", "a: [1\n")
	missing := filepath.Join(dir, "missing.yaml")
	cases := []struct {
		name string
		o    Options
		want []string // substrings of the error
	}{
		{"missing file", Options{ValueFiles: []string{good, missing}}, []string{"values file " + missing, "no such file"}},
		{"unparsable file", Options{ValueFiles: []string{good, bad}}, []string{"values file " + bad, "failed to parse"}},
		{"bad --set", Options{Values: []string{"a=1", "taskmanager.replicas"}}, []string{`--set "taskmanager.replicas"`, "no value"}},
		{"bad --set-string", Options{StringValues: []string{"image.tag[=x"}}, []string{`--set-string "image.tag[=x"`}},
		{"bad --set-json", Options{JSONValues: []string{`job={"args": [}`}}, []string{`--set-json "job={\"args\": [}"`, "invalid character"}},
		{"missing --set-file", Options{FileValues: []string{"log4j=" + missing}}, []string{`--set-file "log4j=` + missing + `"`, "no such file"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := User(&tc.o, getter.Providers{})
			if err == nil {
				t.Fatal("no error")
			}
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("%T %v is no *values.Error", err, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// renderedValues runs Helm's own install action, client-only and dry-run (no cluster), on a
// copy of the chart whose NOTES.txt prints .Values: what the chart's templates really got.
func renderedValues(t *testing.T, chartDir string, user map[string]any) any {
	t.Helper()
	ch, err := chartdir.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range ch.Templates {
		if f.Name == "templates/NOTES.txt" {
			f.Data = []byte("{{ toJson .Values }}")
		}
	}
	install := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	install.ClientOnly = true
	install.DryRun = true
	install.ReleaseName = "demo"
	install.Namespace = "flink"
	install.Replace = true
	install.KubeVersion = &chartutil.KubeVersion{Version: "v1.33.0", Major: "1", Minor: "33"}
	rel, err := install.Run(ch, user)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal([]byte(rel.Info.Notes), &v); err != nil {
		t.Fatalf("notes %q: %v", rel.Info.Notes, err)
	}
	return v
}

// Merge gives what `helm install` renders, for both charts, each of their CI values files and a
// mix of flags on top: Helm's install action is the reference.
func TestMergeEqualsWhatHelmInstallRenders(t *testing.T) {
	dir := t.TempDir()
	log4j := write(t, dir, "log4j.properties", "rootLogger.level = WARN\n")
	for _, name := range []string{"flink-session", "flink-job"} {
		chartDir := filepath.Join("..", "..", "charts", name)
		files, _ := filepath.Glob(filepath.Join(chartDir, "ci", "*-values.yaml"))
		if len(files) < 2 {
			t.Fatalf("%s: %d ci values files", name, len(files))
		}
		for _, file := range files {
			t.Run(name+"/"+filepath.Base(file), func(t *testing.T) {
				o := &Options{
					ValueFiles:   []string{file},
					Values:       []string{"taskmanager.replicas=3", "podLabels.team=data"},
					StringValues: []string{"taskmanager.cpu=2"},
					JSONValues:   []string{`flinkConfiguration={"pipeline.name":"demo","execution.checkpointing.interval":"30s"}`},
					FileValues:   []string{"log4j=" + log4j},
				}
				ch, err := chartdir.Load(chartDir)
				if err != nil {
					t.Fatal(err)
				}
				ourUser, err := User(o, getter.All(cli.New()))
				if err != nil {
					t.Fatal(err)
				}
				ours, err := ForChart(ch, ourUser)
				if err != nil {
					t.Fatal(err)
				}
				user, err := o.MergeValues(getter.All(cli.New()))
				if err != nil {
					t.Fatal(err)
				}
				if got, want := jsonRoundTrip(t, ours), renderedValues(t, chartDir, user); !reflect.DeepEqual(got, want) {
					t.Fatalf("merged values differ from what helm install renders:\nours %v\nhelm %v", got, want)
				}
				// The chart defaults are in, under the user's values.
				if ours["taskmanager"].(map[string]any)["replicas"] != int64(3) || ours["podSecurityContext"] == nil {
					t.Fatalf("%v", ours)
				}
			})
		}
	}
}

// ForChart is chartutil's coalescing, as the install action calls it.
func TestForChartIsChartutilCoalesce(t *testing.T) {
	ch, err := chartdir.Load(filepath.Join("..", "..", "charts", "flink-session"))
	if err != nil {
		t.Fatal(err)
	}
	user := map[string]any{"jobmanager": map[string]any{"service": map[string]any{"nodePort": nil}}, "parallelism": 4}
	ours, err := ForChart(ch, user)
	if err != nil {
		t.Fatal(err)
	}
	want, err := chartutil.CoalesceValues(ch, user)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ours, map[string]any(want)) {
		t.Fatalf("%v\n%v", ours, want)
	}
	if _, err := ForChart((*chart.Chart)(nil), user); err == nil {
		t.Fatal("no chart, no error")
	}
}

// An empty key (`--set =1`, `a=1,=2`, `"": 1` in a file) is refused naming its flag or file:
// Helm would take it and the chart never see the value.
func TestUserRefusesEmptyKeys(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "v.yaml")
	if err := os.WriteFile(file, []byte("taskmanager:\n  \"\": 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{Values: []string{"=1"}}, `--set "=1": an empty key before "=1"`},
		{Options{Values: []string{"a=1,=2"}}, `--set "a=1,=2": an empty key before "=2"`},
		{Options{Values: []string{"ok=1"}, LiteralValues: []string{"=x"}}, `--set-literal "=x": an empty key`},
		{Options{ValueFiles: []string{file}}, "values file " + file + ": an empty key under taskmanager"},
	} {
		_, err := User(&c.o, nil)
		var ve *Error
		if err == nil || !errors.As(err, &ve) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.o, err, c.want)
		}
	}
}

// A values file or argument over 4 MiB is refused before it is parsed; an alias bomb (a
// billion laughs) is refused by the YAML parser, fast.
func TestUserRefusesHugeInput(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("a: "+strings.Repeat("x", MaxInput)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := User(&Options{ValueFiles: []string{big}}, nil); err == nil || !strings.Contains(err.Error(), "at most") {
		t.Errorf("a 4 MiB file: %v", err)
	}
	if _, err := User(&Options{Values: []string{"a=" + strings.Repeat("x", MaxInput)}}, nil); err == nil || !strings.Contains(err.Error(), "at most") {
		t.Errorf("a 4 MiB --set: %v", err)
	}
	bomb := "a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n"
	for i, prev := 'b', 'a'; i <= 'j'; i, prev = i+1, i {
		bomb += string(i) + ": &" + string(i) + " [" + strings.Repeat("*"+string(prev)+",", 8) + "*" + string(prev) + "]\n"
	}
	f := filepath.Join(dir, "bomb.yaml")
	if err := os.WriteFile(f, []byte(bomb), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := User(&Options{ValueFiles: []string{f}}, nil); err == nil {
		t.Errorf("an alias bomb was accepted")
	}
	t.Logf("alias bomb refused in %s", time.Since(start))
}
