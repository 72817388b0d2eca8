package upgrade

import (
	"context"
	"fmt"

	"helm.sh/helm/v3/pkg/release"

	"github.com/helm-flink/helm-flink/plugin/kube"
	"github.com/helm-flink/helm-flink/plugin/manifest"
)

// In native mode the TaskManager pods belong to the JobManager that created them, not to a
// workload of the release: an upgrade that replaces the JobManager leaves them behind, running
// the previous pod template and following a JobManager that is gone. They are deleted once that
// JobManager has ended; the new one creates its own from the new revision's template.

// templateHashLabel is the hash of what a native cluster's TaskManagers run, on its JobManager
// pods and on the TaskManager pods it creates (the charts' flink.taskmanagerTemplateHash).
const templateHashLabel = "helm-flink.dev/taskmanager-template"

// jobManagerPods are the release's JobManager pods now, before an upgrade replaces them; nil for
// a standalone cluster, whose TaskManagers are the release's own workload.
func (u *Upgrade) jobManagerPods(ctx context.Context) ([]string, error) {
	if u.cfg.NativeClusterID() == "" {
		return nil, nil
	}
	return u.releasePods(ctx, kube.JobManager)
}

// releasePods are the names of the release's pods of component now.
func (u *Upgrade) releasePods(ctx context.Context, component string) ([]string, error) {
	cs, _, err := u.cfg.Clientset()
	if err != nil {
		return nil, err
	}
	rel := u.cfg.Release
	return kube.PodNames(ctx, cs, rel.Namespace, kube.Selector(rel.Name, component))
}

// retireTaskManagers deletes the TaskManager pods the previous JobManager (pods jms) created,
// once it has ended, when the upgrade from prev to up replaced it; nothing for a standalone
// cluster (jms nil) or an upgrade that keeps the JobManager.
func (u *Upgrade) retireTaskManagers(ctx context.Context, prev, up *release.Release, jms []string) error {
	if jms == nil {
		return nil
	}
	before, after, err := manifests(prev, up)
	if err != nil {
		return err
	}
	if classify(manifest.Compare(before, after)) != JobManagerRestarts {
		return nil
	}
	cs, _, err := u.cfg.Clientset()
	if err != nil {
		return err
	}
	if err := kube.WaitGone(ctx, cs, up.Namespace, kube.Selector(up.Name, kube.JobManager), jms, nil); err != nil {
		return fmt.Errorf("wait for the previous jobmanager to end: %w", err)
	}
	// The chart's post-upgrade hook may have done this already, and the new JobManager may have
	// created pods by now: only those of another template hash are the previous one's.
	sel := kube.Selector(up.Name, kube.TaskManager)
	if after.JobManager() != nil {
		if hash := after.JobManager().Labels[templateHashLabel]; hash != "" {
			sel += "," + templateHashLabel + "!=" + hash
		}
	}
	tms, err := kube.PodNames(ctx, cs, up.Namespace, sel)
	if err != nil || len(tms) == 0 {
		return err
	}
	u.cfg.Progressf("  deleting the %d TaskManager pod(s) the previous JobManager created; the new one creates its own", len(tms))
	return kube.RestartPods(ctx, cs, up.Namespace, sel)
}
