package main

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

var stackVersions = map[string]string{"1.20": "1.20.0", "2.3": "2.3.0", "2": "2.3.0"}

func TestFlinkVersionFor(t *testing.T) {
	for image, want := range map[string]string{
		"flink:1.20-java17":                   "1.20.0",
		"flink:1.20.3-scala_2.12-java11":      "1.20.0",
		"docker.io/library/flink:2.3-java17":  "2.3.0",
		"registry:5000/team/flink:2.1.1":      "2.3.0",
		"flink:2.3@sha256:0123456789abcdef00": "2.3.0",
	} {
		got, err := flinkVersionFor(image, stackVersions)
		if err != nil || got != want {
			t.Errorf("flinkVersionFor(%q) = %q, %v; want %q", image, got, err, want)
		}
	}
	for _, image := range []string{"flink", "flink:latest", "flink:1.17-java11", "registry:5000/flink"} {
		if v, err := flinkVersionFor(image, stackVersions); err == nil {
			t.Errorf("flinkVersionFor(%q) = %q, want an error", image, v)
		}
	}
}

func TestFlinkRoleFollowsFirstArg(t *testing.T) {
	pod := func(args ...string) *corev1.Pod {
		return &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Args: args}}}}
	}
	for want, p := range map[string]*corev1.Pod{
		"jobmanager":     pod("jobmanager"),
		"taskmanager":    pod("taskmanager", "-Dx=y"),
		"standalone-job": pod("standalone-job", "--job-classname", "C"),
		"":               pod("bash", "-c", "jobmanager"),
	} {
		if got := flinkRole(p); got != want {
			t.Errorf("flinkRole(%v) = %q, want %q", p.Spec.Containers[0].Args, got, want)
		}
	}
	if flinkRole(&corev1.Pod{}) != "" {
		t.Error("a pod without containers is not a Flink pod")
	}
}

func TestExampleFor(t *testing.T) {
	for ref, want := range map[string]string{
		"local:///opt/flink/usrlib/TopSpeedWindowing.jar":                 "TopSpeedWindowing",
		"/opt/flink/examples/streaming/WordCount.jar":                     "WordCount",
		"org.apache.flink.streaming.examples.join.WindowJoin":             "WindowJoin",
		"org.apache.flink.streaming.examples.windowing.TopSpeedWindowing": "TopSpeedWindowing",
		"local:///opt/flink/usrlib/my-job.jar":                            "",
	} {
		if got := exampleFor(ref); got != want {
			t.Errorf("exampleFor(%q) = %q, want %q", ref, got, want)
		}
	}
}

