// Package install is `helm flink install`: validate, install the release with the Helm SDK, wait
// for the JobManager and TaskManagers, submit the job (session clusters) and wait until every task
// of it runs. Nothing is installed when the input is wrong.
package install

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/getter"
	helmrelease "helm.sh/helm/v3/pkg/release"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/helm-flink/helm-flink/plugin/cluster"
	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/flink"
	"github.com/helm-flink/helm-flink/plugin/release"
	"github.com/helm-flink/helm-flink/plugin/submit"
	"github.com/helm-flink/helm-flink/plugin/values"
	"github.com/helm-flink/helm-flink/schema"
)

// Options of one install. NewOptions sets the defaults.
type Options struct {
	Release release.InstallOptions
	Chart   release.ChartRef
	Values  values.Options
	Job     submit.Job
	// NoWaitRunning returns once the job is submitted.
	NoWaitRunning bool
	// RESTURL reaches the JobManager directly instead of through a port-forward.
	RESTURL string
	// Progress receives one line per step; nil discards them.
	Progress io.Writer
}

// NewOptions are the defaults: five minutes for everything.
func NewOptions() *Options {
	return &Options{Release: release.InstallOptions{Timeout: 5 * time.Minute}}
}

// Result is what an install did.
type Result struct {
	Release     string           `json:"release"`
	Namespace   string           `json:"namespace"`
	Revision    int              `json:"revision"`
	Chart       string           `json:"chart"`
	Mode        release.Mode     `json:"mode"`
	Job         *submit.Progress `json:"job,omitempty"`
	Parallelism int              `json:"parallelism,omitempty"`
	UI          string           `json:"ui,omitempty"`
	// Elapsed is the whole install; SubmitToRunning the part from jar upload to all tasks running.
	Elapsed         cluster.Seconds `json:"elapsedSeconds"`
	SubmitToRunning cluster.Seconds `json:"submitToRunningSeconds,omitempty"`
	// Manifest is the rendered release, for --dry-run.
	Manifest string `json:"manifest,omitempty"`
}

func (o *Options) progressf(format string, a ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, format+"\n", a...)
	}
}

// Prepared is a chart with merged values that passed validation.
type Prepared struct {
	Chart  *chart.Chart
	Values map[string]any
	Config *action.Configuration
}

// Prepare loads the chart, merges the values as Helm does and validates them; it does not touch
// the cluster beyond what locating a remote chart needs.
func (o *Options) Prepare(env *release.Env) (*Prepared, error) {
	cfg, err := env.ActionConfig(o.Release.Namespace)
	if err != nil {
		return nil, err
	}
	ch, err := env.LoadChart(cfg, o.Chart)
	if err != nil {
		return nil, exit.InputError(err)
	}
	mode := release.ChartMode(ch)
	if err := o.jobValues(mode); err != nil {
		return nil, exit.InputError(err)
	}
	user, err := values.User(&o.Values, getter.All(env.Settings))
	if err != nil {
		return nil, exit.InputError(err)
	}
	merged, err := values.ForChart(ch, user)
	if err != nil {
		return nil, exit.InputError(err)
	}
	problems, err := schema.Check(ch, merged, schema.CheckOptions{
		Jar: o.jarToCheck(mode), EntryClass: o.entryClassToCheck(mode), Parallelism: o.Job.Parallelism,
		SavepointPath: o.Job.Savepoint, ReleaseName: o.Release.ReleaseName,
	})
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, &schema.InvalidError{Subject: "values of chart " + ch.Name(), Problems: problems}
	}
	// Helm coalesces the chart's defaults itself: it gets the user's values only.
	return &Prepared{Chart: ch, Values: user, Config: cfg}, nil
}

// jarToCheck is the jar validation looks into: the session's --jar; an application's jar is in
// its image or fetched by its pods, and job.entryClass is checked as a value.
func (o *Options) jarToCheck(mode release.Mode) string {
	if mode == release.Session {
		return o.Job.Jar
	}
	return ""
}

func (o *Options) entryClassToCheck(mode release.Mode) string {
	if mode == release.Session {
		return o.Job.EntryClass
	}
	return ""
}

