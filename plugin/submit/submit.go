// Package submit runs a job on a Flink cluster over its REST API and waits until the job really
// runs: state RUNNING and every task running (or finished), the rule the Flink operator uses.
package submit

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/flink"
)

// Job is what to run.
type Job struct {
	// Jar is a local path or an http(s) URL (downloaded here, then uploaded).
	Jar                   string
	EntryClass            string
	Args                  []string
	Parallelism           int
	Savepoint             string
	AllowNonRestoredState bool
}

// IsURL says whether a --jar value is a URL rather than a file.
func IsURL(jar string) bool {
	u, err := url.Parse(jar)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// Run uploads the jar, runs it and deletes the uploaded jar again (also when running fails), and
// returns the new job's id.
func Run(ctx context.Context, c *flink.Client, j Job) (string, error) {
	file := j.Jar
	if IsURL(j.Jar) {
		tmp, err := download(ctx, j.Jar)
		if err != nil {
			return "", err
		}
		defer os.RemoveAll(filepath.Dir(tmp))
		file = tmp
	}
	jarID, err := c.UploadJarFile(ctx, file)
	if err != nil {
		return "", fmt.Errorf("upload jar %s: %w", j.Jar, err)
	}
	defer func() {
		// The jar is in the JobManager's upload dir only to be run once; do not leave it behind,
		// not even when ctx has ended.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = c.DeleteJar(dctx, jarID)
	}()
	jobID, err := c.RunJar(ctx, jarID, flink.RunRequest{
		EntryClass:            j.EntryClass,
		Args:                  j.Args,
		Parallelism:           j.Parallelism,
		SavepointPath:         j.Savepoint,
		AllowNonRestoredState: j.AllowNonRestoredState,
	})
	if err != nil {
		return "", exit.With(exit.JobFailed, fmt.Errorf("run jar %s: %w", path.Base(j.Jar), err))
	}
	return jobID, nil
}

func download(ctx context.Context, src string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return "", exit.InputError(fmt.Errorf("--jar %s: %w", src, err))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("download jar %s: %w", src, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", exit.InputError(fmt.Errorf("download jar %s: %s", src, resp.Status))
	}
	dir, err := os.MkdirTemp("", "helm-flink-jar-")
	if err != nil {
		return "", err
	}
	name := path.Base(resp.Request.URL.Path)
	if !strings.HasSuffix(name, ".jar") {
		name = "job.jar"
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return "", fmt.Errorf("download jar %s: %w", src, err)
	}
	return f.Name(), f.Close()
}

// Progress is a job's state as WaitRunning last saw it.
type Progress struct {
	JobID    string `json:"jobId"`
	Name     string `json:"name"`
	State    string `json:"state"`
	Running  int    `json:"runningTasks"`
	Finished int    `json:"finishedTasks"`
	Total    int    `json:"totalTasks"`
}

func (p Progress) String() string {
	if p.State == "" {
		return "job " + p.JobID + " not known to the JobManager yet"
	}
	return fmt.Sprintf("job %s %s, %d/%d tasks running", p.JobID, p.State, p.Running+p.Finished, p.Total)
}

// FailedError is a job that failed, restarted or ended instead of running. Root is Flink's root
// exception when the JobManager has one.
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
			for i, f := range in.Frames {
				if i == maxFrames {
					break
				}
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

// WaitRunning polls the job until it is RUNNING with running+finished tasks = total tasks, calling
// progress when what it sees changes. A job that fails, restarts or ends is a *FailedError;
// ctx's end is a timeout error carrying the last known state. A job the JobManager does not know
// (yet: an application cluster submits it after start) is waited for.
func WaitRunning(ctx context.Context, c *flink.Client, jobID string, progress func(Progress)) (Progress, error) {
	var last Progress
	last.JobID = jobID
	seen := false
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		j, err := c.Job(ctx, jobID)
		switch {
		case err == nil:
			p := progressOf(jobID, j)
			if !seen || p != last {
				if progress != nil {
					progress(p)
				}
			}
			seen, last = true, p
			if failing(p.State) {
				return p, failed(ctx, c, p)
			}
			if p.State == "RUNNING" && p.Total > 0 && p.Running+p.Finished == p.Total {
				return p, nil
			}
		case isNotFound(err):
			// not submitted yet
		case ctx.Err() == nil:
			// a port-forward or JobManager hiccup: keep the last state and try again
		}
		select {
		case <-ctx.Done():
			return last, exit.With(exit.Timeout, fmt.Errorf("waiting for job to run: last known state: %s: %w", last, context.Cause(ctx)))
		case <-tick.C:
		}
	}
}

func failing(state string) bool {
	switch state {
	case "FAILING", "FAILED", "RESTARTING", "CANCELLING", "CANCELED", "FINISHED", "SUSPENDED":
		return true
	}
	return false
}

func failed(ctx context.Context, c *flink.Client, p Progress) error {
	e := &FailedError{Progress: p}
	// The exception history lags the state change by a moment.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for range 20 {
		if ex, err := c.Exceptions(ctx, p.JobID); err == nil && ex.Root != nil {
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

func isNotFound(err error) bool { return flink.IsNotFound(err) }

func progressOf(jobID string, j *flink.Job) Progress {
	t := j.Tasks()
	return Progress{JobID: jobID, Name: j.Name, State: string(j.State), Running: t.Running, Finished: t.Finished, Total: t.Total}
}
