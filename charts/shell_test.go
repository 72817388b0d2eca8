package charts

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// hostile values: each must reach the command as one argument, as written, and run nothing.
var hostile = []string{"$(touch pwned-dollar)", "`touch pwned-backtick`", "a b", `'q"`, "$(JAR)", "$HOME", "x;touch pwned-semicolon"}

// kubeEnv is a container's environment as the kubelet gives it: $$ is Kubernetes' escape of $
// (every value the charts write literally is escaped so).
func kubeEnv(c container) []string {
	var out []string
	for _, e := range c.Env {
		out = append(out, e.Name+"="+strings.ReplaceAll(e.Value, "$$", "$"))
	}
	return out
}

// stub writes an executable NAME into dir that records its arguments, one per line, in
// dir/NAME.args and runs then the rest of its script.
func stub(t *testing.T, dir, name, then string) {
	t.Helper()
	script := "#!/bin/bash\nprintf '%s\\n' \"$@\" > " + filepath.Join(dir, name+".args") + "\n" + then + "\n"
	if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

func runIn(t *testing.T, dir string, env []string, shell string, script string) string {
	t.Helper()
	cmd := exec.Command(shell, "-c", script)
	cmd.Dir = dir
	cmd.Env = append(env, "PATH="+dir+":"+os.Getenv("PATH"), "HOME=/nonexistent")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s\nscript:\n%s", shell, err, out, script)
	}
	return string(out)
}

func noneRan(t *testing.T, dir string) {
	t.Helper()
	ran, _ := filepath.Glob(filepath.Join(dir, "pwned-*"))
	if len(ran) > 0 {
		t.Errorf("a value ran as a command: %v", ran)
	}
}

func recordedArgs(t *testing.T, dir, name string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name+".args"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// The application chart's jar fetcher takes the URL as a URL: a jarURI holding shell syntax is
// fetched as written and runs nothing in the init container.
func TestJarFetcherRunsNoPartOfTheURL(t *testing.T) {
	const url = "https://example.org/$(touch pwned-dollar)/`touch pwned-backtick`/a;touch pwned-semicolon/job.jar?t=$HOME"
	objs := objects(t, render(t, "flink-job", nil, "job.jarURI="+url, "job.jarSHA256=2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"))
	var fetch *container
	for _, c := range objs["Deployment/golden-flink-job-jobmanager"].Spec.Template.Spec.InitContainers {
		if c.Name == "fetch-jar" {
			fetch = &c
		}
	}
	if fetch == nil || len(fetch.Command) != 3 || fetch.Command[0] != "sh" {
		t.Fatalf("no fetch-jar init container running sh -c: %+v", fetch)
	}
	dir := t.TempDir()
	stub(t, dir, "curl", `while [ $# -gt 0 ]; do [ "$1" = -o ] && printf foo > "$2"; shift; done`)
	env := kubeEnv(*fetch)
	for i, e := range env {
		if strings.HasPrefix(e, "JAR_FILE=") {
			env[i] = "JAR_FILE=" + filepath.Join(dir, "job.jar") // not /opt/flink/usrlib here
		}
	}
	runIn(t, dir, env, "sh", fetch.Command[2])
	noneRan(t, dir)
	if got := recordedArgs(t, dir, "curl"); !slices.Contains(got, url) {
		t.Errorf("curl got %q, want the URL %q as one argument", got, url)
	}
}

// The session chart's submit hook passes the job's arguments, entry class and Flink options to
// `flink run` as written: one argument each, nothing run.
func TestSubmitHookRunsNoPartOfTheValues(t *testing.T) {
	set := []string{"submit.entryClass=org.example.Outer$Inner", "flinkConfiguration.pipeline\\.name=" + hostile[0] + " " + hostile[1]}
	for i, a := range hostile {
		set = append(set, "submit.args["+string(rune('0'+i))+"]="+a)
	}
	objs := objects(t, render(t, "flink-session", []string{submitSet}, set...))
	var submit *container
	for _, c := range objs["Job/golden-flink-session-submit"].Spec.Template.Spec.InitContainers {
		if c.Name == "submit" {
			submit = &c
		}
	}
	if submit == nil {
		t.Fatal("no submit container")
	}
	lines := hookLines(t, submit.Args[0], "opts=()", "out=$(flink run")
	dir := t.TempDir()
	stub(t, dir, "flink", "echo 'Job has been submitted with JobID 0123456789abcdef0123456789abcdef'")
	out := runIn(t, dir, append(kubeEnv(*submit), "from="), "bash", "set -eu\nwhy=test\n"+lines+"\necho \"$out\"")
	noneRan(t, dir)
	got := recordedArgs(t, dir, "flink")
	want := append([]string{"--class", "org.example.Outer$Inner", "/opt/flink/examples/streaming/TopSpeedWindowing.jar"}, hostile...)
	if i := slices.Index(got, "--class"); i < 0 || !slices.Equal(got[i:], want) {
		t.Errorf("flink run got\n%q\nwant it to end with\n%q", got, want)
	}
	if !slices.Contains(got, "-Dpipeline.name="+hostile[0]+" "+hostile[1]) {
		t.Errorf("flink run got %q, want the option pipeline.name as written", got)
	}
	if !strings.Contains(out, "JobID") {
		t.Errorf("the hook's lines did not reach flink run: %s", out)
	}
}

// An application's job arguments reach its main method as written: Kubernetes would expand a
// $(NAME) in container args, so the chart escapes every $.
func TestJobArgsEscapeKubernetesExpansion(t *testing.T) {
	var set []string
	for i, a := range hostile {
		set = append(set, "job.args["+string(rune('0'+i))+"]="+a)
	}
	objs := objects(t, render(t, "flink-job", nil, set...))
	jm := objs["Deployment/golden-flink-job-jobmanager"].Spec.Template.Spec.Containers[0]
	var got []string
	for _, a := range jm.Args[len(jm.Args)-len(hostile):] {
		got = append(got, strings.ReplaceAll(a, "$$", "$"))
	}
	if !slices.Equal(got, hostile) {
		t.Errorf("the job gets %q, want %q", got, hostile)
	}
}
