package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/cluster"
	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/savepoint"
)

const savepointsHelp = `List the savepoints recorded for a release, oldest first.

Every savepoint helm flink takes (upgrade, rollback, stop, savepoint, uninstall --stop-jobs), and
every one the session chart's pre-upgrade hook takes, is recorded against the Helm revision it
was taken in, in ConfigMap RELEASE-flink-savepoints of the release's namespace. The record
outlives an uninstall while its savepoints do, so this works for a release that is gone too:
a reinstall can start from one (flink-job: --set job.fromSavepoint=PATH; flink-session:
--jar JAR --savepoint PATH), as can helm flink rollback.

--prune disposes of all but the --keep newest (with --older-than, only those older than that)
through Flink's savepoint disposal, which needs the release's JobManager, and takes each out of
the record once Flink disposed of it; one Flink could not dispose of is reported and stays:

  helm flink savepoints fraud --prune --keep 3 --older-than 168h`

// savepointsOptions reads the record only: no release or JobManager needed.
type savepointsOptions struct {
	clusterOptions
	name      string
	prune     bool
	keep      int
	olderThan time.Duration
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
	f := cmd.Flags()
	f.BoolVar(&o.prune, "prune", false, "dispose of older savepoints through Flink and take them out of the record")
	f.Var(newIntAtLeast(&o.keep, -1, 0), "keep", "with --prune: how many of the newest to keep")
	f.Var(newPositiveDuration(&o.olderThan, 0), "older-than", "with --prune: dispose only of savepoints older than this, e.g. 168h")
	o.addFlags(cmd)
	return cmd
}

func (o *savepointsOptions) Validate() error {
	var err error
	switch {
	case !o.prune && (o.keep >= 0 || o.olderThan != 0):
		err = errors.New("--keep and --older-than are options of --prune")
	case o.prune && o.keep < 0:
		err = errors.New("--prune needs --keep N: how many of the newest savepoints to keep (0 disposes of all)")
	case o.olderThan < 0:
		err = fmt.Errorf("--older-than %s: want a positive duration such as 168h", o.olderThan)
	}
	if err != nil {
		return exit.InputError(err)
	}
	return o.clusterOptions.Validate()
}

func (o *savepointsOptions) Complete(a []string) error {
	o.name = a[0]
	return o.clusterOptions.Complete(a)
}

func (o *savepointsOptions) Run(ctx context.Context) error {
	if o.prune {
		rel, err := o.cfg.Load(o.name)
		if err != nil {
			return err
		}
		p := cluster.NewPrune(o.cfg)
		p.Keep, p.OlderThan = o.keep, o.olderThan
		res, err := p.Run(ctx, rel)
		if err != nil {
			if res != nil && (o.output == "json" || o.output == "yaml") {
				_ = o.write(res, nil)
			}
			return err
		}
		return o.write(res, func(w io.Writer) {
			fmt.Fprintf(w, "DISPOSED\t%d\nKEPT\t%d\n", len(res.Disposed), len(res.Kept))
			for _, e := range res.Disposed {
				fmt.Fprintf(w, "DISPOSED OF\t%s (revision %d)\n", e.Path, e.Revision)
			}
		})
	}
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
