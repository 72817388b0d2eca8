package act

import (
	"context"
	"errors"

	batchv1 "k8s.io/api/batch/v1"

	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/kube"
)

// Watched runs wait while rel's JobManager is watched: a JobManager pod that fails — it crashed,
// was killed, ran out of memory — or an application's Job that fails ends wait at once, and
// Watched returns that failure, a *kube.PodStartError with the container's last words, as the
// job's failure (exit 3) rather than the timeout the wait would come to. A restarted session
// JobManager has lost the jobs it ran.
func (c *Config) Watched(ctx context.Context, rel *Release, wait func(context.Context) error) error {
	cs, _, err := c.Clientset()
	if err != nil {
		return err
	}
	wctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if f := kube.WatchFailure(wctx, cs, RevisionJobManagers(rel)); f != nil {
			cancel(f)
		}
	}()
	err = wait(wctx)
	cause := context.Cause(wctx)
	cancel(nil)
	<-done
	if err == nil {
		return nil
	}
	if f := (*kube.PodStartError)(nil); errors.As(cause, &f) {
		return exit.With(exit.JobFailed, f)
	}
	return err
}

// RevisionJobManagers are the JobManager objects of rel's revision: an application's Jobs by
// name, as charts before 0.5 made them (the previous revision's Job may still be on its way
// out); none for a JobManager Deployment.
func RevisionJobManagers(rel *Release) kube.JobManagers {
	w := kube.JobManagers{Namespace: rel.Namespace, Release: rel.Name}
	for _, o := range rel.Objects {
		if j, ok := o.(*batchv1.Job); ok && j.Labels[kube.ComponentLabel] == kube.JobManager {
			w.Jobs = append(w.Jobs, j.Name)
		}
	}
	return w
}
