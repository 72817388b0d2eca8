package act

import (
	"fmt"

	"helm.sh/helm/v3/pkg/release"

	"github.com/helm-flink/helm-flink/plugin/manifest"
	"github.com/helm-flink/helm-flink/plugin/values"
)

// Release is a release of one of the charts as a command reads it, once: Helm's release with its
// parsed manifest, its kind of cluster and its values as its templates saw them. Actions take it
// as a value; one that makes a new revision reads that one and passes it on.
type Release struct {
	*release.Release
	// Objects are the release's manifest, parsed.
	Objects manifest.Manifest
	Kind    Kind
	// Values are the release's over its chart's defaults.
	Values map[string]any
}

// Read reads rel.
func Read(rel *release.Release) (*Release, error) {
	m, err := manifest.Parse(rel.Manifest)
	if err != nil {
		return nil, fmt.Errorf("the manifest of release %q: %w", rel.Name, err)
	}
	r := &Release{Release: rel, Objects: m, Kind: KindOf(ChartMode(rel.Chart), m), Values: map[string]any{}}
	if rel.Chart != nil {
		if r.Values, err = values.ForChart(rel.Chart, values.Copy(rel.Config)); err != nil {
			return nil, fmt.Errorf("the values of release %q: %w", rel.Name, err)
		}
	}
	return r, nil
}

// Mode is the release's: session or application.
func (r *Release) Mode() Mode { return r.Kind.Mode() }

// JobID is the id of the job an application release runs, as its chart renders it into the
// JobManager's arguments.
func (r *Release) JobID() (string, error) {
	if r.Objects.JobID() == "" {
		return "", fmt.Errorf("the job id of release %q: its JobManager is started with no --job-id", r.Name)
	}
	return r.Objects.JobID(), nil
}

// KeepsJars says whether the release is a session whose JobManager keeps uploaded jars where a
// replaced JobManager finds them again (web.upload.dir on the release's claim).
func (r *Release) KeepsJars() bool {
	return r.Mode() == Session && r.Objects.KeptUploadDir() != ""
}
