package act

import (
	"context"

	"github.com/helm-flink/helm-flink/plugin/jobmanager"
	"github.com/helm-flink/helm-flink/plugin/manifest"
	"github.com/helm-flink/helm-flink/plugin/savepoint"
)

// KeepsJars says whether the release is a session whose JobManager keeps uploaded jars where a
// replaced JobManager finds them again (web.upload.dir on the release's claim).
func KeepsJars(m manifest.Manifest, mode Mode) bool {
	return mode == Session && m.KeptUploadDir() != ""
}

// RunJar runs a job on the release's JobManager jm and, unless noWait, waits until every task
// runs. When the JobManager keeps uploaded jars the jar stays and the job is recorded in the
// release's jobs record, so that an upgrade or rollback that replaces the JobManager runs it again
// from a savepoint.
func (c *Config) RunJar(ctx context.Context, jm *jobmanager.JobManager, s jobmanager.Spec, noWait bool) (jobmanager.Progress, error) {
	m, err := manifest.Parse(c.Release.Manifest)
	s.KeepJar = err == nil && KeepsJars(m, ChartMode(c.Release.Chart))
	p, jarID, err := jm.Run(ctx, s, noWait, c.Progressf)
	if jarID != "" && p.JobID != "" {
		c.RecordSubmission(ctx, savepoint.Submission{
			JobID: p.JobID, JarID: jarID, Jar: s.Jar, EntryClass: s.EntryClass, Args: s.Args,
			Parallelism: s.Parallelism, AllowNonRestoredState: s.AllowNonRestoredState,
		}, "")
	}
	return p, err
}

// Jobs is the jobs record of the release.
func (c *Config) Jobs() (savepoint.Jobs, error) {
	cs, _, err := c.Clientset()
	if err != nil {
		return savepoint.Jobs{}, err
	}
	return savepoint.Jobs{Kube: cs, Namespace: c.Release.Namespace, Release: c.Release.Name}, nil
}

// RecordSubmission records a job run from a kept jar against the release's current revision
// (replacing the entry of the job it was run again for, if any). The job runs whether or not it
// is recorded: a record that cannot be written is reported, not an error of the action.
func (c *Config) RecordSubmission(ctx context.Context, s savepoint.Submission, replaces string) {
	if s.Revision == 0 {
		s.Revision = c.Release.Version
	}
	r, err := c.Jobs()
	if err == nil {
		err = r.Add(ctx, s, replaces)
	}
	if err != nil {
		c.Progressf("  warning: %v", err)
	}
}
