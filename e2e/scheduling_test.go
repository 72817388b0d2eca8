//go:build e2e

package e2e

import (
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// Pods the scheduler cannot place (TaskManagers asking for more CPU than any node has) are not a
// failure (a cluster autoscaler may add a node), but the waits say which pod and why, in the
// scheduler's words, in their progress and in the timeout's error: standalone TaskManagers at
// install, and the TaskManager pods Flink creates for a job in native mode.
func TestUnschedulablePodsAreNamed(t *testing.T) {
	t.Parallel()
	why := `cannot be scheduled: 0/\d+ nodes are available: .*Insufficient cpu`
	t.Run("standalone", func(t *testing.T) {
		t.Parallel()
		ns := newNamespace(t)
		_, errOut, code := newStandalone(t).run(t, "install", "flink", filepath.Join(env.root, "charts/flink-session"), "-n", ns,
			"--set", "tests.enabled=false", "--set", "taskmanager.cpu=100", "--timeout", "90s", "--atomic")
		progress := regexp.MustCompile(`(?m)^  taskmanager pods ready 0/2 \(pod flink-flink-session-taskmanager-\S+ ` + why)
		timeout := regexp.MustCompile(`(?m)^Error: .*0/2 pods ready \(.*\) \(pod flink-flink-session-taskmanager-\S+ ` + why)
		if code != 2 || !progress.MatchString(errOut) || !timeout.MatchString(errOut) {
			t.Fatalf("install with TaskManagers no node can take: exit %d, want 2 naming the pod and the scheduler's reason:\n%s", code, errOut)
		}
		assertNothingLeft(t, ns)
	})
	t.Run("native", func(t *testing.T) {
		t.Parallel()
		p, _ := newNativePlugin(t, "flink-session")
		chart := filepath.Join(env.root, "charts/flink-session")
		v := nativeVersions()[0]
		_, errOut, code := p.run(t, "install", "flink", chart, "-n", p.ns, "-f", filepath.Join(chart, "ci/native-values.yaml"),
			"--set", "image.tag="+v.tag, "--set", "native.minTaskManagers=0", "--set", "taskmanager.cpu=100",
			"--jar", exampleJar(v.release, "TopSpeedWindowing"), "--timeout", "90s")
		progress := regexp.MustCompile(`(?m)^  taskmanager pods: \d+ requested by Flink, 0 running \(pod flink-flink-session-taskmanager-1-\d+ ` + why)
		timeout := regexp.MustCompile(`(?m)^Error: .*waiting for job to run: last known state: job \S+ RUNNING, 0/\d+ tasks running; pod flink-flink-session-taskmanager-1-\d+ ` + why)
		if code != 2 || !progress.MatchString(errOut) || !timeout.MatchString(errOut) {
			t.Fatalf("a job whose TaskManager pods no node can take: exit %d, want 2 with the pods' reason in the progress and the error:\n%s", code, errOut)
		}
		start := time.Now()
		p.ok(t, "uninstall", "flink")
		assertNothingLeft(t, p.ns)
		t.Logf("uninstalled in %s", time.Since(start).Round(time.Millisecond))
	})
}
