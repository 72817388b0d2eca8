// Package cluster is the commands on a release's running Flink cluster: jobs, status, cancel, stop and savepoint.
package cluster

import (
	"context"
	"time"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/jobmanager"
	"github.com/helm-flink/helm-flink/plugin/kube"
	"github.com/helm-flink/helm-flink/plugin/savepoint"
)

// Jobs lists a release's jobs.
type Jobs struct{ cfg *act.Config }

// NewJobs is a job list with cfg.
func NewJobs(cfg *act.Config) *Jobs { return &Jobs{cfg: cfg} }

// Run lists rel's jobs, newest first.
func (a *Jobs) Run(ctx context.Context, rel *act.Release) ([]jobmanager.Job, error) {
	jm, err := a.cfg.Connect(ctx, rel)
	if err != nil {
		return nil, err
	}
	defer jm.Close()
	jobs, err := jm.Jobs(ctx)
	if err != nil {
		return nil, err
	}
	jm.WithFailures(ctx, jobs)
	return jobs, nil
}

// Cancel cancels a job of a release, with no savepoint.
type Cancel struct{ cfg *act.Config }

// NewCancel is a cancellation with cfg.
func NewCancel(cfg *act.Config) *Cancel { return &Cancel{cfg: cfg} }

// Run cancels rel's job and waits until it is CANCELED.
func (a *Cancel) Run(ctx context.Context, rel *act.Release, jobID string) error {
	jm, err := a.cfg.Connect(ctx, rel)
	if err != nil {
		return err
	}
	defer jm.Close()
	return jm.Cancel(ctx, jobID)
}

// Savepoint takes a savepoint of a running job of a release; with Stop the job ends with it.
type Savepoint struct {
	cfg *act.Config

	// Dir is where the JobManager writes the savepoint.
	Dir string
	// Stop ends the job with the savepoint, draining its sources first with Drain.
	Stop, Drain bool
}

// NewSavepoint is a savepoint with cfg.
func NewSavepoint(cfg *act.Config) *Savepoint { return &Savepoint{cfg: cfg} }

// Run takes the savepoint and returns its path once it is complete.
func (a *Savepoint) Run(ctx context.Context, rel *act.Release, jobID string) (string, error) {
	flag := "--dir"
	if a.Stop {
		flag = "--savepoint-dir"
	}
	if err := act.CheckSavepointDir(rel, flag, a.Dir); err != nil {
		return "", err
	}
	jm, err := a.cfg.Connect(ctx, rel)
	if err != nil {
		return "", err
	}
	defer jm.Close()
	var name string
	if jobs, err := jm.Jobs(ctx); err == nil {
		for _, j := range jobs {
			if j.ID == jobID {
				name = j.Name
			}
		}
	}
	var loc string
	reason := savepoint.Manual
	if a.Stop {
		reason = savepoint.Stop
		loc, err = jm.Stop(ctx, jobID, a.Dir, a.Drain)
	} else {
		loc, err = jm.Savepoint(ctx, jobID, a.Dir)
	}
	if err != nil {
		return "", err
	}
	a.cfg.RecordSavepoint(ctx, rel, savepoint.Entry{JobID: jobID, JobName: name, Path: loc, Reason: reason})
	return loc, nil
}

// Status reports on a release.
type Status struct{ cfg *act.Config }

// NewStatus is a status with cfg.
func NewStatus(cfg *act.Config) *Status { return &Status{cfg: cfg} }

// Report is `helm flink status`.
type Report struct {
	Release ReleaseInfo `json:"release"`
	// NativeClusterID is set in native mode: the JobManager creates the TaskManager pods (those
	// whose createdBy is flink) and deletes idle ones.
	NativeClusterID string            `json:"nativeClusterId,omitempty"`
	Pods            []kube.PodSummary `json:"pods"`
	FlinkVersion    string            `json:"flinkVersion,omitempty"`
	TaskManagers    int               `json:"taskManagers"`
	SlotsTotal      int               `json:"slotsTotal"`
	SlotsFree       int               `json:"slotsFree"`
	// Jobs carry each job's outcome by the rule install and upgrade wait for.
	Jobs []jobmanager.Job `json:"jobs"`
	// JobManagerError is why the Flink part is missing when the JobManager could not be reached.
	JobManagerError string `json:"jobManagerError,omitempty"`
	// Health is how the release stands, and Problem why when it is not healthy.
	Health  jobmanager.Health `json:"health"`
	Problem string            `json:"problem,omitempty"`
}

// judge sets the report's health by the rule list shares (jobmanager.Judge).
func (r *Report) judge(own jobmanager.Own) {
	if r.JobManagerError != "" {
		r.Health, r.Problem = jobmanager.Unreachable, "the JobManager cannot be reached: "+r.JobManagerError
		return
	}
	r.Health, r.Problem = jobmanager.Judge(r.Jobs, own)
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

// Run gathers pods from Kubernetes and TaskManagers, slots and jobs from the JobManager; an
// unreachable JobManager still gives the Kubernetes part, with the reason.
func (a *Status) Run(ctx context.Context, rel *act.Release) (*Report, error) {
	info := ReleaseInfo{Name: rel.Name, Namespace: rel.Namespace, Revision: rel.Version}
	if rel.Info != nil {
		info.Status, info.Updated = rel.Info.Status.String(), rel.Info.LastDeployed.Time
	}
	if rel.Chart != nil && rel.Chart.Metadata != nil {
		info.Chart = rel.Chart.Metadata.Name + "-" + rel.Chart.Metadata.Version
	}
	info.FluxOwner, _ = act.FluxOwner(rel.Release)
	cs, _, err := a.cfg.Clientset()
	if err != nil {
		return nil, err
	}
	r := &Report{Release: info, NativeClusterID: rel.Kind.ClusterID()}
	if r.Pods, err = kube.Pods(ctx, cs, rel.Namespace, rel.Name); err != nil {
		return nil, err
	}
	jm, err := a.cfg.Connect(ctx, rel)
	if err != nil {
		r.JobManagerError = err.Error()
		r.judge(jobmanager.Own{})
		return r, nil
	}
	defer jm.Close()
	ov, err := jm.REST.Overview(ctx)
	if err != nil {
		r.JobManagerError = err.Error()
		r.judge(jobmanager.Own{})
		return r, nil
	}
	r.FlinkVersion, r.TaskManagers, r.SlotsTotal, r.SlotsFree = ov.FlinkVersion, ov.TaskManagers, ov.SlotsTotal, ov.SlotsAvailable
	if r.Jobs, err = jm.Jobs(ctx); err != nil {
		r.JobManagerError = err.Error()
	}
	jm.WithFailures(ctx, r.Jobs)
	id, name := rel.Kind.Own(rel)
	r.judge(jobmanager.Own{ID: id, Name: name})
	return r, nil
}
