package flink

import "context"

// Checkpoints is GET /jobs/:jobid/checkpoints, as much of it as the plugin reads: the counts and
// the latest completed checkpoint (nil when none completed yet).
type Checkpoints struct {
	Counts struct {
		Completed  int `json:"completed"`
		Failed     int `json:"failed"`
		InProgress int `json:"in_progress"`
	} `json:"counts"`
	// Latest keeps savepoints apart: a savepoint newer than the latest checkpoint is under
	// Savepoint only.
	Latest struct {
		Completed *CompletedCheckpoint `json:"completed"`
		Savepoint *CompletedCheckpoint `json:"savepoint"`
	} `json:"latest"`
}

// Newest is the most recently completed checkpoint or savepoint, nil for none.
func (c *Checkpoints) Newest() *CompletedCheckpoint {
	cp, sp := c.Latest.Completed, c.Latest.Savepoint
	if cp == nil || (sp != nil && sp.Acknowledged.Time.After(cp.Acknowledged.Time)) {
		return sp
	}
	return cp
}

// CompletedCheckpoint is a checkpoint (or savepoint) Flink completed.
type CompletedCheckpoint struct {
	ID           int64     `json:"id"`
	IsSavepoint  bool      `json:"is_savepoint"`
	Acknowledged Timestamp `json:"latest_ack_timestamp"`
	ExternalPath string    `json:"external_path"`
}

// Checkpoints is GET /jobs/:jobid/checkpoints.
func (c *Client) Checkpoints(ctx context.Context, jobID string) (*Checkpoints, error) {
	return get[Checkpoints](ctx, c, "/jobs/"+escape(jobID)+"/checkpoints")
}
