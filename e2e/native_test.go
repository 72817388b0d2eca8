//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/action"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/helm-flink/helm-flink/plugin/chartdir"
)

// Native Kubernetes mode (mode: native): the JobManager Deployment that Helm owns creates the
// TaskManager pods itself, through the API server with its ServiceAccount's token; the node runs
// them as containers of KubernetesTaskExecutorRunner JVMs. Everything here talks to Flink over
// its REST API (no plugin) and to Kubernetes through the API server.

// nativeVersion is a Flink release the native tests run on: the image tag that selects it.
type nativeVersion struct{ name, tag, release string }

func nativeVersions() []nativeVersion {
	return []nativeVersion{
		{"flink-1.20", "1.20-java17", env.versions["FLINK1_VERSION"]},
		{"flink-2", "2.3-java17", env.versions["FLINK2_VERSION"]},
	}
}

// The selector of the TaskManager pods Flink creates for a release: Flink's own labels.
func nativeTaskManagers(clusterID string) string {
	return "type=flink-native-kubernetes,component=taskmanager,app=" + clusterID
}

// nativeCluster is a native release: its cluster id names the JobManager Deployment.
type nativeCluster struct {
	*release
	id string
}

func installNative(t *testing.T, ns, chart string, v nativeVersion, set ...string) (*nativeCluster, time.Time) {
	t.Helper()
	start := time.Now()
	file := filepath.Join(env.root, "charts", chart, "ci/native-values.yaml")
	r := installChart(t, ns, chart, file, append([]string{"image.tag=" + v.tag}, set...)...)
	return &nativeCluster{release: r, id: "flink-" + chart}, start
}

// jobManagerPod is the ready JobManager pod of the Deployment named after the cluster id.
func (c *nativeCluster) jobManagerPod(t *testing.T) corev1.Pod {
	t.Helper()
	pods := waitPods(t, c.ns, releaseSel+"jobmanager", podTimeout, "the JobManager is ready", allReady(1))
	return pods[0]
}

func (c *nativeCluster) deployment(t *testing.T) *appsv1.Deployment {
	t.Helper()
	d, err := env.cs.AppsV1().Deployments(c.ns).Get(t.Context(), c.id, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the JobManager Deployment is named after the cluster id %s: %v", c.id, err)
	}
	return d
}

// taskManagerPods lists the TaskManager pods Flink created that are not going away.
func (c *nativeCluster) taskManagerPods(t *testing.T) []corev1.Pod {
	t.Helper()
	pods, err := env.cs.CoreV1().Pods(c.ns).List(t.Context(), metav1.ListOptions{LabelSelector: nativeTaskManagers(c.id)})
	if err != nil {
		t.Fatal(err)
	}
	var out []corev1.Pod
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out
}

// waitTaskManagers waits until exactly n TaskManager pods exist, all ready.
func (c *nativeCluster) waitTaskManagers(t *testing.T, n int, what string) []corev1.Pod {
	t.Helper()
	return waitPods(t, c.ns, nativeTaskManagers(c.id), 2*time.Minute, what, allReady(n))
}

// assertFlinkCreated checks that TaskManager pods are Flink's: owned by the JobManager Deployment
// (the garbage collector deletes them with it), Flink's labels and the chart's stable ones,
// restartPolicy Never, Flink's container running kubernetes-taskmanager.sh through the image's
// entrypoint with the chart's security context, and a real KubernetesTaskExecutorRunner JVM each.
func (c *nativeCluster) assertFlinkCreated(t *testing.T, pods []corev1.Pod) {
	t.Helper()
	d := c.deployment(t)
	assertOnNode(t, pods)
	for _, p := range pods {
		owners := p.OwnerReferences
		if len(owners) != 1 || owners[0].Kind != "Deployment" || owners[0].Name != c.id || owners[0].UID != d.UID ||
			owners[0].Controller == nil || !*owners[0].Controller {
			t.Fatalf("%s: owner references %+v, want the JobManager Deployment %s (uid %s) as controller", p.Name, owners, c.id, d.UID)
		}
		for k, v := range map[string]string{
			"app": c.id, "component": "taskmanager", "type": "flink-native-kubernetes",
			"app.kubernetes.io/instance": "flink", "app.kubernetes.io/component": "taskmanager", "app.kubernetes.io/part-of": "flink",
		} {
			if p.Labels[k] != v {
				t.Fatalf("%s: label %s=%q, want %q (labels %v)", p.Name, k, p.Labels[k], v, p.Labels)
			}
		}
		if !strings.HasPrefix(p.Name, c.id+"-taskmanager-") || p.Spec.RestartPolicy != corev1.RestartPolicyNever {
			t.Fatalf("%s: restartPolicy %s; want Flink's <cluster-id>-taskmanager-<attempt>-<n> with Never", p.Name, p.Spec.RestartPolicy)
		}
		main := p.Spec.Containers[0]
		if main.Name != "flink-main-container" || len(main.Command) != 1 || main.Command[0] != "/docker-entrypoint.sh" ||
			len(main.Args) != 3 || main.Args[0] != "bash" || !strings.HasPrefix(main.Args[2], "kubernetes-taskmanager.sh ") {
			t.Fatalf("%s: container %s, command %v, args %q; want Flink's flink-main-container running kubernetes-taskmanager.sh", p.Name, main.Name, main.Command, main.Args)
		}
		if sc := main.SecurityContext; sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
			sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || p.Spec.SecurityContext.SeccompProfile == nil {
			t.Fatalf("%s: security context %+v / pod %+v: not the chart's pod template", p.Name, main.SecurityContext, p.Spec.SecurityContext)
		}
		// Flink's scripts run a JVM of their own (BashJavaUtils) before they exec the TaskManager's.
		eventually(t, timeout(t, time.Minute), p.Name+" runs a KubernetesTaskExecutorRunner JVM", func() (bool, string) {
			out, err := execIn(t, c.ns, p.Name, main.Name, "sh", "-c", `for p in /proc/[0-9]*; do tr '\0' ' ' < $p/cmdline 2>/dev/null; echo; done`)
			return err == nil && strings.Contains(out, "org.apache.flink.kubernetes.taskmanager.KubernetesTaskExecutorRunner"), fmt.Sprintf("%v: %s", err, out)
		})
	}
}

