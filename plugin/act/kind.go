package act

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"k8s.io/client-go/kubernetes"

	"github.com/helm-flink/helm-flink/plugin/jobmanager"
	"github.com/helm-flink/helm-flink/plugin/kube"
	"github.com/helm-flink/helm-flink/plugin/manifest"
)

// Kind is what differs between the four kinds of cluster the charts run, in two halves: how its
// jobs run (Jobs: a session's are submitted to it, an application's JobManager runs its own from
// the chart's values) and how its TaskManagers come and go (TaskManagers: a standalone cluster's
// are a Deployment of the release, a native cluster's are pods its JobManager creates). Actions
// ask the release's Kind rather than branch on either.
type Kind struct {
	Jobs
	TaskManagers
}

// KindOf is the kind of a release of a chart of mode rendered as m.
func KindOf(mode Mode, m manifest.Manifest) Kind {
	k := Kind{Jobs: JobsOf(mode), TaskManagers: standalone{}}
	if m.Native() {
		k.TaskManagers = native{clusterID: m.ClusterID(), min: m.NativeMinTaskManagers()}
	}
	return k
}

func (k Kind) String() string { return k.TaskManagers.name() + " " + string(k.Mode()) }

// JobsOf is how a chart of mode runs its jobs.
func JobsOf(mode Mode) Jobs {
	if mode == Application {
		return applicationJobs{}
	}
	return sessionJobs{}
}

// Jobs is how a kind of cluster runs its jobs.
type Jobs interface {
	Mode() Mode
	// Values are the chart values that run job j: an application's JobManager runs its job from
	// them; a session has none (the job is submitted to it) and only checks j.
	Values(j jobmanager.Spec) (map[string]any, error)
	// Start starts job j on rel's cluster, now up, through jm, and unless noWait waits until
	// every task runs: a session runs j's jar (none without one), an application's JobManager
	// runs the job of its values.
	Start(ctx context.Context, c *Config, rel *Release, jm *jobmanager.JobManager, j jobmanager.Spec, noWait bool) (*jobmanager.Progress, error)
	// Wait waits, once the cluster is up, for the job the release itself runs: an application's
	// until every task runs (recovered: until Flink recovered it with HA); none for a session.
	Wait(ctx context.Context, rel *Release, jm *jobmanager.JobManager, recovered bool, progress func(string, ...any)) (*jobmanager.Progress, error)
	// Own is the job rel itself defines, by id (an application's) or by name (the session
	// chart's submit.jobName, with submit.enabled); none for a session without it.
	Own(rel *Release) (id, name string)
	// up says what the cluster's being up takes.
	up(o *jobmanager.UpOptions)
}

type sessionJobs struct{}

func (sessionJobs) Mode() Mode { return Session }

func (sessionJobs) Values(j jobmanager.Spec) (map[string]any, error) {
	if j.Jar == "" && (j.EntryClass != "" || len(j.Args) > 0 || j.Savepoint != "" || j.Parallelism > 0) {
		return nil, errors.New("--entry-class, --args, --parallelism and --savepoint need --jar on a session chart")
	}
	return nil, nil
}

func (sessionJobs) Start(ctx context.Context, c *Config, rel *Release, jm *jobmanager.JobManager, j jobmanager.Spec, noWait bool) (*jobmanager.Progress, error) {
	if j.Jar == "" {
		return nil, nil
	}
	c.Progressf("Submitting %s", j.Jar)
	p, err := c.RunJar(ctx, rel, jm, j, noWait)
	if p.JobID == "" {
		return nil, err
	}
	return &p, err
}

func (sessionJobs) Wait(context.Context, *Release, *jobmanager.JobManager, bool, func(string, ...any)) (*jobmanager.Progress, error) {
	return nil, nil
}

func (sessionJobs) up(*jobmanager.UpOptions) {}

func (sessionJobs) Own(rel *Release) (string, string) { return "", SubmitJob(rel.Values) }

// The job a release defines, on its JobManager workload (the charts' flink.ownJobAnnotations):
// `list` reads these instead of every release.
const (
	OwnJobIDAnnotation   = "helm-flink.dev/job-id"
	OwnJobNameAnnotation = "helm-flink.dev/job-name"
)

// SubmitJob is the name of the job the session chart's hooks submit and carry across an upgrade
// that replaces the JobManager (submit.enabled in a session's values, vals with the chart's
// defaults), or "".
func SubmitJob(vals map[string]any) string {
	submit, _ := vals["submit"].(map[string]any)
	if on, _ := submit["enabled"].(bool); !on {
		return ""
	}
	name, _ := submit["jobName"].(string)
	return name
}

func (applicationJobs) Own(rel *Release) (string, string) {
	id, _ := rel.JobID()
	return id, ""
}

type applicationJobs struct{}

func (applicationJobs) Mode() Mode { return Application }

func (applicationJobs) Values(j jobmanager.Spec) (map[string]any, error) {
	job := map[string]any{}
	if j.Jar != "" {
		if !jobmanager.IsURL(j.Jar) && !strings.HasPrefix(j.Jar, "local://") {
			return nil, fmt.Errorf("--jar %s: an application cluster runs the jar from its image (local:///opt/flink/usrlib/…) or an http(s) URL, not a local file", j.Jar)
		}
		job["jarURI"] = j.Jar
	}
	if j.EntryClass != "" {
		job["entryClass"] = j.EntryClass
	}
	if len(j.Args) > 0 {
		args := make([]any, len(j.Args))
		for i, a := range j.Args {
			args[i] = a
		}
		job["args"] = args
	}
	if j.Savepoint != "" {
		job["fromSavepoint"] = j.Savepoint
	}
	if j.AllowNonRestoredState {
		job["allowNonRestoredState"] = true
	}
	vals := map[string]any{}
	if len(job) > 0 {
		vals["job"] = job
	}
	if j.Parallelism > 0 {
		vals["parallelism"] = int64(j.Parallelism) // as --set parallelism=N gives it
	}
	return vals, nil
}

