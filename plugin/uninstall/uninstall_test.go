package uninstall

import (
	"os"
	"testing"
)

// The cluster id is read from the rendered config as the golden HA render has it.
func TestClusterIDFromRenderedConfig(t *testing.T) {
	data, err := os.ReadFile("../../charts/testdata/flink-session/ha.golden.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := ClusterID(string(data)); got != "golden-flink-session" {
		t.Fatalf("cluster id %q", got)
	}
	if got := ClusterID("kind: ConfigMap\ndata:\n  config.yaml: |\n    rest.port: 8081\n"); got != "" {
		t.Fatalf("no HA, yet cluster id %q", got)
	}
}

func TestStopJobsNeedsASavepointDir(t *testing.T) {
	o := NewOptions()
	o.StopJobs = true
	if err := o.Validate(); err == nil {
		t.Fatal("--stop-jobs without --savepoint-dir must be refused")
	}
	o.SavepointDir = "file:///sp"
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
}