// jobValues turns job flags into chart values for application charts, whose JobManager runs the job
// from its values; for session charts they stay flags of the submission.
func (o *Options) jobValues(mode release.Mode) error {
	if mode == release.Session {
		if o.Job.Jar == "" && (o.Job.EntryClass != "" || len(o.Job.Args) > 0 || o.Job.Savepoint != "" || o.Job.Parallelism > 0) {
			return errors.New("--entry-class, --args, --parallelism and --savepoint need --jar on a session chart")
		}
		return nil
	}
	j := o.Job
	if j.Jar != "" {
		if !submit.IsURL(j.Jar) && !strings.HasPrefix(j.Jar, "local://") {
			return fmt.Errorf("--jar %s: an application cluster runs the jar from its image (local:///opt/flink/usrlib/…) or an http(s) URL, not a local file", j.Jar)
		}
		o.Values.LiteralValues = append(o.Values.LiteralValues, "job.jarURI="+j.Jar)
	}
	if j.EntryClass != "" {
		o.Values.LiteralValues = append(o.Values.LiteralValues, "job.entryClass="+j.EntryClass)
	}
	if len(j.Args) > 0 {
		o.Values.JSONValues = append(o.Values.JSONValues, "job.args="+jsonList(j.Args))
	}
	if j.Parallelism > 0 {
		o.Values.Values = append(o.Values.Values, fmt.Sprintf("parallelism=%d", j.Parallelism))
	}
	if j.Savepoint != "" {
		o.Values.LiteralValues = append(o.Values.LiteralValues, "job.fromSavepoint="+j.Savepoint)
	}
	if j.AllowNonRestoredState {
		o.Values.Values = append(o.Values.Values, "job.allowNonRestoredState=true")
	}
	return nil
}

// Run installs and waits. With Atomic, a failure after the release was created uninstalls it.
func (o *Options) Run(ctx context.Context, env *release.Env) (*Result, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, o.Release.Timeout)
	defer cancel()

	p, err := o.Prepare(env)
	if err != nil {
		return nil, err
	}
	mode := release.ChartMode(p.Chart)
	if err := o.checkTarget(ctx, env, p); err != nil {
		return nil, err
	}
	o.progressf("Installing release %s (chart %s-%s) in namespace %s", o.Release.ReleaseName, p.Chart.Name(), p.Chart.Metadata.Version, o.Release.Namespace)
	rel, err := release.Install(ctx, p.Config, p.Chart, p.Values, o.Release)
	if err != nil {
		err = o.timeoutOr(ctx, err)
		if o.Release.Atomic && o.Release.DryRun == "" {
			// A failed Helm install leaves a failed release (and whatever it created) behind.
			if _, gerr := release.Get(p.Config, o.Release.ReleaseName); gerr == nil {
				o.progressf("Rolling back: uninstalling release %s (--atomic)", o.Release.ReleaseName)
				if uerr := release.Uninstall(p.Config, o.Release.ReleaseName, 2*time.Minute); uerr != nil {
					return nil, fmt.Errorf("%w; and --atomic could not uninstall: %v", err, uerr)
				}
			}
		}
		return nil, err
	}
	res := &Result{Release: rel.Name, Namespace: rel.Namespace, Revision: rel.Version,
		Chart: p.Chart.Name() + "-" + p.Chart.Metadata.Version, Mode: mode}
	if o.Release.DryRun != "" {
		res.Manifest = rel.Manifest
		return res, nil
	}
	if err := o.afterInstall(ctx, env, rel, mode, res); err != nil {
		err = o.timeoutOr(ctx, err)
		if o.Release.Atomic {
			o.progressf("Rolling back: uninstalling release %s (--atomic)", rel.Name)
			if uerr := release.Uninstall(p.Config, rel.Name, 2*time.Minute); uerr != nil {
				return res, fmt.Errorf("%w; and --atomic could not uninstall: %v", err, uerr)
			}
		}
		return res, err
	}
	res.Elapsed = cluster.Seconds(time.Since(start))
	return res, nil
}

