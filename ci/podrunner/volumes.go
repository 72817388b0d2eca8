package main

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// flinkUsrlib is where the official Flink image looks for an application's jars.
const flinkUsrlib = "/opt/flink/usrlib"

// usrlibVolume names the volume a Flink container mounts at its usrlib (the chart's emptyDir that
// an init container fetches the job's jar into), or "" when the image's own usrlib is used.
func usrlibVolume(pod *corev1.Pod) string {
	switch flinkRole(pod) {
	case roleJobManager, roleTaskManager, roleApplication:
	default:
		return ""
	}
	for _, m := range pod.Spec.Containers[0].VolumeMounts {
		if path.Clean(m.MountPath) == flinkUsrlib && m.SubPath == "" {
			return m.Name
		}
	}
	return ""
}

// volumeDir is the host folder of one of the pod's volumes. The volume a Flink container mounts
// at usrlib is the Flink process's own usrlib, so what an init container writes there is what
// the JVM loads.
func (w *worker) volumeDir(name string) string {
	if name != "" && name == w.usrlib {
		return filepath.Join(w.dir, "usrlib")
	}
	return filepath.Join(w.dir, "volumes", name)
}

// mounts maps a container's mount paths to host folders of the pod. emptyDir volumes are folders
// every container of the pod shares, as on a node (an init container's output is the main
// container's input); configMap, secret and projected volumes are written out as files, binary
// data included. Other volume types are left unmapped: the process sees the host's path.
func (w *worker) mounts(ctx context.Context, pod *corev1.Pod, c *corev1.Container) (map[string]string, error) {
	vols := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		vols[v.Name] = v
	}
	out := map[string]string{}
	for _, m := range c.VolumeMounts {
		v, ok := vols[m.Name]
		if !ok {
			return nil, fmt.Errorf("volumeMount %s: no such volume", m.Name)
		}
		dir := w.volumeDir(v.Name)
		switch {
		case v.EmptyDir != nil:
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, err
			}
		case v.ConfigMap != nil || v.Secret != nil || v.Projected != nil:
			files, err := w.volumeContent(ctx, pod.Namespace, v)
			if err != nil {
				return nil, fmt.Errorf("volume %s: %w", v.Name, err)
			}
			if err := writeFiles(dir, files); err != nil {
				return nil, fmt.Errorf("volume %s: %w", v.Name, err)
			}
		default:
			continue
		}
		out[path.Clean(m.MountPath)] = filepath.Join(dir, filepath.FromSlash(m.SubPath))
	}
	return out, nil
}

// volumeContent is the files of a configMap, secret or projected volume, as the kubelet would
// project them (items select and rename keys).
func (w *worker) volumeContent(ctx context.Context, ns string, v corev1.Volume) (map[string][]byte, error) {
	files := map[string][]byte{}
	add := func(data map[string][]byte, items []corev1.KeyToPath) {
		if len(items) == 0 {
			for k, d := range data {
				files[k] = d
			}
			return
		}
		for _, it := range items {
			if d, ok := data[it.Key]; ok {
				files[it.Path] = d
			}
		}
	}
	configMap := func(name string, items []corev1.KeyToPath, optional *bool) error {
		cm, err := w.r.cs.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			if optional != nil && *optional {
				return nil
			}
			return fmt.Errorf("configMap %s: %w", name, err)
		}
		data := map[string][]byte{}
		for k, d := range cm.Data {
			data[k] = []byte(d)
		}
		for k, d := range cm.BinaryData {
			data[k] = d
		}
		add(data, items)
		return nil
	}
	secret := func(name string, items []corev1.KeyToPath, optional *bool) error {
		s, err := w.r.cs.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			if optional != nil && *optional {
				return nil
			}
			return fmt.Errorf("secret %s: %w", name, err)
		}
		add(s.Data, items)
		return nil
	}
	switch {
	case v.ConfigMap != nil:
		return files, configMap(v.ConfigMap.Name, v.ConfigMap.Items, v.ConfigMap.Optional)
	case v.Secret != nil:
		return files, secret(v.Secret.SecretName, v.Secret.Items, v.Secret.Optional)
	}
	// Projected: ConfigMaps and Secrets; a ServiceAccount token or downward API file is not written.
	for _, s := range v.Projected.Sources {
		var err error
		switch {
		case s.ConfigMap != nil:
			err = configMap(s.ConfigMap.Name, s.ConfigMap.Items, s.ConfigMap.Optional)
		case s.Secret != nil:
			err = secret(s.Secret.Name, s.Secret.Items, s.Secret.Optional)
		}
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

func writeFiles(dir string, files map[string][]byte) error {
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, content, 0o644); err != nil {
			return err
		}
	}
	return os.MkdirAll(dir, 0o755)
}

// rewritePaths replaces mount paths in s with the host folders behind them, as whole path
// components: /opt/flink/usrlib and /opt/flink/usrlib/x.jar are rewritten, /opt/flink/usrlib2 and
// /data/opt/flink/usrlib are not. The longest mount path wins (a mount inside another).
func rewritePaths(s string, mounts map[string]string) string {
	if len(mounts) == 0 {
		return s
	}
	paths := make([]string, 0, len(mounts))
	for p := range mounts {
		paths = append(paths, p)
	}
	sort.Slice(paths, func(i, j int) bool { return len(paths[i]) > len(paths[j]) })
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] == '/' && (i == 0 || !nameChar(s[i-1])) {
			matched := false
			for _, p := range paths {
				end := i + len(p)
				if p == "/" || !strings.HasPrefix(s[i:], p) || (end < len(s) && s[end] != '/' && nameChar(s[end])) {
					continue
				}
				b.WriteString(mounts[p])
				i, matched = end, true
				break
			}
			if matched {
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// nameChar tells whether c can be part of a file name, so that a path next to it is not a whole one.
func nameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._-~", c) >= 0
}
