// Command podrunner is the kubelet of the local stack for Flink pods: it runs each Flink pod of
// a labelled namespace as a real JobManager or TaskManager JVM on this machine, from the pod's
// own args and mounted Flink config, and reports the pod's status from that process.
// See ci/README.md.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == mountExecCmd {
		mountExecMain(os.Args[2:])
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "podrunner:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		r        runner
		versions string
		listen   string
	)
	flag.StringVar(&r.kubeconfig, "kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the stack's API server")
	flag.StringVar(&r.workdir, "workdir", "", "folder for the pods' files, logs and shared volumes")
	flag.StringVar(&r.flinkCache, "flink-cache", "", "folder with <version>/lib and <version>/examples (ci/fetch-flink.sh)")
	flag.StringVar(&versions, "flink-versions", "", "comma-separated Flink releases to serve, e.g. 1.20.5,2.3.0")
	flag.StringVar(&r.nsLabel, "namespace-label", "helm-flink.dev/pod-runner=enabled", "label of the namespaces whose Flink pods are run")
	flag.StringVar(&listen, "listen", "127.0.0.1:0", "address of the status endpoint (GET /processes)")
	flag.StringVar(&r.java, "java", "java", "java binary")
	flag.StringVar(&r.kubectl, "kubectl", "kubectl", "kubectl binary, for pods whose command is kubectl")
	flag.StringVar(&r.python, "python3", "python3", "python3 binary, for pods that run python3 -m http.server")
	flag.StringVar(&r.provisioner, "provisioner", defaultProvisioner, "provisioner name of the StorageClass whose claims the runner provisions")
	addrFile := flag.String("address-file", "", "write the status endpoint's address here once listening")
	flag.Parse()
	if r.workdir == "" || r.flinkCache == "" || versions == "" {
		return fmt.Errorf("--workdir, --flink-cache and --flink-versions are required")
	}
	r.versions = map[string]string{}
	for _, v := range strings.Split(versions, ",") {
		parts := strings.Split(v, ".")
		if len(parts) < 2 {
			return fmt.Errorf("--flink-versions: %q is not a Flink release", v)
		}
		r.versions[parts[0]+"."+parts[1]] = v
		if _, ok := r.versions[parts[0]]; !ok || parts[0] != "1" {
			r.versions[parts[0]] = v // 2.x images run on the 2.x release
		}
	}
	if _, err := exec.LookPath(r.java); err != nil {
		return fmt.Errorf("java: %w", err)
	}
	for _, p := range []*string{&r.workdir, &r.flinkCache} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return err
		}
		*p = abs
	}
	if err := checkMountNamespaces(); err != nil {
		return err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", r.kubeconfig)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = 100, 200
	r.rest = cfg
	if r.cs, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	if r.dyn, err = dynamic.NewForConfig(cfg); err != nil {
		return err
	}
	if err := os.MkdirAll(r.workdir, 0o755); err != nil {
		return err
	}
	r.log = log.New(os.Stderr, "", log.LstdFlags|log.Lmicroseconds)

	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /processes", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(r.processes())
	})
	go func() { _ = http.Serve(ln, mux) }()
	if *addrFile != "" {
		if err := os.WriteFile(*addrFile, []byte(ln.Addr().String()), 0o644); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return r.run(ctx)
}

// checkMountNamespaces runs `true` the way the runner starts every pod's process: in a mount
// namespace of its own, with a bind mount (as root).
func checkMountNamespaces() error {
	self, err := selfExe()
	if err != nil {
		return err
	}
	tr, err := exec.LookPath("true")
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "podrunner-check-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cmd := exec.Command(self, mountExecArgs([]bindMount{{src: dir, dst: dir, readOnly: true}}, nil, dir, tr, "true", nil)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("the pod runner runs every pod's processes in a mount namespace of their own with the pod's volumes "+
			"bind-mounted, which needs root (CAP_SYS_ADMIN): %v %s", err, out)
	}
	return nil
}
