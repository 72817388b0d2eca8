package kube

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/helm-flink/helm-flink/plugin/stacktrace"
)

// Components of a Flink release, as the charts label them.
const (
	ComponentLabel = "app.kubernetes.io/component"
	JobManager     = "jobmanager"
	TaskManager    = "taskmanager"
)

// Selector selects a release's pods of one component ("" for all of them).
func Selector(release, component string) string {
	s := "app.kubernetes.io/instance=" + release
	if component != "" {
		s += "," + ComponentLabel + "=" + component
	}
	return s
}

// Want is how many pods of each component a release runs, from its workloads' specs.
func Want(ctx context.Context, cs kubernetes.Interface, ns, release string) (jobManagers, taskManagers int, err error) {
	count := func(component string) (int, error) {
		sel := metav1.ListOptions{LabelSelector: Selector(release, component)}
		deps, err := cs.AppsV1().Deployments(ns).List(ctx, sel)
		if err != nil {
			return 0, fmt.Errorf("list %s deployments: %w", component, err)
		}
		n := 0
		for _, d := range deps.Items {
			n += replicas(d.Spec.Replicas)
		}
		sets, err := cs.AppsV1().StatefulSets(ns).List(ctx, sel)
		if err != nil {
			return 0, fmt.Errorf("list %s statefulsets: %w", component, err)
		}
		for _, s := range sets.Items {
			n += replicas(s.Spec.Replicas)
		}
		jobs, err := cs.BatchV1().Jobs(ns).List(ctx, sel)
		if err != nil {
			return 0, fmt.Errorf("list %s jobs: %w", component, err)
		}
		return n + len(jobs.Items), nil
	}
	if jobManagers, err = count(JobManager); err != nil {
		return 0, 0, err
	}
	if taskManagers, err = count(TaskManager); err != nil {
		return 0, 0, err
	}
	return jobManagers, taskManagers, nil
}

// replicas is a workload's replica count: 1 when unset, as the API server defaults it.
func replicas(r *int32) int {
	if r == nil {
		return 1
	}
	return int(*r)
}

// PodStartError is a pod that will not become ready without someone changing something.
type PodStartError struct {
	Pod    string
	Reason string
	// Log is what the failed container said about it: Flink's exception and its causes, or the
	// last lines of an init container.
	Log []string
}

func (e *PodStartError) Error() string {
	msg := "pod " + e.Pod + ": " + e.Reason
	for _, l := range e.Log {
		msg += "\n  " + l
	}
	return msg
}

// WaitReady watches the pods selected until want of them are Ready, calling progress whenever the
// count changes, with a note when a pod cannot be scheduled (see unschedulable). It returns a
// *PodStartError as soon as a pod cannot start (failed init container, image that cannot be
// pulled, crash loop, pod Failed), and ctx's error with the last count and note when ctx ends
// first.
func WaitReady(ctx context.Context, cs kubernetes.Interface, ns, selector string, want int, progress func(ready, want int, note string)) error {
	last, lastNote := -1, ""
	var waiting []string
	err := watchPods(ctx, cs, ns, selector, func(pods map[string]*corev1.Pod, changed *corev1.Pod) (bool, error) {
		ready, note := countReady(pods), unschedulable(pods)
		waiting = notReady(pods)
		if (ready != last || note != lastNote) && progress != nil {
			progress(ready, want, note)
		}
		last, lastNote = ready, note
		// A pod on its way out (a replaced revision's, ended by its deletion) is no failure to start.
		if changed != nil && changed.DeletionTimestamp == nil {
			if reason, container, init := cannotStart(changed); reason != "" {
				return false, &PodStartError{Pod: changed.Name, Reason: reason, Log: containerLog(ctx, cs, ns, changed.Name, container, init)}
			}
		}
		return ready >= want, nil
	})
	if err != nil && ctx.Err() != nil {
		events := ""
		if len(waiting) > 0 {
			events = "; " + LastEvents(cs, ns, waiting)
		}
		return fmt.Errorf("%d/%d pods ready (%s)%s%s: %w", max(last, 0), want, selector, Note(lastNote), events, context.Cause(ctx))
	}
	return err
}

