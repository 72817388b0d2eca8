// Package uninstall is `helm flink uninstall`: optionally stop every running job with a savepoint
// first, uninstall the release, and remove the HA ConfigMaps Flink created without owner
// references (which `helm uninstall` alone would leave behind).
package uninstall

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/helm-flink/helm-flink/plugin/cluster"
	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/release"
)

// Options of one uninstall; NewOptions sets the defaults.
type Options struct {
	Release      string
	Namespace    string
	StopJobs     bool
	SavepointDir string
	Drain        bool
	Timeout      time.Duration
	RESTURL      string
	Progress     io.Writer
}

// NewOptions are the defaults.
func NewOptions() *Options { return &Options{Timeout: 5 * time.Minute} }

// Result is what an uninstall did.
type Result struct {
	Release      string            `json:"release"`
	Namespace    string            `json:"namespace"`
	Savepoints   map[string]string `json:"savepoints,omitempty"`
	HAConfigMaps []string          `json:"haConfigMapsDeleted,omitempty"`
}

// Validate checks the options before anything is contacted.
func (o *Options) Validate() error {
	if o.StopJobs && o.SavepointDir == "" {
		return exit.InputError(fmt.Errorf("--stop-jobs needs --savepoint-dir (e.g. s3://bucket/savepoints or file:///flink/savepoints)"))
	}
	if !o.StopJobs && o.SavepointDir != "" {
		return exit.InputError(fmt.Errorf("--savepoint-dir is used only with --stop-jobs"))
	}
	return nil
}

func (o *Options) progressf(format string, a ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, format+"\n", a...)
	}
}

// Run uninstalls. When stopping a job fails nothing is uninstalled.
func (o *Options) Run(ctx context.Context, env *release.Env) (*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	cfg, err := env.ActionConfig(o.Namespace)
	if err != nil {
		return nil, err
	}
	rel, err := release.ForChange(cfg, o.Release, o.Namespace, "install it again")
	if err != nil {
		return nil, err
	}
	res := &Result{Release: rel.Name, Namespace: rel.Namespace}
	cs, restCfg, err := env.Clientset()
	if err != nil {
		return nil, err
	}
	if o.StopJobs {
		c, err := cluster.Connect(ctx, cs, restCfg, o.Namespace, o.Release, o.RESTURL)
		if err != nil {
			return nil, err
		}
		jobs, err := c.Jobs(ctx)
		if err != nil {
			c.Close()
			return nil, err
		}
		res.Savepoints = map[string]string{}
		for _, j := range jobs {
			if j.State != "RUNNING" {
				continue
			}
			o.progressf("Stopping job %s (%s) with a savepoint", j.ID, j.Name)
			loc, err := c.Stop(ctx, j.ID, o.SavepointDir, o.Drain)
			if err != nil {
				c.Close()
				return res, fmt.Errorf("nothing uninstalled: %w", err)
			}
			o.progressf("  savepoint %s", loc)
			res.Savepoints[j.ID] = loc
		}
		c.Close()
	}
	clusterID := ClusterID(rel.Manifest)
	o.progressf("Uninstalling release %s", rel.Name)
	if err := release.Uninstall(cfg, rel.Name, o.Timeout); err != nil {
		return res, err
	}
	if clusterID != "" {
		sel := "app=" + clusterID + ",configmap-type=high-availability"
		list, err := cs.CoreV1().ConfigMaps(o.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			return res, fmt.Errorf("list HA config maps: %w", err)
		}
		for _, cm := range list.Items {
			if err := cs.CoreV1().ConfigMaps(o.Namespace).Delete(ctx, cm.Name, metav1.DeleteOptions{}); err != nil {
				return res, fmt.Errorf("delete HA config map %s: %w", cm.Name, err)
			}
			res.HAConfigMaps = append(res.HAConfigMaps, cm.Name)
		}
	}
	return res, nil
}

var clusterIDLine = regexp.MustCompile(`(?m)^\s*kubernetes\.cluster-id:\s*"?([A-Za-z0-9.-]+)"?\s*$`)

// ClusterID is the kubernetes.cluster-id the release's Flink config sets (only HA setups), or "".
func ClusterID(manifest string) string {
	if m := clusterIDLine.FindStringSubmatch(manifest); m != nil {
		return m[1]
	}
	return ""
}
