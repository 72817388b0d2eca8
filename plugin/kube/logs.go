package kube

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// LogOptions say whose logs Logs writes, and how much.
type LogOptions struct {
	// Component is JobManager or TaskManager; "" for both.
	Component string
	// Follow keeps streaming, also from the pods that start meanwhile (the TaskManagers a native
	// JobManager creates for a job), until ctx ends.
	Follow bool
	// Since: only lines this recent; 0 for all.
	Since time.Duration
	// Tail: only this many last lines of each container; negative for all.
	Tail int64
}

// followPoll is how often a following Logs looks for pods that started: new TaskManager pods
// come seconds apart at most, and one list is cheap.
const followPoll = 2 * time.Second

// Logs writes the logs of release's Flink containers to out, each line prefixed with its pod's
// name, JobManagers first. A container that is not running but ran before — crashed, killed,
// waiting to restart — gives its previous run's log, which says why; a pod that never ran a
// container has none. With o.Follow every pod's stream is written as lines come, until ctx ends.
func Logs(ctx context.Context, cs kubernetes.Interface, ns, release string, o LogOptions, out io.Writer) error {
	w := &lineWriter{out: out}
	streamed := map[string]bool{}
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		pods, err := logPods(ctx, cs, ns, release, o.Component)
		if err != nil {
			if o.Follow && ctx.Err() != nil {
				return nil
			}
			return err
		}
		if len(pods) == 0 && !o.Follow {
			what := "Flink pods"
			if o.Component != "" {
				what = o.Component + " pods"
			}
			return fmt.Errorf("release %q has no %s in namespace %s", release, what, ns)
		}
		for i := range pods {
			p := &pods[i]
			container, previous, ok := logContainer(p)
			if !ok || streamed[p.Name] {
				continue
			}
			streamed[p.Name] = true
			opts := &corev1.PodLogOptions{Container: container, Previous: previous, Follow: o.Follow && !previous}
			if o.Tail >= 0 {
				opts.TailLines = &o.Tail
			}
			if o.Since > 0 {
				s := int64(o.Since.Seconds())
				opts.SinceSeconds = &s
			}
			if previous {
				w.line(p.Name, fmt.Sprintf("(the log of container %s's previous run: it is not running now)", container))
			}
			if !o.Follow {
				if err := streamLog(ctx, cs, ns, p.Name, opts, w); err != nil {
					w.line(p.Name, "(no log: "+err.Error()+")")
				}
				continue
			}
			wg.Add(1)
			go func(name string) {
				defer wg.Done()
				if err := streamLog(ctx, cs, ns, name, opts, w); err != nil && ctx.Err() == nil {
					w.line(name, "(log stream ended: "+err.Error()+")")
				}
			}(p.Name)
		}
		if !o.Follow {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(followPoll):
		}
	}
}

// logPods are the release's pods of component ("" for all), JobManagers first, then by name.
func logPods(ctx context.Context, cs kubernetes.Interface, ns, release, component string) ([]corev1.Pod, error) {
	list, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: Selector(release, component)})
	if err != nil {
		return nil, fmt.Errorf("list pods of release %q: %w", release, err)
	}
	pods := list.Items
	sort.Slice(pods, func(i, j int) bool {
		ci, cj := pods[i].Labels[ComponentLabel], pods[j].Labels[ComponentLabel]
		if ci != cj {
			return ci < cj // jobmanager before taskmanager
		}
		return pods[i].Name < pods[j].Name
	})
	return pods, nil
}

// logContainer is the pod's Flink container — the one named after its component, Flink's own
// name for it in native mode, else the first — whether its previous run is the log to read, and
// false when it has no log at all yet.
func logContainer(p *corev1.Pod) (name string, previous, ok bool) {
	if len(p.Spec.Containers) == 0 {
		return "", false, false
	}
	name = p.Spec.Containers[0].Name
	for _, c := range p.Spec.Containers {
		if c.Name == p.Labels[ComponentLabel] || c.Name == "flink-main-container" {
			name = c.Name
			break
		}
	}
	for _, s := range p.Status.ContainerStatuses {
		if s.Name != name {
			continue
		}
		switch {
		case s.State.Running != nil, s.State.Terminated != nil:
			return name, false, true
		case s.RestartCount > 0 || s.LastTerminationState.Terminated != nil:
			return name, true, true
		}
	}
	return name, false, false
}

func streamLog(ctx context.Context, cs kubernetes.Interface, ns, pod string, opts *corev1.PodLogOptions, w *lineWriter) error {
	r, err := cs.CoreV1().Pods(ns).GetLogs(pod, opts).Stream(ctx)
	if err != nil {
		return err
	}
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		w.line(pod, sc.Text())
	}
	return sc.Err()
}

// lineWriter writes whole lines from several streams, each prefixed with its pod.
type lineWriter struct {
	mu  sync.Mutex
	out io.Writer
}

func (w *lineWriter) line(pod, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fmt.Fprintf(w.out, "[%s] %s\n", pod, text)
}
