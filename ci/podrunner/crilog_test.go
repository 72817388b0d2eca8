package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestCRILogSplitsLinesAcrossWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	l, err := newCRILog(path)
	if err != nil {
		t.Fatal(err)
	}
	out, errs := l.stream("stdout"), l.stream("stderr")
	out.Write([]byte("hel"))
	out.Write([]byte("lo\nworld\n"))
	errs.Write([]byte("boom\n"))
	out.Write([]byte("unterminated"))
	l.Close()
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	re := regexp.MustCompile(`^\d{4}-\d\d-\d\dT[\d:.]+Z (stdout|stderr) F (.*)$`)
	var got []string
	for _, line := range lines {
		m := re.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("line %q is not in CRI format", line)
		}
		got = append(got, m[1]+":"+m[2])
	}
	if strings.Join(got, ",") != "stdout:hello,stdout:world,stderr:boom" {
		t.Fatalf("got %v", got)
	}
}

func TestCRILogCreatesItsFolder(t *testing.T) {
	l, err := newCRILog(filepath.Join(t.TempDir(), "pod", "log", "c.log"))
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
}
