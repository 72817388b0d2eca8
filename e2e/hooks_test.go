//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// The session chart's submit hook with plain `helm upgrade` and no plugin (what Flux does): an
// upgrade that keeps the JobManager stops nothing; one that replaces it stops the job with a
// savepoint first (pre-upgrade hook) and the post-upgrade hook resumes the job from it; with HA
// the new JobManager recovers the job from its checkpoint. A fresh job only on first install.

const hooksRelease = "flink-flink-session" // the release's full name

// Without HA: savepoints on the release's claim.
func TestHooksUpgradeKeepsJobWithoutHA(t *testing.T) {
	t.Parallel()
	ns := restrictedNamespace(t)
	defer dumpHookLogsOnFailure(t, ns)
	start := time.Now()
	r := installChart(t, ns, "flink-session", filepath.Join(env.root, "charts/flink-session/ci/submit-values.yaml"))
	rest := r.overview(t)
	job := hooksOneJob(t, rest)
	rest.waitAllTasksRunning(job, jobTimeout)
	claim := hooksClaimFolder(t, ns, hooksRelease+"-data")
	savepoints := filepath.Join(claim, "savepoints")
	t.Logf("install: job %s runs every task (%s)", job, time.Since(start).Round(time.Second))
	h := newHelm(t, "helm3")
	chart := filepath.Join(env.root, "charts/flink-session")

	// (1) Upgrades that keep the JobManager's pod template: the chart version, the TaskManagers.
	for _, c := range []struct {
		what  string
		chart string
		args  []string
		tms   int
	}{
		{"chart version bump", hooksBumpedChart(t), nil, 2},
		{"taskmanager.replicas=3", chart, []string{"--set", "taskmanager.replicas=3"}, 3},
	} {
		start := time.Now()
		jm := podUIDs(t, ns, releaseSel+"jobmanager")
		hooksUpgrade(t, h, ns, c.chart, c.args...)
		assertSamePods(t, "JobManager after the "+c.what, jm, podUIDs(t, ns, releaseSel+"jobmanager"))
		r.tm()["replicas"] = float64(c.tms)
		rest = r.overview(t)
		if got := hooksOneJob(t, rest); got != job {
			t.Fatalf("after the %s the job is %s, want %s still running", c.what, got, job)
		}
		rest.waitAllTasksRunning(job, jobTimeout)
		if sps := hooksSavepoints(t, savepoints); len(sps) != 0 {
			t.Fatalf("the %s took savepoints %v", c.what, sps)
		}
		hooksAssertSubmitted(t, ns, job)
		t.Logf("upgrade with the %s: JobManager kept, job %s runs on, no savepoint (%s)", c.what, job, time.Since(start).Round(time.Second))
	}

	// (2) A Flink configuration change replaces the JobManager. First the savepoint fails (a file
	// where its directory would be): the upgrade fails before anything changed and the job runs on.
	start = time.Now()
	configChange := []string{"--set-string", `flinkConfiguration.execution\.checkpointing\.interval=7s`}
	jm := podUIDs(t, ns, releaseSel+"jobmanager")
	if err := os.WriteFile(savepoints, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := h.run(t, append([]string{"upgrade", "flink", chart, "-n", ns, "--reuse-values"}, configChange...)...)
	if err == nil {
		t.Fatalf("the upgrade went on although the savepoint could not be written:\n%s", out)
	}
	if logs := hookLogs(t, ns, "-pre-upgrade-"); !strings.Contains(logs, "the savepoint of job "+job+" failed") {
		t.Fatalf("the failed pre-upgrade hook does not say why:\n%s\nhelm: %s", logs, out)
	}
	assertSamePods(t, "JobManager after the failed savepoint", jm, podUIDs(t, ns, releaseSel+"jobmanager"))
	if got := hooksOneJob(t, rest); got != job {
		t.Fatalf("after the failed savepoint the job is %s, want %s running on", got, job)
	}
	rest.waitAllTasksRunning(job, jobTimeout)
	if err := os.Remove(savepoints); err != nil {
		t.Fatal(err)
	}
	t.Logf("upgrade with a config change and a failing savepoint: refused before anything changed, job %s runs on (%s)", job, time.Since(start).Round(time.Second))

	// Then the job is stopped with a savepoint and resumed from it on the new JobManager.
	start = time.Now()
	hooksUpgrade(t, h, ns, chart, configChange...)
	hooksAssertReplaced(t, ns, jm)
	rest = r.overview(t)
	resumed := hooksOneJob(t, rest)
	if resumed == job {
		t.Fatalf("job %s still runs: the JobManager was not replaced", job)
	}
	rest.waitAllTasksRunning(resumed, jobTimeout)
	sps := hooksSavepoints(t, savepoints)
	if len(sps) != 1 || !strings.HasPrefix(sps[0], "savepoint-"+job[:6]+"-") {
		t.Fatalf("savepoints on the claim: %v, want the one of job %s", sps, job)
	}
	savepoint := "file:///flink-data/savepoints/" + sps[0]
	assertRestoredFrom(t, rest, resumed, savepoint)
	// The hook recorded it in the release's savepoint record, as the plugin would.
	if e := record(t, ns, "flink"); len(e) != 1 || filepath.Base(e[0].Path) != sps[0] || e[0].Reason != "upgrade" {
		t.Fatalf("the savepoint record after the hook stopped the job: %+v, want %s", e, sps[0])
	}
	hooksAssertSubmitted(t, ns, resumed)
	t.Logf("upgrade with a config change: JobManager replaced, job %s stopped with %s, resumed as %s from it (%s)",
		job, sps[0], resumed, time.Since(start).Round(time.Second))

	// (3) The job is gone (cancelled) and no upgrade stopped it: an upgrade does not start it from
	// scratch; with submit.fromSavepoint it resumes from the savepoint given.
	start = time.Now()
	rest.do(http.MethodPatch, "/jobs/"+resumed+"?mode=cancel", nil, "", nil)
	eventually(t, hooksTimeout(t, 30*time.Second), "job "+resumed+" is cancelled", func() (bool, string) {
		var d jobDetails
		rest.get("/jobs/"+resumed, &d)
		return d.State == "CANCELED", d.State
	})
	out, err = h.run(t, "upgrade", "flink", chart, "-n", ns, "--reuse-values")
	if err == nil {
		t.Fatalf("an upgrade started the cancelled job from scratch:\n%s", out)
	}
	if logs := hookLogs(t, ns, "-submit-"); !strings.Contains(logs, "starting it from scratch would") {
		t.Fatalf("the failed submit hook does not say why:\n%s\nhelm: %s", logs, out)
	}
	if got := hooksJobs(t, rest); len(got) != 1 || got[0].State != "CANCELED" {
		t.Fatalf("after the refused upgrade: jobs %+v, want only the cancelled one", got)
	}
	hooksUpgrade(t, h, ns, chart, "--set", "submit.fromSavepoint="+savepoint)
	again := hooksOneJob(t, rest)
	rest.waitAllTasksRunning(again, jobTimeout)
	assertRestoredFrom(t, rest, again, savepoint)
	t.Logf("upgrade after the job was cancelled: refused, then resumed as %s from submit.fromSavepoint (%s)", again, time.Since(start).Round(time.Second))

	hooksAssertSubmitted(t, ns, again)
	r.uninstall(t)
	if left := submitted(t, ns, "flink"); left != nil {
		t.Fatalf("the jobs record outlived the release: %v", left)
	}
}

// With Kubernetes HA: the new JobManager recovers the job from its latest checkpoint (same job
// id), no savepoint is taken, and the hook waits until it runs again.
func TestHooksUpgradeKeepsJobWithHA(t *testing.T) {
	t.Parallel()
	ns := restrictedNamespace(t)
	defer dumpHookLogsOnFailure(t, ns)
	start := time.Now()
	// One JobManager: on the stack a Service address resolves to one pod for a container's life,
	// which could be a standby.
	r := installChart(t, ns, "flink-session", filepath.Join(env.root, "charts/flink-session/ci/ha-values.yaml"),
		"submit.enabled=true", "submit.parallelism=2", "jobmanager.replicas=1", `flinkConfiguration.execution\.checkpointing\.interval=2s`)
	rest := r.overview(t)
	job := hooksOneJob(t, rest)
	rest.waitAllTasksRunning(job, jobTimeout)
	eventually(t, hooksTimeout(t, time.Minute), "job "+job+" completed a checkpoint", func() (bool, string) {
		var cps struct {
			Counts struct {
				Completed int `json:"completed"`
			} `json:"counts"`
		}
		rest.get("/jobs/"+job+"/checkpoints", &cps)
		return cps.Counts.Completed > 0, fmt.Sprint(cps.Counts)
	})
	claim := hooksClaimFolder(t, ns, hooksRelease+"-data")
	t.Logf("install with HA: job %s runs every task and checkpoints (%s)", job, time.Since(start).Round(time.Second))

	start = time.Now()
	jm := podUIDs(t, ns, releaseSel+"jobmanager")
	hooksUpgrade(t, newHelm(t, "helm3"), ns, filepath.Join(env.root, "charts/flink-session"),
		"--set-string", `flinkConfiguration.execution\.checkpointing\.interval=3s`)
	hooksAssertReplaced(t, ns, jm)
	rest = r.overview(t)
	if got := hooksOneJob(t, rest); got != job {
		t.Fatalf("after the upgrade the job is %s, want %s recovered", got, job)
	}
	rest.waitAllTasksRunning(job, jobTimeout)
	from := restoredFrom(rest, job)
	if from == nil || from.IsSavepoint {
		t.Fatalf("job %s was not restored from a checkpoint: %+v", job, from)
	}
	if sps := hooksSavepoints(t, filepath.Join(claim, "savepoints")); len(sps) != 0 {
		t.Fatalf("the upgrade took savepoints %v", sps)
	}
	t.Logf("upgrade with a config change and HA: JobManager replaced, job %s recovered from checkpoint %s (%s)",
		job, filepath.Base(from.ExternalPath), time.Since(start).Round(time.Second))
	r.uninstall(t)
}

// hooksUpgrade runs plain `helm upgrade --reuse-values` (Helm 3 CLI, no --wait: the hooks wait).
func hooksUpgrade(t *testing.T, h *helmCLI, ns, chart string, args ...string) {
	t.Helper()
	args = append([]string{"upgrade", "flink", chart, "-n", ns, "--reuse-values", "--timeout", "5m"}, args...)
	if out, err := h.run(t, args...); err != nil {
		t.Fatalf("helm %s: %v\n%s\nhooks:\n%s", strings.Join(args, " "), err, out, hookLogs(t, ns, ""))
	}
}

// hooksAssertReplaced waits until the JobManager pods before are replaced by running new ones.
func hooksAssertReplaced(t *testing.T, ns string, before map[string]types.UID) {
	t.Helper()
	eventually(t, hooksTimeout(t, podTimeout), "the JobManager is replaced", func() (bool, string) {
		after := podUIDs(t, ns, releaseSel+"jobmanager")
		for name, uid := range after {
			if before[name] == uid { // a StatefulSet's new pod has the old one's name
				return false, fmt.Sprint(after)
			}
		}
		return len(after) > 0, fmt.Sprint(after)
	})
}

type hooksJob struct {
	JID   string `json:"jid"`
	Name  string `json:"name"`
	State string `json:"state"`
}

func hooksJobs(t *testing.T, rest *flinkREST) []hooksJob {
	t.Helper()
	var jobs struct {
		Jobs []hooksJob `json:"jobs"`
	}
	rest.get("/jobs/overview", &jobs)
	return jobs.Jobs
}

// hooksOneJob is the id of the one job that is not finished, which must be the only job the
// JobManager knows apart from finished ones.
func hooksOneJob(t *testing.T, rest *flinkREST) string {
	t.Helper()
	var live []hooksJob
	for _, j := range hooksJobs(t, rest) {
		switch j.State {
		case "FINISHED", "CANCELED", "FAILED":
		default:
			live = append(live, j)
		}
	}
	if len(live) != 1 || live[0].Name != "CarTopSpeedWindowingExample" {
		t.Fatalf("jobs %+v, want one CarTopSpeedWindowingExample", live)
	}
	return live[0].JID
}

// hooksAssertSubmitted checks the jobs record the submit hook keeps: job, the one it submitted or
// found running, under the job's name, and no other of that name.
func hooksAssertSubmitted(t *testing.T, ns, job string) {
	t.Helper()
	if got := submitted(t, ns, "flink")["CarTopSpeedWindowingExample"]; len(got) != 1 || got[0] != job {
		t.Fatalf("the jobs record holds %v for CarTopSpeedWindowingExample, want %s", got, job)
	}
}

// hooksClaimFolder is the folder on this machine of a bound claim's volume.
func hooksClaimFolder(t *testing.T, ns, claim string) string {
	t.Helper()
	var folder string
	eventually(t, hooksTimeout(t, time.Minute), "claim "+claim+" is bound", func() (bool, string) {
		pvc, err := env.cs.CoreV1().PersistentVolumeClaims(ns).Get(t.Context(), claim, metav1.GetOptions{})
		if err != nil || pvc.Spec.VolumeName == "" {
			return false, fmt.Sprint(err)
		}
		pv, err := env.cs.CoreV1().PersistentVolumes().Get(t.Context(), pvc.Spec.VolumeName, metav1.GetOptions{})
		if err != nil || pv.Spec.HostPath == nil {
			return false, fmt.Sprintf("volume %s: %v", pvc.Spec.VolumeName, err)
		}
		folder = pv.Spec.HostPath.Path
		return true, ""
	})
	return folder
}

// hooksSavepoints lists the savepoints in a savepoint directory on this machine.
func hooksSavepoints(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "savepoint-") {
			out = append(out, e.Name())
		}
	}
	return out
}

