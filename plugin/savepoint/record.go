// Package savepoint is the record of the savepoints taken of a release's jobs, each against the
// Helm revision it belongs to.
//
// The record lives in the cluster, next to the release: one ConfigMap per release
// (<release>-flink-savepoints), one data key per savepoint. It is readable without the plugin
// (kubectl get configmap … -o yaml), outlives the plugin's process, and is not part of the
// release: Helm neither rewrites it on upgrade nor deletes it on uninstall, so a reinstall or a
// rollback can start from it. Entries are added with a merge patch of one new key, so writers
// (the plugin, the charts' hooks) never overwrite each other's.
package savepoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
)

// Reasons a savepoint was taken.
const (
	// Upgrade: the job was stopped with it for an upgrade (or a rollback) that left the revision.
	Upgrade = "upgrade"
	// Stop: `helm flink stop`.
	Stop = "stop"
	// Manual: `helm flink savepoint`, the job runs on.
	Manual = "savepoint"
	// Uninstall: `helm flink uninstall --stop-jobs`.
	Uninstall = "uninstall"
	// Periodic: the charts' periodic savepoints (periodicSavepoints.enabled), the job runs on.
	Periodic = "periodic"
)

// RecordLabel marks a savepoint record; its value is the release's name.
const RecordLabel = "helm-flink.dev/savepoints-of"

// Name is the record's ConfigMap of a release. The charts' hooks name it the same way
// (flink.savepointRecordName in flink-common).
func Name(release string) string { return release + "-flink-savepoints" }

// Entry is one savepoint.
type Entry struct {
	// Revision is the Helm revision the job ran in when the savepoint was taken.
	Revision int    `json:"revision"`
	JobID    string `json:"jobId"`
	JobName  string `json:"jobName,omitempty"`
	Path     string `json:"path"`
	Reason   string `json:"reason"`
	// Time is when the savepoint completed.
	Time time.Time `json:"time"`
	// Key is the entry's data key in the record (set by List).
	Key string `json:"-"`
}

// key is the entry's data key: sortable by time, unique per job.
func (e Entry) key() string {
	id := e.JobID
	if len(id) > 8 {
		id = id[:8]
	}
	return e.Time.UTC().Format("20060102T150405.000000000Z") + "-" + id
}

// Record is the savepoint record of a release.
type Record struct {
	Kube      kubernetes.Interface
	Namespace string
	Release   string
}

func (r Record) store() store {
	return store{kube: r.Kube, namespace: r.Namespace, name: Name(r.Release), labels: map[string]string{
		RecordLabel: r.Release, "app.kubernetes.io/managed-by": "helm-flink",
	}}
}

// Add records e, creating the record on the first savepoint.
func (r Record) Add(ctx context.Context, e Entry) error {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	v, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("record savepoint: %w", err)
	}
	value := string(v)
	err = r.store().patch(ctx, map[string]*string{e.key(): &value})
	if err != nil {
		return fmt.Errorf("record savepoint %s in ConfigMap %s: %w", e.Path, Name(r.Release), err)
	}
	return nil
}

// List is every recorded savepoint, oldest first; none when there is no record.
func (r Record) List(ctx context.Context) ([]Entry, error) {
	data, err := r.store().data(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the savepoint record %s: %w", Name(r.Release), err)
	}
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []Entry
	var bad []string
	for _, k := range keys {
		var e Entry
		if err := json.Unmarshal([]byte(data[k]), &e); err != nil || e.Path == "" {
			bad = append(bad, k)
			continue
		}
		e.Key = k
		out = append(out, e)
	}
	if len(bad) > 0 {
		return out, fmt.Errorf("savepoint record %s: entries %s are not savepoints (JSON with revision, jobId, path, reason, time)", Name(r.Release), strings.Join(bad, ", "))
	}
	return out, nil
}

// Remove takes entries (as List returned them) out of the record.
func (r Record) Remove(ctx context.Context, entries []Entry) error {
	if len(entries) == 0 {
		return nil
	}
	data := map[string]*string{}
	for _, e := range entries {
		data[e.Key] = nil
	}
	if err := r.store().patch(ctx, data); err != nil {
		return fmt.Errorf("remove %d entries from the savepoint record %s: %w", len(entries), Name(r.Release), err)
	}
	return nil
}

// Prunable are the entries a prune disposes of: all but the keep newest, and of those only the
// ones older than olderThan before now (0: any age).
func Prunable(entries []Entry, keep int, olderThan time.Duration, now time.Time) []Entry {
	var out []Entry
	for i, e := range entries {
		if i >= len(entries)-keep {
			break
		}
		if olderThan > 0 && now.Sub(e.Time) < olderThan {
			continue
		}
		out = append(out, e)
	}
	return out
}

// Delete removes the record; a missing one is not an error.
func (r Record) Delete(ctx context.Context) error {
	if err := r.store().remove(ctx); err != nil {
		return fmt.Errorf("delete the savepoint record %s: %w", Name(r.Release), err)
	}
	return nil
}

// ErrNone is a choice that finds no savepoint.
var ErrNone = errors.New("no savepoint recorded")

// Newest is the newest entry of jobs whose name is jobName ("" any), taken in revision (0 any).
func Newest(entries []Entry, jobName string, revision int) (Entry, error) {
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if (jobName == "" || e.JobName == jobName) && (revision == 0 || e.Revision == revision) {
			return e, nil
		}
	}
	return Entry{}, ErrNone
}
