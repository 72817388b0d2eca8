package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// runner watches pods and keeps one worker per live Flink pod.
type runner struct {
	cs         kubernetes.Interface
	dyn        dynamic.Interface
	log        *log.Logger
	kubeconfig string
	workdir    string
	flinkCache string
	java       string
	kubectl    string
	python     string
	rest       *rest.Config
	versions   map[string]string // "1.20" / "2" → cached Flink release
	nsLabel    string            // key=value a namespace must carry
	// provisioner: the name the stack's StorageClass gives as its provisioner (see provisioner.go).
	provisioner string
	keepOnce    sync.Once
	keep        []string // host paths every process needs (keepPaths)

	namespaces corelisters.NamespaceLister

	mu      sync.Mutex
	workers map[podKey]*worker
	pids    map[int]bool
	jmCh    chan struct{}
}

type podKey = string // namespace/name/uid

func key(p *corev1.Pod) podKey { return p.Namespace + "/" + p.Name + "/" + string(p.UID) }

func (r *runner) run(ctx context.Context) error {
	r.workers = map[podKey]*worker{}
	r.pids = map[int]bool{}
	r.jmCh = make(chan struct{})
	r.killLeftovers()

	f := informers.NewSharedInformerFactory(r.cs, 0)
	r.namespaces = f.Core().V1().Namespaces().Lister()
	nsInf := f.Core().V1().Namespaces().Informer()
	podInf := f.Core().V1().Pods().Informer()
	_, err := podInf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { r.sync(ctx, o.(*corev1.Pod)) },
		UpdateFunc: func(_, o any) { r.sync(ctx, o.(*corev1.Pod)) },
		DeleteFunc: func(o any) {
			if t, ok := o.(cache.DeletedFinalStateUnknown); ok {
				o = t.Obj
			}
			if p, ok := o.(*corev1.Pod); ok {
				r.remove(key(p))
			}
		},
	})
	if err != nil {
		return err
	}
	synced, err := r.watchVolumes(ctx, f)
	if err != nil {
		return err
	}
	f.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), append(synced, nsInf.HasSynced, podInf.HasSynced)...) {
		return fmt.Errorf("pod runner: informer caches did not sync")
	}
	r.log.Printf("pod runner: watching Flink pods in namespaces labelled %s; provisioning volumes of %s", r.nsLabel, r.provisioner)
	<-ctx.Done()
	r.mu.Lock()
	ws := make([]*worker, 0, len(r.workers))
	for _, w := range r.workers {
		ws = append(ws, w)
	}
	r.mu.Unlock()
	for _, w := range ws {
		w.cancel()
		<-w.done
	}
	return nil
}

func (r *runner) sync(ctx context.Context, p *corev1.Pod) {
	role := flinkRole(p)
	if role == "" || p.Spec.NodeName == "" {
		return
	}
	k := key(p)
	if p.DeletionTimestamp != nil {
		r.remove(k)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.workers[k]; ok || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		return
	}
	wctx, cancel := context.WithCancel(ctx)
	w := &worker{r: r, ns: p.Namespace, name: p.Name, uid: p.UID, role: role, labels: labels.Set(p.Labels),
		dir:    filepath.Join(r.workdir, "pods", p.Namespace, p.Name+"-"+string(p.UID)[:8]),
		cancel: cancel, done: make(chan struct{}),
		usrlib: usrlibVolume(p), inits: initStatuses(p), initDone: len(p.Spec.InitContainers) == 0,
		info: processInfo{Namespace: p.Namespace, Pod: p.Name, Role: role, State: "Pending"}}
	w.info.Dir = w.dir
	w.info.LogFile = filepath.Join(w.dir, "log", p.Spec.Containers[0].Name+".log")
	w.containerPorts = namedPorts(&p.Spec.Containers[0])
	r.workers[k] = w
	r.log.Printf("%s/%s: %s pod on %s", p.Namespace, p.Name, role, p.Spec.NodeName)
	go w.run(wctx, p.DeepCopy())
}

// remove stops a pod's process; the pod is gone or going. The worker stays listed (as
// terminating) until its process is gone, and the pod's log is kept under logs/.
func (r *runner) remove(k podKey) {
	r.mu.Lock()
	w, ok := r.workers[k]
	if ok && w.removing {
		ok = false
	} else if ok {
		w.removing = true
	}
	r.mu.Unlock()
	if !ok {
		return
	}
	go func() {
		w.cancel()
		<-w.done
		r.mu.Lock()
		delete(r.workers, k)
		r.mu.Unlock()
		r.notifyJobManagers()
		keep := filepath.Join(r.workdir, "logs", w.ns, filepath.Base(w.dir))
		_ = os.MkdirAll(filepath.Dir(keep), 0o755)
		_ = os.Rename(filepath.Join(w.dir, "log"), keep)
		_ = os.RemoveAll(w.dir)
		r.log.Printf("%s/%s: stopped", w.ns, w.name)
	}()
}

func (r *runner) namespaceEnabled(ns string) bool {
	k, v, _ := strings.Cut(r.nsLabel, "=")
	n, err := r.namespaces.Get(ns)
	if err != nil {
		n2, err2 := r.cs.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{})
		if err2 != nil {
			return false
		}
		n = n2
	}
	return n.Labels[k] == v
}

// jobManagerChanged returns a channel closed at the next JobManager start, stop or readiness.
func (r *runner) jobManagerChanged() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.jmCh
}

func (r *runner) notifyJobManagers() {
	r.mu.Lock()
	defer r.mu.Unlock()
	close(r.jmCh)
	r.jmCh = make(chan struct{})
}

