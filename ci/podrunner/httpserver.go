package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
)

// httpServerArgs is what the runner takes from `python3 -m http.server [port] [--bind A]
// [--directory D]`: the port it listens on and the folder it serves (the container's workingDir
// when not given).
type httpServerArgs struct {
	port      int32
	directory string
}

func parseHTTPServer(args []string, workingDir string) (httpServerArgs, error) {
	out := httpServerArgs{port: 8000, directory: workingDir}
	if len(args) < 2 || args[0] != "-m" || args[1] != "http.server" {
		return out, fmt.Errorf("the pod runner runs python3 only as `python3 -m http.server`, not %q", args)
	}
	for i := 2; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(a, "=")
		switch name {
		case "-b", "--bind", "-d", "--directory":
			if !hasValue {
				if i+1 >= len(args) {
					return out, fmt.Errorf("http.server: %s needs a value", a)
				}
				i++
				value = args[i]
			}
			if name == "-d" || name == "--directory" {
				out.directory = value
			}
			// The bind address is the runner's: the pod's address is 127.0.0.1.
		default:
			p, err := strconv.Atoi(a)
			if err != nil || p <= 0 || p > 65535 {
				return out, fmt.Errorf("http.server: option %q is not supported by the pod runner", a)
			}
			out.port = int32(p)
		}
	}
	if out.directory == "" {
		return out, fmt.Errorf("http.server: give --directory (or workingDir): the pod runner has no image file system to serve")
	}
	return out, nil
}

// prepareHTTPServer runs `python3 -m http.server` with this machine's python3 on a local port,
// serving the directory (on a volume: a ConfigMap of jars, say) in its mount namespace. The declared
// port is what Services reach, so `http://<service>.<namespace>.svc:<port>/x.jar` in another pod
// gets the file.
func (w *worker) prepareHTTPServer(ctx context.Context, pod *corev1.Pod) (*launch, error) {
	c := &pod.Spec.Containers[0]
	env, order, err := containerEnv(ctx, w.r.cs, pod, c)
	if err != nil {
		return nil, err
	}
	var args []string
	for _, a := range append(append([]string{}, c.Command[1:]...), c.Args...) {
		args = append(args, expandVars(a, env))
	}
	hs, err := parseHTTPServer(args, c.WorkingDir)
	if err != nil {
		return nil, err
	}
	binds, fresh, err := w.containerMounts(ctx, pod, c, nil)
	if err != nil {
		return nil, err
	}
	if !onBind(hs.directory, binds) {
		return nil, fmt.Errorf("http.server: directory %s is on no volume: the pod runner has no image file system to serve", hs.directory)
	}
	python, err := w.r.python3()
	if err != nil {
		return nil, err
	}
	if w.localPort == nil {
		local, err := freePort()
		if err != nil {
			return nil, err
		}
		w.declaredPort = map[string]int32{"http": hs.port}
		w.localPort = map[string]int32{"http": local}
		w.setInfo(func(i *processInfo) { i.Ports = w.localPort })
	}
	l := &launch{java: python, logFile: filepath.Join(w.dir, "log", c.Name+".log"), readinessKeys: []string{"http"},
		args:  []string{"-u", "-m", "http.server", strconv.Itoa(int(w.localPort["http"])), "--bind", podIP, "--directory", hs.directory},
		env:   []string{"PATH=" + os.Getenv("PATH"), "HOME=" + w.dir},
		binds: binds, fresh: fresh}
	for _, k := range order {
		l.env = append(l.env, k+"="+env[k])
	}
	return l, nil
}

var python3Once struct {
	sync.Once
	path string
	err  error
}

// python3 is the path of this machine's python3 interpreter itself: a version manager's shim on
// the PATH would not work with the pod's HOME.
func (r *runner) python3() (string, error) {
	python3Once.Do(func() {
		out, err := exec.Command(r.python, "-c", "import sys; print(sys.executable)").Output()
		if err != nil {
			python3Once.err = fmt.Errorf("python3 (%s) on this machine: %w", r.python, err)
			return
		}
		python3Once.path = strings.TrimSpace(string(out))
	})
	return python3Once.path, python3Once.err
}
