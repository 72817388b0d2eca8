package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/upgrade"
)

const planHelp = `Show what an upgrade would do to the running Flink, and change nothing.

The plan says how far the change reaches (nothing; objects only; TaskManagers scaled; TaskManager
pods replaced; the JobManager restarted), what happens to each job (keeps running; stopped with
a savepoint and restored; recovered from its latest checkpoint with HA; stopped for lack of
slots; lost), why helm flink upgrade would refuse it, and which objects are added, changed,
scaled, replaced or removed. It takes upgrade's flags:

  helm flink plan fraud charts/flink-job --reuse-values --set parallelism=8

With --detailed-exitcode it exits 0 when there is nothing to do, 5 when every job keeps running
untouched, and 6 when a job is stopped, restored, recovered or lost; an upgrade that would be
refused exits 1, as the upgrade would.`

type planOptions struct {
	changeOptions
	detailed bool
}

func newPlanCmd(cfg *act.Config, out io.Writer) *cobra.Command {
	o := &planOptions{changeOptions: newChangeOptions(cfg, out)}
	cmd := &cobra.Command{
		Use:               "plan RELEASE CHART",
		Short:             "Show what an upgrade would do to the running jobs, without doing it",
		Long:              planHelp,
		Args:              args("RELEASE", "CHART"),
		ValidArgsFunction: completeReleases(cfg, 1),
		RunE:              runE(cfg, o),
	}
	addUpgradeFlags(cmd, &o.values, &o.chart, o.upgrade)
	cmd.Flags().BoolVar(&o.detailed, "detailed-exitcode", false, "exit 0 for no change, 5 for changes that leave every job running, 6 for changes that stop, restore, recover or lose a job")
	o.addFlags(cmd)
	return cmd
}

func (o *planOptions) Run(ctx context.Context) error {
	p, err := o.upgrade.Plan(ctx, o.rel, o.chart, o.values)
	if err != nil {
		return err
	}
	if err := writePlan(o.out, o.output, p); err != nil {
		return err
	}
	switch {
	case p.Refused != "":
		return exit.InputError(errors.New(p.Refused))
	case !o.detailed || p.Change == upgrade.NoChange:
		return nil
	case p.TouchesState():
		return exit.With(exit.PlanTouchesState, errQuiet)
	default:
		return exit.With(exit.PlanChanges, errQuiet)
	}
}

// errQuiet is an exit code that is an answer, not an error: nothing more is printed.
var errQuiet = errors.New("")

// changeText says what a plan's change is in words.
var changeText = map[upgrade.Change]string{
	upgrade.NoChange:           "none: the new revision renders the same objects",
	upgrade.ObjectsOnly:        "objects only: no Flink pod is scaled or replaced",
	upgrade.ScaleOnly:          "TaskManagers scaled; no pod replaced",
	upgrade.PodsReplaced:       "TaskManager pods replaced; the JobManager stays",
	upgrade.JobManagerRestarts: "the JobManager restarts",
}

// writePlan prints a plan: as JSON or YAML, or as rows.
func writePlan(out io.Writer, format string, p *upgrade.Plan) error {
	return write(out, format, p, func(w io.Writer) {
		back := ""
		if p.RollbackTo != 0 {
			back = fmt.Sprintf(", the chart and values of revision %d", p.RollbackTo)
		}
		fmt.Fprintf(w, "RELEASE\t%s\nNAMESPACE\t%s\nREVISION\t%d → %d (chart %s%s)\n", p.Release, p.Namespace, p.Revision, p.Revision+1, p.Chart, back)
		fmt.Fprintf(w, "CHANGE\t%s\n", changeText[p.Change])
		if len(p.Jobs) == 0 {
			fmt.Fprintf(w, "JOBS\tnone\n")
		}
		for _, j := range p.Jobs {
			fate := string(j.Fate)
			if len(j.Parallelism) == 2 {
				fate += fmt.Sprintf(", parallelism %d → %d", j.Parallelism[0], j.Parallelism[1])
			}
			name := ""
			if j.Name != "" {
				name = " (" + j.Name + ")"
			}
			fmt.Fprintf(w, "JOB\t%s%s %s: %s\n", j.ID, name, j.State, fate)
		}
		for i, c := range p.Objects {
			head := ""
			if i == 0 {
				head = "OBJECTS"
			}
			fmt.Fprintf(w, "%s\t%s\n", head, c)
		}
		if p.Restore != "" {
			fmt.Fprintf(w, "RESTORE\t%s\n", p.Restore)
		}
		if p.Refused != "" {
			fmt.Fprintf(w, "REFUSED\t%s\n", strings.SplitN(p.Refused, "; ", 2)[0])
		}
	})
}
