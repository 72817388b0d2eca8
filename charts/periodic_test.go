package charts

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/yaml"

	"github.com/helm-flink/helm-flink/plugin/savepoint"
)

// The periodic savepoints' CronJob, its script run by bash against a real Flink's captured
// answers: a savepoint of the running job recorded as the plugin reads it (reason periodic,
// against the current revision), and beyond the newest `keep` the older periodic one disposed of
// — here Flink does not answer the disposal, so it is reported and stays recorded, and the run
// fails once the record is written. Off by default; refused without a savepoint directory.
func TestPeriodicSavepoints(t *testing.T) {
	if _, ok := objects(t, render(t, "flink-session", nil))["CronJob/golden-flink-session-periodic-savepoints"]; ok {
		t.Fatal("the CronJob is rendered by default")
	}
	if _, err := renderErr(load(t, "flink-job"), nil, "periodicSavepoints.enabled=true"); err == nil || !strings.Contains(err.Error(), "periodicSavepoints.enabled needs a savepoint directory") {
		t.Fatalf("no savepoint directory: %v", err)
	}
	raw := objects(t, render(t, "flink-session", nil, "periodicSavepoints.enabled=true", "persistence.enabled=true", "periodicSavepoints.keep=1"))["CronJob/golden-flink-session-periodic-savepoints"].Raw
	var cron struct {
		Spec struct {
			ConcurrencyPolicy string `json:"concurrencyPolicy"`
			JobTemplate       struct {
				Spec struct {
					Template struct {
						Spec struct {
							InitContainers []container `json:"initContainers"`
							Containers     []container `json:"containers"`
						} `json:"spec"`
					} `json:"template"`
				} `json:"spec"`
			} `json:"jobTemplate"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal([]byte(raw), &cron); err != nil {
		t.Fatal(err)
	}
	pod := cron.Spec.JobTemplate.Spec.Template.Spec
	if cron.Spec.ConcurrencyPolicy != "Forbid" || len(pod.InitContainers) != 3 || pod.InitContainers[0].Name != "savepoints" || pod.InitContainers[2].Args[0] != "patch" {
		t.Fatalf("the CronJob:\n%s", raw)
	}
	script := pod.InitContainers[0].Args[0]

	dir := t.TempDir()
	record, out := filepath.Join(dir, "record"), filepath.Join(dir, "out")
	for _, d := range []string{record, out} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	entries := map[string]string{
		"20261201T000000.000000000Z-ef1f5c5b": `{"revision":2,"jobId":"ef1f5c5b11baebd61a53cdd783008db6","path":"file:/flink-data/sp/old-periodic","reason":"periodic","time":"2026-12-01T00:00:00Z"}`,
		"20261201T010000.000000000Z-ef1f5c5b": `{"revision":2,"jobId":"ef1f5c5b11baebd61a53cdd783008db6","path":"file:/flink-data/sp/upgrade","reason":"upgrade","time":"2026-12-01T01:00:00Z"}`,
	}
	for k, v := range entries {
		if err := os.WriteFile(filepath.Join(record, k), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	addr := serveFlink(t, "jobs-running", "savepoint-trigger", "savepoint-completed")
	run := strings.NewReplacer("/etc/helm-flink/record", record, "/out/", out+"/", "/tmp/new", filepath.Join(dir, "new")).Replace(script)
	cmd := exec.Command("bash", "-c", run)
	cmd.Env = append(os.Environ(), "REST_ADDRESS="+addr, "TARGET_DIR=", "KEEP=1", "REVISION=3", "TRIES=2")
	log, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the script: %v\n%s", err, log)
	}
	if failed, _ := os.ReadFile(filepath.Join(out, "failed")); strings.TrimSpace(string(failed)) != "1" || !strings.Contains(string(log), "could not dispose of file:/flink-data/sp/old-periodic; it stays recorded") {
		t.Fatalf("an undisposed savepoint must be reported and fail the run:\n%s", log)
	}
	b, err := os.ReadFile(filepath.Join(out, "patch.json"))
	if err != nil {
		t.Fatal(err)
	}
	var patch struct {
		Data map[string]*string `json:"data"`
	}
	if err := json.Unmarshal(b, &patch); err != nil {
		t.Fatalf("patch.json: %v\n%s", err, b)
	}
	// The record after the merge patch, as the plugin reads it.
	cm := &corev1.ConfigMap{Data: map[string]string{}}
	cm.Name, cm.Namespace = savepoint.Name("golden"), "flink"
	for k, v := range entries {
		cm.Data[k] = v
	}
	for k, v := range patch.Data {
		if v == nil {
			delete(cm.Data, k)
		} else {
			cm.Data[k] = *v
		}
	}
	got, err := savepoint.Record{Kube: fake.NewClientset(cm), Namespace: "flink", Release: "golden"}.List(t.Context())
	if err != nil || len(got) != 3 {
		t.Fatalf("the record %+v, %v (patch %s)", got, err, b)
	}
	if e := got[2]; e.Reason != "periodic" || e.Revision != 3 || e.JobName != "CarTopSpeedWindowingExample" || !strings.HasSuffix(e.Path, "/savepoint-ef1f5c-d3dc81b60f86") || e.Time.IsZero() {
		t.Errorf("the new entry reads as %+v", e)
	}
}
