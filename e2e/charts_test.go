//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/getter"
	helmrelease "helm.sh/helm/v3/pkg/release"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/dynamic"
)

// helmConfig is the Helm SDK pointed at the stack, for one namespace.
func helmConfig(t *testing.T, ns string) *action.Configuration {
	t.Helper()
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig, flags.Namespace = &env.kubeconfig, &ns
	cfg := new(action.Configuration)
	if err := cfg.Init(flags, ns, "secret", func(string, ...any) {}); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// dryRunStrict sends every object of a manifest to the API server as a server-side dry run with
// strict field validation: unknown or duplicate fields and admission (Pod Security) fail it.
func dryRunStrict(t *testing.T, ns, manifest string) {
	t.Helper()
	forEachObject(t, ns, manifest, func(u *unstructured.Unstructured, r dynamic.ResourceInterface) {
		if _, err := r.Create(t.Context(), u, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict"}); err != nil {
			t.Fatalf("server-side dry run of %s %s: %v", u.GetKind(), u.GetName(), err)
		}
	})
}

// restrictedNamespace is a test namespace that enforces Pod Security Standard restricted.
func restrictedNamespace(t *testing.T) string {
	ns := newNamespace(t)
	patch := `{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"restricted","pod-security.kubernetes.io/enforce-version":"latest"}}}`
	if _, err := env.cs.CoreV1().Namespaces().Patch(t.Context(), ns, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	return ns
}

// Every values set of the session chart: server dry run, install, real Flink boots with the
// rendered config, uninstall leaves nothing.
func TestSessionChartValuesSets(t *testing.T) {
	installPodMonitorCRD(t)
	for _, file := range valuesSets(t, "flink-session") {
		t.Run(setName(file), func(t *testing.T) {
			ns := restrictedNamespace(t)
			r := installChart(t, ns, "flink-session", file)
			r.overview(t)
			if r.values["tests"].(map[string]any)["enabled"] == true {
				r.helmTest(t)
			}
			if r.values["submit"].(map[string]any)["enabled"] == true {
				// The post-install hook (which Helm waited for) left the job running on all tasks.
				rest := r.overview(t)
				var jobs struct {
					Jobs []struct {
						JID   string `json:"jid"`
						Name  string `json:"name"`
						State string `json:"state"`
					} `json:"jobs"`
				}
				rest.get("/jobs/overview", &jobs)
				if len(jobs.Jobs) != 1 || jobs.Jobs[0].State != "RUNNING" {
					t.Fatalf("after the submit hook: jobs %+v, want one RUNNING", jobs.Jobs)
				}
				rest.waitAllTasksRunning(jobs.Jobs[0].JID, 10*time.Second)
				// An upgrade runs the hook again: the running job is not submitted twice.
				upgrade := action.NewUpgrade(r.cfg)
				upgrade.Namespace, upgrade.Wait, upgrade.Timeout, upgrade.ReuseValues = r.ns, true, 3*time.Minute, true
				ch, err := loader.Load(filepath.Join(env.root, "charts", r.chart))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := upgrade.Run("flink", ch, map[string]any{}); err != nil {
					t.Fatalf("upgrade: %v", err)
				}
				rest.get("/jobs/overview", &jobs)
				if len(jobs.Jobs) != 1 {
					t.Fatalf("after an upgrade: %d jobs, want the one job", len(jobs.Jobs))
				}
			}
			r.uninstall(t)
		})
	}
}

// Every values set of the per-job chart: the application's job reaches RUNNING with all tasks.
// The savepoint set starts from a savepoint the default set's job really stopped with.
func TestJobChartValuesSets(t *testing.T) {
	for _, file := range valuesSets(t, "flink-job") {
		name := setName(file)
		if name == "savepoint" {
			continue // TestJobChartFromSavepoint
		}
		t.Run(name, func(t *testing.T) {
			ns := restrictedNamespace(t)
			r := installChart(t, ns, "flink-job", file)
			rest, _ := r.jobRunning(t)
			if r.values["reactiveMode"] == true {
				// Reactive mode: the job scales to the slots there are (3 TaskManagers × 1 slot),
				// rescaling once the TaskManagers that came after its start are stable.
				// TopSpeedWindowing's source is non-parallel; its window operator scales.
				ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
				defer cancel()
				eventually(t, ctx, fmt.Sprintf("the job runs on all %d slots", r.slots()), func() (bool, string) {
					d := rest.waitAllTasksRunning(r.jobID(t), jobTimeout)
					most := 0
					for _, v := range d.Vertices {
						most = max(most, v.Parallelism)
					}
					return most == r.slots(), fmt.Sprintf("largest vertex parallelism %d", most)
				})
			}
			r.uninstall(t)
		})
	}
}

func TestJobChartFromSavepoint(t *testing.T) {
	ns := restrictedNamespace(t)
	// The savepoint goes to the configured state.savepoints.dir, a path on the namespace's shared
	// volume, as a platform would set it up.
	first := installChart(t, ns, "flink-job", filepath.Join(env.root, "charts/flink-job/ci/default-values.yaml"),
		"flinkConfiguration.state\\.savepoints\\.dir=file:///flink-data/savepoints")
	rest, _ := first.jobRunning(t)
	savepoint := stopWithSavepoint(t, rest, first.jobID(t))
	first.uninstall(t)

	r := installChart(t, ns, "flink-job", filepath.Join(env.root, "charts/flink-job/ci/savepoint-values.yaml"),
		"job.fromSavepoint="+savepoint)
	rest, _ = r.jobRunning(t)
	var cps struct {
		Latest struct {
			Restored *struct {
				ExternalPath string `json:"external_path"`
				IsSavepoint  bool   `json:"is_savepoint"`
			} `json:"restored"`
		} `json:"latest"`
	}
	rest.get("/jobs/"+r.jobID(t)+"/checkpoints", &cps)
	if cps.Latest.Restored == nil || !cps.Latest.Restored.IsSavepoint || !strings.HasSuffix(cps.Latest.Restored.ExternalPath, filepath.Base(savepoint)) {
		t.Fatalf("job did not restore from %s: %+v", savepoint, cps.Latest.Restored)
	}
	r.uninstall(t)
}

func valuesSets(t *testing.T, chart string) []string {
	files, _ := filepath.Glob(filepath.Join(env.root, "charts", chart, "ci/*-values.yaml"))
	if len(files) == 0 {
		t.Fatalf("%s has no values sets", chart)
	}
	return files
}

func setName(file string) string { return strings.TrimSuffix(filepath.Base(file), "-values.yaml") }

// release is a chart installed by a test.
type release struct {
	ns, chart string
	cfg       *action.Configuration
	values    map[string]any // coalesced
}

func installChart(t *testing.T, ns, chart, file string, set ...string) *release {
	t.Helper()
	ch, err := loader.Load(filepath.Join(env.root, "charts", chart))
	if err != nil {
		t.Fatal(err)
	}
	vals, err := (&values.Options{ValueFiles: []string{file}, Values: set}).MergeValues(getter.Providers{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := helmConfig(t, ns)
	dry := action.NewInstall(cfg)
	dry.ReleaseName, dry.Namespace, dry.DryRun, dry.DryRunOption = "flink", ns, true, "server"
	rel, err := dry.Run(ch, vals)
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	dryRunStrict(t, ns, rel.Manifest)

	install := action.NewInstall(cfg)
	install.ReleaseName, install.Namespace = "flink", ns
	install.Wait, install.Timeout = true, 3*time.Minute
	if _, err := install.Run(ch, vals); err != nil {
		t.Fatalf("install: %v", err)
	}
	all, err := chartutil.CoalesceValues(ch, vals)
	if err != nil {
		t.Fatal(err)
	}
	return &release{ns: ns, chart: chart, cfg: cfg, values: all}
}

func (r *release) tm() map[string]any { return r.values["taskmanager"].(map[string]any) }

func (r *release) slots() int {
	return int(r.tm()["replicas"].(float64)) * int(r.tm()["numberOfTaskSlots"].(float64))
}

const releaseSel = "app.kubernetes.io/instance=flink,app.kubernetes.io/component="

// overview waits for the pods and for every TaskManager to register with the leading JobManager.
func (r *release) overview(t *testing.T) *flinkREST {
	t.Helper()
	tms := int(r.tm()["replicas"].(float64))
	jm := waitPods(t, r.ns, releaseSel+"jobmanager", podTimeout, "JobManagers ready", func(p []corev1.Pod) bool { return len(p) > 0 && allReady(len(p))(p) })
	waitPods(t, r.ns, releaseSel+"taskmanager", podTimeout, "TaskManagers ready", allReady(tms))
	leader := jm[0].Name
	if len(jm) > 1 {
		leader = haLeader(t, r.ns, jm)
	}
	rest := forwardREST(t, r.ns, leader)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	eventually(t, ctx, fmt.Sprintf("%d TaskManagers with %d slots registered", tms, r.slots()), func() (bool, string) {
		var o overview
		if err := rest.try(http.MethodGet, "/overview", nil, "", &o); err != nil {
			return false, err.Error()
		}
		return o.TaskManagers == tms && o.SlotsTotal == r.slots(), fmt.Sprintf("%+v", o)
	})
	return rest
}

func (r *release) jobID(t *testing.T) string {
	t.Helper()
	if id, _ := r.values["job"].(map[string]any)["jobId"].(string); id != "" {
		return id
	}
	rel, err := action.NewGet(r.cfg).Run("flink")
	if err != nil {
		t.Fatal(err)
	}
	m := jobIDArg.FindStringSubmatch(rel.Manifest)
	if m == nil {
		t.Fatal("no --job-id in the release's manifest")
	}
	return m[1]
}

var jobIDArg = regexp.MustCompile(`- --job-id\n\s+- "?([0-9a-f]{32})"?`)

func (r *release) jobRunning(t *testing.T) (*flinkREST, jobDetails) {
	t.Helper()
	rest := r.overview(t)
	return rest, rest.waitAllTasksRunning(r.jobID(t), jobTimeout)
}

// helmTest runs `helm test`: its pod checks the REST API through the Service for real.
func (r *release) helmTest(t *testing.T) {
	t.Helper()
	test := action.NewReleaseTesting(r.cfg)
	test.Namespace, test.Timeout = r.ns, 2*time.Minute
	rel, err := test.Run("flink")
	if err != nil {
		t.Fatalf("helm test: %v", err)
	}
	ran := 0
	for _, h := range rel.Hooks {
		if !slices.Contains(h.Events, helmrelease.HookTest) {
			continue
		}
		ran++
		if h.LastRun.Phase != helmrelease.HookPhaseSucceeded {
			t.Fatalf("helm test hook %s: %s", h.Name, h.LastRun.Phase)
		}
	}
	if ran == 0 {
		t.Fatal("helm test ran no test")
	}
}

func (r *release) uninstall(t *testing.T) {
	t.Helper()
	uninstall := action.NewUninstall(r.cfg)
	uninstall.Wait, uninstall.Timeout = true, 2*time.Minute
	if _, err := uninstall.Run("flink"); err != nil {
		t.Fatalf("uninstall: %v", err)
	}
	assertNothingLeft(t, r.ns)
}

// stopWithSavepoint stops a job with a savepoint into its configured savepoint dir and returns
// the savepoint's path as the pods see it.
func stopWithSavepoint(t *testing.T, rest *flinkREST, jobID string) string {
	t.Helper()
	var trig struct {
		RequestID string `json:"request-id"`
	}
	rest.do(http.MethodPost, "/jobs/"+jobID+"/stop", strings.NewReader(`{"drain":false}`), "application/json", &trig)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var location string
	eventually(t, ctx, "the savepoint completes", func() (bool, string) {
		var st struct {
			Status struct {
				ID string `json:"id"`
			} `json:"status"`
			Operation struct {
				Location     string `json:"location"`
				FailureCause *struct {
					Class      string `json:"class"`
					StackTrace string `json:"stack-trace"`
				} `json:"failure-cause"`
			} `json:"operation"`
		}
		rest.get("/jobs/"+jobID+"/savepoints/"+trig.RequestID, &st)
		if st.Operation.FailureCause != nil {
			t.Fatalf("savepoint failed: %s", st.Operation.FailureCause.StackTrace)
		}
		location = st.Operation.Location
		return st.Status.ID == "COMPLETED", st.Status.ID
	})
	// The pod runner keeps a namespace's shared volume under .../shared/<namespace>; pods see /.
	i := strings.Index(location, "/flink-data/savepoints/")
	if i < 0 || !strings.Contains(location, "/shared/") {
		t.Fatalf("savepoint %q is not in the namespace's shared /flink-data/savepoints", location)
	}
	if _, err := os.Stat(strings.TrimPrefix(location, "file:")); err != nil {
		t.Fatalf("savepoint directory is not on disk: %v", err)
	}
	return "file://" + location[i:]
}

// haLeader is the JobManager pod that leads (the others are standbys without a REST leader).
func haLeader(t *testing.T, ns string, jms []corev1.Pod) string {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var leader string
	eventually(t, ctx, "a JobManager leads", func() (bool, string) {
		for _, p := range processes(t, ns) {
			if p.Role != "jobmanager" || !p.Ready {
				continue
			}
			for _, pod := range jms {
				if pod.Name == p.Pod && leaderAt(p.Ports["rest.port"]) {
					leader = pod.Name
					return true, ""
				}
			}
		}
		return false, "no leader yet"
	})
	return leader
}

func assertNothingLeft(t *testing.T, ns string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	eventually(t, ctx, "no object of the release is left", func() (bool, string) {
		var left []string
		pods, _ := env.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		for _, p := range pods.Items {
			left = append(left, "pod/"+p.Name)
		}
		cms, _ := env.cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
		for _, c := range cms.Items {
			if c.Name != "kube-root-ca.crt" {
				left = append(left, "configmap/"+c.Name)
			}
		}
		svcs, _ := env.cs.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
		for _, s := range svcs.Items {
			left = append(left, "service/"+s.Name)
		}
		secrets, _ := env.cs.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
		for _, s := range secrets.Items {
			left = append(left, "secret/"+s.Name)
		}
		return len(left) == 0, strings.Join(left, ", ")
	})
}

func installPodMonitorCRD(t *testing.T) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(env.root, "e2e/testdata/podmonitor-crd.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	apply(t, "", string(data))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	eventually(t, ctx, "the PodMonitor API is served", func() (bool, string) {
		_, err := env.cs.Discovery().ServerResourcesForGroupVersion("monitoring.coreos.com/v1")
		return err == nil, fmt.Sprint(err)
	})
}
