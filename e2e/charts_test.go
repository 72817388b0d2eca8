//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/getter"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/restmapper"
)

// helmConfig is the Helm SDK pointed at the stack, for one namespace.
func helmConfig(t *testing.T, ns string) *action.Configuration {
	t.Helper()
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig, flags.Namespace = &env.kubeconfig, &ns
	cfg := new(action.Configuration)
	if err := cfg.Init(flags, ns, "secret", func(string, ...any) {}); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func chartValues(t *testing.T, files ...string) map[string]any {
	t.Helper()
	vals, err := (&values.Options{ValueFiles: files}).MergeValues(getter.Providers{})
	if err != nil {
		t.Fatal(err)
	}
	return vals
}

// dryRunStrict sends every object of a manifest to the API server as a server-side dry run with
// strict field validation: unknown or duplicate fields and admission (Pod Security) fail it.
func dryRunStrict(t *testing.T, ns, manifest string) {
	t.Helper()
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(env.cs.Discovery()))
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(manifest), 4096)
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) {
				return
			}
			t.Fatal(err)
		}
		if obj == nil {
			continue
		}
		u := &unstructured.Unstructured{Object: obj}
		m, err := mapper.RESTMapping(u.GroupVersionKind().GroupKind(), u.GroupVersionKind().Version)
		if err != nil {
			t.Fatalf("%s: %v", u.GetKind(), err)
		}
		if _, err := env.dyn.Resource(m.Resource).Namespace(ns).Create(t.Context(), u,
			metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict"}); err != nil {
			t.Fatalf("server-side dry run of %s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}
}

// restrictedNamespace is a test namespace that enforces Pod Security Standard restricted.
func restrictedNamespace(t *testing.T) string {
	ns := newNamespace(t)
	patch := `{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"restricted","pod-security.kubernetes.io/enforce-version":"latest"}}}`
	if _, err := env.cs.CoreV1().Namespaces().Patch(t.Context(), ns, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	return ns
}

// Every values set of the session chart: server dry run, install, real Flink boots with the
// rendered config, uninstall leaves nothing.
func TestSessionChartValuesSets(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(env.root, "charts/flink-session/ci/*-values.yaml"))
	if len(files) == 0 {
		t.Fatal("no values sets")
	}
	installPodMonitorCRD(t)
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), "-values.yaml")
		t.Run(name, func(t *testing.T) {
			ns := restrictedNamespace(t)
			chart, err := loader.Load(filepath.Join(env.root, "charts/flink-session"))
			if err != nil {
				t.Fatal(err)
			}
			vals := chartValues(t, file)
			cfg := helmConfig(t, ns)

			dry := action.NewInstall(cfg)
			dry.ReleaseName, dry.Namespace, dry.DryRun, dry.DryRunOption = "flink", ns, true, "server"
			rel, err := dry.Run(chart, vals)
			if err != nil {
				t.Fatalf("dry run: %v", err)
			}
			dryRunStrict(t, ns, rel.Manifest)

			install := action.NewInstall(cfg)
			install.ReleaseName, install.Namespace = "flink", ns
			install.Wait, install.Timeout = true, 3*time.Minute
			if _, err := install.Run(chart, vals); err != nil {
				t.Fatalf("install: %v", err)
			}
			all, err := chartutil.CoalesceValues(chart, vals)
			if err != nil {
				t.Fatal(err)
			}
			tmValues, _ := all.Table("taskmanager")
			tms := int(tmValues["replicas"].(float64))
			sel := "app.kubernetes.io/instance=flink,app.kubernetes.io/component="
			jm := waitPods(t, ns, sel+"jobmanager", podTimeout, "JobManagers ready", func(p []corev1.Pod) bool { return len(p) > 0 && allReady(len(p))(p) })
			waitPods(t, ns, sel+"taskmanager", podTimeout, "TaskManagers ready", allReady(tms))

			leader := jm[0].Name
			if len(jm) > 1 {
				leader = haLeader(t, ns, jm)
			}
			rest := forwardREST(t, ns, leader)
			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()
			eventually(t, ctx, fmt.Sprintf("%d TaskManagers registered", tms), func() (bool, string) {
				var o overview
				rest.get("/overview", &o)
				return o.TaskManagers == tms, fmt.Sprintf("%+v", o)
			})

			uninstall := action.NewUninstall(cfg)
			uninstall.Wait, uninstall.Timeout = true, 2*time.Minute
			if _, err := uninstall.Run("flink"); err != nil {
				t.Fatalf("uninstall: %v", err)
			}
			assertNothingLeft(t, ns)
		})
	}
}

// haLeader is the JobManager pod that leads (the others are standbys without a REST leader).
func haLeader(t *testing.T, ns string, jms []corev1.Pod) string {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var leader string
	eventually(t, ctx, "a JobManager leads", func() (bool, string) {
		for _, p := range processes(t, ns) {
			if p.Role != "jobmanager" || !p.Ready {
				continue
			}
			for _, pod := range jms {
				if pod.Name == p.Pod && leaderAt(p.Ports["rest.port"]) {
					leader = pod.Name
					return true, ""
				}
			}
		}
		return false, "no leader yet"
	})
	return leader
}

func assertNothingLeft(t *testing.T, ns string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	eventually(t, ctx, "no object of the release is left", func() (bool, string) {
		var left []string
		pods, _ := env.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		for _, p := range pods.Items {
			left = append(left, "pod/"+p.Name)
		}
		cms, _ := env.cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
		for _, c := range cms.Items {
			if c.Name != "kube-root-ca.crt" {
				left = append(left, "configmap/"+c.Name)
			}
		}
		svcs, _ := env.cs.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
		for _, s := range svcs.Items {
			left = append(left, "service/"+s.Name)
		}
		secrets, _ := env.cs.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
		for _, s := range secrets.Items {
			left = append(left, "secret/"+s.Name)
		}
		return len(left) == 0, strings.Join(left, ", ")
	})
}

func installPodMonitorCRD(t *testing.T) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(env.root, "e2e/testdata/podmonitor-crd.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	apply(t, "", string(data))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	eventually(t, ctx, "the PodMonitor API is served", func() (bool, string) {
		_, err := env.cs.Discovery().ServerResourcesForGroupVersion("monitoring.coreos.com/v1")
		return err == nil, fmt.Sprint(err)
	})
}
