//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// promServer is the stack's Prometheus (ci/node/prometheus.yaml), reached at its pod's address.
type promServer struct{ addr string }

func stackPrometheus(t *testing.T) *promServer {
	t.Helper()
	pod := waitPods(t, "monitoring", "app=prometheus", podTimeout, "Prometheus", allReady(1))[0]
	return &promServer{addr: net.JoinHostPort(pod.Status.PodIP, "9090")}
}

// promSample is one series of an instant query's answer.
type promSample struct {
	Metric map[string]string
	Value  float64
}

// query evaluates PromQL now; an error is Prometheus refusing the query.
func (p *promServer) query(q string) ([]promSample, error) {
	resp, err := restClient.Get("http://" + p.addr + "/api/v1/query?" + url.Values{"query": {q}}.Encode())
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("%s: %v", resp.Status, err)
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("query %q: %s", q, body.Error)
	}
	var out []promSample
	for _, r := range body.Data.Result {
		s, _ := r.Value[1].(string)
		v, _ := strconv.ParseFloat(s, 64)
		out = append(out, promSample{r.Metric, v})
	}
	return out, nil
}

// readmeQueries are the PromQL alerts of the chart's README (its "Metrics" section): name → query.
func readmeQueries(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(env.root, "charts/flink-job/README.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	block := regexp.MustCompile("(?s)```promql\n(.*?)```").FindSubmatch(b)
	if block == nil {
		t.Fatal("charts/flink-job/README.md has no ```promql block")
	}
	name := ""
	for _, l := range strings.Split(string(block[1]), "\n") {
		switch {
		case strings.HasPrefix(l, "# "):
			name = strings.TrimSuffix(strings.TrimPrefix(l, "# "), ":")
		case strings.TrimSpace(l) != "" && name != "":
			out[name] += strings.TrimSpace(l) + " "
		}
	}
	if len(out) < 3 {
		t.Fatalf("the README's promql block names %d queries: %v", len(out), out)
	}
	return out
}

// The charts' metrics, scraped for real: a Prometheus in another namespace that finds pods only by
// Kubernetes service discovery and the prometheus.io/* annotations the charts render (let in by
// networkPolicy.metrics.namespaces) scrapes a running application's job metrics — uptime, last
// checkpoint duration and restarts from the JobManager, records in from the TaskManagers — in
// standalone mode (Flink 1.20) and native mode (Flink 2.x, TaskManager pods Flink creates). The
// README's alert queries evaluate, and stay silent for a healthy job.
func TestMetricsScraped(t *testing.T) {
	t.Parallel()
	prom := stackPrometheus(t)
	queries := readmeQueries(t)
	cases := []struct {
		mode string
		v    nativeVersion
	}{{"standalone", nativeVersions()[0]}, {"native", nativeVersions()[1]}}
	for _, tc := range cases {
		t.Run(tc.mode+"/"+tc.v.name, func(t *testing.T) {
			t.Parallel()
			ns := restrictedNamespace(t)
			s := newStandalone(t)
			chart := filepath.Join(env.root, "charts/flink-job")
			args := []string{"install", "app", chart, "-n", ns, "--set", "image.tag=" + tc.v.tag, "--set", "parallelism=2",
				"--set", "metrics.enabled=true", "--set", "networkPolicy.metrics.namespaces={monitoring}",
				"--set-string", `flinkConfiguration.execution\.checkpointing\.interval=2s`, "-o", "json"}
			if tc.mode == "native" {
				args = append(args, "-f", filepath.Join(chart, "ci/native-values.yaml"), "--set", "job.jobId=")
			}
			out, errOut, code := s.run(t, args...)
			if code != 0 {
				t.Fatalf("install: exit %d\n%s", code, errOut)
			}
			job := decode[cliInstall](t, out).Job.JobID
			jm := waitPods(t, ns, "app.kubernetes.io/component=jobmanager", podTimeout, "the JobManager", allReady(1))[0].Name
			pods := func(samples []promSample) []string {
				var out []string
				for _, s := range samples {
					if !slices.Contains(out, s.Metric["pod"]) {
						out = append(out, s.Metric["pod"])
					}
				}
				sort.Strings(out)
				return out
			}
			want := map[string]func([]promSample) string{
				// The JobManager: the job runs (uptime, or runningTime where uptime is gone), its
				// checkpoints, its restarts.
				`{__name__=~"flink_jobmanager_job_(uptime|runningTime)",namespace=%q,job_id=%q}`: func(s []promSample) string {
					if !slices.ContainsFunc(s, func(x promSample) bool { return x.Value > 0 && x.Metric["pod"] == jm }) {
						return fmt.Sprintf("no positive uptime from the JobManager %s: %v", jm, s)
					}
					return ""
				},
				`flink_jobmanager_job_lastCheckpointDuration{namespace=%q,job_id=%q}`: func(s []promSample) string {
					if len(s) == 0 {
						return "no checkpoint duration"
					}
					return ""
				},
				// (A starting job fails its first checkpoints: the alerts below are read once one
				// completed.)
				`flink_jobmanager_job_numberOfCompletedCheckpoints{namespace=%q,job_id=%q}`: func(s []promSample) string {
					if len(s) == 0 || s[0].Value < 1 {
						return "no completed checkpoint counted"
					}
					return ""
				},
				`flink_jobmanager_job_numRestarts{namespace=%q,job_id=%q}`: func(s []promSample) string {
					if len(s) == 0 || s[0].Value != 0 {
						return "no restart count of 0"
					}
					return ""
				},
				// The TaskManagers: records their tasks took in (the one that runs tasks), and the
				// TaskManager's own metrics from every TaskManager pod.
				`sum by (pod) (flink_taskmanager_job_task_numRecordsIn{namespace=%q,job_id=%q})`: func(s []promSample) string {
					if !slices.ContainsFunc(s, func(x promSample) bool { return x.Value > 0 && strings.Contains(x.Metric["pod"], "taskmanager") }) {
						return fmt.Sprintf("no records in from a TaskManager: %v", s)
					}
					return ""
				},
				`flink_taskmanager_Status_JVM_Memory_Heap_Used{namespace=%q}%.0s`: func(s []promSample) string {
					if p := pods(s); len(p) < 2 {
						return fmt.Sprintf("TaskManager metrics from %v, want 2 TaskManager pods", p)
					}
					return ""
				},
			}
			seen := map[string][]promSample{}
			eventually(t, timeout(t, 3*time.Minute), "Prometheus scraped the job's metrics", func() (bool, string) {
				var missing []string
				for q, check := range want {
					res, err := prom.query(fmt.Sprintf(q, ns, job))
					if err != nil {
						t.Fatal(err)
					}
					if why := check(res); why != "" {
						missing = append(missing, why)
						continue
					}
					seen[q] = res
				}
				return len(missing) == 0, strings.Join(missing, "; ")
			})
			for q, res := range seen {
				t.Logf("%s: %d series from %v, e.g. %s = %g", fmt.Sprintf(q, ns, job), len(res), pods(res), res[0].Metric["__name__"], res[0].Value)
			}
			// The README's alerts: every metric they read is scraped for this release, and none
			// fires for a healthy job.
			for name, q := range queries {
				for _, metric := range regexp.MustCompile(`flink_[A-Za-z_]+`).FindAllString(q, -1) {
					if res, err := prom.query(fmt.Sprintf(`%s{namespace=%q}`, metric, ns)); err != nil || len(res) == 0 {
						t.Fatalf("the README's %q reads %s, which Prometheus has not scraped from the release (%v)", name, metric, err)
					}
				}
				res, err := prom.query(q)
				if err != nil {
					t.Fatalf("the README's %q: %v", name, err)
				}
				for _, r := range res {
					if r.Metric["namespace"] == ns {
						t.Fatalf("the README's %q fires for a healthy job: %v = %g\n%s", name, r.Metric, r.Value, q)
					}
				}
			}
			// … and "Job down" fires once the job is cancelled.
			if _, errOut, code := s.run(t, "cancel", "app", job, "-n", ns); code != 0 {
				t.Fatalf("cancel: exit %d\n%s", code, errOut)
			}
			eventually(t, timeout(t, time.Minute), "the README's Job down fires", func() (bool, string) {
				res, err := prom.query(queries["Job down"])
				if err != nil {
					t.Fatal(err)
				}
				return slices.ContainsFunc(res, func(r promSample) bool { return r.Metric["namespace"] == ns }), fmt.Sprintf("%d series", len(res))
			})
			if all, _ := prom.query(fmt.Sprintf(`count by (__name__) ({__name__=~"flink_(jobmanager|taskmanager)_.*",namespace=%q})`, ns)); len(all) > 0 {
				t.Logf("%d Flink metrics scraped from the release", len(all))
			}
			s.run(t, "uninstall", "app", "-n", ns)
		})
	}
}
