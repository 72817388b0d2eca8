package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/jobmanager"
	"github.com/helm-flink/helm-flink/plugin/kube"
)

// logsOptions: `logs` runs until its logs are written, or with -f until Ctrl-C; no --timeout.
type logsOptions struct {
	cfg  *act.Config
	out  io.Writer
	name string
	rel  *act.Release
	tail int
	kube.LogOptions
}

func newLogsCmd(cfg *act.Config, out io.Writer) *cobra.Command {
	o := &logsOptions{cfg: cfg, out: out}
	cmd := &cobra.Command{Use: "logs RELEASE", Short: "Print the logs of a release's JobManagers and TaskManagers (those Flink created too), each line prefixed with its pod; a crashed container's previous run",
		Args: args("RELEASE"), ValidArgsFunction: completeReleases(cfg, 1), RunE: runE(cfg, o)}
	f := cmd.Flags()
	f.StringVar(&o.Component, "component", "", "only jobmanager or taskmanager pods")
	f.BoolVarP(&o.Follow, "follow", "f", false, "keep streaming, also from pods that start meanwhile, until Ctrl-C")
	f.Var(newPositiveDuration(&o.Since, 0), "since", "only lines newer than this, e.g. 10m")
	f.Var(newIntAtLeast(&o.tail, -1, -1), "tail", "only this many last lines of each pod (-1: all)")
	_ = cmd.RegisterFlagCompletionFunc("component", cobra.FixedCompletions([]string{kube.JobManager, kube.TaskManager}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func (o *logsOptions) Complete(a []string) error {
	o.name, o.Tail = a[0], int64(o.tail)
	return o.cfg.Init()
}

func (o *logsOptions) Validate() error {
	switch o.Component {
	case "", kube.JobManager, kube.TaskManager:
		return nil
	}
	return exit.InputError(fmt.Errorf("--component %q: want %s or %s", o.Component, kube.JobManager, kube.TaskManager))
}

func (o *logsOptions) release() string       { return o.name }
func (o *logsOptions) read(rel *act.Release) { o.rel = rel }

func (o *logsOptions) Run(ctx context.Context) error {
	cs, _, err := o.cfg.Clientset()
	if err != nil {
		return err
	}
	return kube.Logs(ctx, cs, o.rel.Namespace, o.rel.Name, o.LogOptions, o.out)
}

// uiOptions: `ui` holds a port-forward to the Flink web UI until Ctrl-C.
type uiOptions struct {
	cfg  *act.Config
	out  io.Writer
	name string
	rel  *act.Release
	port int
}

func newUICmd(cfg *act.Config, out io.Writer) *cobra.Command {
	o := &uiOptions{cfg: cfg, out: out}
	cmd := &cobra.Command{Use: "ui RELEASE", Short: "Forward a local port to the release's Flink web UI and REST API, print its URL and hold it until Ctrl-C",
		Args: args("RELEASE"), ValidArgsFunction: completeReleases(cfg, 1), RunE: runE(cfg, o)}
	cmd.Flags().Var(newIntAtLeast(&o.port, 0, 0), "port", "local port on 127.0.0.1 (0: a free one)")
	return cmd
}

func (o *uiOptions) Complete(a []string) error {
	o.name = a[0]
	return o.cfg.Init()
}

func (o *uiOptions) Validate() error {
	if o.port > 65535 {
		return exit.InputError(fmt.Errorf("--port %d: want a port from 1 to 65535, or 0 for a free one", o.port))
	}
	return nil
}

func (o *uiOptions) release() string       { return o.name }
func (o *uiOptions) read(rel *act.Release) { o.rel = rel }

func (o *uiOptions) Run(ctx context.Context) error {
	cs, rc, err := o.cfg.Clientset()
	if err != nil {
		return err
	}
	pod, err := kube.ReadyPod(ctx, cs, o.rel.Namespace, kube.Selector(o.rel.Name, kube.JobManager))
	if err != nil {
		return fmt.Errorf("jobmanager of release %q: %w", o.rel.Name, err)
	}
	pf, err := jobmanager.ForwardREST(ctx, rc, pod, o.port)
	if lp := (*kube.LocalPortError)(nil); errors.As(err, &lp) {
		return exit.InputError(fmt.Errorf("--port %d: %v: pick another port, or 0 for a free one", o.port, lp.Err))
	}
	if err != nil {
		return err
	}
	defer pf.Close()
	fmt.Fprintf(o.out, "Flink UI of release %s (pod %s): %s\nForwarding until Ctrl-C.\n", o.rel.Name, pod.Name, pf.URL())
	<-ctx.Done()
	return nil
}
