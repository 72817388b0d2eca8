// Package cluster reaches the Flink cluster of a release: it finds a ready JobManager pod, opens a
// port-forward to its REST port through the API server and hands out a Flink REST client.
package cluster

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/helm-flink/helm-flink/plugin/flink"
	"github.com/helm-flink/helm-flink/plugin/kube"
)

// DefaultRESTPort is Flink's rest.port, used when the JobManager container names no "rest" port.
const DefaultRESTPort = 8081

// Cluster is a connection to a release's JobManager REST API.
type Cluster struct {
	Namespace string
	Release   string
	// Pod is the JobManager pod forwarded to; empty with a --rest-url.
	Pod  string
	REST *flink.Client
	// Kube is the client the cluster was found with.
	Kube kubernetes.Interface
	// URL is the base URL the REST client talks to.
	URL string
	pf  *kube.PortForward
}

// Close stops the port-forward, if any. Safe to call more than once.
func (c *Cluster) Close() {
	if c != nil && c.pf != nil {
		c.pf.Close()
	}
}

// Connect reaches release's JobManager: restURL when set, else a port-forward to a ready
// JobManager pod's REST port.
func Connect(ctx context.Context, cs kubernetes.Interface, cfg *rest.Config, ns, release, restURL string) (*Cluster, error) {
	c := &Cluster{Namespace: ns, Release: release, Kube: cs}
	if restURL != "" {
		c.URL, c.REST = restURL, flink.New(restURL)
		return c, nil
	}
	pod, err := kube.ReadyPod(ctx, cs, ns, kube.Selector(release, kube.JobManager))
	if err != nil {
		return nil, fmt.Errorf("jobmanager of release %q: %w", release, err)
	}
	port := restPort(pod)
	pf, err := kube.ForwardPort(ctx, cfg, ns, pod.Name, port)
	if err != nil {
		return nil, fmt.Errorf("port-forward to %s/%s:%d: %w", ns, pod.Name, port, err)
	}
	c.Pod, c.pf, c.URL, c.REST = pod.Name, pf, pf.URL(), flink.New(pf.URL())
	return c, nil
}

func restPort(p *corev1.Pod) int {
	for _, c := range p.Spec.Containers {
		for _, port := range c.Ports {
			if port.Name == "rest" || port.Name == "http" {
				return int(port.ContainerPort)
			}
		}
	}
	return DefaultRESTPort
}

// WaitTaskManagers polls the JobManager until want TaskManagers have registered, calling progress
// when the count changes. Flink has no watch API, so this one wait polls.
func (c *Cluster) WaitTaskManagers(ctx context.Context, want int, progress func(registered, want int)) error {
	last := -1
	var lastErr error
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		ov, err := c.REST.Overview(ctx)
		if err == nil {
			lastErr = nil
			if ov.TaskManagers != last && progress != nil {
				progress(ov.TaskManagers, want)
			}
			last = ov.TaskManagers
			if ov.TaskManagers >= want {
				return nil
			}
		} else {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return fmt.Errorf("taskmanagers registered: unknown (last error: %v): %w", lastErr, context.Cause(ctx))
			}
			return fmt.Errorf("%d/%d taskmanagers registered: %w", max(last, 0), want, context.Cause(ctx))
		case <-tick.C:
		}
	}
}

// UIHint tells how to open the Flink UI: a port-forward to the release's REST service, whose
// name (unlike a pod's) stays the same.
func UIHint(ctx context.Context, cs kubernetes.Interface, ns, release string) string {
	svcs, err := cs.CoreV1().Services(ns).List(ctx, metav1.ListOptions{LabelSelector: kube.Selector(release, "")})
	if err == nil {
		for _, s := range svcs.Items {
			if strings.HasSuffix(s.Name, "-rest") {
				return fmt.Sprintf("kubectl port-forward -n %s svc/%s 8081, then open http://localhost:8081", ns, s.Name)
			}
		}
	}
	return fmt.Sprintf("helm flink status %s -n %s", release, ns)
}