// nativeREST is a port-forward to a JobManager's REST API that answers as the leader: a ready
// pod (its ports listen) may still answer 503 during its leader election.
func nativeREST(t *testing.T, ns, pod string) *flinkREST {
	t.Helper()
	rest := forwardREST(t, ns, pod)
	eventually(t, timeout(t, time.Minute), "the JobManager's REST API answers", func() (bool, string) {
		var o overview
		if err := rest.try(http.MethodGet, "/overview", nil, "", &o); err != nil {
			return false, err.Error()
		}
		return true, ""
	})
	return rest
}

func (f *flinkREST) overview() overview {
	f.t.Helper()
	var o overview
	f.get("/overview", &o)
	return o
}

func (f *flinkREST) cancel(jobID string) {
	f.t.Helper()
	f.do(http.MethodPatch, "/jobs/"+jobID+"?mode=cancel", nil, "", nil)
}

func (f *flinkREST) waitJobState(jobID, state string, timeout time.Duration) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(f.t.Context(), timeout)
	defer cancel()
	eventually(f.t, ctx, "job "+jobID+" is "+state, func() (bool, string) {
		var d jobDetails
		if err := f.try(http.MethodGet, "/jobs/"+jobID, nil, "", &d); err != nil {
			return false, err.Error()
		}
		return d.State == state, d.State
	})
}

// nativePlugin is the plugin run against native releases, with what it printed.
type nativePlugin struct {
	*standalone
	ns string
}

// newNativePlugin is the plugin in a fresh restricted namespace, and the release "flink" of chart
// it will install there.
func newNativePlugin(t *testing.T, chart string) (*nativePlugin, *nativeCluster) {
	t.Helper()
	ns := restrictedNamespace(t)
	return &nativePlugin{newStandalone(t), ns}, &nativeCluster{release: &release{ns: ns, chart: chart}, id: "flink-" + chart}
}

// ok runs the plugin and fails the test unless it exits 0; it returns stdout and stderr.
func (p *nativePlugin) ok(t *testing.T, args ...string) (string, string) {
	t.Helper()
	out, errOut, code := p.run(t, append(args, "-n", p.ns)...)
	if code != 0 {
		t.Fatalf("helm-flink %s: exit %d", strings.Join(args, " "), code)
	}
	return out, errOut
}

// cliNativeStatus is what `helm flink status -o json` says of a native release.
type cliNativeStatus struct {
	NativeClusterID string `json:"nativeClusterId"`
	Pods            []struct {
		Name      string `json:"name"`
		Component string `json:"component"`
		Ready     bool   `json:"ready"`
		CreatedBy string `json:"createdBy"`
	} `json:"pods"`
	TaskManagers int      `json:"taskManagers"`
	SlotsTotal   int      `json:"slotsTotal"`
	Jobs         []cliJob `json:"jobs"`
}

// flinkCreated are the pods status says Flink created.
func (s cliNativeStatus) flinkCreated() []string {
	var out []string
	for _, p := range s.Pods {
		if p.CreatedBy == "flink" && p.Component == "taskmanager" {
			out = append(out, p.Name)
		}
	}
	return out
}

