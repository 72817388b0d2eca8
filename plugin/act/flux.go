package act

import (
	"fmt"

	"helm.sh/helm/v3/pkg/release"

	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/manifest"
)

// Flux labels a release it manages: on its storage record, and (with its post-renderer) on every
// object.
const (
	fluxNameLabel      = "helm.toolkit.fluxcd.io/name"
	fluxNamespaceLabel = "helm.toolkit.fluxcd.io/namespace"
)

// FluxOwner names the Flux HelmRelease (namespace/name) that manages rel, if any. Flux undoes
// whatever else changes its release, so the plugin refuses to.
func FluxOwner(rel *release.Release) (string, bool) {
	name, ns := rel.Labels[fluxNameLabel], rel.Labels[fluxNamespaceLabel]
	if name == "" {
		// Older releases carry no storage labels; a manifest that does not decode names no owner.
		m, _ := manifest.Parse(rel.Manifest)
		name, ns = m.Label(fluxNameLabel), m.Label(fluxNamespaceLabel)
	}
	if name == "" {
		return "", false
	}
	if ns == "" {
		ns = rel.Namespace
	}
	return ns + "/" + name, true
}

// RefuseFlux refuses to change a release Flux manages, since Flux would undo the change (what
// says how, e.g. "install it again").
func RefuseFlux(rel *release.Release, what string) error {
	if owner, ok := FluxOwner(rel); ok {
		return exit.InputError(fmt.Errorf("release %q is managed by Flux HelmRelease %s, which would %s: change, suspend or delete the HelmRelease instead", rel.Name, owner, what))
	}
	return nil
}
