// Package uninstall is `helm flink uninstall`: a release removed with its HA config maps, its jobs optionally stopped first.
//
// Every running job can be stopped with a savepoint first (when one fails, nothing is
// uninstalled); the HA ConfigMaps Flink created without owner references, which `helm uninstall`
// alone would leave behind, are removed after the release.
package uninstall

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/flink"
	"github.com/helm-flink/helm-flink/plugin/jobmanager"
	"github.com/helm-flink/helm-flink/plugin/kube"
	"github.com/helm-flink/helm-flink/plugin/savepoint"
	"github.com/helm-flink/helm-flink/schema"
)

// Uninstall removes a release; New sets the defaults.
type Uninstall struct {
	cfg *act.Config

	// StopJobs stops every running job with a savepoint into SavepointDir first (draining its
	// sources with Drain).
	StopJobs     bool
	SavepointDir string
	Drain        bool
}

// New is an uninstall with cfg.
func New(cfg *act.Config) *Uninstall { return &Uninstall{cfg: cfg} }

// Result is what an uninstall did.
type Result struct {
	Release      string            `json:"release"`
	Namespace    string            `json:"namespace"`
	Savepoints   map[string]string `json:"savepoints,omitempty"`
	HAConfigMaps []string          `json:"haConfigMapsDeleted,omitempty"`
	// SavepointRecord is the savepoint record kept for a reinstall (see package savepoint).
	SavepointRecord string `json:"savepointRecord,omitempty"`
	// Ended are the jobs that were running without --stop-jobs: the uninstall ended them
	// without a savepoint.
	Ended []jobmanager.Job `json:"jobsEndedWithoutSavepoint,omitempty"`
	// StateKept are the release's state locations on object storage, which an uninstall leaves.
	StateKept []KeptState `json:"stateKept,omitempty"`
}

// KeptState is a state location the uninstall leaves on object storage: the value that names it
// and its URI, and where the savepoints the job was stopped to went.
type KeptState struct {
	Value string `json:"value"`
	URI   string `json:"uri"`
}

// keptState lists rel's state locations on object storage, and the --savepoint-dir of this
// uninstall when it is there, by value path.
func keptState(rel *act.Release, savepointDir string) []KeptState {
	locs := schema.StateLocations(rel.Values)
	if savepointDir != "" {
		locs["--savepoint-dir"] = savepointDir
	}
	var out []KeptState
	for at, uri := range locs {
		if schema.ObjectStore(uri) && at != "job.fromSavepoint" {
			out = append(out, KeptState{Value: at, URI: uri})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Value < out[j].Value })
	return out
}

// Validate checks the options before anything is contacted.
func (u *Uninstall) Validate() error {
	if u.StopJobs && u.SavepointDir == "" {
		return exit.InputError(errors.New("--stop-jobs needs --savepoint-dir (e.g. s3://bucket/savepoints or file:///flink/savepoints)"))
	}
	if !u.StopJobs && u.SavepointDir != "" {
		return exit.InputError(errors.New("--savepoint-dir is used only with --stop-jobs"))
	}
	return nil
}

// Run uninstalls rel. When stopping a job fails nothing is uninstalled.
func (u *Uninstall) Run(ctx context.Context, rel *act.Release) (*Result, error) {
	if err := act.RefuseFlux(rel.Release, "install it again"); err != nil {
		return nil, err
	}
	res := &Result{Release: rel.Name, Namespace: rel.Namespace}
	if err := act.CheckSavepointDir(rel, "--savepoint-dir", u.SavepointDir); err != nil {
		return nil, err
	}
	var err error
	if u.StopJobs {
		if res.Savepoints, err = u.stopJobs(ctx, rel); err != nil {
			return res, fmt.Errorf("nothing uninstalled: %w", err)
		}
	} else {
		res.Ended = u.warnRunning(ctx, rel)
	}
	u.cfg.Progressf("Uninstalling release %s", rel.Name)
	if err := u.cfg.Uninstall(rel.Name, act.HelmTimeout(ctx)); err != nil {
		return res, err
	}
	if err := u.waitPodsGone(ctx, rel); err != nil {
		return res, err
	}
	if res.HAConfigMaps, err = u.deleteHAConfigMaps(ctx, rel); err != nil {
		return res, err
	}
	// The jobs ran on the JobManager that is gone: nothing is run again from the record.
	jobs, err := u.cfg.Jobs(rel.Name)
	if err == nil {
		err = jobs.Delete(ctx)
	}
	if err != nil {
		return res, err
	}
	res.SavepointRecord, err = u.settleRecord(ctx, rel)
	res.StateKept = keptState(rel, u.SavepointDir)
	return res, err
}

// settleRecord keeps the release's savepoint record when its savepoints outlive the release (a
// claim kept, or a savepoint off the release's volume: object storage), so that a reinstall can
// start from them, and deletes it otherwise. It returns the record kept, or "".
func (u *Uninstall) settleRecord(ctx context.Context, rel *act.Release) (string, error) {
	r, err := u.cfg.Savepoints(rel.Name)
	if err != nil {
		return "", err
	}
	entries, err := r.List(ctx)
	if err != nil || len(entries) == 0 {
		return "", err
	}
	outlive := rel.Objects.KeepsClaim()
	for _, e := range entries {
		if !strings.HasPrefix(e.Path, "file:") {
			outlive = true
		}
	}
	if !outlive {
		u.cfg.Progressf("  savepoint record %s deleted: its %d savepoint(s) were on the release's volume", savepoint.Name(r.Release), len(entries))
		return "", r.Delete(ctx)
	}
	newest := entries[len(entries)-1]
	u.cfg.Progressf("  savepoint record %s kept: %d savepoint(s), the newest %s (job %s, revision %d)", savepoint.Name(r.Release), len(entries), newest.Path, newest.JobName, newest.Revision)
	return savepoint.Name(r.Release), nil
}

