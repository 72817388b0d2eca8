package charts

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/releaseutil"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// The official image's entrypoint hands a Flink container's args to Flink's scripts, which parse
// them by rules of their own: jobmanager.sh takes a first argument that is not exactly -D for the
// legacy <host> (Flink 1.20 then dies with "Missing argument for option: h", 2.x publishes the
// argument as its address), so `jobmanager -Dkey=value` breaks while `jobmanager -D key=value`
// works; standalone-job.sh, taskmanager.sh and kubernetes-jobmanager.sh pass their args to
// commons-cli parsers that take the two-argument form as well. Every chart-rendered Flink
// container keeps to the form all of them parse alike: dynamic properties as "-D" "key=value".
// The legacy <host> [<webui-port>] form is not allowed: the charts set the JobManager's address
// with -D on every Flink version, the form means --host on 1.x and a -D on 2.x, and a host
// argument is what a mistaken -Dkey=value turns into.
func TestFlinkContainerArgs(t *testing.T) {
	for _, chart := range charts {
		for _, file := range valuesSets(t, chart) {
			jobArgs := ciJobArgs(t, file)
			for _, set := range [][]string{nil, {"highAvailability.enabled=true", "highAvailability.storageDir=s3://bucket/ha"}} {
				name := chart + "/" + filepath.Base(file)
				if set != nil {
					name += "+ha"
				}
				t.Run(name, func(t *testing.T) {
					checked := 0
					for _, c := range flinkContainers(t, render(t, chart, []string{file}, set...)) {
						if err := checkFlinkArgs(c.Args, jobArgs); err != nil {
							t.Errorf("container %s: args %q: %v", c.Name, c.Args, err)
						}
						checked++
					}
					if checked == 0 {
						t.Fatal("no Flink container rendered")
					}
				})
			}
		}
	}
}

// The rule itself refuses what broke on a real kubelet.
func TestCheckFlinkArgs(t *testing.T) {
	jobArgs := []string{"--rate", "-Dx=y"}
	for _, ok := range [][]string{
		{"jobmanager"},
		{"jobmanager", "-D", "jobmanager.rpc.address=$(POD_IP)"},
		{"taskmanager", "-D", "a=b", "-D", "c=d"},
		{"kubernetes-jobmanager.sh", "kubernetes-session"},
		{"kubernetes-jobmanager.sh", "kubernetes-application", "-D", "a=b"},
		{"standalone-job", "--job-classname", "C", "--job-id", "0123", "--fromSavepoint", "s3://b/sp", "--allowNonRestoredState", "-D", "a=b", "--rate", "-Dx=y"},
	} {
		if err := checkFlinkArgs(ok, jobArgs); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range [][]string{
		{"jobmanager", "-Djobmanager.rpc.address=$(POD_IP)"},
		{"jobmanager", "10.0.0.1"},
		{"jobmanager", "-D"},
		{"jobmanager", "-D", "a=b", "-Dc=d"},
		{"jobmanager", "-D", "-D"},
		{"taskmanager", "-Da=b"},
		{"kubernetes-jobmanager.sh"},
		{"kubernetes-jobmanager.sh", "kubernetes-session", "-Da=b"},
		{"standalone-job", "--job-classname", "C", "-Djobmanager.rpc.address=x", "--rate", "-Dx=y"},
		{"standalone-job", "--job-classname"},
		{"standalone-job", "--job-classname", "C", "-D", "a=b", "extra"},
		{"historyserver"},
	} {
		if err := checkFlinkArgs(bad, jobArgs); err == nil {
			t.Errorf("%q passes", bad)
		}
	}
}

var flinkCommands = []string{"jobmanager", "taskmanager", "standalone-job", "kubernetes-jobmanager.sh"}

// flinkContainers are the containers of the rendered objects that run the image's entrypoint
// with a Flink command: no command of their own, and a first argument the entrypoint knows or a
// Flink image (a Flink container with another first argument is reported too).
func flinkContainers(t *testing.T, manifest string) []corev1.Container {
	t.Helper()
	manifest = manifest[:strings.LastIndex(manifest, "---\n# NOTES.txt\n")]
	var out []corev1.Container
	for _, doc := range releaseutil.SplitManifests(manifest) {
		var obj struct {
			Kind string `json:"kind"`
			Spec struct {
				Template struct {
					Spec corev1.PodSpec `json:"spec"`
				} `json:"template"`
				corev1.PodSpec
			} `json:"spec"`
		}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatalf("rendered object: %v\n%s", err, doc)
		}
		var containers []corev1.Container
		switch obj.Kind {
		case "Deployment", "Job":
			containers = obj.Spec.Template.Spec.Containers
		case "Pod":
			containers = obj.Spec.Containers
		}
		for _, c := range containers {
			if len(c.Command) > 0 {
				continue // bash -c scripts and kubectl: the entrypoint passes them through
			}
			flinkImage := strings.HasPrefix(c.Image, "flink:") || strings.Contains(c.Image, "/flink:")
			if flinkImage || (len(c.Args) > 0 && slices.Contains(flinkCommands, c.Args[0])) {
				out = append(out, c)
			}
		}
	}
	return out
}

