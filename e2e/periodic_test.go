//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The charts' periodic savepoints, no plugin: enabled with a plain `helm upgrade` on a running
// application (which restarts nothing), the CronJob (every minute here) takes a savepoint of the
// job each run and records it; with keep 1 the second run disposes of the first one's files
// through Flink and takes it out of the record. A run that finds no JobManager answering fails
// (and says so); here the job runs before the CronJob exists.
func TestPeriodicSavepointsKeepTheRetention(t *testing.T) {
	t.Parallel()
	ns := restrictedNamespace(t)
	chart := filepath.Join(env.root, "charts/flink-job")
	r := installChart(t, ns, "flink-job", filepath.Join(chart, "ci/default-values.yaml"), "persistence.enabled=true")
	r.jobRunning(t)
	jm := podUIDs(t, ns, releaseSel+"jobmanager")
	hooksUpgrade(t, newHelm(t, "helm3"), ns, chart, "--set", "periodicSavepoints.enabled=true", "--set", "periodicSavepoints.schedule=* * * * *", "--set", "periodicSavepoints.keep=1")
	assertSamePods(t, "JobManager after enabling periodic savepoints", jm, podUIDs(t, ns, releaseSel+"jobmanager"))
	claim := hooksClaimFolder(t, ns, "flink-flink-job-data")
	var seen []string
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	eventually(t, ctx, "two runs of the CronJob", func() (bool, string) {
		jobs, err := env.cs.BatchV1().Jobs(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=periodic-savepoints"})
		if err != nil {
			return false, err.Error()
		}
		if _, err := env.cs.CoreV1().ConfigMaps(ns).Get(t.Context(), "flink-flink-savepoints", metav1.GetOptions{}); err != nil {
			return false, "no savepoint record yet: " + err.Error()
		}
		var periodic []string
		for _, e := range record(t, ns, "flink") {
			if e.Reason == "periodic" {
				periodic = append(periodic, e.Path)
			}
		}
		for _, p := range periodic {
			if len(seen) == 0 || seen[len(seen)-1] != p {
				seen = append(seen, p)
			}
		}
		for _, j := range jobs.Items {
			if j.Status.Failed > 0 {
				pods, _ := env.cs.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "job-name=" + j.Name})
				var logs strings.Builder
				for _, p := range pods.Items {
					for _, c := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
						if c.State.Terminated != nil {
							fmt.Fprintf(&logs, "== %s %s (exit %d)\n%s", p.Name, c.Name, c.State.Terminated.ExitCode, podLogs(t, ns, p.Name, c.Name, false))
						}
					}
				}
				t.Fatalf("run %s of the CronJob failed:\n%s", j.Name, logs.String())
			}
		}
		return len(seen) >= 2 && len(periodic) == 1, strings.Join(periodic, ", ")
	})
	first := filepath.Join(claim, strings.TrimPrefix(strings.TrimPrefix(seen[0], "file:"), "/flink-data/"))
	last := filepath.Join(claim, strings.TrimPrefix(strings.TrimPrefix(seen[len(seen)-1], "file:"), "/flink-data/"))
	if _, err := os.Stat(first); !os.IsNotExist(err) {
		t.Fatalf("the first periodic savepoint %s outlived its disposal: %v", first, err)
	}
	if _, err := os.Stat(last); err != nil {
		t.Fatalf("the kept periodic savepoint %s: %v", last, err)
	}
	t.Logf("periodic savepoints taken %v; the record keeps %s", seen, seen[len(seen)-1])
}
