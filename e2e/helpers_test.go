//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"

	"github.com/helm-flink/helm-flink/plugin/kube"
)

func namespaceName(t testing.TB) string {
	name := strings.ToLower(regexp.MustCompile(`[^a-zA-Z0-9]+`).ReplaceAllString(t.Name(), "-"))
	if len(name) > 40 {
		name = name[:40]
	}
	return fmt.Sprintf("e2e-%s-%04x", strings.Trim(name, "-"), rand.IntN(1<<16))
}

// eventually polls cond until it holds; for state that has no watch (Flink's REST API, processes).
func eventually(t testing.TB, ctx context.Context, what string, cond func() (bool, string)) {
	t.Helper()
	last := ""
	for {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting until %s; last state: %s", what, last)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// applyFile server-side-applies a manifest of ci/smoke with ${VAR}s substituted.
func applyFile(t *testing.T, ns, file string, vars map[string]string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(env.root, "ci/smoke", file))
	if err != nil {
		t.Fatal(err)
	}
	text := os.Expand(string(data), func(k string) string {
		v, ok := vars[k]
		if !ok {
			t.Fatalf("%s: no value for ${%s}", file, k)
		}
		return v
	})
	apply(t, ns, text)
}

func apply(t *testing.T, ns, manifest string) {
	t.Helper()
	forEachObject(t, ns, manifest, func(u *unstructured.Unstructured, r dynamic.ResourceInterface) {
		if _, err := r.Apply(t.Context(), u.GetName(), u, metav1.ApplyOptions{FieldManager: "e2e", Force: true}); err != nil {
			t.Fatalf("apply %s %s: %v", u.GetKind(), u.GetName(), err)
		}
	})
}

// forEachObject calls f with each object of a multi-document manifest and its API resource.
func forEachObject(t *testing.T, ns, manifest string, f func(*unstructured.Unstructured, dynamic.ResourceInterface)) {
	t.Helper()
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(env.cs.Discovery()))
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(manifest), 4096)
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) {
				return
			}
			t.Fatalf("decode manifest: %v", err)
		}
		if obj == nil {
			continue
		}
		u := &unstructured.Unstructured{Object: obj}
		m, err := mapper.RESTMapping(u.GroupVersionKind().GroupKind(), u.GroupVersionKind().Version)
		if err != nil {
			t.Fatalf("%s: %v", u.GetKind(), err)
		}
		f(u, env.dyn.Resource(m.Resource).Namespace(ns))
	}
}

// waitPods waits, with a watch, until the pods matching selector satisfy cond.
func waitPods(t *testing.T, ns, selector string, timeout time.Duration, what string, cond func([]corev1.Pod) bool) []corev1.Pod {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.LabelSelector = selector
			return env.cs.CoreV1().Pods(ns).List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.LabelSelector = selector
			return env.cs.CoreV1().Pods(ns).Watch(ctx, o)
		},
	}
	var pods []corev1.Pod
	var store cache.Store
	check := func() bool {
		pods = pods[:0]
		for _, o := range store.List() {
			pods = append(pods, *o.(*corev1.Pod))
		}
		return cond(pods)
	}
	_, err := watchtools.UntilWithSync(ctx, lw, &corev1.Pod{},
		func(s cache.Store) (bool, error) { store = s; return check(), nil },
		func(watch.Event) (bool, error) { return check(), nil })
	if err != nil {
		t.Fatalf("timed out waiting until %s (%s); pods: %s", what, selector, describePods(pods))
	}
	return pods
}

