package main

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

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
// byte for byte and mounted read-only; the Flink container's usrlib volume is the process's usrlib;
// a hostPath is itself; the container has its own /flink-data (with a volume mounted inside it).
func TestContainerMountsMapVolumesToPodFolders(t *testing.T) {
	jar := []byte{0x50, 0x4b, 0x03, 0x04, 0xff, 0x00}
	cs := fake.NewClientset(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "jars", Namespace: "ns"},
		Data: map[string]string{"README": "jars"}, BinaryData: map[string][]byte{"Job.jar": jar}})
	w := &worker{r: &runner{cs: cs}, dir: t.TempDir(), usrlib: "usrlib"}
	host := t.TempDir()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}, Spec: corev1.PodSpec{Volumes: []corev1.Volume{
		{Name: "usrlib", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: "srv", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "jars"}}}},
		{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: host}}},
		{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: "token", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{}}},
	}}}
	c := &corev1.Container{Name: "main", VolumeMounts: []corev1.VolumeMount{
		{Name: "usrlib", MountPath: "/opt/flink/usrlib"}, {Name: "srv", MountPath: "/srv/"},
		{Name: "srv", MountPath: "/etc/readme", SubPath: "README"}, {Name: "host", MountPath: "/host", ReadOnly: true},
		{Name: "scratch", MountPath: "/flink-data/scratch", SubPath: "sub"}, {Name: "token", MountPath: "/var/run/x"},
	}}
	binds, fresh, err := w.containerMounts(t.Context(), pod, c, []string{"/ckpt/a", "/srv/state", "/var/flink/ha"})
	if err != nil {
		t.Fatal(err)
	}
	if fresh != filepath.Join(w.dir, "rootfs", "main") {
		t.Errorf("private folders in %s", fresh)
	}
	want := []bindMount{
		{src: filepath.Join(fresh, "flink-data"), dst: "/flink-data"},
		{src: filepath.Join(fresh, "ckpt"), dst: "/ckpt"},
		{src: filepath.Join(fresh, "var", "flink"), dst: "/var/flink"},
		{src: filepath.Join(w.dir, "usrlib"), dst: "/opt/flink/usrlib"},
		{src: filepath.Join(w.dir, "volumes", "srv"), dst: "/srv", readOnly: true},
		{src: filepath.Join(w.dir, "volumes", "srv", "README"), dst: "/etc/readme", readOnly: true},
		{src: host, dst: "/host", readOnly: true},
		{src: filepath.Join(w.dir, "volumes", "scratch", "sub"), dst: "/flink-data/scratch"},
	}
	if !reflect.DeepEqual(binds, want) {
		t.Fatalf("binds\n%+v\nwant\n%+v", binds, want)
	}
	if got, err := os.ReadFile(filepath.Join(w.dir, "volumes", "srv", "Job.jar")); err != nil || string(got) != string(jar) {
		t.Errorf("binaryData Job.jar = %v, %v; want %v", got, err, jar)
	}
	for _, d := range []string{filepath.Join(w.dir, "usrlib"), filepath.Join(w.dir, "volumes", "scratch", "sub")} {
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			t.Errorf("%s is not a folder: %v", d, err)
		}
	}
	if _, _, err := w.containerMounts(t.Context(), pod, &corev1.Container{VolumeMounts: []corev1.VolumeMount{{Name: "nope", MountPath: "/x"}}}, nil); err == nil {
		t.Error("a mount of a volume the pod lacks must fail")
	}
	// A volume at /flink-data is the container's /flink-data.
	pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
	binds, _, err = w.containerMounts(t.Context(), pod, &corev1.Container{Name: "main", VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/flink-data"}}}, []string{"/flink-data/savepoints"})
	if err != nil || len(binds) != 1 || binds[0].dst != "/flink-data" || binds[0].src != filepath.Join(w.dir, "volumes", "data") {
		t.Fatalf("a volume at /flink-data: %+v, %v", binds, err)
	}
}

// A missing ConfigMap is waited for, as the kubelet retries the mount.
func TestMissingConfigMapVolumeWaits(t *testing.T) {
	w := &worker{r: &runner{cs: fake.NewClientset()}, dir: t.TempDir()}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}, Spec: corev1.PodSpec{Volumes: []corev1.Volume{
		{Name: "ca", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}}}}}}},
	}}}
	_, _, err := w.containerMounts(t.Context(), pod, &corev1.Container{VolumeMounts: []corev1.VolumeMount{{Name: "ca", MountPath: "/var/run/secrets/x"}}}, nil)
	var wait *errWaiting
	if !errors.As(err, &wait) {
		t.Fatalf("err %v, want errWaiting", err)
	}
}