// A native session through the plugin, in a Pod Security restricted namespace: `helm flink
// install --jar` waits for the JobManager only, and the job's wait includes Flink creating the
// TaskManager pods its slots need (2 slots each), with their progress; status lists them; a
// second job makes more; cancelled and stopped jobs leave idle pods that Flink deletes after
// resourcemanager.taskmanager-timeout; a Role without pods/create makes `helm flink submit` exit
// 3 at once with Flink's permission error, not a timeout; uninstall leaves nothing (the garbage
// collector deletes the TaskManager pods with the JobManager Deployment).
func TestNativeSession(t *testing.T) {
	t.Parallel()
	for _, v := range nativeVersions() {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			p, c := newNativePlugin(t, "flink-session")
			ns := p.ns
			jar := exampleJar(v.release, "TopSpeedWindowing")

			// (a) Install with a job of parallelism 4: no TaskManager before the job, then
			// exactly 2 pods of 2 slots, created by Flink.
			start := time.Now()
			out, progress := p.ok(t, "install", "flink", filepath.Join(env.root, "charts/flink-session"), "-f", filepath.Join(env.root, "charts/flink-session/ci/native-values.yaml"),
				"--set", "image.tag="+v.tag, "--set", "native.minTaskManagers=0", "--set", "native.maxTaskManagers=0", "--set", "native.taskManagerTimeout=5s",
				claimValues[0], claimValues[1], claimValues[2], claimValues[3], claimValues[4], claimValues[5],
				"--jar", jar, "--parallelism", "4", "-o", "json")
			running := time.Since(start)
			inst := decode[cliInstall](t, out)
			if inst.Job.State != "RUNNING" || inst.Job.Running != inst.Job.Total || inst.Parallelism != 4 {
				t.Fatalf("install: %+v", inst)
			}
			// Only the JobManager is waited for before the job; the job's wait shows the pods as
			// Flink asks for them (whether its first look sees 0 or 2 requested is a race).
			if strings.Contains(progress, "taskmanager pods ready") || strings.Contains(progress, "taskmanagers registered") ||
				!strings.Contains(progress, "taskmanager pods: Flink creates them as jobs need task slots (native mode)") ||
				!regexp.MustCompile(`(?m)^  taskmanager pods: [02] requested by Flink, 0 running.*\n(.*\n)*  taskmanager pods: 2 requested by Flink, 2 running$`).MatchString(progress) {
				t.Fatalf("install progress:\n%s", progress)
			}
			tms := c.waitTaskManagers(t, 2, "Flink created 2 TaskManager pods for parallelism 4")
			c.assertFlinkCreated(t, tms)
			st := decode[cliNativeStatus](t, first(p.ok(t, "status", "flink", "-o", "json")))
			if st.NativeClusterID != c.id || len(st.flinkCreated()) != 2 || st.TaskManagers != 2 || st.SlotsTotal != 4 || len(st.Jobs) != 1 {
				t.Fatalf("status %+v, want cluster id %s and the 2 TaskManager pods Flink created (4 slots)", st, c.id)
			}
			table, _ := p.ok(t, "status", "flink")
			if !strings.Contains(table, "MODE") || !regexp.MustCompile(`(?m)^flink-flink-session-taskmanager-1-1 +taskmanager +Running +true +0 +flink$`).MatchString(table) {
				t.Fatalf("status table:\n%s", table)
			}
			t.Logf("step a: helm flink install --jar → every task RUNNING in %s; %d TaskManager pods created by Flink", running.Round(time.Millisecond), len(tms))

			// (b) A second job (parallelism 2): one more TaskManager pod.
			out, _ = p.ok(t, "submit", "flink", "--jar", jar, "--parallelism", "2", "-o", "json")
			second := decode[cliInstall](t, out)
			if second.Job.State != "RUNNING" || second.Job.Running != second.Job.Total {
				t.Fatalf("submit: %+v", second)
			}
			tms = c.waitTaskManagers(t, 3, "Flink created a third TaskManager pod for the second job")
			c.assertFlinkCreated(t, tms)
			if st := decode[cliNativeStatus](t, first(p.ok(t, "status", "flink", "-o", "json"))); len(st.flinkCreated()) != 3 || st.SlotsTotal != 6 {
				t.Fatalf("status after the second job %+v", st)
			}
			t.Logf("step b: second job RUNNING; %d TaskManager pods", len(tms))

			// (c) One stopped with a savepoint, one cancelled: the idle pods go after the 5 s timeout.
			idle := time.Now()
			sp := decode[struct {
				Savepoint string `json:"savepoint"`
			}](t, first(p.ok(t, "stop", "flink", inst.Job.JobID, "--savepoint-dir", "file:///flink-data/stopped", "-o", "json")))
			assertOnClaim(t, ns, "flink-flink-session-data", sp.Savepoint)
			p.ok(t, "cancel", "flink", second.Job.JobID)
			if n := len(c.taskManagerPods(t)); time.Since(idle) < 4*time.Second && n != 3 {
				t.Fatalf("%d TaskManager pods %s after the jobs ended, before the 5 s idle timeout", n, time.Since(idle))
			}
			c.waitTaskManagers(t, 0, "Flink deleted the idle TaskManager pods")
			if time.Since(idle) < 5*time.Second {
				t.Fatalf("the TaskManager pods went %s after the jobs ended, before the 5 s idle timeout", time.Since(idle))
			}
			t.Logf("step c: jobs stopped and cancelled; 0 TaskManager pods %s later", time.Since(idle).Round(time.Millisecond))

			// (e) Without pods/create Flink only logs the API server's refusal and retries; the
			// plugin reads it from the JobManager's log and exits 3 with it.
			removeVerb(t, ns, "flink-flink-session-native", "create")
			refused := time.Now()
			_, errOut, code := p.run(t, "submit", "flink", "-n", ns, "--jar", jar, "--parallelism", "2")
			took := time.Since(refused)
			forbidden := `pods is forbidden: User "system:serviceaccount:` + ns + `:flink-flink-session" cannot create resource "pods"`
			if code != 3 || !strings.Contains(errOut, "Flink cannot create TaskManager pod flink-flink-session-taskmanager-") || !strings.Contains(errOut, forbidden) {
				t.Fatalf("submit without pods/create: exit %d, want 3 with Flink's permission error:\n%s", code, errOut)
			}
			if took > time.Minute {
				t.Fatalf("the permission error took %s: the plugin waited for a timeout", took)
			}
			if tms := c.taskManagerPods(t); len(tms) != 0 {
				t.Fatalf("%d TaskManager pods without pods/create", len(tms))
			}
			t.Logf("step e: exit %d after %s: %s", code, took.Round(time.Millisecond), truncate(lastLine(errOut), 300))

			// (f) Uninstall with a TaskManager running, which the JobManager may no longer delete:
			// the garbage collector deletes it with the Deployment that owns it.
			removeVerb(t, ns, "flink-flink-session-native", "delete")
			restoreVerb(t, ns, "flink-flink-session-native", "create")
			c.waitTaskManagers(t, 1, "Flink creates the TaskManager pod once the Role allows it")
			p.ok(t, "uninstall", "flink")
			assertNothingLeft(t, ns)
			t.Logf("step f: uninstalled with 1 TaskManager pod; nothing left")
		})
	}
}

