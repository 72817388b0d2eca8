package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/helm-flink/helm-flink/plugin/cluster"
	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/release"
)

// withCluster runs f with a connection to the release's JobManager, closed afterwards (also on
// Ctrl-C, which cancels ctx).
func withCluster(ctx context.Context, env *release.Env, common *commonFlags, name string, f func(ctx context.Context, c *cluster.Cluster) error) error {
	ctx, cancel := context.WithTimeout(ctx, common.timeout)
	defer cancel()
	c, _, err := cluster.ForRelease(ctx, env, env.Namespace(), name, common.restURL)
	if err != nil {
		return timeoutCode(err)
	}
	defer c.Close()
	return timeoutCode(f(ctx, c))
}

// timeoutCode gives a deadline its exit code when nothing more specific was said.
func timeoutCode(err error) error {
	if err != nil && exit.Code(err) == exit.Other && isDeadline(err) {
		return exit.With(exit.Timeout, err)
	}
	return err
}

func newJobsCmd(env *release.Env, out io.Writer) *cobra.Command {
	var common commonFlags
	cmd := &cobra.Command{
		Use:               "jobs RELEASE",
		Short:             "List the jobs of a release's Flink cluster",
		Args:              args("RELEASE"),
		ValidArgsFunction: completeReleases(env, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := common.validate(); err != nil {
				return err
			}
			return withCluster(cmd.Context(), env, &common, a[0], func(ctx context.Context, c *cluster.Cluster) error {
				jobs, err := c.Jobs(ctx)
				if err != nil {
					return err
				}
				return write(out, common.output, jobs, func(w io.Writer) { jobsTable(w, jobs) })
			})
		},
	}
	common.add(cmd, true)
	return cmd
}

func jobsTable(w io.Writer, jobs []cluster.Job) {
	fmt.Fprintln(w, "JOB ID\tNAME\tSTATE\tTASKS\tSTARTED\tDURATION")
	for _, j := range jobs {
		fmt.Fprintf(w, "%s\t%s\t%s\t%d/%d\t%s\t%s\n", j.ID, j.Name, j.State, j.Running, j.Total,
			j.Started.UTC().Format(time.RFC3339), j.Duration)
	}
}

func newStatusCmd(env *release.Env, out io.Writer) *cobra.Command {
	var common commonFlags
	cmd := &cobra.Command{
		Use:               "status RELEASE",
		Short:             "Show a release: revision, pods, TaskManagers, free slots and jobs",
		Args:              args("RELEASE"),
		ValidArgsFunction: completeReleases(env, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := common.validate(); err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), common.timeout)
			defer cancel()
			r, err := cluster.StatusOf(ctx, env, env.Namespace(), a[0], common.restURL)
			if err != nil {
				return timeoutCode(err)
			}
			return write(out, common.output, r, func(w io.Writer) {
				fmt.Fprintf(w, "RELEASE\t%s\nNAMESPACE\t%s\nREVISION\t%d\nSTATUS\t%s\nCHART\t%s\n", r.Release.Name, r.Release.Namespace, r.Release.Revision, r.Release.Status, r.Release.Chart)
				if r.Release.FluxOwner != "" {
					fmt.Fprintf(w, "MANAGED BY\tFlux HelmRelease %s\n", r.Release.FluxOwner)
				}
				if r.JobManagerError != "" {
					fmt.Fprintf(w, "JOBMANAGER\tunreachable: %s\n", r.JobManagerError)
				} else {
					fmt.Fprintf(w, "FLINK\t%s\nTASKMANAGERS\t%d\nSLOTS\t%d free of %d\n", r.FlinkVersion, r.TaskManagers, r.SlotsFree, r.SlotsTotal)
				}
				fmt.Fprintln(w, "\nPOD\tCOMPONENT\tPHASE\tREADY\tRESTARTS")
				for _, p := range r.Pods {
					fmt.Fprintf(w, "%s\t%s\t%s\t%t\t%d\n", p.Name, p.Component, p.Phase, p.Ready, p.Restarts)
				}
				if r.JobManagerError == "" {
					fmt.Fprintln(w)
					jobsTable(w, r.Jobs)
				}
			})
		},
	}
	common.add(cmd, true)
	return cmd
}

