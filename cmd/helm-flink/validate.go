package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/helm-flink/helm-flink/plugin/install"
	"github.com/helm-flink/helm-flink/plugin/release"
	"github.com/helm-flink/helm-flink/plugin/submit"
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

func newValidateCmd(env *release.Env, out io.Writer) *cobra.Command {
	o := install.NewOptions()
	var job jobFlags
	var output string
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
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := validateOutput(output); err != nil {
				return err
			}
			o.Chart.Name = "."
			if len(a) == 1 {
				o.Chart.Name = a[0]
			}
			o.Release.Namespace = env.Namespace()
			o.Job = submit.Job{Jar: job.jar, EntryClass: job.entryClass, Args: job.args, Parallelism: job.parallelism, Savepoint: job.savepoint}
			_, err := o.Prepare(env)
			var pe *schema.InvalidError
			if errors.As(err, &pe) && output != "table" {
				_ = write(out, output, map[string]any{"valid": false, "problems": pe.Problems}, nil)
				return err
			}
			if err != nil {
				return err
			}
			return write(out, output, map[string]any{"valid": true, "problems": []schema.Problem{}}, func(w io.Writer) {
				fmt.Fprintf(w, "%s: values are valid\n", o.Chart.Name)
			})
		},
	}
	values.AddFlags(cmd.Flags(), &o.Values)
	job.add(cmd.Flags())
	addChartFlags(cmd.Flags(), &o.Chart.ChartPathOptions)
	addOutputFlag(cmd, &output)
	return cmd
}
