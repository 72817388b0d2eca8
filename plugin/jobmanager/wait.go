package jobmanager

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/flink"
	"github.com/helm-flink/helm-flink/plugin/kube"
)

// Progress is a job's state as Wait last saw it.
type Progress struct {
	JobID    string        `json:"jobId"`
	Name     string        `json:"name"`
	State    string        `json:"state"`
	Running  int           `json:"runningTasks"`
	Finished int           `json:"finishedTasks"`
	Total    int           `json:"totalTasks"`
	Outcome  flink.Outcome `json:"outcome,omitempty"`
}

// Tasks is "2/2 running", or "2/2 finished" for a job that ran to its end.
func (p Progress) Tasks() string {
	return fmt.Sprintf("%d/%d %s", p.Running+p.Finished, p.Total, p.tasksAre())
}

func (p Progress) tasksAre() string {
	if p.Outcome == flink.Finished {
		return "finished"
	}
	return "running"
}

func (p Progress) String() string {
	if p.State == "" {
		return "job " + p.JobID + " not known to the JobManager yet"
	}
	return fmt.Sprintf("job %s %s, %d/%d tasks %s", p.JobID, p.State, p.Running+p.Finished, p.Total, p.tasksAre())
}

// FailedError is a job that failed, restarted or was cancelled instead of running. Root is
// Flink's root exception when the JobManager has one.
type FailedError struct {
	Progress
	Root *flink.RootCause
}

func (e *FailedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "job %s is %s", e.JobID, e.State)
	if r := e.Root; r != nil {
		fmt.Fprintf(&b, "\nroot exception: %s: %s", r.Class, r.Message)
		for i, f := range r.Frames {
			if i == maxFrames {
				fmt.Fprintf(&b, "\n\t... %d more", len(r.Frames)-i)
				break
			}
			b.WriteString("\n\tat " + f)
		}
		if in := r.Innermost(); in.Class != r.Class || in.Message != r.Message {
			fmt.Fprintf(&b, "\ncaused by: %s: %s", in.Class, in.Message)
			for _, f := range in.Frames[:min(len(in.Frames), maxFrames)] {
				b.WriteString("\n\tat " + f)
			}
		}
	}
	return b.String()
}

// maxFrames of a stack trace are printed: enough to see where, not a screenful.
const maxFrames = 5

// ExitCode makes a failed job exit 3.
func (e *FailedError) ExitCode() int { return exit.JobFailed }

// Run submits the job and, unless noWait, follows it to its outcome (see Wait), printing each
// step through progress. It returns the kept jar's id (see Submit) beside the job's progress.
func (jm *JobManager) Run(ctx context.Context, s Spec, noWait bool, progress func(format string, a ...any)) (Progress, string, error) {
	id, jarID, err := jm.Submit(ctx, s)
	if err != nil {
		return Progress{}, "", fmt.Errorf("submit job: %w", err)
	}
	progress("  job %s submitted", id)
	if noWait {
		return Progress{JobID: id}, jarID, nil
	}
	p, err := jm.Wait(ctx, id, progress)
	return p, jarID, err
}

// Wait polls the job until its outcome is decided, printing what it sees when that changes:
// running or finished is success, failed a *FailedError with Flink's root exception, and ctx's
// end a timeout error carrying the last known state. A job the JobManager does not know (yet:
// an application cluster submits it after start) is waited for.
func (jm *JobManager) Wait(ctx context.Context, jobID string, progress func(format string, a ...any)) (Progress, error) {
	return jm.wait(ctx, jobID, false, progress)
}

// WaitRecovered is Wait for a job that a new JobManager recovers from its checkpoint (HA):
// restarts while the previous TaskManagers go away are part of the recovery, and only a FAILED
// job is a failure.
func (jm *JobManager) WaitRecovered(ctx context.Context, jobID string, progress func(format string, a ...any)) (Progress, error) {
	return jm.wait(ctx, jobID, true, progress)
}

