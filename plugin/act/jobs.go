package act

import (
	"context"
	"fmt"

	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/jobmanager"
	"github.com/helm-flink/helm-flink/plugin/savepoint"
	"github.com/helm-flink/helm-flink/schema"
)

// RunJar runs a job on rel's JobManager jm and, unless noWait, waits until every task runs. When
// the JobManager keeps uploaded jars the jar stays and the job is recorded in the release's jobs
// record, so that an upgrade or rollback that replaces the JobManager runs it again from a
// savepoint.
func (c *Config) RunJar(ctx context.Context, rel *Release, jm *jobmanager.JobManager, s jobmanager.Spec, noWait bool) (jobmanager.Progress, error) {
	// A job wider than every slot the cluster can have would wait for slots until Flink fails
	// it (slot.request.timeout): refused before it is submitted.
	if most, ok := schema.TaskSlots(rel.Values); ok && int64(s.Parallelism) > most.Total() {
		return jobmanager.Progress{}, exit.With(exit.JobFailed, fmt.Errorf("--parallelism %d: release %s has %d task slots (%s); lower --parallelism or raise those with helm flink upgrade",
			s.Parallelism, rel.Name, most.Total(), most.Rule()))
	}
	s.KeepJar = rel.KeepsJars()
	p, jarID, err := jm.Run(ctx, s, noWait, c.Progressf)
	if jarID != "" && p.JobID != "" {
		c.RecordSubmission(ctx, rel, savepoint.Submission{
			JobID: p.JobID, JarID: jarID, Jar: s.Jar, EntryClass: s.EntryClass, Args: s.Args,
			Parallelism: s.Parallelism, AllowNonRestoredState: s.AllowNonRestoredState,
		}, "")
	}
	return p, err
}

// Jobs is the jobs record of release name.
func (c *Config) Jobs(name string) (savepoint.Jobs, error) {
	cs, _, err := c.Clientset()
	if err != nil {
		return savepoint.Jobs{}, err
	}
	return savepoint.Jobs{Kube: cs, Namespace: c.Namespace(), Release: name}, nil
}

// RecordSubmission records a job run from a kept jar against rel's revision (replacing the entry
// of the job it was run again for, if any). The job runs whether or not it is recorded: a record
// that cannot be written is reported, not an error of the action.
func (c *Config) RecordSubmission(ctx context.Context, rel *Release, s savepoint.Submission, replaces string) {
	if s.Revision == 0 {
		s.Revision = rel.Version
	}
	r, err := c.Jobs(rel.Name)
	if err == nil {
		err = r.Add(ctx, s, replaces)
	}
	if err != nil {
		c.Progressf("  warning: %v", err)
	}
}
