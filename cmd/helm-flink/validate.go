package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/install"
	"github.com/helm-flink/helm-flink/plugin/values"
	"github.com/helm-flink/helm-flink/schema"
)

const validateHelp = `Check a chart's values without contacting the cluster.

Values are merged exactly as helm install merges them (chart defaults, -f, --set, --set-string,
--set-file, --set-json, --set-literal), validated against the chart's values.schema.json, then
checked for what no schema can express: Flink memory within the container limits, enough task slots
for the parallelism, complete HA settings, the Flink version, and the jar (--jar): that it exists,
is a jar, and holds the entry class. Every problem is reported at once; the exit code is 1 when
there is any.

CHART defaults to the chart in the current directory.`

// validateOptions check what install would: its Prepare, and nothing after it.
type validateOptions struct {
	out     io.Writer
	output  string
	chart   act.ChartRef
	values  values.Options
	install *install.Install
}

func newValidateCmd(cfg *act.Config, out io.Writer) *cobra.Command {
	o := &validateOptions{out: out, install: install.New(cfg)}
	cmd := &cobra.Command{
		Use:   "validate [CHART]",
		Short: "Validate values (and a job jar) for a Flink chart; never contacts the cluster",
		Long:  validateHelp,
		Args: func(cmd *cobra.Command, a []string) error {
			if len(a) > 1 {
				return args("CHART")(cmd, a)
			}
			return nil
		},
		RunE: runE(cfg, o),
	}
	f := cmd.Flags()
	addValueFlags(f, &o.values)
	addJobFlags(f, &o.install.Job, &o.install.NoWaitRunning)
	addChartFlags(f, &o.chart.ChartPathOptions)
	addOutputFlag(cmd, &o.output)
	return cmd
}

func (o *validateOptions) Complete(a []string) error {
	o.chart.Name = "."
	if len(a) == 1 {
		o.chart.Name = a[0]
	}
	return nil
}

func (o *validateOptions) Validate() error { return validateOutput(o.output) }

func (o *validateOptions) Run(context.Context) error {
	_, err := o.install.Prepare(o.chart, o.values)
	var invalid *schema.InvalidError
	if errors.As(err, &invalid) && o.output != "table" {
		_ = write(o.out, o.output, map[string]any{"valid": false, "problems": invalid.Problems}, nil)
		return err
	}
	if err != nil {
		return err
	}
	return write(o.out, o.output, map[string]any{"valid": true, "problems": []schema.Problem{}}, func(w io.Writer) {
		fmt.Fprintf(w, "%s: values are valid\n", o.chart.Name)
	})
}
