package kube

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/helm-flink/helm-flink/plugin/stacktrace"
)

// JobManagers says which of a release's JobManager objects WatchFailure judges: those of one
// revision.
type JobManagers struct {
	Namespace, Release string
	// Jobs are the names of the revision's JobManager batch Jobs (an application): only they and
	// their pods are judged. Empty: every JobManager pod that is not being deleted (a session's
	// Deployment).
	Jobs []string
}

// WatchFailure watches the JobManager's pods (and an application's batch Job) with watches
// until one of them has failed for good, and returns that as a *PodStartError with what the
// container's log says (Flink's exception and its causes); nil when ctx ends first. A
// JobManager container that exited with an error is a failure at once: an application's
// JobManager exits when its job's main() fails, and a session's does not exit at all.
func WatchFailure(ctx context.Context, cs kubernetes.Interface, w JobManagers) error {
	// A watch that ends otherwise (its own error, ctx's end) has no failure to report.
	failure := func(watch func(context.Context, kubernetes.Interface) error) func(context.Context) error {
		return func(ctx context.Context) error {
			var f *PodStartError
			if errors.As(watch(ctx, cs), &f) {
				return f
			}
			return nil
		}
	}
	return firstReport(ctx, failure(w.watchPods), failure(w.watchJobs))
}

// firstReport runs the watches side by side until ctx ends, and returns the first error one of
// them reports (nil: nothing to report), once it has stopped the others and they have ended.
func firstReport(ctx context.Context, watches ...func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(watches))
	for _, w := range watches {
		go func() { errs <- w(ctx) }()
	}
	var first error
	for range watches {
		if err := <-errs; err != nil && first == nil {
			first = err
			cancel()
		}
	}
	return first
}

func (w JobManagers) mine(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil {
		return false
	}
	if len(w.Jobs) == 0 {
		return true
	}
	return slices.Contains(w.Jobs, podJob(p))
}

// podJob is the name of the batch Job that owns p, or "".
func podJob(p *corev1.Pod) string {
	for _, o := range p.OwnerReferences {
		if o.Kind == "Job" {
			return o.Name
		}
	}
	if n := p.Labels["batch.kubernetes.io/job-name"]; n != "" {
		return n
	}
	return p.Labels["job-name"]
}

func (w JobManagers) watchPods(ctx context.Context, cs kubernetes.Interface) error {
	return watchPods(ctx, cs, w.Namespace, Selector(w.Release, JobManager), func(pods map[string]*corev1.Pod, changed *corev1.Pod) (bool, error) {
		check := []*corev1.Pod{changed}
		if changed == nil {
			check = nil
			for _, p := range pods {
				check = append(check, p)
			}
		}
		for _, p := range check {
			if !w.mine(p) {
				continue
			}
			if reason, container, init, previous := failed(p); reason != "" {
				return false, &PodStartError{Pod: p.Name, Reason: reason, Log: failureLog(ctx, cs, w.Namespace, p.Name, container, init, previous)}
			}
		}
		return false, nil
	})
}

// failed is why a pod failed for good ("" when it has not), the container whose log says why,
// and whether that is the log of the container's previous run.
func failed(p *corev1.Pod) (reason, container string, init, previous bool) {
	if reason, container, init := cannotStart(p); reason != "" {
		restarted := false
		for _, s := range append(p.Status.InitContainerStatuses, p.Status.ContainerStatuses...) {
			if s.Name == container && s.State.Terminated == nil && s.RestartCount > 0 {
				restarted = true
			}
		}
		return reason, container, init, restarted
	}
	for _, s := range p.Status.ContainerStatuses {
		if t := s.State.Terminated; t != nil && t.ExitCode != 0 {
			return fmt.Sprintf("container %s exited with %s%s", s.Name, exitText(t.ExitCode), suffix(firstOf(t.Message, t.Reason))), s.Name, false, false
		}
		if t := s.LastTerminationState.Terminated; t != nil && t.ExitCode != 0 && s.RestartCount > 0 {
			return fmt.Sprintf("container %s exited with %s%s and was restarted %d time(s)", s.Name, exitText(t.ExitCode), suffix(firstOf(t.Message, t.Reason)), s.RestartCount), s.Name, false, true
		}
	}
	return "", "", false, false
}

