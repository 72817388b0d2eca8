// Package install is `helm flink install`: a Flink chart installed and its job running, or nothing installed.
//
// Values are validated first; then the release is installed with the Helm SDK, the JobManager
// and TaskManagers are waited for, the job is submitted (session clusters) and followed until
// every task of it runs.
package install

import (
	"context"
	"errors"
	"fmt"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/getter"
	"helm.sh/helm/v3/pkg/release"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/flink"
	"github.com/helm-flink/helm-flink/plugin/jobmanager"
	"github.com/helm-flink/helm-flink/plugin/savepoint"
	"github.com/helm-flink/helm-flink/plugin/values"
	"github.com/helm-flink/helm-flink/schema"
)

// Install is one install; New sets the defaults.
type Install struct {
	cfg *act.Config

	ReleaseName     string
	CreateNamespace bool
	// DryRun is Helm's --dry-run: "" (install), "client" (render with the cluster's capabilities,
	// no lookups) or "server" (lookups too); nothing is created either way.
	DryRun string
	// Atomic uninstalls the release again when any step fails, the job included.
	Atomic      bool
	Description string
	Job         jobmanager.Spec
	// NoWaitRunning returns once the job is submitted.
	NoWaitRunning bool
}

// New is an install in cfg's namespace.
func New(cfg *act.Config) *Install { return &Install{cfg: cfg} }

// Result is what an install did.
type Result struct {
	Release     string               `json:"release"`
	Namespace   string               `json:"namespace"`
	Revision    int                  `json:"revision"`
	Chart       string               `json:"chart"`
	Mode        act.Mode             `json:"mode"`
	Job         *jobmanager.Progress `json:"job,omitempty"`
	Parallelism int                  `json:"parallelism,omitempty"`
	UI          string               `json:"ui,omitempty"`
	// Elapsed is the whole install; SubmitToRunning the part from jar upload to all tasks running.
	Elapsed         jobmanager.Seconds `json:"elapsedSeconds"`
	SubmitToRunning jobmanager.Seconds `json:"submitToRunningSeconds,omitempty"`
	// Manifest is the rendered release, for --dry-run.
	Manifest string `json:"manifest,omitempty"`
}

// Prepared is a chart with the user's values that passed validation.
type Prepared struct {
	Chart *chart.Chart
	// Values are the user's only: Helm coalesces the chart's defaults itself.
	Values map[string]any
}

// Prepare loads the chart, merges the values as Helm does and validates them with the job; it
// does not touch the cluster beyond what locating a remote chart needs.
func (i *Install) Prepare(ref act.ChartRef, vals values.Options) (*Prepared, error) {
	ch, err := i.cfg.LoadChart(ref)
	if err != nil {
		return nil, exit.InputError(err)
	}
	mode := act.ChartMode(ch)
	job, err := act.JobsOf(mode).Values(i.Job)
	if err != nil {
		return nil, exit.InputError(err)
	}
	user, err := values.User(&vals, getter.All(i.cfg.Settings))
	if err != nil {
		return nil, exit.InputError(err)
	}
	// The job's flags over the user's values, as the last --set would be.
	user = chartutil.CoalesceTables(job, user)
	merged, err := values.ForChart(ch, user)
	if err != nil {
		return nil, exit.InputError(err)
	}
	check := schema.CheckOptions{Parallelism: i.Job.Parallelism, SavepointPath: i.Job.Savepoint, ReleaseName: i.ReleaseName}
	if mode == act.Session {
		// An application's jar is in its image or fetched by its pods, and job.entryClass is
		// checked as a value.
		check.Jar, check.EntryClass = i.Job.Jar, i.Job.EntryClass
	}
	// Values the schema and Flink accept can still make objects the API server refuses once
	// the release exists: those are checked too.
	problems, err := schema.CheckRelease(ch, merged, user, check, chartutil.ReleaseOptions{Name: i.ReleaseName, Namespace: i.cfg.Namespace()})
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, &schema.InvalidError{Subject: "values of chart " + ch.Name(), Problems: problems}
	}
	return &Prepared{Chart: ch, Values: user}, nil
}

// Run installs and waits. With Atomic, a failure after the release was created uninstalls it.
func (i *Install) Run(ctx context.Context, p *Prepared) (*Result, error) {
	start := time.Now()
	if err := i.checkTarget(ctx); err != nil {
		return nil, err
	}
	i.cfg.Progressf("Installing release %s (chart %s-%s) in namespace %s", i.ReleaseName, p.Chart.Name(), p.Chart.Metadata.Version, i.cfg.Namespace())
	if i.DryRun == "" {
		// What the release will be, to ask for every permission it takes first.
		rendered, err := i.helmInstall(ctx, p, "client")
		if err != nil {
			return nil, err
		}
		if err := i.cfg.CheckAccess(ctx, rendered, act.Installing); err != nil {
			return nil, err
		}
		i.pointAtRecord(ctx, p)
	}
	rel, err := i.helmInstall(ctx, p, i.DryRun)
	if err != nil {
		// A failed Helm install leaves a failed release (and whatever it created) behind.
		if i.Atomic && i.DryRun == "" {
			if _, gerr := i.cfg.Get(i.ReleaseName); gerr == nil {
				err = i.rollback(err)
			}
		}
		return nil, err
	}
	res := &Result{Release: rel.Name, Namespace: rel.Namespace, Revision: rel.Version,
		Chart: p.Chart.Name() + "-" + p.Chart.Metadata.Version, Mode: act.ChartMode(p.Chart)}
	if i.DryRun != "" {
		res.Manifest = rel.Manifest
		return res, nil
	}
	r, err := act.Read(rel)
	if err == nil {
		err = i.runJob(ctx, r, res)
	}
	if err != nil {
		if i.Atomic {
			err = i.rollback(err)
		}
		return res, err
	}
	res.Elapsed = jobmanager.Seconds(time.Since(start))
	return res, nil
}

