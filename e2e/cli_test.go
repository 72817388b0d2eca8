//go:build e2e

package e2e

import (
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// pluginHelm is a helm CLI with the plugin installed from a copy of the checkout, as a user would.
func pluginHelm(t *testing.T, name string) *helmCLI {
	t.Helper()
	h := newHelm(t, name)
	// The checkout's own code, never a released binary.
	h.extraEnv = []string{"HELM_FLINK_FROM_SOURCE=1"}
	if out, err := h.run(t, "plugin", "install", checkoutCopy(t)); err != nil {
		t.Fatalf("%s plugin install: %v\n%s", name, err, out)
	}
	return h
}

// flink runs `helm flink ARGS` and returns stdout, stderr and the exit code.
func (h *helmCLI) flink(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	args = forNode(args)
	cmd := exec.CommandContext(t.Context(), h.bin, append([]string{"flink"}, args...)...)
	cmd.Env = h.env()
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("helm flink %v: %v", args, err)
	}
	t.Logf("helm flink %s → exit %d\n%s%s", strings.Join(args, " "), code, e.String(), o.String())
	return o.String(), e.String(), code
}

func (h *helmCLI) flinkOK(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := h.flink(t, args...)
	if code != 0 {
		t.Fatalf("helm flink %s: exit %d\n%s%s", strings.Join(args, " "), code, errOut, out)
	}
	return out
}

func decode[T any](t testing.TB, data string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(data), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, data)
	}
	return v
}

type cliJob struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	State   string `json:"state"`
	Running int    `json:"runningTasks"`
	Total   int    `json:"totalTasks"`
	// Failures and LastFailure: the job's exception history.
	Failures    int    `json:"failures"`
	LastFailure string `json:"lastFailure"`
}

type cliInstall struct {
	Release  string `json:"release"`
	Revision int    `json:"revision"`
	Job      struct {
		JobID    string `json:"jobId"`
		State    string `json:"state"`
		Running  int    `json:"runningTasks"`
		Finished int    `json:"finishedTasks"`
		Total    int    `json:"totalTasks"`
	} `json:"job"`
	Parallelism     int     `json:"parallelism"`
	Elapsed         float64 `json:"elapsedSeconds"`
	SubmitToRunning float64 `json:"submitToRunningSeconds"`
}

