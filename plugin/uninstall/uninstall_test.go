package uninstall

import (
	"context"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/internal/fake"
	"github.com/helm-flink/helm-flink/plugin/savepoint"
)

var ctx = context.Background()

func TestStopJobsNeedsASavepointDir(t *testing.T) {
	u := New(act.New())
	u.StopJobs = true
	if err := u.Validate(); err == nil {
		t.Fatal("--stop-jobs without --savepoint-dir must be refused")
	}
	u.SavepointDir = "file:///sp"
	if err := u.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (&Uninstall{SavepointDir: "file:///sp"}).Validate(); err == nil {
		t.Fatal("--savepoint-dir without --stop-jobs must be refused")
	}
}

func configMap(name string, labels map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "flink", Labels: labels}}
}

// The HA config maps of the release's cluster id go with it (Flink 1.x's and Flink 2's labels);
// others stay.
func TestHAConfigMapsGoWithTheRelease(t *testing.T) {
	ha := map[string]string{"app": "flink-flink-session", "configmap-type": "high-availability"}
	ha2 := map[string]string{"app": "flink-flink-session", "type": "flink-native-kubernetes"}
	helm := map[string]string{"app": "flink-flink-session", "app.kubernetes.io/managed-by": "Helm", "type": "flink-native-kubernetes"}
	cfg := fake.Config(t, "", configMap("leader", ha), configMap("leader2", ha2), configMap("mine", helm),
		configMap("other", map[string]string{"app": "other", "configmap-type": "high-availability"}))
	rel := fake.Install(t, cfg, "flink", "flink-session", map[string]any{"highAvailability": map[string]any{"enabled": true, "storageDir": "file:///ha"}})
	res, err := New(cfg).Run(ctx, rel)
	if err != nil || strings.Join(res.HAConfigMaps, ",") != "leader,leader2" {
		t.Fatalf("%+v, %v", res, err)
	}
	left, _ := cfg.Kube.CoreV1().ConfigMaps("flink").List(ctx, metav1.ListOptions{})
	if len(left.Items) != 2 || left.Items[0].Name != "mine" || left.Items[1].Name != "other" {
		t.Fatalf("left %v", left.Items)
	}
	if _, err := cfg.Get("flink"); err == nil {
		t.Fatal("the release is still there")
	}
}

// When stopping a job fails, and for a release Flux manages, nothing is uninstalled.
func TestNothingUninstalled(t *testing.T) {
	cfg := fake.Config(t, fake.Serve(t)) // a JobManager that knows no route
	rel := fake.Install(t, cfg, "flink", "flink-session", map[string]any{
		"objectStorage": map[string]any{"plugins": []any{"s3-fs-presto"}, "credentials": map[string]any{"fromEnvironment": true}}})
	u := New(cfg)
	// A savepoint dir on a pod's own file system would be lost with the pods, and one on an
	// object store the release's pods have no file system for cannot be written.
	u.StopJobs, u.SavepointDir = true, "file:///sp"
	if _, err := u.Run(ctx, rel); exit.Code(err) != exit.Input || !strings.Contains(err.Error(), "--savepoint-dir: savepoint directory is on the pod's own file system") {
		t.Fatalf("a savepoint dir the pods lose: %v", err)
	}
	u.SavepointDir = "gs://bucket/savepoints"
	if _, err := u.Run(ctx, rel); exit.Code(err) != exit.Input || !strings.Contains(err.Error(), "--savepoint-dir: the release's pods have no file system for gs://") ||
		!strings.Contains(err.Error(), "want objectStorage.plugins: [gs-fs-hadoop]") {
		t.Fatalf("a savepoint dir on an object store the pods cannot write: %v", err)
	}
	u.SavepointDir = "s3://bucket/savepoints"
	if _, err := u.Run(ctx, rel); err == nil || !strings.HasPrefix(err.Error(), "nothing uninstalled: list jobs: ") {
		t.Fatalf("%v", err)
	}
	rel.Labels = map[string]string{"helm.toolkit.fluxcd.io/name": "flink"}
	if _, err := New(cfg).Run(ctx, rel); exit.Code(err) != exit.Input {
		t.Fatalf("a Flux release: %v", err)
	}
	if _, err := cfg.Get("flink"); err != nil {
		t.Fatalf("the release is gone: %v", err)
	}
}

// The savepoint record outlives the release when its savepoints do (a claim kept, or a savepoint
// off the release's volume), and goes with the release otherwise.
func TestSavepointRecordKeptWithItsSavepoints(t *testing.T) {
	for _, c := range []struct {
		name string
		vals map[string]any
		path string
		kept bool
	}{
		{"on the volume, deleted with it", map[string]any{"persistence": map[string]any{"enabled": true, "keepOnUninstall": false}}, "file:///flink-data/savepoints/s1", false},
		{"on the volume, kept", map[string]any{"persistence": map[string]any{"enabled": true, "keepOnUninstall": true}}, "file:///flink-data/savepoints/s1", true},
		{"in object storage", map[string]any{}, "s3://bucket/savepoints/s1", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := fake.Config(t, "")
			rel := fake.Install(t, cfg, "flink", "flink-session", c.vals)
			cfg.RecordSavepoint(ctx, rel, savepoint.Entry{JobID: "0123456789abcdef0123456789abcdef", JobName: "job", Path: c.path, Reason: savepoint.Stop})
			res, err := New(cfg).Run(ctx, rel)
			if err != nil {
				t.Fatal(err)
			}
			_, err = cfg.Kube.CoreV1().ConfigMaps("flink").Get(ctx, savepoint.Name("flink"), metav1.GetOptions{})
			if kept := err == nil; kept != c.kept || (res.SavepointRecord != "") != c.kept {
				t.Fatalf("record kept %v (result %q), want %v", kept, res.SavepointRecord, c.kept)
			}
		})
	}
}

// The state locations on object storage are what an uninstall says it leaves: not file:// ones
// (the claim, reported with it), nor the savepoint a job started from.
func TestKeptState(t *testing.T) {
	rel := &act.Release{Values: map[string]any{
		"flinkConfiguration": map[string]any{"state.checkpoints.dir": "s3p://flink/c", "state.savepoints.dir": "file:///flink-data/savepoints"},
		"highAvailability":   map[string]any{"enabled": true, "storageDir": "gs://b/ha"},
		"job":                map[string]any{"fromSavepoint": "s3p://flink/sp/savepoint-1"},
	}}
	got := keptState(rel, "s3a://flink/stopped")
	want := []KeptState{{"--savepoint-dir", "s3a://flink/stopped"}, {"flinkConfiguration.state.checkpoints.dir", "s3p://flink/c"}, {"highAvailability.storageDir", "gs://b/ha"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("kept %v, want %v", got, want)
	}
}
