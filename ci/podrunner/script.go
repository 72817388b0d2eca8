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
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// A container whose command is bash (the charts' `helm test` pods) runs its script with this
// machine's bash; an init container whose command is a shell (the chart's jar fetcher) runs with
// this machine's shell. Cluster addresses — `<service>[.<namespace>[.svc[.cluster.local]]]:<port>`
// as a whole env value, or the host of a URL anywhere in the env or the command line — are
// rewritten to the local port of a ready pod behind that Service, as cluster DNS and the Service
// would route them. The script sees the pod's volumes at their mount paths (its own mount
// namespace, see mountns.go).
const roleScript = "bash"

var (
	serviceAddress = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]*[a-z0-9])?)(\.([a-z0-9-]+))?(\.svc(\.cluster\.local)?)?:([0-9]+)$`)
	serviceURL     = regexp.MustCompile(`\b([a-z][a-z0-9+.-]*)://([a-z0-9]([-a-z0-9]*[a-z0-9])?)(\.([a-z0-9-]+))?(\.svc(\.cluster\.local)?)?(:([0-9]+))?`)
	schemePorts    = map[string]int32{"http": 80, "https": 443}
)

// shells are the commands an init container may have to be run for real.
var shells = map[string]bool{"sh": true, "bash": true, "/bin/sh": true, "/bin/bash": true}

func (w *worker) prepareScript(ctx context.Context, pod *corev1.Pod) (*launch, error) {
	c := &pod.Spec.Containers[0]
	path := os.Getenv("PATH")
	if version, err := w.r.flinkVersionOf(pod); err == nil {
		// A script in a Flink image has the image's `flink` CLI on its PATH.
		bin, err := w.writeFlinkCLI(version)
		if err != nil {
			return nil, err
		}
		path = bin + ":" + path
	}
	return w.scriptLaunch(ctx, pod, c, "PATH="+path, "HOME="+w.dir)
}

// scriptLaunch runs a shell container (command[0] is sh or bash) with this machine's shell: its
// env, and its command and args with $(VAR)s expanded, with cluster addresses rewritten to what
// they reach on this machine, in a mount namespace with the container's volumes.
func (w *worker) scriptLaunch(ctx context.Context, pod *corev1.Pod, c *corev1.Container, base ...string) (*launch, error) {
	env, order, err := containerEnv(ctx, w.r.cs, pod, c)
	if err != nil {
		return nil, err
	}
	binds, fresh, err := w.containerMounts(ctx, pod, c, nil)
	if err != nil {
		return nil, err
	}
	rewrite := func(s string) (string, error) {
		return w.r.rewriteAddresses(ctx, pod.Namespace, s)
	}
	l, err := commandLaunch(w, c, c.Command[0], env, order, rewrite, base...)
	if err != nil {
		return nil, err
	}
	l.binds, l.fresh = binds, fresh
	// A working directory on a volume is the script's; the image's folders are not on this machine.
	if c.WorkingDir != "" && onBind(c.WorkingDir, binds) {
		l.dir = c.WorkingDir
	}
	return l, nil
}

// rewriteAddresses rewrites the cluster addresses in s (a whole `<service>…:<port>` value, or the
// host and port of URLs) to 127.0.0.1:<local port>. A name that is no Service is left alone: it
// is a host outside the cluster, as cluster DNS would treat it.
func (r *runner) rewriteAddresses(ctx context.Context, ns, s string) (string, error) {
	if m := serviceAddress.FindStringSubmatch(s); m != nil {
		port, _ := strconv.Atoi(m[7])
		local, err := r.serviceLocal(ctx, ns, m[1], m[4], int32(port))
		if err != nil || local == 0 {
			return s, err
		}
		return fmt.Sprintf("%s:%d", podIP, local), nil
	}
	var b strings.Builder
	last := 0
	for _, m := range serviceURL.FindAllStringSubmatchIndex(s, -1) {
		end := m[1]
		if end < len(s) && (nameChar(s[end]) || s[end] == ':') {
			continue // a longer host name (repo.example.com) or a port that is not a number
		}
		sub := func(i int) string {
			if m[2*i] < 0 {
				return ""
			}
			return s[m[2*i]:m[2*i+1]]
		}
		port, ok := schemePorts[sub(1)]
		if sub(9) != "" {
			p, _ := strconv.Atoi(sub(9))
			port, ok = int32(p), true
		}
		if !ok {
			continue
		}
		local, err := r.serviceLocal(ctx, ns, sub(2), sub(5), port)
		if err != nil {
			return "", fmt.Errorf("%s: %w", s[m[0]:m[1]], err)
		}
		if local == 0 {
			continue
		}
		b.WriteString(s[last:m[0]])
		fmt.Fprintf(&b, "%s://%s:%d", sub(1), podIP, local)
		last = end
	}
	b.WriteString(s[last:])
	return b.String(), nil
}

// serviceLocal is the local port a Service's port reaches, or 0 when there is no such Service.
func (r *runner) serviceLocal(ctx context.Context, ns, name, inNS string, port int32) (int32, error) {
	if inNS != "" {
		ns = inNS
	}
	local, err := r.resolveService(ctx, ns, name, port)
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	return local, err
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
		if w.ns != ns || w.removing || !sel.Matches(w.labels) || !w.snapshot().Ready {
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
	b.WriteString("#!/usr/bin/env bash\n# flink CLI of Flink " + version + " (pod runner)\nargs=()\nfor a in \"$@\"; do\n  case \"$(basename -- \"$a\")\" in\n")
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
