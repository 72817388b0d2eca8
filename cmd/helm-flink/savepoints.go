package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/savepoint"
)

const savepointsHelp = `List the savepoints recorded for a release, oldest first.

Every savepoint helm flink takes (upgrade, rollback, stop, savepoint, uninstall --stop-jobs), and
every one the session chart's pre-upgrade hook takes, is recorded against the Helm revision it
was taken in, in ConfigMap RELEASE-flink-savepoints of the release's namespace. The record
outlives an uninstall while its savepoints do, so this works for a release that is gone too:
a reinstall can start from one (flink-job: --set job.fromSavepoint=PATH; flink-session:
--jar JAR --savepoint PATH), as can helm flink rollback.`

// savepointsOptions reads the record only: no release or JobManager needed.
type savepointsOptions struct {
	clusterOptions
	name string
}

func newSavepointsCmd(cfg *act.Config, out io.Writer) *cobra.Command {
	o := &savepointsOptions{clusterOptions: clusterOptions{cfg: cfg, out: out}}
	cmd := &cobra.Command{
		Use:               "savepoints RELEASE",
		Short:             "List a release's recorded savepoints: revision, time, job, what took it, path",
		Long:              savepointsHelp,
		Args:              args("RELEASE"),
		ValidArgsFunction: completeReleases(cfg, 1),
		RunE:              runE(cfg, o),
	}
	o.addFlags(cmd)
	return cmd
}

func (o *savepointsOptions) Complete(a []string) error {
	o.name = a[0]
	return o.clusterOptions.Complete(a)
}

func (o *savepointsOptions) Run(ctx context.Context) error {
	cs, _, err := o.cfg.Clientset()
	if err != nil {
		return err
	}
	entries, err := savepoint.Record{Kube: cs, Namespace: o.cfg.Namespace(), Release: o.name}.List(ctx)
	if err != nil {
		return err
	}
	if entries == nil {
		entries = []savepoint.Entry{}
	}
	return o.write(entries, func(w io.Writer) {
		if len(entries) == 0 {
			fmt.Fprintf(w, "no savepoint recorded for release %s in namespace %s\n", o.name, o.cfg.Namespace())
			return
		}
		fmt.Fprintln(w, "REVISION\tTIME\tJOB\tREASON\tPATH")
		for _, e := range entries {
			job := e.JobID
			if e.JobName != "" {
				job += " (" + e.JobName + ")"
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", e.Revision, e.Time.UTC().Format(time.RFC3339), job, e.Reason, e.Path)
		}
	})
}
