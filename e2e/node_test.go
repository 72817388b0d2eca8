//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/remotecommand"

	"github.com/helm-flink/helm-flink/plugin/kube"
)

// realNode is the stack's kubelet node (ci/node.sh); every pod of a namespace from newNamespace
// runs there as a container.
const realNode = "helm-flink-node"

// newNamespace creates a fresh namespace whose pods run as real containers on the stack's node.
// Its cleanup deletes it and waits until it is gone, so no container outlives its test.
func newNamespace(t testing.TB) string {
	t.Helper()
	name := namespaceName(t)
	createNamespace(t, name)
	return name
}

// createNamespace creates namespace name, deleted by the test's cleanup as newNamespace's are.
func createNamespace(t testing.TB, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := env.cs.CoreV1().Namespaces().Create(t.Context(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if t.Failed() {
			describeNamespace(ctx, t, name)
		}
		if err := env.cs.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete namespace %s: %v", name, err)
			return
		}
		eventually(t, ctx, "namespace "+name+" is gone", func() (bool, string) {
			n, err := env.cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return true, ""
			}
			pods, _ := env.cs.CoreV1().Pods(name).List(ctx, metav1.ListOptions{})
			return false, fmt.Sprintf("%v, %d pods left", n.Status.Phase, len(pods.Items))
		})
	})
}

// execIn runs a command in a container through the API server and the kubelet's streaming.
func execIn(t testing.TB, ns, pod, container string, cmd ...string) (string, error) {
	t.Helper()
	req := env.cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(ns).Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Container: container, Command: cmd, Stdout: true, Stderr: true}, scheme.ParameterCodec)
	ex, err := remotecommand.NewSPDYExecutor(env.cfg, http.MethodPost, req.URL())
	if err != nil {
		return "", err
	}
	var out, errOut bytes.Buffer
	err = ex.StreamWithContext(t.Context(), remotecommand.StreamOptions{Stdout: &out, Stderr: &errOut})
	return out.String() + errOut.String(), err
}

func podLogs(t testing.TB, ns, pod, container string, previous bool) string {
	t.Helper()
	r, err := env.cs.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{Container: container, Previous: previous}).Stream(t.Context())
	if err != nil {
		t.Fatalf("logs of %s/%s: %v", pod, container, err)
	}
	defer r.Close()
	b, _ := io.ReadAll(r)
	return string(b)
}

