package cluster

import (
	"context"

	helmrelease "helm.sh/helm/v3/pkg/release"

	"github.com/helm-flink/helm-flink/plugin/release"
)

// ForRelease checks that release name exists in ns and connects to its JobManager. A release
// that does not exist is the user's mistake.
func ForRelease(ctx context.Context, env *release.Env, ns, name, restURL string) (*Cluster, *helmrelease.Release, error) {
	cfg, err := env.ActionConfig(ns)
	if err != nil {
		return nil, nil, err
	}
	rel, err := release.Find(cfg, name, ns)
	if err != nil {
		return nil, nil, err
	}
	cs, restCfg, err := env.Clientset()
	if err != nil {
		return nil, nil, err
	}
	c, err := Connect(ctx, cs, restCfg, ns, name, restURL)
	if err != nil {
		return nil, rel, err
	}
	return c, rel, nil
}

// StatusOf is the status report of release name in ns.
func StatusOf(ctx context.Context, env *release.Env, ns, name, restURL string) (*Report, error) {
	cfg, err := env.ActionConfig(ns)
	if err != nil {
		return nil, err
	}
	rel, err := release.Find(cfg, name, ns)
	if err != nil {
		return nil, err
	}
	cs, restCfg, err := env.Clientset()
	if err != nil {
		return nil, err
	}
	info := ReleaseInfo{Name: rel.Name, Namespace: rel.Namespace, Revision: rel.Version}
	if rel.Info != nil {
		info.Status, info.Updated = rel.Info.Status.String(), rel.Info.LastDeployed.Time
	}
	if rel.Chart != nil && rel.Chart.Metadata != nil {
		info.Chart = rel.Chart.Metadata.Name + "-" + rel.Chart.Metadata.Version
	}
	info.FluxOwner, _ = release.FluxOwner(rel)
	return Status(ctx, cs, func(ctx context.Context) (*Cluster, error) {
		return Connect(ctx, cs, restCfg, ns, name, restURL)
	}, info)
}
