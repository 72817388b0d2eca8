package main

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// criLog writes a process's output in the CRI log format (`<RFC3339Nano> <stream> F <line>`),
// the format kwok's Logs resource serves to `kubectl logs`.
type criLog struct {
	mu sync.Mutex
	f  *os.File
}

func newCRILog(path string) (*criLog, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &criLog{f: f}, nil
}

func (l *criLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}

type criStream struct {
	l       *criLog
	name    string
	pending []byte
}

func (l *criLog) stream(name string) *criStream { return &criStream{l: l, name: name} }

func (s *criStream) Write(p []byte) (int, error) {
	s.pending = append(s.pending, p...)
	for {
		i := bytes.IndexByte(s.pending, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := s.pending[:i]
		s.l.mu.Lock()
		_, err := s.l.f.WriteString(time.Now().UTC().Format(time.RFC3339Nano) + " " + s.name + " F " + string(line) + "\n")
		s.l.mu.Unlock()
		s.pending = s.pending[i+1:]
		if err != nil {
			return len(p), err
		}
	}
}