// pointAtRecord says which savepoint an earlier installation of the release left in its record
// (kept by the uninstall because the savepoints outlived it) when the job does not start from
// one: the install starts afresh, as asked, but the state is there to start from.
func (i *Install) pointAtRecord(ctx context.Context, p *Prepared) {
	job, _ := p.Values["job"].(map[string]any)
	if from, _ := job["fromSavepoint"].(string); from != "" || i.Job.Savepoint != "" {
		return
	}
	cs, _, err := i.cfg.Clientset()
	if err != nil {
		return
	}
	entries, err := savepoint.Record{Kube: cs, Namespace: i.cfg.Namespace(), Release: i.ReleaseName}.List(ctx)
	if err != nil || len(entries) == 0 {
		return
	}
	e := entries[len(entries)-1]
	how := "--set job.fromSavepoint=" + e.Path
	if act.ChartMode(p.Chart) == act.Session {
		how = "--jar JAR --savepoint " + e.Path
	}
	i.cfg.Progressf("  an earlier installation of %s recorded %d savepoint(s) in %s; the job starts afresh. The newest: %s (job %s, revision %d); start from it with %s",
		i.ReleaseName, len(entries), savepoint.Name(i.ReleaseName), e.Path, e.JobName, e.Revision, how)
}

// checkTarget refuses, before anything is created, a release name already in use and a namespace
// that does not exist (without --create-namespace): the user's to fix, so exit 1 with the fix.
func (i *Install) checkTarget(ctx context.Context) error {
	if rel, err := i.cfg.Get(i.ReleaseName); err == nil {
		msg := fmt.Sprintf("release %q already exists in namespace %s (revision %d, %s): pick another name, or helm flink uninstall %s first",
			rel.Name, rel.Namespace, rel.Version, rel.Info.Status, rel.Name)
		if owner, ok := act.FluxOwner(rel); ok {
			msg += "; it is managed by Flux HelmRelease " + owner
		}
		return exit.InputError(errors.New(msg))
	}
	if i.CreateNamespace {
		return nil
	}
	cs, _, err := i.cfg.Clientset()
	if err != nil {
		return err
	}
	ns := i.cfg.Namespace()
	if _, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); apierrors.IsNotFound(err) {
		return exit.InputError(fmt.Errorf("namespace %q does not exist: create it, or add --create-namespace", ns))
	}
	// Other errors (e.g. no permission to read namespaces) are left to the install to report.
	return nil
}

// helmInstall installs (dryRun "") or renders the install ("client", "server") without waiting
// for pods: the caller waits with watches and reports progress.
func (i *Install) helmInstall(ctx context.Context, p *Prepared, dryRun string) (*release.Release, error) {
	install := action.NewInstall(i.cfg.Helm)
	install.ReleaseName, install.Namespace = i.ReleaseName, i.cfg.Namespace()
	install.CreateNamespace, install.Description = i.CreateNamespace, i.Description
	// Not install.Atomic: Helm's implies its own --wait, which would wait (with no progress and
	// no word of why) for pods the caller watches itself; rollback does it instead.
	install.Timeout = act.HelmTimeout(ctx)
	if dryRun != "" {
		install.DryRun, install.DryRunOption = true, dryRun
	}
	rel, err := install.RunWithContext(ctx, p.Chart, p.Values)
	if err != nil {
		return nil, fmt.Errorf("install release %q: %w", i.ReleaseName, err)
	}
	return rel, nil
}

// rollback uninstalls the release after err, for Atomic.
func (i *Install) rollback(err error) error {
	i.cfg.Progressf("Rolling back: uninstalling release %s (--atomic)", i.ReleaseName)
	if uerr := i.cfg.Uninstall(i.ReleaseName, 2*time.Minute); uerr != nil {
		return fmt.Errorf("%w; and --atomic could not uninstall: %v", err, uerr)
	}
	return err
}

// runJob waits for the installed cluster, then starts the job as the release's kind does: an
// application's own, or the session's --jar; a JobManager that fails meanwhile ends it.
func (i *Install) runJob(ctx context.Context, rel *act.Release, res *Result) error {
	return i.cfg.Watched(ctx, rel, func(ctx context.Context) error { return i.startJob(ctx, rel, res) })
}

func (i *Install) startJob(ctx context.Context, rel *act.Release, res *Result) error {
	jm, err := i.cfg.WaitUp(ctx, rel, jobmanager.UpOptions{})
	if err != nil {
		return err
	}
	defer jm.Close()
	res.UI = jobmanager.UIHint(ctx, i.cfg.Kube, rel.Namespace, rel.Name)
	start := time.Now()
	res.Job, err = rel.Kind.Start(ctx, i.cfg, rel, jm, i.Job, i.NoWaitRunning)
	if err != nil || i.NoWaitRunning || res.Job == nil {
		return err
	}
	res.SubmitToRunning = jobmanager.Seconds(time.Since(start))
	if j, err := jm.REST.Job(ctx, res.Job.JobID); err == nil {
		res.Parallelism = maxParallelism(j)
	}
	return nil
}

func maxParallelism(j *flink.Job) int {
	n := 0
	for _, v := range j.Vertices {
		n = max(n, v.Parallelism)
	}
	return n
}
