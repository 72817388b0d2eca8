//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// claimValues put a release's state on a claim of its own that outlives its pods (and goes with
// the release).
var claimValues = []string{"--set", "persistence.enabled=true", "--set", "persistence.size=1Gi", "--set", "persistence.keepOnUninstall=false"}

// cliUpgrade is `helm flink upgrade -o json`.
type cliUpgrade struct {
	Revision    int               `json:"revision"`
	Savepoint   string            `json:"savepoint"`
	StoppedJobs map[string]string `json:"stoppedJobs"`
	Resubmitted []struct {
		JobID     string `json:"jobId"`
		Savepoint string `json:"savepoint"`
		NewJobID  string `json:"newJobId"`
	} `json:"resubmitted"`
	Job struct {
		JobID string `json:"jobId"`
		State string `json:"state"`
	} `json:"job"`
}

// A per-job cluster upgraded through a savepoint, as its plan said: the new job restores from it
// with the new parallelism. Plain `helm upgrade` of the chart (what Flux does) works too.
func TestUpgradeApplication(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	s := newStandalone(t)
	chart := filepath.Join(env.root, "charts/flink-job")
	// Savepoints on the release's claim: the upgraded JobManager (a new pod) restores from there.
	out, _, code := s.run(t, append([]string{"install", "app", chart, "-n", ns, "--set", "parallelism=2", "-o", "json"}, claimValues...)...)
	if code != 0 {
		t.Fatalf("install: exit %d", code)
	}
	assertApplicationPlan(t, s, ns, chart, decode[cliInstall](t, out).Job.JobID, 2)
	out, _, code = s.run(t, "upgrade", "app", chart, "-n", ns, "--reuse-values", "--set", "parallelism=3", "-o", "json")
	if code != 0 {
		t.Fatalf("upgrade: exit %d", code)
	}
	up := decode[cliUpgrade](t, out)
	if up.Revision != 2 || up.Savepoint == "" || up.Job.State != "RUNNING" {
		t.Fatalf("upgrade result %+v", up)
	}
	deps, err := env.cs.AppsV1().Deployments(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=jobmanager"})
	if err != nil || len(deps.Items) != 1 || deps.Items[0].Generation != 2 {
		t.Fatalf("JobManager Deployments after the upgrade: %+v (%v), want the one, updated once", deps.Items, err)
	}
	jm := waitPods(t, ns, "app.kubernetes.io/component=jobmanager", 30e9, "jobmanager", allReady(1))
	rest := forwardREST(t, ns, jm[0].Name)
	if p := rest.waitAllTasksRunning(up.Job.JobID, 30e9).parallelism(); p != 3 {
		t.Fatalf("parallelism after the upgrade %d, want 3", p)
	}
	assertRestoredFrom(t, rest, up.Job.JobID, up.Savepoint)

	// helm flink rollback: revision 1's chart and values again (parallelism 2) as revision 3,
	// the job stopped with a savepoint and started from it.
	out, _, code = s.run(t, "rollback", "app", "-n", ns, "-o", "json")
	if code != 0 {
		t.Fatalf("rollback: exit %d", code)
	}
	back := decode[cliRollback](t, out)
	if back.Revision != 3 || back.RolledBackTo != 1 || back.Savepoint == "" || back.Job.State != "RUNNING" || back.Job.JobID == up.Job.JobID {
		t.Fatalf("rollback result %+v", back)
	}
	jm = waitPods(t, ns, "app.kubernetes.io/component=jobmanager", 30e9, "jobmanager", allReady(1))
	rest = forwardREST(t, ns, jm[0].Name)
	if p := rest.waitAllTasksRunning(back.Job.JobID, 30e9).parallelism(); p != 2 {
		t.Fatalf("parallelism after the rollback %d, want 2", p)
	}
	assertRestoredFrom(t, rest, back.Job.JobID, back.Savepoint)
	assertRecorded(t, ns, "app", map[int]string{1: up.Savepoint, 2: back.Savepoint})
	// helm flink savepoints lists the record, oldest first.
	out, _, code = s.run(t, "savepoints", "app", "-n", ns, "-o", "json")
	if listed := decode[[]recordEntry](t, out); code != 0 || !reflect.DeepEqual(listed, []recordEntry{{1, up.Savepoint, "upgrade"}, {2, back.Savepoint, "upgrade"}}) {
		t.Fatalf("helm flink savepoints: exit %d, %+v", code, listed)
	}
	// --prune --keep 1: Flink disposes of the older one (gone from the claim), then the record
	// forgets it.
	out, _, code = s.run(t, "savepoints", "app", "-n", ns, "--prune", "--keep", "1", "-o", "json")
	pruned := decode[struct {
		Disposed []recordEntry `json:"disposed"`
		Kept     []recordEntry `json:"kept"`
	}](t, out)
	if code != 0 || len(pruned.Disposed) != 1 || pruned.Disposed[0].Path != up.Savepoint || len(pruned.Kept) != 1 || pruned.Kept[0].Path != back.Savepoint {
		t.Fatalf("savepoints --prune --keep 1: exit %d, %+v", code, pruned)
	}
	assertGoneFromClaim(t, ns, "app-flink-job-data", up.Savepoint)
	assertOnClaim(t, ns, "app-flink-job-data", back.Savepoint)
	assertRecorded(t, ns, "app", map[int]string{2: back.Savepoint})

	// A second --reuse-values upgrade starts from the user's values only: the first upgrade's
	// job id and savepoint were that revision's, and the plugin's own check of its values
	// (savepoint paths as Flink reports them) passes.
	// (A config change, which replaces the TaskManagers too: on the stack a TaskManager keeps its
	// JobManager's local port and cannot follow a replaced JobManager; ci/README.md.)
	out, _, code = s.run(t, "upgrade", "app", chart, "-n", ns, "--reuse-values", "--set", "parallelism=1", "-o", "json")
	if code != 0 {
		t.Fatalf("second upgrade: exit %d", code)
	}
	again := decode[cliUpgrade](t, out)
	if again.Revision != 4 || again.Savepoint == "" || again.Savepoint == back.Savepoint || again.Job.JobID == back.Job.JobID || again.Job.State != "RUNNING" {
		t.Fatalf("second upgrade result %+v after %+v", again, up)
	}
	jm = waitPods(t, ns, "app.kubernetes.io/component=jobmanager", 30e9, "jobmanager", allReady(1))
	rest = forwardREST(t, ns, jm[0].Name)
	rest.waitAllTasksRunning(again.Job.JobID, 30e9)
	assertRestoredFrom(t, rest, again.Job.JobID, again.Savepoint)
	vals := s.helm(t, "get", "values", "app", "-n", ns, "-o", "json")
	if strings.Contains(vals, back.Savepoint) || strings.Contains(vals, back.Job.JobID) || !strings.Contains(vals, `"parallelism":1`) {
		t.Fatalf("the rollback's own values leaked into revision 4's: %s", vals)
	}

	// The chart alone: a values change rolls the JobManager Deployment.
	s.helm(t, "upgrade", "app", chart, "-n", ns, "--reuse-values", "--set", "parallelism=2")
	if _, _, code := s.run(t, "uninstall", "app", "-n", ns); code != 0 {
		t.Fatalf("uninstall: exit %d", code)
	}
	assertNothingLeft(t, ns)
}

// sessionWithJob is release "flink" of the session chart, installed by the plugin in a fresh
// namespace with TopSpeedWindowing running; it returns the plugin, the namespace, the chart and
// the job's id.
func sessionWithJob(t *testing.T) (*standalone, string, string, string) {
	t.Helper()
	ns := newNamespace(t)
	s := newStandalone(t)
	chart := filepath.Join(env.root, "charts/flink-session")
	out, _, code := s.run(t, "install", "flink", chart, "-n", ns, "--jar", exampleJar(env.versions["FLINK1_VERSION"], "TopSpeedWindowing"), "-o", "json")
	if code != 0 {
		t.Fatalf("install: exit %d", code)
	}
	return s, ns, chart, decode[cliInstall](t, out).Job.JobID
}

// A session upgrade that would restart the JobManager under a running job without HA is
// refused, as its plan says; scaling TaskManagers is not, and the job keeps running on the same
// JobManager, as it does through the rollback of the scale.
func TestUpgradeSession(t *testing.T) {
	t.Parallel()
	s, ns, chart, jobID := sessionWithJob(t)
	assertSessionPlans(t, s, ns, chart, jobID)
	jm := waitPods(t, ns, "app.kubernetes.io/component=jobmanager", 10e9, "jobmanager", allReady(1))

	_, errOut, code := s.run(t, "upgrade", "flink", chart, "-n", ns, "--reuse-values", "--set-string", `flinkConfiguration.execution\.checkpointing\.interval=10s`)
	if code != 1 || !strings.Contains(errOut, "restarts the JobManager") || !strings.Contains(errOut, jobID+" (CarTopSpeedWindowingExample: its jar is not kept") {
		t.Fatalf("a JobManager-restarting upgrade under a running job: exit %d", code)
	}
	if _, _, code := s.run(t, "upgrade", "flink", chart, "-n", ns, "--reuse-values", "--set", "taskmanager.replicas=3"); code != 0 {
		t.Fatalf("scale: exit %d", code)
	}
	st := decode[struct {
		Release struct {
			Revision int `json:"revision"`
		} `json:"release"`
		TaskManagers int      `json:"taskManagers"`
		Jobs         []cliJob `json:"jobs"`
	}](t, func() string { o, _, _ := s.run(t, "status", "flink", "-n", ns, "-o", "json"); return o }())
	if st.Release.Revision != 2 || st.TaskManagers != 3 || len(st.Jobs) != 1 || st.Jobs[0].State != "RUNNING" {
		t.Fatalf("after scaling: %+v", st)
	}
	if now := waitPods(t, ns, "app.kubernetes.io/component=jobmanager", 10e9, "jobmanager", allReady(1)); now[0].Name != jm[0].Name {
		t.Fatalf("scaling replaced the JobManager %s with %s", jm[0].Name, now[0].Name)
	}

	// helm flink rollback of the scale: revision 1's 2 TaskManagers as revision 3, the job
	// running on on the same JobManager.
	out, _, code := s.run(t, "rollback", "flink", "-n", ns, "-o", "json")
	if back := decode[cliRollback](t, out); code != 0 || back.Revision != 3 || back.RolledBackTo != 1 || back.Savepoint != "" {
		t.Fatalf("rollback of a scale: exit %d, %+v", code, back)
	}
	waitPods(t, ns, "app.kubernetes.io/component=taskmanager", 30e9, "2 TaskManagers after the rollback", allReady(2))
	if now := waitPods(t, ns, "app.kubernetes.io/component=jobmanager", 10e9, "jobmanager", allReady(1)); now[0].Name != jm[0].Name {
		t.Fatalf("the rollback replaced the JobManager %s with %s", jm[0].Name, now[0].Name)
	}
	forwardREST(t, ns, jm[0].Name).waitAllTasksRunning(jobID, jobTimeout)
	// helm test: the session's job has every task running.
	if out := s.helm(t, "test", "flink", "-n", ns); !strings.Contains(out, "Phase:          Succeeded") {
		t.Fatalf("helm test of the session:\n%s", out)
	}
	s.run(t, "uninstall", "flink", "-n", ns)
	assertNothingLeft(t, ns)
}

// Scaling a session below the slots its running jobs hold: refused (exit 1, nothing changed)
// naming the job and its slots; with --stop-jobs --savepoint-dir the job is stopped with a
// savepoint on the release's claim first; a job on the adaptive scheduler rescales instead.
func TestUpgradeSessionScaleDown(t *testing.T) {
	t.Parallel()
	chart := filepath.Join(env.root, "charts/flink-session")
	jar := exampleJar(env.versions["FLINK1_VERSION"], "TopSpeedWindowing")
	t.Run("refused, then stopped with a savepoint", func(t *testing.T) {
		t.Parallel()
		ns := newNamespace(t)
		s := newStandalone(t)
		// 2 TaskManagers × 2 slots; the job holds 3.
		out, _, code := s.run(t, append([]string{"install", "flink", chart, "-n", ns, "--jar", jar, "--parallelism", "3", "-o", "json"}, claimValues...)...)
		if code != 0 {
			t.Fatalf("install: exit %d", code)
		}
		jobID := decode[cliInstall](t, out).Job.JobID
		_, errOut, code := s.run(t, "upgrade", "flink", chart, "-n", ns, "--reuse-values", "--set", "taskmanager.replicas=1")
		if code != 1 || !strings.Contains(errOut, jobID+" (CarTopSpeedWindowingExample) holds 3") || !strings.Contains(errOut, "leaves 2 task slots") {
			t.Fatalf("a scale-down below the job's slots: exit %d", code)
		}
		jm := waitPods(t, ns, "app.kubernetes.io/component=jobmanager", 10e9, "jobmanager", allReady(1))
		rest := forwardREST(t, ns, jm[0].Name)
		if d := rest.waitAllTasksRunning(jobID, 10e9); d.State != "RUNNING" {
			t.Fatalf("after the refusal the job is %s", d.State)
		}
		if tms := waitPods(t, ns, "app.kubernetes.io/component=taskmanager", 10e9, "taskmanagers", allReady(2)); len(tms) != 2 {
			t.Fatal("the refused upgrade changed the TaskManagers")
		}
		out, _, code = s.run(t, "upgrade", "flink", chart, "-n", ns, "--reuse-values", "--set", "taskmanager.replicas=1",
			"--stop-jobs", "--savepoint-dir", "file:///flink-data/scaled", "-o", "json")
		if code != 0 {
			t.Fatalf("upgrade --stop-jobs: exit %d", code)
		}
		res := decode[cliUpgrade](t, out)
		if res.Revision != 2 || res.StoppedJobs[jobID] == "" {
			t.Fatalf("upgrade --stop-jobs: %+v", res)
		}
		assertOnClaim(t, ns, "flink-flink-session-data", res.StoppedJobs[jobID])
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		eventually(t, ctx, "the stopped job ends", func() (bool, string) {
			var d jobDetails
			rest.get("/jobs/"+jobID, &d)
			return d.State == "FINISHED", d.State
		})
		s.run(t, "uninstall", "flink", "-n", ns)
		assertNothingLeft(t, ns)
	})
	t.Run("the adaptive scheduler rescales", func(t *testing.T) {
		t.Parallel()
		ns := newNamespace(t)
		s := newStandalone(t)
		out, _, code := s.run(t, "install", "flink", chart, "-n", ns, "--jar", jar, "--parallelism", "3",
			"--set-string", `flinkConfiguration.jobmanager\.scheduler=adaptive`,
			"--set-string", `flinkConfiguration.restart-strategy\.type=fixed-delay`, "-o", "json")
		if code != 0 {
			t.Fatalf("install: exit %d", code)
		}
		jobID := decode[cliInstall](t, out).Job.JobID
		if _, _, code := s.run(t, "upgrade", "flink", chart, "-n", ns, "--reuse-values", "--set", "taskmanager.replicas=1"); code != 0 {
			t.Fatalf("a scale-down under an adaptive job: exit %d", code)
		}
		jm := waitPods(t, ns, "app.kubernetes.io/component=jobmanager", 10e9, "jobmanager", allReady(1))
		rest := forwardREST(t, ns, jm[0].Name)
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		eventually(t, ctx, "the job runs on the 2 slots left", func() (bool, string) {
			var d jobDetails
			if err := rest.try(http.MethodGet, "/jobs/"+jobID, nil, "", &d); err != nil {
				return false, err.Error()
			}
			running := 0
			for _, v := range d.Vertices {
				running += v.Tasks["RUNNING"]
			}
			return d.State == "RUNNING" && d.parallelism() == 2 && running > 0, fmt.Sprintf("%s, parallelism %d", d.State, d.parallelism())
		})
		s.run(t, "uninstall", "flink", "-n", ns)
		assertNothingLeft(t, ns)
	})
}

// With Kubernetes HA, --upgrade-mode last-state upgrades an application without a savepoint:
// the new JobManager recovers the same job from its latest checkpoint, not from scratch.
func TestUpgradeApplicationLastState(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	s := newStandalone(t)
	chart := filepath.Join(env.root, "charts/flink-job")
	out, _, code := s.run(t, append([]string{"install", "app", chart, "-n", ns,
		"--set", "highAvailability.enabled=true", "--set", "highAvailability.storageDir=file:///flink-data/ha",
		"--set-string", `flinkConfiguration.execution\.checkpointing\.interval=2s`, "-o", "json"}, claimValues...)...)
	if code != 0 {
		t.Fatalf("install: exit %d", code)
	}
	jobID := decode[cliInstall](t, out).Job.JobID
	type checkpoints struct {
		Counts struct {
			Completed int `json:"completed"`
		} `json:"counts"`
		Latest struct {
			Completed *struct {
				ID int `json:"id"`
			} `json:"completed"`
			Restored *struct {
				ID          int  `json:"id"`
				IsSavepoint bool `json:"is_savepoint"`
			} `json:"restored"`
		} `json:"latest"`
	}
	jm := waitPods(t, ns, "app.kubernetes.io/component=jobmanager", 30e9, "jobmanager", allReady(1))
	rest := forwardREST(t, ns, jm[0].Name)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var before int
	eventually(t, ctx, "a completed checkpoint", func() (bool, string) {
		var c checkpoints
		if err := rest.try(http.MethodGet, "/jobs/"+jobID+"/checkpoints", nil, "", &c); err != nil {
			return false, err.Error()
		}
		if c.Latest.Completed != nil {
			before = c.Latest.Completed.ID
		}
		return before >= 2, fmt.Sprintf("%d completed", c.Counts.Completed)
	})
	if cp := waitCheckpoint(t, rest, jobID, 0); !strings.HasPrefix(cp.Path, "file:/flink-data/checkpoints/") {
		t.Fatalf("checkpoint %d at %q, want on the claim", cp.ID, cp.Path)
	} else {
		t.Logf("checkpoint %d on the volume in %d ms: %s", cp.ID, cp.DurationMs, cp.Path)
	}

	out, _, code = s.run(t, "upgrade", "app", chart, "-n", ns, "--reuse-values", "--upgrade-mode", "last-state",
		"--set-string", `flinkConfiguration.execution\.checkpointing\.interval=3s`, "-o", "json")
	if code != 0 {
		t.Fatalf("upgrade --upgrade-mode last-state: exit %d", code)
	}
	up := decode[cliUpgrade](t, out)
	if up.Savepoint != "" || up.Job.JobID != jobID || up.Job.State != "RUNNING" {
		t.Fatalf("last-state upgrade %+v, want job %s RUNNING without a savepoint", up, jobID)
	}
	jm = waitPods(t, ns, "app.kubernetes.io/component=jobmanager", 30e9, "jobmanager", allReady(1))
	rest = forwardREST(t, ns, jm[0].Name)
	rest.waitAllTasksRunning(jobID, 60e9)
	var c checkpoints
	rest.get("/jobs/"+jobID+"/checkpoints", &c)
	if r := c.Latest.Restored; r == nil || r.IsSavepoint || r.ID < before {
		t.Fatalf("job %s after the last-state upgrade restored %+v, want a checkpoint ≥ %d", jobID, r, before)
	}
	// helm test: the job runs every task and completed a checkpoint after the test began.
	// (A test pod that passed is deleted: its log is gone; one that failed stays for --logs.)
	if out := s.helm(t, "test", "app", "-n", ns); !strings.Contains(out, "Phase:          Succeeded") {
		t.Fatalf("helm test of the upgraded application:\n%s", out)
	}
	s.run(t, "uninstall", "app", "-n", ns)
	assertNothingLeft(t, ns)
}

// A session with persistence keeps the jars `helm flink install --jar` uploads on its claim. An
// upgrade that replaces the JobManager (a configuration change) is planned as touching the
// job's state (exit 6): the job is stopped with a savepoint and run again from its kept jar on the
// new JobManager, restored from that savepoint; `helm flink rollback` does the same back to the
// first revision. Standalone on Flink 1.20 and native on Flink 2.x.
func TestUpgradeSessionKeptJars(t *testing.T) {
	t.Parallel()
	chart := filepath.Join(env.root, "charts/flink-session")
	v := nativeVersions()
	for _, c := range []struct {
		mode string
		v    nativeVersion
	}{{"standalone", v[0]}, {"native", v[1]}} {
		t.Run(c.mode+"-"+c.v.name, func(t *testing.T) {
			t.Parallel()
			ns := newNamespace(t)
			s := newStandalone(t)
			install := append([]string{"install", "flink", chart, "-n", ns, "-f", modeValues("flink-session", c.mode), "--set", "image.tag=" + c.v.tag,
				"--jar", exampleJar(c.v.release, "TopSpeedWindowing"), "--parallelism", "2", "-o", "json"}, claimValues...)
			out, _, code := s.run(t, install...)
			if code != 0 {
				t.Fatalf("install: exit %d", code)
			}
			job := decode[cliInstall](t, out).Job.JobID
			jobs, err := env.cs.CoreV1().ConfigMaps(ns).Get(t.Context(), "flink-flink-jobs", metav1.GetOptions{})
			if err != nil || !strings.Contains(jobs.Data[job], `"jarId":"`) {
				t.Fatalf("the jobs record has no kept jar of job %s: %v %v", job, jobs.Data, err)
			}

			change := []string{"--set-string", `flinkConfiguration.execution\.checkpointing\.interval=7s`}
			p, code := planOf(t, s, ns, "flink", chart, change...)
			if code != 6 || p.Change != "restart" || len(p.Jobs) != 1 || p.Jobs[0].ID != job || p.Jobs[0].Fate != "stopped with a savepoint and run again from its kept jar" || p.Refused != "" {
				t.Fatalf("plan of a JobManager restart: exit %d, %+v", code, p)
			}

			jm := podUIDs(t, ns, "app.kubernetes.io/instance=flink,app.kubernetes.io/component=jobmanager")
			out, _, code = s.run(t, append([]string{"upgrade", "flink", chart, "-n", ns, "--reuse-values", "-o", "json"}, change...)...)
			up := decode[cliUpgrade](t, out)
			if code != 0 || up.Revision != 2 || len(up.Resubmitted) != 1 || up.Resubmitted[0].JobID != job || up.Resubmitted[0].NewJobID == "" {
				t.Fatalf("upgrade: exit %d, %+v", code, up)
			}
			again := keptJarRunsAgain(t, ns, jm, up.Resubmitted[0].Savepoint, up.Resubmitted[0].NewJobID)

			jm = podUIDs(t, ns, "app.kubernetes.io/instance=flink,app.kubernetes.io/component=jobmanager")
			out, _, code = s.run(t, "rollback", "flink", "-n", ns, "-o", "json")
			back := decode[cliUpgrade](t, out)
			if code != 0 || back.Revision != 3 || len(back.Resubmitted) != 1 || back.Resubmitted[0].JobID != again {
				t.Fatalf("rollback: exit %d, %+v", code, back)
			}
			keptJarRunsAgain(t, ns, jm, back.Resubmitted[0].Savepoint, back.Resubmitted[0].NewJobID)

			if _, _, code := s.run(t, "uninstall", "flink", "-n", ns); code != 0 {
				t.Fatalf("uninstall: exit %d", code)
			}
			if _, err := env.cs.CoreV1().ConfigMaps(ns).Get(t.Context(), "flink-flink-jobs", metav1.GetOptions{}); err == nil {
				t.Fatal("the jobs record outlived the uninstall")
			}
		})
	}
}

// keptJarRunsAgain checks a session job run again from its kept jar: the JobManager pods before
// were replaced, the savepoint is on the claim, and the new job runs every task restored from it,
// and is in the jobs record. It returns the job's id.
func keptJarRunsAgain(t *testing.T, ns string, before map[string]types.UID, savepoint, job string) string {
	t.Helper()
	sel := "app.kubernetes.io/instance=flink,app.kubernetes.io/component=jobmanager"
	after := waitPods(t, ns, sel, nodeTimeout, "the new JobManager", allReady(1))
	for _, p := range after {
		if before[p.Name] == p.UID {
			t.Fatalf("JobManager pod %s was not replaced", p.Name)
		}
	}
	assertOnClaim(t, ns, "flink-flink-session-data", savepoint)
	rest := forwardREST(t, ns, after[0].Name)
	rest.waitAllTasksRunning(job, nodeTimeout)
	if from := restoredFrom(rest, job); from == nil || !from.IsSavepoint || strings.TrimPrefix(from.ExternalPath, "file:") != strings.TrimPrefix(savepoint, "file:") {
		t.Fatalf("job %s restored from %+v, want savepoint %s", job, from, savepoint)
	}
	jobs, err := env.cs.CoreV1().ConfigMaps(ns).Get(t.Context(), "flink-flink-jobs", metav1.GetOptions{})
	if err != nil || len(jobs.Data) != 1 || jobs.Data[job] == "" {
		t.Fatalf("the jobs record after the job ran again: %v %v", jobs.Data, err)
	}
	return job
}
