package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/fleet"
)

type listOptions struct {
	clusterOptions
	list *fleet.List
}

func newListCmd(cfg *act.Config, out io.Writer) *cobra.Command {
	o := &listOptions{clusterOptions: clusterOptions{cfg: cfg, out: out}, list: fleet.New(cfg)}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List every Flink release the charts installed: mode, jobs by state, last checkpoint and savepoint, health",
		Args:  args(),
		RunE:  runE(cfg, o),
	}
	o.addFlags(cmd)
	cmd.Flags().BoolVarP(&o.list.AllNamespaces, "all-namespaces", "A", false, "list the releases of every namespace")
	cmd.Flags().Var(newIntAtLeast(&o.list.Parallel, o.list.Parallel, 1), "parallel", "JobManagers asked at once")
	return cmd
}

func (o *listOptions) Run(ctx context.Context) error {
	rels, err := o.list.Run(ctx)
	if err != nil {
		return err
	}
	now := o.list.Now()
	return o.write(rels, func(w io.Writer) {
		if len(rels) == 0 {
			fmt.Fprintln(w, "no Flink release found")
			return
		}
		fmt.Fprintln(w, "NAMESPACE\tRELEASE\tCHART\tMODE\tJOBS\tCHECKPOINT\tSAVEPOINT\tHEALTH")
		for _, r := range rels {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Namespace, r.Name, r.Chart, r.Mode, jobCounts(r.Jobs), ago(r.LastCheckpoint, now), savepointAge(r, now), listHealth(r))
		}
	})
}

// jobCounts is "2 RUNNING, 1 FAILED", "-" for none.
func jobCounts(jobs map[string]int) string {
	var out []string
	for state, n := range jobs {
		out = append(out, fmt.Sprintf("%d %s", n, state))
	}
	if len(out) == 0 {
		return "-"
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// ago is how long before now t was, "-" for never.
func ago(t *time.Time, now time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return now.Sub(*t).Round(time.Second).String() + " ago"
}

func savepointAge(r fleet.Release, now time.Time) string {
	if r.LastSavepoint == nil {
		return "-"
	}
	t := r.LastSavepoint.Time
	return ago(&t, now) + " (" + string(r.LastSavepoint.Reason) + ")"
}

func listHealth(r fleet.Release) string {
	if r.Reason == "" {
		return string(r.Health)
	}
	return string(r.Health) + ": " + r.Reason
}
