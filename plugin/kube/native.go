package kube

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// NativeLabel marks what Flink's native Kubernetes mode creates itself (TaskManager pods, HA
// ConfigMaps of Flink 2), as type=flink-native-kubernetes.
const NativeLabel = "type"

// NativeTaskManagers selects the TaskManager pods Flink's resource manager created for a native
// cluster, by Flink's own labels.
func NativeTaskManagers(clusterID string) string {
	return NativeLabel + "=flink-native-kubernetes,component=taskmanager,app=" + clusterID
}

// PodCreateError is the API server refusing the TaskManager pods a native JobManager asks for
// (RBAC, Pod Security admission, quota). Flink only logs it and retries; the job waits for slots
// until slot.request.timeout, so the JobManager's log is where it shows.
type PodCreateError struct {
	JobManagerPod string
	// Pod is the TaskManager pod Flink could not create, Message the API server's answer.
	Pod, Message string
}

func (e *PodCreateError) Error() string {
	return fmt.Sprintf("Flink cannot create TaskManager pod %s: %s (JobManager %s's log; Flink retries, so the job waits for task slots until this is fixed)",
		e.Pod, e.Message, e.JobManagerPod)
}

// createFailed is how Flink's KubernetesResourceManagerDriver logs a pod the API server refused,
// and the API server's message inside fabric8's exception.
var (
	createFailed = regexp.MustCompile(`KubernetesResourceManagerDriver.*Could not create pod (\S+?),`)
	apiMessage   = regexp.MustCompile(`Message: (.+?)\. Received status:`)
)

// podCreateFailures are the lines of a JobManager log that report a refused TaskManager pod.
func podCreateFailures(log string) map[string]*PodCreateError {
	out := map[string]*PodCreateError{}
	for _, l := range strings.Split(log, "\n") {
		m := createFailed.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		e := &PodCreateError{Pod: m[1], Message: "refused"}
		if msg := apiMessage.FindStringSubmatch(l); msg != nil {
			e.Message = msg[1]
		}
		out[l] = e
	}
	return out
}

// NativeWatch follows the TaskManager pods a native JobManager creates.
type NativeWatch struct {
	Kube      kubernetes.Interface
	Namespace string
	ClusterID string
	// JobManagerPod is the pod whose log tells why pods are not created; "" finds it.
	JobManagerPod string
	Release       string
	// Progress receives the pod counts whenever they change, with a note when a pod cannot be
	// scheduled (see unschedulable).
	Progress func(requested, ready int, note string)
}

// Run reports the TaskManager pods as they come and go. It returns a *PodCreateError as soon as
// the JobManager logs a TaskManager pod the API server refused after Run started (what it logged
// before is history), and a *PodStartError as soon as a TaskManager pod cannot start or its
// container exits with an error: Flink replaces such a pod with one that fails alike, and the
// job waits for its slots until a timeout. It runs until ctx ends.
func (w *NativeWatch) Run(ctx context.Context) error {
	return firstReport(ctx, w.count, w.refusals)
}

// count reports the pods until ctx ends or one fails; a watch that fails only costs progress
// lines. A pod that had failed before the watch began counts too: Flink deletes a TaskManager
// pod that ended and waits for one stuck in Pending (a missing Secret) until
// resourcemanager.taskmanager-registration.timeout.
func (w *NativeWatch) count(ctx context.Context) error {
	last, lastNote := [2]int{-1, -1}, ""
	var failure *PodStartError
	_ = watchPods(ctx, w.Kube, w.Namespace, NativeTaskManagers(w.ClusterID), func(pods map[string]*corev1.Pod, _ *corev1.Pod) (bool, error) {
		n := [2]int{0, countReady(pods)}
		for name, p := range pods {
			if p.DeletionTimestamp != nil {
				continue
			}
			n[0]++
			if reason, container, init, previous := failed(p); reason != "" && failure == nil {
				failure = &PodStartError{Pod: name + " (a TaskManager Flink created)", Reason: reason,
					Log: failureLog(ctx, w.Kube, w.Namespace, name, container, init, previous)}
			}
		}
		note := unschedulable(pods)
		if (n != last || note != lastNote) && w.Progress != nil {
			w.Progress(n[0], n[1], note)
		}
		last, lastNote = n, note
		return failure != nil, nil
	})
	if failure != nil {
		return failure
	}
	return nil
}

// refusals polls the JobManager's log (Flink retries a refused pod every few seconds) for a
// refusal not seen in the first read.
func (w *NativeWatch) refusals(ctx context.Context) error {
	var seen map[string]*PodCreateError
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		if pod, log, err := w.jobManagerLog(ctx); err == nil {
			found := podCreateFailures(log)
			if seen == nil {
				seen = found
			}
			for line, e := range found {
				if _, old := seen[line]; !old {
					e.JobManagerPod = pod
					return e
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// jobManagerLog is the recent log of the JobManager's Flink container.
func (w *NativeWatch) jobManagerLog(ctx context.Context) (pod, log string, err error) {
	pod = w.JobManagerPod
	if pod == "" {
		p, err := ReadyPod(ctx, w.Kube, w.Namespace, Selector(w.Release, JobManager))
		if err != nil {
			return "", "", err
		}
		pod = p.Name
	}
	p, err := w.Kube.CoreV1().Pods(w.Namespace).Get(ctx, pod, metav1.GetOptions{})
	if err != nil {
		return "", "", err
	}
	if len(p.Spec.Containers) == 0 {
		return "", "", fmt.Errorf("pod %s has no container", pod)
	}
	container := p.Spec.Containers[0].Name
	for _, c := range p.Spec.Containers {
		if c.Name == JobManager {
			container = c.Name
		}
	}
	tail := int64(500)
	data, err := w.Kube.CoreV1().Pods(w.Namespace).GetLogs(pod, &corev1.PodLogOptions{Container: container, TailLines: &tail}).DoRaw(ctx)
	return pod, string(data), err
}

// WaitGone watches the pods selected until none is left at all (e.g. the TaskManager pods the
// garbage collector deletes after their owner), calling progress when the count changes. With
// names, only those pods are waited for.
func WaitGone(ctx context.Context, cs kubernetes.Interface, ns, selector string, names []string, progress func(left int)) error {
	last := -1
	err := watchPods(ctx, cs, ns, selector, func(pods map[string]*corev1.Pod, _ *corev1.Pod) (bool, error) {
		left := 0
		for name := range pods {
			if names == nil || slices.Contains(names, name) {
				left++
			}
		}
		if left != last && progress != nil {
			progress(left)
		}
		last = left
		return left == 0, nil
	})
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("%d pod(s) still there (%s): %w", max(last, 0), selector, context.Cause(ctx))
	}
	return err
}

// PodNames are the names of the pods selected.
func PodNames(ctx context.Context, cs kubernetes.Interface, ns, selector string) ([]string, error) {
	list, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, fmt.Errorf("list pods %s: %w", selector, err)
	}
	names := []string{}
	for _, p := range list.Items {
		names = append(names, p.Name)
	}
	return names, nil
}
