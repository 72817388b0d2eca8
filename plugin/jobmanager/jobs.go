package jobmanager

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/flink"
)

// Job is one job as `jobs` and `status` show it.
type Job struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	State string `json:"state"`
	// Running counts the tasks running or finished, as the outcome rule does.
	Running  int           `json:"runningTasks"`
	Total    int           `json:"totalTasks"`
	Outcome  flink.Outcome `json:"outcome"`
	Started  time.Time     `json:"started"`
	Duration Seconds       `json:"durationSeconds"`
	// Failures counts the entries of the job's exception history (up to Flink's
	// web.exception-history-size): each a failure it restarted after, or ended with. Set by
	// WithFailures.
	Failures int `json:"failures"`
	// LastFailure is the newest one's root cause, with its time and TaskManager when Flink
	// names them.
	LastFailure string `json:"lastFailure,omitempty"`
}

// WithFailures sets each job's failures from its exception history (GET /jobs/:id/exceptions),
// so that a job that lost a TaskManager and restarted shows it beside its state. A job whose
// history cannot be read keeps none.
func (jm *JobManager) WithFailures(ctx context.Context, jobs []Job) {
	for i := range jobs {
		ex, err := jm.REST.Exceptions(ctx, jobs[i].ID)
		if err != nil || ex.Root == nil {
			continue
		}
		jobs[i].Failures = max(len(ex.History), 1)
		jobs[i].LastFailure = describeFailure(ex.Root)
	}
}

// describeFailure is a failure on one line: when, the root exception, and where.
func describeFailure(r *flink.RootCause) string {
	s := r.Class
	if r.Message != "" {
		s += ": " + r.Message
	}
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if !r.Timestamp.IsZero() {
		s = r.Timestamp.UTC().Format(time.RFC3339) + " " + s
	}
	if r.Endpoint != "" {
		s += " (on " + r.Endpoint + ")"
	}
	return s
}

// Jobs lists the cluster's jobs, newest first.
func (jm *JobManager) Jobs(ctx context.Context) ([]Job, error) {
	list, err := jm.REST.Jobs(ctx)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	out := make([]Job, 0, len(list))
	for _, j := range list {
		out = append(out, Job{ID: j.ID, Name: j.Name, State: string(j.State), Running: j.Tasks.Running + j.Tasks.Finished,
			Total: j.Tasks.Total, Outcome: j.Outcome(), Started: j.StartTime.Time, Duration: Seconds(j.Duration.Duration())})
	}
	sort.SliceStable(out, func(i, k int) bool { return out[i].Started.After(out[k].Started) })
	return out, nil
}

// job is a job the user named: an unknown id is an input error pointing at `jobs`.
func (jm *JobManager) job(ctx context.Context, jobID string) (*flink.Job, error) {
	j, err := jm.REST.Job(ctx, jobID)
	if flink.IsNotFound(err) {
		return nil, exit.InputError(fmt.Errorf("job %s is not known to the JobManager of release %q (helm flink jobs %s lists its jobs)", jobID, jm.Release, jm.Release))
	}
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", jobID, err)
	}
	return j, nil
}

// Cancel cancels a job and waits until it is CANCELED.
func (jm *JobManager) Cancel(ctx context.Context, jobID string) error {
	if _, err := jm.job(ctx, jobID); err != nil {
		return err
	}
	if err := jm.REST.Cancel(ctx, jobID); err != nil {
		return fmt.Errorf("cancel job %s: %w", jobID, err)
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	state := ""
	for {
		if j, err := jm.REST.Job(ctx, jobID); err == nil {
			if state = string(j.State); j.State == flink.JobCanceled {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("job %s is %s, waiting for CANCELED: %w", jobID, state, context.Cause(ctx))
		case <-tick.C:
		}
	}
}

// Stop stops a running job with a savepoint into dir (draining its sources first with drain)
// and returns the savepoint's path once it is complete.
func (jm *JobManager) Stop(ctx context.Context, jobID, dir string, drain bool) (string, error) {
	return jm.savepoint(ctx, jobID, "be stopped with a savepoint", "stop job "+jobID+" with a savepoint", func() (string, error) {
		return jm.REST.Stop(ctx, jobID, dir, drain)
	})
}

// Savepoint takes a savepoint of a running job into dir and returns its path.
func (jm *JobManager) Savepoint(ctx context.Context, jobID, dir string) (string, error) {
	return jm.savepoint(ctx, jobID, "take a savepoint", "savepoint of job "+jobID, func() (string, error) {
		return jm.REST.TriggerSavepoint(ctx, jobID, dir, false)
	})
}

// savepoint checks that the job runs (only a running job can what), triggers and waits for the
// savepoint; op names it in errors.
func (jm *JobManager) savepoint(ctx context.Context, jobID, what, op string, trigger func() (string, error)) (string, error) {
	j, err := jm.job(ctx, jobID)
	if err != nil {
		return "", err
	}
	if j.State != flink.JobRunning {
		return "", exit.InputError(fmt.Errorf("job %s is %s: only a RUNNING job can %s", jobID, j.State, what))
	}
	id, err := trigger()
	if err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	loc, err := jm.REST.WaitSavepoint(ctx, jobID, id, 250*time.Millisecond)
	if err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	return loc, nil
}

// Seconds is a duration that JSON and YAML show as seconds, as people and scripts read them.
type Seconds time.Duration

// MarshalJSON writes the seconds with millisecond precision.
func (s Seconds) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(time.Duration(s).Seconds(), 'f', 3, 64)), nil
}

func (s Seconds) String() string { return time.Duration(s).Round(time.Second).String() }
