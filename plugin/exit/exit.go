// Package exit maps errors to the exit codes the plugin documents, in one place.
//
//	0   success
//	1   user or input error (bad values, flags, chart reference; nothing was changed)
//	2   timeout (the last known state is in the message)
//	3   the Flink job failed, restarted or could not be submitted
//	4   anything else that went wrong (cluster, network, Helm)
//	5   plan --detailed-exitcode: changes that leave every job running untouched
//	6   plan --detailed-exitcode: changes that stop, restore, recover or lose a job
//	7   status: the job the release defines does not run
//	130 interrupted (Ctrl-C)
package exit

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Codes, as documented in the README.
const (
	OK        = 0
	Input     = 1
	Timeout   = 2
	JobFailed = 3
	Other     = 4
	// PlanChanges and PlanTouchesState answer plan --detailed-exitcode.
	PlanChanges      = 5
	PlanTouchesState = 6
	// JobMissing is status's answer when the job the release defines does not run.
	JobMissing = 7
	// Interrupted is what shells report for a death by SIGINT.
	Interrupted = 130
)

// Error carries the exit code with the error it wraps.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// ExitCode is what the process exits with.
func (e *Error) ExitCode() int { return e.Code }

// With wraps err with code; nil stays nil.
func With(code int, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Err: err}
}

// InputError marks err as the user's mistake.
func InputError(err error) error { return With(Input, err) }

// Code is the exit code for err: Interrupted after Ctrl-C whatever else it says, then its own
// code when it carries one, Timeout for a deadline, else Other.
func Code(err error) int {
	if err == nil {
		return OK
	}
	if errors.Is(err, context.Canceled) {
		return Interrupted
	}
	var e interface{ ExitCode() int }
	if errors.As(err, &e) {
		return e.ExitCode()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return Timeout
	}
	return Other
}

// AfterDeadline is err of a command whose context had timeout: once that deadline has passed,
// whatever failed failed because time ran out (a wait, a Helm call, a request), so it is a
// timeout saying how long was waited — unless the job itself failed, which says more.
func AfterDeadline(ctx context.Context, timeout time.Duration, err error) error {
	if err == nil || !errors.Is(ctx.Err(), context.DeadlineExceeded) || Code(err) == JobFailed {
		return err
	}
	return With(Timeout, fmt.Errorf("timed out after %s: %w", timeout, err))
}
