// Package kube is what the plugin does with the Kubernetes API beyond Helm: watches and port-forwards.
//
// Pods are waited for with watches (saying why one cannot start, with its container's log), and
// reached through port-forwards via the API server, as kubectl port-forward does.
package kube

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
)

// PortForward is an open port-forward from 127.0.0.1:LocalPort to a pod's port, through the API
// server's pods/portforward subresource, like `kubectl port-forward`.
type PortForward struct {
	LocalPort int
	stop      chan struct{}
	once      sync.Once
	done      chan struct{} // closed when forwarding has ended
	err       error
}

// URL is the http address of the forwarded port.
func (p *PortForward) URL() string { return "http://127.0.0.1:" + strconv.Itoa(p.LocalPort) }

// Close stops forwarding and waits until the listener is closed.
func (p *PortForward) Close() {
	p.once.Do(func() { close(p.stop) })
	<-p.done
}

// ForwardPort opens a port-forward to namespace/pod's port on a free local port.
func ForwardPort(ctx context.Context, cfg *rest.Config, namespace, pod string, port int) (*PortForward, error) {
	transport, upgrader, err := spdy.RoundTripperFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("port-forward %s/%s: %w", namespace, pod, err)
	}
	host, err := url.Parse(cfg.Host)
	if err != nil {
		return nil, fmt.Errorf("port-forward: API server address %q: %w", cfg.Host, err)
	}
	u := host.JoinPath(cfg.APIPath, "api", "v1", "namespaces", namespace, "pods", pod, "portforward")
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, u)
	pf := &PortForward{stop: make(chan struct{}), done: make(chan struct{})}
	ready := make(chan struct{})
	fw, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{"0:" + strconv.Itoa(port)}, pf.stop, ready, io.Discard, io.Discard)
	if err != nil {
		return nil, fmt.Errorf("port-forward %s/%s: %w", namespace, pod, err)
	}
	go func() {
		pf.err = fw.ForwardPorts()
		close(pf.done)
	}()
	select {
	case <-ready:
	case <-pf.done:
		return nil, fmt.Errorf("port-forward %s/%s:%d: %w", namespace, pod, port, pf.err)
	case <-ctx.Done():
		pf.Close()
		return nil, fmt.Errorf("port-forward %s/%s:%d: %w", namespace, pod, port, ctx.Err())
	}
	ports, err := fw.GetPorts()
	if err != nil || len(ports) == 0 {
		pf.Close()
		return nil, fmt.Errorf("port-forward %s/%s:%d: no local port", namespace, pod, port)
	}
	pf.LocalPort = int(ports[0].Local)
	go func() {
		// The forward also ends with the caller's context (Ctrl-C).
		select {
		case <-ctx.Done():
			pf.Close()
		case <-pf.done:
		}
	}()
	return pf, nil
}
