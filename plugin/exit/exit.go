// Package exit gives errors the process exit code the plugin documents:
//
//	0 success
//	1 user or input error (bad values, flags, chart reference; nothing was installed)
//	2 timeout (the last known state is in the message)
//	3 the Flink job failed, restarted or was not found running
//	4 anything else that went wrong (cluster, network, Helm)
package exit

import (
	"context"
	"errors"
)

// Codes, as documented in the README.
const (
	OK        = 0
	Input     = 1
	Timeout   = 2
	JobFailed = 3
	Other     = 4
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

// Code is the exit code for err: its own when it carries one, Timeout for a deadline, else Other.
func Code(err error) int {
	if err == nil {
		return OK
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
