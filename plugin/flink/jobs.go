package flink

import (
	"context"
	"net/http"
	"strings"
	"time"
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

// IsTerminal: the job is over for good (FAILED, CANCELED, FINISHED).
func (s JobState) IsTerminal() bool {
	return s == JobFailed || s == JobCanceled || s == JobFinished
}

// IsFailing: the job failed or is failing or restarting after a failure (FAILING, FAILED,
// RESTARTING).
func (s JobState) IsFailing() bool {
	return s == JobFailing || s == JobFailed || s == JobRestarting
}

// IsCancelled: CANCELLING or CANCELED.
func (s JobState) IsCancelled() bool { return s == JobCancelling || s == JobCanceled }

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

// AllRunning: every task is RUNNING or FINISHED (and there is at least one).
func (t TaskCounts) AllRunning() bool {
	return t.Total > 0 && t.Running+t.Finished == t.Total
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

// AllTasksRunning: RUNNING with every task running or finished — when the plugin calls a job
// running (Flink says RUNNING as soon as scheduling starts).
func (j JobOverview) AllTasksRunning() bool {
	return j.State == JobRunning && j.PendingOperators == 0 && j.Tasks.AllRunning()
}

// Jobs is GET /jobs/overview: every job the JobManager knows, with task counts.
func (c *Client) Jobs(ctx context.Context) ([]JobOverview, error) {
	var out struct {
		Jobs []JobOverview `json:"jobs"`
	}
	if err := c.getJSON(ctx, "/jobs/overview", &out); err != nil {
		return nil, err
	}
	return out.Jobs, nil
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

// TaskCounts of the vertex; Total is its parallelism.
func (v Vertex) TaskCounts() TaskCounts {
	t := TaskCounts{Total: v.Parallelism}
	for state, n := range v.Tasks {
		t.add(state, n)
	}
	return t
}

// Tasks sums the vertices' task counts.
func (j Job) Tasks() TaskCounts {
	var t TaskCounts
	for _, v := range j.Vertices {
		vt := v.TaskCounts()
		t.Total += vt.Total
		t.Created += vt.Created
		t.Scheduled += vt.Scheduled
		t.Deploying += vt.Deploying
		t.Initializing += vt.Initializing
		t.Running += vt.Running
		t.Finished += vt.Finished
		t.Canceling += vt.Canceling
		t.Canceled += vt.Canceled
		t.Failed += vt.Failed
		t.Reconciling += vt.Reconciling
	}
	return t
}

// AllTasksRunning: RUNNING with every task of every vertex running or finished, and no operator
// still pending.
func (j Job) AllTasksRunning() bool {
	return j.State == JobRunning && j.PendingOperators == 0 && j.Tasks().AllRunning()
}

// Job is GET /jobs/:jobid.
func (c *Client) Job(ctx context.Context, jobID string) (*Job, error) {
	var j Job
	if err := c.getJSON(ctx, "/jobs/"+escape(jobID), &j); err != nil {
		return nil, err
	}
	return &j, nil
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
	Causes []Throwable
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
func (r RootCause) Innermost() Throwable {
	if len(r.Causes) == 0 {
		return Throwable{Class: r.Class, Message: r.Message, Frames: r.Frames}
	}
	return r.Causes[len(r.Causes)-1]
}

// Summary is the innermost cause on one line, e.g. "java.io.FileNotFoundException: File ... does
// not exist".
func (r RootCause) Summary() string { return summarize([]Throwable{r.Innermost()}) }

// newRootCause parses a stack trace.
func newRootCause(stack string, ts time.Time) RootCause {
	r := RootCause{StackTrace: stack, Timestamp: ts, Causes: ParseStackTrace(stack)}
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
