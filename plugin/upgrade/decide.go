package upgrade

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/release"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/flink"
	"github.com/helm-flink/helm-flink/plugin/jobmanager"
	"github.com/helm-flink/helm-flink/plugin/manifest"
)

// nextValues are the new revision's values: the user's, over the release's with reuse; an
// application's job gets an id of the new revision unless the values fix one, since a job
// stopped with a savepoint has ended for good under its id (with HA, Flink's job result store
// remembers it).
func nextValues(rel *release.Release, user map[string]any, reuse bool, mode act.Mode) map[string]any {
	if reuse {
		user = chartutil.CoalesceTables(user, copyValues(rel.Config))
	}
	if mode == act.Application {
		job, _ := user["job"].(map[string]any)
		if id, _ := job["jobId"].(string); id == "" {
			setJob(user, "jobId", revisionJobID(rel.Namespace, rel.Name, rel.Version+1))
		}
	}
	return user
}

// revisionJobID is the job id of an application's revision: distinct per namespace, release
// and revision, as Flink's JobID wants 32 hex digits.
func revisionJobID(ns, name string, revision int) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%s/%d", ns, name, revision)))
	return hex.EncodeToString(sum[:])[:32]
}

// running says whether job id runs, so that a savepoint can be taken of it.
func running(id string, jobs []jobmanager.Job) bool {
	for _, j := range jobs {
		if j.ID == id && j.State == string(flink.JobRunning) {
			return true
		}
	}
	return false
}

// restoreFrom starts the new revision's job from savepoint.
func restoreFrom(vals map[string]any, savepoint string, allowNonRestored bool) {
	setJob(vals, "fromSavepoint", savepoint)
	if allowNonRestored {
		setJob(vals, "allowNonRestoredState", true)
	}
}

// jobManagerRestarts says whether going from the current manifest to the next replaces the
// JobManager's pod: its pod template (config checksum included) changes.
func jobManagerRestarts(current, next string) (bool, error) {
	cur, err := manifest.Parse(current)
	if err != nil {
		return false, fmt.Errorf("the release's manifest: %w", err)
	}
	nxt, err := manifest.Parse(next)
	if err != nil {
		return false, fmt.Errorf("the upgrade's manifest: %w", err)
	}
	return !equality.Semantic.DeepEqual(cur.JobManager(), nxt.JobManager()), nil
}

// refuseSession refuses a session upgrade that restarts the JobManager under running jobs
// without HA, since Flink would forget those jobs. restarts (a render) is asked only when it
// decides.
func refuseSession(name string, jobs []jobmanager.Job, ha, force bool, restarts func() (bool, error)) error {
	var runs []string
	for _, j := range jobs {
		if j.State == string(flink.JobRunning) {
			runs = append(runs, j.ID+" ("+j.Name+")")
		}
	}
	if len(runs) == 0 || force || ha {
		return nil
	}
	if r, err := restarts(); err != nil || !r {
		return err
	}
	return exit.InputError(fmt.Errorf("this upgrade restarts the JobManager, and without HA Flink would lose its %d running job(s): %s; stop them with savepoints first (helm flink stop %s JOB --savepoint-dir DIR), enable highAvailability, or pass --force",
		len(runs), strings.Join(runs, ", "), name))
}

func haEnabled(vals map[string]any) bool {
	ha, _ := vals["highAvailability"].(map[string]any)
	on, _ := ha["enabled"].(bool)
	return on
}

func setJob(vals map[string]any, key string, v any) {
	job, ok := vals["job"].(map[string]any)
	if !ok {
		job = map[string]any{}
		vals["job"] = job
	}
	job[key] = v
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
