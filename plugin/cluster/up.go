package cluster

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/kube"
)

// UpOptions say how to wait for a release's cluster.
type UpOptions struct {
	RESTURL string
	// JobManagers to wait for; 0 counts them from the release's workloads.
	JobManagers int
	// Application: the JobManager runs the job's main(), so its crash is the job's failure.
	Application bool
	// Progress receives one line per change.
	Progress func(format string, a ...any)
}

// Up waits with watches until the release's JobManager and TaskManager pods are ready, connects
// to the JobManager, and waits until every TaskManager has registered with it.
func Up(ctx context.Context, cs kubernetes.Interface, cfg *rest.Config, ns, release string, o UpOptions) (*Cluster, error) {
	progress := o.Progress
	if progress == nil {
		progress = func(string, ...any) {}
	}
	wantJM, wantTM, err := kube.Want(ctx, cs, ns, release)
	if err != nil {
		return nil, err
	}
	if o.JobManagers > 0 {
		wantJM = o.JobManagers
	}
	if err := kube.WaitReady(ctx, cs, ns, kube.Selector(release, kube.JobManager), wantJM, func(r, w int) {
		progress("  jobmanager pods ready %d/%d", r, w)
	}); err != nil {
		err = fmt.Errorf("wait for jobmanager: %w", err)
		var crash *kube.PodStartError
		if o.Application && errors.As(err, &crash) && len(crash.Log) > 0 {
			return nil, exit.With(exit.JobFailed, err)
		}
		return nil, err
	}
	if err := kube.WaitReady(ctx, cs, ns, kube.Selector(release, kube.TaskManager), wantTM, func(r, w int) {
		progress("  taskmanager pods ready %d/%d", r, w)
	}); err != nil {
		return nil, fmt.Errorf("wait for taskmanagers: %w", err)
	}
	c, err := Connect(ctx, cs, cfg, ns, release, o.RESTURL)
	if err != nil {
		return nil, err
	}
	if err := c.WaitTaskManagers(ctx, wantTM, func(r, w int) {
		progress("  taskmanagers registered %d/%d", r, w)
	}); err != nil {
		c.Close()
		return nil, fmt.Errorf("wait for taskmanagers to register: %w", err)
	}
	return c, nil
}
