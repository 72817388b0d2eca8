package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

const podIP = "127.0.0.1"

// containerEnv resolves a container's env and envFrom the way the kubelet does, from the real
// API objects; status.podIP is the loopback address the process binds to.
func containerEnv(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod, c *corev1.Container) (map[string]string, []string, error) {
	env := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := env[k]; !ok {
			order = append(order, k)
		}
		env[k] = v
	}
	for _, ef := range c.EnvFrom {
		var data map[string]string
		switch {
		case ef.ConfigMapRef != nil:
			cm, err := cs.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, ef.ConfigMapRef.Name, metav1.GetOptions{})
			if err != nil {
				if ef.ConfigMapRef.Optional != nil && *ef.ConfigMapRef.Optional {
					continue
				}
				return nil, nil, fmt.Errorf("envFrom configMap %s: %w", ef.ConfigMapRef.Name, err)
			}
			data = cm.Data
		case ef.SecretRef != nil:
			s, err := cs.CoreV1().Secrets(pod.Namespace).Get(ctx, ef.SecretRef.Name, metav1.GetOptions{})
			if err != nil {
				if ef.SecretRef.Optional != nil && *ef.SecretRef.Optional {
					continue
				}
				return nil, nil, fmt.Errorf("envFrom secret %s: %w", ef.SecretRef.Name, err)
			}
			data = map[string]string{}
			for k, v := range s.Data {
				data[k] = string(v)
			}
		}
		for k, v := range data {
			set(ef.Prefix+k, v)
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			set(e.Name, expandVars(e.Value, env))
			continue
		}
		v, err := envValueFrom(ctx, cs, pod, c, e.ValueFrom)
		if err != nil {
			return nil, nil, fmt.Errorf("env %s: %w", e.Name, err)
		}
		set(e.Name, v)
	}
	return env, order, nil
}

func envValueFrom(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod, c *corev1.Container, src *corev1.EnvVarSource) (string, error) {
	switch {
	case src.FieldRef != nil:
		f := src.FieldRef.FieldPath
		switch {
		case f == "metadata.name":
			return pod.Name, nil
		case f == "metadata.namespace":
			return pod.Namespace, nil
		case f == "metadata.uid":
			return string(pod.UID), nil
		case f == "spec.nodeName":
			return pod.Spec.NodeName, nil
		case f == "spec.serviceAccountName":
			return pod.Spec.ServiceAccountName, nil
		case f == "status.podIP", f == "status.hostIP":
			return podIP, nil
		case strings.HasPrefix(f, "metadata.labels['"):
			return pod.Labels[strings.TrimSuffix(strings.TrimPrefix(f, "metadata.labels['"), "']")], nil
		case strings.HasPrefix(f, "metadata.annotations['"):
			return pod.Annotations[strings.TrimSuffix(strings.TrimPrefix(f, "metadata.annotations['"), "']")], nil
		}
		return "", fmt.Errorf("fieldRef %s is not supported by the pod runner", f)
	case src.ConfigMapKeyRef != nil:
		cm, err := cs.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, src.ConfigMapKeyRef.Name, metav1.GetOptions{})
		if err != nil {
			if src.ConfigMapKeyRef.Optional != nil && *src.ConfigMapKeyRef.Optional {
				return "", nil
			}
			return "", err
		}
		return cm.Data[src.ConfigMapKeyRef.Key], nil
	case src.SecretKeyRef != nil:
		s, err := cs.CoreV1().Secrets(pod.Namespace).Get(ctx, src.SecretKeyRef.Name, metav1.GetOptions{})
		if err != nil {
			if src.SecretKeyRef.Optional != nil && *src.SecretKeyRef.Optional {
				return "", nil
			}
			return "", err
		}
		return string(s.Data[src.SecretKeyRef.Key]), nil
	case src.ResourceFieldRef != nil:
		return resourceValue(c, src.ResourceFieldRef)
	}
	return "", fmt.Errorf("unsupported env source")
}

