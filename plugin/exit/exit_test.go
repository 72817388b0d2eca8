package exit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestCode(t *testing.T) {
	failed := With(JobFailed, errors.New("job x is FAILED"))
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, OK},
		{errors.New("connection refused"), Other},
		{InputError(errors.New("bad flag")), Input},
		{fmt.Errorf("wrapped: %w", failed), JobFailed},
		{fmt.Errorf("wait: %w", context.DeadlineExceeded), Timeout},
		{With(Timeout, errors.New("last known state")), Timeout},
		{fmt.Errorf("wait: %w", context.Canceled), Interrupted},
		// Ctrl-C wins over whatever the interrupted step said.
		{With(JobFailed, fmt.Errorf("run jar: %w", context.Canceled)), Interrupted},
	} {
		if got := Code(tc.err); got != tc.want {
			t.Errorf("%v: %d, want %d", tc.err, got, tc.want)
		}
	}
	if With(Input, nil) != nil || InputError(nil) != nil {
		t.Error("nil stays nil")
	}
}

func TestAfterDeadline(t *testing.T) {
	expired, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-expired.Done()
	live := context.Background()
	cause := errors.New("3/4 pods ready")
	err := AfterDeadline(expired, 5*time.Minute, cause)
	if Code(err) != Timeout || !errors.Is(err, cause) || !strings.HasPrefix(err.Error(), "timed out after 5m0s: 3/4 pods ready") {
		t.Errorf("after the deadline: %d %v", Code(err), err)
	}
	if err := AfterDeadline(live, time.Minute, cause); err != cause {
		t.Errorf("before the deadline the error stays: %v", err)
	}
	failed := With(JobFailed, errors.New("job x is FAILED"))
	if err := AfterDeadline(expired, time.Minute, failed); err != failed {
		t.Errorf("a failed job says more than the deadline: %v", err)
	}
	if AfterDeadline(expired, time.Minute, nil) != nil {
		t.Error("success stays success")
	}
}
