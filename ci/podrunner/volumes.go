package main

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// flinkUsrlib is where the official Flink image looks for an application's jars.
const flinkUsrlib = "/opt/flink/usrlib"

// usrlibVolume names the volume a Flink container mounts at its usrlib (the chart's emptyDir that
// an init container fetches the job's jar into), or "" when the image's own usrlib is used.
func usrlibVolume(pod *corev1.Pod) string {
	if r := flinkRole(pod); !isJobManager(r) && !isTaskManager(r) {
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

// containerMounts is the mount table of one of the pod's containers: each volume at its mount
// path, and the container's own folders (see privateBinds) at /flink-data and at the local paths
// given (the state paths of its Flink config), under <pod>/rootfs/<container>. Those are fresh
// at every start of the container: what it wrote outside its volumes is gone, as on a node.
func (w *worker) containerMounts(ctx context.Context, pod *corev1.Pod, c *corev1.Container, paths []string) (binds []bindMount, fresh string, err error) {
	volumes, err := w.volumeBinds(ctx, pod, c)
	if err != nil {
		return nil, "", err
	}
	fresh = filepath.Join(w.dir, "rootfs", c.Name)
	return privateBinds(volumes, paths, fresh), fresh, nil
}

// volumeBinds maps a container's volume mounts to host folders of the pod. emptyDir volumes are
// folders every container of the pod shares, as on a node (an init container's output is the
// main container's input); configMap, secret and projected volumes are written out as files,
// binary data included, and mounted read-only; a persistentVolumeClaim is the folder of the
// hostPath PersistentVolume bound to it, shared by every pod that mounts the claim (a pod waits
// while its claim is missing or unbound); a hostPath volume is that host path. Other volume
// types are not mounted.
func (w *worker) volumeBinds(ctx context.Context, pod *corev1.Pod, c *corev1.Container) ([]bindMount, error) {
	vols := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		vols[v.Name] = v
	}
	var out []bindMount
	for _, m := range c.VolumeMounts {
		v, ok := vols[m.Name]
		if !ok {
			return nil, fmt.Errorf("volumeMount %s: no such volume", m.Name)
		}
		dir := w.volumeDir(v.Name)
		readOnly := m.ReadOnly
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
			readOnly = true
		case v.PersistentVolumeClaim != nil:
			d, err := w.r.claimDir(ctx, pod.Namespace, v.PersistentVolumeClaim.ClaimName)
			if err != nil {
				return nil, fmt.Errorf("volume %s: %w", v.Name, err)
			}
			dir, readOnly = d, readOnly || v.PersistentVolumeClaim.ReadOnly
		case v.HostPath != nil:
			dir = v.HostPath.Path
			if err := hostPathReady(v.HostPath); err != nil {
				return nil, fmt.Errorf("volume %s: %w", v.Name, err)
			}
		default:
			continue
		}
		src := dir
		if m.SubPath != "" {
			src = filepath.Join(dir, filepath.FromSlash(m.SubPath))
			if _, err := os.Stat(src); os.IsNotExist(err) && v.ConfigMap == nil && v.Secret == nil && v.Projected == nil {
				// The kubelet creates a missing subPath of a writable volume as a folder.
				if err := os.MkdirAll(src, 0o755); err != nil {
					return nil, err
				}
			} else if err != nil {
				return nil, fmt.Errorf("volume %s: subPath %s: %w", v.Name, m.SubPath, err)
			}
		}
		out = append(out, bindMount{src: src, dst: path.Clean(m.MountPath), readOnly: readOnly})
	}
	return out, nil
}

// hostPathReady checks (or creates) a hostPath volume's path by its type, as the kubelet does.
func hostPathReady(h *corev1.HostPathVolumeSource) error {
	t := corev1.HostPathUnset
	if h.Type != nil {
		t = *h.Type
	}
	fi, err := os.Stat(h.Path)
	switch {
	case err == nil && (t == corev1.HostPathDirectory || t == corev1.HostPathDirectoryOrCreate) && !fi.IsDir():
		return fmt.Errorf("hostPath %s is not a directory", h.Path)
	case err == nil:
		return nil
	case !os.IsNotExist(err):
		return err
	case t == corev1.HostPathUnset || t == corev1.HostPathDirectoryOrCreate:
		return os.MkdirAll(h.Path, 0o755)
	case t == corev1.HostPathFileOrCreate:
		if err := os.MkdirAll(filepath.Dir(h.Path), 0o755); err != nil {
			return err
		}
		f, err := os.OpenFile(h.Path, os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		return f.Close()
	}
	return fmt.Errorf("hostPath %s: %w", h.Path, err)
}

// mountTable is a container's mounts as GET /processes reports them: mount path → host folder.
func mountTable(binds []bindMount) map[string]string {
	out := map[string]string{}
	for _, b := range binds {
		out[b.dst] = b.src
	}
	return out
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
			return missing("configmap", name, err)
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
			return missing("secret", name, err)
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

// missing is a failed read of a volume's ConfigMap or Secret: one that does not exist (yet) is
// waited for, as the kubelet retries the mount.
func missing(kind, name string, err error) error {
	if apierrors.IsNotFound(err) {
		return &errWaiting{fmt.Sprintf("%s %q not found", kind, name)}
	}
	return fmt.Errorf("%s %s: %w", kind, name, err)
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

// nameChar tells whether c can be part of a file name, so that a path next to it is not a whole one.
func nameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._-~", c) >= 0
}
