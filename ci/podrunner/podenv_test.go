package main

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// FLINK_PROPERTIES reach Flink only where the image's entrypoint can write the configuration file:
// not on the charts' ConfigMap mount, which a kubelet mounts read-only.
func TestConfReadOnly(t *testing.T) {
	yes := true
	pod := &corev1.Pod{Spec: corev1.PodSpec{Volumes: []corev1.Volume{
		{Name: "flink-config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}},
		{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	}}}
	for _, tc := range []struct {
		name     string
		c        corev1.Container
		readOnly bool
	}{
		{"ConfigMap at the conf dir", corev1.Container{VolumeMounts: []corev1.VolumeMount{{Name: "flink-config", MountPath: "/opt/flink/conf"}}}, true},
		{"config.yaml by subPath", corev1.Container{VolumeMounts: []corev1.VolumeMount{{Name: "flink-config", MountPath: "/opt/flink/conf/config.yaml", SubPath: "config.yaml"}}}, true},
		{"log4j by subPath", corev1.Container{VolumeMounts: []corev1.VolumeMount{{Name: "flink-config", MountPath: "/opt/flink/conf/log4j-console.properties", SubPath: "log4j-console.properties"}}}, false},
		{"emptyDir at the conf dir", corev1.Container{VolumeMounts: []corev1.VolumeMount{{Name: "scratch", MountPath: "/opt/flink/conf/"}}}, false},
		{"emptyDir mounted read-only", corev1.Container{VolumeMounts: []corev1.VolumeMount{{Name: "scratch", MountPath: "/opt/flink/conf", ReadOnly: true}}}, true},
		{"the image's conf", corev1.Container{}, false},
		{"the image's conf, read-only root", corev1.Container{SecurityContext: &corev1.SecurityContext{ReadOnlyRootFilesystem: &yes}}, true},
	} {
		if got := confReadOnly(pod, &tc.c, "/opt/flink/conf"); (got != "") != tc.readOnly {
			t.Errorf("%s: %q, want read-only %v", tc.name, got, tc.readOnly)
		}
	}
}
