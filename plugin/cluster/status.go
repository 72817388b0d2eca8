package cluster

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/flink"
	"github.com/helm-flink/helm-flink/plugin/kube"
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

// Report is `helm flink status`.
type Report struct {
	Release      ReleaseInfo       `json:"release"`
	Pods         []kube.PodSummary `json:"pods"`
	FlinkVersion string            `json:"flinkVersion,omitempty"`
	TaskManagers int               `json:"taskManagers"`
	SlotsTotal   int               `json:"slotsTotal"`
	SlotsFree    int               `json:"slotsFree"`
	Jobs         []Job             `json:"jobs"`
	// JobManagerError is why the Flink part is missing when the JobManager could not be reached.
	JobManagerError string `json:"jobManagerError,omitempty"`
}

// ReleaseInfo is the Helm side of a status.
type ReleaseInfo struct {
	Name      string    `json:"name"`
	Namespace string    `json:"namespace"`
	Revision  int       `json:"revision"`
	Status    string    `json:"status"`
	Chart     string    `json:"chart"`
	Updated   time.Time `json:"updated"`
	FluxOwner string    `json:"fluxOwner,omitempty"`
}

// Status gathers pods from Kubernetes and TaskManagers, slots and jobs from the JobManager; an
// unreachable JobManager still gives the Kubernetes part, with the reason.
func Status(ctx context.Context, cs kubernetes.Interface, connect func(context.Context) (*Cluster, error), info ReleaseInfo) (*Report, error) {
	r := &Report{Release: info}
	pods, err := kube.Pods(ctx, cs, info.Namespace, info.Name)
	if err != nil {
		return nil, err
	}
	r.Pods = pods
	c, err := connect(ctx)
	if err != nil {
		r.JobManagerError = err.Error()
		return r, nil
	}
	defer c.Close()
	ov, err := c.REST.Overview(ctx)
	if err != nil {
		r.JobManagerError = err.Error()
		return r, nil
	}
	r.FlinkVersion, r.TaskManagers, r.SlotsTotal, r.SlotsFree = ov.FlinkVersion, ov.TaskManagers, ov.SlotsTotal, ov.SlotsAvailable
	if r.Jobs, err = c.Jobs(ctx); err != nil {
		r.JobManagerError = err.Error()
	}
	return r, nil
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
