// Package fleet is `helm flink list`: every Flink release the charts installed, in a namespace or
// in all, one line each, with its jobs and health.
//
// Releases are found by the labels the charts put on their JobManager workloads (one list call
// per kind, and one for the savepoint records), not through Helm's storage: what runs is what is
// listed. The JobManagers are asked in parallel, a bounded number at a time, each within its own
// deadline, so that one that is down shows as unreachable without holding up the rest.
package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/flink"
	"github.com/helm-flink/helm-flink/plugin/jobmanager"
	"github.com/helm-flink/helm-flink/plugin/kube"
	"github.com/helm-flink/helm-flink/plugin/savepoint"
)

// List lists the Flink releases; New sets the defaults.
type List struct {
	cfg *act.Config

	// AllNamespaces lists every namespace's releases, not only the configured namespace's.
	AllNamespaces bool
	// Parallel is how many JobManagers are asked at once.
	Parallel int
	// Ask bounds the time one JobManager is given to answer.
	Ask time.Duration
	// Now is when ages are measured from.
	Now func() time.Time
}

// New is a list with cfg.
func New(cfg *act.Config) *List {
	return &List{cfg: cfg, Parallel: 8, Ask: 10 * time.Second, Now: time.Now}
}

// Release is one line of the list.
type Release struct {
	Namespace string `json:"namespace"`
	Name      string `json:"release"`
	Chart     string `json:"chart"`
	// Mode is session or application, "native …" in Flink's native Kubernetes mode.
	Mode string `json:"mode"`
	// Jobs counts the JobManager's jobs by state.
	Jobs map[string]int `json:"jobs"`
	// LastCheckpoint is when the newest checkpoint of a running job completed.
	LastCheckpoint *time.Time `json:"lastCheckpoint,omitempty"`
	// LastSavepoint is the newest savepoint the release's record holds.
	LastSavepoint *savepoint.Entry `json:"lastSavepoint,omitempty"`
	// Health is judged as status judges it (jobmanager.Judge).
	Health jobmanager.Health `json:"health"`
	// Reason says why the release is not healthy.
	Reason string `json:"reason,omitempty"`
}

// jobManagers selects the charts' JobManager workloads.
const jobManagers = "app.kubernetes.io/part-of=flink," + kube.ComponentLabel + "=" + kube.JobManager

// Run lists the releases, by namespace and name.
func (l *List) Run(ctx context.Context) ([]Release, error) {
	cs, _, err := l.cfg.Clientset()
	if err != nil {
		return nil, err
	}
	ns := l.cfg.Namespace()
	if l.AllNamespaces {
		ns = metav1.NamespaceAll
	}
	found, err := find(ctx, cs, ns)
	if err != nil {
		return nil, err
	}
	if err := l.savepoints(ctx, cs, ns, found); err != nil {
		return nil, err
	}
	out := make([]Release, len(found))
	var wg sync.WaitGroup
	slots := make(chan struct{}, max(l.Parallel, 1))
	for i, f := range found {
		out[i] = f.Release
		if f.ready == 0 {
			out[i].Health, out[i].Reason = jobmanager.Unreachable, "no JobManager pod is ready"
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			l.ask(ctx, &out[i], f.own)
		}()
	}
	wg.Wait()
	return out, nil
}

// found is a release as its JobManager workload shows it.
type found struct {
	Release
	// ready are its ready JobManager pods.
	ready int
	// own is the job the release defines, from its JobManager workload's annotations.
	own jobmanager.Own
}

