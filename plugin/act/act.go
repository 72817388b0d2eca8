// Package act is the context every action runs in: Helm's configuration and the clients, and the release acted on as a value.
//
// A Config is built once per command and passed to the actions as Helm's pkg/action passes its
// action.Configuration. It holds Helm's environment (HELM_NAMESPACE, HELM_KUBECONTEXT,
// KUBECONFIG, HELM_DRIVER, HELM_DEBUG, so that `helm flink` behaves like `helm`), Helm's action
// configuration and the Kubernetes client, and nothing that changes while a command runs: the
// release is a Release read once and passed to the actions, and whoever opens a connection to its
// JobManager (Connect, WaitUp) closes it.
package act

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/cli"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/jobmanager"
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
}

// New reads Helm's environment.
func New() *Config {
	return &Config{Settings: cli.New(), Driver: os.Getenv("HELM_DRIVER")}
}

// Namespace is the namespace commands act in.
func (c *Config) Namespace() string { return c.Settings.Namespace() }

// Init makes Helm's action configuration for the namespace.
func (c *Config) Init() error {
	if c.Kube == nil {
		if err := c.kubeconfigExists(); err != nil {
			return exit.InputError(err)
		}
	}
	c.Helm = new(action.Configuration)
	if err := c.Helm.Init(c.Settings.RESTClientGetter(), c.Namespace(), c.Driver, c.debugf); err != nil {
		return fmt.Errorf("helm configuration: %w", err)
	}
	return nil
}

// kubeconfigExists names a kubeconfig that is not there: client-go would fall back to
// localhost:8080 and the user would read "connection refused" instead.
func (c *Config) kubeconfigExists() error {
	readable := func(p string) error {
		f, err := os.Open(p)
		if err == nil {
			f.Close()
		}
		return err
	}
	// Helm's settings take KUBECONFIG too (a list of files); the flag names one file.
	if p := c.Settings.KubeConfig; p != "" && p != os.Getenv("KUBECONFIG") {
		if err := readable(p); err != nil {
			return fmt.Errorf("kubeconfig %s (--kubeconfig): %w", p, errors.Unwrap(err))
		}
		return nil
	}
	if env := os.Getenv("KUBECONFIG"); env != "" {
		var first error
		for _, p := range filepath.SplitList(env) {
			if p == "" {
				continue
			}
			err := readable(p)
			if err == nil {
				return nil
			}
			if first == nil {
				first = fmt.Errorf("kubeconfig %s (KUBECONFIG): %w", p, errors.Unwrap(err))
			}
		}
		return first
	}
	if os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
		return nil // in a pod: its service account
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return nil
	}
	if p := filepath.Join(home, ".kube", "config"); readable(p) != nil {
		return fmt.Errorf("no kubeconfig: %s does not exist and neither KUBECONFIG nor --kubeconfig is set", p)
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

// Load reads release name, the one the user named: one that does not exist is an input error
// naming the namespace looked in.
func (c *Config) Load(name string) (*Release, error) {
	rel, err := c.Get(name)
	if errors.Is(err, errNotFound) {
		ns := c.Namespace()
		return nil, exit.InputError(fmt.Errorf("%w in namespace %s (see helm list -n %s)", err, ns, ns))
	}
	if err != nil {
		return nil, err
	}
	return Read(rel)
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

// Connect opens a connection to rel's JobManager; the caller closes it.
func (c *Config) Connect(ctx context.Context, rel *Release) (*jobmanager.JobManager, error) {
	cs, rc, err := c.Clientset()
	if err != nil {
		return nil, err
	}
	jm, err := jobmanager.Connect(ctx, cs, rc, rel.Namespace, rel.Name, c.RESTURL)
	if err != nil {
		return nil, err
	}
	jm.Native = rel.Kind.Native(cs)
	return jm, nil
}

// WaitUp waits until rel's cluster is up, as its kind has it (see jobmanager.Up), and returns a
// connection to its JobManager; the caller closes it.
func (c *Config) WaitUp(ctx context.Context, rel *Release, o jobmanager.UpOptions) (*jobmanager.JobManager, error) {
	cs, rc, err := c.Clientset()
	if err != nil {
		return nil, err
	}
	o.RESTURL, o.Progress, o.Native = c.RESTURL, c.Progressf, rel.Kind.Native(cs)
	rel.Kind.up(&o)
	return jobmanager.Up(ctx, cs, rc, rel.Namespace, rel.Name, o)
}

// HelmTimeout is what is left of ctx's deadline, for the Helm SDK's calls that take a timeout
// rather than a context; five minutes without a deadline.
func HelmTimeout(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return max(time.Until(d), time.Second)
	}
	return 5 * time.Minute
}

// Savepoints is the savepoint record of release name.
func (c *Config) Savepoints(name string) (savepoint.Record, error) {
	cs, _, err := c.Clientset()
	if err != nil {
		return savepoint.Record{}, err
	}
	return savepoint.Record{Kube: cs, Namespace: c.Namespace(), Release: name}, nil
}

// RecordSavepoint records a savepoint just taken of a job of rel against its revision. The
// savepoint exists whether or not it is recorded, and its path has been printed: a record that
// cannot be written is reported, not an error of the action.
func (c *Config) RecordSavepoint(ctx context.Context, rel *Release, e savepoint.Entry) {
	if e.Revision == 0 {
		e.Revision = rel.Version
	}
	r, err := c.Savepoints(rel.Name)
	if err == nil {
		err = r.Add(ctx, e)
	}
	if err != nil {
		c.Progressf("  warning: %v", err)
	}
}
