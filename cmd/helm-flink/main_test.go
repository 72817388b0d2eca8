package main

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestMain is also the child of TestSecondInterruptEndsAtOnce: a command whose clean-up after
// the first Ctrl-C takes a minute.
func TestMain(m *testing.M) {
	if os.Getenv("HELM_FLINK_INTERRUPT_CHILD") == "" {
		os.Exit(m.Run())
	}
	ctx, stop := interruptible()
	defer stop()
	os.Stdout.WriteString("ready\n")
	<-ctx.Done()
	os.Stdout.WriteString("cleaning up\n")
	time.Sleep(time.Minute)
}

// The first Ctrl-C cancels and leaves the command its clean-up; a second ends it at once (here
// with SIGINT ignored on start, as for a background job of a shell without job control).
func TestSecondInterruptEndsAtOnce(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "HELM_FLINK_INTERRUPT_CHILD=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	waitFor := func(what string) {
		t.Helper()
		for lines.Scan() {
			if lines.Text() == what {
				return
			}
		}
		t.Fatalf("the child never said %q", what)
	}
	waitFor("ready")
	_ = cmd.Process.Signal(syscall.SIGINT)
	waitFor("cleaning up")
	start := time.Now()
	_ = cmd.Process.Signal(syscall.SIGINT)
	go func() {
		for lines.Scan() {
		}
	}()
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 || time.Since(start) > 5*time.Second {
		t.Fatalf("after the second Ctrl-C: %v after %s, want exit 130 at once", err, time.Since(start))
	}
}