// unschedulable says why the first of the pods (by name) that the scheduler could not place is
// pending, in the scheduler's words ("0/3 nodes are available: 3 Insufficient cpu."); "" when
// none is. Not a failure: a cluster autoscaler may still add a node.
func unschedulable(pods map[string]*corev1.Pod) string {
	names := make([]string, 0, len(pods))
	for name := range pods {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := pods[name]
		if p.DeletionTimestamp != nil || p.Spec.NodeName != "" {
			continue
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
				return "pod " + name + " cannot be scheduled: " + firstOf(c.Message, c.Reason)
			}
		}
	}
	return ""
}

// Note is a progress line's note in parentheses, or nothing.
func Note(note string) string {
	if note == "" {
		return ""
	}
	return " (" + note + ")"
}

// WaitNoneRunning watches the pods selected until none of them runs any more (all finished,
// failed or gone): e.g. an application's JobManager shutting down after its job stopped.
func WaitNoneRunning(ctx context.Context, cs kubernetes.Interface, ns, selector string) error {
	running := 0
	err := watchPods(ctx, cs, ns, selector, func(pods map[string]*corev1.Pod, _ *corev1.Pod) (bool, error) {
		running = 0
		for _, p := range pods {
			if p.Status.Phase == corev1.PodRunning || p.Status.Phase == corev1.PodPending {
				running++
			}
		}
		return running == 0, nil
	})
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("%d pod(s) still running (%s): %w", running, selector, context.Cause(ctx))
	}
	return err
}

// watchPods calls cond with the selected pods (by name) after the initial list and after every
// change, until it returns true or an error.
func watchPods(ctx context.Context, cs kubernetes.Interface, ns, selector string, cond func(pods map[string]*corev1.Pod, changed *corev1.Pod) (bool, error)) error {
	lw := &cache.ListWatch{
		ListFunc: func(o metav1.ListOptions) (runtime.Object, error) {
			o.LabelSelector = selector
			return cs.CoreV1().Pods(ns).List(ctx, o)
		},
		WatchFunc: func(o metav1.ListOptions) (watch.Interface, error) {
			o.LabelSelector = selector
			return cs.CoreV1().Pods(ns).Watch(ctx, o)
		},
	}
	pods := map[string]*corev1.Pod{}
	// The precondition judges the synced list once, so that a selection with nothing to report
	// (e.g. no pods at all) is decided without waiting for an event.
	var condErr error
	precondition := func(store cache.Store) (bool, error) {
		for _, o := range store.List() {
			if p, ok := o.(*corev1.Pod); ok {
				pods[p.Name] = p
			}
		}
		done, err := cond(pods, nil)
		condErr = err
		return done, err
	}
	wctx, rlw, finish := refusalEnds(ctx, lw)
	_, err := watchtools.UntilWithSync(wctx, listWatch(rlw, cs), &corev1.Pod{}, precondition, func(ev watch.Event) (bool, error) {
		pod, ok := ev.Object.(*corev1.Pod)
		if !ok {
			return false, nil
		}
		var changed *corev1.Pod
		if ev.Type == watch.Deleted {
			delete(pods, pod.Name)
		} else {
			pods[pod.Name], changed = pod, pod
		}
		done, err := cond(pods, changed)
		condErr = err
		return done, err
	})
	err = finish(err)
	if condErr != nil {
		return condErr
	}
	if err != nil && !errors.Is(err, watchtools.ErrWatchClosed) && ctx.Err() == nil {
		return fmt.Errorf("watch pods %s: %w", selector, err)
	}
	return err
}

func countReady(pods map[string]*corev1.Pod) int {
	n := 0
	for _, p := range pods {
		if p.DeletionTimestamp == nil && isReady(p) {
			n++
		}
	}
	return n
}