// The session flow end to end through `helm flink` under Helm 3 and Helm 4: install with a jar,
// submit a second job, jobs, status, stop with a savepoint, cancel, uninstall.
func TestPluginSessionFlow(t *testing.T) {
	t.Parallel()
	for _, helm := range []string{"helm3", "helm4"} {
		t.Run(helm, func(t *testing.T) {
			t.Parallel()
			h := pluginHelm(t, helm)
			ns := restrictedNamespace(t)
			chart := filepath.Join(env.root, "charts/flink-session")
			flink1 := env.versions["FLINK1_VERSION"]

			// Savepoints go to the release's claim, which outlives the pods (and the release).
			const claim = "flink-flink-session-data"
			out := h.flinkOK(t, "install", "flink", chart, "-n", ns, "--jar", exampleJar(flink1, "TopSpeedWindowing"),
				"--set", "persistence.enabled=true", "--set", "persistence.size=1Gi", "--timeout", "4m", "-o", "json")
			inst := decode[cliInstall](t, out)
			if inst.Job.State != "RUNNING" || inst.Job.Total == 0 || inst.Job.Running+inst.Job.Finished != inst.Job.Total {
				t.Fatalf("install returned before every task ran: %+v", inst.Job)
			}
			t.Logf("MEASURED %s: install --jar %.1fs, submit→RUNNING %.1fs", helm, inst.Elapsed, inst.SubmitToRunning)
			// Flink itself agrees, independently of the plugin.
			jm := waitPods(t, ns, "app.kubernetes.io/component=jobmanager", 10e9, "jobmanager", allReady(1))
			rest := forwardREST(t, ns, jm[0].Name)
			rest.waitAllTasksRunning(inst.Job.JobID, 1e9)
			// Shell completion through helm offers the job's id (Helm asks the plugin's __complete).
			if out, _ := h.run(t, "__complete", "flink", "cancel", "-n", ns, "flink", ""); !strings.Contains(out, inst.Job.JobID+"\t") {
				t.Fatalf("%s completion does not offer job %s:\n%s", helm, inst.Job.JobID, out)
			}
			// With persistence the session keeps the uploaded jar on its claim, and the job is
			// recorded to run again from it when an upgrade replaces the JobManager.
			var jars struct {
				Files []struct {
					ID string `json:"id"`
				} `json:"files"`
			}
			if rest.get("/jars", &jars); len(jars.Files) != 1 {
				t.Fatalf("the JobManager keeps %d jars, want the uploaded one: %v", len(jars.Files), jars.Files)
			}
			record, err := env.cs.CoreV1().ConfigMaps(ns).Get(t.Context(), "flink-flink-jobs", metav1.GetOptions{})
			if err != nil || !strings.Contains(record.Data[inst.Job.JobID], `"jarId":"`+jars.Files[0].ID+`"`) {
				t.Fatalf("the jobs record does not name job %s's kept jar %s: %v (%v)", inst.Job.JobID, jars.Files[0].ID, record, err)
			}
			if helm == "helm4" {
				// Uninstall stops the running job with a savepoint first.
				res := decode[struct {
					Savepoints map[string]string `json:"savepoints"`
				}](t, h.flinkOK(t, "uninstall", "flink", "-n", ns, "--stop-jobs", "--savepoint-dir", "file:///flink-data/uninstall", "-o", "json"))
				sp := res.Savepoints[inst.Job.JobID]
				if !strings.Contains(sp, "/flink-data/uninstall/") {
					t.Fatalf("uninstall --stop-jobs: savepoints %v, want one for %s under /flink-data/uninstall", res.Savepoints, inst.Job.JobID)
				}
				// The record of it outlives the release with the kept claim.
				assertRecordKept(t, ns, "flink", sp)
				assertNothingLeft(t, ns)
				// The kept claim holds it after the release is gone.
				assertOnClaim(t, ns, claim, sp)
				if err := env.cs.CoreV1().PersistentVolumeClaims(ns).Delete(t.Context(), claim, metav1.DeleteOptions{}); err != nil {
					t.Fatal(err)
				}
				return
			}

			out = h.flinkOK(t, "submit", "flink", "-n", ns, "--jar", exampleJar(flink1, "WindowJoin"), "-o", "json")
			var sub struct {
				Job struct {
					JobID string `json:"jobId"`
					State string `json:"state"`
				} `json:"job"`
			}
			sub = decode[struct {
				Job struct {
					JobID string `json:"jobId"`
					State string `json:"state"`
				} `json:"job"`
			}](t, out)
			if sub.Job.State != "RUNNING" {
				t.Fatalf("submit: %+v", sub.Job)
			}
			rest.waitAllTasksRunning(sub.Job.JobID, 1e9)

			jobs := decode[[]cliJob](t, h.flinkOK(t, "jobs", "flink", "-n", ns, "-o", "json"))
			byID := map[string]cliJob{}
			for _, j := range jobs {
				byID[j.ID] = j
			}
			if len(jobs) != 2 || byID[inst.Job.JobID].State != "RUNNING" || byID[sub.Job.JobID].State != "RUNNING" ||
				!strings.Contains(byID[sub.Job.JobID].Name, "Join") {
				t.Fatalf("jobs: %+v", jobs)
			}
			table := h.flinkOK(t, "jobs", "flink", "-n", ns)
			if !strings.HasPrefix(table, "JOB ID") || !strings.Contains(table, inst.Job.JobID) {
				t.Fatalf("jobs table:\n%s", table)
			}

			st := decode[struct {
				Release struct {
					Revision int    `json:"revision"`
					Status   string `json:"status"`
				} `json:"release"`
				Pods         []struct{ Ready bool } `json:"pods"`
				TaskManagers int                    `json:"taskManagers"`
				SlotsTotal   int                    `json:"slotsTotal"`
				SlotsFree    int                    `json:"slotsFree"`
				Jobs         []cliJob               `json:"jobs"`
			}](t, h.flinkOK(t, "status", "flink", "-n", ns, "-o", "json"))
			var o overview
			rest.get("/overview", &o)
			if st.Release.Revision != 1 || st.Release.Status != "deployed" || len(st.Pods) != 3 ||
				st.TaskManagers != o.TaskManagers || st.SlotsTotal != o.SlotsTotal || st.SlotsFree != o.SlotsAvailable || len(st.Jobs) != 2 {
				t.Fatalf("status %+v, Flink says %+v", st, o)
			}

			sp := decode[struct {
				Savepoint string `json:"savepoint"`
			}](t, h.flinkOK(t, "stop", "flink", inst.Job.JobID, "-n", ns, "--savepoint-dir", "file:///flink-data/stopped", "-o", "json"))
			if !strings.Contains(sp.Savepoint, "/flink-data/stopped/") {
				t.Fatalf("savepoint %q is not under --savepoint-dir", sp.Savepoint)
			}
			assertOnClaim(t, ns, claim, sp.Savepoint)

			h.flinkOK(t, "cancel", "flink", sub.Job.JobID, "-n", ns)
			var d jobDetails
			rest.get("/jobs/"+sub.Job.JobID, &d)
			if d.State != "CANCELED" {
				t.Fatalf("after cancel the job is %s", d.State)
			}

			if out := h.flinkOK(t, "uninstall", "flink", "-n", ns); strings.Contains(out, "without a savepoint") {
				t.Fatalf("uninstall after every job ended warns of a running one:\n%s", out)
			}
			assertRecordKept(t, ns, "flink", sp.Savepoint)
			assertNothingLeft(t, ns)
		})
	}
}

