//go:build e2e

package e2e

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// env is the stack every test of the run shares.
var env struct {
	root       string
	kubeconfig string
	cfg        *rest.Config
	cs         kubernetes.Interface
	dyn        dynamic.Interface
	versions   map[string]string // FLINK1_VERSION, FLINK2_VERSION… from ci/versions.sh
}

func TestMain(m *testing.M) {
	// Helm's SDK logs on the standard logger: noise here.
	log.SetOutput(io.Discard)
	os.Exit(run(m))
}

func run(m *testing.M) int {
	root, err := filepath.Abs("..")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	env.root = root
	wasUp := exec.Command("bash", filepath.Join(root, "ci/stack.sh"), "status").Run() == nil
	up := exec.Command("bash", filepath.Join(root, "ci/stack.sh"), "up")
	up.Stdout, up.Stderr = os.Stdout, os.Stderr
	if err := up.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: the local stack did not come up:", err)
		return 1
	}
	// One stack per test run: a stack this run started is stopped at its end (KEEP_STACK=1 keeps it).
	if !wasUp && os.Getenv("KEEP_STACK") == "" {
		defer func() {
			down := exec.Command("bash", filepath.Join(root, "ci/stack.sh"), "down")
			down.Stdout, down.Stderr = os.Stdout, os.Stderr
			_ = down.Run()
		}()
	}
	// Plain helm installs a checkout's chart once its library is built in (helm flink does not
	// need it): what the README says to run first.
	deps := exec.Command("make", "-C", root, "chart-deps")
	deps.Stdout, deps.Stderr = os.Stdout, os.Stderr
	if err := deps.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: make chart-deps:", err)
		return 1
	}
	if err := setup(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	return m.Run()
}

func setup() error {
	env.kubeconfig = filepath.Join(env.root, ".cache/stack/kubeconfig")
	var err error
	if env.cfg, err = clientcmd.BuildConfigFromFlags("", env.kubeconfig); err != nil {
		return err
	}
	env.cfg.QPS, env.cfg.Burst = 50, 100
	if env.cs, err = kubernetes.NewForConfig(env.cfg); err != nil {
		return err
	}
	if env.dyn, err = dynamic.NewForConfig(env.cfg); err != nil {
		return err
	}
	env.versions, err = readVersions(filepath.Join(env.root, "ci/versions.sh"))
	return err
}

func readVersions(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && !strings.HasPrefix(k, "#") && !strings.Contains(v, "$") {
			out[k] = v
		}
	}
	return out, sc.Err()
}
