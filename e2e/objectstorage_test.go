//go:build e2e

package e2e

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// completedCheckpoint is the latest checkpoint a job completed, as Flink's statistics give it.
type completedCheckpoint struct {
	ID         int    `json:"id"`
	Path       string `json:"external_path"`
	DurationMs int64  `json:"end_to_end_duration"`
}

// waitCheckpoint waits until jobID completed a checkpoint (with id above after) and returns it.
func waitCheckpoint(t *testing.T, rest *flinkREST, jobID string, after int) completedCheckpoint {
	t.Helper()
	var c completedCheckpoint
	eventually(t, timeout(t, 2*time.Minute), "job "+jobID+" completes a checkpoint", func() (bool, string) {
		var cps struct {
			Latest struct {
				Completed *completedCheckpoint `json:"completed"`
				Failed    *struct {
					Failure string `json:"failure_message"`
				} `json:"failed"`
			} `json:"latest"`
		}
		if err := rest.try("GET", "/jobs/"+jobID+"/checkpoints", nil, "", &cps); err != nil {
			return false, err.Error()
		}
		if cps.Latest.Completed != nil && cps.Latest.Completed.ID > after {
			c = *cps.Latest.Completed
			return true, ""
		}
		if f := cps.Latest.Failed; f != nil {
			return false, "the latest failed: " + f.Failure
		}
		return false, "none completed yet"
	})
	return c
}

// keysUnder asserts the store holds objects under the location uri names, and returns them.
func (s *s3Store) keysUnder(t *testing.T, what, uri string) []string {
	t.Helper()
	key := objectKey(uri)
	if key == "" {
		t.Fatalf("%s %s is not in the stack's bucket %s", what, uri, s3Bucket)
	}
	keys := s.list(t, strings.TrimSuffix(key, "/")+"/")
	if !slices.ContainsFunc(keys, func(k string) bool { return strings.HasSuffix(k, "/_metadata") }) {
		t.Fatalf("%s %s: no _metadata among the objects %v", what, uri, keys)
	}
	return keys
}

