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

func main() {
	// Ctrl-C cancels the context: port-forwards close and waits stop; a second Ctrl-C kills.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
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