// exitText is a container's exit code, with the signal that ended it when the code says one did
// (128+n, as the shell reports it): "137 (killed)" is a SIGKILL, by the OOM killer or by hand.
func exitText(code int32) string {
	if code > 128 && code < 128+32 {
		return fmt.Sprintf("%d (%s)", code, syscall.Signal(code-128))
	}
	return fmt.Sprint(code)
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func (w JobManagers) watchJobs(ctx context.Context, cs kubernetes.Interface) error {
	if len(w.Jobs) == 0 {
		return nil
	}
	sel := Selector(w.Release, JobManager)
	lw := &cache.ListWatch{
		ListFunc: func(o metav1.ListOptions) (runtime.Object, error) {
			o.LabelSelector = sel
			return cs.BatchV1().Jobs(w.Namespace).List(ctx, o)
		},
		WatchFunc: func(o metav1.ListOptions) (watch.Interface, error) {
			o.LabelSelector = sel
			return cs.BatchV1().Jobs(w.Namespace).Watch(ctx, o)
		},
	}
	var failure error
	judge := func(j *batchv1.Job) bool {
		if !slices.Contains(w.Jobs, j.Name) || j.DeletionTimestamp != nil {
			return false
		}
		for _, c := range j.Status.Conditions {
			if c.Type == batchv1.JobFailed && c.Status == corev1.ConditionTrue {
				failure = &PodStartError{Pod: "job " + j.Name, Reason: "failed: " + c.Reason + suffix(c.Message), Log: w.jobLog(ctx, cs, j.Name)}
				return true
			}
		}
		return false
	}
	precondition := func(store cache.Store) (bool, error) {
		for _, o := range store.List() {
			if j, ok := o.(*batchv1.Job); ok && judge(j) {
				return true, nil
			}
		}
		return false, nil
	}
	wctx, rlw, finish := refusalEnds(ctx, lw)
	_, err := watchtools.UntilWithSync(wctx, listWatch(rlw, cs), &batchv1.Job{}, precondition, func(ev watch.Event) (bool, error) {
		j, ok := ev.Object.(*batchv1.Job)
		return ok && ev.Type != watch.Deleted && judge(j), nil
	})
	err = finish(err)
	if failure != nil {
		return failure
	}
	return err
}

// jobLog is what the last of a failed Job's pods that is still there said.
func (w JobManagers) jobLog(ctx context.Context, cs kubernetes.Interface, job string) []string {
	list, err := cs.CoreV1().Pods(w.Namespace).List(ctx, metav1.ListOptions{LabelSelector: Selector(w.Release, JobManager)})
	if err != nil {
		return nil
	}
	var last *corev1.Pod
	for i := range list.Items {
		p := &list.Items[i]
		if podJob(p) == job && (last == nil || last.CreationTimestamp.Before(&p.CreationTimestamp)) {
			last = p
		}
	}
	if last == nil || len(last.Spec.Containers) == 0 {
		return nil
	}
	return failureLog(ctx, cs, w.Namespace, last.Name, last.Spec.Containers[0].Name, false, true)
}

// failureLog is what a failed container's log says about it (see containerLog), from its
// previous run first when it was restarted, else from its current one.
func failureLog(ctx context.Context, cs kubernetes.Interface, ns, pod, container string, init, previous bool) []string {
	if container == "" {
		return nil
	}
	var fallback []string
	for _, prev := range []bool{previous, !previous} {
		lines := LogLines(ctx, cs, ns, pod, container, prev)
		if len(lines) == 0 {
			continue
		}
		if !init {
			if ex := stacktrace.Lines(stacktrace.Last(lines)); len(ex) > 0 {
				return ex[:min(len(ex), 8)]
			}
		}
		if fallback == nil {
			fallback = lines[max(0, len(lines)-5):]
		}
	}
	return fallback
}

// LogLines are the last 400 lines of a container's log (its previous run's with previous); nil
// when there are none or they cannot be read.
func LogLines(ctx context.Context, cs kubernetes.Interface, ns, pod, container string, previous bool) []string {
	tail := int64(400)
	data, err := cs.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{Container: container, TailLines: &tail, Previous: previous}).DoRaw(ctx)
	if err != nil || len(data) == 0 {
		return nil
	}
	return strings.Split(strings.TrimRight(string(data), "\n"), "\n")
}

// WaitStopped waits until none of the revision's JobManager pods (w.Jobs' pods; every
// JobManager pod when w names no Job) runs any more: finished, failed or gone.
func WaitStopped(ctx context.Context, cs kubernetes.Interface, w JobManagers) error {
	running := 0
	err := watchPods(ctx, cs, w.Namespace, Selector(w.Release, JobManager), func(pods map[string]*corev1.Pod, _ *corev1.Pod) (bool, error) {
		running = 0
		for _, p := range pods {
			if len(w.Jobs) > 0 && !slices.Contains(w.Jobs, podJob(p)) {
				continue
			}
			if p.Status.Phase == corev1.PodRunning || p.Status.Phase == corev1.PodPending {
				running++
			}
		}
		return running == 0, nil
	})
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("%d jobmanager pod(s) of %v still running: %w", running, w.Jobs, context.Cause(ctx))
	}
	return err
}

// listWatch is lw as the reflector needs it to know whether cs streams its initial list as
// watch events (the API server does; client-go's fake clientset does not, and a reflector
// waiting for that stream never syncs).
func listWatch(lw *cache.ListWatch, cs kubernetes.Interface) cache.ListerWatcher {
	return cache.ToListWatcherWithWatchListSemantics(lw, cs)
}

// RestartPods deletes the selected pods for their Deployment to replace them: e.g. TaskManagers
// that registered with a JobManager that failed, so that they register afresh with the one
// that replaces it.
func RestartPods(ctx context.Context, cs kubernetes.Interface, ns, selector string) error {
	if err := cs.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: selector}); err != nil {
		return fmt.Errorf("restart pods %s: %w", selector, err)
	}
	return nil
}

// refusalEnds wraps lw for a watch of ctx's: the API server's refusal to list or watch
// (forbidden, unauthorized) cancels the returned context with that error, which finish then
// returns in place of the watch's, at once — a reflector would retry it until the wait's
// deadline. finish also releases the context.
func refusalEnds(ctx context.Context, lw *cache.ListWatch) (wctx context.Context, out *cache.ListWatch, finish func(error) error) {
	wctx, cancel := context.WithCancelCause(ctx)
	refused := func(err error) {
		if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) {
			cancel(err)
		}
	}
	out = &cache.ListWatch{
		ListFunc: func(o metav1.ListOptions) (runtime.Object, error) {
			obj, err := lw.ListFunc(o)
			refused(err)
			return obj, err
		},
		WatchFunc: func(o metav1.ListOptions) (watch.Interface, error) {
			w, err := lw.WatchFunc(o)
			refused(err)
			return w, err
		},
	}
	finish = func(err error) error {
		defer cancel(nil)
		if cause := context.Cause(wctx); ctx.Err() == nil && (apierrors.IsForbidden(cause) || apierrors.IsUnauthorized(cause)) {
			return cause
		}
		return err
	}
	return wctx, out, finish
}
