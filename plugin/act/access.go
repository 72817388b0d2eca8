package act

import (
	"context"
	"fmt"
	"slices"

	"helm.sh/helm/v3/pkg/release"

	"github.com/helm-flink/helm-flink/plugin/access"
	"github.com/helm-flink/helm-flink/plugin/manifest"
)

// A Change is what an install or upgrade does to a release's objects, for CheckAccess.
type Change struct {
	// Verbs on every object of the release.
	Verbs []string
	// Hooks are the hook events the change runs (each hook's objects are created, waited for
	// and deleted).
	Hooks []release.HookEvent
	// Action says what was not done when a permission lacks, e.g. "nothing was installed".
	Action string
}

var (
	// Installing creates the release's objects and runs its install hooks.
	Installing = Change{Verbs: []string{"create"}, Hooks: []release.HookEvent{release.HookPreInstall, release.HookPostInstall}, Action: "nothing was installed"}
	// Upgrading reads, patches, creates and deletes the release's objects and runs its upgrade hooks.
	Upgrading = Change{Verbs: []string{"get", "create", "patch", "delete"}, Hooks: []release.HookEvent{release.HookPreUpgrade, release.HookPostUpgrade}, Action: "nothing was changed"}
)

// CheckAccess asks the API server whether the user may make change with rendered (a dry run of
// the release about to be made) and then wait for it: Helm's release records, each kind of
// object, the hooks, the watches and the port-forward. A permission that lacks is refused here,
// before anything exists, rather than by the call that needs it halfway through.
func (c *Config) CheckAccess(ctx context.Context, rendered *release.Release, change Change) error {
	cs, _, err := c.Clientset()
	if err != nil {
		return err
	}
	objs, err := manifest.Parse(rendered.Manifest)
	if err != nil {
		return nil // Helm reports it
	}
	needs := access.ReleaseStorage(c.Driver)
	for _, verb := range change.Verbs {
		needs = append(needs, access.Objects(verb, objs, func(kind, name string) string { return "the release's " + kind + " " + name })...)
	}
	for _, h := range rendered.Hooks {
		event := slices.IndexFunc(h.Events, func(e release.HookEvent) bool { return slices.Contains(change.Hooks, e) })
		if event < 0 {
			continue
		}
		hobjs, err := manifest.Parse(h.Manifest)
		if err != nil {
			continue
		}
		why := func(kind, name string) string { return fmt.Sprintf("the %s hook %s %s", h.Events[event], kind, name) }
		for _, verb := range []string{"create", "get", "list", "watch", "delete"} {
			needs = append(needs, access.Objects(verb, hobjs, why)...)
		}
	}
	needs = append(needs, access.Wait()...)
	return access.Check(ctx, cs, rendered.Namespace, change.Action, needs)
}
