//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Where a savepoint lands decides whether it outlives its pod: written outside a volume it is
// lost with its JobManager pod; on a PersistentVolumeClaim, which the stack provisions as a real
// cluster's storage class would, it survives it.

// A savepoint into file:///tmp/sp, where no volume is, lands in the JobManager container's own
// file system — not in a TaskManager's, not on this machine — and is gone with the pod: the
// replacement JobManager cannot start a job from it, with Flink's own error.
func TestPathsSavepointOutsideVolumeIsLostWithPod(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	apply(t, ns, pathsSession(t, false))
	rest, jm := pathsSessionUp(t, ns, "")
	version := env.versions["FLINK1_VERSION"]
	job := rest.run(rest.upload(exampleJar(version, "TopSpeedWindowing")), 2)
	rest.waitAllTasksRunning(job, jobTimeout)
	sp := stopWithSavepointTo(t, rest, job, "file:///tmp/sp")
	if !strings.HasPrefix(sp, "/tmp/sp/savepoint-") {
		t.Fatalf("savepoint at %q, want it where the pod asked for it: /tmp/sp/savepoint-…", sp)
	}
	if out, err := execIn(t, ns, jm, "jobmanager", "test", "-f", sp+"/_metadata"); err != nil {
		t.Fatalf("the savepoint is not in the JobManager container's %s: %v %s", sp, err, out)
	}
	if _, err := os.Stat(sp); !os.IsNotExist(err) {
		t.Fatalf("the savepoint is on this machine's %s (%v): the pod wrote outside its container", sp, err)
	}
	for _, p := range waitPods(t, ns, tmSelector, podTimeout, "2 TaskManagers are ready", allReady(2)) {
		if _, err := execIn(t, ns, p.Name, "taskmanager", "test", "-e", sp); err == nil {
			t.Fatalf("TaskManager %s sees the JobManager's savepoint", p.Name)
		}
	}

	// The JobManager pod (with its TaskManagers) is deleted and replaced.
	rest = replaceSessionPods(t, ns, jm)
	id := rest.upload(exampleJar(version, "TopSpeedWindowing"))
	failure := runFromSavepoint(t, rest, id, "file:"+sp, true)
	if !strings.Contains(failure, "Cannot find checkpoint or savepoint") || !strings.Contains(failure, "FileNotFoundException") {
		t.Fatalf("starting from the lost savepoint did not fail with Flink's FileNotFoundException:\n%s", failure)
	}
}

// The same with a PersistentVolumeClaim at /flink-data on the JobManager and the TaskManagers: the
// savepoint is in the claim's folder, which every pod of the cluster mounts, and the replacement
// JobManager restores the job from it.
func TestPathsSavepointOnClaimSurvivesPod(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	apply(t, ns, pathsSession(t, true))
	claimFolder := boundClaimFolder(t, ns, "flink-data")
	rest, jm := pathsSessionUp(t, ns, "")
	version := env.versions["FLINK1_VERSION"]
	job := rest.run(rest.upload(exampleJar(version, "TopSpeedWindowing")), 2)
	rest.waitAllTasksRunning(job, jobTimeout)
	sp := stopWithSavepointTo(t, rest, job, "file:///flink-data/sp")
	if _, err := os.Stat(filepath.Join(claimFolder, strings.TrimPrefix(sp, "/flink-data"), "_metadata")); err != nil {
		t.Fatalf("the savepoint %s is not in the claim's folder: %v", sp, err)
	}
	// Every pod of the cluster sees it at the same path.
	pods, err := env.cs.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app=flink"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		if out, err := execIn(t, ns, p.Name, p.Spec.Containers[0].Name, "test", "-f", sp+"/_metadata"); err != nil {
			t.Fatalf("pod %s does not see the savepoint %s on the claim: %v %s", p.Name, sp, err, out)
		}
	}

	rest = replaceSessionPods(t, ns, jm)
	id := rest.upload(exampleJar(version, "TopSpeedWindowing"))
	restored := runFromSavepoint(t, rest, id, "file:"+sp, false)
	rest.waitAllTasksRunning(restored, jobTimeout)
	assertRestoredFrom(t, rest, restored, sp)
}

