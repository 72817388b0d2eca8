package kube

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
)

// lastEventsShown bounds how many pods a timeout names: the first few say what the rest would.
const lastEventsShown = 4

// notReady are the names, sorted, of the pods that are neither ready nor on their way out.
func notReady(pods map[string]*corev1.Pod) []string {
	var out []string
	for name, p := range pods {
		if p.DeletionTimestamp == nil && !isReady(p) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// LastEvents says, for each named pod, the last event Kubernetes recorded about it ("pod x: last
// event Unhealthy: Readiness probe failed: …"), joined with "; ". A wait that timed out calls it
// after its own context ended, so it takes a few seconds of its own.
func LastEvents(cs kubernetes.Interface, ns string, pods []string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// One list of the namespace's pod events, not one per pod.
	sel := fields.Set{"involvedObject.kind": "Pod"}.AsSelector().String()
	list, err := cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: sel})
	if err != nil {
		return fmt.Sprintf("pod events unreadable (%v)", err)
	}
	byPod := map[string][]corev1.Event{}
	for _, e := range list.Items {
		if e.InvolvedObject.Kind == "Pod" {
			byPod[e.InvolvedObject.Name] = append(byPod[e.InvolvedObject.Name], e)
		}
	}
	var out []string
	for i, name := range pods {
		if i == lastEventsShown {
			out = append(out, fmt.Sprintf("%d more pod(s) not ready", len(pods)-i))
			break
		}
		if events := byPod[name]; len(events) > 0 {
			e := latest(events)
			out = append(out, fmt.Sprintf("pod %s: last event %s: %s", name, e.Reason, strings.TrimSpace(e.Message)))
		} else {
			out = append(out, fmt.Sprintf("pod %s: no event", name))
		}
	}
	return strings.Join(out, "; ")
}

// latest is the event that happened last: events.k8s.io writers set EventTime, core ones
// LastTimestamp (a repeated event keeps its first time in FirstTimestamp).
func latest(events []corev1.Event) corev1.Event {
	when := func(e corev1.Event) time.Time {
		var series time.Time
		if e.Series != nil {
			series = e.Series.LastObservedTime.Time
		}
		for _, t := range []time.Time{series, e.EventTime.Time, e.LastTimestamp.Time, e.FirstTimestamp.Time} {
			if !t.IsZero() {
				return t
			}
		}
		return e.CreationTimestamp.Time
	}
	best := events[0]
	for _, e := range events[1:] {
		if !when(e).Before(when(best)) {
			best = e
		}
	}
	return best
}
