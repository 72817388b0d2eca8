// Package kube is what the plugin does with the Kubernetes API beyond Helm: watches and port-forwards.
//
// Pods are waited for with watches (saying why one cannot start, with its container's log), and
// reached through port-forwards via the API server, as kubectl port-forward does.
package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
)

// PortForward is a listener on 127.0.0.1:LocalPort whose connections reach a pod's port through
// the API server's pods/portforward subresource, like `kubectl port-forward`. The forward breaks
// with its connection to the API server (a restart, a cut); the listener stays and the next
// connection dials a new forward, so a client polling the pod sees one failed request, not a
// closed port for the rest of a wait.
type PortForward struct {
	LocalPort int
	ln        net.Listener
	open      func() (*tunnel, error)

	dial   sync.Mutex // held while a tunnel is dialled
	mu     sync.Mutex
	cur    *tunnel
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup // the accept loop and the connections it serves
	once   sync.Once
	quit   chan struct{} // closed by Close
}

// LocalPortError is a local port the forward cannot listen on (taken, not allowed).
type LocalPortError struct {
	Port int
	Err  error
}

func (e *LocalPortError) Error() string { return fmt.Sprintf("local port %d: %v", e.Port, e.Err) }
func (e *LocalPortError) Unwrap() error { return e.Err }

// A tunnel is one client-go forward, listening on its own local port.
type tunnel struct {
	port int
	stop chan struct{}
	done chan struct{} // closed when forwarding has ended
	once sync.Once
}

func (t *tunnel) close() {
	t.once.Do(func() { close(t.stop) })
	<-t.done
}

func (t *tunnel) ended() bool {
	select {
	case <-t.done:
		return true
	default:
		return false
	}
}

// URL is the http address of the forwarded port.
func (p *PortForward) URL() string { return "http://127.0.0.1:" + strconv.Itoa(p.LocalPort) }

// Close stops forwarding: the listener, the connections it serves and the forward; it returns
// once they have all ended. Safe to call more than once.
func (p *PortForward) Close() {
	p.once.Do(func() {
		p.mu.Lock()
		p.closed = true
		close(p.quit)
		_ = p.ln.Close()
		for c := range p.conns {
			_ = c.Close()
		}
		cur := p.cur
		p.mu.Unlock()
		if cur != nil {
			cur.close()
		}
	})
	p.wg.Wait()
}

// ForwardPort opens a port-forward to namespace/pod's port on local port local of 127.0.0.1 (0:
// a free one). The first forward is dialled before it returns, so a refusal (forbidden, no such
// pod) is its error; the forward ends with ctx (Ctrl-C) or Close.
func ForwardPort(ctx context.Context, cfg *rest.Config, namespace, pod string, port, local int) (*PortForward, error) {
	what := fmt.Sprintf("%s/%s:%d", namespace, pod, port)
	transport, upgrader, err := spdy.RoundTripperFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("port-forward %s: %w", what, err)
	}
	host, err := url.Parse(cfg.Host)
	if err != nil {
		return nil, fmt.Errorf("port-forward: API server address %q: %w", cfg.Host, err)
	}
	u := host.JoinPath(cfg.APIPath, "api", "v1", "namespaces", namespace, "pods", pod, "portforward")
	client := &http.Client{Transport: transport}
	open := func() (*tunnel, error) {
		return dialTunnel(ctx, spdy.NewDialer(upgrader, client, http.MethodPost, u), port)
	}
	return forward(ctx, what, local, open)
}

// forward listens on local port local (0: a free one) and serves it through the tunnels open
// dials, the first at once.
func forward(ctx context.Context, what string, local int, open func() (*tunnel, error)) (*PortForward, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(local))
	if err != nil {
		return nil, fmt.Errorf("port-forward %s: %w", what, &LocalPortError{Port: local, Err: err})
	}
	first, err := open()
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("port-forward %s: %w", what, err)
	}
	p := &PortForward{
		LocalPort: ln.Addr().(*net.TCPAddr).Port,
		ln:        ln, open: open, cur: first,
		conns: map[net.Conn]struct{}{}, quit: make(chan struct{}),
	}
	p.wg.Add(1)
	go p.serve()
	go func() {
		select {
		case <-ctx.Done():
			p.Close()
		case <-p.quit:
		}
	}()
	return p, nil
}

func (p *PortForward) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			_ = c.Close()
			return
		}
		p.conns[c] = struct{}{}
		p.wg.Add(1)
		p.mu.Unlock()
		go func() {
			defer p.wg.Done()
			defer p.untrack(c)
			p.relay(c)
		}()
	}
}

// relay carries one local connection through the current tunnel, dialling a new one when it has
// ended. A connection that finds no way through is closed: its client sees a failed request.
func (p *PortForward) relay(c net.Conn) {
	t, err := p.tunnel()
	if err != nil {
		return
	}
	up, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(t.port))
	if err != nil {
		return
	}
	if !p.track(up) {
		_ = up.Close()
		return
	}
	defer p.untrack(up)
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); closeWrite(up); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); closeWrite(c); done <- struct{}{} }()
	<-done
	<-done
}

// track records a connection for Close to cut; false once closed.
func (p *PortForward) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *PortForward) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	_ = c.Close()
}

func closeWrite(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
}

var errClosed = errors.New("port-forward closed")

// tunnel is the live tunnel, dialled anew when the last one has ended; one dial at a time, and
// Close does not wait for it.
func (p *PortForward) tunnel() (*tunnel, error) {
	p.dial.Lock()
	defer p.dial.Unlock()
	p.mu.Lock()
	cur, closed := p.cur, p.closed
	p.mu.Unlock()
	if closed {
		return nil, errClosed
	}
	if cur != nil && !cur.ended() {
		return cur, nil
	}
	t, err := p.open()
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	closed = p.closed
	if !closed {
		p.cur = t
	}
	p.mu.Unlock()
	if closed {
		t.close()
		return nil, errClosed
	}
	return t, nil
}

// dialTunnel starts one client-go forward to port on a free port of 127.0.0.1 and returns once
// it listens.
func dialTunnel(ctx context.Context, dialer httpstream.Dialer, port int) (*tunnel, error) {
	t := &tunnel{stop: make(chan struct{}), done: make(chan struct{})}
	ready := make(chan struct{})
	fw, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{"0:" + strconv.Itoa(port)}, t.stop, ready, io.Discard, io.Discard)
	if err != nil {
		return nil, err
	}
	var ferr error
	go func() {
		ferr = fw.ForwardPorts()
		close(t.done)
	}()
	select {
	case <-ready:
	case <-t.done:
		if ferr == nil {
			ferr = errors.New("forward ended before it listened")
		}
		return nil, ferr
	case <-ctx.Done():
		t.close()
		return nil, ctx.Err()
	}
	ports, err := fw.GetPorts()
	if err != nil || len(ports) == 0 {
		t.close()
		return nil, errors.New("no local port")
	}
	t.port = int(ports[0].Local)
	return t, nil
}
