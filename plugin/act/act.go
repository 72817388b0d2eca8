// Package act is the context every action runs in: Helm's configuration, the clients, the release, its JobManager.
//
// It is built once per command and passed to the actions as Helm's pkg/action passes its
// action.Configuration. A Config holds Helm's environment (HELM_NAMESPACE, HELM_KUBECONTEXT,
// KUBECONFIG, HELM_DRIVER, HELM_DEBUG, so that `helm flink` behaves like `helm`), Helm's action
// configuration, the Kubernetes client, the release acted on, and a connection to its JobManager
// opened when an action first needs it.
package act

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/cli"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/jobmanager"
	"github.com/helm-flink/helm-flink/plugin/manifest"
	"github.com/helm-flink/helm-flink/plugin/savepoint"
)

// Config is what every action works with. New reads Helm's environment; Init makes the Helm and
// Kubernetes clients (contacting nothing yet); Load finds the release.
type Config struct {
	Settings *cli.EnvSettings
	// Driver is the release storage driver; Helm does not export HELM_DRIVER to plugins, so it is
	// read from the environment here.
	Driver string
	// Log receives Helm's debug output (HELM_DEBUG / --debug); nil discards it.
	Log io.Writer
	// Progress receives one line per step of an action; nil discards them.
	Progress io.Writer
	// RESTURL reaches the JobManager directly instead of through a port-forward.
	RESTURL string

	Helm *action.Configuration
	// Kube and KubeConfig reach the cluster Helm is pointed at; set them to use another client.
	Kube       kubernetes.Interface
	KubeConfig *rest.Config
	// Release is the release acted on: the one Load found, or the one an install created.
	Release *release.Release

	jm *jobmanager.JobManager
}

// New reads Helm's environment.
func New() *Config {
	return &Config{Settings: cli.New(), Driver: os.Getenv("HELM_DRIVER")}
}

// Namespace is the namespace commands act in.
func (c *Config) Namespace() string { return c.Settings.Namespace() }

// Init makes Helm's action configuration for the namespace.
func (c *Config) Init() error {
	c.Helm = new(action.Configuration)
	if err := c.Helm.Init(c.Settings.RESTClientGetter(), c.Namespace(), c.Driver, c.debugf); err != nil {
		return fmt.Errorf("helm configuration: %w", err)
	}
	return nil
}

func (c *Config) debugf(format string, v ...any) {
	if c.Log != nil && c.Settings.Debug {
		fmt.Fprintf(c.Log, format+"\n", v...)
	}
}

// Progressf prints one line of an action's progress.
func (c *Config) Progressf(format string, a ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, format+"\n", a...)
	}
}

// Clientset is the Kubernetes client, made on first use.
func (c *Config) Clientset() (kubernetes.Interface, *rest.Config, error) {
	if c.Kube != nil {
		return c.Kube, c.KubeConfig, nil
	}
	rc, err := c.Settings.RESTClientGetter().ToRESTConfig()
	if err != nil {
		return nil, nil, fmt.Errorf("kubernetes configuration: %w", err)
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, nil, fmt.Errorf("kubernetes client: %w", err)
	}
	c.Kube, c.KubeConfig = cs, rc
	return cs, rc, nil
}

// errNotFound is returned for a release that does not exist.
var errNotFound = errors.New("release not found")

// Get is the current revision of release name.
func (c *Config) Get(name string) (*release.Release, error) {
	rel, err := action.NewGet(c.Helm).Run(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, fmt.Errorf("release %q: %w", name, errNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get release %q: %w", name, err)
	}
	return rel, nil
}

// Load finds release name, the one the user named: one that does not exist is an input error
// naming the namespace looked in.
func (c *Config) Load(name string) error {
	rel, err := c.Get(name)
	if errors.Is(err, errNotFound) {
		ns := c.Namespace()
		return exit.InputError(fmt.Errorf("%w in namespace %s (see helm list -n %s)", err, ns, ns))
	}
	c.Release = rel
	return err
}

// Uninstall removes a release and waits until its objects are gone.
func (c *Config) Uninstall(name string, timeout time.Duration) error {
	u := action.NewUninstall(c.Helm)
	u.Wait, u.Timeout = true, timeout
	if _, err := u.Run(name); err != nil {
		return fmt.Errorf("uninstall release %q: %w", name, err)
	}
	return nil
}

// JobManager is the connection to the release's JobManager, opened on first use.
func (c *Config) JobManager(ctx context.Context) (*jobmanager.JobManager, error) {
	if c.jm != nil {
		return c.jm, nil
	}
	cs, rc, err := c.Clientset()
	if err != nil {
		return nil, err
	}
	jm, err := jobmanager.Connect(ctx, cs, rc, c.Release.Namespace, c.Release.Name, c.RESTURL)
	if err != nil {
		return nil, err
	}
	jm.Native = c.native(cs)
	c.jm = jm
	return jm, nil
}

// native is what a native release's JobManager connection needs to follow the TaskManager pods
// Flink creates; nil for any other release.
func (c *Config) native(cs kubernetes.Interface) *jobmanager.Native {
	m, err := manifest.Parse(c.Release.Manifest)
	if err != nil || !m.Native() {
		return nil
	}
	return &jobmanager.Native{Kube: cs, ClusterID: m.ClusterID(), MinTaskManagers: m.NativeMinTaskManagers()}
}

// WaitUp waits until the release's cluster is up (see jobmanager.Up) and connects to its
// JobManager anew: the one connected to before may be gone.
func (c *Config) WaitUp(ctx context.Context, o jobmanager.UpOptions) (*jobmanager.JobManager, error) {
	c.Close()
	cs, rc, err := c.Clientset()
	if err != nil {
		return nil, err
	}
	o.RESTURL, o.Progress, o.Native = c.RESTURL, c.Progressf, c.native(cs)
	jm, err := jobmanager.Up(ctx, cs, rc, c.Release.Namespace, c.Release.Name, o)
	if err != nil {
		return nil, err
	}
	c.jm = jm
	return jm, nil
}

// NativeClusterID is the cluster id of a release in Flink's native Kubernetes mode (whose
// JobManager creates its TaskManager pods), or "".
func (c *Config) NativeClusterID() string {
	if n := c.native(nil); n != nil {
		return n.ClusterID
	}
	return ""
}

// Close closes the connection to the JobManager, if one is open; the next JobManager opens
// another. Actions that restart the JobManager close it first.
func (c *Config) Close() {
	c.jm.Close()
	c.jm = nil
}

// HelmTimeout is what is left of ctx's deadline, for the Helm SDK's calls that take a timeout
// rather than a context; five minutes without a deadline.
func HelmTimeout(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return max(time.Until(d), time.Second)
	}
	return 5 * time.Minute
}

// Savepoints is the savepoint record of the release.
func (c *Config) Savepoints() (savepoint.Record, error) {
	cs, _, err := c.Clientset()
	if err != nil {
		return savepoint.Record{}, err
	}
	return savepoint.Record{Kube: cs, Namespace: c.Release.Namespace, Release: c.Release.Name}, nil
}

// RecordSavepoint records a savepoint just taken against the release's current revision. The
// savepoint exists whether or not it is recorded, and its path has been printed: a record that
// cannot be written is reported, not an error of the action.
func (c *Config) RecordSavepoint(ctx context.Context, e savepoint.Entry) {
	if e.Revision == 0 {
		e.Revision = c.Release.Version
	}
	r, err := c.Savepoints()
	if err == nil {
		err = r.Add(ctx, e)
	}
	if err != nil {
		c.Progressf("  warning: %v", err)
	}
}
