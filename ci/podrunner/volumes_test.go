package main

import (
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestRewritePaths(t *testing.T) {
	mounts := map[string]string{"/opt/flink/usrlib": "/h/usrlib", "/opt/flink": "/h/flink", "/tmp": "/h/tmp"}
	for in, want := range map[string]string{
		`curl -o "/opt/flink/usrlib/Job.jar" x`:           `curl -o "/h/usrlib/Job.jar" x`,
		"/opt/flink/usrlib":                               "/h/usrlib",
		"/opt/flink/conf/a /opt/flink":                    "/h/flink/conf/a /h/flink",
		"file:///opt/flink/usrlib/a.jar":                  "file:///h/usrlib/a.jar",
		"/opt/flink/usrlib2 /data/opt/flink/usrlib x/tmp": "/h/flink/usrlib2 /data/opt/flink/usrlib x/tmp",
		"/tmpfoo /tmp":                                    "/tmpfoo /h/tmp",
		"TMPDIR=/tmp;cd /tmp/x":                           "TMPDIR=/h/tmp;cd /h/tmp/x",
		"echo \"sum  /opt/flink/usrlib/J.jar\"\n":         "echo \"sum  /h/usrlib/J.jar\"\n",
	} {
		if got := rewritePaths(in, mounts); got != want {
			t.Errorf("rewritePaths(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUsrlibVolumeIsTheFlinkContainersUsrlibMount(t *testing.T) {
	pod := func(args []string, mounts ...corev1.VolumeMount) *corev1.Pod {
		return &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Args: args, VolumeMounts: mounts}}}}
	}
	usrlib := corev1.VolumeMount{Name: "jars", MountPath: "/opt/flink/usrlib/"}
	for want, p := range map[string]*corev1.Pod{
		"jars": pod([]string{"standalone-job"}, corev1.VolumeMount{Name: "conf", MountPath: "/opt/flink/conf"}, usrlib),
		"":     pod([]string{"taskmanager"}, corev1.VolumeMount{Name: "jars", MountPath: "/opt/flink/usrlib/x.jar", SubPath: "x.jar"}),
	} {
		if got := usrlibVolume(p); got != want {
			t.Errorf("usrlibVolume(%v) = %q, want %q", p.Spec.Containers[0].VolumeMounts, got, want)
		}
	}
	if got := usrlibVolume(&corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Command: []string{"bash"}, VolumeMounts: []corev1.VolumeMount{usrlib}}}}}); got != "" {
		t.Errorf("a bash pod has no Flink usrlib, got %q", got)
	}
}

// emptyDirs are one folder per pod for all its containers; a ConfigMap's binaryData is written
// byte for byte; the Flink container's usrlib volume is the process's usrlib.
func TestMountsMapVolumesToPodFolders(t *testing.T) {
	jar := []byte{0x50, 0x4b, 0x03, 0x04, 0xff, 0x00}
	cs := fake.NewClientset(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "jars", Namespace: "ns"},
		Data: map[string]string{"README": "jars"}, BinaryData: map[string][]byte{"Job.jar": jar}})
	w := &worker{r: &runner{cs: cs}, dir: t.TempDir(), usrlib: "usrlib"}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}, Spec: corev1.PodSpec{Volumes: []corev1.Volume{
		{Name: "usrlib", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: "srv", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "jars"}}}},
		{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/x"}}},
	}}}
	c := &corev1.Container{VolumeMounts: []corev1.VolumeMount{
		{Name: "usrlib", MountPath: "/opt/flink/usrlib"}, {Name: "srv", MountPath: "/srv/"},
		{Name: "srv", MountPath: "/etc/readme", SubPath: "README"}, {Name: "host", MountPath: "/host"},
	}}
	m, err := w.mounts(t.Context(), pod, c)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"/opt/flink/usrlib": filepath.Join(w.dir, "usrlib"),
		"/srv":              filepath.Join(w.dir, "volumes", "srv"),
		"/etc/readme":       filepath.Join(w.dir, "volumes", "srv", "README"),
	}
	if len(m) != len(want) {
		t.Fatalf("mounts = %v, want %v", m, want)
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("mount %s → %q, want %q", k, m[k], v)
		}
	}
	if got, err := os.ReadFile(filepath.Join(w.dir, "volumes", "srv", "Job.jar")); err != nil || string(got) != string(jar) {
		t.Errorf("binaryData Job.jar = %v, %v; want %v", got, err, jar)
	}
	if fi, err := os.Stat(filepath.Join(w.dir, "usrlib")); err != nil || !fi.IsDir() {
		t.Errorf("the usrlib emptyDir is not a folder: %v", err)
	}
	if _, err := w.mounts(t.Context(), pod, &corev1.Container{VolumeMounts: []corev1.VolumeMount{{Name: "nope", MountPath: "/x"}}}); err == nil {
		t.Error("a mount of a volume the pod lacks must fail")
	}
}