// A per-job (application) release reaches RUNNING through `helm flink install`.
func TestPluginApplicationInstall(t *testing.T) {
	t.Parallel()
	h := pluginHelm(t, "helm4")
	ns := restrictedNamespace(t)
	out := h.flinkOK(t, "install", "app", filepath.Join(env.root, "charts/flink-job"), "-n", ns, "--timeout", "4m", "-o", "json")
	inst := decode[cliInstall](t, out)
	if inst.Job.State != "RUNNING" || inst.Job.Running+inst.Job.Finished != inst.Job.Total || inst.Job.Total == 0 {
		t.Fatalf("application install: %+v", inst.Job)
	}
	jm := waitPods(t, ns, "app.kubernetes.io/component=jobmanager", 10e9, "jobmanager", allReady(1))
	forwardREST(t, ns, jm[0].Name).waitAllTasksRunning(inst.Job.JobID, 1e9)
	// Uninstalling ends the running job without a savepoint, and says so.
	out, errOut, code := h.flink(t, "uninstall", "app", "-n", ns)
	if code != 0 || !strings.Contains(out, "job "+inst.Job.JobID+" (") || !strings.Contains(out, ") ended without a savepoint") ||
		!strings.Contains(errOut, "is RUNNING: the uninstall ends it without a savepoint (--stop-jobs --savepoint-dir would keep its state)") {
		t.Fatalf("uninstall of a running application: exit %d\n%s%s", code, errOut, out)
	}
	assertNothingLeft(t, ns)
}

