package jobmanager

import (
	"fmt"

	"github.com/helm-flink/helm-flink/plugin/flink"
)

// Health of a release: one rule for `status` (its exit code) and `list`.
type Health string

// Healths.
const (
	// Healthy: the JobManager answers, every job runs with every task (or finished), and the
	// job the release defines is among them.
	Healthy Health = "healthy"
	// JobFailing: a job failed or restarts.
	JobFailing Health = "job failing"
	// JobStarting: a job is RUNNING with tasks that are not (yet): waiting for slots, or for
	// TaskManagers that may never start.
	JobStarting Health = "job starting"
	// JobMissing: the job the release defines (an application's own, the session chart's
	// submit.jobName) does not run.
	JobMissing Health = "job missing"
	// Unreachable: no JobManager answered.
	Unreachable Health = "unreachable"
)

// Own is the job a release defines: an application's by id, the session chart's by name
// (submit.jobName); neither for a session that submits none.
type Own struct {
	ID   string
	Name string
}

func (o Own) String() string {
	if o.ID != "" {
		return "job " + o.ID
	}
	return "job " + o.Name + " (submit.jobName)"
}

func (o Own) is(j Job) bool {
	return (o.ID != "" && j.ID == o.ID) || (o.Name != "" && j.Name == o.Name)
}

// Judge is a release's health from its JobManager's jobs, and the problem when it is not
// healthy. A failing job outweighs a starting one; a missing own job counts only when nothing
// else is wrong.
func Judge(jobs []Job, own Own) (Health, string) {
	health, problem := Healthy, ""
	found := own == Own{}
	for _, j := range jobs {
		if own.is(j) && j.Outcome.OK() {
			found = true
		}
		if j.State == string(flink.JobCanceled) || j.Outcome.OK() {
			continue
		}
		h := JobFailing
		if j.Outcome == flink.Starting {
			h = JobStarting
		}
		if health == Healthy || (health == JobStarting && h == JobFailing) {
			health, problem = h, fmt.Sprintf("job %s (%s) is %s with %d of %d tasks running", j.ID, j.Name, j.State, j.Running, j.Total)
		}
	}
	if !found && health == Healthy {
		return JobMissing, fmt.Sprintf("%s, the release's own, does not run", own)
	}
	return health, problem
}
