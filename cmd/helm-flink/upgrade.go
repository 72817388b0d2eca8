package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/helm-flink/helm-flink/plugin/release"
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

func newUpgradeCmd(env *release.Env, out, errOut io.Writer) *cobra.Command {
	var common commonFlags
	o := upgrade.NewOptions()
	o.Progress = errOut
	cmd := &cobra.Command{
		Use:               "upgrade RELEASE CHART",
		Short:             "Upgrade or scale a release; a per-job cluster's job goes through a savepoint",
		Long:              upgradeHelp,
		Args:              args("RELEASE", "CHART"),
		ValidArgsFunction: completeReleases(env, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := common.validate(); err != nil {
				return err
			}
			o.Release, o.Chart.Name = a[0], a[1]
			o.Namespace, o.Timeout, o.RESTURL = env.Namespace(), common.timeout, common.restURL
			res, err := o.Run(cmd.Context(), env)
			if err != nil {
				return timeoutCode(err)
			}
			return write(out, common.output, res, func(w io.Writer) {
				fmt.Fprintf(w, "RELEASE\t%s\nNAMESPACE\t%s\nREVISION\t%d\n", res.Release, res.Namespace, res.Revision)
				if res.Savepoint != "" {
					fmt.Fprintf(w, "SAVEPOINT\t%s\n", res.Savepoint)
				}
				if res.Job != nil {
					fmt.Fprintf(w, "JOB ID\t%s\nSTATE\t%s\nTASKS\t%d/%d running\n", res.Job.JobID, orDash(res.Job.State), res.Job.Running+res.Job.Finished, res.Job.Total)
				}
				fmt.Fprintf(w, "TOOK\t%s\n", time.Duration(res.Elapsed).Round(100*time.Millisecond))
			})
		},
	}
	f := cmd.Flags()
	values.AddFlags(f, &o.Values)
	addChartFlags(f, &o.Chart.ChartPathOptions)
	f.BoolVar(&o.ReuseValues, "reuse-values", false, "start from the release's values and merge the new ones in")
	f.StringVar(&o.SavepointDir, "savepoint-dir", "", "flink-job: where the job is stopped to (default: the cluster's state.savepoints.dir)")
	f.BoolVar(&o.NoSavepoint, "no-savepoint", false, "flink-job: do not stop the job with a savepoint first")
	f.BoolVar(&o.AllowNonRestoredState, "allow-non-restored-state", false, "flink-job: allow savepoint state that maps to no operator of the new job")
	f.BoolVar(&o.Force, "force", false, "flink-session: upgrade even when the JobManager restarts under running jobs without HA")
	f.StringVar(&o.Description, "description", "", "a custom description of the revision")
	common.add(cmd, true)
	return cmd
}
