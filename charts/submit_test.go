package charts

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/getter"
	helmrelease "helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/releaseutil"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"sigs.k8s.io/yaml"
)

const submitSet = "flink-session/ci/submit-values.yaml"

// object is a rendered object, as much of it as these tests read.
type object struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name        string            `json:"name"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec struct {
		Template struct {
			Spec struct {
				InitContainers []container `json:"initContainers"`
				Containers     []container `json:"containers"`
			} `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
	Raw string `json:"-"`
}

type container struct {
	Name    string   `json:"name"`
	Command []string `json:"command"`
	Args    []string `json:"args"`
	Env     []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"env"`
}

func (c container) env(name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// objects maps "Kind/name" to each object of a render (manifest and hooks).
func objects(t *testing.T, manifest string) map[string]object {
	t.Helper()
	if i := strings.LastIndex(manifest, "---\n# NOTES.txt\n"); i >= 0 {
		manifest = manifest[:i]
	}
	out := map[string]object{}
	for _, doc := range releaseutil.SplitManifests(manifest) {
		var o object
		if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
			t.Fatalf("rendered object: %v\n%s", err, doc)
		}
		if o.Kind == "" {
			continue
		}
		o.Raw = doc
		out[o.Kind+"/"+o.Metadata.Name] = o
	}
	return out
}

var submitObjects = []string{
	"ServiceAccount/golden-flink-session-submit", "Role/golden-flink-session-submit", "RoleBinding/golden-flink-session-submit",
	"Job/golden-flink-session-pre-upgrade", "Job/golden-flink-session-submit",
	"Job/golden-flink-session-submit-cleanup",
}

const jobmanager = "Deployment/golden-flink-session-jobmanager"

// With submit on: the hooks that keep the job across upgrades, and the JobManager Deployment's
// pod template hash they compare; with submit off none of it.
func TestSubmitHookObjects(t *testing.T) {
	objs := objects(t, render(t, "flink-session", []string{submitSet}))
	for _, name := range submitObjects {
		if _, ok := objs[name]; !ok {
			t.Errorf("submit on: no %s", name)
		}
	}
	hash := objs[jobmanager].Metadata.Annotations["helm-flink.dev/pod-template-hash"]
	if len(hash) != 16 {
		t.Fatalf("the JobManager Deployment has no pod template hash annotation: %v", objs[jobmanager].Metadata.Annotations)
	}
	stop := objs["Job/golden-flink-session-pre-upgrade"]
	if stop.Metadata.Annotations["helm.sh/hook"] != "pre-upgrade" {
		t.Errorf("the stop hook runs on %q, want pre-upgrade", stop.Metadata.Annotations["helm.sh/hook"])
	}
	if got := stop.Spec.Template.Spec.InitContainers[0].env("NEW_HASH"); got != hash {
		t.Errorf("the stop hook compares with hash %q, the Deployment carries %q", got, hash)
	}
	if !strings.Contains(objs["Role/golden-flink-session-submit"].Metadata.Annotations["helm.sh/hook"], "pre-upgrade") {
		t.Error("the hooks' Role is not created for pre-upgrade")
	}
	submit := objs["Job/golden-flink-session-submit"]
	if submit.Metadata.Annotations["helm.sh/hook"] != "post-install,post-upgrade" {
		t.Errorf("the submit hook runs on %q", submit.Metadata.Annotations["helm.sh/hook"])
	}
	// The submit container writes the jobs record, which a kubectl container applies after it;
	// the records are not Helm's objects (an uninstall's hook deletes them).
	if c := submit.Spec.Template.Spec.Containers; len(c) != 1 || c[0].Name != "record" || !strings.Contains(strings.Join(c[0].Args, " "), "apply --server-side") {
		t.Errorf("the submit hook's containers after the submission: %+v", c)
	}
	for name := range objs {
		if strings.HasPrefix(name, "ConfigMap/") && name != "ConfigMap/golden-flink-session-config" {
			t.Errorf("%s is rendered: the hooks' records are written by the hooks, not by Helm", name)
		}
	}
	// The Flink containers get no API token: only the kubectl containers mount one.
	for _, name := range []string{"Job/golden-flink-session-pre-upgrade", "Job/golden-flink-session-submit"} {
		spec := objs[name].Spec.Template.Spec
		for _, c := range append(append([]container{}, spec.InitContainers...), spec.Containers...) {
			token := strings.Contains(objs[name].Raw, "name: kube-api-access") && c.Command[0] == "kubectl"
			if (c.Command[0] == "kubectl") != token {
				t.Errorf("%s container %s: kubectl %v, API token %v", name, c.Name, c.Command[0] == "kubectl", token)
			}
		}
	}
	if !strings.Contains(submit.Raw, "--fromSavepoint") {
		t.Error("the submit hook never resumes from a savepoint")
	}

	// The submit hook waits for the rollout of the workloads there are, which its Role may read:
	// the JobManager's Deployment, or a standalone HA session's StatefulSet, and the standalone
	// TaskManagers' Deployment (a TaskManager of the previous revision would take the job's tasks).
	for _, files := range [][]string{{submitSet}, {submitSet, "flink-session/ci/ha-values.yaml"}, {submitSet, "flink-session/ci/native-values.yaml"}} {
		objs := objects(t, render(t, "flink-session", files, "highAvailability.storageDir=file:///flink-data/ha"))
		waited := map[string]bool{}
		for _, init := range objs["Job/golden-flink-session-submit"].Spec.Template.Spec.InitContainers {
			if len(init.Args) < 3 || init.Args[0] != "rollout" {
				continue
			}
			workload := init.Args[2]
			kind, name, _ := strings.Cut(workload, "/")
			k := map[string]string{"deployment": "Deployment", "statefulset": "StatefulSet"}[kind]
			waited[k+"/"+name] = true
			if _, ok := objs[k+"/"+name]; !ok || init.Args[1] != "status" {
				t.Errorf("%v: the submit hook waits for rollout of %v, which the release does not have", files, init.Args)
			}
			if role := objs["Role/golden-flink-session-submit"].Raw; !strings.Contains(role, "resources: ["+kind+"s]") || !strings.Contains(role, "resourceNames: ["+name+"]") {
				t.Errorf("%v: the hooks' Role does not let them read %s:\n%s", files, workload, role)
			}
		}
		for name, o := range objs {
			if (o.Kind == "Deployment" || o.Kind == "StatefulSet") && !waited[name] {
				t.Errorf("%v: the submit hook does not wait for the rollout of %s", files, name)
			}
		}
	}

	for _, set := range []string{"flink-session/ci/default-values.yaml", "flink-session/ci/ha-values.yaml"} {
		objs := objects(t, render(t, "flink-session", []string{set}))
		for _, name := range submitObjects {
			if _, ok := objs[name]; ok {
				t.Errorf("%s (submit off): %s rendered", set, name)
			}
		}
		if a := objs[jobmanager].Metadata.Annotations; len(a) != 0 {
			t.Errorf("%s (submit off): JobManager Deployment annotations %v", set, a)
		}
	}
}

// lookupOf answers `lookup` as a cluster would whose live JobManager Deployment is live (nil:
// there is none).
type lookupOf struct{ live *unstructured.Unstructured }

func (l lookupOf) GetClientFor(apiVersion, kind string) (dynamic.NamespaceableResourceInterface, bool, error) {
	resource := map[string]string{"Deployment": "deployments", "StatefulSet": "statefulsets"}[kind]
	if apiVersion != "apps/v1" || resource == "" {
		return nil, false, fmt.Errorf("the chart looked up %s %s", apiVersion, kind)
	}
	gvr := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: resource}
	var objs []runtime.Object
	if l.live != nil && l.live.GetKind() == kind {
		objs = append(objs, l.live)
	}
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{gvr: kind + "List"}, objs...).Resource(gvr), true, nil
}

// renderUpgrade renders the session chart as `helm upgrade` does against a cluster whose live
// JobManager Deployment is live: every template's output, hooks included.
func renderUpgrade(t *testing.T, ch *chart.Chart, files []string, live *unstructured.Unstructured, set ...string) map[string]object {
	t.Helper()
	vals, err := (&values.Options{ValueFiles: files, Values: set}).MergeValues(getter.Providers{})
	if err != nil {
		t.Fatal(err)
	}
	if err := chartutil.ProcessDependenciesWithMerge(ch, vals); err != nil {
		t.Fatal(err)
	}
	caps := chartutil.DefaultCapabilities.Copy()
	caps.KubeVersion = chartutil.KubeVersion{Version: "v1.37.2", Major: "1", Minor: "37"}
	top, err := chartutil.ToRenderValues(ch, vals, chartutil.ReleaseOptions{Name: "golden", Namespace: "flink", Revision: 2, IsUpgrade: true}, caps)
	if err != nil {
		t.Fatal(err)
	}
	out, err := engine.RenderWithClientProvider(ch, top, lookupOf{live})
	if err != nil {
		t.Fatalf("render %v %v: %v", files, set, err)
	}
	names := make([]string, 0, len(out))
	for n := range out {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		if strings.HasSuffix(n, ".yaml") {
			b.WriteString("---\n" + out[n] + "\n")
		}
	}
	return objects(t, b.String())
}

// liveJobManager is the JobManager Deployment (or StatefulSet) a render of the chart leaves on the
// cluster.
func liveJobManager(t *testing.T, files []string, set ...string) *unstructured.Unstructured {
	t.Helper()
	objs := objects(t, render(t, "flink-session", files, set...))
	d, ok := objs[jobmanager]
	if !ok {
		d, ok = objs["StatefulSet/golden-flink-session-jobmanager"] // a standalone HA session's
	}
	if !ok {
		t.Fatal("no JobManager Deployment or StatefulSet rendered")
	}
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(d.Raw), &u.Object); err != nil {
		t.Fatal(err)
	}
	u.SetNamespace("flink")
	return u
}

// The pre-upgrade hook stops the job only when the upgrade replaces the JobManager and Kubernetes
// HA does not carry the job over: the live Deployment's pod template hash (lookup) differs from the
// new one. A chart version bump or a replicas change renders no stop hook at all.
func TestUpgradeStopsJobOnlyWhenJobManagerChanges(t *testing.T) {
	submit := []string{submitSet}
	ha := []string{"flink-session/ci/ha-values.yaml"}
	const interval = "flinkConfiguration.execution\\.checkpointing\\.interval="
	bumped := func() *chart.Chart {
		ch := load(t, "flink-session")
		md := *ch.Metadata
		md.Version = semver.MustParse(md.Version).IncMinor().String()
		ch.Metadata = &md
		return ch
	}
	for _, c := range []struct {
		name  string
		ch    *chart.Chart
		files []string
		set   []string
		live  *unstructured.Unstructured
		stops bool
	}{
		{"same values", nil, submit, nil, liveJobManager(t, submit), false},
		{"taskmanager.replicas", nil, submit, []string{"taskmanager.replicas=5"}, liveJobManager(t, submit), false},
		{"submit settings", nil, submit, []string{"submit.parallelism=1", "submit.timeoutSeconds=900"}, liveJobManager(t, submit), false},
		{"chart version bump", bumped(), submit, nil, liveJobManager(t, submit), false},
		{"config change", nil, submit, []string{interval + "7s"}, liveJobManager(t, submit), true},
		{"image change", nil, submit, []string{"image.tag=1.20.1-java17"}, liveJobManager(t, submit), true},
		{"submit was off", nil, submit, nil, liveJobManager(t, submit, "submit.enabled=false"), true},
		{"no JobManager", nil, submit, nil, nil, true},
		{"HA carries the job", nil, ha, []string{"submit.enabled=true", interval + "7s"}, liveJobManager(t, ha, "submit.enabled=true"), false},
		{"HA turned on", nil, ha, []string{"submit.enabled=true"}, liveJobManager(t, submit), true},
		{"HA cluster id changes", nil, ha, []string{"submit.enabled=true", "highAvailability.clusterId=other"}, liveJobManager(t, ha, "submit.enabled=true"), true},
		{"HA turned off", nil, submit, []string{"highAvailability.enabled=false"}, liveJobManager(t, ha, "submit.enabled=true", "persistence.enabled=true"), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			ch := c.ch
			if ch == nil {
				ch = load(t, "flink-session")
			}
			objs := renderUpgrade(t, ch, c.files, c.live, c.set...)
			stop, stops := objs["Job/golden-flink-session-pre-upgrade"]
			if stops != c.stops {
				t.Fatalf("pre-upgrade stop hook rendered: %v, want %v", stops, c.stops)
			}
			hooks := objs["Role/golden-flink-session-submit"].Metadata.Annotations["helm.sh/hook"]
			if strings.Contains(hooks, "pre-upgrade") != c.stops {
				t.Errorf("the hooks' Role runs on %q", hooks)
			}
			if !stops {
				return
			}
			want := ""
			if c.live != nil {
				want = c.live.GetAnnotations()["helm-flink.dev/pod-template-hash"]
			}
			if got := stop.Spec.Template.Spec.InitContainers[0].env("LIVE_HASH"); got != want {
				t.Errorf("LIVE_HASH %q, want the live Deployment's %q", got, want)
			}
		})
	}
}

// Without HA the job's savepoint must outlive the pods: a claim, or a savepoint dir of the user's.
func TestSubmitNeedsDurableSavepoints(t *testing.T) {
	ch := load(t, "flink-session")
	if _, err := renderErr(ch, []string{submitSet}, "persistence.enabled=false"); err == nil || !strings.Contains(err.Error(), "persistence.enabled=true") {
		t.Fatalf("submit without persistence or savepoint dir: %v, want the fix named", err)
	}
	for _, set := range [][]string{
		{"persistence.enabled=false", "flinkConfiguration.state\\.savepoints\\.dir=s3://bucket/savepoints"},
		{"persistence.enabled=false", "flinkConfiguration.execution\\.checkpointing\\.savepoint-dir=s3://bucket/savepoints"},
		{"persistence.enabled=false", "highAvailability.enabled=true", "highAvailability.storageDir=s3://bucket/ha"},
	} {
		if _, err := renderErr(ch, []string{submitSet}, set...); err != nil {
			t.Errorf("%v: %v", set, err)
		}
	}
}

// The pod template hash follows the JobManager's pod template, never the chart version.
func TestPodTemplateHashIgnoresChartVersion(t *testing.T) {
	ch := load(t, "flink-session")
	before := objects(t, renderChart(t, ch, []string{submitSet}))[jobmanager].Metadata.Annotations
	md := *ch.Metadata
	md.Version = semver.MustParse(md.Version).IncMajor().String()
	ch.Metadata = &md
	after := objects(t, renderChart(t, ch, []string{submitSet}))[jobmanager].Metadata.Annotations
	if before["helm-flink.dev/pod-template-hash"] == "" || before["helm-flink.dev/pod-template-hash"] != after["helm-flink.dev/pod-template-hash"] {
		t.Fatalf("pod template hash %q before the version bump, %q after", before["helm-flink.dev/pod-template-hash"], after["helm-flink.dev/pod-template-hash"])
	}
	changed := objects(t, renderChart(t, ch, []string{submitSet}, "jobmanager.memoryProcessSize=2g"))[jobmanager].Metadata.Annotations
	if changed["helm-flink.dev/pod-template-hash"] == after["helm-flink.dev/pod-template-hash"] {
		t.Fatal("a JobManager memory change keeps the pod template hash")
	}
}

// renderErr renders like renderChart, returning the error.
func renderErr(ch *chart.Chart, files []string, set ...string) (*helmrelease.Release, error) {
	vals, err := (&values.Options{ValueFiles: files, Values: set}).MergeValues(getter.Providers{})
	if err != nil {
		return nil, err
	}
	install := action.NewInstall(&action.Configuration{})
	install.DryRun, install.ClientOnly, install.Replace = true, true, true
	install.ReleaseName, install.Namespace = "golden", "flink"
	install.KubeVersion = &chartutil.KubeVersion{Version: "v1.37.2", Major: "1", Minor: "37"}
	return install.Run(ch, vals)
}
