package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/install"
	"github.com/helm-flink/helm-flink/plugin/release"
	"github.com/helm-flink/helm-flink/plugin/submit"
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

type installCmd struct {
	env    *release.Env
	out    io.Writer
	opts   *install.Options
	common commonFlags
	job    jobFlags
	dryRun string
}

func newInstallCmd(env *release.Env, out, errOut io.Writer) *cobra.Command {
	o := &installCmd{env: env, out: out, opts: install.NewOptions()}
	o.opts.Progress = errOut
	cmd := &cobra.Command{
		Use:               "install RELEASE CHART",
		Short:             "Install a Flink chart and run a job on it until every task is RUNNING",
		Long:              installHelp,
		Args:              args("RELEASE", "CHART"),
		ValidArgsFunction: noMoreArgs(2),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := o.complete(a); err != nil {
				return err
			}
			if err := o.validate(); err != nil {
				return err
			}
			return o.run(cmd)
		},
	}
	f := cmd.Flags()
	values.AddFlags(f, &o.opts.Values)
	o.job.add(f)
	o.common.add(cmd, true)
	f.BoolVar(&o.opts.Release.CreateNamespace, "create-namespace", false, "create the release namespace if not present")
	addChartFlags(f, &o.opts.Chart.ChartPathOptions)
	f.BoolVar(&o.opts.Release.Atomic, "atomic", false, "uninstall the release again if any step fails, the job included")
	f.StringVar(&o.dryRun, "dry-run", "", `validate and render, print the manifest, install nothing: "client" (the default when given) or "server" (also runs lookups)`)
	f.Lookup("dry-run").NoOptDefVal = "client"
	f.StringVar(&o.opts.Release.Description, "description", "", "a custom description of the release")
	return cmd
}

func (o *installCmd) complete(a []string) error {
	o.opts.Release.ReleaseName, o.opts.Chart.Name = a[0], a[1]
	o.opts.Release.Namespace = o.env.Namespace()
	o.opts.Release.Timeout = o.common.timeout
	o.opts.RESTURL = o.common.restURL
	o.opts.NoWaitRunning = o.job.noWaitRunning
	o.opts.Job = submit.Job{Jar: o.job.jar, EntryClass: o.job.entryClass, Args: o.job.args,
		Parallelism: o.job.parallelism, Savepoint: o.job.savepoint, AllowNonRestoredState: o.job.allowNonRestored}
	return nil
}

func (o *installCmd) validate() error {
	if err := o.common.validate(); err != nil {
		return err
	}
	switch o.dryRun {
	case "", "false", "none":
		o.opts.Release.DryRun = ""
	case "client", "true":
		o.opts.Release.DryRun = "client"
	case "server":
		o.opts.Release.DryRun = "server"
	default:
		return exit.InputError(fmt.Errorf("--dry-run=%s: want client or server", o.dryRun))
	}
	if err := validateReleaseName(o.opts.Release.ReleaseName); err != nil {
		return err
	}
	if o.job.parallelism < 0 {
		return exit.InputError(fmt.Errorf("--parallelism %d: want a positive number", o.job.parallelism))
	}
	return nil
}

func (o *installCmd) run(cmd *cobra.Command) error {
	res, err := o.opts.Run(cmd.Context(), o.env)
	if err != nil {
		return err
	}
	if o.opts.Release.DryRun != "" && o.common.output == "table" {
		_, err := io.WriteString(o.out, res.Manifest)
		return err
	}
	return write(o.out, o.common.output, res, func(w io.Writer) {
		fmt.Fprintf(w, "RELEASE\t%s\nNAMESPACE\t%s\nREVISION\t%d\nCHART\t%s\n", res.Release, res.Namespace, res.Revision, res.Chart)
		if res.Job != nil {
			fmt.Fprintf(w, "JOB ID\t%s\nSTATE\t%s\nTASKS\t%d/%d running\n", res.Job.JobID, orDash(res.Job.State), res.Job.Running+res.Job.Finished, res.Job.Total)
			if res.Parallelism > 0 {
				fmt.Fprintf(w, "PARALLELISM\t%d\n", res.Parallelism)
			}
		}
		fmt.Fprintf(w, "TOOK\t%s\n", time.Duration(res.Elapsed).Round(100*time.Millisecond))
		if res.UI != "" {
			fmt.Fprintf(w, "UI\t%s\n", res.UI)
		}
	})
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

// validateReleaseName applies Helm's rule (DNS-1123 label, at most 53 characters) before anything
// else happens, so the error names the argument.
func validateReleaseName(name string) error {
	if len(name) == 0 || len(name) > 53 || !releaseName.MatchString(name) {
		return exit.InputError(fmt.Errorf("release name %q: want at most 53 lower-case letters, digits and '-', starting and ending with a letter or digit", name))
	}
	return nil
}