// isReady says whether the pod's Ready condition is true.
func isReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// cannotStart is why a pod will not get ready by waiting ("" when it may), and the container
// whose log tells more.
func cannotStart(p *corev1.Pod) (reason, container string, init bool) {
	for _, s := range p.Status.InitContainerStatuses {
		if t := s.State.Terminated; t != nil && t.ExitCode != 0 {
			return fmt.Sprintf("init container %s exited with %d%s", s.Name, t.ExitCode, suffix(t.Message)), s.Name, true
		}
		if t := s.LastTerminationState.Terminated; t != nil && t.ExitCode != 0 && s.RestartCount > 0 {
			return fmt.Sprintf("init container %s exited with %d%s", s.Name, t.ExitCode, suffix(t.Message)), s.Name, true
		}
	}
	first := ""
	if len(p.Spec.Containers) > 0 {
		first = p.Spec.Containers[0].Name
	}
	if p.Status.Phase == corev1.PodFailed {
		return "failed: " + firstNonEmpty(p.Status.Message, p.Status.Reason, terminated(p)), first, false
	}
	for _, s := range append(p.Status.InitContainerStatuses, p.Status.ContainerStatuses...) {
		if w := s.State.Waiting; w != nil {
			switch w.Reason {
			case "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError", "CreateContainerError":
				return fmt.Sprintf("container %s: %s%s", s.Name, w.Reason, suffix(w.Message)), "", false
			case "CrashLoopBackOff":
				return fmt.Sprintf("container %s: %s%s", s.Name, w.Reason, suffix(w.Message)), s.Name, false
			}
		}
	}
	return "", "", false
}

// containerLog is the part of a failed container's log that says why: the last Java exception
// with its "Caused by" lines, else the last lines. Best effort: no log, no excerpt.
func containerLog(ctx context.Context, cs kubernetes.Interface, ns, pod, container string, init bool) []string {
	if container == "" {
		return nil
	}
	tail := int64(400)
	// The crashed instance first: a container in CrashLoopBackOff may have been restarted since
	// its status was read, and the new instance's log says nothing yet. None before a restart.
	data, err := cs.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{Container: container, TailLines: &tail, Previous: true}).DoRaw(ctx)
	if err != nil || len(data) == 0 {
		data, err = cs.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{Container: container, TailLines: &tail}).DoRaw(ctx)
	}
	if err != nil || len(data) == 0 {
		return nil
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if !init {
		if ex := stacktrace.Lines(stacktrace.Last(lines)); len(ex) > 0 {
			return ex[:min(len(ex), 8)]
		}
	}
	return lines[max(0, len(lines)-5):]
}

func terminated(p *corev1.Pod) string {
	var out []string
	for _, s := range p.Status.ContainerStatuses {
		if t := s.State.Terminated; t != nil {
			out = append(out, fmt.Sprintf("container %s exited with %d%s", s.Name, t.ExitCode, suffix(t.Message)))
		}
	}
	return strings.Join(out, "; ")
}

func suffix(msg string) string {
	if msg = strings.TrimSpace(msg); msg == "" {
		return ""
	}
	return ": " + msg
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return "no reason given"
}

// ReadyPod is a Ready pod among those selected: the leading JobManager of a Kubernetes HA cluster
// when several are ready (a standby of Flink 2.x in native mode cannot run a jar for the
// leader), else the oldest, so that repeated calls pick the same one.
func ReadyPod(ctx context.Context, cs kubernetes.Interface, ns, selector string) (*corev1.Pod, error) {
	ready, err := readyPods(ctx, cs, ns, selector)
	if err != nil {
		return nil, err
	}
	if len(ready) > 1 {
		if p := leaderOf(ctx, cs, ns, ready); p != nil {
			return p, nil
		}
	}
	return &ready[0], nil
}

// LeaderPod is the pod selected that leads a Kubernetes HA cluster, or an error when none of the
// ready ones does (yet).
func LeaderPod(ctx context.Context, cs kubernetes.Interface, ns, selector string) (*corev1.Pod, error) {
	ready, err := readyPods(ctx, cs, ns, selector)
	if err != nil {
		return nil, err
	}
	if p := leaderOf(ctx, cs, ns, ready); p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("no ready pod of %s in namespace %s leads: no Kubernetes HA ConfigMap names its address", selector, ns)
}