// The node itself: containerd's runtime, the kubelet's volumes, probes, restarts, logs, exec,
// port-forward, ClusterIP Services and cluster DNS, a claim bound by the provisioner — what every
// other test on the node takes for granted.
func TestNodeRunsRealContainers(t *testing.T) {
	t.Parallel()
	node, err := env.cs.CoreV1().Nodes().Get(t.Context(), realNode, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v := node.Status.NodeInfo.ContainerRuntimeVersion; !strings.HasPrefix(v, "containerd://") {
		t.Fatalf("node %s runs %q, want containerd://…", realNode, v)
	}
	ns := newNamespace(t)
	apply(t, ns, nodeSmokeManifest)

	server := waitPods(t, ns, "app=web", podTimeout, "the web server is ready", allReady(1))[0]
	if server.Spec.NodeName != realNode {
		t.Fatalf("pod %s scheduled on %s, want %s", server.Name, server.Spec.NodeName, realNode)
	}

	t.Run("volumes, user and read-only root as the pod says", func(t *testing.T) {
		out, err := execIn(t, ns, server.Name, "web", "sh", "-c",
			`id -u; cat /config/greeting; cat /secret/token; test -s /var/run/secrets/kubernetes.io/serviceaccount/token && echo sa-token; `+
				`touch /scratch/x && echo scratch-writable; touch /x 2>/dev/null || echo root-read-only; cat /data/written-by-init`)
		if err != nil {
			t.Fatalf("exec: %v: %s", err, out)
		}
		for _, want := range []string{"9999", "hello from a ConfigMap", "s3cr3t", "sa-token", "scratch-writable", "root-read-only", "init was here"} {
			if !strings.Contains(out, want) {
				t.Errorf("exec output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("port-forward through the kubelet", func(t *testing.T) {
		pf, err := kube.ForwardPort(t.Context(), env.cfg, ns, server.Name, 8080, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer pf.Close()
		resp, err := http.Get(pf.URL() + "/greeting")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(body), "hello from a ConfigMap") {
			t.Fatalf("GET /greeting through port-forward: %s %q", resp.Status, body)
		}
	})

	t.Run("a Service by its DNS name from another pod", func(t *testing.T) {
		client := waitPods(t, ns, "app=client", podTimeout, "the client pod ran", func(p []corev1.Pod) bool {
			return len(p) == 1 && (p[0].Status.Phase == corev1.PodSucceeded || p[0].Status.Phase == corev1.PodFailed)
		})[0]
		logs := podLogs(t, ns, client.Name, "client", false)
		if client.Status.Phase != corev1.PodSucceeded || !strings.Contains(logs, "hello from a ConfigMap") {
			t.Fatalf("client pod %s: %s\n%s", client.Name, client.Status.Phase, logs)
		}
	})

	t.Run("a failing container restarts and its log is kept", func(t *testing.T) {
		p := waitPods(t, ns, "app=crash", podTimeout, "the crashing container restarted", func(p []corev1.Pod) bool {
			return len(p) == 1 && len(p[0].Status.ContainerStatuses) == 1 && p[0].Status.ContainerStatuses[0].RestartCount >= 1
		})[0]
		last := p.Status.ContainerStatuses[0].LastTerminationState.Terminated
		if last == nil || last.ExitCode != 3 {
			t.Fatalf("last termination %+v, want exit code 3", last)
		}
		// Between restarts (back-off) the log is the terminated container's.
		if logs := podLogs(t, ns, p.Name, "crash", false); !strings.Contains(logs, "exiting with 3") {
			t.Fatalf("log: %q", logs)
		}
	})

	t.Run("a claim is bound and its files outlive the pod", func(t *testing.T) {
		claim, err := env.cs.CoreV1().PersistentVolumeClaims(ns).Get(t.Context(), "data", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if claim.Status.Phase != corev1.ClaimBound {
			t.Fatalf("claim data is %s, want Bound", claim.Status.Phase)
		}
		if err := env.cs.CoreV1().Pods(ns).Delete(t.Context(), server.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		next := waitPods(t, ns, "app=web", 2*podTimeout, "a new web server is ready", func(p []corev1.Pod) bool {
			return len(p) == 1 && p[0].Name != server.Name && podReady(&p[0])
		})[0]
		out, err := execIn(t, ns, next.Name, "web", "sh", "-c", "grep -c 'init was here' /data/written-by-init")
		if err != nil || strings.TrimSpace(out) != "2" {
			t.Fatalf("the claim should hold both init containers' lines: %q, %v", out, err)
		}
	})
}

// The readiness probe is real (an HTTP GET by the kubelet); the init container writes to the claim
// and runs to completion before the server starts.
const nodeSmokeManifest = `
apiVersion: v1
kind: ConfigMap
metadata: {name: web}
data:
  greeting: hello from a ConfigMap
---
apiVersion: v1
kind: Secret
metadata: {name: web}
stringData: {token: s3cr3t}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 10Mi}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      securityContext: {runAsUser: 9999, runAsGroup: 9999, fsGroup: 9999, runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      initContainers:
      - name: init
        image: python:3.12-alpine
        command: [sh, -c, 'echo "init was here" >> /data/written-by-init']
        volumeMounts: [{name: data, mountPath: /data}]
        securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, readOnlyRootFilesystem: true}
      containers:
      - name: web
        image: python:3.12-alpine
        command: [python3, -m, http.server, "8080", --directory, /config]
        ports: [{containerPort: 8080, name: http}]
        readinessProbe: {httpGet: {path: /greeting, port: http}, periodSeconds: 1}
        resources: {requests: {cpu: 10m, memory: 32Mi}, limits: {memory: 64Mi}}
        securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, readOnlyRootFilesystem: true}
        volumeMounts:
        - {name: config, mountPath: /config}
        - {name: secret, mountPath: /secret}
        - {name: scratch, mountPath: /scratch}
        - {name: data, mountPath: /data}
      volumes:
      - {name: config, configMap: {name: web}}
      - {name: secret, secret: {secretName: web}}
      - {name: scratch, emptyDir: {}}
      - {name: data, persistentVolumeClaim: {claimName: data}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, labels: {app: client}}
spec:
  restartPolicy: Never
  containers:
  - name: client
    image: curlimages/curl:8.11.1
    command: [sh, -c, 'for i in $(seq 1 60); do curl -sf http://web/greeting && exit 0; sleep 1; done; exit 1']
    resources: {requests: {cpu: 10m, memory: 16Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: crash, labels: {app: crash}}
spec:
  restartPolicy: Always
  containers:
  - name: crash
    image: curlimages/curl:8.11.1
    command: [sh, -c, 'echo exiting with 3; exit 3']
    resources: {requests: {cpu: 10m, memory: 16Mi}}
`
