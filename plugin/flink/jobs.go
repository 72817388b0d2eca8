package flink

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/helm-flink/helm-flink/plugin/stacktrace"
)

// JobState is a Flink JobStatus.
type JobState string

// Flink's job states.
const (
	JobInitializing JobState = "INITIALIZING"
	JobCreated      JobState = "CREATED"
	JobRunning      JobState = "RUNNING"
	JobFailing      JobState = "FAILING"
	JobFailed       JobState = "FAILED"
	JobCancelling   JobState = "CANCELLING"
	JobCanceled     JobState = "CANCELED"
	JobFinished     JobState = "FINISHED"
	JobRestarting   JobState = "RESTARTING"
	JobSuspended    JobState = "SUSPENDED"
	JobReconciling  JobState = "RECONCILING"
)

// Outcome is how a job stands by the one rule the plugin judges every job by: it runs when every
// task runs, not when Flink says RUNNING (as soon as scheduling starts), and a bounded job that
// ran to its end succeeded.
type Outcome string

// The outcomes.
const (
	// Starting: not (yet) known to the JobManager, or some task or (Flink 2.x) operator is not
	// running yet.
	Starting Outcome = "starting"
	// Running: RUNNING, every task RUNNING or FINISHED, and no operator pending.
	Running Outcome = "running"
	// Finished: FINISHED, a bounded job that ran to its end: success.
	Finished Outcome = "finished"
	// Failed: failing, failed, restarting, cancelled or suspended: waiting will not make it run.
	Failed Outcome = "failed"
)

// OK: the job runs, or ran to its end.
func (o Outcome) OK() bool { return o == Running || o == Finished }

func outcomeOf(state JobState, t TaskCounts, pendingOperators int) Outcome {
	switch state {
	case JobFinished:
		return Finished
	case JobFailing, JobFailed, JobRestarting, JobCancelling, JobCanceled, JobSuspended:
		return Failed
	case JobRunning:
		if pendingOperators == 0 && t.Total > 0 && t.Running+t.Finished == t.Total {
			return Running
		}
	}
	return Starting
}

// TaskCounts are a job's tasks (subtasks) by execution state.
type TaskCounts struct {
	Total        int `json:"total"`
	Created      int `json:"created"`
	Scheduled    int `json:"scheduled"`
	Deploying    int `json:"deploying"`
	Initializing int `json:"initializing"`
	Running      int `json:"running"`
	Finished     int `json:"finished"`
	Canceling    int `json:"canceling"`
	Canceled     int `json:"canceled"`
	Failed       int `json:"failed"`
	Reconciling  int `json:"reconciling"`
}

func (t *TaskCounts) add(state string, n int) {
	switch strings.ToUpper(state) {
	case "CREATED":
		t.Created += n
	case "SCHEDULED":
		t.Scheduled += n
	case "DEPLOYING":
		t.Deploying += n
	case "INITIALIZING":
		t.Initializing += n
	case "RUNNING":
		t.Running += n
	case "FINISHED":
		t.Finished += n
	case "CANCELING":
		t.Canceling += n
	case "CANCELED":
		t.Canceled += n
	case "FAILED":
		t.Failed += n
	case "RECONCILING":
		t.Reconciling += n
	}
}

// JobOverview is one entry of GET /jobs/overview.
type JobOverview struct {
	ID               string     `json:"jid"`
	Name             string     `json:"name"`
	State            JobState   `json:"state"`
	StartTime        Timestamp  `json:"start-time"`
	EndTime          Timestamp  `json:"end-time"`
	Duration         Millis     `json:"duration"`
	LastModification Timestamp  `json:"last-modification"`
	Tasks            TaskCounts `json:"tasks"`
	// JobType (STREAMING, BATCH), SchedulerType and PendingOperators: Flink 2.x only.
	JobType          string `json:"jobType"`
	SchedulerType    string `json:"schedulerType"`
	PendingOperators int    `json:"pending-operators"`
}

