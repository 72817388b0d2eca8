//go:build e2e

package e2e

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/getter"
	helmrelease "helm.sh/helm/v3/pkg/release"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/dynamic"

	"github.com/helm-flink/helm-flink/plugin/kube"

	"github.com/helm-flink/helm-flink/plugin/chartdir"
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
func restrictedNamespace(t testing.TB) string { return restrict(t, newNamespace(t)) }

// restrict makes a namespace enforce Pod Security Standard restricted.
func restrict(t testing.TB, ns string) string {
	patch := `{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"restricted","pod-security.kubernetes.io/enforce-version":"latest"}}}`
	if _, err := env.cs.CoreV1().Namespaces().Patch(t.Context(), ns, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	return ns
}

// Every values set of the session chart on real containers: server dry run, install, Flink boots
// with the rendered config under the image's entrypoint and scripts, uninstall leaves nothing.
// On Flink 2.x a jar runs over REST on Java 17 with every task RUNNING (Flink 1.20's does in the
// plugin's tests, native mode's in TestNativeSession).
func TestSessionChartValuesSets(t *testing.T) {
	t.Parallel()
	installPodMonitorCRD(t)
	for _, file := range valuesSets(t, "flink-session") {
		t.Run(setName(file), func(t *testing.T) {
			t.Parallel()
			ns := restrictedNamespace(t)
			r := installChart(t, ns, "flink-session", file)
			rest := r.overview(t)
			if setName(file) == "flink2" {
				o := rest.overview()
				if o.FlinkVersion != env.versions["FLINK2_VERSION"] {
					t.Fatalf("flink-version %q, want %q", o.FlinkVersion, env.versions["FLINK2_VERSION"])
				}
				rest.waitAllTasksRunning(rest.run(rest.upload(exampleJar(o.FlinkVersion, "TopSpeedWindowing")), 2), nodeTimeout)
			}
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
				ch, err := chartdir.Load(filepath.Join(env.root, "charts", r.chart))
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

// Every values set of the per-job chart on real containers: the application's job reaches
// RUNNING with all tasks.
// The savepoint set starts from a savepoint the default set's job really stopped with.
func TestJobChartValuesSets(t *testing.T) {
	t.Parallel()
	for _, file := range valuesSets(t, "flink-job") {
		name := setName(file)
		if name == "savepoint" || name == "http-jar" {
			continue // TestJobChartFromSavepoint, TestJobChartHTTPJar
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
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
					most := rest.waitAllTasksRunning(r.jobID(t), jobTimeout).parallelism()
					return most == r.slots(), fmt.Sprintf("largest vertex parallelism %d", most)
				})
			}
			r.uninstall(t)
		})
	}
}

func TestJobChartFromSavepoint(t *testing.T) {
	t.Parallel()
	ns := restrictedNamespace(t)
	// The savepoint goes to the default state.savepoints.dir on the release's claim, which the
	// uninstall keeps (persistence.keepOnUninstall) for the reinstall to start from.
	first := installChart(t, ns, "flink-job", filepath.Join(env.root, "charts/flink-job/ci/default-values.yaml"),
		"persistence.enabled=true", "persistence.size=1Gi")
	rest, _ := first.jobRunning(t)
	const claim = "flink-flink-job-data"
	savepoint := stopWithSavepoint(t, rest, first.jobID(t), ns, claim)
	first.uninstall(t)
	if _, err := env.cs.CoreV1().PersistentVolumeClaims(ns).Get(t.Context(), claim, metav1.GetOptions{}); err != nil {
		t.Fatalf("the uninstall did not keep claim %s: %v", claim, err)
	}

	r := installChart(t, ns, "flink-job", filepath.Join(env.root, "charts/flink-job/ci/savepoint-values.yaml"),
		"job.fromSavepoint="+savepoint, "persistence.existingClaim="+claim)
	rest, _ = r.jobRunning(t)
	assertRestoredFrom(t, rest, r.jobID(t), savepoint)
	r.uninstall(t)
	if err := env.cs.CoreV1().PersistentVolumeClaims(ns).Delete(t.Context(), claim, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}

// The http-jar values set: every Flink pod's init container really downloads the jar from the
// stack's jar server through its Service and checks its sha256; the JVMs run the job from that
// download. A wrong sha256 stops the pods before Flink starts.
func TestJobChartHTTPJar(t *testing.T) {
	t.Parallel()
	sums := jarServer(t)
	file := filepath.Join(env.root, "charts/flink-job/ci/http-jar-values.yaml")

	t.Run("the job runs from the jar the init containers fetched", func(t *testing.T) {
		ns := restrictedNamespace(t)
		r := installChart(t, ns, "flink-job", file)
		job := r.values["job"].(map[string]any)
		want, jar := job["jarSHA256"].(string), path.Base(job["jarURI"].(string))
		if want != sums[jar] {
			t.Fatalf("http-jar-values.yaml has jarSHA256 %s, but the jar server's %s (Flink %s) has %s",
				want, jar, env.versions["FLINK2_VERSION"], sums[jar])
		}
		rest, d := r.jobRunning(t)
		if len(d.Vertices) < 2 {
			t.Fatalf("WindowJoin has %d vertices, want its sources, join and sink", len(d.Vertices))
		}
		// The TaskManagers that run the job's tasks (a TaskManager's resource id is its pod's name).
		running := map[string]bool{}
		for _, v := range d.Vertices {
			var tms struct {
				TaskManagers []struct {
					ID string `json:"taskmanager-id"`
				} `json:"taskmanagers"`
			}
			rest.get("/jobs/"+r.jobID(t)+"/vertices/"+v.ID+"/taskmanagers", &tms)
			for _, tm := range tms.TaskManagers {
				running[tm.ID] = true
			}
		}
		if len(running) == 0 {
			t.Fatal("no TaskManager runs a task of the job")
		}
		pods, err := env.cs.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=flink"})
		if err != nil {
			t.Fatal(err)
		}
		checked := 0
		for _, pod := range pods.Items {
			role := pod.Labels["app.kubernetes.io/component"]
			if role != "jobmanager" && role != "taskmanager" {
				continue
			}
			checked++
			init := pod.Status.InitContainerStatuses
			if len(init) != 1 || init[0].Name != "fetch-jar" || init[0].State.Terminated == nil || init[0].State.Terminated.ExitCode != 0 {
				t.Fatalf("%s: init containers %+v, want fetch-jar terminated with 0", pod.Name, init)
			}
			logs := containerLogs(t, ns, pod.Name, "fetch-jar")
			if !strings.Contains(logs, "/usrlib/"+jar+": OK") {
				t.Fatalf("%s: fetch-jar's log has no passed checksum:\n%s", pod.Name, logs)
			}
			// The Flink container's usrlib holds the download and nothing else (the image's own
			// example jars are not there), with the checked sha256.
			usrlib := "/opt/flink/usrlib/"
			main := pod.Spec.Containers[0].Name
			out, err := execIn(t, ns, pod.Name, main, "sh", "-c", "ls -A "+usrlib+" && test -f "+usrlib+jar+" && sha256sum "+usrlib+jar)
			if err != nil || out != jar+"\n"+want+"  "+usrlib+jar+"\n" {
				t.Fatalf("%s: usrlib holds %q (%v), want only the fetched %s with sha256 %s", pod.Name, out, err, jar, want)
			}
			// The JobManager's JVM, and a TaskManager's that runs tasks, loads the job's classes
			// from that very file.
			if role == "jobmanager" || running[pod.Name] {
				out, err := execIn(t, ns, pod.Name, main, "sh", "-c", "for p in /proc/[0-9]*; do ls -l $p/fd 2>/dev/null; done")
				if err != nil || !strings.Contains(out, "-> "+usrlib+jar+"\n") {
					t.Fatalf("%s: no process of the %s container has %s open (%v):\n%s", pod.Name, role, usrlib+jar, err, out)
				}
			}
		}
		if checked != 1+int(r.tm()["replicas"].(float64)) {
			t.Fatalf("checked %d Flink pods, want the JobManager and every TaskManager", checked)
		}
		r.uninstall(t)
	})

	t.Run("a wrong sha256 fails the init containers and Flink never starts", func(t *testing.T) {
		ns := restrictedNamespace(t)
		wrong := strings.Repeat("0", 64)
		r := install(t, ns, "flink-job", file, false, "job.jarSHA256="+wrong)
		tms := int(r.tm()["replicas"].(float64))
		// kubectl would show Init:Error, then Init:CrashLoopBackOff: the fetcher ran, exited with
		// sha256sum's 1 and was restarted, while the Flink container waited, never started.
		var started []string
		pods := waitPods(t, ns, "app.kubernetes.io/instance=flink", podTimeout, "every Flink pod's fetch-jar failed and restarted", func(pods []corev1.Pod) bool {
			failed := 0
			for _, p := range pods {
				if c := p.Status.ContainerStatuses; len(c) > 0 && (c[0].State.Running != nil || c[0].State.Terminated != nil || c[0].RestartCount > 0) {
					started = append(started, p.Name)
				}
				init := p.Status.InitContainerStatuses
				if len(init) == 1 && init[0].RestartCount >= 1 && init[0].LastTerminationState.Terminated != nil {
					failed++
				}
			}
			return len(pods) == 1+tms && failed == len(pods)
		})
		if len(started) > 0 {
			t.Fatalf("Flink containers started although fetch-jar failed: %v", started)
		}
		for _, pod := range pods {
			init := pod.Status.InitContainerStatuses[0]
			term := init.LastTerminationState.Terminated
			if term.ExitCode != 1 || term.Reason != "Error" {
				t.Fatalf("%s: fetch-jar ended %+v, want sha256sum's exit code 1", pod.Name, term)
			}
			c := pod.Status.ContainerStatuses[0]
			if pod.Status.Phase != corev1.PodPending || c.State.Waiting == nil || c.State.Waiting.Reason != "PodInitializing" || (c.Started != nil && *c.Started) {
				t.Fatalf("%s: phase %s, container %+v; want Pending with the container waiting in PodInitializing", pod.Name, pod.Status.Phase, c.State)
			}
			for _, cond := range pod.Status.Conditions {
				if cond.Type == corev1.PodInitialized && cond.Status != corev1.ConditionFalse {
					t.Fatalf("%s: Initialized is %s", pod.Name, cond.Status)
				}
			}
			// The download happened (sha256sum read the file: a missing one says "FAILED open or
			// read"); the check is what stopped the pod. The pod's status tells (the chart's
			// FallbackToLogsOnError): the failed container's log may be gone with it when the
			// kubelet has restarted it since.
			if !strings.Contains(term.Message, "WindowJoin.jar: FAILED\n") {
				t.Fatalf("%s: fetch-jar's termination message has no failed checksum of a downloaded jar:\n%s", pod.Name, term.Message)
			}
		}
		r.uninstall(t)
	})
}

// jarServer runs the stack's jar repository (ci/smoke/jar-server.yaml) in namespace flink-jars,
// serving the example jars of FLINK2_VERSION, and returns their sha256s by file name.
// jarServerInUse keeps the tests that serve jars from namespace flink-jars apart.
var jarServerInUse sync.Mutex

func jarServer(t *testing.T) map[string]string {
	t.Helper()
	const ns = "flink-jars"
	// One test at a time has the namespace: the lock goes after the namespace's own cleanup.
	jarServerInUse.Lock()
	t.Cleanup(jarServerInUse.Unlock)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	eventually(t, ctx, "namespace "+ns+" of an earlier run is gone", func() (bool, string) {
		_, err := env.cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
	createNamespace(t, ns)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "jars"}, BinaryData: map[string][]byte{}}
	sums := map[string]string{}
	for _, name := range []string{"TopSpeedWindowing", "WindowJoin", "WordCount"} {
		data, err := os.ReadFile(exampleJar(env.versions["FLINK2_VERSION"], name))
		if err != nil {
			t.Fatal(err)
		}
		cm.BinaryData[name+".jar"] = data
		sums[name+".jar"] = fmt.Sprintf("%x", sha256.Sum256(data))
	}
	if _, err := env.cs.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	applyFile(t, ns, "jar-server.yaml", nil)
	waitPods(t, ns, "app=jars", podTimeout, "the jar server is ready", allReady(1))
	return sums
}

func containerLogs(t *testing.T, ns, pod, container string) string {
	t.Helper()
	data, err := env.cs.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{Container: container}).DoRaw(t.Context())
	if err != nil {
		t.Fatalf("logs of %s/%s -c %s: %v", ns, pod, container, err)
	}
	return string(data)
}

// grepLines keeps the lines of text that contain any of words: a failure message with the log
// lines that explain it, not the whole log.
func grepLines(text string, words ...string) string {
	var keep []string
	for _, l := range strings.Split(text, "\n") {
		for _, w := range words {
			if strings.Contains(l, w) {
				keep = append(keep, l)
				break
			}
		}
	}
	return strings.Join(keep, "\n")
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
	return install(t, ns, chart, file, true, set...)
}

// install installs a chart, waiting for its pods to be ready when wait is set.
func install(t *testing.T, ns, chart, file string, wait bool, set ...string) *release {
	t.Helper()
	ch, err := chartdir.Load(filepath.Join(env.root, "charts", chart))
	if err != nil {
		t.Fatal(err)
	}
	// Sized for the node first, as forNode sizes the CLI's releases: the test's own values win,
	// and a values file that sizes memory keeps its sizes.
	fileVals, err := (&values.Options{ValueFiles: []string{file}}).MergeValues(getter.Providers{})
	if err != nil {
		t.Fatal(err)
	}
	sized := onNode(chart)
	for _, m := range nodeMemory {
		component, _, _ := strings.Cut(m, ".")
		if _, ok := dig(fileVals, component, "memoryProcessSize"); !ok {
			sized = append(sized, m)
		}
	}
	vals, err := (&values.Options{ValueFiles: []string{file}, Values: append(sized, set...)}).MergeValues(getter.Providers{})
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

	in := action.NewInstall(cfg)
	in.ReleaseName, in.Namespace = "flink", ns
	in.Wait, in.Timeout = wait, 3*time.Minute
	if _, err := in.Run(ch, vals); err != nil {
		t.Fatalf("install: %v", err)
	}
	all, err := chartutil.CoalesceValues(ch, vals)
	if err != nil {
		t.Fatal(err)
	}
	return &release{ns: ns, chart: chart, cfg: cfg, values: all}
}

// dig is the value at path in vals.
func dig(vals map[string]any, path ...string) (any, bool) {
	var v any = vals
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[p]; !ok {
			return nil, false
		}
	}
	return v, true
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

// stopWithSavepoint stops a job with a savepoint into its configured savepoint dir on the
// release's claim (persistence, mounted at /flink-data), checks the savepoint on the claim's
// folder and returns it as a file:// URI.
func stopWithSavepoint(t *testing.T, rest *flinkREST, jobID, ns, claim string) string {
	t.Helper()
	sp := stopWithSavepointTo(t, rest, jobID, "")
	assertOnClaim(t, ns, claim, sp)
	return "file://" + sp
}

// assertOnClaim checks that a savepoint (as Flink reports it: /x, file:/x or file:///x) is on
// the claim the release mounts at /flink-data, with its _metadata.
func assertOnClaim(t *testing.T, ns, claim, savepoint string) {
	t.Helper()
	if _, err := os.Stat(claimPath(t, ns, claim, savepoint)); err != nil {
		t.Fatalf("savepoint %s is not on claim %s: %v", savepoint, claim, err)
	}
}

// assertGoneFromClaim fails unless the savepoint's folder is no longer on the claim.
func assertGoneFromClaim(t *testing.T, ns, claim, savepoint string) {
	t.Helper()
	if _, err := os.Stat(filepath.Dir(claimPath(t, ns, claim, savepoint))); !os.IsNotExist(err) {
		t.Fatalf("savepoint %s is still on claim %s (%v)", savepoint, claim, err)
	}
}

// claimPath is the savepoint's _metadata file on the node's folder of the claim.
func claimPath(t *testing.T, ns, claim, savepoint string) string {
	t.Helper()
	sp := strings.TrimPrefix(strings.TrimPrefix(savepoint, "file://"), "file:")
	rel, ok := strings.CutPrefix(sp, "/flink-data/")
	if !ok {
		t.Fatalf("savepoint %q is not on the claim mounted at /flink-data", savepoint)
	}
	return filepath.Join(boundClaimFolder(t, ns, claim), rel, "_metadata")
}

// haLeader is the JobManager pod of jms that leads: the one whose address Flink's Kubernetes HA
// ConfigMap names for its dispatcher, as the plugin finds it (kube.LeaderPod). A standby's REST
// API answers too, so the answer of /overview cannot tell.
func haLeader(t *testing.T, ns string, jms []corev1.Pod) string {
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	sel := kube.Selector(jms[0].Labels["app.kubernetes.io/instance"], kube.JobManager)
	var leader string
	eventually(t, ctx, "a JobManager leads", func() (bool, string) {
		p, err := kube.LeaderPod(ctx, env.cs, ns, sel)
		if err != nil {
			return false, err.Error()
		}
		for _, j := range jms {
			if j.UID == p.UID {
				leader = p.Name
				return true, ""
			}
		}
		return false, "the leader " + p.Name + " is not one of the JobManagers given"
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
			if s.Labels[fixtureLabel] == "" {
				left = append(left, "secret/"+s.Name)
			}
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

// assertRestoredFrom checks in Flink's checkpoint statistics that the job started from savepoint
// (compared by its directory name: the pods and this machine see different prefixes).
func assertRestoredFrom(t *testing.T, rest *flinkREST, jobID, savepoint string) {
	t.Helper()
	if r := restoredFrom(rest, jobID); r == nil || !r.IsSavepoint || filepath.Base(r.ExternalPath) != filepath.Base(savepoint) {
		t.Fatalf("job %s did not restore from %s: %+v", jobID, savepoint, r)
	}
}

// restored is what Flink's checkpoint statistics say a job started from.
type restored struct {
	ExternalPath string `json:"external_path"`
	IsSavepoint  bool   `json:"is_savepoint"`
}

// restoredFrom is the checkpoint or savepoint a job restored from; nil when it started fresh.
func restoredFrom(rest *flinkREST, jobID string) *restored {
	var cps struct {
		Latest struct {
			Restored *restored `json:"restored"`
		} `json:"latest"`
	}
	rest.get("/jobs/"+jobID+"/checkpoints", &cps)
	return cps.Latest.Restored
}
