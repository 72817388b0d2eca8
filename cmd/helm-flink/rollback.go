package main

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/upgrade"
)

const rollbackHelp = `Roll a release back to an earlier revision's chart and values, with its jobs' state.

The rollback is an upgrade to that revision's chart and values (a new revision, as helm rollback
makes): the plan, the savepoint and the wait are helm flink upgrade's. For flink-job the running
job is stopped with a savepoint (recorded in the release's savepoint record) and starts again
from the newest savepoint: that one, or, when the job does not run, the newest recorded
(--state newest, the default); or from the savepoint taken when the revision rolled back to was
left (--state revision). A rollback with no savepoint to start from is refused. REVISION
defaults to the one before the current:

  helm flink rollback fraud            # back to the previous revision, from the newest state
  helm flink rollback fraud 3 --state revision

For flink-session: jobs keep running when the JobManager stays, are recovered from their latest
checkpoints with HA, and a rollback that would restart the JobManager under running jobs without
HA is refused, naming them, unless --force. --dry-run prints the plan.`

type rollbackOptions struct {
	releaseOptions
	revision int
	dryRun   bool
	upgrade  *upgrade.Upgrade
}

func newRollbackCmd(cfg *act.Config, out io.Writer) *cobra.Command {
	o := &rollbackOptions{releaseOptions: newReleaseOptions(cfg, out), upgrade: upgrade.New(cfg)}
	cmd := &cobra.Command{
		Use:   "rollback RELEASE [REVISION]",
		Short: "Roll back to an earlier revision's chart and values; the job starts from a savepoint",
		Long:  rollbackHelp,
		Args: func(cmd *cobra.Command, a []string) error {
			if len(a) < 1 || len(a) > 2 {
				return exit.InputError(fmt.Errorf("rollback takes RELEASE and an optional REVISION, got %d argument(s) (see %s --help)", len(a), cmd.CommandPath()))
			}
			return nil
		},
		ValidArgsFunction: completeReleases(cfg, 1),
		RunE:              runE(cfg, o),
	}
	f := cmd.Flags()
	f.StringVar(&o.upgrade.State, "state", upgrade.StateNewest, "flink-job: what the job starts from: newest (the savepoint the rollback stops it with, else the newest recorded) or revision (the one taken when REVISION was left)")
	f.StringVar(&o.upgrade.SavepointDir, "savepoint-dir", "", "where the job is stopped to (default: the cluster's state.savepoints.dir)")
	f.BoolVar(&o.upgrade.AllowNonRestoredState, "allow-non-restored-state", false, "flink-job: allow savepoint state that maps to no operator of the revision's job")
	f.BoolVar(&o.upgrade.Force, "force", false, "flink-session: roll back even when the JobManager restarts under running jobs without HA")
	f.BoolVar(&o.dryRun, "dry-run", false, "print the plan and change nothing")
	f.StringVar(&o.upgrade.Description, "description", "", "a custom description of the revision (default: Rollback to REVISION)")
	f.BoolVar(&o.upgrade.NoRollback, "no-rollback", false, "leave a rollback revision whose JobManager fails on it instead of returning to the current chart and values")
	o.addFlags(cmd)
	return cmd
}

func (o *rollbackOptions) Complete(a []string) error {
	if len(a) == 2 {
		n, err := strconv.Atoi(a[1])
		if err != nil || n < 1 {
			return exit.InputError(fmt.Errorf("REVISION %q: want a revision number (1, 2, …; see helm history %s)", a[1], a[0]))
		}
		o.revision = n
	}
	return o.releaseOptions.Complete(a)
}

func (o *rollbackOptions) Validate() error {
	return firstError(o.releaseOptions.Validate(), o.upgrade.Validate())
}

func (o *rollbackOptions) Run(ctx context.Context) error {
	if o.dryRun {
		p, err := o.upgrade.RollbackPlan(ctx, o.rel, o.revision)
		if err != nil {
			return err
		}
		return writePlan(o.out, o.output, p)
	}
	res, err := o.upgrade.Rollback(ctx, o.rel, o.revision)
	if err != nil {
		if res != nil && res.Rollback != nil && (o.output == "json" || o.output == "yaml") {
			_ = o.write(res, nil)
		}
		return err
	}
	return o.write(res, func(w io.Writer) {
		fmt.Fprintf(w, "RELEASE\t%s\nNAMESPACE\t%s\nREVISION\t%d (the chart and values of revision %d)\n", res.Release, res.Namespace, res.Revision, res.RolledBackTo)
		resultRows(w, res)
	})
}