func describePods(pods []corev1.Pod) string {
	var b strings.Builder
	for _, p := range pods {
		fmt.Fprintf(&b, "\n  %s phase=%s ready=%v", p.Name, p.Status.Phase, podReady(&p))
		for _, c := range p.Status.ContainerStatuses {
			fmt.Fprintf(&b, " restarts=%d", c.RestartCount)
			if c.State.Waiting != nil {
				fmt.Fprintf(&b, " waiting=%s(%s)", c.State.Waiting.Reason, c.State.Waiting.Message)
			}
		}
	}
	return b.String()
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func allReady(n int) func([]corev1.Pod) bool {
	return func(pods []corev1.Pod) bool {
		ready := 0
		for i := range pods {
			if pods[i].DeletionTimestamp == nil && podReady(&pods[i]) {
				ready++
			}
		}
		return ready == n && len(pods) == n
	}
}

// flinkREST is a port-forward through the API server to a JobManager pod's REST port.
type flinkREST struct {
	t    *testing.T
	base string
}

func forwardREST(t *testing.T, ns, pod string) *flinkREST {
	t.Helper()
	pf, err := kube.ForwardPort(t.Context(), env.cfg, ns, pod, 8081, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pf.Close)
	return &flinkREST{t: t, base: pf.URL()}
}

func (f *flinkREST) do(method, path string, body io.Reader, contentType string, out any) {
	f.t.Helper()
	if err := f.try(method, path, body, contentType, out); err != nil {
		f.t.Fatal(err)
	}
}

// try is do without failing the test: for polling through leader elections and restarts.
func (f *flinkREST) try(method, path string, body io.Reader, contentType string, out any) error {
	req, err := http.NewRequestWithContext(f.t.Context(), method, f.base+path, body)
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := restClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return nil
}

func (f *flinkREST) get(path string, out any) { f.do(http.MethodGet, path, nil, "", out) }

// waitAnswers polls GET /overview until the JobManager answers it, and returns the answer: a
// JobManager that is ready, even one a HA ConfigMap names as the leader, may still be retrieving
// its leader's gateway and answer 503 ("ongoing leader election") to every other request.
func (f *flinkREST) waitAnswers(timeout time.Duration) overview {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(f.t.Context(), timeout)
	defer cancel()
	var o overview
	eventually(f.t, ctx, "the JobManager answers GET /overview", func() (bool, string) {
		err := f.try(http.MethodGet, "/overview", nil, "", &o)
		return err == nil, fmt.Sprint(err)
	})
	return o
}

type overview struct {
	TaskManagers   int    `json:"taskmanagers"`
	SlotsTotal     int    `json:"slots-total"`
	SlotsAvailable int    `json:"slots-available"`
	FlinkVersion   string `json:"flink-version"`
}

// upload sends a jar with multipart/form-data field "jarfile" and returns the jar id.
func (f *flinkREST) upload(jar string) string {
	f.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, err := mw.CreateFormFile("jarfile", filepath.Base(jar))
	if err != nil {
		f.t.Fatal(err)
	}
	data, err := os.ReadFile(jar)
	if err != nil {
		f.t.Fatal(err)
	}
	part.Write(data)
	mw.Close()
	var res struct {
		Filename string `json:"filename"`
		Status   string `json:"status"`
	}
	f.do(http.MethodPost, "/jars/upload", &body, mw.FormDataContentType(), &res)
	if res.Status != "success" {
		f.t.Fatalf("jar upload: status %q", res.Status)
	}
	return filepath.Base(res.Filename)
}

func (f *flinkREST) run(jarID string, parallelism int) string {
	f.t.Helper()
	var res struct {
		JobID string `json:"jobid"`
	}
	body := fmt.Sprintf(`{"parallelism": %d}`, parallelism)
	f.do(http.MethodPost, "/jars/"+jarID+"/run", strings.NewReader(body), "application/json", &res)
	if res.JobID == "" {
		f.t.Fatal("jar run returned no job id")
	}
	return res.JobID
}

type jobDetails struct {
	State    string `json:"state"`
	Vertices []struct {
		ID          string         `json:"id"`
		Name        string         `json:"name"`
		Parallelism int            `json:"parallelism"`
		Status      string         `json:"status"`
		Tasks       map[string]int `json:"tasks"`
	} `json:"vertices"`
}

// parallelism is the job's widest vertex.
func (d jobDetails) parallelism() int {
	n := 0
	for _, v := range d.Vertices {
		n = max(n, v.Parallelism)
	}
	return n
}

// waitAllTasksRunning waits until the job is RUNNING and every task of every vertex runs (or has
// finished): a job is RUNNING as soon as scheduling starts, before its tasks are deployed.
func (f *flinkREST) waitAllTasksRunning(jobID string, timeout time.Duration) jobDetails {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(f.t.Context(), timeout)
	defer cancel()
	var d jobDetails
	eventually(f.t, ctx, "every task of job "+jobID+" is RUNNING", func() (bool, string) {
		d = jobDetails{}
		if err := f.try(http.MethodGet, "/jobs/"+jobID, nil, "", &d); err != nil {
			return false, err.Error() // not submitted yet, or a leader election
		}
		if d.State == "FAILED" {
			f.t.Fatalf("job %s failed", jobID)
		}
		if d.State != "RUNNING" || len(d.Vertices) == 0 {
			return false, "job state " + d.State
		}
		for _, v := range d.Vertices {
			if v.Tasks["RUNNING"]+v.Tasks["FINISHED"] != v.Parallelism {
				return false, fmt.Sprintf("vertex %q tasks %v of %d", v.Name, v.Tasks, v.Parallelism)
			}
		}
		return true, ""
	})
	return d
}

func exampleJar(version, name string) string {
	home, _ := os.UserHomeDir()
	cache := os.Getenv("HELM_FLINK_CACHE")
	if cache == "" {
		cache = filepath.Join(home, ".cache/helm-flink")
	}
	return filepath.Join(cache, "flink", version, "examples", name+".jar")
}

// restClient bounds every REST call: a port-forward to a process that went away must fail, not hang.
var restClient = &http.Client{Timeout: 15 * time.Second}

// startRegistry starts an OCI registry (the distribution registry, in memory) on 127.0.0.1 for the
// test and returns its host:port.
func startRegistry(t *testing.T) string {
	t.Helper()
	addr := freeAddr(t)
	cfg := &configuration.Configuration{}
	cfg.HTTP.Addr = addr
	cfg.Storage = configuration.Storage{"inmemory": configuration.Parameters{}}
	cfg.Log.Level = "panic" // a missing blob before a push is normal: keep the test log clean
	cfg.Log.AccessLog.Disabled = true
	reg, err := registry.NewRegistry(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	go reg.ListenAndServe()
	t.Cleanup(func() { reg.Shutdown(context.Background()) })
	return addr
}

// background is a command started with its output (stdout and stderr) read line by line.
type background struct {
	cmd   *exec.Cmd
	lines chan string
	seen  []string // every line read so far
}

// startBackground starts cmd (made by standalone.cmd, its environment then adjusted).
func startBackground(t *testing.T, cmd *exec.Cmd) *background {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b := &background{cmd: cmd, lines: make(chan string, 4096)}
	go func() {
		defer close(b.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			b.lines <- sc.Text()
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	return b
}

// until reads lines until one satisfies ok, within d, and returns it; it fails the test with
// what it read when the command ends or d passes first.
func (b *background) until(t *testing.T, d time.Duration, what string, ok func(string) bool) string {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case l, open := <-b.lines:
			if !open {
				t.Fatalf("the command ended before %s:\n%s", what, strings.Join(b.seen, "\n"))
			}
			b.seen = append(b.seen, l)
			if ok(l) {
				return l
			}
		case <-deadline:
			t.Fatalf("no %s after %s:\n%s", what, d, strings.Join(b.seen[max(0, len(b.seen)-20):], "\n"))
		}
	}
}

// end waits for the command's exit, after Ctrl-C when interrupt, and returns its code and all it
// wrote.
func (b *background) end(t *testing.T, interrupt bool) (code int, output string) {
	t.Helper()
	if interrupt {
		_ = b.cmd.Process.Signal(syscall.SIGINT)
	}
	for l := range b.lines {
		b.seen = append(b.seen, l)
	}
	err := b.cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	output = strings.Join(b.seen, "\n")
	t.Logf("%s → exit %d\n%s", strings.Join(b.cmd.Args[1:], " "), code, clip(output))
	return code, output
}

// jvmOf is the pid of pod's JVM whose command line names mainClass, seen from the node.
func jvmOf(t *testing.T, pod *corev1.Pod, mainClass string) int {
	t.Helper()
	for _, pid := range podProcesses(t, pod.UID) {
		if cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); strings.Contains(string(cmd), mainClass) {
			return pid
		}
	}
	t.Fatalf("no JVM running %s on this machine in pod %s's cgroup", mainClass, pod.Name)
	return 0
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// isolateJobManagers keeps every pod from the namespace's JobManagers (the plugin's port-forward,
// made by the node, still reaches them): TaskManagers start but never register, and an install
// waits for them for as long as the test needs.
const isolateJobManagers = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: isolate-jobmanagers}
spec:
  podSelector:
    matchLabels: {app.kubernetes.io/component: jobmanager}
  policyTypes: [Ingress]
`

// describeNamespace logs, for a failed test, the pods of its namespace (with their uids, restarts
// and owners: which process made a pod is often the failure) and the namespace's newest events.
func describeNamespace(ctx context.Context, t testing.TB, ns string) {
	var b strings.Builder
	fmt.Fprintf(&b, "namespace %s after the failure:\n", ns)
	if pods, err := env.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{}); err == nil {
		for _, p := range pods.Items {
			state := ""
			for _, c := range p.Status.ContainerStatuses {
				switch {
				case c.State.Waiting != nil:
					state += " " + c.Name + ":" + c.State.Waiting.Reason
				case c.State.Terminated != nil:
					state += fmt.Sprintf(" %s:exit %d", c.Name, c.State.Terminated.ExitCode)
				}
			}
			fmt.Fprintf(&b, "  pod %s uid %s %s ready=%v restarts=%d created %s%s\n", p.Name, p.UID, p.Status.Phase, podReady(&p),
				podRestarts(&p), p.CreationTimestamp.UTC().Format(time.TimeOnly), state)
		}
	}
	if events, err := env.cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{}); err == nil {
		items := events.Items
		sort.Slice(items, func(i, j int) bool { return items[i].LastTimestamp.Before(&items[j].LastTimestamp) })
		if len(items) > 25 {
			items = items[len(items)-25:]
		}
		for _, e := range items {
			fmt.Fprintf(&b, "  event %s %s %s/%s: %s\n", e.LastTimestamp.UTC().Format(time.TimeOnly), e.Reason,
				e.InvolvedObject.Kind, e.InvolvedObject.Name, truncate(e.Message, 200))
		}
	}
	t.Log(b.String())
}

// podRestarts is the sum of the restart counts of pod's containers.
func podRestarts(pod *corev1.Pod) int32 {
	var n int32
	for _, c := range pod.Status.ContainerStatuses {
		n += c.RestartCount
	}
	return n
}

// s3Store is the stack's S3 server (ci/node/seaweedfs.yaml): bucket flink, the key pair of its
// Secret, reached from this machine at its pod's address, from pods at s3Endpoint.
type s3Store struct {
	addr, key, secret string
}

const (
	s3Endpoint = "http://seaweedfs.s3.svc.cluster.local:8333"
	s3Bucket   = "flink"
)

func stackS3(t *testing.T) *s3Store {
	t.Helper()
	sec, err := env.cs.CoreV1().Secrets("s3").Get(t.Context(), "s3-credentials", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the stack's S3 server (make stack-up starts it): %v", err)
	}
	pod := waitPods(t, "s3", "app=seaweedfs", podTimeout, "the S3 server", allReady(1))[0]
	return &s3Store{addr: net.JoinHostPort(pod.Status.PodIP, "8333"),
		key: string(sec.Data["AWS_ACCESS_KEY_ID"]), secret: string(sec.Data["AWS_SECRET_ACCESS_KEY"])}
}

// fixtureLabel marks what a test made in its namespace for a release to use (not the release's).
const fixtureLabel = "e2e.helm-flink.dev/fixture"

// credentialsIn puts the store's key pair into ns as Secret s3-credentials (what
// objectStorage.credentials.secretName names).
func (s *s3Store) credentialsIn(t *testing.T, ns string) {
	t.Helper()
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s3-credentials", Labels: map[string]string{fixtureLabel: "s3"}},
		StringData: map[string]string{"AWS_ACCESS_KEY_ID": s.key, "AWS_SECRET_ACCESS_KEY": s.secret}}
	if _, err := env.cs.CoreV1().Secrets(ns).Create(t.Context(), sec, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// values are the chart values (key=value, as --set takes them) that keep a release's state in
// the store under prefix (the presto file system, s3p://), with the key pair from credentialsIn.
func (s *s3Store) values(prefix string) []string {
	base := "s3p://" + s3Bucket + "/" + prefix
	return []string{"objectStorage.plugins={s3-fs-presto}", "objectStorage.s3.endpoint=" + s3Endpoint,
		"objectStorage.s3.pathStyleAccess=true", "objectStorage.credentials.secretName=s3-credentials",
		`flinkConfiguration.state\.checkpoints\.dir=` + base + "/checkpoints",
		`flinkConfiguration.state\.savepoints\.dir=` + base + "/savepoints"}
}

// setFlags is a --set flag for each key=value.
func setFlags(kv []string) []string {
	var out []string
	for _, s := range kv {
		out = append(out, "--set", s)
	}
	return out
}

// objectKey is the key of a Flink location in the store's bucket ("" when it is elsewhere).
func objectKey(uri string) string {
	for _, scheme := range []string{"s3://", "s3p://", "s3a://"} {
		if rest, ok := strings.CutPrefix(uri, scheme+s3Bucket+"/"); ok {
			return rest
		}
	}
	return ""
}

// list is every key under prefix, through the S3 API (ListObjectsV2, signed).
func (s *s3Store) list(t *testing.T, prefix string) []string {
	t.Helper()
	var keys []string
	token := ""
	for {
		q := url.Values{"list-type": {"2"}, "prefix": {prefix}}
		if token != "" {
			q.Set("continuation-token", token)
		}
		var res struct {
			Contents []struct {
				Key string `xml:"Key"`
			} `xml:"Contents"`
			IsTruncated           bool   `xml:"IsTruncated"`
			NextContinuationToken string `xml:"NextContinuationToken"`
		}
		body := s.do(t, http.MethodGet, "/"+s3Bucket, q)
		if err := xml.Unmarshal(body, &res); err != nil {
			t.Fatalf("S3 list %s: %v\n%s", prefix, err, body)
		}
		for _, c := range res.Contents {
			keys = append(keys, c.Key)
		}
		if !res.IsTruncated {
			return keys
		}
		token = res.NextContinuationToken
	}
}

// do sends a request signed with AWS Signature Version 4 (region us-east-1, empty body).
func (s *s3Store) do(t *testing.T, method, path string, q url.Values) []byte {
	t.Helper()
	now := time.Now().UTC()
	stamp, day := now.Format("20060102T150405Z"), now.Format("20060102")
	emptyHash := hex.EncodeToString(sha256.New().Sum(nil))
	// Canonical query: keys sorted, each part percent-encoded as AWS does (space as %20).
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(q)) {
		parts = append(parts, awsEscape(k)+"="+awsEscape(q.Get(k)))
	}
	query := strings.Join(parts, "&")
	headers := "host:" + s.addr + "\nx-amz-content-sha256:" + emptyHash + "\nx-amz-date:" + stamp + "\n"
	signed := "host;x-amz-content-sha256;x-amz-date"
	canonical := strings.Join([]string{method, path, query, headers, signed, emptyHash}, "\n")
	scope := day + "/us-east-1/s3/aws4_request"
	sum := sha256.Sum256([]byte(canonical))
	toSign := "AWS4-HMAC-SHA256\n" + stamp + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	key := []byte("AWS4" + s.secret)
	for _, part := range []string{day, "us-east-1", "s3", "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, "http://"+s.addr+path+"?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-amz-date", stamp)
	req.Header.Set("x-amz-content-sha256", emptyHash)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+s.key+"/"+scope+", SignedHeaders="+signed+
		", Signature="+hex.EncodeToString(hmacSHA256(key, toSign)))
	resp, err := restClient.Do(req)
	if err != nil {
		t.Fatalf("S3 %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("S3 %s %s?%s: %s\n%s", method, path, query, resp.Status, body)
	}
	return body
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func awsEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}
