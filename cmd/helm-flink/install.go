package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"helm.sh/helm/v3/pkg/chartutil"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/install"
	"github.com/helm-flink/helm-flink/plugin/values"
)

const installHelp = `Install a Flink chart and run a job on it; return when every task of the job is RUNNING.

CHART is what helm install takes: a directory, a .tgz, repo/chart, a URL or oci://.
Values are validated first (as 'helm flink validate' does): nothing is installed when they are wrong.

For flink-session: --jar is uploaded to the JobManager, run, and deleted again.
For flink-job: the JobManager runs the chart's job itself; --jar (local:// or http(s)), --entry-class,
--args, --parallelism and --savepoint set the chart's job values.

Examples:
  helm flink install wordcount charts/flink-session --jar TopSpeedWindowing.jar
  helm flink install fraud oci://registry.example.com/charts/flink-job -f values.yaml --atomic`

type installOptions struct {
	clusterOptions
	chart   act.ChartRef
	values  values.Options
	dryRun  string
	install *install.Install
}

func newInstallCmd(cfg *act.Config, out io.Writer) *cobra.Command {
	o := &installOptions{clusterOptions: clusterOptions{cfg: cfg, out: out}, install: install.New(cfg)}
	cmd := &cobra.Command{
		Use:               "install RELEASE CHART",
		Short:             "Install a Flink chart and run a job on it until every task is RUNNING",
		Long:              installHelp,
		Args:              args("RELEASE", "CHART"),
		ValidArgsFunction: noMoreArgs(2),
		RunE:              runE(cfg, o),
	}
	f := cmd.Flags()
	addValueFlags(f, &o.values)
	addJobFlags(f, &o.install.Job, &o.install.NoWaitRunning)
	o.addFlags(cmd)
	f.BoolVar(&o.install.CreateNamespace, "create-namespace", false, "create the release namespace if not present")
	addChartFlags(f, &o.chart.ChartPathOptions)
	f.BoolVar(&o.install.Atomic, "atomic", false, "uninstall the release again if any step fails, the job included")
	f.StringVar(&o.dryRun, "dry-run", "", `validate and render, print the manifest, install nothing: "client" (the default when given) or "server" (also runs lookups)`)
	f.Lookup("dry-run").NoOptDefVal = "client"
	f.StringVar(&o.install.Description, "description", "", "a custom description of the release")
	return cmd
}

func (o *installOptions) Complete(a []string) error {
	o.install.ReleaseName, o.chart.Name = a[0], a[1]
	return o.clusterOptions.Complete(a)
}

func (o *installOptions) Validate() error {
	if err := o.clusterOptions.Validate(); err != nil {
		return err
	}
	switch o.dryRun {
	case "", "false", "none":
		o.install.DryRun = ""
	case "client", "true":
		o.install.DryRun = "client"
	case "server":
		o.install.DryRun = "server"
	default:
		return exit.InputError(fmt.Errorf("--dry-run=%s: want client or server", o.dryRun))
	}
	// Helm's own rule, before anything else happens, so that the error names the argument.
	if err := chartutil.ValidateReleaseName(o.install.ReleaseName); err != nil {
		return exit.InputError(fmt.Errorf("release name %q: %w", o.install.ReleaseName, err))
	}
	if o.install.Job.Parallelism < 0 {
		return exit.InputError(fmt.Errorf("--parallelism %d: want a positive number", o.install.Job.Parallelism))
	}
	return nil
}

func (o *installOptions) Run(ctx context.Context) error {
	p, err := o.install.Prepare(o.chart, o.values)
	if err != nil {
		return err
	}
	res, err := o.install.Run(ctx, p)
	if err != nil {
		return err
	}
	if o.install.DryRun != "" && o.output == "table" {
		_, err := io.WriteString(o.out, res.Manifest)
		return err
	}
	return o.write(res, func(w io.Writer) {
		fmt.Fprintf(w, "RELEASE\t%s\nNAMESPACE\t%s\nREVISION\t%d\nCHART\t%s\n", res.Release, res.Namespace, res.Revision, res.Chart)
		if res.Job != nil {
			jobRows(w, res.Job)
			if res.Parallelism > 0 {
				fmt.Fprintf(w, "PARALLELISM\t%d\n", res.Parallelism)
			}
		}
		tookRow(w, res.Elapsed)
		if res.UI != "" {
			fmt.Fprintf(w, "UI\t%s\n", res.UI)
		}
	})
}
