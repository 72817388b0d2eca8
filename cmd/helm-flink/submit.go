package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/release"
	"github.com/helm-flink/helm-flink/plugin/submit"
)

func newSubmitCmd(env *release.Env, out, errOut io.Writer) *cobra.Command {
	var common commonFlags
	var job jobFlags
	o := submit.NewOptions()
	o.Progress = errOut
	cmd := &cobra.Command{
		Use:               "submit RELEASE --jar JAR",
		Short:             "Submit a job to a session release and wait until every task is RUNNING",
		Args:              args("RELEASE"),
		ValidArgsFunction: completeReleases(env, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := common.validate(); err != nil {
				return err
			}
			if job.parallelism < 0 {
				return exit.InputError(fmt.Errorf("--parallelism %d: want a positive number", job.parallelism))
			}
			o.Release, o.Namespace, o.Timeout, o.RESTURL, o.NoWaitRunning = a[0], env.Namespace(), common.timeout, common.restURL, job.noWaitRunning
			o.Job = submit.Job{Jar: job.jar, EntryClass: job.entryClass, Args: job.args, Parallelism: job.parallelism,
				Savepoint: job.savepoint, AllowNonRestoredState: job.allowNonRestored}
			res, err := o.Run(cmd.Context(), env)
			if err != nil {
				return timeoutCode(err)
			}
			return write(out, common.output, res, func(w io.Writer) {
				fmt.Fprintf(w, "JOB ID\t%s\nSTATE\t%s\nTASKS\t%d/%d running\n", res.Job.JobID, orDash(res.Job.State), res.Job.Running+res.Job.Finished, res.Job.Total)
			})
		},
	}
	job.add(cmd.Flags())
	common.add(cmd, true)
	return cmd
}
