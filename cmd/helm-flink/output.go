package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/jobmanager"
)

func addOutputFlag(cmd *cobra.Command, dst *string) {
	cmd.Flags().StringVarP(dst, "output", "o", "table", "output format: table, json or yaml")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "json", "yaml"}, cobra.ShellCompDirectiveNoFileComp))
}

func validateOutput(format string) error {
	switch format {
	case "", "table", "json", "yaml":
		return nil
	}
	return exit.InputError(fmt.Errorf("--output %q: want table, json or yaml", format))
}

// write prints v as JSON or YAML, or calls table with a tab writer.
func write(out io.Writer, format string, v any, table func(w io.Writer)) error {
	switch format {
	case "json":
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "yaml":
		b, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = out.Write(b)
		return err
	default:
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		table(tw)
		return tw.Flush()
	}
}

// jobRows are the rows install, submit and upgrade print for the job they waited for.
func jobRows(w io.Writer, p *jobmanager.Progress) {
	state := p.State
	if strings.TrimSpace(state) == "" {
		state = "-"
	}
	fmt.Fprintf(w, "JOB ID\t%s\nSTATE\t%s\nTASKS\t%s\n", p.JobID, state, p.Tasks())
}

func tookRow(w io.Writer, elapsed jobmanager.Seconds) {
	fmt.Fprintf(w, "TOOK\t%s\n", time.Duration(elapsed).Round(100*time.Millisecond))
}

func jobsTable(w io.Writer, jobs []jobmanager.Job) {
	fmt.Fprintln(w, "JOB ID\tNAME\tSTATE\tTASKS\tFAILURES\tSTARTED\tDURATION")
	for _, j := range jobs {
		fmt.Fprintf(w, "%s\t%s\t%s\t%d/%d\t%d\t%s\t%s\n", j.ID, j.Name, j.State, j.Running, j.Total, j.Failures,
			j.Started.UTC().Format(time.RFC3339), j.Duration)
	}
	for _, j := range jobs {
		if j.LastFailure != "" {
			fmt.Fprintf(w, "\njob %s, last failure: %s\n", j.ID, j.LastFailure)
		}
	}
}