// resolveJobManager finds the local rpc port of the JobManager a TaskManager's
// jobmanager.rpc.address names: a Service (name, name.ns, name.ns.svc…) whose selector matches a
// running JobManager pod, or a JobManager pod's own name.
func (r *runner) resolveJobManager(ctx context.Context, ns, address string) (int32, error) {
	if address == "" {
		return 0, fmt.Errorf("jobmanager.rpc.address is not set in the TaskManager's Flink config")
	}
	parts := strings.Split(address, ".")
	name := parts[0]
	if len(parts) > 1 && parts[1] != "svc" {
		ns = parts[1]
	}
	var sel labels.Selector
	svc, err := r.cs.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	switch {
	case err == nil && len(svc.Spec.Selector) > 0:
		sel = labels.SelectorFromSet(svc.Spec.Selector)
	case err == nil || apierrors.IsNotFound(err):
	default:
		return 0, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var names []string
	for _, w := range r.workers {
		// A pod being deleted is no endpoint any more, even while its process stops.
		if w.ns != ns || !isJobManager(w.role) || w.removing {
			continue
		}
		if (sel != nil && sel.Matches(w.labels)) || w.name == name {
			info := w.snapshot()
			if info.Ready {
				return w.localPort["jobmanager.rpc.port"], nil
			}
			names = append(names, w.name)
		}
	}
	sort.Strings(names)
	if len(names) > 0 {
		return 0, &errWaiting{fmt.Sprintf("waiting for JobManager %s (pods %s) to be ready", address, strings.Join(names, ", "))}
	}
	return 0, &errWaiting{fmt.Sprintf("waiting for a JobManager pod behind %s in namespace %s", address, ns)}
}

var (
	portForwardGVR = schema.GroupVersionResource{Group: "kwok.x-k8s.io", Version: "v1alpha1", Resource: "portforwards"}
	logsGVR        = schema.GroupVersionResource{Group: "kwok.x-k8s.io", Version: "v1alpha1", Resource: "logs"}
)

// createForwards creates the kwok PortForward that sends port-forwards to the pod's declared
// ports on to the process's local ports. It is owned by the pod, so it goes with it.
func (r *runner) createForwards(ctx context.Context, pod *corev1.Pod, w *worker) error {
	var forwards []any
	keys := make([]string, 0, len(w.declaredPort))
	for k := range w.declaredPort {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		forwards = append(forwards, map[string]any{
			"ports":  []any{int64(w.declaredPort[k])},
			"target": map[string]any{"port": int64(w.localPort[k]), "address": podIP},
		})
	}
	return r.createOwned(ctx, pod, portForwardGVR, "PortForward", map[string]any{"forwards": forwards})
}

// createLogs creates the kwok Logs that serves `kubectl logs` from the log of each container the
// runner runs: the first container and the shell init containers (`kubectl logs -c fetch-jar`).
func (r *runner) createLogs(ctx context.Context, pod *corev1.Pod, w *worker) error {
	logs := []any{map[string]any{
		"containers": []any{pod.Spec.Containers[0].Name},
		"logsFile":   w.snapshot().LogFile, "follow": true,
	}}
	for _, c := range pod.Spec.InitContainers {
		if runnableInit(&c) {
			logs = append(logs, map[string]any{
				"containers": []any{c.Name},
				"logsFile":   filepath.Join(w.dir, "log", c.Name+".log"), "follow": true,
			})
		}
	}
	return r.createOwned(ctx, pod, logsGVR, "Logs", map[string]any{"logs": logs})
}

// createOwned creates (or updates) a kwok resource named like the pod and owned by it.
func (r *runner) createOwned(ctx context.Context, pod *corev1.Pod, gvr schema.GroupVersionResource, kind string, spec map[string]any) error {
	owner := []any{map[string]any{"apiVersion": "v1", "kind": "Pod", "name": pod.Name, "uid": string(pod.UID)}}
	o := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": kind,
		"metadata": map[string]any{"name": pod.Name, "namespace": pod.Namespace, "ownerReferences": owner},
		"spec":     spec,
	}}
	res := r.dyn.Resource(gvr).Namespace(pod.Namespace)
	_, err := res.Create(ctx, o, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		cur, gerr := res.Get(ctx, pod.Name, metav1.GetOptions{})
		if gerr != nil {
			return gerr
		}
		o.SetResourceVersion(cur.GetResourceVersion())
		_, err = res.Update(ctx, o, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", gvr.Resource, pod.Name, err)
	}
	return nil
}

// Process groups are recorded on disk so that a runner killed with -9 has its JVMs stopped by
// the next one (or by `make stack-down`).
func (r *runner) pidFile() string { return filepath.Join(r.workdir, "processes") }

func (r *runner) track(pid int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pids[pid] = true
	r.writePids()
}

func (r *runner) untrack(pid int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.pids, pid)
	r.writePids()
}

func (r *runner) writePids() {
	var b strings.Builder
	for p := range r.pids {
		b.WriteString(strconv.Itoa(p) + "\n")
	}
	_ = os.WriteFile(r.pidFile(), []byte(b.String()), 0o644)
}

func (r *runner) killLeftovers() {
	data, err := os.ReadFile(r.pidFile())
	if err != nil {
		return
	}
	for _, l := range strings.Fields(string(data)) {
		if pid, err := strconv.Atoi(l); err == nil && pid > 1 {
			if syscall.Kill(-pid, syscall.SIGKILL) == nil {
				r.log.Printf("pod runner: killed leftover process group %d", pid)
			}
		}
	}
	_ = os.Remove(r.pidFile())
	_ = os.RemoveAll(filepath.Join(r.workdir, "pods"))
}

func (r *runner) processes() []processInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]processInfo, 0, len(r.workers))
	for _, w := range r.workers {
		out = append(out, w.snapshot())
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Namespace+"/"+out[i].Pod < out[j].Namespace+"/"+out[j].Pod
	})
	return out
}
