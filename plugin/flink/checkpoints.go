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
	Latest struct {
		Completed *CompletedCheckpoint `json:"completed"`
	} `json:"latest"`
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