// A claim's life on the stack: the default StorageClass is given to a claim without one, the
// provisioner makes a volume (a folder), the real PV controller binds it; two pods that mount the
// claim see each other's files while their own /flink-data stays their own; deleting the claim
// deletes the volume and its folder.
func TestPathsClaimLifecycle(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "shared"}, Spec: corev1.PersistentVolumeClaimSpec{
		AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
		Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("64Mi")}},
	}}
	if _, err := env.cs.CoreV1().PersistentVolumeClaims(ns).Create(t.Context(), pvc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	folder := boundClaimFolder(t, ns, "shared")
	pvc, err := env.cs.CoreV1().PersistentVolumeClaims(ns).Get(t.Context(), "shared", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pvc.Spec.StorageClassName == nil || *pvc.Spec.StorageClassName != "standard" {
		t.Fatalf("claim without a class got class %v, want the default standard", pvc.Spec.StorageClassName)
	}
	pv, err := env.cs.CoreV1().PersistentVolumes().Get(t.Context(), pvc.Spec.VolumeName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	size := pv.Spec.Capacity[corev1.ResourceStorage]
	if pv.Annotations["pv.kubernetes.io/provisioned-by"] != "local.helm-flink.dev/hostpath" || size.String() != "64Mi" ||
		pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete || pv.Spec.ClaimRef == nil || pv.Spec.ClaimRef.UID != pvc.UID {
		t.Fatalf("provisioned volume %s: %+v", pv.Name, pv)
	}

	// Each pod writes its file on the claim and one into its own /flink-data, then waits for the
	// other's file on the claim: both succeed only if they share the claim.
	script := func(me, other string) string {
		return fmt.Sprintf(`set -eu
echo "from %[1]s" > /shared/%[1]s
mkdir -p /flink-data
echo private > /flink-data/%[1]s
for i in $(seq 1 240); do [ -f /shared/%[2]s ] && break; sleep 0.25; done
cat /shared/%[2]s
if [ -e /flink-data/%[2]s ]; then echo "%[2]s's /flink-data is mine" >&2; exit 1; fi`, me, other)
	}
	for _, me := range []string{"a", "b"} {
		other := map[string]string{"a": "b", "b": "a"}[me]
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "pod-" + me, Labels: map[string]string{"app": "claim-user"}}, Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{Name: "main", Image: "python:3.12-alpine", Command: []string{"sh", "-c", script(me, other)},
				VolumeMounts: []corev1.VolumeMount{{Name: "shared", MountPath: "/shared"}}}},
			Volumes: []corev1.Volume{{Name: "shared", VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "shared"}}}},
		}}
		if _, err := env.cs.CoreV1().Pods(ns).Create(t.Context(), pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	waitPods(t, ns, "app=claim-user", podTimeout, "both pods saw each other's file on the claim", func(pods []corev1.Pod) bool {
		done := 0
		for _, p := range pods {
			if p.Status.Phase == corev1.PodFailed {
				t.Fatalf("pod %s failed:\n%s", p.Name, podLogs(t, ns, p.Name, "main", false))
			}
			if p.Status.Phase == corev1.PodSucceeded {
				done++
			}
		}
		return done == 2
	})
	for me, other := range map[string]string{"a": "b", "b": "a"} {
		if logs := podLogs(t, ns, "pod-"+me, "main", false); !strings.Contains(logs, "from "+other) {
			t.Fatalf("pod-%s did not read pod-%s's file:\n%s", me, other, logs)
		}
		if got, err := os.ReadFile(filepath.Join(folder, me)); err != nil || string(got) != "from "+me+"\n" {
			t.Fatalf("the claim's folder has %q (%v) for pod-%s", got, err, me)
		}
	}
	entries, _ := os.ReadDir(folder)
	if len(entries) != 2 {
		t.Fatalf("the claim's folder holds %d files, want only the two written to the claim", len(entries))
	}

	// The claim goes (once no pod uses it): the volume and its folder go with it.
	if err := env.cs.CoreV1().Pods(ns).DeleteCollection(t.Context(), metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "app=claim-user"}); err != nil {
		t.Fatal(err)
	}
	if err := env.cs.CoreV1().PersistentVolumeClaims(ns).Delete(t.Context(), "shared", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, timeout(t, 90*time.Second), "the released volume and its folder are deleted", func() (bool, string) {
		_, err := env.cs.CoreV1().PersistentVolumes().Get(t.Context(), pv.Name, metav1.GetOptions{})
		_, ferr := os.Stat(folder)
		return apierrors.IsNotFound(err) && os.IsNotExist(ferr), fmt.Sprintf("volume: %v; folder: %v", err, ferr)
	})
}

func timeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// pathsSession is ci/smoke/session.yaml's session cluster (Flink 1.20), with a claim
// `flink-data` mounted at /flink-data on the JobManager and the TaskManagers when claim is set.
func pathsSession(t *testing.T, claim bool) string {
	var b bytes.Buffer
	if err := pathsSessionTemplate.Execute(&b, map[string]any{"Claim": claim, "Image": "flink:1.20-java17"}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

var pathsSessionTemplate = template.Must(template.New("session").Parse(`
{{- define "volumes" }}
        volumeMounts:
        - {name: flink-config-volume, mountPath: /opt/flink/conf}
        {{- if .Claim }}
        - {name: flink-data, mountPath: /flink-data}
        {{- end }}
      volumes:
      - name: flink-config-volume
        configMap:
          name: flink-config
          items:
          - {key: config.yaml, path: config.yaml}
          - {key: log4j-console.properties, path: log4j-console.properties}
      {{- if .Claim }}
      - name: flink-data
        persistentVolumeClaim: {claimName: flink-data}
      {{- end }}
{{- end }}
{{- if .Claim }}
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: flink-data
spec:
  accessModes: [ReadWriteMany]
  resources:
    requests: {storage: 1Gi}
---
{{- end }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: flink-config
  labels: {app: flink}
data:
  config.yaml: |
    jobmanager:
      rpc: {address: flink-jobmanager, port: 6123}
      memory: {process: {size: 1600m}}
    blob: {server: {port: 6124}}
    rest: {port: 8081}
    taskmanager:
      numberOfTaskSlots: 2
      rpc: {port: 6122}
      memory: {process: {size: 1728m}}
    parallelism: {default: 2}
    env: {java: {opts: {all: "--add-exports=java.base/sun.net.util=ALL-UNNAMED --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED --add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.text=ALL-UNNAMED --add-opens=java.base/java.time=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED"}}} # Flink's default config.yaml has these Java 17 options
  log4j-console.properties: |
    rootLogger.level = INFO
    rootLogger.appenderRef.console.ref = ConsoleAppender
    appender.console.name = ConsoleAppender
    appender.console.type = CONSOLE
    appender.console.layout.type = PatternLayout
    appender.console.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
---
apiVersion: v1
kind: Service
metadata:
  name: flink-jobmanager
spec:
  selector: {app: flink, component: jobmanager}
  ports:
  - {name: rpc, port: 6123}
  - {name: blob-server, port: 6124}
  - {name: webui, port: 8081}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: flink-jobmanager
spec:
  replicas: 1
  strategy: {type: Recreate}
  selector:
    matchLabels: {app: flink, component: jobmanager}
  template:
    metadata:
      labels: {app: flink, component: jobmanager}
    spec:
      containers:
      - name: jobmanager
        image: {{ .Image }}
        args: ["jobmanager"]
        ports:
        - {containerPort: 6123, name: rpc}
        - {containerPort: 6124, name: blob-server}
        - {containerPort: 8081, name: webui}
        readinessProbe:
          tcpSocket: {port: webui}
          periodSeconds: 2
        resources:
          requests: {cpu: 50m, memory: 1600Mi}
{{- template "volumes" . }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: flink-taskmanager
spec:
  replicas: 2
  selector:
    matchLabels: {app: flink, component: taskmanager}
  template:
    metadata:
      labels: {app: flink, component: taskmanager}
    spec:
      containers:
      - name: taskmanager
        image: {{ .Image }}
        args: ["taskmanager"]
        ports:
        - {containerPort: 6122, name: rpc}
        readinessProbe:
          tcpSocket: {port: rpc}
          periodSeconds: 2
        resources:
          requests: {cpu: 50m, memory: 1728Mi}
{{- template "volumes" . }}
`))

// pathsSessionUp waits for the session cluster's pods (a JobManager other than old) and for both
// TaskManagers to register; it returns the REST API and the JobManager pod's name.
func pathsSessionUp(t *testing.T, ns, old string) (*flinkREST, string) {
	t.Helper()
	jms := waitPods(t, ns, jmSelector, podTimeout, "the JobManager is ready", func(pods []corev1.Pod) bool {
		return allReady(1)(pods) && pods[0].Name != old
	})
	waitPods(t, ns, tmSelector, podTimeout, "2 TaskManagers are ready", allReady(2))
	rest := forwardREST(t, ns, jms[0].Name)
	eventually(t, timeout(t, 60*time.Second), "2 TaskManagers registered", func() (bool, string) {
		var o overview
		if err := rest.try(http.MethodGet, "/overview", nil, "", &o); err != nil {
			return false, err.Error()
		}
		return o.TaskManagers == 2 && o.SlotsTotal == 4, fmt.Sprintf("%+v", o)
	})
	return rest, jms[0].Name
}

// replaceSessionPods deletes the JobManager pod and the TaskManager pods — a fresh cluster on the
// same volumes — and waits for their replacements.
func replaceSessionPods(t *testing.T, ns, jm string) *flinkREST {
	t.Helper()
	if err := env.cs.CoreV1().Pods(ns).DeleteCollection(t.Context(), metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "app=flink"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, timeout(t, 60*time.Second), "JobManager pod "+jm+" is gone", func() (bool, string) {
		_, err := env.cs.CoreV1().Pods(ns).Get(t.Context(), jm, metav1.GetOptions{})
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
	rest, _ := pathsSessionUp(t, ns, jm)
	return rest
}

// stopWithSavepointTo stops a job with a savepoint into dir ("" for the cluster's
// state.savepoints.dir) and returns the savepoint's path as the pods see it.
func stopWithSavepointTo(t *testing.T, rest *flinkREST, jobID, dir string) string {
	t.Helper()
	var trig struct {
		RequestID string `json:"request-id"`
	}
	body := fmt.Sprintf(`{"drain": false, "targetDirectory": %q}`, dir)
	if dir == "" { // the cluster's state.savepoints.dir
		body = `{"drain": false}`
	}
	rest.do(http.MethodPost, "/jobs/"+jobID+"/stop", strings.NewReader(body), "application/json", &trig)
	var location string
	eventually(t, timeout(t, 2*time.Minute), "the savepoint completes", func() (bool, string) {
		var st struct {
			Status    struct{ ID string } `json:"status"`
			Operation struct {
				Location     string `json:"location"`
				FailureCause *struct {
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
	return strings.TrimPrefix(location, "file:")
}

// runFromSavepoint runs an uploaded jar from a savepoint. With fail it returns Flink's error
// (the run's, or the failed job's exceptions); otherwise the job's id.
func runFromSavepoint(t *testing.T, rest *flinkREST, jarID, savepoint string, fail bool) string {
	t.Helper()
	var res struct {
		JobID string `json:"jobid"`
	}
	body := fmt.Sprintf(`{"parallelism": 2, "savepointPath": %q}`, savepoint)
	err := rest.try(http.MethodPost, "/jars/"+jarID+"/run", strings.NewReader(body), "application/json", &res)
	if !fail {
		if err != nil {
			t.Fatal(err)
		}
		return res.JobID
	}
	if err != nil {
		return err.Error()
	}
	// Accepted: the JobManager fails the job when it initializes it.
	var exceptions json.RawMessage
	eventually(t, timeout(t, 60*time.Second), "job "+res.JobID+" fails", func() (bool, string) {
		var d jobDetails
		if err := rest.try(http.MethodGet, "/jobs/"+res.JobID, nil, "", &d); err != nil {
			return false, err.Error()
		}
		if d.State == "RUNNING" || d.State == "FINISHED" {
			t.Fatalf("job %s from the lost savepoint is %s", res.JobID, d.State)
		}
		return d.State == "FAILED", d.State
	})
	rest.get("/jobs/"+res.JobID+"/exceptions", &exceptions)
	return string(exceptions)
}

// boundClaimFolder waits until the real PV controller bound a claim and returns the folder of its
// volume on this machine.
func boundClaimFolder(t *testing.T, ns, claim string) string {
	t.Helper()
	var folder string
	eventually(t, timeout(t, 60*time.Second), "claim "+claim+" is bound", func() (bool, string) {
		pvc, err := env.cs.CoreV1().PersistentVolumeClaims(ns).Get(t.Context(), claim, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		if pvc.Status.Phase != corev1.ClaimBound {
			return false, string(pvc.Status.Phase)
		}
		pv, err := env.cs.CoreV1().PersistentVolumes().Get(t.Context(), pvc.Spec.VolumeName, metav1.GetOptions{})
		if err != nil || pv.Spec.HostPath == nil {
			return false, fmt.Sprintf("volume %s: %v", pvc.Spec.VolumeName, err)
		}
		folder = pv.Spec.HostPath.Path
		return true, ""
	})
	if fi, err := os.Stat(folder); err != nil || !fi.IsDir() {
		t.Fatalf("the claim's folder %s: %v", folder, err)
	}
	return folder
}