func (a applicationJobs) Start(ctx context.Context, c *Config, rel *Release, jm *jobmanager.JobManager, _ jobmanager.Spec, noWait bool) (*jobmanager.Progress, error) {
	id, err := rel.JobID()
	if err != nil {
		return nil, err
	}
	c.Progressf("Waiting for the application's job %s", id)
	if noWait {
		return &jobmanager.Progress{JobID: id}, nil
	}
	return a.Wait(ctx, rel, jm, false, c.Progressf)
}

func (applicationJobs) Wait(ctx context.Context, rel *Release, jm *jobmanager.JobManager, recovered bool, progress func(string, ...any)) (*jobmanager.Progress, error) {
	id, err := rel.JobID()
	if err != nil {
		return nil, err
	}
	wait := jm.Wait
	if recovered {
		wait = jm.WaitRecovered
	}
	p, err := wait(ctx, id, progress)
	return &p, err
}

// The JobManager runs the job's main(), so its crash is the job's failure; there is one, and the
// one a change replaced may still be on its way out.
func (applicationJobs) up(o *jobmanager.UpOptions) { o.Application, o.JobManagers = true, 1 }

// TaskManagers is how a kind of cluster's TaskManagers come and go.
type TaskManagers interface {
	// ClusterID is the native cluster's id (kubernetes.cluster-id); "" for a standalone one.
	ClusterID() string
	// Native is what a connection to the JobManager needs to follow the TaskManager pods Flink
	// creates; nil for a standalone cluster.
	Native(cs kubernetes.Interface) *jobmanager.Native
	// Retiring are the JobManager pods whose TaskManagers a change that replaces the JobManager
	// must retire once it has ended (see Retire); nil when there are none to retire.
	Retiring(ctx context.Context, cs kubernetes.Interface, rel *Release) ([]string, error)
	// Retire deletes the TaskManager pods that JobManager pods jms created, once they have
	// ended, now that up replaced them; nothing for a standalone cluster, whose TaskManagers are
	// the release's own Deployment.
	Retire(ctx context.Context, cs kubernetes.Interface, up *Release, jms []string, progress func(string, ...any)) error
	name() string
}

type standalone struct{}

func (standalone) ClusterID() string                              { return "" }
func (standalone) Native(kubernetes.Interface) *jobmanager.Native { return nil }
func (standalone) Retiring(context.Context, kubernetes.Interface, *Release) ([]string, error) {
	return nil, nil
}
func (standalone) Retire(context.Context, kubernetes.Interface, *Release, []string, func(string, ...any)) error {
	return nil
}
func (standalone) name() string { return "standalone" }

// In native mode the TaskManager pods belong to the JobManager that created them, not to a
// workload of the release: a change that replaces the JobManager leaves them behind, running the
// previous pod template and following a JobManager that is gone.
type native struct {
	clusterID string
	min       int
}

func (n native) ClusterID() string { return n.clusterID }

func (n native) Native(cs kubernetes.Interface) *jobmanager.Native {
	return &jobmanager.Native{Kube: cs, ClusterID: n.clusterID, MinTaskManagers: n.min}
}

func (native) Retiring(ctx context.Context, cs kubernetes.Interface, rel *Release) ([]string, error) {
	return kube.PodNames(ctx, cs, rel.Namespace, kube.Selector(rel.Name, kube.JobManager))
}

// TemplateHashLabel is the hash of what a native cluster's TaskManagers run, on its JobManager
// pods and on the TaskManager pods it creates (the charts' flink.taskmanagerTemplateHash).
const TemplateHashLabel = "helm-flink.dev/taskmanager-template"

// RetiredTaskManagers selects the TaskManager pods of native release up that a replaced
// JobManager created: Flink's labels of its cluster's TaskManagers, and a template hash other
// than up's. The charts' retire hook (flink.nativeRetire) deletes the same.
func RetiredTaskManagers(up *Release) string {
	sel := kube.NativeTaskManagers(up.Kind.ClusterID())
	if jm := up.Objects.JobManager(); jm != nil {
		if hash := jm.Labels[TemplateHashLabel]; hash != "" {
			sel += "," + TemplateHashLabel + "!=" + hash
		}
	}
	return sel
}

func (native) Retire(ctx context.Context, cs kubernetes.Interface, up *Release, jms []string, progress func(string, ...any)) error {
	if err := kube.WaitGone(ctx, cs, up.Namespace, kube.Selector(up.Name, kube.JobManager), jms, nil); err != nil {
		return fmt.Errorf("wait for the previous jobmanager to end: %w", err)
	}
	// The chart's post-upgrade hook may have done this already, and the new JobManager may have
	// created pods by now: only those of another template hash are the previous one's.
	sel := RetiredTaskManagers(up)
	tms, err := kube.PodNames(ctx, cs, up.Namespace, sel)
	if err != nil || len(tms) == 0 {
		return err
	}
	progress("  deleting the %d TaskManager pod(s) the previous JobManager created; the new one creates its own", len(tms))
	return kube.RestartPods(ctx, cs, up.Namespace, sel)
}

func (native) name() string { return "native" }
