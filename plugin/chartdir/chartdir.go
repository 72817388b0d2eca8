// Package chartdir loads a chart from a checkout as Helm would load it once its dependencies are
// built.
package chartdir

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
)

// Load loads a chart archive or directory. A directory's file:// dependencies are loaded from
// where they point, as `helm dependency build` would package them, in place of any copy its
// charts/ folder holds: a checkout's chart installs without a build step, without a symlink
// (which Helm warns about on every render), and never with a stale build of its library. A built
// copy counts only where the source is gone (a chart folder copied away from its library).
func Load(path string) (*chart.Chart, error) {
	ch, err := loader.Load(path)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(path); err != nil || !fi.IsDir() {
		return ch, nil
	}
	deps := ch.Dependencies()
	for _, dep := range ch.Metadata.Dependencies {
		dir, ok := strings.CutPrefix(dep.Repository, "file://")
		if !ok {
			continue
		}
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(path, dir)
		}
		src, err := loader.Load(dir)
		if err != nil {
			// A copy of the chart taken away from its library, with the library built in.
			if _, statErr := os.Stat(dir); os.IsNotExist(statErr) && slices.ContainsFunc(deps, func(c *chart.Chart) bool { return c.Name() == dep.Name }) {
				continue
			}
			return nil, fmt.Errorf("dependency %s (%s): %w", dep.Name, dep.Repository, err)
		}
		deps = slices.DeleteFunc(deps, func(c *chart.Chart) bool { return c.Name() == dep.Name })
		deps = append(deps, src)
	}
	ch.SetDependencies(deps...)
	return ch, nil
}
