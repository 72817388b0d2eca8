package flink

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Savepoint operation states of GET /jobs/:jobid/savepoints/:triggerid.
const (
	SavepointInProgress = "IN_PROGRESS"
	SavepointCompleted  = "COMPLETED"
)

type triggerAnswer struct {
	RequestID string `json:"request-id"`
}

// Stop is POST /jobs/:jobid/stop: stop-with-savepoint into targetDir (empty: the cluster's
// execution.checkpointing.savepoint-dir; without one Flink answers 400). drain emits MAX_WATERMARK
// first (for a job that is to end for good). The trigger id is polled with SavepointStatus or
// WaitSavepoint; the job ends FINISHED.
func (c *Client) Stop(ctx context.Context, jobID, targetDir string, drain bool) (string, error) {
	body := struct {
		TargetDirectory string `json:"targetDirectory,omitempty"`
		Drain           bool   `json:"drain"`
	}{targetDir, drain}
	return c.trigger(ctx, "/jobs/"+escape(jobID)+"/stop", body)
}

// TriggerSavepoint is POST /jobs/:jobid/savepoints: a savepoint into targetDir (empty: the
// cluster's default), cancelling the job afterwards when cancelJob.
func (c *Client) TriggerSavepoint(ctx context.Context, jobID, targetDir string, cancelJob bool) (string, error) {
	body := struct {
		TargetDirectory string `json:"target-directory,omitempty"`
		CancelJob       bool   `json:"cancel-job"`
	}{targetDir, cancelJob}
	return c.trigger(ctx, "/jobs/"+escape(jobID)+"/savepoints", body)
}

func (c *Client) trigger(ctx context.Context, path string, body any) (string, error) {
	var out triggerAnswer
	if err := c.sendJSON(ctx, http.MethodPost, path, body, &out); err != nil {
		return "", err
	}
	if out.RequestID == "" {
		return "", fmt.Errorf("post %s: the answer has no request-id", path)
	}
	return out.RequestID, nil
}

// SavepointStatus is the state of a savepoint or stop-with-savepoint operation.
type SavepointStatus struct {
	// State is IN_PROGRESS or COMPLETED; a failed operation is COMPLETED with a Failure.
	State string
	// Location of the written savepoint, e.g. file:/savepoints/savepoint-4f1a2b-0123456789ab.
	Location string
	// Failure is the operation's failure-cause; nil on success.
	Failure *RootCause
}

// Completed: the operation ended, successfully or not.
func (s SavepointStatus) Completed() bool { return s.State == SavepointCompleted }

// SavepointError is a savepoint operation that ended in failure.
type SavepointError struct {
	JobID, TriggerID string
	Cause            RootCause
}

func (e *SavepointError) Error() string {
	msg := "savepoint failed"
	if e.JobID != "" {
		msg = fmt.Sprintf("savepoint %s of job %s failed", e.TriggerID, e.JobID)
	}
	if s := e.Cause.Summary(); s != "" {
		msg += ": " + s
	}
	return msg
}

// SavepointStatus is GET /jobs/:jobid/savepoints/:triggerid (also for Stop's trigger id).
func (c *Client) SavepointStatus(ctx context.Context, jobID, triggerID string) (*SavepointStatus, error) {
	return c.operationStatus(ctx, "/jobs/"+escape(jobID)+"/savepoints/"+escape(triggerID))
}

// DisposeSavepoint is POST /savepoint-disposal: Flink deletes the savepoint at path (with the
// file systems and credentials of the JobManager). The trigger id is polled with WaitDisposal.
func (c *Client) DisposeSavepoint(ctx context.Context, path string) (string, error) {
	body := struct {
		Path string `json:"savepoint-path"`
	}{path}
	return c.trigger(ctx, "/savepoint-disposal", body)
}

// WaitDisposal polls GET /savepoint-disposal/:triggerid every poll (0: 500ms) until the
// disposal completes; a failed one is a *SavepointError with Flink's cause.
func (c *Client) WaitDisposal(ctx context.Context, triggerID string, poll time.Duration) error {
	if poll <= 0 {
		poll = 500 * time.Millisecond
	}
	for {
		s, err := c.operationStatus(ctx, "/savepoint-disposal/"+escape(triggerID))
		if err != nil {
			return err
		}
		if s.Completed() {
			if s.Failure != nil {
				return &SavepointError{TriggerID: triggerID, Cause: *s.Failure}
			}
			return nil
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("waiting for savepoint disposal %s: %w", triggerID, ctx.Err())
		case <-t.C:
		}
	}
}

// operationStatus is an asynchronous operation's state at path.
func (c *Client) operationStatus(ctx context.Context, path string) (*SavepointStatus, error) {
	var out struct {
		Status struct {
			ID string `json:"id"`
		} `json:"status"`
		Operation *struct {
			Location     string `json:"location"`
			FailureCause *struct {
				Class      string `json:"class"`
				StackTrace string `json:"stack-trace"`
			} `json:"failure-cause"`
		} `json:"operation"`
	}
	if err := c.getJSON(ctx, path, &out); err != nil {
		return nil, err
	}
	s := &SavepointStatus{State: out.Status.ID}
	if op := out.Operation; op != nil {
		s.Location = op.Location
		if fc := op.FailureCause; fc != nil {
			r := newRootCause(fc.StackTrace, time.Time{})
			if r.Class == "" {
				r.Class = fc.Class
			}
			s.Failure = &r
		}
	}
	return s, nil
}

// WaitSavepoint polls SavepointStatus every poll (0: 500ms) until the operation completes, and
// returns the savepoint's location, or a *SavepointError when it failed. ctx bounds the wait.
func (c *Client) WaitSavepoint(ctx context.Context, jobID, triggerID string, poll time.Duration) (string, error) {
	if poll <= 0 {
		poll = 500 * time.Millisecond
	}
	for {
		s, err := c.SavepointStatus(ctx, jobID, triggerID)
		if err != nil {
			return "", err
		}
		if s.Completed() {
			if s.Failure != nil {
				return "", &SavepointError{JobID: jobID, TriggerID: triggerID, Cause: *s.Failure}
			}
			return s.Location, nil
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", fmt.Errorf("waiting for savepoint %s of job %s: %w", triggerID, jobID, ctx.Err())
		case <-t.C:
		}
	}
}
