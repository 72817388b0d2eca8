// Package release installs, reads and removes Helm releases of the Flink charts with the Helm SDK,
// configured from Helm's own environment (HELM_NAMESPACE, HELM_KUBECONTEXT, KUBECONFIG,
// HELM_DRIVER, HELM_DEBUG) so that `helm flink` behaves like `helm`.
package release

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/cli"
	"helm.sh/helm/v3/pkg/registry"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/helm-flink/helm-flink/plugin/exit"
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

// Env is Helm's environment plus what the plugin needs beside it.
type Env struct {
	Settings *cli.EnvSettings
	// Driver is the release storage driver; Helm does not export HELM_DRIVER to plugins, so it is
	// read from the environment here.
	Driver string
	// Log receives Helm's debug output (HELM_DEBUG / --debug); nil discards it.
	Log io.Writer

	cs         kubernetes.Interface
	restConfig *rest.Config
}

// NewEnv reads Helm's environment.
func NewEnv() *Env {
	return &Env{Settings: cli.New(), Driver: os.Getenv("HELM_DRIVER")}
}

// Namespace is the namespace commands act in.
func (e *Env) Namespace() string { return e.Settings.Namespace() }

func (e *Env) debugf(format string, v ...any) {
	if e.Log != nil && e.Settings.Debug {
		fmt.Fprintf(e.Log, format+"\n", v...)
	}
}

// ActionConfig is the Helm SDK's configuration for namespace ns.
func (e *Env) ActionConfig(ns string) (*action.Configuration, error) {
	cfg := new(action.Configuration)
	if err := cfg.Init(e.Settings.RESTClientGetter(), ns, e.Driver, e.debugf); err != nil {
		return nil, fmt.Errorf("helm configuration: %w", err)
	}
	return cfg, nil
}

// registryClient reaches OCI registries for oci:// charts as `helm install` would with the same
// TLS, plain-HTTP and credential flags.
func (e *Env) registryClient(o action.ChartPathOptions) (*registry.Client, error) {
	if o.CertFile != "" || o.KeyFile != "" || o.CaFile != "" || o.InsecureSkipTLSverify {
		return registry.NewRegistryClientWithTLS(io.Discard, o.CertFile, o.KeyFile, o.CaFile, o.InsecureSkipTLSverify, e.Settings.RegistryConfig, e.Settings.Debug)
	}
	opts := []registry.ClientOption{
		registry.ClientOptDebug(e.Settings.Debug),
		registry.ClientOptEnableCache(true),
		registry.ClientOptWriter(io.Discard),
		registry.ClientOptCredentialsFile(e.Settings.RegistryConfig),
	}
	if o.PlainHTTP {
		opts = append(opts, registry.ClientOptPlainHTTP())
	}
	if o.Username != "" || o.Password != "" {
		opts = append(opts, registry.ClientOptBasicAuth(o.Username, o.Password))
	}
	return registry.NewClient(opts...)
}

// RESTConfig and Clientset reach the cluster Helm is pointed at.
func (e *Env) RESTConfig() (*rest.Config, error) {
	c, err := e.Settings.RESTClientGetter().ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("kubernetes configuration: %w", err)
	}
	return c, nil
}

// Clientset is a Kubernetes client for the cluster Helm is pointed at, made once per Env.
func (e *Env) Clientset() (kubernetes.Interface, *rest.Config, error) {
	if e.cs != nil {
		return e.cs, e.restConfig, nil
	}
	c, err := e.RESTConfig()
	if err != nil {
		return nil, nil, err
	}
	cs, err := kubernetes.NewForConfig(c)
	if err != nil {
		return nil, nil, fmt.Errorf("kubernetes client: %w", err)
	}
	e.cs, e.restConfig = cs, c
	return cs, c, nil
}

// ChartRef is a chart as Helm takes it: a directory, a .tgz, repo/chart, a URL or oci://, with
// Helm's chart-locating options (--version, --repo, --plain-http, credentials, TLS files).
type ChartRef struct {
	Name string
	action.ChartPathOptions
}

// LoadChart locates (downloading when needed) and loads a chart.
func (e *Env) LoadChart(cfg *action.Configuration, ref ChartRef) (*chart.Chart, error) {
	rc, err := e.registryClient(ref.ChartPathOptions)
	if err != nil {
		return nil, fmt.Errorf("registry client: %w", err)
	}
	install := action.NewInstall(cfg)
	install.ChartPathOptions = ref.ChartPathOptions
	install.SetRegistryClient(rc)
	path, err := install.ChartPathOptions.LocateChart(ref.Name, e.Settings)
	if err != nil {
		return nil, fmt.Errorf("chart %q: %w", ref.Name, err)
	}
	ch, err := loader.Load(path)
	if err != nil {
		return nil, fmt.Errorf("chart %q: %w", ref.Name, err)
	}
	if ch.Metadata.Type != "" && ch.Metadata.Type != "application" {
		return nil, fmt.Errorf("chart %q is a %s chart and cannot be installed", ref.Name, ch.Metadata.Type)
	}
	if err := action.CheckDependencies(ch, ch.Metadata.Dependencies); err != nil {
		return nil, fmt.Errorf("chart %q: %w", ref.Name, err)
	}
	return ch, nil
}

// InstallOptions are `helm install`'s options the plugin passes on.
type InstallOptions struct {
	ReleaseName     string
	Namespace       string
	CreateNamespace bool
	// DryRun is Helm's --dry-run: "" (install), "client" (render with the cluster's capabilities,
	// no lookups) or "server" (lookups too); nothing is created either way.
	DryRun      string
	Atomic      bool
	Timeout     time.Duration
	Description string
}