// checkTarget refuses, before anything is created, a release name already in use and a namespace
// that does not exist (without --create-namespace): the user's to fix, so exit 1 with the fix.
func (o *Options) checkTarget(ctx context.Context, env *release.Env, p *Prepared) error {
	if rel, err := release.Get(p.Config, o.Release.ReleaseName); err == nil {
		msg := fmt.Sprintf("release %q already exists in namespace %s (revision %d, %s): pick another name, or helm flink uninstall %s first",
			rel.Name, rel.Namespace, rel.Version, rel.Info.Status, rel.Name)
		if owner, ok := release.FluxOwner(rel); ok {
			msg += "; it is managed by Flux HelmRelease " + owner
		}
		return exit.InputError(errors.New(msg))
	}
	if o.Release.CreateNamespace {
		return nil
	}
	cs, _, err := env.Clientset()
	if err != nil {
		return err
	}
	if _, err := cs.CoreV1().Namespaces().Get(ctx, o.Release.Namespace, metav1.GetOptions{}); apierrors.IsNotFound(err) {
		return exit.InputError(fmt.Errorf("namespace %q does not exist: create it, or add --create-namespace", o.Release.Namespace))
	}
	// Other errors (e.g. no permission to read namespaces) are left to the install to report.
	return nil
}

func (o *Options) timeoutOr(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) && exit.Code(err) != exit.JobFailed {
		return exit.With(exit.Timeout, fmt.Errorf("timed out after %s: %w", o.Release.Timeout, err))
	}
	return err
}

func (o *Options) afterInstall(ctx context.Context, env *release.Env, rel *helmrelease.Release, mode release.Mode, res *Result) error {
	cs, restCfg, err := env.Clientset()
	if err != nil {
		return err
	}
	ns := rel.Namespace
	c, err := cluster.Up(ctx, cs, restCfg, ns, rel.Name, cluster.UpOptions{
		RESTURL: o.RESTURL, Application: mode == release.Application, Progress: o.progressf})
	if err != nil {
		return err
	}
	defer c.Close()
	res.UI = cluster.UIHint(ctx, cs, ns, rel.Name)

	var jobID string
	submitStart := time.Now()
	switch {
	case mode == release.Application:
		jobID = ApplicationJobID(rel)
		o.progressf("Waiting for the application's job %s", jobID)
	case o.Job.Jar != "":
		o.progressf("Submitting %s", o.Job.Jar)
		if jobID, err = submit.Run(ctx, c.REST, o.Job); err != nil {
			return fmt.Errorf("submit job: %w", err)
		}
		o.progressf("  job %s submitted", jobID)
	default:
		return nil // a session cluster without a job
	}
	res.Job = &submit.Progress{JobID: jobID}
	if o.NoWaitRunning {
		return nil
	}
	prog, err := submit.WaitRunning(ctx, c.REST, jobID, func(p submit.Progress) { o.progressf("  %s", p) })
	res.Job = &prog
	if err != nil {
		return err
	}
	res.SubmitToRunning = cluster.Seconds(time.Since(submitStart))
	if j, err := c.REST.Job(ctx, jobID); err == nil {
		res.Parallelism = maxParallelism(j)
	}
	return nil
}

// ApplicationJobID is the job id the flink-job chart gives its job: job.jobId, else the first 32
// hex digits of sha256("<namespace>/<release>") (charts/flink-job/templates/_job.tpl).
func ApplicationJobID(rel *helmrelease.Release) string {
	if job, ok := rel.Config["job"].(map[string]any); ok {
		if id, ok := job["jobId"].(string); ok && id != "" {
			return id
		}
	}
	if rel.Chart != nil {
		if job, ok := rel.Chart.Values["job"].(map[string]any); ok {
			if id, ok := job["jobId"].(string); ok && id != "" {
				return id
			}
		}
	}
	sum := sha256.Sum256([]byte(rel.Namespace + "/" + rel.Name))
	return hex.EncodeToString(sum[:])[:32]
}

func maxParallelism(j *flink.Job) int {
	n := 0
	for _, v := range j.Vertices {
		n = max(n, v.Parallelism)
	}
	return n
}

func jsonList(s []string) string {
	b, _ := json.Marshal(s) // strings always marshal
	return string(b)
}
