package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/exit"
)

// command is one command's options, kubectl's way: Complete fills them in from the arguments and
// the environment, Validate checks them before anything is contacted, Run does the work.
type command interface {
	Complete(args []string) error
	Validate() error
	Run(ctx context.Context) error
}

// timed is a command with --timeout.
type timed interface {
	timeout() time.Duration
}

// onRelease is a command on an installed release, read once before it runs.
type onRelease interface {
	release() string
	read(*act.Release)
}

// runE runs a command's steps. Between Validate and Run, the command gets the release it names;
// a command's --timeout is applied to its whole Run, here and nowhere else (Ctrl-C cancels ctx).
func runE(cfg *act.Config, o command) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, a []string) error {
		if err := o.Complete(a); err != nil {
			return err
		}
		if err := o.Validate(); err != nil {
			return err
		}
		if r, ok := o.(onRelease); ok {
			rel, err := cfg.Load(r.release())
			if err != nil {
				return err
			}
			r.read(rel)
		}
		t, ok := o.(timed)
		if !ok {
			return o.Run(cmd.Context())
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), t.timeout())
		defer cancel()
		return exit.AfterDeadline(ctx, t.timeout(), o.Run(ctx))
	}
}

// firstError is the first of a command's checks that fails, so that one Validate reports what
// the user got wrong first.
func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
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

// clusterOptions are what every command that talks to a cluster shares: --timeout, --rest-url
// and -o.
type clusterOptions struct {
	cfg     *act.Config
	out     io.Writer
	wait    time.Duration
	restURL string
	output  string
}

func (o *clusterOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().Var(newPositiveDuration(&o.wait, 5*time.Minute), "timeout", "time to wait for any individual step, e.g. 90s or 10m")
	cmd.Flags().StringVar(&o.restURL, "rest-url", "", "JobManager REST URL to use instead of a port-forward through the API server")
	addOutputFlag(cmd, &o.output)
}

// Complete makes Helm's clients for the namespace; nothing is contacted yet.
func (o *clusterOptions) Complete([]string) error {
	o.cfg.RESTURL = o.restURL
	return o.cfg.Init()
}

func (o *clusterOptions) Validate() error {
	if o.wait <= 0 {
		return exit.InputError(fmt.Errorf("--timeout %s: want a positive duration such as 5m", o.wait))
	}
	return validateOutput(o.output)
}

func (o *clusterOptions) timeout() time.Duration { return o.wait }

func (o *clusterOptions) write(v any, table func(w io.Writer)) error {
	return write(o.out, o.output, v, table)
}

// releaseOptions are a command on the installed release its first argument names.
type releaseOptions struct {
	clusterOptions
	name string
	rel  *act.Release
}

func newReleaseOptions(cfg *act.Config, out io.Writer) releaseOptions {
	return releaseOptions{clusterOptions: clusterOptions{cfg: cfg, out: out}}
}

func (o *releaseOptions) Complete(a []string) error {
	o.name = a[0]
	return o.clusterOptions.Complete(a)
}

func (o *releaseOptions) release() string { return o.name }

func (o *releaseOptions) read(rel *act.Release) { o.rel = rel }

// releaseCmd is the command use (one argument, RELEASE, completed from the namespace's
// releases) that runs o.
func releaseCmd(cfg *act.Config, o interface {
	command
	addFlags(*cobra.Command)
}, use, short string) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Args: args("RELEASE"), ValidArgsFunction: completeReleases(cfg, 1), RunE: runE(cfg, o)}
	o.addFlags(cmd)
	return cmd
}