func TestExpandVars(t *testing.T) {
	env := map[string]string{"POD_IP": "127.0.0.1", "NAME": "jm"}
	for in, want := range map[string]string{
		"-Djobmanager.rpc.address=$(POD_IP)": "-Djobmanager.rpc.address=127.0.0.1",
		"$(NAME)-$(MISSING)":                 "jm-$(MISSING)",
		"$$(POD_IP)":                         "$(POD_IP)",
		"plain":                              "plain",
	} {
		if got := expandVars(in, env); got != want {
			t.Errorf("expandVars(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseConfigYAMLFlattensNestedAndFlatKeys(t *testing.T) {
	conf, err := parseConfigYAML([]byte(`
jobmanager:
  rpc:
    address: flink-jobmanager
    port: 6123
taskmanager.numberOfTaskSlots: 2
metrics:
  reporter:
    prom:
      port: 9249
pipeline:
  jars: [a.jar, b.jar]
`))
	if err != nil {
		t.Fatal(err)
	}
	want := flinkConf{
		"jobmanager.rpc.address": "flink-jobmanager", "jobmanager.rpc.port": "6123",
		"taskmanager.numberOfTaskSlots": "2", "metrics.reporter.prom.port": "9249", "pipeline.jars": "a.jar;b.jar",
	}
	if !reflect.DeepEqual(conf, want) {
		t.Fatalf("got %v\nwant %v", conf, want)
	}
	if _, err := parseConfigYAML([]byte("a: [")); err == nil {
		t.Fatal("broken YAML must fail")
	}
}

func TestParseFlatConf(t *testing.T) {
	got := parseFlatConf("# comment\njobmanager.rpc.address: jm\n\nrest.port: '8081'\nnot a pair\n")
	want := flinkConf{"jobmanager.rpc.address": "jm", "rest.port": "8081"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestPortsOf(t *testing.T) {
	got := portsOf(roleJobManager, flinkConf{"rest.port": "8082", "metrics.reporter.prom.port": "9249"})
	want := map[string]int32{"rest.port": 8082, "jobmanager.rpc.port": 6123, "blob.server.port": 6124, "metrics.reporter.prom.port": 9249}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if got := portsOf(roleTaskManager, flinkConf{}); !reflect.DeepEqual(got, map[string]int32{"taskmanager.rpc.port": 6122, "taskmanager.data.port": 6121}) {
		t.Fatalf("taskmanager ports %v", got)
	}
}

func TestDynamicPropertyHandling(t *testing.T) {
	into := flinkConf{}
	rest, err := parseEntryArgs(roleApplication, "1.20.0", []string{"-Da=1", "--job-classname", "C", "-D", "b=2", "--host", "x"}, into)
	if err != nil || !reflect.DeepEqual(rest, []string{"--job-classname", "C", "--host", "x"}) || !reflect.DeepEqual(into, flinkConf{"a": "1", "b": "2"}) {
		t.Fatalf("rest %v, props %v, %v", rest, into, err)
	}
	if got := dropHostArg(rest); !reflect.DeepEqual(got, []string{"--job-classname", "C"}) {
		t.Fatalf("dropHostArg: %v", got)
	}
	if got := (flinkConf{"b": "2", "a": "1"}).dynamicProperties(); !reflect.DeepEqual(got, []string{"-Da=1", "-Db=2"}) {
		t.Fatalf("dynamicProperties not sorted: %v", got)
	}
}

// State paths are not rewritten: the runner mounts what the process sees there.
func TestStatePaths(t *testing.T) {
	conf := flinkConf{
		"state.savepoints.dir":         "file:///flink-data/savepoints",
		"state.checkpoints.dir":        "s3://bucket/checkpoints",
		"high-availability.storageDir": "/ha/storage/",
		"execution.checkpointing.dir":  "file:/cp",
		"rest.port":                    "8081",
	}
	got := statePaths(conf, []string{"--job-classname", "C", "--fromSavepoint", "file:///sp/savepoint-1", "-s", "hdfs://nn/x"})
	want := []string{"/flink-data/savepoints", "/cp", "/ha/storage", "/sp/savepoint-1"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("statePaths = %v, want %v", got, want)
	}
	for in, want := range map[string]string{"file:///a/b": "/a/b", "/a/../c": "/c", "s3://b/x": "", "relative/x": "", "file:relative": ""} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestResourceValue(t *testing.T) {
	c := &corev1.Container{Resources: corev1.ResourceRequirements{
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1600Mi")},
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")},
	}}
	for _, tc := range []struct {
		res, divisor, want string
	}{
		{"limits.memory", "1Mi", "1600"},
		{"limits.memory", "", "1677721600"},
		{"requests.cpu", "1", "1"},
		{"requests.cpu", "1m", "500"},
		{"limits.cpu", "", "0"},
	} {
		ref := &corev1.ResourceFieldSelector{Resource: tc.res}
		if tc.divisor != "" {
			ref.Divisor = resource.MustParse(tc.divisor)
		}
		got, err := resourceValue(c, ref)
		if err != nil || got != tc.want {
			t.Errorf("%s / %s = %q, %v; want %q", tc.res, tc.divisor, got, err, tc.want)
		}
	}
}
