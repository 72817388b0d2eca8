package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// prepareKubectl runs a kubectl container as the pod would: its command and args, its env, and
// a kubeconfig holding a token of the pod's ServiceAccount in the pod's namespace.
func (w *worker) prepareKubectl(ctx context.Context, pod *corev1.Pod) (*launch, error) {
	c := &pod.Spec.Containers[0]
	env, order, err := containerEnv(ctx, w.r.cs, pod, c)
	if err != nil {
		return nil, err
	}
	kubeconfig, err := w.serviceAccountKubeconfig(ctx, pod)
	if err != nil {
		return nil, err
	}
	binds, fresh, err := w.containerMounts(ctx, pod, c, nil)
	if err != nil {
		return nil, err
	}
	l, err := commandLaunch(w, c, w.r.kubectl, env, order, nil, "PATH="+os.Getenv("PATH"), "HOME="+w.dir, "KUBECONFIG="+kubeconfig)
	if err != nil {
		return nil, err
	}
	l.binds, l.fresh = binds, fresh
	return l, nil
}

// serviceAccountKubeconfig writes a kubeconfig holding a token of the pod's ServiceAccount, in the
// pod's namespace: what the pod's processes get instead of an in-cluster config, so that RBAC
// decides what they may do, as in a real cluster.
func (w *worker) serviceAccountKubeconfig(ctx context.Context, pod *corev1.Pod) (string, error) {
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	expiry := int64(24 * 3600)
	tok, err := w.r.cs.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa,
		&authv1.TokenRequest{Spec: authv1.TokenRequestSpec{ExpirationSeconds: &expiry}}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("token of service account %s: %w", sa, err)
	}
	if err := os.MkdirAll(w.dir, 0o755); err != nil {
		return "", err
	}
	// The CA goes in the kubeconfig itself: a file path of this machine may be hidden by a volume
	// in the process's mount namespace (a stack under /tmp, where the pod has its /tmp emptyDir).
	ca := w.r.rest.CAData
	if len(ca) == 0 && w.r.rest.CAFile != "" {
		if ca, err = os.ReadFile(w.r.rest.CAFile); err != nil {
			return "", err
		}
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["cluster"] = &clientcmdapi.Cluster{Server: w.r.rest.Host, CertificateAuthorityData: ca}
	kc.AuthInfos["sa"] = &clientcmdapi.AuthInfo{Token: tok.Status.Token}
	kc.Contexts["pod"] = &clientcmdapi.Context{Cluster: "cluster", AuthInfo: "sa", Namespace: pod.Namespace}
	kc.CurrentContext = "pod"
	path := filepath.Join(w.dir, "kubeconfig")
	return path, clientcmd.WriteToFile(*kc, path)
}