func first(a, _ string) string { return a }

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// removeVerb takes a verb off the pods rule of a Role (as a stricter cluster policy would).
func removeVerb(t *testing.T, ns, role, verb string) {
	t.Helper()
	editPodVerbs(t, ns, role, func(verbs []string) []string {
		return slices.DeleteFunc(verbs, func(v string) bool { return v == verb })
	})
}

// restoreVerb gives it back.
func restoreVerb(t *testing.T, ns, role, verb string) {
	t.Helper()
	editPodVerbs(t, ns, role, func(verbs []string) []string { return append(verbs, verb) })
}

func editPodVerbs(t *testing.T, ns, role string, edit func([]string) []string) {
	t.Helper()
	r, err := env.cs.RbacV1().Roles(ns).Get(t.Context(), role, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, rule := range r.Rules {
		if len(rule.Resources) == 1 && rule.Resources[0] == "pods" {
			r.Rules[i].Verbs = edit(rule.Verbs)
		}
	}
	if _, err := env.cs.RbacV1().Roles(ns).Update(t.Context(), r, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// nativeJobID is the job id a native application runs: $internal.pipeline.job-id of its config.
func (c *nativeCluster) nativeJobID(t *testing.T) string {
	t.Helper()
	cm, err := env.cs.CoreV1().ConfigMaps(c.ns).Get(t.Context(), "flink-config-"+c.id, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var conf map[string]any
	if err := yaml.Unmarshal([]byte(cm.Data["config.yaml"]), &conf); err != nil {
		t.Fatal(err)
	}
	id, _ := conf["$internal.pipeline.job-id"].(string)
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) {
		t.Fatalf("$internal.pipeline.job-id %q in flink-config-%s", id, c.id)
	}
	return id
}

// Native application mode: the JobManager Deployment runs TopSpeedWindowing with the TaskManager
// pods Flink creates for it (parallelism 2, 1 slot each: 2 pods). Stopped with a savepoint on the
// release's claim, the job is FINISHED and the JobManager stays up; a reinstall from that
// savepoint restores the job's state.
func TestNativeApplication(t *testing.T) {
	t.Parallel()
	for _, v := range nativeVersions() {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			ns := restrictedNamespace(t)
			c, start := installNative(t, ns, "flink-job", v, "persistence.enabled=true", "persistence.size=1Gi", "job.jobId=")
			jobID := c.nativeJobID(t)
			rest := nativeREST(t, ns, c.jobManagerPod(t).Name)
			rest.waitAllTasksRunning(jobID, jobTimeout)
			tms := c.waitTaskManagers(t, 2, "Flink created 2 TaskManager pods for the application")
			c.assertFlinkCreated(t, tms)
			t.Logf("application %s: every task RUNNING %s after the install started; %d TaskManager pods",
				jobID, time.Since(start).Round(time.Millisecond), len(tms))

			const claim = "flink-flink-job-data"
			savepoint := stopWithSavepoint(t, rest, jobID, ns, claim)
			rest.waitJobState(jobID, "FINISHED", 30*time.Second)
			// The JobManager outlives its job (Flink would otherwise delete the Deployment Helm owns).
			time.Sleep(3 * time.Second)
			jm := c.jobManagerPod(t)
			if jm.Status.ContainerStatuses[0].RestartCount != 0 {
				t.Fatalf("the JobManager restarted after the job finished: %+v", jm.Status.ContainerStatuses[0])
			}
			c.deployment(t)
			c.waitTaskManagers(t, 0, "Flink deleted the idle TaskManager pods after the job finished")
			c.uninstall(t)

			c, _ = installNative(t, ns, "flink-job", v, "job.jobId=", "job.fromSavepoint="+savepoint,
				"persistence.enabled=true", "persistence.existingClaim="+claim)
			rest = nativeREST(t, ns, c.jobManagerPod(t).Name)
			rest.waitAllTasksRunning(jobID, jobTimeout)
			assertRestoredFrom(t, rest, jobID, savepoint)
			c.assertFlinkCreated(t, c.waitTaskManagers(t, 2, "2 TaskManager pods for the restored application"))
			c.uninstall(t)
			if err := env.cs.CoreV1().PersistentVolumeClaims(ns).Delete(t.Context(), claim, metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Native application mode through the plugin: `helm flink install` waits for TopSpeedWindowing
// with every task RUNNING on the TaskManager pods Flink creates (parallelism 2, 1 slot each);
// `helm flink upgrade --set parallelism=3` stops it with a savepoint on the release's claim, the
// replaced JobManager's TaskManager pods are deleted (by the chart's hook, else by the plugin),
// and the new JobManager restores the job from the savepoint on 3 pods of its own; a failed
// upgrade is rolled back the same way (Flink 2.x); rollback to revision 1 restores parallelism 2;
// uninstall leaves nothing.
func TestNativeApplicationUpgrade(t *testing.T) {
	t.Parallel()
	for _, v := range nativeVersions() {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			p, c := newNativePlugin(t, "flink-job")
			ns := p.ns
			chart := filepath.Join(env.root, "charts/flink-job")
			start := time.Now()
			out, _ := p.ok(t, append([]string{"install", "flink", chart, "-f", filepath.Join(chart, "ci/native-values.yaml"),
				"--set", "image.tag=" + v.tag, "--set", "job.jobId=", "-o", "json"}, claimValues...)...)
			inst := decode[cliInstall](t, out)
			if inst.Job.State != "RUNNING" || inst.Job.Running != inst.Job.Total || inst.Job.JobID != c.nativeJobID(t) {
				t.Fatalf("install: %+v, the chart's job id %s", inst, c.nativeJobID(t))
			}
			before := c.waitTaskManagers(t, 2, "Flink created 2 TaskManager pods for the application")
			c.assertFlinkCreated(t, before)
			t.Logf("application %s RUNNING %s after the install started; %d TaskManager pods", inst.Job.JobID, time.Since(start).Round(time.Millisecond), len(before))

			out, _ = p.ok(t, "upgrade", "flink", chart, "--reuse-values", "--set", "parallelism=3", "-o", "json")
			up := decode[cliUpgrade](t, out)
			if up.Revision != 2 || up.Job.State != "RUNNING" || up.Job.JobID != c.nativeJobID(t) || up.Job.JobID == inst.Job.JobID {
				t.Fatalf("upgrade: %+v after %+v (the new revision's job id %s)", up, inst, c.nativeJobID(t))
			}
			assertOnClaim(t, ns, "flink-flink-job-data", up.Savepoint)
			after := c.waitTaskManagers(t, 3, "the new JobManager created 3 TaskManager pods")
			c.assertFlinkCreated(t, after)
			for _, p := range after {
				for _, b := range before {
					if p.UID == b.UID {
						t.Fatalf("TaskManager pod %s of the previous JobManager survived the upgrade", p.Name)
					}
				}
			}
			rest := nativeREST(t, ns, c.jobManagerPod(t).Name)
			if p := rest.waitAllTasksRunning(up.Job.JobID, jobTimeout).parallelism(); p != 3 {
				t.Fatalf("parallelism after the upgrade %d, want 3", p)
			}
			assertRestoredFrom(t, rest, up.Job.JobID, up.Savepoint)
			t.Logf("upgrade: job %s restored from %s on %d new TaskManager pods", up.Job.JobID, up.Savepoint, len(after))

			// On Flink 2.x an upgrade whose JobManager crashes (no such entry class) is rolled
			// back: the previous values again, the job restored from the savepoint this upgrade
			// took, on TaskManager pods of the rolled-back JobManager. (Standalone on 1.20 in
			// TestRollbackApplication.)
			recorded, revision := map[int]string{1: up.Savepoint}, 2
			if v.name != nativeVersions()[0].name {
				out, _, code := p.run(t, "upgrade", "flink", chart, "-n", ns, "--reuse-values", "--set", "job.entryClass=does.not.Exist", "-o", "json")
				rb := decode[rollbackResult](t, out)
				if code != 3 || !strings.Contains(rb.Failure, "ClassNotFoundException: does.not.Exist") || rb.Rollback.Revision != 4 ||
					rb.Savepoint == "" || rb.Rollback.Savepoint != rb.Savepoint || rb.Rollback.Job.State != "RUNNING" || rb.Rollback.Job.Running != rb.Rollback.Job.Total {
					t.Fatalf("failed upgrade: exit %d, %+v", code, rb)
				}
				c.assertFlinkCreated(t, c.waitTaskManagers(t, 3, "the rolled-back JobManager created 3 TaskManager pods"))
				rest = nativeREST(t, ns, c.jobManagerPod(t).Name)
				rest.waitAllTasksRunning(rb.Rollback.Job.JobID, jobTimeout)
				assertRestoredFrom(t, rest, rb.Rollback.Job.JobID, rb.Savepoint)
				t.Logf("failed upgrade rolled back as revision %d: job %s restored from %s", rb.Rollback.Revision, rb.Rollback.Job.JobID, rb.Savepoint)
				recorded[2], revision = rb.Savepoint, 4
			}

			// helm flink rollback to revision 1 (parallelism 2): its plan changes nothing; the
			// rollback stops the job with a savepoint and starts it on 2 TaskManager pods of
			// the new JobManager from the newest state, or (the second version) from the
			// savepoint recorded when revision 1 was left.
			state, want := "newest", ""
			if v.name != nativeVersions()[0].name {
				state, want = "revision", up.Savepoint
			}
			pods := podUIDs(t, ns, "app.kubernetes.io/instance=flink")
			out, _ = p.ok(t, "rollback", "flink", "1", "--state", state, "--dry-run", "-o", "json")
			plan := decode[cliPlan](t, out)
			if plan.Revision != revision || plan.RollbackTo != 1 || plan.Change != "restart" || len(plan.Jobs) != 1 || plan.Restore != want ||
				!reflect.DeepEqual(plan.Jobs[0].Parallelism, []int{3, 2}) {
				t.Fatalf("rollback --dry-run --state %s: %+v", state, plan)
			}
			assertSamePods(t, "pods after the rollback's plan", pods, podUIDs(t, ns, "app.kubernetes.io/instance=flink"))
			assertRevisions(t, ns, "flink", revision)
			start = time.Now()
			out, _ = p.ok(t, "rollback", "flink", "1", "--state", state, "-o", "json")
			back := decode[cliRollback](t, out)
			if want == "" {
				want = back.Savepoint
			}
			if back.Revision != revision+1 || back.RolledBackTo != 1 || back.Savepoint == "" || back.Job.State != "RUNNING" || back.Job.Running != back.Job.Total {
				t.Fatalf("rollback: %+v", back)
			}
			c.assertFlinkCreated(t, c.waitTaskManagers(t, 2, "the rolled-back JobManager created 2 TaskManager pods"))
			rest = nativeREST(t, ns, c.jobManagerPod(t).Name)
			if p := rest.waitAllTasksRunning(back.Job.JobID, jobTimeout).parallelism(); p != 2 {
				t.Fatalf("parallelism after the rollback %d, want 2", p)
			}
			assertRestoredFrom(t, rest, back.Job.JobID, want)
			recorded[revision] = back.Savepoint
			assertRecorded(t, ns, "flink", recorded)
			t.Logf("rollback to revision 1 (--state %s) in %s: job %s, parallelism 2, restored from %s", state, time.Since(start).Round(time.Second), back.Job.JobID, want)
			p.ok(t, "uninstall", "flink")
			assertNothingLeft(t, ns)
		})
	}
}

// A plain `helm upgrade` of a native session (what Flux does) that changes the configuration
// replaces the JobManager; the chart's post-upgrade hooks wait until the previous JobManager has
// ended and delete the TaskManager pods it created (another taskmanager-template hash), so none
// runs the previous revision's template under the new JobManager, which creates its own.
func TestNativeHelmUpgradeRetiresTaskManagers(t *testing.T) {
	t.Parallel()
	for _, v := range nativeVersions() {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			ns := restrictedNamespace(t)
			c, _ := installNative(t, ns, "flink-session", v) // native.minTaskManagers 2: two from the start
			const hashLabel = "helm-flink.dev/taskmanager-template"
			before := c.waitTaskManagers(t, 2, "the 2 TaskManager pods of native.minTaskManagers")
			oldHash := c.jobManagerPod(t).Labels[hashLabel]
			if oldHash == "" || before[0].Labels[hashLabel] != oldHash {
				t.Fatalf("JobManager hash %q, TaskManager pod labels %v: want the same template hash", oldHash, before[0].Labels)
			}
			upgrade := action.NewUpgrade(c.cfg)
			upgrade.Namespace, upgrade.Wait, upgrade.Timeout, upgrade.ReuseValues = ns, true, 3*time.Minute, true
			ch, err := chartdir.Load(filepath.Join(env.root, "charts/flink-session"))
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if _, err := upgrade.Run("flink", ch, map[string]any{"native": map[string]any{"taskManagerTimeout": "20s"}}); err != nil {
				t.Fatalf("helm upgrade: %v", err)
			}
			took := time.Since(start)
			for _, p := range before {
				if q, err := env.cs.CoreV1().Pods(ns).Get(t.Context(), p.Name, metav1.GetOptions{}); err == nil && q.UID == p.UID && q.DeletionTimestamp == nil {
					t.Fatalf("TaskManager pod %s of the previous JobManager is still there after the upgrade", p.Name)
				}
			}
			jm := c.jobManagerPod(t)
			after := c.waitTaskManagers(t, 2, "the new JobManager creates 2 TaskManager pods of its own")
			for _, p := range after {
				if p.Labels[hashLabel] == oldHash || p.Labels[hashLabel] != jm.Labels[hashLabel] {
					t.Fatalf("TaskManager pod %s has template hash %q; the new JobManager's is %q, the previous %q", p.Name, p.Labels[hashLabel], jm.Labels[hashLabel], oldHash)
				}
			}
			c.assertFlinkCreated(t, after)
			t.Logf("helm upgrade with a config change: %s; the 2 previous TaskManager pods deleted, 2 new ones of template %s", took.Round(time.Millisecond), jm.Labels[hashLabel])
			c.uninstall(t)
		})
	}
}

// Native session with Kubernetes HA, its storage on S3: a JobManager whose JVM dies is started
// again by the kubelet; the new JobManager recovers the job from the HA metadata in the bucket
// and takes over the TaskManager pods the old one created (the same pods, owned by the same
// Deployment). The uninstall's hook deletes the HA
// ConfigMaps: nothing is left.
func TestNativeHighAvailability(t *testing.T) {
	t.Parallel()
	store := stackS3(t)
	for _, v := range nativeVersions() {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			ns := restrictedNamespace(t)
			store.credentialsIn(t, ns)
			// HA metadata, checkpoints and savepoints on S3 (the stack's store), through the presto
			// file system the chart enables. The TaskManagers the successor takes over are idle
			// until its recovered job asks for their slots, which on a loaded node can be later
			// than the default 30 s after they registered: Flink would then delete them as idle
			// and ask for new pods.
			c, _ := installNative(t, ns, "flink-session", v, append(store.values(ns), "native.minTaskManagers=0", "native.taskManagerTimeout=5min",
				"highAvailability.enabled=true", "highAvailability.storageDir=s3p://"+s3Bucket+"/"+ns+"/ha",
				`flinkConfiguration.execution\.checkpointing\.interval=2s`)...)
			old := c.jobManagerPod(t)
			rest := nativeREST(t, ns, old.Name)
			job := rest.run(rest.upload(exampleJar(v.release, "TopSpeedWindowing")), 4)
			rest.waitAllTasksRunning(job, jobTimeout)
			before := map[string]types.UID{}
			for _, p := range c.waitTaskManagers(t, 2, "2 TaskManager pods for the job") {
				before[p.Name] = p.UID
			}

			// The JobManager's JVM crashes (SIGKILL, as an OOM kill): the kubelet starts it again in
			// the same pod. A pod deleted even with grace period 0 gets SIGTERM first (the kubelet
			// keeps terminationGracePeriodSeconds), and a JobManager that shuts down gracefully
			// releases its TaskManager pods as they disconnect on Flink 1.20 and 2.x (FLINK-34526):
			// the successor would then recover the job on new ones, as often as that race is won.
			restarts := podRestarts(&old)
			if err := syscall.Kill(jvmOf(t, &old, "ClusterEntrypoint"), syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			var jm corev1.Pod
			waitPods(t, ns, releaseSel+"jobmanager", podTimeout, "the JobManager runs again", func(pods []corev1.Pod) bool {
				for _, p := range pods {
					if p.Name == old.Name && podRestarts(&p) > restarts && podReady(&p) {
						jm = p
						return true
					}
				}
				return false
			})
			rest = nativeREST(t, ns, jm.Name)
			rest.waitAllTasksRunning(job, jobTimeout)
			after := c.waitTaskManagers(t, 2, "the TaskManager pods serve the new JobManager")
			for _, p := range after {
				if before[p.Name] != p.UID {
					t.Fatalf("TaskManager pod %s (uid %s) is not one the first JobManager created: %v\nthe new JobManager on its workers:\n%s",
						p.Name, p.UID, before, grepLines(containerLogs(t, ns, jm.Name, ""), "orker", "ecover", "TaskExecutor"))
				}
			}
			c.assertFlinkCreated(t, after)
			if ha := store.list(t, ns+"/ha/"); len(ha) == 0 {
				t.Fatalf("no HA metadata under s3p://%s/%s/ha", s3Bucket, ns)
			}
			c.uninstall(t)
		})
	}
}

// The jar fetched over http (charts/flink-job/ci/http-jar-values.yaml) in native mode: the chart's
// pod template gives the TaskManager pods Flink creates the fetch-jar init container and the
// usrlib volume, which the node runs before the JVM.
func TestNativeApplicationHTTPJar(t *testing.T) {
	t.Parallel()
	jarServer(t)
	ns := restrictedNamespace(t)
	r := installChart(t, ns, "flink-job", filepath.Join(env.root, "charts/flink-job/ci/http-jar-values.yaml"),
		"mode=native", "parallelism=2", "taskmanager.numberOfTaskSlots=1")
	c := &nativeCluster{release: r, id: "flink-flink-job"}
	rest := nativeREST(t, ns, c.jobManagerPod(t).Name)
	rest.waitAllTasksRunning(c.nativeJobID(t), jobTimeout)
	tms := c.waitTaskManagers(t, 2, "2 TaskManager pods for WindowJoin")
	c.assertFlinkCreated(t, tms)
	for _, p := range tms {
		init := p.Status.InitContainerStatuses
		if len(init) != 1 || init[0].Name != "fetch-jar" || init[0].State.Terminated == nil || init[0].State.Terminated.ExitCode != 0 {
			t.Fatalf("%s: init containers %+v, want fetch-jar terminated with 0", p.Name, init)
		}
		if logs := containerLogs(t, ns, p.Name, "fetch-jar"); !strings.Contains(logs, "/usrlib/WindowJoin.jar: OK") {
			t.Fatalf("%s: fetch-jar's log has no passed checksum:\n%s", p.Name, logs)
		}
	}
	c.uninstall(t)
}

// causedBy is the last "Caused by:" line of a Java stack trace (its root cause), else its first line.
func causedBy(trace string) string {
	last := strings.SplitN(trace, "\n", 2)[0]
	for _, l := range strings.Split(trace, "\n") {
		if strings.HasPrefix(l, "Caused by: ") {
			last = strings.TrimPrefix(l, "Caused by: ")
		}
	}
	return last
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// TaskManager pods Flink creates that cannot start (here: an environment variable from a Secret
// that does not exist) are reported at once, with the pod and the reason, instead of a wait for
// Flink's slot timeout: `helm flink install` of a native session that starts 2 TaskManagers
// fails (and --atomic leaves nothing), and without them the job's wait exits 3.
func TestNativeTaskManagerCannotStart(t *testing.T) {
	t.Parallel()
	v := nativeVersions()[0]
	p, c := newNativePlugin(t, "flink-session")
	chart := filepath.Join(env.root, "charts/flink-session")
	missing := []string{"--set", "image.tag=" + v.tag, "--set-json",
		`taskmanager.extraEnv=[{"name":"S3_KEY","valueFrom":{"secretKeyRef":{"name":"s3-credentials","key":"key"}}}]`}
	reported := func(what, errOut string, took time.Duration) {
		t.Helper()
		for _, want := range []string{"pod flink-flink-session-taskmanager-", "(a TaskManager Flink created)", "CreateContainerConfigError", `"s3-credentials" not found`} {
			if !strings.Contains(errOut, want) {
				t.Fatalf("%s: the error lacks %q:\n%s", what, want, errOut)
			}
		}
		if took > time.Minute {
			t.Fatalf("%s: took %s: the plugin waited for a timeout", what, took)
		}
		t.Logf("%s: reported after %s: %s", what, took.Round(time.Millisecond), truncate(lastLine(errOut), 300))
	}

	start := time.Now()
	_, errOut, code := p.run(t, append([]string{"install", "flink", chart, "-n", p.ns, "--atomic", "-f", filepath.Join(chart, "ci/native-values.yaml")}, missing...)...)
	if code != 4 || !strings.Contains(errOut, "taskmanagers registered 0/2") || !strings.Contains(errOut, "Rolling back") ||
		!strings.Contains(errOut, "Error: wait for taskmanagers to register: pod flink-flink-session-taskmanager-") {
		t.Fatalf("install with 2 TaskManagers that cannot start: exit %d\n%s", code, errOut)
	}
	reported("install (native.minTaskManagers 2, --atomic)", errOut, time.Since(start))
	assertNothingLeft(t, p.ns)

	p.ok(t, append([]string{"install", "flink", chart, "-f", filepath.Join(chart, "ci/native-values.yaml"), "--set", "native.minTaskManagers=0"}, missing...)...)
	start = time.Now()
	_, errOut, code = p.run(t, "submit", "flink", "-n", p.ns, "--jar", exampleJar(v.release, "TopSpeedWindowing"))
	if code != 3 || !strings.Contains(errOut, "cannot run: ") {
		t.Fatalf("submit: exit %d, want 3\n%s", code, errOut)
	}
	reported("submit (no TaskManager before the job)", errOut, time.Since(start))
	if len(c.taskManagerPods(t)) == 0 {
		t.Fatal("no TaskManager pod: the failure was not Flink's pod")
	}
	// status says why, as kubectl's STATUS column does, and exits 3: the job has tasks not running.
	table, errOut, code := p.run(t, "status", "flink", "-n", p.ns)
	if code != 3 || !strings.Contains(errOut, "0 of 2 tasks running") {
		t.Fatalf("status of a job whose TaskManager cannot start: exit %d, want 3\n%s", code, errOut)
	}
	if !regexp.MustCompile(`(?m)^flink-flink-session-taskmanager-\S+ +taskmanager +Pending \(CreateContainerConfigError\) +false +0 +flink$`).MatchString(table) {
		t.Fatalf("status table:\n%s", table)
	}
	p.ok(t, "uninstall", "flink")
	assertNothingLeft(t, p.ns)
}