// find lists the JobManager workloads the charts made in ns ("" for all): one call per kind.
func find(ctx context.Context, cs kubernetes.Interface, ns string) ([]*found, error) {
	opts := metav1.ListOptions{LabelSelector: jobManagers}
	byRelease := map[string]*found{}
	add := func(meta metav1.ObjectMeta, tmpl corev1.PodTemplateSpec, ready int32) {
		l := meta.Labels
		name := l["app.kubernetes.io/instance"]
		if name == "" || l["app.kubernetes.io/managed-by"] != "Helm" {
			return
		}
		key := meta.Namespace + "/" + name
		if f, ok := byRelease[key]; ok {
			f.ready += int(ready)
			return
		}
		mode := string(act.Session)
		if strings.HasSuffix(l["app.kubernetes.io/name"], "-job") {
			mode = string(act.Application)
		}
		if tmpl.Labels[act.TemplateHashLabel] != "" {
			mode = "native " + mode
		}
		own := jobmanager.Own{ID: meta.Annotations[act.OwnJobIDAnnotation], Name: meta.Annotations[act.OwnJobNameAnnotation]}
		byRelease[key] = &found{Release: Release{Namespace: meta.Namespace, Name: name, Chart: l["helm.sh/chart"], Mode: mode, Jobs: map[string]int{}}, ready: int(ready), own: own}
	}
	deployments, err := cs.AppsV1().Deployments(ns).List(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("list JobManager Deployments: %w", err)
	}
	for _, d := range deployments.Items {
		add(d.ObjectMeta, d.Spec.Template, d.Status.ReadyReplicas)
	}
	sets, err := cs.AppsV1().StatefulSets(ns).List(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("list JobManager StatefulSets: %w", err)
	}
	for _, s := range sets.Items {
		add(s.ObjectMeta, s.Spec.Template, s.Status.ReadyReplicas)
	}
	jobs, err := cs.BatchV1().Jobs(ns).List(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("list JobManager Jobs: %w", err)
	}
	for _, j := range jobs.Items {
		add(j.ObjectMeta, j.Spec.Template, ptr.Deref(j.Status.Ready, 0))
	}
	out := make([]*found, 0, len(byRelease))
	for _, f := range byRelease {
		out = append(out, f)
	}
	sort.Slice(out, func(i, k int) bool {
		if out[i].Namespace != out[k].Namespace {
			return out[i].Namespace < out[k].Namespace
		}
		return out[i].Name < out[k].Name
	})
	return out, nil
}

// savepoints sets each release's newest recorded savepoint: one list call for the records.
func (l *List) savepoints(ctx context.Context, cs kubernetes.Interface, ns string, found []*found) error {
	records, err := cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{LabelSelector: savepoint.RecordLabel})
	if err != nil {
		return fmt.Errorf("list savepoint records: %w", err)
	}
	newest := map[string]*savepoint.Entry{}
	for _, cm := range records.Items {
		var keys []string
		for k := range cm.Data {
			keys = append(keys, k)
		}
		sort.Strings(keys) // keys sort by time
		for i := len(keys) - 1; i >= 0; i-- {
			var e savepoint.Entry
			if json.Unmarshal([]byte(cm.Data[keys[i]]), &e) == nil && e.Path != "" {
				e.Key = keys[i]
				newest[cm.Namespace+"/"+cm.Labels[savepoint.RecordLabel]] = &e
				break
			}
		}
	}
	for _, f := range found {
		f.LastSavepoint = newest[f.Namespace+"/"+f.Name]
	}
	return nil
}

// ask fills in what r's JobManager says, within l.Ask.
func (l *List) ask(ctx context.Context, r *Release, own jobmanager.Own) {
	ctx, cancel := context.WithTimeout(ctx, l.Ask)
	defer cancel()
	cs, rc, err := l.cfg.Clientset()
	if err == nil {
		var jm *jobmanager.JobManager
		if jm, err = jobmanager.Connect(ctx, cs, rc, r.Namespace, r.Name, ""); err == nil {
			defer jm.Close()
			err = l.jobs(ctx, jm, r, own)
		}
	}
	if err != nil {
		r.Health, r.Reason = jobmanager.Unreachable, err.Error()
	}
}

// jobs counts r's jobs, judges its health and finds its newest completed checkpoint.
func (l *List) jobs(ctx context.Context, jm *jobmanager.JobManager, r *Release, own jobmanager.Own) error {
	jobs, err := jm.Jobs(ctx)
	if err != nil {
		return err
	}
	r.Health, r.Reason = jobmanager.Judge(jobs, own)
	for _, j := range jobs {
		r.Jobs[j.State]++
		if j.State != string(flink.JobRunning) {
			continue
		}
		if cp, err := jm.REST.Checkpoints(ctx, j.ID); err == nil && cp.Newest() != nil {
			if at := cp.Newest().Acknowledged.Time; r.LastCheckpoint == nil || at.After(*r.LastCheckpoint) {
				r.LastCheckpoint = &at
			}
		}
	}
	return nil
}
