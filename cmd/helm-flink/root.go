package main

import (
	"fmt"
	"io"
	"log"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/exit"
)

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
	// One action context for the one command that runs, as Helm shares one action.Configuration.
	cfg := act.New()
	cfg.Log, cfg.Progress = errOut, errOut
	root := &cobra.Command{
		Use:           "flink",
		Short:         "Run Apache Flink on Kubernetes with Helm: install, submit, scale and stop jobs",
		Long:          rootHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(out)
	root.SetErr(errOut)
	cfg.Settings.AddFlags(root.PersistentFlags())
	root.PersistentPreRun = func(*cobra.Command, []string) {
		// Helm's SDK logs notes with the standard logger: debug only.
		if !cfg.Settings.Debug {
			log.SetOutput(io.Discard)
			// client-go reports port-forward hiccups and failed watches through klog (errors go to
			// stderr whatever its output is); the commands say what matters.
			klog.SetLogger(logr.Discard())
		}
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return exit.InputError(fmt.Errorf("%w (see %s --help)", err, c.CommandPath()))
	})
	root.AddCommand(
		newVersionCmd(cfg, out),
		newValidateCmd(cfg, out),
		newInstallCmd(cfg, out),
		newSubmitCmd(cfg, out),
		newJobsCmd(cfg, out),
		newStatusCmd(cfg, out),
		newCancelCmd(cfg, out),
		newSavepointCmd(cfg, out, true),
		newSavepointCmd(cfg, out, false),
		newUninstallCmd(cfg, out),
		newUpgradeCmd(cfg, out),
		newPlanCmd(cfg, out),
		newRollbackCmd(cfg, out),
		newSavepointsCmd(cfg, out),
		newListCmd(cfg, out),
		newLogsCmd(cfg, out),
		newUICmd(cfg, out),
	)
	return root
}
