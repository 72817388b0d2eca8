package schema

import (
	"archive/zip"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/getter"

	"github.com/helm-flink/helm-flink/plugin/values"

	"github.com/helm-flink/helm-flink/plugin/chartdir"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

var chartNames = []string{"flink-session", "flink-job"}

var charts = map[string]*chart.Chart{}

// loadChart loads a chart of ../charts once (Check only reads it).
func loadChart(t *testing.T, name string) *chart.Chart {
	t.Helper()
	if ch, ok := charts[name]; ok {
		return ch
	}
	ch, err := chartdir.Load(filepath.Join("..", "charts", name))
	if err != nil {
		t.Fatal(err)
	}
	charts[name] = ch
	return ch
}

// coalesced gives the values as `helm install` renders them (plugin/values does what the
// install action does).
func coalesced(t *testing.T, ch *chart.Chart, user map[string]any) map[string]any {
	t.Helper()
	vals, err := values.ForChart(ch, user)
	if err != nil {
		t.Fatal(err)
	}
	return vals
}

func check(t *testing.T, ch *chart.Chart, user map[string]any, opts CheckOptions) []string {
	t.Helper()
	problems, err := Check(ch, coalesced(t, ch, user), opts)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, p := range problems {
		out = append(out, p.String())
	}
	return out
}

// header reads the "# problem: …" and "# option: --flag=value" lines of a corpus file.
func header(t *testing.T, file string) (want []string, opts CheckOptions) {
	t.Helper()
	for _, o := range comments(t, file, "option") {
		name, value, _ := strings.Cut(o, "=")
		switch name {
		case "--parallelism":
			n, err := strconv.Atoi(value)
			if err != nil {
				t.Fatalf("%s: option %q", file, o)
			}
			opts.Parallelism = n
		case "--savepoint":
			opts.SavepointPath = value
		case "--savepoint-dir":
			opts.SavepointDir = value
		case "--entry-class":
			opts.EntryClass = value
		case "--release":
			opts.ReleaseName = value
		default:
			t.Fatalf("%s: unknown option %q", file, o)
		}
	}
	return comments(t, file, "problem"), opts
}

// Every file under testdata/<chart>/check states, in its "# problem:" lines, the exact problems
// Check reports for it: all of them, in path order.
func TestCheckCorpus(t *testing.T) {
	for _, chartName := range chartNames {
		ch := loadChart(t, chartName)
		files, _ := filepath.Glob(filepath.Join("testdata", chartName, "check", "*.yaml"))
		if len(files) < 4 {
			t.Fatalf("%s/check: corpus too small (%d files)", chartName, len(files))
		}
		for _, file := range files {
			t.Run(chartName+"/"+filepath.Base(file), func(t *testing.T) {
				want, opts := header(t, file)
				if len(want) == 0 {
					t.Fatalf("%s has no '# problem: …' line", file)
				}
				got := check(t, ch, readValues(t, file), opts)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
			})
		}
	}
}

// Each bad file of the schema corpus has one mistake: Check reports exactly one problem, at the
// path its "# want:" line names (the extra checks do not repeat what the schema found).
func TestCheckBadCorpusOneProblemEach(t *testing.T) {
	for _, chartName := range chartNames {
		ch := loadChart(t, chartName)
		files, _ := filepath.Glob(filepath.Join("testdata", chartName, "bad", "*.yaml"))
		for _, file := range files {
			t.Run(chartName+"/"+filepath.Base(file), func(t *testing.T) {
				problems, err := Check(ch, coalesced(t, ch, readValues(t, file)), CheckOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if want := wantPath(t, file); len(problems) != 1 || problems[0].Path != want {
					t.Fatalf("problems %v, want one at %s", problems, want)
				}
			})
		}
	}
}

// The charts' own CI values and the good corpus pass every check.
func TestCheckAcceptsGoodValues(t *testing.T) {
	for _, chartName := range chartNames {
		ch := loadChart(t, chartName)
		ci, _ := filepath.Glob(filepath.Join("..", "charts", chartName, "ci", "*-values.yaml"))
		good, _ := filepath.Glob(filepath.Join("testdata", chartName, "good", "*.yaml"))
		if len(ci) < 2 || len(good) < 3 {
			t.Fatalf("%s: %d ci and %d good values files", chartName, len(ci), len(good))
		}
		for _, file := range append(ci, good...) {
			t.Run(chartName+"/"+filepath.Base(file), func(t *testing.T) {
				if got := check(t, ch, readValues(t, file), CheckOptions{ReleaseName: "demo"}); len(got) > 0 {
					t.Fatalf("problems with good values:\n%s", strings.Join(got, "\n"))
				}
			})
		}
	}
}

// A values file with six mistakes gives six problems, and the report users read is the golden
// file's (go test ./schema -update rewrites it).
func TestMultiMistakereport(t *testing.T) {
	ch := loadChart(t, "flink-session")
	file := filepath.Join("testdata", "flink-session", "multi-mistake.yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	mistakes := strings.Count(string(data), "# mistake:")
	problems, err := Check(ch, coalesced(t, ch, readValues(t, file)), CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != mistakes {
		t.Fatalf("%d problems for %d mistakes:\n%s", len(problems), mistakes, report(problems))
	}
	err = &InvalidError{Subject: "values of chart flink-session", Problems: problems}
	golden := filepath.Join("testdata", "flink-session", "multi-mistake.golden")
	got := err.Error() + "\n"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err2 := os.ReadFile(golden)
	if err2 != nil {
		t.Fatalf("%v (go test ./schema -update writes it)", err2)
	}
	if got != string(want) {
		t.Fatalf("report:\n%s\nwant (%s):\n%s", got, golden, want)
	}
	var ec interface{ ExitCode() int }
	if !errors.As(err, &ec) || ec.ExitCode() != 1 {
		t.Fatal("InvalidError must exit 1")
	}
}

// What the plugin's users type: values files and --set flags merged as Helm merges them, then
// checked. A typo given with --set gets its did-you-mean like one in a file.
func TestCheckWithValueFlags(t *testing.T) {
	ch := loadChart(t, "flink-session")
	opts := &values.Options{
		ValueFiles:   []string{filepath.Join("..", "charts", "flink-session", "ci", "minimal-values.yaml")},
		Values:       []string{"taskmanager.replica=3", "parallelism=2"},
		StringValues: []string{"taskmanager.numberOfTaskSlots=1"},
	}
	vals, err := merge(ch, opts)
	if err != nil {
		t.Fatal(err)
	}
	problems, err := Check(ch, vals, CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// --set-string makes numberOfTaskSlots a string, which the schema rejects; the parallelism
	// check then stays quiet rather than guess...
	want := []Problem{
		{Path: "taskmanager.numberOfTaskSlots", Message: "wrong type", Got: `string "1"`, Want: "integer"},
		{Path: "taskmanager.replica", Message: "unknown key (did you mean replicas?)"},
	}
	if !reflect.DeepEqual(problems, want) {
		t.Fatalf("problems:\n%s\nwant:\n%s", report(problems), report(want))
	}
	// ...and with --set it is a number, and the parallelism check runs.
	opts.StringValues = nil
	opts.Values = append(opts.Values, "taskmanager.numberOfTaskSlots=1")
	vals, err = merge(ch, opts)
	if err != nil {
		t.Fatal(err)
	}
	problems, err = Check(ch, vals, CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want = []Problem{
		{Path: "parallelism", Message: "parallelism above the task slots of the cluster: the job would wait for slots that never come", Got: "2", Want: "at most 1 = taskmanager.replicas 1 × taskmanager.numberOfTaskSlots 1"},
		{Path: "taskmanager.replica", Message: "unknown key (did you mean replicas?)"},
	}
	if !reflect.DeepEqual(problems, want) {
		t.Fatalf("problems:\n%s\nwant:\n%s", report(problems), report(want))
	}
}

// writeJar builds a jar: a manifest (none when ""), and a stub .class entry per class name.
func writeJar(t *testing.T, path, manifest string, classes ...string) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	if manifest != "" {
		w, _ := zw.Create("META-INF/MANIFEST.MF")
		w.Write([]byte(manifest))
	}
	for _, c := range classes {
		w, _ := zw.Create(strings.ReplaceAll(c, ".", "/") + ".class")
		w.Write([]byte{0xCA, 0xFE, 0xBA, 0xBE})
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCheckJar(t *testing.T) {
	dir := t.TempDir()
	const job = "com.example.jobs.ClickCount"
	// A manifest as Maven writes it: CRLF, the value wrapped at 72 bytes.
	wrapped := "Manifest-Version: 1.0\r\nCreated-By: Maven\r\nMain-Class: com.example.jo\r\n bs.ClickCount\r\n\r\n"
	good := writeJar(t, filepath.Join(dir, "click-count.jar"), wrapped, job, job+"$Parser", "com.example.util.Strings")
	bare := writeJar(t, filepath.Join(dir, "bare.jar"), "", job)
	programClass := writeJar(t, filepath.Join(dir, "program-class.jar"),
		"Manifest-Version: 1.0\nMain-Class: com.example.Launcher\nprogram-class: "+job+"\n", job)
	staleManifest := writeJar(t, filepath.Join(dir, "stale.jar"), "Main-Class: com.example.Gone\n", job)
	notZip := filepath.Join(dir, "broken.jar")
	if err := os.WriteFile(notZip, []byte("not a zip"), 0o644); err != nil {
		t.Fatal(err)
	}
	zipName := writeJar(t, filepath.Join(dir, "click-count.zip"), wrapped, job)
	// TopSpeedWindowing is flink-job's default job.entryClass.
	topSpeed := "org.apache.flink.streaming.examples.windowing.TopSpeedWindowing"
	withTopSpeed := writeJar(t, filepath.Join(dir, "top-speed.jar"), "", topSpeed)

	cases := []struct {
		name  string
		chart string
		vals  map[string]any
		opts  CheckOptions
		want  []string
	}{
		{"manifest entry class", "flink-session", nil, CheckOptions{Jar: good}, nil},
		{"entry class flag", "flink-session", nil, CheckOptions{Jar: bare, EntryClass: job}, nil},
		{"inner class flag", "flink-session", nil, CheckOptions{Jar: good, EntryClass: job + "$Parser"}, nil},
		{"program-class wins", "flink-session", nil, CheckOptions{Jar: programClass}, nil},
		{"no entry class anywhere", "flink-session", nil, CheckOptions{Jar: bare}, []string{
			`--jar: no entry class: the manifest names none and --entry-class is not given (got "` + bare + `", want --entry-class, or a jar whose manifest has Main-Class or program-class)`}},
		{"entry class in another package", "flink-session", nil, CheckOptions{Jar: good, EntryClass: "com.example.ClickCount"}, []string{
			`--entry-class: entry class not in the jar (did you mean com.example.jobs.ClickCount?) (got com.example.ClickCount)`}},
		{"entry class misspelt", "flink-session", nil, CheckOptions{Jar: good, EntryClass: "com.example.jobs.ClickCuont"}, []string{
			`--entry-class: entry class not in the jar (did you mean com.example.jobs.ClickCount?) (got com.example.jobs.ClickCuont)`}},
		{"entry class unknown", "flink-session", nil, CheckOptions{Jar: good, EntryClass: "org.other.Main"}, []string{
			`--entry-class: entry class not in the jar (got org.other.Main, want com.example.jobs.ClickCount, the manifest's Main-Class)`}},
		{"entry class not a class name", "flink-session", nil, CheckOptions{Jar: good, EntryClass: "com.example.Click Count"}, []string{
			`--entry-class: not a Java class name (got "com.example.Click Count", want e.g. org.example.MyJob)`}},
		{"manifest names a missing class", "flink-session", nil, CheckOptions{Jar: staleManifest}, []string{
			`--jar: the manifest's Main-Class names a class the jar does not hold (got com.example.Gone)`}},
		{"not a zip", "flink-session", nil, CheckOptions{Jar: notZip}, []string{
			`--jar: not a valid jar: zip: not a valid zip file (got "` + notZip + `")`}},
		{"missing file", "flink-session", nil, CheckOptions{Jar: filepath.Join(dir, "nope.jar")}, []string{
			`--jar: no such file (got "` + filepath.Join(dir, "nope.jar") + `")`}},
		{"directory", "flink-session", nil, CheckOptions{Jar: dir}, []string{
			`--jar: a directory, not a jar (got "` + dir + `")`}},
		{"not named .jar", "flink-session", nil, CheckOptions{Jar: zipName}, []string{
			`--jar: file name does not end in .jar, which Flink's upload refuses (got "` + zipName + `")`}},
		{"https URL is not fetched", "flink-session", nil, CheckOptions{Jar: "https://repo.example.com/jobs/click-count-1.0.jar?token=x", EntryClass: job}, nil},
		{"URL without host", "flink-session", nil, CheckOptions{Jar: "https:///jobs/click-count.jar"}, []string{
			`--jar: URL without a host (got "https:///jobs/click-count.jar", want e.g. https://repo.example.com/jobs/my-job.jar)`}},
		{"URL of no jar", "flink-session", nil, CheckOptions{Jar: "http://repo.example.com/jobs/click-count.tgz"}, []string{
			`--jar: URL path does not name a .jar file (got "http://repo.example.com/jobs/click-count.tgz", want e.g. https://repo.example.com/jobs/my-job.jar)`}},
		{"unsupported scheme", "flink-session", nil, CheckOptions{Jar: "s3://bucket/click-count.jar"}, []string{
			`--jar: unsupported URL scheme (got "s3://bucket/click-count.jar", want a local file, an http(s) URL or local:///path/in/image.jar)`}},
		{"jar in the image", "flink-session", nil, CheckOptions{Jar: "local:///opt/flink/usrlib/click-count.jar"}, nil},
		{"jar in the image, relative", "flink-session", nil, CheckOptions{Jar: "local://click-count.jar"}, []string{
			`--jar: not a jar path in the image (got "local://click-count.jar", want local:///opt/flink/usrlib/<name>.jar)`}},
		// flink-job runs job.entryClass: the jar given must hold it.
		{"job: default entry class not in the jar", "flink-job", nil, CheckOptions{Jar: good}, []string{
			`job.entryClass: entry class not in the jar (got ` + topSpeed + `, want com.example.jobs.ClickCount, the manifest's Main-Class)`}},
		{"job: entry class value", "flink-job", map[string]any{"job": map[string]any{"entryClass": job}}, CheckOptions{Jar: good}, nil},
		{"job: entry class flag", "flink-job", nil, CheckOptions{Jar: good, EntryClass: job}, nil},
		{"job: default jar", "flink-job", nil, CheckOptions{Jar: withTopSpeed}, nil},
		{"job: entry class the schema rejects is not reported twice", "flink-job", map[string]any{"job": map[string]any{"entryClass": "a b"}}, CheckOptions{Jar: good}, []string{
			`job.entryClass: invalid format (got "a b", want a Java class name, e.g. org.example.MyJob)`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ch := loadChart(t, tc.chart)
			got := check(t, ch, tc.vals, tc.opts)
			want := tc.want
			if want == nil {
				want = []string{}
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// The example jar of a real Flink release, when `make flink` has fetched it: its manifest's
// Main-Class is wrapped over two lines, and the class is there. The required jar tests above
// build their jars; this one adds a real one where it exists.
func TestCheckRealExampleJar(t *testing.T) {
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skip(err)
	}
	jar := filepath.Join(home, ".cache", "helm-flink", "flink", "1.20.0", "examples", "TopSpeedWindowing.jar")
	if _, err := os.Stat(jar); err != nil {
		t.Skipf("no %s (make flink fetches it)", jar)
	}
	session, job := loadChart(t, "flink-session"), loadChart(t, "flink-job")
	if got := check(t, session, nil, CheckOptions{Jar: jar}); len(got) > 0 {
		t.Fatalf("session with the manifest's entry class: %v", got)
	}
	if got := check(t, job, nil, CheckOptions{Jar: jar}); len(got) > 0 {
		t.Fatalf("flink-job's default entry class: %v", got)
	}
	got := check(t, session, nil, CheckOptions{Jar: jar, EntryClass: "org.apache.flink.streaming.examples.TopSpeedWindowing"})
	want := []string{"--entry-class: entry class not in the jar (did you mean org.apache.flink.streaming.examples.windowing.TopSpeedWindowing?) (got org.apache.flink.streaming.examples.TopSpeedWindowing)"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestParseManifest(t *testing.T) {
	m := parseManifest([]byte("Manifest-Version: 1.0\r\nMain-Class: org.example.Very\r\n LongName\r\nprogram-class:org.example.P\r\n\r\nName: org/example/\r\nMain-Class: ignored\r\n"))
	if m["main-class"] != "org.example.VeryLongName" || m["program-class"] != "org.example.P" || m["manifest-version"] != "1.0" {
		t.Fatalf("%v", m)
	}
}

func TestParseFlinkMemory(t *testing.T) {
	for in, want := range map[string]int64{
		"1600m": 1600 << 20, "2g": 2 << 30, "1728mb": 1728 << 20, "2 GB": 2 << 30, "1024": 1024,
		"512k": 512 << 10, "1t": 1 << 40, "3mebibytes": 3 << 20, "100b": 100,
	} {
		if got, ok := parseFlinkMemory(in); !ok || got != want {
			t.Errorf("%q: %d %v, want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "m", "1.5g", "2Gi", "-1m", "12x"} {
		if _, ok := parseFlinkMemory(in); ok {
			t.Errorf("%q parsed", in)
		}
	}
}

func TestQuantityBytes(t *testing.T) {
	for in, want := range map[any]int64{"2Gi": 2 << 30, "1600Mi": 1600 << 20, "2G": 2e9, "1600m": 2, float64(1 << 30): 1 << 30, int64(5): 5} {
		if got, ok := quantityBytes(in); !ok || got != want {
			t.Errorf("%v: %d %v, want %d", in, got, ok, want)
		}
	}
}

func TestParseFlinkVersion(t *testing.T) {
	for in, want := range map[string]flinkVersion{"1.20": {1, 20}, "1.20-java17": {1, 20}, "2.1.0-scala_2.12": {2, 1}, "1.18.1": {1, 18}} {
		if got, ok := parseFlinkVersion(in); !ok || got != want {
			t.Errorf("%q: %v", in, got)
		}
	}
	for _, in := range []string{"latest", "java17-1.20", "", "v1.20"} {
		if _, ok := parseFlinkVersion(in); ok {
			t.Errorf("%q parsed", in)
		}
	}
}

// report renders problems one per line, in the order given.
func report(problems []Problem) string {
	var b strings.Builder
	for _, p := range problems {
		b.WriteString(p.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// merge is what the plugin does with the value flags: Helm's merging, then the chart's values.
func merge(ch *chart.Chart, o *values.Options) (map[string]any, error) {
	user, err := values.User(o, getter.Providers{})
	if err != nil {
		return nil, err
	}
	return values.ForChart(ch, user)
}
