package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/version"
)

type versionOptions struct {
	out    io.Writer
	output string
}

func newVersionCmd(cfg *act.Config, out io.Writer) *cobra.Command {
	o := &versionOptions{out: out}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the plugin's version",
		Args:  args(),
		RunE:  runE(cfg, o),
	}
	addOutputFlag(cmd, &o.output)
	return cmd
}

func (o *versionOptions) Complete([]string) error { return nil }

func (o *versionOptions) Validate() error { return validateOutput(o.output) }

func (o *versionOptions) Run(context.Context) error {
	info := version.Get()
	return write(o.out, o.output, info, func(w io.Writer) { fmt.Fprintln(w, info) })
}
