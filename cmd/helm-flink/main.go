// Command helm-flink is the `helm flink` plugin: it also runs as a standalone binary.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/helm-flink/helm-flink/plugin/exit"
)

// interruptible is a context that the first Ctrl-C (or SIGTERM) cancels: port-forwards close,
// waits stop, --atomic cleans up. A second one exits at once (130), whatever the clean-up is
// doing. (Not the signals' default action: a process started in the background by a shell
// without job control inherits SIGINT ignored.)
func interruptible() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		cancel()
		<-sigs
		fmt.Fprintln(os.Stderr, "Error: interrupted again: exiting without finishing the clean-up")
		os.Exit(exit.Interrupted)
	}()
	return ctx, func() { signal.Stop(sigs); cancel() }
}

func main() {
	ctx, stop := interruptible()
	err := newRootCmd(os.Stdout, os.Stderr).ExecuteContext(ctx)
	stop()
	if err != nil {
		switch {
		case errors.Is(err, context.Canceled) && ctx.Err() != nil:
			fmt.Fprintln(os.Stderr, "Error: interrupted:", err)
		case err.Error() == "":
			// An exit code that is an answer (plan --detailed-exitcode), not a failure.
		default:
			fmt.Fprintln(os.Stderr, "Error:", err)
		}
		os.Exit(exit.Code(err))
	}
}