// waitPodsGone waits until the release's pods are gone: Helm deletes the workloads, and the
// garbage collector their pods after them, the TaskManager pods a native JobManager created
// included (their owner is its Deployment).
func (u *Uninstall) waitPodsGone(ctx context.Context, rel *act.Release) error {
	cs, _, err := u.cfg.Clientset()
	if err != nil {
		return err
	}
	err = kube.WaitGone(ctx, cs, rel.Namespace, kube.Selector(rel.Name, ""), nil, func(left int) {
		if left > 0 {
			u.cfg.Progressf("  %d pod(s) of the release left, deleted by the garbage collector with their owners", left)
		}
	})
	if err != nil {
		return fmt.Errorf("wait for the release's pods to go: %w", err)
	}
	return nil
}

// warnRunning says which jobs the uninstall is about to end without a savepoint, and returns
// them. Best effort: a JobManager that does not answer within checkJobs has none to lose that
// the plugin could save, and must not hold up the uninstall.
func (u *Uninstall) warnRunning(ctx context.Context, rel *act.Release) []jobmanager.Job {
	ctx, cancel := context.WithTimeout(ctx, checkJobs)
	defer cancel()
	jm, jobs, err := u.running(ctx, rel)
	if err != nil {
		return nil
	}
	jm.Close()
	for _, j := range jobs {
		u.cfg.Progressf("  job %s (%s) is RUNNING: the uninstall ends it without a savepoint (--stop-jobs --savepoint-dir would keep its state)", j.ID, j.Name)
	}
	return jobs
}

const checkJobs = 15 * time.Second

// stopJobs stops every running job with a savepoint and returns the savepoints by job id.
func (u *Uninstall) stopJobs(ctx context.Context, rel *act.Release) (map[string]string, error) {
	jm, jobs, err := u.running(ctx, rel)
	if err != nil {
		return nil, err
	}
	defer jm.Close()
	out := map[string]string{}
	for _, j := range jobs {
		u.cfg.Progressf("Stopping job %s (%s) with a savepoint", j.ID, j.Name)
		loc, err := jm.Stop(ctx, j.ID, u.SavepointDir, u.Drain)
		if err != nil {
			return out, err
		}
		u.cfg.Progressf("  savepoint %s", loc)
		u.cfg.RecordSavepoint(ctx, rel, savepoint.Entry{JobID: j.ID, JobName: j.Name, Path: loc, Reason: savepoint.Uninstall})
		out[j.ID] = loc
	}
	return out, nil
}

// running are rel's RUNNING jobs, with the connection to its JobManager for the caller to close.
func (u *Uninstall) running(ctx context.Context, rel *act.Release) (*jobmanager.JobManager, []jobmanager.Job, error) {
	jm, err := u.cfg.Connect(ctx, rel)
	if err != nil {
		return nil, nil, err
	}
	jobs, err := jm.Jobs(ctx)
	if err != nil {
		jm.Close()
		return nil, nil, err
	}
	var out []jobmanager.Job
	for _, j := range jobs {
		if j.State == string(flink.JobRunning) {
			out = append(out, j)
		}
	}
	return jm, out, nil
}

// HAConfigMap says whether a config map of a cluster (labelled app=<cluster id>) is one Flink's
// Kubernetes HA keeps: Flink 1.x labels them configmap-type=high-availability, Flink 2
// type=flink-native-kubernetes only; none of the release's own. The charts' HA cleanup hook
// deletes the same (charts/ha_test.go holds them to it).
func HAConfigMap(labels map[string]string) bool {
	return (labels["configmap-type"] == "high-availability" || labels[kube.NativeLabel] == "flink-native-kubernetes") &&
		labels["app.kubernetes.io/managed-by"] != "Helm"
}

// deleteHAConfigMaps deletes the config maps Flink's Kubernetes HA keeps for rel's cluster id (none
// without HA); Flink gives them no owner, so the release's removal leaves them behind. Flink 1.x
// labels them configmap-type=high-availability, Flink 2 type=flink-native-kubernetes only; the
// release's own config maps are gone with it by now.
func (u *Uninstall) deleteHAConfigMaps(ctx context.Context, rel *act.Release) ([]string, error) {
	clusterID := rel.Objects.ClusterID()
	if clusterID == "" {
		return nil, nil
	}
	cs, _, err := u.cfg.Clientset()
	if err != nil {
		return nil, err
	}
	cms := cs.CoreV1().ConfigMaps(rel.Namespace)
	list, err := cms.List(ctx, metav1.ListOptions{LabelSelector: "app=" + clusterID})
	if err != nil {
		return nil, fmt.Errorf("list HA config maps: %w", err)
	}
	var deleted []string
	for _, cm := range list.Items {
		if !HAConfigMap(cm.Labels) {
			continue
		}
		if err := cms.Delete(ctx, cm.Name, metav1.DeleteOptions{}); err != nil {
			return deleted, fmt.Errorf("delete HA config map %s: %w", cm.Name, err)
		}
		deleted = append(deleted, cm.Name)
	}
	return deleted, nil
}