func (jm *JobManager) wait(ctx context.Context, jobID string, recovering bool, progress func(format string, a ...any)) (Progress, error) {
	pods := func() string { return "" }
	if jm.Native != nil {
		ctx, progress, pods = jm.watchNative(ctx, progress)
		defer pods()
	}
	last := Progress{JobID: jobID}
	seen := false
	var since time.Time // when last was first seen
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		// Not found is a job not submitted yet, an error a port-forward or JobManager hiccup:
		// keep the last state and ask again.
		if j, err := jm.overview(ctx, jobID); err == nil {
			t := j.Tasks
			p := Progress{JobID: jobID, Name: j.Name, State: string(j.State), Running: t.Running, Finished: t.Finished, Total: t.Total, Outcome: j.Outcome()}
			if !seen || p != last {
				if progress != nil {
					progress("  %s", p)
				}
				since = time.Now()
			}
			seen, last = true, p
			switch {
			case p.Outcome == flink.Failed && recovering && p.State == string(flink.JobRestarting):
			case p.Outcome == flink.Failed:
				return p, jm.failed(ctx, p)
			case p.Outcome == flink.Running && time.Since(since) < p.settle():
				// A small bounded job runs every task for a moment before its source finishes:
				// nothing the JobManager says tells it from a streaming job but time.
			case p.Outcome.OK():
				return p, nil
			}
		}
		select {
		case <-ctx.Done():
			var refused *kube.PodCreateError
			var broken *kube.PodStartError
			if cause := context.Cause(ctx); errors.As(cause, &refused) || errors.As(cause, &broken) {
				return last, exit.With(exit.JobFailed, fmt.Errorf("job %s cannot run: %w", jobID, cause))
			}
			state := last.String()
			if note := pods(); note != "" {
				state += "; " + note
			}
			err := fmt.Errorf("waiting for job to run: last known state: %s: %w", state, context.Cause(ctx))
			if seen && jm.Release != "" {
				// Giving up the wait does not end the job: say so, and how.
				err = fmt.Errorf("%w\njob %s stays on the JobManager (helm flink cancel %s %s -n %s removes it)", err, jobID, jm.Release, jobID, jm.Namespace)
			}
			return last, exit.With(exit.Timeout, err)
		case <-tick.C:
		}
	}
}

// settle is how long a running job must stay so before a wait calls it running: a small
// bounded job (WordCount) is FINISHED within it, and reported so. Longer when some tasks have
// finished while others run: a bounded job on its way to its end, or a streaming job whose
// bounded input is done.
func (p Progress) settle() time.Duration {
	if p.Finished > 0 {
		return 2 * time.Second
	}
	return time.Second
}

// overview is the job's entry in GET /jobs/overview, which the JobManager answers from the live
// execution graph; GET /jobs/:id answers from a cache that lags by up to web.refresh-interval
// (3 s), which every wait would add to its time.
func (jm *JobManager) overview(ctx context.Context, jobID string) (*flink.JobOverview, error) {
	jobs, err := jm.REST.Jobs(ctx)
	if err != nil {
		return nil, err
	}
	for i := range jobs {
		if jobs[i].ID == jobID {
			return &jobs[i], nil
		}
	}
	return nil, fmt.Errorf("job %s: not known to the JobManager yet", jobID)
}

// watchNative follows the TaskManager pods Flink creates while a job is waited for: their count
// goes to progress (made safe for the two callers), and a refused pod ends the returned context
// with its *kube.PodCreateError, a pod that cannot start with its *kube.PodStartError. stop ends
// the watch, waits for it and says why a pod could not be scheduled when the watch last looked
// ("" when none); it may be called more than once.
func (jm *JobManager) watchNative(ctx context.Context, progress func(format string, a ...any)) (context.Context, func(format string, a ...any), func() string) {
	var mu sync.Mutex
	say := func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		if progress != nil {
			progress(format, a...)
		}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	var unschedulable string // under mu
	w := &kube.NativeWatch{Kube: jm.Native.Kube, Namespace: jm.Namespace, ClusterID: jm.Native.ClusterID,
		JobManagerPod: jm.Pod, Release: jm.Release, Progress: func(pods, ready int, note string) {
			say("  taskmanager pods: %d requested by Flink, %d running%s", pods, ready, kube.Note(note))
			mu.Lock()
			defer mu.Unlock()
			unschedulable = note
		}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := w.Run(ctx); err != nil {
			cancel(err)
		}
	}()
	return ctx, say, func() string {
		cancel(nil)
		<-done
		mu.Lock()
		defer mu.Unlock()
		return unschedulable
	}
}

func (jm *JobManager) failed(ctx context.Context, p Progress) error {
	e := &FailedError{Progress: p}
	// The exception history lags the state change by a moment.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for range 20 {
		if ex, err := jm.REST.Exceptions(ctx, p.JobID); err == nil && ex.Root != nil {
			e.Root = ex.Root
			return e
		}
		select {
		case <-ctx.Done():
			return e
		case <-tick.C:
		}
	}
	return e
}