// hooksBumpedChart is a copy of the session chart (the library inside, as make chart-deps built
// it) with the next minor version.
func hooksBumpedChart(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "flink-session")
	if err := hooksCopyDir(filepath.Join(env.root, "charts/flink-session"), dst); err != nil {
		t.Fatal(err)
	}
	md := filepath.Join(dst, "Chart.yaml")
	data, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	v := chartVersion(t, "flink-session")
	bumped := strings.Replace(string(data), "\nversion: "+v+"\n", "\nversion: 99.0.0\n", 1)
	if bumped == string(data) {
		t.Fatalf("no version %s in %s", v, md)
	}
	if err := os.WriteFile(md, []byte(bumped), 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

func hooksCopyDir(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
}

// hookLogs is the output of the namespace's hook pods whose name contains filter, as kubectl logs
// shows it: a failed hook's Job and pods stay (hook-delete-policy hook-succeeded).
func hookLogs(t *testing.T, ns, filter string) string {
	t.Helper()
	pods, err := env.cs.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, p := range pods.Items {
		if !strings.Contains(p.Name, "-submit-") && !strings.Contains(p.Name, "-pre-upgrade-") || !strings.Contains(p.Name, filter) {
			continue
		}
		// A hook's steps are init containers, then its container: the log of each that ran.
		for _, c := range append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...) {
			data, err := env.cs.CoreV1().Pods(ns).GetLogs(p.Name, &corev1.PodLogOptions{Container: c.Name}).DoRaw(t.Context())
			fmt.Fprintf(&b, "== %s %s\n%s", p.Name, c.Name, data)
			if err != nil {
				fmt.Fprintf(&b, "(%v)\n", err)
			}
		}
	}
	return b.String()
}

func dumpHookLogsOnFailure(t *testing.T, ns string) {
	if t.Failed() {
		t.Logf("hook logs:\n%s", hookLogs(t, ns, ""))
	}
}

func hooksTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}
