package cluster

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/savepoint"
)

// Prune disposes of a release's recorded savepoints beyond the newest Keep (and of those only
// the ones older than OlderThan) through Flink, and takes each out of the record only once Flink
// disposed of it: a savepoint that could not be is reported and stays recorded.
type Prune struct {
	cfg *act.Config

	Keep      int
	OlderThan time.Duration
}

// NewPrune is a prune with cfg.
func NewPrune(cfg *act.Config) *Prune { return &Prune{cfg: cfg} }

// PruneResult is what a prune did.
type PruneResult struct {
	Disposed []savepoint.Entry `json:"disposed"`
	Failed   []PruneFailure    `json:"failed,omitempty"`
	// Kept are the entries the record holds afterwards.
	Kept []savepoint.Entry `json:"kept"`
}

// PruneFailure is a savepoint Flink did not dispose of.
type PruneFailure struct {
	savepoint.Entry
	Error string `json:"error"`
}

// Run disposes of the prunable savepoints one after the other.
func (a *Prune) Run(ctx context.Context, rel *act.Release) (*PruneResult, error) {
	r, err := a.cfg.Savepoints(rel.Name)
	if err != nil {
		return nil, err
	}
	entries, err := r.List(ctx)
	if err != nil {
		return nil, err
	}
	res := &PruneResult{Disposed: []savepoint.Entry{}, Kept: entries}
	prune := savepoint.Prunable(entries, a.Keep, a.OlderThan, time.Now())
	if len(prune) == 0 {
		return res, nil
	}
	jm, err := a.cfg.Connect(ctx, rel)
	if err != nil {
		return nil, fmt.Errorf("nothing pruned: Flink disposes of savepoints (with the JobManager's file systems and credentials), and the JobManager cannot be reached: %w", err)
	}
	defer jm.Close()
	for _, e := range prune {
		a.cfg.Progressf("Disposing of savepoint %s (revision %d, %s)", e.Path, e.Revision, e.Reason)
		id, err := jm.REST.DisposeSavepoint(ctx, e.Path)
		if err == nil {
			err = jm.REST.WaitDisposal(ctx, id, 0)
		}
		if err != nil {
			a.cfg.Progressf("  not disposed of: %v", err)
			res.Failed = append(res.Failed, PruneFailure{Entry: e, Error: err.Error()})
			continue
		}
		res.Disposed = append(res.Disposed, e)
	}
	if err := r.Remove(ctx, res.Disposed); err != nil {
		return res, err
	}
	gone := map[string]bool{}
	for _, e := range res.Disposed {
		gone[e.Key] = true
	}
	res.Kept = nil
	for _, e := range entries {
		if !gone[e.Key] {
			res.Kept = append(res.Kept, e)
		}
	}
	if len(res.Failed) > 0 {
		var paths []string
		for _, f := range res.Failed {
			paths = append(paths, f.Path+": "+f.Error)
		}
		return res, fmt.Errorf("%d savepoint(s) were not disposed of and stay in the record:\n  %s", len(res.Failed), strings.Join(paths, "\n  "))
	}
	return res, nil
}