var keyValue = regexp.MustCompile(`^[A-Za-z0-9$][^=\s]*=`)

// checkFlinkArgs applies the rule of TestFlinkContainerArgs; jobArgs are the job's own arguments,
// which end a standalone-job's args.
func checkFlinkArgs(args, jobArgs []string) error {
	if len(args) == 0 {
		return fmt.Errorf("no Flink command")
	}
	rest := args[1:]
	switch args[0] {
	case "jobmanager", "taskmanager":
	case "kubernetes-jobmanager.sh":
		if len(rest) == 0 || (rest[0] != "kubernetes-session" && rest[0] != "kubernetes-application") {
			return fmt.Errorf("kubernetes-jobmanager.sh takes kubernetes-session or kubernetes-application first")
		}
		rest = rest[1:]
	case "standalone-job":
		var err error
		if rest, err = standaloneJobOptions(rest); err != nil {
			return err
		}
		if !slices.Equal(rest, jobArgs) {
			return fmt.Errorf("after the options come %q, want the job's arguments %q", rest, jobArgs)
		}
		return nil
	default:
		return fmt.Errorf("%q is no Flink command of the image's entrypoint (want one of %v)", args[0], flinkCommands)
	}
	return dynamicProperties(rest)
}

// dynamicProperties: "-D" "key=value" pairs and nothing else.
func dynamicProperties(args []string) error {
	for i := 0; i < len(args); i += 2 {
		if args[i] != "-D" {
			return fmt.Errorf("argument %d is %q, want -D (a first argument other than -D is jobmanager.sh's legacy <host>; write dynamic properties as \"-D\" \"key=value\")", i+1, args[i])
		}
		if i+1 == len(args) || !keyValue.MatchString(args[i+1]) {
			return fmt.Errorf("-D at argument %d is not followed by key=value", i+1)
		}
	}
	return nil
}

// standaloneJobOptions checks the options the charts give standalone-job and returns what follows
// them: commons-cli stops at the first argument it does not know, and the rest are the job's.
func standaloneJobOptions(args []string) ([]string, error) {
	for i := 0; i < len(args); i++ {
		switch a := args[i]; a {
		case "--job-classname", "--job-id", "--fromSavepoint":
			if i+1 == len(args) || strings.HasPrefix(args[i+1], "-") {
				return nil, fmt.Errorf("%s has no value", a)
			}
			i++
		case "--allowNonRestoredState":
		case "-D":
			if err := dynamicProperties(args[i : i+min(2, len(args)-i)]); err != nil {
				return nil, err
			}
			i++
		default:
			if strings.HasPrefix(a, "-D") {
				return nil, fmt.Errorf("%q: write dynamic properties as \"-D\" \"key=value\", as jobmanager.sh needs them", a)
			}
			return args[i:], nil
		}
	}
	return nil, nil
}

// ciJobArgs are job.args of a values file (flink-job's default: none).
func ciJobArgs(t *testing.T, file string) []string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Job struct {
			Args []string `json:"args"`
		} `json:"job"`
	}
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return v.Job.Args
}
