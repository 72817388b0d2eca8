package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/spf13/cobra"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/upgrade"
	"github.com/helm-flink/helm-flink/plugin/values"
)

const upgradeHelp = `Upgrade a release without losing its jobs' state.

For flink-job: the running job is stopped with a savepoint (into --savepoint-dir, else the
cluster's state.savepoints.dir), the release is upgraded to start from that savepoint, and the
command returns when every task runs again. Change parallelism, TaskManagers, image or config
this way:

  helm flink upgrade fraud charts/flink-job --reuse-values --set parallelism=8 --set taskmanager.replicas=4

For flink-session: the upgrade is refused when it would restart the JobManager under running
jobs without HA (Flink would forget them), unless --force. Scaling TaskManagers never restarts
the JobManager:

  helm flink upgrade analytics charts/flink-session --reuse-values --set taskmanager.replicas=5`

// changeOptions are what upgrade and plan share: the release, the chart and values it goes to,
// and how its jobs cross.
type changeOptions struct {
	releaseOptions
	chart   act.ChartRef
	values  values.Options
	upgrade *upgrade.Upgrade
}

func newChangeOptions(cfg *act.Config, out io.Writer) changeOptions {
	return changeOptions{releaseOptions: newReleaseOptions(cfg, out), upgrade: upgrade.New(cfg)}
}

func (o *changeOptions) Complete(a []string) error {
	o.chart.Name = a[1]
	return o.releaseOptions.Complete(a)
}

func (o *changeOptions) Validate() error {
	return firstError(o.releaseOptions.Validate(), o.upgrade.Validate())
}

type upgradeOptions struct {
	changeOptions
	dryRun bool
}

func newUpgradeCmd(cfg *act.Config, out io.Writer) *cobra.Command {
	o := &upgradeOptions{changeOptions: newChangeOptions(cfg, out)}
	cmd := &cobra.Command{
		Use:               "upgrade RELEASE CHART",
		Short:             "Upgrade or scale a release; a per-job cluster's job goes through a savepoint",
		Long:              upgradeHelp,
		Args:              args("RELEASE", "CHART"),
		ValidArgsFunction: completeReleases(cfg, 1),
		RunE:              runE(cfg, o),
	}
	addUpgradeFlags(cmd, &o.values, &o.chart, o.upgrade)
	f := cmd.Flags()
	f.BoolVar(&o.dryRun, "dry-run", false, "print the plan (what the upgrade would do to the running jobs and which objects change) and change nothing, as helm flink plan")
	f.StringVar(&o.upgrade.Description, "description", "", "a custom description of the revision")
	f.BoolVar(&o.upgrade.NoRollback, "no-rollback", false, "leave a revision whose JobManager fails on it instead of returning to the previous chart and values (flink-job: and the job to the upgrade's savepoint)")
	o.addFlags(cmd)
	return cmd
}

// addUpgradeFlags are the flags upgrade and plan share: what to upgrade to, and how the jobs
// cross it.
func addUpgradeFlags(cmd *cobra.Command, vals *values.Options, chart *act.ChartRef, u *upgrade.Upgrade) {
	f := cmd.Flags()
	addValueFlags(f, vals)
	addChartFlags(f, &chart.ChartPathOptions)
	o := struct{ upgrade *upgrade.Upgrade }{u}
	f.BoolVar(&o.upgrade.ReuseValues, "reuse-values", false, "reuse the release's values (and its chart's defaults, as helm does) and merge the new ones in")
	f.BoolVar(&o.upgrade.ResetThenReuseValues, "reset-then-reuse-values", false, "reuse the release's values over the new chart's defaults and merge the new ones in")
	f.StringVar(&o.upgrade.SavepointDir, "savepoint-dir", "", "where jobs are stopped to: flink-job's job (default: the cluster's state.savepoints.dir), flink-session's with --stop-jobs")
	f.BoolVar(&o.upgrade.StopJobs, "stop-jobs", false, "flink-session: when the upgrade leaves fewer task slots than running jobs hold, stop those jobs with savepoints into --savepoint-dir first")
	f.StringVar(&o.upgrade.Mode, "upgrade-mode", upgrade.SavepointMode, "flink-job: savepoint (stop with a savepoint, restart from it) or last-state (with HA: the new JobManager recovers the job from its latest checkpoint)")
	f.BoolVar(&o.upgrade.NoSavepoint, "no-savepoint", false, "flink-job: do not stop the job with a savepoint first")
	f.BoolVar(&o.upgrade.AllowNonRestoredState, "allow-non-restored-state", false, "flink-job: allow savepoint state that maps to no operator of the new job")
	f.BoolVar(&o.upgrade.Force, "force", false, "flink-session: upgrade even when the JobManager restarts under running jobs without HA")
}

func (o *upgradeOptions) Run(ctx context.Context) error {
	if o.dryRun {
		p, err := o.upgrade.Plan(ctx, o.rel, o.chart, o.values)
		if err != nil {
			return err
		}
		return writePlan(o.out, o.output, p)
	}
	res, err := o.upgrade.Run(ctx, o.rel, o.chart, o.values)
	if err != nil {
		if res != nil && res.Rollback != nil && (o.output == "json" || o.output == "yaml") {
			// A failed upgrade's result says what happened to the release and the job's state.
			_ = o.write(res, nil)
		}
		return err
	}
	return o.write(res, func(w io.Writer) {
		fmt.Fprintf(w, "RELEASE\t%s\nNAMESPACE\t%s\nREVISION\t%d\n", res.Release, res.Namespace, res.Revision)
		resultRows(w, res)
	})
}

// resultRows are the rows of an upgrade's or a rollback's result after its revision: the
// savepoints taken and started from, the session jobs stopped and run again, the job, the time.
func resultRows(w io.Writer, res *upgrade.Result) {
	if res.Savepoint != "" {
		fmt.Fprintf(w, "SAVEPOINT\t%s\n", res.Savepoint)
	}
	if res.Restored != "" {
		fmt.Fprintf(w, "RESTORED\t%s\n", res.Restored)
	}
	for _, id := range slices.Sorted(maps.Keys(res.StoppedJobs)) {
		fmt.Fprintf(w, "STOPPED\t%s, savepoint %s\n", id, res.StoppedJobs[id])
	}
	for _, r := range res.Resubmitted {
		fmt.Fprintf(w, "RUN AGAIN\t%s (%s) → %s, from savepoint %s\n", r.JobID, r.Name, r.NewJobID, r.Savepoint)
	}
	if res.Job != nil {
		jobRows(w, res.Job)
	}
	tookRow(w, res.Elapsed)
}
