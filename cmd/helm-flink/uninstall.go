package main

import (
	"context"
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/uninstall"
)

type uninstallOptions struct {
	releaseOptions
	uninstall *uninstall.Uninstall
}

func newUninstallCmd(cfg *act.Config, out io.Writer) *cobra.Command {
	o := &uninstallOptions{releaseOptions: newReleaseOptions(cfg, out), uninstall: uninstall.New(cfg)}
	cmd := releaseCmd(cfg, o, "uninstall RELEASE", "Uninstall a release (optionally stopping its jobs with savepoints first) and its HA config maps")
	cmd.Flags().BoolVar(&o.uninstall.StopJobs, "stop-jobs", false, "stop every running job with a savepoint before uninstalling")
	cmd.Flags().StringVar(&o.uninstall.SavepointDir, "savepoint-dir", "", "savepoint target directory for --stop-jobs")
	cmd.Flags().BoolVar(&o.uninstall.Drain, "drain", false, "with --stop-jobs: emit MAX_WATERMARK before stopping")
	return cmd
}

func (o *uninstallOptions) Validate() error {
	return firstError(o.releaseOptions.Validate(), o.uninstall.Validate())
}

func (o *uninstallOptions) Run(ctx context.Context) error {
	res, err := o.uninstall.Run(ctx, o.rel)
	if err != nil {
		return err
	}
	return o.write(res, func(w io.Writer) {
		ids := make([]string, 0, len(res.Savepoints))
		for id := range res.Savepoints {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			fmt.Fprintf(w, "job %s stopped; savepoint %s\n", id, res.Savepoints[id])
		}
		for _, j := range res.Ended {
			fmt.Fprintf(w, "job %s (%s) ended without a savepoint\n", j.ID, j.Name)
		}
		for _, cm := range res.HAConfigMaps {
			fmt.Fprintf(w, "deleted HA config map %s\n", cm)
		}
		fmt.Fprintf(w, "release %q uninstalled\n", res.Release)
		for _, k := range res.StateKept {
			fmt.Fprintf(w, "state left on object storage: %s (%s); delete it with the store's own tools when no longer needed\n", k.URI, k.Value)
		}
	})
}
