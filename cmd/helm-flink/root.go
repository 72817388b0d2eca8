package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/release"
)

// Interrupted is the exit code after Ctrl-C, as shells report a SIGINT death.
const interrupted = 130

func exitCode(err error) int {
	if errors.Is(err, context.Canceled) {
		return interrupted
	}
	return exit.Code(err)
}

const rootHelp = `Run Apache Flink on Kubernetes with Helm: install a chart and submit a job in one step, and
return only when every task of the job is RUNNING.

Exit codes:
  0    success
  1    bad input: values, flags, chart or jar (nothing was installed)
  2    timeout (the last known state is printed)
  3    the job failed, restarted or could not be submitted (Flink's root exception is printed)
  4    other failures (cluster, network, Helm)
  130  interrupted (Ctrl-C)

Environment: HELM_NAMESPACE, HELM_KUBECONTEXT, KUBECONFIG, HELM_DRIVER and HELM_DEBUG are honoured
as by helm itself.`

func newRootCmd(out, errOut io.Writer) *cobra.Command {
	env := release.NewEnv()
	env.Log = errOut
	root := &cobra.Command{
		Use:           "flink",
		Short:         "Run Apache Flink on Kubernetes with Helm: install, submit, scale and stop jobs",
		Long:          rootHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(out)
	root.SetErr(errOut)
	env.Settings.AddFlags(root.PersistentFlags())
	root.PersistentPreRun = func(*cobra.Command, []string) {
		// Helm's SDK logs notes (e.g. on charts/ symlinks) with the standard logger: debug only.
		if !env.Settings.Debug {
			log.SetOutput(io.Discard)
			// client-go reports port-forward hiccups through klog; the commands say what matters.
			klog.SetOutput(io.Discard)
			klog.LogToStderr(false)
		}
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return exit.InputError(fmt.Errorf("%w (see %s --help)", err, c.CommandPath()))
	})
	root.AddCommand(
		newVersionCmd(out),
		newValidateCmd(env, out),
		newInstallCmd(env, out, errOut),
		newSubmitCmd(env, out, errOut),
		newJobsCmd(env, out),
		newStatusCmd(env, out),
		newCancelCmd(env, out),
		newStopCmd(env, out),
		newSavepointCmd(env, out),
		newUninstallCmd(env, out, errOut),
		newUpgradeCmd(env, out, errOut),
	)
	return root
}

// args checks the count of positional arguments and names them in the error.
func args(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if len(a) != len(names) {
			return exit.InputError(fmt.Errorf("%s takes %d argument(s) %v, got %d (see %s --help)", cmd.Name(), len(names), names, len(a), cmd.CommandPath()))
		}
		return nil
	}
}

// commonFlags are the flags of every command that talks to a cluster.
type commonFlags struct {
	timeout time.Duration
	restURL string
	output  string
}

func (f *commonFlags) add(cmd *cobra.Command, withOutput bool) {
	cmd.Flags().DurationVar(&f.timeout, "timeout", 5*time.Minute, "time to wait for any individual step, e.g. 90s or 10m")
	cmd.Flags().StringVar(&f.restURL, "rest-url", "", "JobManager REST URL to use instead of a port-forward through the API server")
	if withOutput {
		addOutputFlag(cmd, &f.output)
	}
}

func (f *commonFlags) validate() error {
	if f.timeout <= 0 {
		return exit.InputError(fmt.Errorf("--timeout %s: want a positive duration such as 5m", f.timeout))
	}
	return validateOutput(f.output)
}