// Failure paths: each exits with its documented code and says why.
func TestPluginFailures(t *testing.T) {
	t.Parallel()
	h := pluginHelm(t, "helm3")
	chart := filepath.Join(env.root, "charts/flink-session")
	flink1 := env.versions["FLINK1_VERSION"]

	t.Run("invalid values install nothing", func(t *testing.T) {
		t.Parallel()
		ns := newNamespace(t)
		_, errOut, code := h.flink(t, "install", "bad", chart, "-n", ns, "--set", "taskmanager.replica=3",
			"--set", "taskmanager.numberOfTaskSlots=zero", "--jar", filepath.Join(t.TempDir(), "missing.jar"))
		if code != 1 {
			t.Fatalf("exit %d, want 1", code)
		}
		for _, want := range []string{"taskmanager.replica", "replicas", "taskmanager.numberOfTaskSlots", "missing.jar"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("error does not mention %q:\n%s", want, errOut)
			}
		}
		secrets, err := env.cs.CoreV1().Secrets(ns).List(t.Context(), metav1.ListOptions{})
		if err != nil || len(secrets.Items) != 0 {
			t.Fatalf("secrets in the namespace after a refused install: %v %v", secrets, err)
		}
		assertNothingLeft(t, ns)
	})

	t.Run("name in use or namespace missing", func(t *testing.T) {
		t.Parallel()
		ns := newNamespace(t)
		h.flinkOK(t, "install", "taken", chart, "-n", ns, "--set", "tests.enabled=false")
		_, errOut, code := h.flink(t, "install", "taken", chart, "-n", ns)
		if code != 1 || !strings.Contains(errOut, `release "taken" already exists`) {
			t.Fatalf("a release name in use: exit %d", code)
		}
		_, errOut, code = h.flink(t, "install", "x", chart, "-n", ns+"-missing")
		if code != 1 || !strings.Contains(errOut, "--create-namespace") {
			t.Fatalf("a missing namespace: exit %d", code)
		}
		h.flinkOK(t, "uninstall", "taken", "-n", ns)
	})

	t.Run("wrong entry class", func(t *testing.T) {
		t.Parallel()
		ns := newNamespace(t)
		// The jar check would refuse a class the jar lacks before installing; a class that exists
		// but has no main method gets past it, so Flink itself must say why.
		_, errOut, code := h.flink(t, "install", "flink", chart, "-n", ns, "--jar", exampleJar(flink1, "TopSpeedWindowing"),
			"--entry-class", "org.apache.flink.streaming.examples.windowing.util.CarGeneratorFunction", "--timeout", "3m")
		if code != 3 {
			t.Fatalf("exit %d, want 3 (job failed)", code)
		}
		if !strings.Contains(errOut, "main") {
			t.Fatalf("error does not show Flink's reason:\n%s", errOut)
		}
	})

	t.Run("job failing at runtime is rolled back with --atomic", func(t *testing.T) {
		t.Parallel()
		ns := newNamespace(t)
		_, errOut, code := h.flink(t, "install", "flink", chart, "-n", ns, "--atomic", "--jar", exampleJar(flink1, "TopSpeedWindowing"),
			"--args", "--input", "--args", "/no/such/input.txt", "--timeout", "3m")
		if code != 3 {
			t.Fatalf("exit %d, want 3 (job failed)", code)
		}
		for _, want := range []string{"root exception: ", "\tat ", "/no/such/input.txt", "Rolling back"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("output lacks %q:\n%s", want, errOut)
			}
		}
		assertNothingLeft(t, ns)
	})

	t.Run("application with a wrong entry class", func(t *testing.T) {
		t.Parallel()
		ns := newNamespace(t)
		_, errOut, code := h.flink(t, "install", "app", filepath.Join(env.root, "charts/flink-job"), "-n", ns, "--atomic",
			"--entry-class", "com.example.NoSuchJob", "--timeout", "3m")
		if code != 3 {
			t.Fatalf("exit %d, want 3 (job failed)", code)
		}
		// Flink's own words, from the crashed JobManager's log.
		if !strings.Contains(errOut, "Caused by: java.lang.ClassNotFoundException: com.example.NoSuchJob") {
			t.Fatalf("output lacks Flink's reason:\n%s", errOut)
		}
		assertNothingLeft(t, ns)
	})

	t.Run("unreachable jobmanager times out", func(t *testing.T) {
		t.Parallel()
		ns := newNamespace(t)
		_, errOut, code := h.flink(t, "install", "flink", chart, "-n", ns, "--set", "tests.enabled=false",
			"--rest-url", "http://127.0.0.1:1", "--timeout", "2m")
		if code != 2 {
			t.Fatalf("exit %d, want 2 (timeout)", code)
		}
		if !strings.Contains(errOut, "taskmanagers registered") || !strings.Contains(errOut, "connection refused") {
			t.Fatalf("timeout does not give the last known state:\n%s", errOut)
		}
	})
}
