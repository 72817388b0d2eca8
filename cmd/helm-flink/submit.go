package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/submit"
)

type submitOptions struct {
	releaseOptions
	submit *submit.Submit
}

func newSubmitCmd(cfg *act.Config, out io.Writer) *cobra.Command {
	o := &submitOptions{releaseOptions: newReleaseOptions(cfg, out), submit: submit.New(cfg)}
	cmd := releaseCmd(cfg, o, "submit RELEASE --jar JAR", "Submit a job to a session release and wait until every task is RUNNING")
	addJobFlags(cmd.Flags(), &o.submit.Job, &o.submit.NoWaitRunning)
	return cmd
}

func (o *submitOptions) Validate() error {
	return firstError(o.releaseOptions.Validate(), o.submit.Validate())
}

func (o *submitOptions) Run(ctx context.Context) error {
	res, err := o.submit.Run(ctx, o.rel)
	if err != nil {
		return err
	}
	return o.write(res, func(w io.Writer) { jobRows(w, &res.Job) })
}
