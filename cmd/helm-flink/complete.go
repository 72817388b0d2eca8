package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/spf13/cobra"

	"github.com/helm-flink/helm-flink/plugin/cluster"
	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/release"
)

var (
	releaseName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	jobID       = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

func validateJobID(id string) error {
	if !jobID.MatchString(id) {
		return exit.InputError(fmt.Errorf("job id %q: want 32 hex digits, as 'helm flink jobs RELEASE' lists them", id))
	}
	return nil
}

func isDeadline(err error) bool { return errors.Is(err, context.DeadlineExceeded) }

func noMoreArgs(n int) cobra.CompletionFunc {
	return func(_ *cobra.Command, a []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(a) >= n {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return nil, cobra.ShellCompDirectiveDefault
	}
}

// completeReleases completes the first argument with the namespace's Flink releases.
func completeReleases(env *release.Env, n int) cobra.CompletionFunc {
	return func(_ *cobra.Command, a []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(a) >= n {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return releaseNames(env), cobra.ShellCompDirectiveNoFileComp
	}
}

func releaseNames(env *release.Env) []cobra.Completion {
	cfg, err := env.ActionConfig(env.Namespace())
	if err != nil {
		return nil
	}
	rels, err := release.List(cfg)
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

// completeReleaseAndJob completes RELEASE, then the release's job ids (asking its JobManager).
func completeReleaseAndJob(env *release.Env, common *commonFlags) cobra.CompletionFunc {
	return func(cmd *cobra.Command, a []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		switch len(a) {
		case 0:
			return releaseNames(env), cobra.ShellCompDirectiveNoFileComp
		case 1:
			ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
			defer cancel()
			c, _, err := cluster.ForRelease(ctx, env, env.Namespace(), a[0], common.restURL)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			defer c.Close()
			jobs, err := c.Jobs(ctx)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var out []cobra.Completion
			for _, j := range jobs {
				out = append(out, cobra.CompletionWithDesc(j.ID, j.Name+" "+j.State))
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		}
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
}