// Outcome of the job by the plugin's rule (see [Outcome]).
func (j JobOverview) Outcome() Outcome { return outcomeOf(j.State, j.Tasks, j.PendingOperators) }

// Jobs is GET /jobs/overview: every job the JobManager knows, with task counts.
func (c *Client) Jobs(ctx context.Context) ([]JobOverview, error) {
	return getList[JobOverview](ctx, c, "/jobs/overview", "jobs")
}

// Job is GET /jobs/:jobid.
type Job struct {
	ID string `json:"jid"`
	// ApplicationID: Flink ≥ 2.3 only.
	ApplicationID  string    `json:"application-id"`
	Name           string    `json:"name"`
	IsStoppable    bool      `json:"isStoppable"`
	State          JobState  `json:"state"`
	JobType        string    `json:"job-type"`
	SchedulerType  string    `json:"schedulerType"` // 2.x only
	StartTime      Timestamp `json:"start-time"`
	EndTime        Timestamp `json:"end-time"`
	Duration       Millis    `json:"duration"`
	MaxParallelism int       `json:"maxParallelism"`
	Now            Timestamp `json:"now"`
	// Timestamps is when the job entered each state (zero: never).
	Timestamps map[JobState]Timestamp `json:"timestamps"`
	Vertices   []Vertex               `json:"vertices"`
	// StatusCounts are vertices by execution state.
	StatusCounts     map[string]int `json:"status-counts"`
	PendingOperators int            `json:"pending-operators"` // 2.x only
}

// Vertex is one job vertex (a chain of operators) of a Job.
type Vertex struct {
	ID                 string    `json:"id"`
	Name               string    `json:"name"`
	SlotSharingGroupID string    `json:"slotSharingGroupId"`
	MaxParallelism     int       `json:"maxParallelism"`
	Parallelism        int       `json:"parallelism"`
	Status             string    `json:"status"`
	StartTime          Timestamp `json:"start-time"`
	EndTime            Timestamp `json:"end-time"`
	Duration           Millis    `json:"duration"`
	// Tasks are subtasks by execution state, keys as Flink sends them (RUNNING, SCHEDULED, ...).
	Tasks map[string]int `json:"tasks"`
}

// Tasks sums the vertices' tasks by state; a vertex has as many as its parallelism.
func (j Job) Tasks() TaskCounts {
	var t TaskCounts
	for _, v := range j.Vertices {
		t.Total += v.Parallelism
		for state, n := range v.Tasks {
			t.add(state, n)
		}
	}
	return t
}

// Outcome of the job by the plugin's rule (see [Outcome]).
func (j Job) Outcome() Outcome { return outcomeOf(j.State, j.Tasks(), j.PendingOperators) }

// Job is GET /jobs/:jobid.
func (c *Client) Job(ctx context.Context, jobID string) (*Job, error) {
	return get[Job](ctx, c, "/jobs/"+escape(jobID))
}

// Exceptions is GET /jobs/:jobid/exceptions, the same shape for Flink 1.20 and 2.x.
type Exceptions struct {
	// Root is the newest root exception; nil when the job has had none.
	Root *RootCause
	// History is Flink's exception history, newest first.
	History []RootCause
	// Truncated: Flink left out older entries.
	Truncated bool
}

// RootCause is one failure of a job: the exception Flink reports as its root, parsed.
type RootCause struct {
	// Class, Message and Frames are the reported exception's (the outermost of Causes).
	Class   string
	Message string
	Frames  []string
	// Timestamp of the failure; zero when unknown.
	Timestamp time.Time
	// Causes is the whole "Caused by:" chain, outermost (Class/Message) first.
	Causes []stacktrace.Throwable
	// StackTrace is Flink's text.
	StackTrace string
	// TaskName, Endpoint and TaskManagerID locate a task's failure; empty for a global one.
	TaskName      string
	Endpoint      string
	TaskManagerID string
	FailureLabels map[string]string
	// Concurrent are failures that happened together with this one (Flink's concurrentExceptions).
	Concurrent []RootCause
}

