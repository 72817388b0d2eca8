package savepoint

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
)

// JobsLabel marks a release's jobs record; its value is the release's name.
const JobsLabel = "helm-flink.dev/jobs-of"

// JobsName is the jobs record's ConfigMap of a release.
func JobsName(release string) string { return release + "-flink-jobs" }

// Submission is a job submitted to a session: by the plugin, when the JobManager keeps uploaded
// jars (web.upload.dir on the release's claim), how to run it again from its kept jar once an
// upgrade or a rollback has replaced the JobManager, which forgets its jobs without HA; by the
// session chart's submit hook, its job (no JarID: the hook runs it again itself).
type Submission struct {
	JobID string `json:"jobId"`
	// JarID is the jar's id in the JobManager's upload dir (GET /jars), which a new JobManager
	// lists again; "" for the chart's job.
	JarID string `json:"jarId"`
	// Name is the job's name, as the chart's hook knows its job.
	Name string `json:"name,omitempty"`
	// Jar is the jar as the user named it.
	Jar                   string    `json:"jar,omitempty"`
	EntryClass            string    `json:"entryClass,omitempty"`
	Args                  []string  `json:"args,omitempty"`
	Parallelism           int       `json:"parallelism,omitempty"`
	AllowNonRestoredState bool      `json:"allowNonRestoredState,omitempty"`
	Revision              int       `json:"revision"`
	Time                  time.Time `json:"time"`
}

// Jobs is the record of the jobs submitted to a session release, by the plugin from kept jars and
// by the chart's submit hook: one ConfigMap per release (<release>-flink-jobs), one data key per
// job id. It is not part of the release: the plugin and the chart's post-delete hook delete it on
// uninstall.
type Jobs struct {
	Kube      kubernetes.Interface
	Namespace string
	Release   string
}

func (r Jobs) store() store {
	return store{kube: r.Kube, namespace: r.Namespace, name: JobsName(r.Release), labels: map[string]string{
		JobsLabel: r.Release, "app.kubernetes.io/managed-by": "helm-flink",
	}}
}

// Add records a submission; replaces (a job id, or "") is the job it was run again for, whose
// entry goes.
func (r Jobs) Add(ctx context.Context, s Submission, replaces string) error {
	if s.Time.IsZero() {
		s.Time = time.Now()
	}
	v, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("record job %s: %w", s.JobID, err)
	}
	value := string(v)
	data := map[string]*string{s.JobID: &value}
	if replaces != "" && replaces != s.JobID {
		data[replaces] = nil
	}
	if err := r.store().patch(ctx, data); err != nil {
		return fmt.Errorf("record job %s in ConfigMap %s: %w", s.JobID, JobsName(r.Release), err)
	}
	return nil
}

// List is every recorded submission by job id; none when there is no record.
func (r Jobs) List(ctx context.Context) (map[string]Submission, error) {
	data, err := r.store().data(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the jobs record %s: %w", JobsName(r.Release), err)
	}
	out := map[string]Submission{}
	var bad []string
	for k, v := range data {
		var s Submission
		if err := json.Unmarshal([]byte(v), &s); err != nil || (s.JarID == "" && s.Name == "") || s.JobID != k {
			bad = append(bad, k)
			continue
		}
		out[k] = s
	}
	if len(bad) > 0 {
		return out, fmt.Errorf("jobs record %s: entries %s are not submissions (JSON with jobId, and jarId or name)", JobsName(r.Release), strings.Join(bad, ", "))
	}
	return out, nil
}

// Delete removes the record; a missing one is not an error.
func (r Jobs) Delete(ctx context.Context) error {
	if err := r.store().remove(ctx); err != nil {
		return fmt.Errorf("delete the jobs record %s: %w", JobsName(r.Release), err)
	}
	return nil
}
