// Package upgrade is `helm flink upgrade`: a Helm upgrade that keeps the jobs' state. An
// application cluster's job is stopped with a savepoint and restarted from it by the upgraded
// release; a session cluster is not upgraded in a way that restarts its JobManager under running
// jobs without HA, unless forced.
package upgrade

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/getter"
	helmrelease "helm.sh/helm/v3/pkg/release"

	"github.com/helm-flink/helm-flink/plugin/cluster"
	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/install"
	"github.com/helm-flink/helm-flink/plugin/kube"
	"github.com/helm-flink/helm-flink/plugin/release"
	"github.com/helm-flink/helm-flink/plugin/submit"
	"github.com/helm-flink/helm-flink/plugin/values"
	"github.com/helm-flink/helm-flink/schema"
)

// Options of one upgrade; NewOptions sets the defaults.
type Options struct {
	Release     string
	Namespace   string
	Chart       release.ChartRef
	Values      values.Options
	ReuseValues bool
	// SavepointDir is where an application's job is stopped to; "" uses the cluster's
	// state.savepoints.dir.
	SavepointDir string
	// NoSavepoint upgrades an application without stopping its job first (it restarts from its
	// latest checkpoint with HA, else from scratch).
	NoSavepoint           bool
	AllowNonRestoredState bool
	// Force lets a session upgrade restart the JobManager under running jobs without HA.
	Force       bool
	Timeout     time.Duration
	RESTURL     string
	Description string
	Progress    io.Writer
}

// NewOptions are the defaults.
func NewOptions() *Options { return &Options{Timeout: 5 * time.Minute} }

// Result is what an upgrade did.
type Result struct {
	Release   string           `json:"release"`
	Namespace string           `json:"namespace"`
	Revision  int              `json:"revision"`
	Mode      release.Mode     `json:"mode"`
	Savepoint string           `json:"savepoint,omitempty"`
	Job       *submit.Progress `json:"job,omitempty"`
	Elapsed   cluster.Seconds  `json:"elapsedSeconds"`
}

func (o *Options) progressf(format string, a ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, format+"\n", a...)
	}
}

// Run upgrades and waits until the cluster (and an application's job) runs again.
func (o *Options) Run(ctx context.Context, env *release.Env) (*Result, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	cfg, err := env.ActionConfig(o.Namespace)
	if err != nil {
		return nil, err
	}
	rel, err := release.ForChange(cfg, o.Release, o.Namespace, "undo this upgrade")
	if err != nil {
		return nil, err
	}
	ch, err := env.LoadChart(cfg, o.Chart)
	if err != nil {
		return nil, exit.InputError(err)
	}
	mode := release.ChartMode(ch)
	if was := release.ChartMode(rel.Chart); was != mode {
		return nil, exit.InputError(fmt.Errorf("release %q is a %s cluster and chart %s is a %s cluster: uninstall and install instead", o.Release, was, ch.Name(), mode))
	}
	user, err := values.User(&o.Values, getter.All(env.Settings))
	if err != nil {
		return nil, exit.InputError(err)
	}
	if o.ReuseValues {
		user = chartutil.CoalesceTables(user, copyValues(rel.Config))
	}
	res := &Result{Release: rel.Name, Namespace: rel.Namespace, Mode: mode}
	newJobID := ""
	if mode == release.Application && !hasJobID(user) {
		// A job stopped with a savepoint has ended for good under its id (with HA, Flink's job
		// result store remembers it): the restarted job gets an id of its own revision.
		newJobID = revisionJobID(rel.Namespace, rel.Name, rel.Version+1)
		setJob(user, "jobId", newJobID)
	}
	merged, err := values.ForChart(ch, user)
	if err != nil {
		return nil, exit.InputError(err)
	}
	problems, err := schema.Check(ch, merged, schema.CheckOptions{ReleaseName: rel.Name})
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, &schema.InvalidError{Subject: "values of chart " + ch.Name(), Problems: problems}
	}

	cs, restCfg, err := env.Clientset()
	if err != nil {
		return nil, err
	}
	c, err := cluster.Connect(ctx, cs, restCfg, o.Namespace, o.Release, o.RESTURL)
	if err != nil {
		return nil, fmt.Errorf("before the upgrade: %w", err)
	}
	jobs, err := c.Jobs(ctx)
	if err != nil {
		c.Close()
		return nil, err
	}
	switch mode {
	case release.Application:
		err = o.stopApplication(ctx, c, rel, jobs, user, res)
	default:
		err = o.guardSession(ctx, cfg, rel, ch, user, merged, jobs)
	}
	c.Close()
	if err != nil {
		return res, err
	}

	o.progressf("Upgrading release %s to chart %s-%s", rel.Name, ch.Name(), ch.Metadata.Version)
	up, err := release.Upgrade(ctx, cfg, rel.Name, ch, user, release.UpgradeOptions{Namespace: o.Namespace, Timeout: o.Timeout, Description: o.Description})
	if err != nil {
		if res.Savepoint != "" {
			err = fmt.Errorf("%w\nthe job was stopped with savepoint %s; start it from there with: helm flink upgrade %s CHART --reuse-values --set job.fromSavepoint=%s", err, res.Savepoint, rel.Name, res.Savepoint)
		}
		return res, err
	}
	res.Revision = up.Version
	if err := o.wait(ctx, env, up, mode, newJobID, res); err != nil {
		return res, err
	}
	res.Elapsed = cluster.Seconds(time.Since(start))
	return res, nil
}

