package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/fake"
)

// testRunner is a runner on a fake API server with one ready pod behind Service jars.repo:8080
// (targetPort http), whose process listens on local port jarPort.
func testRunner(t *testing.T, jarPort int32, objs ...any) *runner {
	t.Helper()
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "jars", Namespace: "repo"}, Spec: corev1.ServiceSpec{
		Selector: map[string]string{"app": "jars"},
		Ports:    []corev1.ServicePort{{Port: 8080, TargetPort: intstr.FromString("http")}},
	}}
	empty := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "nobody", Namespace: "repo"}, Spec: corev1.ServiceSpec{
		Selector: map[string]string{"app": "nobody"}, Ports: []corev1.ServicePort{{Port: 80}},
	}}
	cs := fake.NewClientset(svc, empty)
	for _, o := range objs {
		if p, ok := o.(*corev1.Pod); ok {
			if _, err := cs.CoreV1().Pods(p.Namespace).Create(t.Context(), p, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	r := &runner{cs: cs, log: log.New(io.Discard, "", 0), workdir: t.TempDir(),
		workers: map[podKey]*worker{}, pids: map[int]bool{}, jmCh: make(chan struct{})}
	server := &worker{r: r, ns: "repo", name: "jars-0", role: roleHTTPServer, labels: labels.Set{"app": "jars"},
		containerPorts: map[string]int32{"http": 8080}, declaredPort: map[string]int32{"http": 8080},
		localPort: map[string]int32{"http": jarPort}, info: processInfo{Ready: true}}
	r.workers["repo/jars-0/1"] = server
	return r
}

func TestRewriteAddresses(t *testing.T) {
	r := testRunner(t, 41234)
	for in, want := range map[string]string{
		`curl -o x "http://jars.repo.svc:8080/Job.jar"`:                `curl -o x "http://127.0.0.1:41234/Job.jar"`,
		"http://jars.repo.svc.cluster.local:8080/a http://jars:8080/b": "http://127.0.0.1:41234/a http://jars:8080/b",
		"jars.repo:8080":                        "127.0.0.1:41234",
		"https://repo.example.com/jobs/x.jar":   "https://repo.example.com/jobs/x.jar",
		"http://127.0.0.1:8080/x":               "http://127.0.0.1:8080/x",
		"http://missing.repo.svc:8080/x":        "http://missing.repo.svc:8080/x",
		"http://jars.repo.svc:9999x/not-a-port": "http://jars.repo.svc:9999x/not-a-port",
	} {
		got, err := r.rewriteAddresses(t.Context(), "ns", in)
		if err != nil || got != want {
			t.Errorf("rewriteAddresses(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	// In the pod's own namespace a bare Service name is enough.
	if got, err := r.rewriteAddresses(t.Context(), "repo", "http://jars:8080/b"); err != nil || got != "http://127.0.0.1:41234/b" {
		t.Errorf("bare name in its namespace: %q, %v", got, err)
	}
	// A Service without a ready pod is waited for, as for the address in a bash pod's env.
	_, err := r.rewriteAddresses(t.Context(), "ns", "http://nobody.repo.svc/x")
	var wait *errWaiting
	if !errors.As(err, &wait) {
		t.Errorf("a Service with no ready pod: err %v, want errWaiting", err)
	}
	// A pod being deleted serves no Service, even while its process still runs.
	r.workers["repo/jars-0/1"].removing = true
	if _, err := r.rewriteAddresses(t.Context(), "repo", "http://jars:8080/b"); !errors.As(err, &wait) {
		t.Errorf("a Service whose only pod is being deleted: err %v, want errWaiting", err)
	}
}

// A TaskManager never gets the port of a JobManager pod that is being deleted: it waits for the
// replacement.
func TestResolveJobManagerSkipsDeletedPods(t *testing.T) {
	r := testRunner(t, 1)
	jm := &worker{r: r, ns: "ns", name: "jm-old", role: roleJobManager, labels: labels.Set{"app": "flink"},
		localPort: map[string]int32{"jobmanager.rpc.port": 40001}, info: processInfo{Ready: true}}
	r.workers["ns/jm-old/1"] = jm
	if port, err := r.resolveJobManager(t.Context(), "ns", "jm-old"); err != nil || port != 40001 {
		t.Fatalf("resolveJobManager = %d, %v", port, err)
	}
	jm.removing = true
	var wait *errWaiting
	if port, err := r.resolveJobManager(t.Context(), "ns", "jm-old"); !errors.As(err, &wait) {
		t.Fatalf("a JobManager pod being deleted: port %d, err %v; want errWaiting", port, err)
	}
}

func TestParseHTTPServer(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want httpServerArgs
	}{
		{[]string{"-m", "http.server", "8080", "--directory", "/srv"}, httpServerArgs{8080, "/srv"}},
		{[]string{"-m", "http.server", "-b", "0.0.0.0", "--directory=/srv/jars"}, httpServerArgs{8000, "/srv/jars"}},
		{[]string{"-m", "http.server", "-d", "/srv", "9000"}, httpServerArgs{9000, "/srv"}},
	} {
		got, err := parseHTTPServer(tc.args, "")
		if err != nil || got != tc.want {
			t.Errorf("parseHTTPServer(%q) = %+v, %v; want %+v", tc.args, got, err, tc.want)
		}
	}
	if got, err := parseHTTPServer([]string{"-m", "http.server"}, "/work"); err != nil || got.directory != "/work" {
		t.Errorf("workingDir is the default directory: %+v, %v", got, err)
	}
	for _, bad := range [][]string{{"app.py"}, {"-m", "http.server"}, {"-m", "http.server", "--cgi", "-d", "/srv"}, {"-m", "http.server", "-d"}} {
		if _, err := parseHTTPServer(bad, ""); err == nil {
			t.Errorf("parseHTTPServer(%q) must fail", bad)
		}
	}
}

// fetchPod is a pod like the chart's application JobManager with the jar fetcher as init container.
func fetchPod(policy corev1.RestartPolicy, scripts ...string) *corev1.Pod {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "jm", Namespace: "ns", UID: "0123456789"}, Spec: corev1.PodSpec{
		RestartPolicy: policy,
		Volumes:       []corev1.Volume{{Name: "usrlib", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
		Containers: []corev1.Container{{Name: "jobmanager", Args: []string{"standalone-job"},
			VolumeMounts: []corev1.VolumeMount{{Name: "usrlib", MountPath: "/opt/flink/usrlib"}}}},
	}}
	for i, s := range scripts {
		pod.Spec.InitContainers = append(pod.Spec.InitContainers, corev1.Container{
			Name: fmt.Sprintf("init-%d", i), Command: []string{"sh", "-c", s},
			Env:          []corev1.EnvVar{{Name: "REPO", Value: "http://jars.repo.svc:8080"}},
			VolumeMounts: []corev1.VolumeMount{{Name: "usrlib", MountPath: "/opt/flink/usrlib"}},
		})
	}
	return pod
}

func newTestWorker(t *testing.T, r *runner, pod *corev1.Pod) *worker {
	w := &worker{r: r, ns: pod.Namespace, name: pod.Name, uid: pod.UID, role: flinkRole(pod), dir: t.TempDir(),
		usrlib: usrlibVolume(pod), inits: initStatuses(pod), initDone: len(pod.Spec.InitContainers) == 0}
	return w
}

func podStatus(t *testing.T, r *runner, pod *corev1.Pod) corev1.PodStatus {
	t.Helper()
	p, err := r.cs.CoreV1().Pods(pod.Namespace).Get(t.Context(), pod.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p.Status
}

// The chart's fetcher, for real: curl through the Service address into the usrlib emptyDir, then
// sha256sum -c. The jar lands in the Flink process's usrlib; the pod's status follows.
func TestInitContainersFetchIntoUsrlib(t *testing.T) {
	jar := []byte("PK\x03\x04 a job jar")
	sum := fmt.Sprintf("%x", sha256.Sum256(jar))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/Job.jar" {
			http.NotFound(w, req)
			return
		}
		w.Write(jar)
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	var local int32
	fmt.Sscan(port, &local)

	pod := fetchPod(corev1.RestartPolicyOnFailure,
		`set -eu; echo first > /opt/flink/usrlib/order.txt`,
		"set -eu\ncurl -fsSL -o \"/opt/flink/usrlib/Job.jar\" \"$(REPO)/Job.jar\"\n"+
			"echo \""+sum+"  /opt/flink/usrlib/Job.jar\" | sha256sum -c -\ncat /opt/flink/usrlib/order.txt\n")
	r := testRunner(t, local, pod)
	w := newTestWorker(t, r, pod)
	// A failing init container would restart for ever: give up after a while.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if !w.runInits(ctx, pod) {
		t.Fatalf("init containers did not complete: %+v", podStatus(t, r, pod).InitContainerStatuses)
	}
	got, err := os.ReadFile(filepath.Join(w.dir, "usrlib", "Job.jar"))
	if err != nil || string(got) != string(jar) {
		t.Fatalf("usrlib/Job.jar = %q, %v; want the served jar", got, err)
	}
	out, _ := os.ReadFile(filepath.Join(w.dir, "log", "init-1.log"))
	if !strings.Contains(string(out), "Job.jar: OK") || !strings.Contains(string(out), "stdout F first") {
		t.Errorf("the fetcher's log lacks the checksum result or the first init container's file:\n%s", out)
	}
	st := podStatus(t, r, pod)
	if len(st.InitContainerStatuses) != 2 {
		t.Fatalf("init statuses %+v", st.InitContainerStatuses)
	}
	for _, s := range st.InitContainerStatuses {
		if s.State.Terminated == nil || s.State.Terminated.ExitCode != 0 || s.RestartCount != 0 {
			t.Errorf("init container %s: %+v, want terminated with 0", s.Name, s.State)
		}
	}
}

func TestFailedInitContainerStopsThePod(t *testing.T) {
	t.Run("restartPolicy Never fails the pod", func(t *testing.T) {
		pod := fetchPod(corev1.RestartPolicyNever, "echo nope >&2; exit 3", "touch /opt/flink/usrlib/never")
		r := testRunner(t, 1, pod)
		w := newTestWorker(t, r, pod)
		if w.runInits(t.Context(), pod) {
			t.Fatal("runInits went on after a failed init container")
		}
		st := podStatus(t, r, pod)
		if st.Phase != corev1.PodFailed {
			t.Errorf("phase %s, want Failed", st.Phase)
		}
		if term := st.InitContainerStatuses[0].State.Terminated; term == nil || term.ExitCode != 3 || term.Reason != "Error" {
			t.Errorf("first init container: %+v, want terminated with exit code 3", st.InitContainerStatuses[0].State)
		}
		if wt := st.InitContainerStatuses[1].State.Waiting; wt == nil {
			t.Errorf("second init container ran: %+v", st.InitContainerStatuses[1].State)
		}
		if _, err := os.Stat(filepath.Join(w.dir, "usrlib", "never")); err == nil {
			t.Error("the second init container ran after the first failed")
		}
		assertNotStarted(t, st)
	})
	t.Run("restartPolicy OnFailure restarts it with back-off", func(t *testing.T) {
		pod := fetchPod(corev1.RestartPolicyOnFailure, "echo run >> /opt/flink/usrlib/runs; exit 1")
		r := testRunner(t, 1, pod)
		w := newTestWorker(t, r, pod)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan bool)
		go func() { done <- w.runInits(ctx, pod) }()
		deadline := time.Now().Add(10 * time.Second)
		var st corev1.PodStatus
		for {
			st = podStatus(t, r, pod)
			if len(st.InitContainerStatuses) == 1 && st.InitContainerStatuses[0].RestartCount >= 2 && st.InitContainerStatuses[0].State.Waiting != nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no second restart: %+v", st.InitContainerStatuses)
			}
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
		if <-done {
			t.Fatal("runInits completed with a failing init container")
		}
		s := st.InitContainerStatuses[0]
		if s.State.Waiting.Reason != "CrashLoopBackOff" || s.LastTerminationState.Terminated == nil || s.LastTerminationState.Terminated.ExitCode != 1 {
			t.Errorf("init container: %+v, want CrashLoopBackOff after exit code 1", s)
		}
		if st.Phase != corev1.PodPending {
			t.Errorf("phase %s, want Pending", st.Phase)
		}
		if runs, _ := os.ReadFile(filepath.Join(w.dir, "usrlib", "runs")); strings.Count(string(runs), "run") < 2 {
			t.Errorf("the init container ran %d times, want a restart", strings.Count(string(runs), "run"))
		}
		assertNotStarted(t, st)
	})
}

func assertNotStarted(t *testing.T, st corev1.PodStatus) {
	t.Helper()
	for _, c := range st.Conditions {
		if c.Type == corev1.PodInitialized && c.Status != corev1.ConditionFalse {
			t.Errorf("Initialized is %s", c.Status)
		}
	}
	if len(st.ContainerStatuses) != 1 {
		t.Fatalf("container statuses %+v", st.ContainerStatuses)
	}
	c := st.ContainerStatuses[0]
	if c.State.Waiting == nil || c.State.Waiting.Reason != "PodInitializing" || c.RestartCount != 0 {
		t.Errorf("main container: %+v, want waiting PodInitializing", c.State)
	}
}

func TestRunnableInit(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	for want, c := range map[bool]corev1.Container{
		true:  {Command: []string{"sh", "-c", "x"}},
		false: {Command: []string{"/busybox/wget"}},
	} {
		if got := runnableInit(&c); got != want {
			t.Errorf("runnableInit(%v) = %v", c.Command, got)
		}
	}
	for _, c := range []corev1.Container{{Command: []string{"/bin/bash", "-c", "x"}}, {Command: []string{"bash"}}, {Command: []string{"/bin/sh"}}} {
		if !runnableInit(&c) {
			t.Errorf("runnableInit(%v) = false", c.Command)
		}
	}
	for _, c := range []corev1.Container{{Args: []string{"sh"}}, {Command: []string{"sh", "-c", "x"}, RestartPolicy: &always}} {
		if runnableInit(&c) {
			t.Errorf("runnableInit(%+v) = true", c)
		}
	}
}
