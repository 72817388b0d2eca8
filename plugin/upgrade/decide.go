package upgrade

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/release"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/flink"
	"github.com/helm-flink/helm-flink/plugin/jobmanager"
	"github.com/helm-flink/helm-flink/plugin/values"
)

// ownedPrefix marks, as release labels, the values the plugin itself set for one revision (the
// job id of the revision, the savepoint it starts from): they are the revision's, never the
// user's, so that a later --reuse-values does not carry them on.
const ownedPrefix = "helm-flink.dev/set."

// owned lists the value paths the plugin set in rel (e.g. job.fromSavepoint).
func owned(rel *release.Release) []string {
	var out []string
	for k, v := range rel.Labels {
		if p, ok := strings.CutPrefix(k, ownedPrefix); ok && v == "true" {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// revisionValues are the new revision's values and the plugin's own among them.
type revisionValues struct {
	values map[string]any
	// own are the paths the plugin sets for this revision only.
	own []string
}

// set sets a plugin-owned value of the revision.
func (r *revisionValues) set(path string, v any) {
	parts := strings.Split(path, ".")
	m := r.values
	for _, p := range parts[:len(parts)-1] {
		sub, ok := m[p].(map[string]any)
		if !ok {
			sub = map[string]any{}
			m[p] = sub
		}
		m = sub
	}
	m[parts[len(parts)-1]] = v
	if !slices.Contains(r.own, path) {
		r.own = append(r.own, path)
	}
}

// labels are the release labels that record own, and drop the previous revision's record.
func (r *revisionValues) labels(prev *release.Release) map[string]string {
	out := map[string]string{}
	for _, p := range owned(prev) {
		out[ownedPrefix+p] = "null" // Helm's way to remove a release label
	}
	for _, p := range r.own {
		out[ownedPrefix+p] = "true"
	}
	return out
}

// nextValues are the new revision's values: the user's, over the release's user values with
// reuse (without what the plugin set for the previous revision only); an application's job gets
// an id of the new revision unless the user fixes one, since a job stopped with a savepoint has
// ended for good under its id (with HA, Flink's job result store remembers it).
func nextValues(rel *release.Release, user map[string]any, reuse bool, mode act.Mode) *revisionValues {
	if user == nil {
		user = map[string]any{}
	}
	if reuse {
		prev := values.Copy(rel.Config)
		for _, p := range owned(rel) {
			unset(prev, strings.Split(p, "."))
		}
		user = chartutil.CoalesceTables(user, prev)
	}
	next := &revisionValues{values: user}
	if mode == act.Application {
		job, _ := user["job"].(map[string]any)
		if id, _ := job["jobId"].(string); id == "" {
			next.set("job.jobId", revisionJobID(rel.Namespace, rel.Name, rel.Version+1))
		}
	}
	return next
}

// unset removes a value by its path, and maps it leaves empty.
func unset(m map[string]any, path []string) {
	if len(path) == 1 {
		delete(m, path[0])
		return
	}
	sub, ok := m[path[0]].(map[string]any)
	if !ok {
		return
	}
	unset(sub, path[1:])
	if len(sub) == 0 {
		delete(m, path[0])
	}
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
func restoreFrom(next *revisionValues, savepoint string, allowNonRestored bool) {
	next.set("job.fromSavepoint", savepoint)
	if allowNonRestored {
		next.set("job.allowNonRestoredState", true)
	}
}

// restoreFrom starts the target's job from savepoint, its merged values kept in step: what the
// templates see is what was decided.
func (t *target) restoreFrom(savepoint string, allowNonRestored bool) error {
	restoreFrom(t.revisionValues, savepoint, allowNonRestored)
	merged, err := values.ForChart(t.chart, t.values)
	if err != nil {
		return fmt.Errorf("start the job from %s: %w", savepoint, err)
	}
	t.merged = merged
	return nil
}

func haEnabled(vals map[string]any) bool {
	ha, _ := vals["highAvailability"].(map[string]any)
	on, _ := ha["enabled"].(bool)
	return on
}

// lastState prepares an upgrade that keeps the job's last state without a savepoint: it needs
// Kubernetes HA (else the new JobManager would start the job from scratch), and an
// application's job keeps its id, under which HA recovers it from its latest checkpoint.
func lastState(rel *act.Release, next *target, mode act.Mode) error {
	if !haEnabled(next.merged) {
		return exit.InputError(fmt.Errorf("--upgrade-mode last-state needs Kubernetes HA (highAvailability.enabled: true): without it the new JobManager starts the job from scratch; the default savepoint mode keeps the state"))
	}
	if mode != act.Application || slices.Contains(next.own, "job.fromSavepoint") {
		return nil
	}
	if !slices.Contains(next.own, "job.jobId") {
		return nil // the user's own job id
	}
	id, err := rel.JobID()
	if err != nil {
		return err
	}
	next.set("job.jobId", id)
	return nil
}