// stopApplication stops the application's running job with a savepoint and points the upgrade at it.
func (o *Options) stopApplication(ctx context.Context, c *cluster.Cluster, rel *helmrelease.Release, jobs []cluster.Job, user map[string]any, res *Result) error {
	if o.NoSavepoint {
		o.progressf("Not stopping the job first (--no-savepoint)")
		return nil
	}
	id := install.ApplicationJobID(rel)
	for _, j := range jobs {
		if j.ID != id || j.State != "RUNNING" {
			continue
		}
		o.progressf("Stopping job %s with a savepoint", j.ID)
		loc, err := c.Stop(ctx, j.ID, o.SavepointDir, false)
		if err != nil {
			return fmt.Errorf("nothing upgraded: %w", err)
		}
		o.progressf("  savepoint %s", loc)
		res.Savepoint = loc
		// The stopped application's JobManager shuts down by itself: let it, so the upgraded
		// TaskManagers find only the new one.
		if err := kube.WaitNoneRunning(ctx, c.Kube, c.Namespace, kube.Selector(c.Release, kube.JobManager)); err != nil {
			return fmt.Errorf("wait for the stopped JobManager to end: %w", err)
		}
		setJob(user, "fromSavepoint", loc)
		if o.AllowNonRestoredState {
			setJob(user, "allowNonRestoredState", true)
		}
		return nil
	}
	o.progressf("Job %s is not running: upgrading without a savepoint", id)
	return nil
}

// guardSession refuses an upgrade that restarts a session's JobManager under running jobs
// without HA: Flink would forget those jobs.
func (o *Options) guardSession(ctx context.Context, cfg *action.Configuration, rel *helmrelease.Release, ch *chart.Chart, user, merged map[string]any, jobs []cluster.Job) error {
	var running []string
	for _, j := range jobs {
		if j.State == "RUNNING" {
			running = append(running, j.ID+" ("+j.Name+")")
		}
	}
	if len(running) == 0 || o.Force || haEnabled(merged) {
		return nil
	}
	restarts, err := o.jobManagerChanges(ctx, cfg, rel, ch, user)
	if err != nil || !restarts {
		return err
	}
	return exit.InputError(fmt.Errorf("this upgrade restarts the JobManager, and without HA Flink would lose its %d running job(s): %s; stop them with savepoints first (helm flink stop %s JOB --savepoint-dir DIR), enable highAvailability, or pass --force",
		len(running), strings.Join(running, ", "), rel.Name))
}

// jobManagerChanges renders the upgrade (a dry run) and says whether the JobManager's Deployment
// differs from the release's: any difference rolls its pod.
func (o *Options) jobManagerChanges(ctx context.Context, cfg *action.Configuration, rel *helmrelease.Release, ch *chart.Chart, user map[string]any) (bool, error) {
	next, err := release.Upgrade(ctx, cfg, rel.Name, ch, user, release.UpgradeOptions{Namespace: o.Namespace, Timeout: o.Timeout, DryRun: "client"})
	if err != nil {
		return false, err
	}
	return jobManagerDoc(rel.Manifest) != jobManagerDoc(next.Manifest), nil
}

// jobManagerDoc is the JobManager Deployment's document in a release manifest.
func jobManagerDoc(manifest string) string {
	for _, doc := range strings.Split(manifest, "\n---") {
		if strings.Contains(doc, "\nkind: Deployment") && strings.Contains(doc, "app.kubernetes.io/component: jobmanager") {
			// Only the pod template decides whether the pod is replaced.
			if i := strings.Index(doc, "\n  template:"); i >= 0 {
				return doc[i:]
			}
			return doc
		}
	}
	return ""
}

func haEnabled(vals map[string]any) bool {
	ha, _ := vals["highAvailability"].(map[string]any)
	on, _ := ha["enabled"].(bool)
	return on
}

func hasJobID(user map[string]any) bool {
	job, _ := user["job"].(map[string]any)
	id, _ := job["jobId"].(string)
	return id != ""
}

func setJob(user map[string]any, key string, v any) {
	job, ok := user["job"].(map[string]any)
	if !ok {
		job = map[string]any{}
		user["job"] = job
	}
	job[key] = v
}

func revisionJobID(ns, name string, revision int) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%s/%d", ns, name, revision)))
	return hex.EncodeToString(sum[:])[:32]
}

// copyValues deep-copies release values so that coalescing never writes into the stored release.
func copyValues(v map[string]any) map[string]any {
	out := make(map[string]any, len(v))
	for k, x := range v {
		if m, ok := x.(map[string]any); ok {
			out[k] = copyValues(m)
		} else {
			out[k] = x
		}
	}
	return out
}

func (o *Options) wait(ctx context.Context, env *release.Env, rel *helmrelease.Release, mode release.Mode, jobID string, res *Result) error {
	cs, restCfg, err := env.Clientset()
	if err != nil {
		return err
	}
	up := cluster.UpOptions{RESTURL: o.RESTURL, Application: mode == release.Application, Progress: o.progressf}
	if mode == release.Application {
		up.JobManagers = 1 // the old JobManager's Job is on its way out
	}
	c, err := cluster.Up(ctx, cs, restCfg, rel.Namespace, rel.Name, up)
	if err != nil {
		return o.timeout(ctx, err)
	}
	defer c.Close()
	if mode != release.Application {
		return nil
	}
	if jobID == "" {
		jobID = install.ApplicationJobID(rel)
	}
	p, err := submit.WaitRunning(ctx, c.REST, jobID, func(p submit.Progress) { o.progressf("  %s", p) })
	res.Job = &p
	return err
}

func (o *Options) timeout(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return exit.With(exit.Timeout, fmt.Errorf("timed out after %s: %w", o.Timeout, err))
	}
	return err
}