// Innermost is the deepest cause, which names what really went wrong.
func (r RootCause) Innermost() stacktrace.Throwable {
	if len(r.Causes) == 0 {
		return stacktrace.Throwable{Class: r.Class, Message: r.Message, Frames: r.Frames}
	}
	return r.Causes[len(r.Causes)-1]
}

// Summary is the innermost cause on one line, e.g. "java.io.FileNotFoundException: File ... does
// not exist".
func (r RootCause) Summary() string { return summarize([]stacktrace.Throwable{r.Innermost()}) }

// newRootCause parses a stack trace.
func newRootCause(stack string, ts time.Time) RootCause {
	r := RootCause{StackTrace: stack, Timestamp: ts, Causes: stacktrace.Parse(stack)}
	if len(r.Causes) > 0 {
		r.Class, r.Message, r.Frames = r.Causes[0].Class, r.Causes[0].Message, r.Causes[0].Frames
	}
	return r
}

// exceptionEntry is one entry of exceptionHistory.
type exceptionEntry struct {
	ExceptionName        string            `json:"exceptionName"`
	Stacktrace           string            `json:"stacktrace"`
	Timestamp            Timestamp         `json:"timestamp"`
	TaskName             string            `json:"taskName"`
	Endpoint             string            `json:"endpoint"`
	Location             string            `json:"location"` // before 1.19
	TaskManagerID        string            `json:"taskManagerId"`
	FailureLabels        map[string]string `json:"failureLabels"`
	ConcurrentExceptions []exceptionEntry  `json:"concurrentExceptions"`
}

func (e exceptionEntry) rootCause() RootCause {
	r := newRootCause(e.Stacktrace, e.Timestamp.Time)
	if r.Class == "" {
		r.Class = e.ExceptionName
	}
	r.TaskName, r.Endpoint, r.TaskManagerID, r.FailureLabels = e.TaskName, e.Endpoint, e.TaskManagerID, e.FailureLabels
	if r.Endpoint == "" {
		r.Endpoint = e.Location
	}
	for _, ce := range e.ConcurrentExceptions {
		r.Concurrent = append(r.Concurrent, ce.rootCause())
	}
	return r
}

// Exceptions is GET /jobs/:jobid/exceptions. Flink 2.x sends only exceptionHistory; 1.20 also
// the older root-exception, used when the history is empty.
func (c *Client) Exceptions(ctx context.Context, jobID string) (*Exceptions, error) {
	var out struct {
		RootException string    `json:"root-exception"` // ≤ 1.20
		Timestamp     Timestamp `json:"timestamp"`      // ≤ 1.20
		Truncated     bool      `json:"truncated"`      // ≤ 1.20
		History       struct {
			Entries   []exceptionEntry `json:"entries"`
			Truncated bool             `json:"truncated"`
		} `json:"exceptionHistory"`
	}
	if err := c.getJSON(ctx, "/jobs/"+escape(jobID)+"/exceptions", &out); err != nil {
		return nil, err
	}
	ex := &Exceptions{Truncated: out.History.Truncated}
	for _, e := range out.History.Entries {
		ex.History = append(ex.History, e.rootCause())
	}
	switch {
	case len(ex.History) > 0:
		ex.Root = &ex.History[0]
	case strings.TrimSpace(out.RootException) != "":
		r := newRootCause(out.RootException, out.Timestamp.Time)
		ex.Root = &r
		ex.Truncated = ex.Truncated || out.Truncated
	}
	return ex, nil
}

// Cancel is PATCH /jobs/:jobid?mode=cancel. Flink accepts it (202) also for a job that already
// ended; an unknown job is a 404 (IsNotFound).
func (c *Client) Cancel(ctx context.Context, jobID string) error {
	return c.sendJSON(ctx, http.MethodPatch, "/jobs/"+escape(jobID)+"?mode=cancel", nil, nil)
}
