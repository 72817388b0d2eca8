package act

import (
	"fmt"
	"io"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/registry"

	"github.com/helm-flink/helm-flink/plugin/chartdir"
)

// Mode is how a chart runs Flink.
type Mode string

const (
	// Session is a standalone session cluster (flink-session): jobs are submitted to it.
	Session Mode = "session"
	// Application is a per-job cluster (flink-job): the JobManager runs the chart's job itself.
	Application Mode = "application"
)

// ModeAnnotation on Chart.yaml says which Mode a chart is; charts without it are judged by name.
const ModeAnnotation = "helm-flink.dev/mode"

// ChartMode is the Mode of ch.
func ChartMode(ch *chart.Chart) Mode {
	if ch == nil || ch.Metadata == nil {
		return Session
	}
	if m := ch.Metadata.Annotations[ModeAnnotation]; m != "" {
		return Mode(m)
	}
	if strings.HasSuffix(ch.Metadata.Name, "-job") {
		return Application
	}
	return Session
}

// ChartRef is a chart as Helm takes it: a directory, a .tgz, repo/chart, a URL or oci://, with
// Helm's chart-locating options (--version, --repo, --plain-http, credentials, TLS files).
type ChartRef struct {
	Name string
	action.ChartPathOptions
}

// LoadChart locates (downloading when needed) and loads a chart. It needs no cluster.
func (c *Config) LoadChart(ref ChartRef) (*chart.Chart, error) {
	rc, err := c.registryClient(ref.ChartPathOptions)
	if err != nil {
		return nil, fmt.Errorf("registry client: %w", err)
	}
	// Helm's options take a registry client only through an action.
	install := action.NewInstall(&action.Configuration{})
	install.ChartPathOptions = ref.ChartPathOptions
	install.SetRegistryClient(rc)
	path, err := install.ChartPathOptions.LocateChart(ref.Name, c.Settings)
	if err != nil {
		return nil, fmt.Errorf("chart %q: %w", ref.Name, err)
	}
	ch, err := chartdir.Load(path)
	if err != nil {
		return nil, fmt.Errorf("chart %q: %w", ref.Name, err)
	}
	if ch.Metadata.Type != "" && ch.Metadata.Type != "application" {
		return nil, fmt.Errorf("chart %q is a %s chart and cannot be installed", ref.Name, ch.Metadata.Type)
	}
	if err := action.CheckDependencies(ch, ch.Metadata.Dependencies); err != nil {
		return nil, fmt.Errorf("chart %q: %w", ref.Name, err)
	}
	FoldLibraries(ch)
	return ch, nil
}

// FoldLibraries moves the templates of ch's library charts (flink-common) into ch itself. Helm
// stores a release's chart without its dependencies; folded, the release keeps every template
// it was rendered with, and a rollback renders the revision's own chart again rather than the
// revision's templates with another version's library. A library's templates only define named
// templates, which are global to a render, so the release renders the same.
func FoldLibraries(ch *chart.Chart) {
	var keep []*chart.Chart
	for _, d := range ch.Dependencies() {
		if d.Metadata.Type != "library" {
			keep = append(keep, d)
			continue
		}
		for _, t := range d.Templates {
			ch.Templates = append(ch.Templates, &chart.File{Name: LibraryTemplates + d.Name() + "/" + strings.TrimPrefix(t.Name, "templates/"), Data: t.Data})
		}
	}
	ch.SetDependencies(keep...)
}

// LibraryTemplates is where FoldLibraries puts a library's templates in the chart.
const LibraryTemplates = "templates/library/"

// Renderable says whether a release's stored chart renders again by itself: it has no
// dependencies, or its library charts were folded into it (an install or upgrade by this
// plugin); Helm stores none.
func Renderable(ch *chart.Chart) bool {
	if len(ch.Metadata.Dependencies) == 0 || len(ch.Dependencies()) > 0 {
		return true
	}
	for _, t := range ch.Templates {
		if strings.HasPrefix(t.Name, LibraryTemplates) {
			return true
		}
	}
	return false
}

// registryClient reaches OCI registries for oci:// charts as `helm install` would with the same
// TLS, plain-HTTP and credential flags.
func (c *Config) registryClient(o action.ChartPathOptions) (*registry.Client, error) {
	if o.CertFile != "" || o.KeyFile != "" || o.CaFile != "" || o.InsecureSkipTLSverify {
		return registry.NewRegistryClientWithTLS(io.Discard, o.CertFile, o.KeyFile, o.CaFile, o.InsecureSkipTLSverify, c.Settings.RegistryConfig, c.Settings.Debug)
	}
	opts := []registry.ClientOption{
		registry.ClientOptDebug(c.Settings.Debug),
		registry.ClientOptEnableCache(true),
		registry.ClientOptWriter(io.Discard),
		registry.ClientOptCredentialsFile(c.Settings.RegistryConfig),
	}
	if o.PlainHTTP {
		opts = append(opts, registry.ClientOptPlainHTTP())
	}
	if o.Username != "" || o.Password != "" {
		opts = append(opts, registry.ClientOptBasicAuth(o.Username, o.Password))
	}
	return registry.NewClient(opts...)
}
