// Command provisioner is the stack's storage provisioner, working as an external provisioner does:
// the stack's default StorageClass (ci/kwok/storageclass.yaml) names it, kube-controller-manager's
// PV controller marks each claim of that class for it (volume.kubernetes.io/storage-provisioner),
// it creates a hostPath PersistentVolume for the claim — a folder of its own on the node, which is
// this machine — and the PV controller binds the two. A released volume of reclaim policy Delete
// (its claim was deleted) is deleted with its folder. It is what kind's local-path-provisioner does
// for a one-node cluster, without the helper pods: the node's folders are this machine's.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "provisioner:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		p          provisioner
		kubeconfig string
	)
	flag.StringVar(&kubeconfig, "kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the stack's API server")
	flag.StringVar(&p.root, "root", "", "folder under which each claim's volume is a folder <namespace>/<claim>-<uid prefix>")
	flag.StringVar(&p.name, "name", defaultName, "provisioner name of the StorageClass whose claims are provisioned")
	flag.Parse()
	if p.root == "" {
		return fmt.Errorf("--root is required")
	}
	root, err := filepath.Abs(p.root)
	if err != nil {
		return err
	}
	p.root = root
	if err := os.MkdirAll(p.root, 0o755); err != nil {
		return err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	if p.cs, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	p.log = log.New(os.Stderr, "", log.LstdFlags|log.Lmicroseconds)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	f := informers.NewSharedInformerFactory(p.cs, 10*time.Minute)
	synced, err := p.watch(ctx, f)
	if err != nil {
		return err
	}
	f.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return fmt.Errorf("claims and volumes did not sync")
	}
	p.log.Printf("provisioning volumes of %s under %s", p.name, p.root)
	<-ctx.Done()
	return nil
}
