package cluster

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/flink"
)

// Job is one job as `jobs` and `status` show it.
type Job struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	State    string    `json:"state"`
	Running  int       `json:"runningTasks"`
	Total    int       `json:"totalTasks"`
	Started  time.Time `json:"started"`
	Duration Seconds   `json:"durationSeconds"`
}

// Jobs lists the cluster's jobs, newest first.
func (c *Cluster) Jobs(ctx context.Context) ([]Job, error) {
	list, err := c.REST.Jobs(ctx)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	out := make([]Job, 0, len(list))
	for _, j := range list {
		out = append(out, jobOf(j))
	}
	sort.SliceStable(out, func(i, k int) bool { return out[i].Started.After(out[k].Started) })
	return out, nil
}

// job is a job the user named: an unknown id is an input error pointing at `jobs`.
func (c *Cluster) job(ctx context.Context, jobID string) (*flink.Job, error) {
	j, err := c.REST.Job(ctx, jobID)
	if flink.IsNotFound(err) {
		return nil, exit.InputError(fmt.Errorf("job %s is not known to the JobManager of release %q (helm flink jobs %s lists its jobs)", jobID, c.Release, c.Release))
	}
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", jobID, err)
	}
	return j, nil
}

// running checks that the job exists and runs, for operations only a running job allows.
func (c *Cluster) running(ctx context.Context, jobID, what string) error {
	j, err := c.job(ctx, jobID)
	if err != nil {
		return err
	}
	if j.State != flink.JobRunning {
		return exit.InputError(fmt.Errorf("job %s is %s: only a RUNNING job can %s", jobID, j.State, what))
	}
	return nil
}

// Cancel cancels a job and waits until it is CANCELED.
func (c *Cluster) Cancel(ctx context.Context, jobID string) error {
	if _, err := c.job(ctx, jobID); err != nil {
		return err
	}
	if err := c.REST.Cancel(ctx, jobID); err != nil {
		return fmt.Errorf("cancel job %s: %w", jobID, err)
	}
	return c.waitState(ctx, jobID, "CANCELED")
}

// Stop stops a job with a savepoint into dir (draining sources first with drain) and returns the
// savepoint's path once it is complete.
func (c *Cluster) Stop(ctx context.Context, jobID, dir string, drain bool) (string, error) {
	if err := c.running(ctx, jobID, "be stopped with a savepoint"); err != nil {
		return "", err
	}
	trigger, err := c.REST.Stop(ctx, jobID, dir, drain)
	if err != nil {
		return "", fmt.Errorf("stop job %s: %w", jobID, err)
	}
	loc, err := c.REST.WaitSavepoint(ctx, jobID, trigger, 250*time.Millisecond)
	if err != nil {
		return "", fmt.Errorf("stop job %s with a savepoint: %w", jobID, err)
	}
	return loc, nil
}

// Savepoint takes a savepoint of a running job into dir and returns its path.
func (c *Cluster) Savepoint(ctx context.Context, jobID, dir string) (string, error) {
	if err := c.running(ctx, jobID, "take a savepoint"); err != nil {
		return "", err
	}
	trigger, err := c.REST.TriggerSavepoint(ctx, jobID, dir, false)
	if err != nil {
		return "", fmt.Errorf("savepoint of job %s: %w", jobID, err)
	}
	loc, err := c.REST.WaitSavepoint(ctx, jobID, trigger, 250*time.Millisecond)
	if err != nil {
		return "", fmt.Errorf("savepoint of job %s: %w", jobID, err)
	}
	return loc, nil
}

func (c *Cluster) waitState(ctx context.Context, jobID, want string) error {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	state := ""
	for {
		if j, err := c.REST.Job(ctx, jobID); err == nil {
			if state = string(j.State); state == want {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("job %s is %s, waiting for %s: %w", jobID, state, want, context.Cause(ctx))
		case <-tick.C:
		}
	}
}

func jobOf(j flink.JobOverview) Job {
	return Job{ID: j.ID, Name: j.Name, State: string(j.State), Running: j.Tasks.Running + j.Tasks.Finished,
		Total: j.Tasks.Total, Started: j.StartTime.Time, Duration: Seconds(j.Duration.Duration())}
}

// Seconds is a duration that JSON and YAML show as seconds, as people and scripts read them.
type Seconds time.Duration

// MarshalJSON writes the seconds with millisecond precision.
func (s Seconds) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(time.Duration(s).Seconds(), 'f', 3, 64)), nil
}

func (s Seconds) String() string { return time.Duration(s).Round(time.Second).String() }
