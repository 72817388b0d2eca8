package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/cluster"
	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/flink"
	"github.com/helm-flink/helm-flink/plugin/jobmanager"
	"github.com/helm-flink/helm-flink/plugin/kube"
)

type jobsOptions struct{ releaseOptions }

func newJobsCmd(cfg *act.Config, out io.Writer) *cobra.Command {
	return releaseCmd(cfg, &jobsOptions{newReleaseOptions(cfg, out)}, "jobs RELEASE", "List the jobs of a release's Flink cluster")
}

func (o *jobsOptions) Run(ctx context.Context) error {
	jobs, err := cluster.NewJobs(o.cfg).Run(ctx, o.rel)
	if err != nil {
		return err
	}
	return o.write(jobs, func(w io.Writer) { jobsTable(w, jobs) })
}

type statusOptions struct{ releaseOptions }

func newStatusCmd(cfg *act.Config, out io.Writer) *cobra.Command {
	return releaseCmd(cfg, &statusOptions{newReleaseOptions(cfg, out)}, "status RELEASE", "Show a release: revision, pods, TaskManagers, free slots, jobs and health; exits 0 only when healthy")
}

// healthCodes are status's exit codes by health.
var healthCodes = map[jobmanager.Health]int{
	jobmanager.Healthy: exit.OK, jobmanager.JobFailing: exit.JobFailed, jobmanager.JobStarting: exit.JobFailed, jobmanager.JobMissing: exit.JobMissing, jobmanager.Unreachable: exit.Other,
}

func (o *statusOptions) Run(ctx context.Context) error {
	r, err := cluster.NewStatus(o.cfg).Run(ctx, o.rel)
	if err != nil {
		return err
	}
	err = o.write(r, func(w io.Writer) {
		fmt.Fprintf(w, "RELEASE\t%s\nNAMESPACE\t%s\nREVISION\t%d\nSTATUS\t%s\nCHART\t%s\n", r.Release.Name, r.Release.Namespace, r.Release.Revision, r.Release.Status, r.Release.Chart)
		fmt.Fprintf(w, "HEALTH\t%s\n", health(r))
		if r.Release.FluxOwner != "" {
			fmt.Fprintf(w, "MANAGED BY\tFlux HelmRelease %s\n", r.Release.FluxOwner)
		}
		if r.JobManagerError != "" {
			fmt.Fprintf(w, "JOBMANAGER\tunreachable: %s\n", r.JobManagerError)
		} else {
			fmt.Fprintf(w, "FLINK\t%s\nTASKMANAGERS\t%d\nSLOTS\t%d free of %d\n", r.FlinkVersion, r.TaskManagers, r.SlotsFree, r.SlotsTotal)
		}
		if r.NativeClusterID != "" {
			fmt.Fprintf(w, "MODE\tnative (cluster id %s): Flink creates the TaskManager pods jobs need and deletes idle ones\n", r.NativeClusterID)
		}
		fmt.Fprintln(w, "\nPOD\tCOMPONENT\tPHASE\tREADY\tRESTARTS\tCREATED BY")
		for _, p := range r.Pods {
			fmt.Fprintf(w, "%s\t%s\t%s\t%t\t%d\t%s\n", p.Name, p.Component, p.Phase+kube.Note(p.Reason), p.Ready, p.Restarts, p.CreatedBy)
		}
		if r.JobManagerError == "" {
			fmt.Fprintln(w)
			jobsTable(w, r.Jobs)
		}
	})
	if err != nil || r.Health == jobmanager.Healthy {
		return err
	}
	return exit.With(healthCodes[r.Health], errors.New(health(r)))
}

func health(r *cluster.Report) string {
	if r.Problem == "" {
		return string(r.Health)
	}
	return string(r.Health) + ": " + r.Problem
}

// jobOptions are a command on one job of a release: RELEASE JOB.
type jobOptions struct {
	releaseOptions
	jobID string
}

func (o *jobOptions) Complete(a []string) error {
	o.jobID = a[1]
	return o.releaseOptions.Complete(a)
}