// Install installs ch with vals (already merged from -f/--set). It does not wait for pods: the
// caller waits with watches and reports progress.
func Install(ctx context.Context, cfg *action.Configuration, ch *chart.Chart, vals map[string]any, o InstallOptions) (*release.Release, error) {
	install := action.NewInstall(cfg)
	install.ReleaseName = o.ReleaseName
	install.Namespace = o.Namespace
	install.CreateNamespace = o.CreateNamespace
	// Not install.Atomic: Helm's implies its own --wait, which would wait (with no progress and
	// no word of why) for pods the caller watches itself; the caller rolls back instead.
	install.Timeout = o.Timeout
	install.Description = o.Description
	if o.DryRun != "" {
		install.DryRun, install.DryRunOption = true, o.DryRun
	}
	rel, err := install.RunWithContext(ctx, ch, vals)
	if err != nil {
		return nil, fmt.Errorf("install release %q: %w", o.ReleaseName, err)
	}
	return rel, nil
}

// UpgradeOptions are `helm upgrade`'s options the plugin passes on. Values given to Upgrade are
// final: the caller has already merged --reuse-values.
type UpgradeOptions struct {
	Namespace   string
	Timeout     time.Duration
	DryRun      string
	Description string
}

// Upgrade upgrades release name to ch with vals, without waiting (the caller watches).
func Upgrade(ctx context.Context, cfg *action.Configuration, name string, ch *chart.Chart, vals map[string]any, o UpgradeOptions) (*release.Release, error) {
	up := action.NewUpgrade(cfg)
	up.Namespace, up.Timeout, up.Description = o.Namespace, o.Timeout, o.Description
	up.ResetValues = true // vals are complete; Helm must not merge the old ones in again
	if o.DryRun != "" {
		up.DryRun, up.DryRunOption = true, o.DryRun
	}
	rel, err := up.RunWithContext(ctx, name, ch, vals)
	if err != nil {
		return nil, fmt.Errorf("upgrade release %q: %w", name, err)
	}
	return rel, nil
}

// ErrNotFound is returned for a release that does not exist.
var ErrNotFound = errors.New("release not found")

// Get is the current revision of release name.
func Get(cfg *action.Configuration, name string) (*release.Release, error) {
	rel, err := action.NewGet(cfg).Run(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, fmt.Errorf("release %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get release %q: %w", name, err)
	}
	return rel, nil
}

// Find is Get for a release the user named: one that does not exist is an input error naming the
// namespace looked in.
func Find(cfg *action.Configuration, name, namespace string) (*release.Release, error) {
	rel, err := Get(cfg, name)
	if errors.Is(err, ErrNotFound) {
		return nil, exit.InputError(fmt.Errorf("%w in namespace %s (see helm list -n %s)", err, namespace, namespace))
	}
	return rel, err
}

// ForChange is Find for a command that changes the release: one that Flux manages is refused,
// since Flux would undo the change (what says how, e.g. "install it again").
func ForChange(cfg *action.Configuration, name, namespace, what string) (*release.Release, error) {
	rel, err := Find(cfg, name, namespace)
	if err != nil {
		return nil, err
	}
	if owner, ok := FluxOwner(rel); ok {
		return nil, exit.InputError(fmt.Errorf("release %q is managed by Flux HelmRelease %s, which would %s: change, suspend or delete the HelmRelease instead", name, owner, what))
	}
	return rel, nil
}

// Uninstall removes a release and waits until its objects are gone.
func Uninstall(cfg *action.Configuration, name string, timeout time.Duration) error {
	u := action.NewUninstall(cfg)
	u.Wait, u.Timeout = true, timeout
	if _, err := u.Run(name); err != nil {
		if errors.Is(err, driver.ErrReleaseNotFound) {
			return fmt.Errorf("release %q: %w", name, ErrNotFound)
		}
		return fmt.Errorf("uninstall release %q: %w", name, err)
	}
	return nil
}

// List is the releases in the namespace (all namespaces when cfg is for ""), any status.
func List(cfg *action.Configuration) ([]*release.Release, error) {
	l := action.NewList(cfg)
	l.All = true
	l.StateMask = action.ListAll
	rels, err := l.Run()
	if err != nil {
		return nil, fmt.Errorf("list releases: %w", err)
	}
	return rels, nil
}

// FluxOwner names the Flux HelmRelease (namespace/name) that manages rel, if any. Flux undoes
// whatever else changes its release, so the plugin refuses to.
func FluxOwner(rel *release.Release) (string, bool) {
	const nameLabel, nsLabel = "helm.toolkit.fluxcd.io/name", "helm.toolkit.fluxcd.io/namespace"
	name, ns := rel.Labels[nameLabel], rel.Labels[nsLabel]
	if name == "" && rel.Manifest != "" {
		// Flux's post-renderer labels every object; older releases carry no storage labels.
		for _, line := range strings.Split(rel.Manifest, "\n") {
			line = strings.TrimSpace(line)
			if v, ok := strings.CutPrefix(line, nameLabel+":"); ok {
				name = strings.Trim(strings.TrimSpace(v), `"'`)
			}
			if v, ok := strings.CutPrefix(line, nsLabel+":"); ok {
				ns = strings.Trim(strings.TrimSpace(v), `"'`)
			}
		}
	}
	if name == "" {
		return "", false
	}
	if ns == "" {
		ns = rel.Namespace
	}
	return ns + "/" + name, true
}
