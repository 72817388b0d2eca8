package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// A container whose command is bash (the charts' `helm test` pods) runs its script with this
// machine's bash. Cluster addresses in its env — `<service>[.<namespace>[.svc[.cluster.local]]]:<port>` —
// are rewritten to the local port of a ready pod behind that Service, as cluster DNS and the
// Service would route them.
const roleScript = "bash"

var serviceAddress = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]*[a-z0-9])?)(\.([a-z0-9-]+))?(\.svc(\.cluster\.local)?)?:([0-9]+)$`)

func (w *worker) prepareScript(ctx context.Context, pod *corev1.Pod) (*launch, error) {
	c := &pod.Spec.Containers[0]
	env, order, err := containerEnv(ctx, w.r.cs, pod, c)
	if err != nil {
		return nil, err
	}
	for k, v := range env {
		m := serviceAddress.FindStringSubmatch(v)
		if m == nil {
			continue
		}
		ns := pod.Namespace
		if m[4] != "" {
			ns = m[4]
		}
		port, _ := strconv.Atoi(m[7])
		local, err := w.r.resolveService(ctx, ns, m[1], int32(port))
		if err != nil {
			return nil, fmt.Errorf("env %s=%s: %w", k, v, err)
		}
		env[k] = fmt.Sprintf("%s:%d", podIP, local)
	}
	path := os.Getenv("PATH")
	if version, err := w.r.flinkVersionOf(pod); err == nil {
		// A script in a Flink image has the image's `flink` CLI on its PATH.
		bin, err := w.writeFlinkCLI(version)
		if err != nil {
			return nil, err
		}
		path = bin + ":" + path
	}
	return commandLaunch(w, c, "bash", env, order, "PATH="+path, "HOME="+w.dir), nil
}

// resolveService finds the local port that a Service's port reaches: its targetPort on a ready
// runner-run pod its selector matches.
func (r *runner) resolveService(ctx context.Context, ns, name string, port int32) (int32, error) {
	svc, err := r.cs.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return 0, err
	}
	var target *intstr.IntOrString
	for _, p := range svc.Spec.Ports {
		if p.Port == port {
			t := p.TargetPort
			target = &t
		}
	}
	if target == nil {
		return 0, fmt.Errorf("service %s/%s has no port %d", ns, name, port)
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, w := range r.workers {
		if w.ns != ns || !sel.Matches(w.labels) || !w.snapshot().Ready {
			continue
		}
		want := target.IntVal
		if target.Type == intstr.String {
			want = w.containerPorts[target.StrVal]
		}
		if want == 0 {
			want = port
		}
		for key, declared := range w.declaredPort {
			if declared == want {
				return w.localPort[key], nil
			}
		}
	}
	return 0, &errWaiting{fmt.Sprintf("no ready pod serves service %s/%s port %d", ns, name, port)}
}

// namedPorts maps a container's port names to numbers, for Services that target a port by name.
func namedPorts(c *corev1.Container) map[string]int32 {
	out := map[string]int32{}
	for _, p := range c.Ports {
		if p.Name != "" {
			out[p.Name] = p.ContainerPort
		}
	}
	return out
}

// writeFlinkCLI writes a `flink` command for the pod: Flink's CliFrontend of the given release,
// with jars of the image (by an example's name) mapped to the example jobs.
func (w *worker) writeFlinkCLI(version string) (string, error) {
	bin, conf := filepath.Join(w.dir, "bin"), filepath.Join(w.dir, "conf")
	for _, d := range []string{bin, conf} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", err
		}
	}
	if err := os.WriteFile(filepath.Join(conf, "config.yaml"), []byte("# client configuration: options come on the command line\n"), 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(conf, "log4j-cli.properties"), []byte(defaultLog4j), 0o644); err != nil {
		return "", err
	}
	examples := filepath.Join(w.r.flinkCache, version, "examples")
	var b strings.Builder
	b.WriteString("#!/usr/bin/env bash\n# flink CLI of Flink " + version + " (pod runner)\nargs=()\nfor a in \"$@\"; do\n  case \"$(basename \"$a\")\" in\n")
	for _, n := range exampleNames {
		fmt.Fprintf(&b, "    %s.jar) a=%q ;;\n", n, filepath.Join(examples, n+".jar"))
	}
	b.WriteString("  esac\n  args+=(\"$a\")\ndone\n")
	fmt.Fprintf(&b, "export FLINK_CONF_DIR=%q\nexec %q %s -Dlog4j.configurationFile=file:%s -cp %q org.apache.flink.client.cli.CliFrontend \"${args[@]}\"\n",
		conf, w.r.java, strings.Join(jvmOptions("client"), " "), filepath.Join(conf, "log4j-cli.properties"),
		filepath.Join(w.r.flinkCache, version, "lib", "*"))
	p := filepath.Join(bin, "flink")
	return bin, os.WriteFile(p, []byte(b.String()), 0o755)
}
