package kube

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
)

// tunnels stands in for the API server's side of a forward: each tunnel leads to one HTTP
// server's port, ends when cut (as a forward does when its connection to the API server breaks),
// and the next dial fails while refuse is set.
type tunnels struct {
	mu     sync.Mutex
	port   int
	opened []*tunnel
	refuse bool
}

func (ts *tunnels) open() (*tunnel, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.refuse {
		return nil, errors.New("connection refused")
	}
	t := &tunnel{port: ts.port, stop: make(chan struct{}), done: make(chan struct{})}
	go func() { <-t.stop; close(t.done) }()
	ts.opened = append(ts.opened, t)
	return t, nil
}

func (ts *tunnels) count() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return len(ts.opened)
}

func (ts *tunnels) cut() {
	ts.mu.Lock()
	t := ts.opened[len(ts.opened)-1]
	ts.mu.Unlock()
	t.close()
}

func TestPortForwardDialsAgainAfterACut(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	defer srv.Close()
	ts := &tunnels{port: srv.Listener.Addr().(*net.TCPAddr).Port}
	pf, err := forward(t.Context(), "ns/pod:8081", 0, ts.open)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	get := func() error {
		resp, err := client.Get(pf.URL())
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil && string(b) != "ok" {
			err = errors.New("body " + strconv.Quote(string(b)))
		}
		return err
	}

	if err := get(); err != nil || ts.count() != 1 {
		t.Fatalf("first request: %v, %d tunnels; want ok through the first", err, ts.count())
	}
	ts.cut()
	if err := get(); err != nil || ts.count() != 2 {
		t.Fatalf("after a cut: %v, %d tunnels; want ok through a second on the same local port", err, ts.count())
	}
	ts.cut()
	ts.mu.Lock()
	ts.refuse = true
	ts.mu.Unlock()
	if err := get(); err == nil {
		t.Fatal("a request while no tunnel can be dialled succeeded")
	}
	ts.mu.Lock()
	ts.refuse = false
	ts.mu.Unlock()
	if err := get(); err != nil || ts.count() != 3 {
		t.Fatalf("once the API server answers again: %v, %d tunnels; want ok through a third", err, ts.count())
	}
}

func TestPortForwardCloseLeavesNothing(t *testing.T) {
	// A server that holds its connection open: Close must cut it, not wait for it.
	held := make(chan struct{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		close(held)
		_, _ = io.Copy(io.Discard, c)
		c.Close()
	}()
	ts := &tunnels{port: ln.Addr().(*net.TCPAddr).Port}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pf, err := forward(ctx, "ns/pod:8081", 0, ts.open)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(pf.LocalPort))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	<-held
	cancel() // as Ctrl-C does
	pf.Close()
	if !ts.opened[0].ended() {
		t.Error("the tunnel is still open after Close")
	}
	if len(pf.conns) != 0 {
		t.Errorf("%d connections left after Close", len(pf.conns))
	}
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("the local connection was not cut")
	}
	if c2, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(pf.LocalPort)); err == nil {
		c2.Close()
		t.Error("the local port still accepts after Close")
	}
}

func TestPortForwardFirstDialRefusedIsItsError(t *testing.T) {
	ts := &tunnels{refuse: true}
	_, err := forward(t.Context(), "ns/pod:8081", 0, ts.open)
	if err == nil || err.Error() != "port-forward ns/pod:8081: connection refused" {
		t.Fatalf("err %v, want the pod named once with the refusal", err)
	}
}