func (o *jobOptions) Validate() error {
	return firstError(o.releaseOptions.Validate(), validJobID(o.jobID))
}

// validJobID applies the one rule for job ids (flink.IsJobID) to the user's argument.
func validJobID(id string) error {
	if !flink.IsJobID(id) {
		return exit.InputError(fmt.Errorf("job id %q: want 32 lower-case hex digits, as 'helm flink jobs RELEASE' lists them", id))
	}
	return nil
}

type cancelOptions struct{ jobOptions }

func newCancelCmd(cfg *act.Config, out io.Writer) *cobra.Command {
	o := &cancelOptions{jobOptions{releaseOptions: newReleaseOptions(cfg, out)}}
	cmd := &cobra.Command{
		Use:               "cancel RELEASE JOB",
		Short:             "Cancel a job (no savepoint) and wait until it is CANCELED",
		Args:              args("RELEASE", "JOB"),
		ValidArgsFunction: completeReleaseAndJob(cfg, &o.restURL),
		RunE:              runE(cfg, o),
	}
	o.addFlags(cmd)
	return cmd
}

func (o *cancelOptions) Run(ctx context.Context) error {
	if err := cluster.NewCancel(o.cfg).Run(ctx, o.rel, o.jobID); err != nil {
		return err
	}
	return o.write(map[string]string{"jobId": o.jobID, "state": "CANCELED"}, func(w io.Writer) {
		fmt.Fprintf(w, "job %s CANCELED\n", o.jobID)
	})
}

// savepointOptions are `stop` (the job ends with the savepoint) or `savepoint` (it keeps
// running); both wait for the savepoint and print its path.
type savepointOptions struct {
	jobOptions
	dirFlag   string
	savepoint *cluster.Savepoint
}

type savepointResult struct {
	JobID     string `json:"jobId"`
	Savepoint string `json:"savepoint"`
	Stopped   bool   `json:"stopped"`
}

func newSavepointCmd(cfg *act.Config, out io.Writer, stop bool) *cobra.Command {
	o := &savepointOptions{jobOptions: jobOptions{releaseOptions: newReleaseOptions(cfg, out)}, savepoint: cluster.NewSavepoint(cfg)}
	o.savepoint.Stop = stop
	use, short, dirFlag := "savepoint RELEASE JOB --dir DIR", "Take a savepoint of a running job and print its path", "dir"
	if stop {
		use, short, dirFlag = "stop RELEASE JOB --savepoint-dir DIR", "Stop a job with a savepoint and print the savepoint's path", "savepoint-dir"
	}
	o.dirFlag = dirFlag
	cmd := &cobra.Command{
		Use:               use,
		Short:             short,
		Args:              args("RELEASE", "JOB"),
		ValidArgsFunction: completeReleaseAndJob(cfg, &o.restURL),
		RunE:              runE(cfg, o),
	}
	cmd.Flags().StringVar(&o.savepoint.Dir, dirFlag, "", "target directory of the savepoint (required)")
	if stop {
		cmd.Flags().BoolVar(&o.savepoint.Drain, "drain", false, "emit MAX_WATERMARK before stopping (end of event time)")
	}
	o.addFlags(cmd)
	return cmd
}

func (o *savepointOptions) Validate() error { return firstError(o.jobOptions.Validate(), o.validDir()) }

func (o *savepointOptions) validDir() error {
	if o.savepoint.Dir == "" {
		return exit.InputError(fmt.Errorf("--%s is required: where the JobManager writes the savepoint, e.g. s3://bucket/savepoints", o.dirFlag))
	}
	return nil
}

func (o *savepointOptions) Run(ctx context.Context) error {
	loc, err := o.savepoint.Run(ctx, o.rel, o.jobID)
	if err != nil {
		return err
	}
	r := savepointResult{JobID: o.jobID, Savepoint: loc, Stopped: o.savepoint.Stop}
	return o.write(r, func(w io.Writer) {
		if r.Stopped {
			fmt.Fprintf(w, "job %s stopped; ", r.JobID)
		}
		fmt.Fprintf(w, "savepoint %s\n", r.Savepoint)
	})
}