// An application's state on S3 through Flink's presto (checkpoints) and hadoop (savepoints) file
// systems, the key pair from a Secret, on Flink 1.20 and 2.x: checkpoints land in the bucket; `helm flink upgrade` stops the job with
// a savepoint there and the new revision restores from it; `helm flink stop --savepoint-dir
// s3p://…` then an uninstall, which says what it leaves and leaves it; a new install from that
// savepoint restores; `helm flink savepoints --prune` has Flink delete a recorded savepoint's
// objects.
func TestObjectStorageApplication(t *testing.T) {
	t.Parallel()
	store := stackS3(t)
	chart := filepath.Join(env.root, "charts/flink-job")
	for _, v := range nativeVersions() {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			ns := newNamespace(t)
			store.credentialsIn(t, ns)
			s := newStandalone(t)
			base, savepoints := "s3p://"+s3Bucket+"/"+ns, "s3a://"+s3Bucket+"/"+ns+"/savepoints"
			// Checkpoints through presto (s3p://), savepoints through hadoop (s3a://): both file
			// systems, each named by its own scheme. (Flink's disposal of a savepoint through presto
			// ends with a non-recursive delete of its folder, which presto refuses where the store
			// answers HEAD of "folder/" for an emptied folder, as SeaweedFS does and S3 does not.)
			set := append(setFlags(store.values(ns)), "--set", "objectStorage.plugins={s3-fs-presto,s3-fs-hadoop}",
				"--set", `flinkConfiguration.state\.savepoints\.dir=s3a://`+s3Bucket+"/"+ns+"/savepoints",
				"--set", "image.tag="+v.tag, "--set", "parallelism=2",
				"--set-string", `flinkConfiguration.execution\.checkpointing\.interval=2s`, "-n", ns, "-o", "json")
			out, errOut, code := s.run(t, append([]string{"install", "app", chart}, set...)...)
			if code != 0 {
				t.Fatalf("install: exit %d\n%s", code, errOut)
			}
			jobID := decode[cliInstall](t, out).Job.JobID
			rest := forwardREST(t, ns, waitPods(t, ns, "app.kubernetes.io/component=jobmanager", podTimeout, "jobmanager", allReady(1))[0].Name)
			cp := waitCheckpoint(t, rest, jobID, 0)
			if !strings.HasPrefix(cp.Path, base+"/checkpoints/") {
				t.Fatalf("checkpoint %d at %q, want under %s/checkpoints", cp.ID, cp.Path, base)
			}
			store.keysUnder(t, "checkpoint", cp.Path)
			t.Logf("checkpoint %d on S3 in %d ms: %s", cp.ID, cp.DurationMs, cp.Path)

			out, errOut, code = s.run(t, "upgrade", "app", chart, "-n", ns, "--reuse-values", "--set", "parallelism=3", "-o", "json")
			if code != 0 {
				t.Fatalf("upgrade: exit %d\n%s", code, errOut)
			}
			up := decode[cliUpgrade](t, out)
			if !strings.HasPrefix(up.Savepoint, savepoints+"/") || up.Job.State != "RUNNING" {
				t.Fatalf("upgrade result %+v, want a savepoint under %s", up, savepoints)
			}
			store.keysUnder(t, "the upgrade's savepoint", up.Savepoint)
			rest = forwardREST(t, ns, waitPods(t, ns, "app.kubernetes.io/component=jobmanager", podTimeout, "jobmanager", allReady(1))[0].Name)
			rest.waitAllTasksRunning(up.Job.JobID, jobTimeout)
			assertRestoredFrom(t, rest, up.Job.JobID, up.Savepoint)

			out, errOut, code = s.run(t, "stop", "app", up.Job.JobID, "-n", ns, "--savepoint-dir", base+"/stopped", "-o", "json")
			if code != 0 {
				t.Fatalf("stop: exit %d\n%s", code, errOut)
			}
			sp := decode[struct {
				Savepoint string `json:"savepoint"`
			}](t, out)
			if !strings.HasPrefix(sp.Savepoint, base+"/stopped/") {
				t.Fatalf("stop: savepoint %q, want under %s/stopped", sp.Savepoint, base)
			}
			stopped := store.keysUnder(t, "the stop's savepoint", sp.Savepoint)

			out, errOut, code = s.run(t, "uninstall", "app", "-n", ns)
			if code != 0 || !strings.Contains(out, "state left on object storage: "+base+"/checkpoints (flinkConfiguration.state.checkpoints.dir)") ||
				!strings.Contains(out, "state left on object storage: "+savepoints+" (flinkConfiguration.state.savepoints.dir)") {
				t.Fatalf("uninstall: exit %d, want it to name the state it leaves\n%s\n%s", code, out, errOut)
			}
			if again := store.keysUnder(t, "the stop's savepoint after the uninstall", sp.Savepoint); len(again) != len(stopped) {
				t.Fatalf("objects of %s before the uninstall %v, after %v", sp.Savepoint, stopped, again)
			}
			// (Flink deleted the checkpoints when the stopped job finished, as it does by default.)
			store.keysUnder(t, "the upgrade's savepoint after the uninstall", up.Savepoint)

			out, errOut, code = s.run(t, append([]string{"install", "app", chart, "--set", "job.fromSavepoint=" + sp.Savepoint}, set...)...)
			if code != 0 {
				t.Fatalf("install from %s: exit %d\n%s", sp.Savepoint, code, errOut)
			}
			again := decode[cliInstall](t, out).Job.JobID
			rest = forwardREST(t, ns, waitPods(t, ns, "app.kubernetes.io/component=jobmanager", podTimeout, "jobmanager", allReady(1))[0].Name)
			assertRestoredFrom(t, rest, again, sp.Savepoint)

			// The record kept from the first release names the upgrade's savepoint and the stop's:
			// pruning all but the newest has Flink delete the upgrade's objects from the bucket.
			out, errOut, code = s.run(t, "savepoints", "app", "-n", ns, "--prune", "--keep", "1", "-o", "json")
			pruned := decode[struct {
				Disposed []recordEntry `json:"disposed"`
			}](t, out)
			if code != 0 || !slices.ContainsFunc(pruned.Disposed, func(e recordEntry) bool { return e.Path == up.Savepoint }) {
				t.Fatalf("savepoints --prune --keep 1: exit %d, %+v, want %s disposed of\n%s", code, pruned, up.Savepoint, errOut)
			}
			if left := store.list(t, objectKey(up.Savepoint)+"/"); len(left) > 0 {
				t.Fatalf("objects of the disposed savepoint %s left: %v", up.Savepoint, left)
			}
			s.run(t, "uninstall", "app", "-n", ns)
		})
	}
}