// confReadOnly says why the image's entrypoint cannot rewrite the container's Flink configuration,
// "" when it can: a ConfigMap, Secret, projected or read-only volume at the conf dir (kubelets
// mount the first three read-only), the configuration file mounted into it by subPath (which
// cannot be replaced), or the image's own conf dir on a read-only root file system.
func confReadOnly(pod *corev1.Pod, c *corev1.Container, confPath string) string {
	dir := path.Clean(confPath)
	for _, m := range c.VolumeMounts {
		mp := path.Clean(m.MountPath)
		confFile := path.Dir(mp) == dir && m.SubPath != "" && (path.Base(mp) == "config.yaml" || path.Base(mp) == "flink-conf.yaml")
		if mp != dir && !confFile {
			continue
		}
		if m.SubPath != "" {
			return fmt.Sprintf("%s is a file of volume %s mounted by subPath", mp, m.Name)
		}
		for _, v := range pod.Spec.Volumes {
			if v.Name == m.Name && (m.ReadOnly || v.ConfigMap != nil || v.Secret != nil || v.Projected != nil || v.DownwardAPI != nil) {
				return fmt.Sprintf("%s is volume %s, mounted read-only", mp, m.Name)
			}
		}
		return ""
	}
	if sc := c.SecurityContext; sc != nil && sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem {
		return fmt.Sprintf("%s is in the image, on a read-only root file system", dir)
	}
	return ""
}

// writeConfDir materialises what the container mounts at its Flink conf directory (a ConfigMap,
// a projected volume of ConfigMaps, or single files by subPath) into dir.
func writeConfDir(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod, c *corev1.Container, confPath, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	vols := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		vols[v.Name] = v
	}
	for _, m := range c.VolumeMounts {
		var target string // file name for a subPath mount, "" for a whole directory
		switch {
		case path.Clean(m.MountPath) == path.Clean(confPath):
		case path.Dir(path.Clean(m.MountPath)) == path.Clean(confPath) && m.SubPath != "":
			target = path.Base(m.MountPath)
		default:
			continue
		}
		v, ok := vols[m.Name]
		if !ok {
			return fmt.Errorf("volumeMount %s: no such volume", m.Name)
		}
		files, err := volumeFiles(ctx, cs, pod.Namespace, v)
		if err != nil {
			return fmt.Errorf("volume %s: %w", m.Name, err)
		}
		if target != "" {
			content, ok := files[m.SubPath]
			if !ok {
				return fmt.Errorf("volume %s has no key %s", m.Name, m.SubPath)
			}
			files = map[string]string{target: content}
		}
		for name, content := range files {
			p := filepath.Join(dir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

func volumeFiles(ctx context.Context, cs kubernetes.Interface, ns string, v corev1.Volume) (map[string]string, error) {
	files := map[string]string{}
	addCM := func(name string, items []corev1.KeyToPath, optional *bool) error {
		cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			if optional != nil && *optional {
				return nil
			}
			return fmt.Errorf("configMap %s: %w", name, err)
		}
		if len(items) == 0 {
			for k, d := range cm.Data {
				files[k] = d
			}
			return nil
		}
		for _, it := range items {
			files[it.Path] = cm.Data[it.Key]
		}
		return nil
	}
	switch {
	case v.ConfigMap != nil:
		return files, addCM(v.ConfigMap.Name, v.ConfigMap.Items, v.ConfigMap.Optional)
	case v.Projected != nil:
		for _, s := range v.Projected.Sources {
			if s.ConfigMap != nil {
				if err := addCM(s.ConfigMap.Name, s.ConfigMap.Items, s.ConfigMap.Optional); err != nil {
					return nil, err
				}
			}
		}
		return files, nil
	case v.EmptyDir != nil:
		return files, nil
	}
	return nil, fmt.Errorf("only configMap, projected and emptyDir volumes can hold the Flink config")
}

// resourceValue is a container's request or limit in units of the divisor, rounded up, as the
// kubelet computes it (the runner's own memory caps are separate).
func resourceValue(c *corev1.Container, ref *corev1.ResourceFieldSelector) (string, error) {
	kind, name, ok := strings.Cut(ref.Resource, ".")
	if !ok {
		return "", fmt.Errorf("resourceFieldRef %q", ref.Resource)
	}
	list := c.Resources.Limits
	if kind == "requests" {
		list = c.Resources.Requests
	}
	q, ok := list[corev1.ResourceName(name)]
	if !ok {
		return "0", nil
	}
	divisor := resource.MustParse("1")
	if !ref.Divisor.IsZero() {
		divisor = ref.Divisor
	}
	return strconv.FormatInt(int64(math.Ceil(float64(q.MilliValue())/float64(divisor.MilliValue()))), 10), nil
}
