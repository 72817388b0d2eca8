package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// The pods of Flink's native mode: the chart's JobManager runs kubernetes-jobmanager.sh, and the
// TaskManager pods Flink creates run the image's entrypoint with `bash -c "kubernetes-taskmanager.sh …"`.
func TestFlinkRoleOfNativePods(t *testing.T) {
	pod := func(command []string, args ...string) *corev1.Pod {
		return &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Command: command, Args: args}}}}
	}
	entry := []string{"/docker-entrypoint.sh"}
	for _, tc := range []struct {
		want string
		pod  *corev1.Pod
	}{
		{roleNativeSession, pod(nil, "kubernetes-jobmanager.sh", "kubernetes-session")},
		{roleNativeApplication, pod(nil, "kubernetes-jobmanager.sh", "kubernetes-application", "-Dx=y")},
		{roleNativeUnknown, pod(nil, "kubernetes-jobmanager.sh", "kubernetes-sesion")},
		{roleNativeUnknown, pod(nil, "kubernetes-jobmanager.sh")},
		{roleNativeTaskManager, pod(entry, "bash", "-c", "kubernetes-taskmanager.sh -Dtaskmanager.resource-id='c-taskmanager-1-1' -D x=y ")},
		{roleNativeTaskManager, pod(entry, "bash", "-c", "  kubernetes-taskmanager.sh")},
		{roleNativeSession, pod(entry, "bash", "-c", "kubernetes-jobmanager.sh kubernetes-session")},
		{"", pod(entry, "bash", "-c", "jobmanager")},
		{"", pod(entry, "bash", "-c")},
		{"", pod(entry, "bash", "-x", "kubernetes-taskmanager.sh")},
		{"", pod(entry, "bash", "-c", "\tkubernetes-taskmanager.sh")}, // kwok's split is at spaces only
		{roleScript, pod([]string{"bash", "-c"}, "kubernetes-taskmanager.sh")},
	} {
		if got := flinkRole(tc.pod); got != tc.want {
			t.Errorf("flinkRole(command %v, args %q) = %q, want %q", tc.pod.Spec.Containers[0].Command, tc.pod.Spec.Containers[0].Args, got, tc.want)
		}
	}
}

func TestShellWords(t *testing.T) {
	for in, want := range map[string][]string{
		`kubernetes-taskmanager.sh -Dtaskmanager.resource-id='c-taskmanager-1-1' -D a=b `: {"kubernetes-taskmanager.sh", "-Dtaskmanager.resource-id=c-taskmanager-1-1", "-D", "a=b"},
		`-Dk='it'\''s' "-Dq=a \"b\" \$c" x\ y ''`:                                         {"-Dk=it's", `-Dq=a "b" $c`, "x y", ""},
		"  a\t b\n": {"a", "b"},
	} {
		got, err := shellWords(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("shellWords(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{`a 'b`, `a "b`} {
		if _, err := shellWords(in); err == nil {
			t.Errorf("shellWords(%q): want an error", in)
		}
	}
}

func TestEntryArgs(t *testing.T) {
	env := map[string]string{"POD_IP": "127.0.0.1"}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"kubernetes-jobmanager.sh", "kubernetes-session", "-Da=$(POD_IP)"}, []string{"-Da=127.0.0.1"}},
		{[]string{"bash", "-c", "kubernetes-taskmanager.sh -Dtaskmanager.resource-id='p' -D b=c"}, []string{"-Dtaskmanager.resource-id=p", "-D", "b=c"}},
		{[]string{"bash", "-c", "kubernetes-jobmanager.sh kubernetes-application -Dx=y"}, []string{"-Dx=y"}},
		{[]string{"taskmanager", "-Dx=y"}, []string{"-Dx=y"}},
		{[]string{"standalone-job", "--job-classname", "C"}, []string{"--job-classname", "C"}},
	} {
		got, err := entryArgs(&corev1.Container{Args: tc.args}, env)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("entryArgs(%q) = %q, %v; want %q", tc.args, got, err, tc.want)
		}
	}
}

func TestPipelineJar(t *testing.T) {
	for in, want := range map[string]string{
		"local:///opt/flink/usrlib/TopSpeedWindowing.jar": "/opt/flink/usrlib/TopSpeedWindowing.jar",
		"/opt/flink/usrlib/../usrlib/a.jar;b.jar":         "/opt/flink/usrlib/a.jar",
		"file:///x/y.jar":    "/x/y.jar",
		"https://repo/x.jar": "",
		"":                   "",
	} {
		if got := pipelineJar(flinkConf{"pipeline.jars": in}); got != want {
			t.Errorf("pipelineJar(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNativeJVMMemory(t *testing.T) {
	env := map[string]string{"FLINK_TM_JVM_MEM_OPTS": "-Xmx161061270 -Xms161061270 -XX:MaxDirectMemorySize=201326592 -XX:MaxMetaspaceSize=268435456"}
	if got := nativeJVMMemory(env); got != "201326592" {
		t.Errorf("nativeJVMMemory = %q", got)
	}
	if got := nativeJVMMemory(nil); got != "512m" {
		t.Errorf("nativeJVMMemory without Flink's options = %q", got)
	}
}

// A native JobManager's runner rewrites go into its configuration file, so that they are not
// among what it hands its TaskManagers as -D arguments.
func TestWriteOverrides(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte("rest.port: 8081\njobmanager:\n  rpc:\n    address: c\npipeline.jars: [a.jar]\nkubernetes.cluster-id: c\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeOverrides(dir, flinkConf{"rest.port": "30001", "jobmanager.rpc.address": "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	conf, err := readConfDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := flinkConf{"rest.port": "30001", "jobmanager.rpc.address": "127.0.0.1", "pipeline.jars": "a.jar", "kubernetes.cluster-id": "c"}
	if !reflect.DeepEqual(conf, want) {
		t.Fatalf("config.yaml reads %v, want %v", conf, want)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "config.yaml"))
	if !strings.Contains(string(data), "pipeline.jars:\n- a.jar") {
		t.Fatalf("a list stays a list:\n%s", data)
	}

	legacy := t.TempDir()
	if err := os.WriteFile(filepath.Join(legacy, "flink-conf.yaml"), []byte("rest.port: 8081\na: b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeOverrides(legacy, flinkConf{"rest.port": "30001"}); err != nil {
		t.Fatal(err)
	}
	if conf, _ := readConfDir(legacy); !reflect.DeepEqual(conf, flinkConf{"rest.port": "30001", "a": "b"}) {
		t.Fatalf("flink-conf.yaml reads %v", conf)
	}
}