func newCancelCmd(env *release.Env, out io.Writer) *cobra.Command {
	var common commonFlags
	cmd := &cobra.Command{
		Use:               "cancel RELEASE JOB",
		Short:             "Cancel a job (no savepoint) and wait until it is CANCELED",
		Args:              args("RELEASE", "JOB"),
		ValidArgsFunction: completeReleaseAndJob(env, &common),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := common.validate(); err != nil {
				return err
			}
			if err := validateJobID(a[1]); err != nil {
				return err
			}
			return withCluster(cmd.Context(), env, &common, a[0], func(ctx context.Context, c *cluster.Cluster) error {
				if err := c.Cancel(ctx, a[1]); err != nil {
					return err
				}
				return write(out, common.output, map[string]string{"jobId": a[1], "state": "CANCELED"}, func(w io.Writer) {
					fmt.Fprintf(w, "job %s CANCELED\n", a[1])
				})
			})
		},
	}
	common.add(cmd, true)
	return cmd
}

type savepointResult struct {
	JobID     string `json:"jobId"`
	Savepoint string `json:"savepoint"`
	Stopped   bool   `json:"stopped"`
}

func newStopCmd(env *release.Env, out io.Writer) *cobra.Command {
	return newSavepointingCmd(env, out, true)
}

func newSavepointCmd(env *release.Env, out io.Writer) *cobra.Command {
	return newSavepointingCmd(env, out, false)
}

// newSavepointingCmd is `stop` (stop=true: the job ends with the savepoint) or `savepoint` (it
// keeps running); both wait for the savepoint and print its path.
func newSavepointingCmd(env *release.Env, out io.Writer, stop bool) *cobra.Command {
	var common commonFlags
	var dir string
	var drain bool
	use, short, dirFlag := "savepoint RELEASE JOB --dir DIR", "Take a savepoint of a running job and print its path", "dir"
	if stop {
		use, short, dirFlag = "stop RELEASE JOB --savepoint-dir DIR", "Stop a job with a savepoint and print the savepoint's path", "savepoint-dir"
	}
	cmd := &cobra.Command{
		Use:               use,
		Short:             short,
		Args:              args("RELEASE", "JOB"),
		ValidArgsFunction: completeReleaseAndJob(env, &common),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := common.validate(); err != nil {
				return err
			}
			if err := validateJobID(a[1]); err != nil {
				return err
			}
			if dir == "" {
				return exit.InputError(fmt.Errorf("--%s is required: where the JobManager writes the savepoint, e.g. s3://bucket/savepoints", dirFlag))
			}
			return withCluster(cmd.Context(), env, &common, a[0], func(ctx context.Context, c *cluster.Cluster) error {
				var loc string
				var err error
				if stop {
					loc, err = c.Stop(ctx, a[1], dir, drain)
				} else {
					loc, err = c.Savepoint(ctx, a[1], dir)
				}
				if err != nil {
					return err
				}
				r := savepointResult{JobID: a[1], Savepoint: loc, Stopped: stop}
				return write(out, common.output, r, func(w io.Writer) {
					if stop {
						fmt.Fprintf(w, "job %s stopped; ", r.JobID)
					}
					fmt.Fprintf(w, "savepoint %s\n", r.Savepoint)
				})
			})
		},
	}
	cmd.Flags().StringVar(&dir, dirFlag, "", "target directory of the savepoint (required)")
	if stop {
		cmd.Flags().BoolVar(&drain, "drain", false, "emit MAX_WATERMARK before stopping (end of event time)")
	}
	common.add(cmd, true)
	return cmd
}
