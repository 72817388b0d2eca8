package main

import (
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"

	"github.com/helm-flink/helm-flink/plugin/release"
	"github.com/helm-flink/helm-flink/plugin/uninstall"
)

func newUninstallCmd(env *release.Env, out, errOut io.Writer) *cobra.Command {
	var common commonFlags
	o := uninstall.NewOptions()
	o.Progress = errOut
	cmd := &cobra.Command{
		Use:               "uninstall RELEASE",
		Short:             "Uninstall a release (optionally stopping its jobs with savepoints first) and its HA config maps",
		Args:              args("RELEASE"),
		ValidArgsFunction: completeReleases(env, 1),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := common.validate(); err != nil {
				return err
			}
			o.Release, o.Namespace, o.Timeout, o.RESTURL = a[0], env.Namespace(), common.timeout, common.restURL
			if err := o.Validate(); err != nil {
				return err
			}
			res, err := o.Run(cmd.Context(), env)
			if err != nil {
				return timeoutCode(err)
			}
			return write(out, common.output, res, func(w io.Writer) {
				ids := make([]string, 0, len(res.Savepoints))
				for id := range res.Savepoints {
					ids = append(ids, id)
				}
				sort.Strings(ids)
				for _, id := range ids {
					fmt.Fprintf(w, "job %s stopped; savepoint %s\n", id, res.Savepoints[id])
				}
				for _, cm := range res.HAConfigMaps {
					fmt.Fprintf(w, "deleted HA config map %s\n", cm)
				}
				fmt.Fprintf(w, "release %q uninstalled\n", res.Release)
			})
		},
	}
	cmd.Flags().BoolVar(&o.StopJobs, "stop-jobs", false, "stop every running job with a savepoint before uninstalling")
	cmd.Flags().StringVar(&o.SavepointDir, "savepoint-dir", "", "savepoint target directory for --stop-jobs")
	cmd.Flags().BoolVar(&o.Drain, "drain", false, "with --stop-jobs: emit MAX_WATERMARK before stopping")
	common.add(cmd, true)
	return cmd
}
