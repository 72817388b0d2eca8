package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"
	"helm.sh/helm/v3/pkg/action"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/cluster"
)

func noMoreArgs(n int) cobra.CompletionFunc {
	return func(_ *cobra.Command, a []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(a) >= n {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return nil, cobra.ShellCompDirectiveDefault
	}
}

// completeReleases completes the first argument with the namespace's Flink releases.
func completeReleases(cfg *act.Config, n int) cobra.CompletionFunc {
	return func(_ *cobra.Command, a []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(a) >= n {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return releaseNames(cfg), cobra.ShellCompDirectiveNoFileComp
	}
}

func releaseNames(cfg *act.Config) []cobra.Completion {
	if cfg.Init() != nil {
		return nil
	}
	list := action.NewList(cfg.Helm)
	list.All, list.StateMask = true, action.ListAll
	rels, err := list.Run()
	if err != nil {
		return nil
	}
	var out []cobra.Completion
	for _, r := range rels {
		if r.Chart != nil && r.Chart.Metadata != nil {
			out = append(out, cobra.CompletionWithDesc(r.Name, r.Chart.Metadata.Name+"-"+r.Chart.Metadata.Version))
		}
	}
	return out
}

// completeReleaseAndJob completes RELEASE, then the release's job ids (asking its JobManager,
// through --rest-url when given).
func completeReleaseAndJob(cfg *act.Config, restURL *string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, a []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		switch len(a) {
		case 0:
			return releaseNames(cfg), cobra.ShellCompDirectiveNoFileComp
		case 1:
			return jobIDs(cmd.Context(), cfg, a[0], *restURL), cobra.ShellCompDirectiveNoFileComp
		}
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
}

func jobIDs(ctx context.Context, cfg *act.Config, name, restURL string) []cobra.Completion {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cfg.RESTURL = restURL
	if cfg.Init() != nil {
		return nil
	}
	rel, err := cfg.Load(name)
	if err != nil {
		return nil
	}
	jobs, err := cluster.NewJobs(cfg).Run(ctx, rel)
	if err != nil {
		return nil
	}
	var out []cobra.Completion
	for _, j := range jobs {
		out = append(out, cobra.CompletionWithDesc(j.ID, j.Name+" "+j.State))
	}
	return out
}
