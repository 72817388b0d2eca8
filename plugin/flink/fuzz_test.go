package flink

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// FuzzAnswers: whatever a JobManager (or something in its place) answers, with any status, every
// client call returns a value or an error: no panic, no hang.
func FuzzAnswers(f *testing.F) {
	for _, v := range versions {
		files, _ := filepath.Glob(filepath.Join("testdata", v, "*.json"))
		for _, file := range files[:min(len(files), 20)] {
			fx := load(f, v, strings.TrimSuffix(filepath.Base(file), ".json"))
			f.Add(fx.Status, []byte(fx.Body))
		}
	}
	f.Add(200, []byte(`{"jobs":[{"jid":null,"tasks":{"total":-1}}]}`))
	f.Add(500, []byte(`<html>`))
	// One server for the run: an execution sets what it answers (a worker runs one at a time).
	var mu sync.Mutex
	var answer struct {
		status int
		body   []byte
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		status, body := answer.status, answer.body
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(body)
	}))
	defer srv.Close()
	c := New(srv.URL)
	jar := filepath.Join(f.TempDir(), "j.jar")
	if err := os.WriteFile(jar, []byte("PK"), 0o644); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 599 {
			status = 200
		}
		mu.Lock()
		answer.status, answer.body = status, body
		mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		const id = "0123456789abcdef0123456789abcdef"
		_, _ = c.Overview(ctx)
		_, _ = c.Jobs(ctx)
		_, _ = c.Job(ctx, id)
		_, _ = c.Exceptions(ctx, id)
		_, _ = c.Checkpoints(ctx, id)
		_, _ = c.TaskManagers(ctx)
		_, _ = c.Config(ctx)
		_, _ = c.SavepointStatus(ctx, id, "t")
		_, _ = c.RunJar(ctx, "x.jar", RunRequest{})
		_, _ = c.UploadJarFile(ctx, jar)
	})
}