func readyPods(ctx context.Context, cs kubernetes.Interface, ns, selector string) ([]corev1.Pod, error) {
	list, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, fmt.Errorf("list pods %s: %w", selector, err)
	}
	pods := list.Items
	sort.Slice(pods, func(i, j int) bool { return pods[i].CreationTimestamp.Before(&pods[j].CreationTimestamp) })
	var ready []corev1.Pod
	for _, p := range pods {
		if p.DeletionTimestamp == nil && isReady(&p) {
			ready = append(ready, p)
		}
	}
	if len(ready) == 0 {
		return nil, fmt.Errorf("no ready pod matches %s in namespace %s", selector, ns)
	}
	return ready, nil
}

// haLeaderKey is where Flink's Kubernetes HA records the leading dispatcher in the cluster's
// ConfigMap: "<session id>,<rpc address>", e.g. "…,pekko.tcp://flink@10.88.0.16:6123/user/rpc/dispatcher_1";
// the host is the JobManager's jobmanager.rpc.address, its pod IP under the charts.
const haLeaderKey = "org.apache.flink.k8s.leader.dispatcher"

// leaderOf is the pod of pods whose IP a Kubernetes HA ConfigMap of ns names as the leading
// dispatcher; nil when none (no HA, an election going on, or ConfigMaps the caller may not read).
func leaderOf(ctx context.Context, cs kubernetes.Interface, ns string, pods []corev1.Pod) *corev1.Pod {
	// Flink labels them type=flink-native-kubernetes in either mode (1.20 adds
	// configmap-type=high-availability, 2.x does not).
	list, err := cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{LabelSelector: "type=flink-native-kubernetes"})
	if err != nil {
		return nil
	}
	for _, cm := range list.Items {
		_, addr, ok := strings.Cut(cm.Data[haLeaderKey], ",")
		if !ok {
			continue
		}
		u, err := url.Parse(addr)
		if err != nil || u.Hostname() == "" {
			continue
		}
		for i := range pods {
			if pods[i].Status.PodIP == u.Hostname() {
				return &pods[i]
			}
		}
	}
	return nil
}

// PodSummary is a pod as `status` shows it.
type PodSummary struct {
	Name      string `json:"name"`
	Component string `json:"component"`
	Phase     string `json:"phase"`
	// Reason is why a container is not running, as kubectl's STATUS column says it
	// (CreateContainerConfigError, ImagePullBackOff, CrashLoopBackOff, …), or Terminating.
	Reason   string `json:"reason,omitempty"`
	Ready    bool   `json:"ready"`
	Restarts int32  `json:"restarts"`
	Node     string `json:"node,omitempty"`
	// CreatedBy is "flink" for the TaskManager pods a native JobManager created, "helm" for the
	// pods of the release's own workloads.
	CreatedBy string `json:"createdBy"`
}

// notRunning is why a pod's containers do not run: being deleted, or the first waiting reason.
func notRunning(p *corev1.Pod) string {
	if p.DeletionTimestamp != nil {
		return "Terminating"
	}
	for _, c := range append(p.Status.InitContainerStatuses, p.Status.ContainerStatuses...) {
		if w := c.State.Waiting; w != nil && w.Reason != "" {
			return w.Reason
		}
	}
	return ""
}

// Pods summarizes the release's pods, by component then name.
func Pods(ctx context.Context, cs kubernetes.Interface, ns, release string) ([]PodSummary, error) {
	list, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: Selector(release, "")})
	if err != nil {
		return nil, fmt.Errorf("list pods of release %q: %w", release, err)
	}
	var out []PodSummary
	for i := range list.Items {
		p := &list.Items[i]
		var restarts int32
		for _, s := range p.Status.ContainerStatuses {
			restarts += s.RestartCount
		}
		by := "helm"
		if p.Labels[NativeLabel] == "flink-native-kubernetes" {
			by = "flink"
		}
		out = append(out, PodSummary{Name: p.Name, Component: p.Labels[ComponentLabel],
			Phase: string(p.Status.Phase), Reason: notRunning(p), Ready: isReady(p), Restarts: restarts, Node: p.Spec.NodeName, CreatedBy: by})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Component != out[j].Component {
			return out[i].Component < out[j].Component
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}
