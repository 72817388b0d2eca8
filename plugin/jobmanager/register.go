package jobmanager

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/helm-flink/helm-flink/plugin/flink"
	"github.com/helm-flink/helm-flink/plugin/kube"
)

// resourceManagerRE finds the ResourceManager (the JobManager's) address in a TaskManager's log:
// "Connecting to ResourceManager pekko.tcp://flink@host:6123/user/rpc/resourcemanager_0(…)",
// "Could not resolve ResourceManager address pekko.tcp://flink@host:6123/user/rpc/resourcemanager_*, retrying …".
var resourceManagerRE = regexp.MustCompile(`(?:pekko|akka)(?:\.ssl)?\.tcp://flink@([^/\s]+)/user/rpc/resourcemanager`)

// taskManagerHostRE is the host of a registered TaskManager's RPC path (pekko.tcp://flink@10.88.0.3:6122/…).
var taskManagerHostRE = regexp.MustCompile(`@([^:/\s]+):\d+/`)

// resourceManagerAddress is the address the last line of lines that names one connects to, and
// that line's message (after the log pattern's " - ").
func resourceManagerAddress(lines []string) (addr, said string) {
	for i := len(lines) - 1; i >= 0; i-- {
		if m := resourceManagerRE.FindStringSubmatch(lines[i]); m != nil {
			said = lines[i]
			if _, msg, ok := strings.Cut(said, " - "); ok {
				said = msg
			}
			if len(said) > 240 {
				said = said[:240] + "…"
			}
			return m[1], said
		}
	}
	return "", ""
}

// tooFewRegistered is WaitTaskManagers' error when the JobManager answered but fewer
// TaskManagers than wanted registered in time; it carries those that did (the last list seen:
// once the wait's context ends, so does the port-forward that could ask again).
type tooFewRegistered struct {
	registered []flink.TaskManager
	err        error
}

func (e *tooFewRegistered) Error() string { return e.err.Error() }
func (e *tooFewRegistered) Unwrap() error { return e.err }

// unregistered names the release's TaskManager pods that run but are not among registered, each
// with the JobManager address its log says it connects to: what a wait for registration that
// timed out adds to its error ("" when it finds none). The wait's context has ended, so it takes
// a few seconds of its own.
func unregistered(cs kubernetes.Interface, ns, release string, registered []flink.TaskManager) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: kube.Selector(release, kube.TaskManager)})
	if err != nil {
		return ""
	}
	return describeUnregistered(ctx, cs, ns, pods.Items, registered)
}

func describeUnregistered(ctx context.Context, cs kubernetes.Interface, ns string, pods []corev1.Pod, tms []flink.TaskManager) string {
	registered := map[string]bool{}
	for _, tm := range tms {
		if m := taskManagerHostRE.FindStringSubmatch(tm.Path); m != nil {
			registered[m[1]] = true
		}
	}
	var out []string
	for _, p := range pods {
		if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" || registered[p.Status.PodIP] || len(p.Spec.Containers) == 0 {
			continue
		}
		addr, said := resourceManagerAddress(kube.LogLines(ctx, cs, ns, p.Name, p.Spec.Containers[0].Name, false))
		if addr == "" {
			out = append(out, fmt.Sprintf("taskmanager pod %s (%s) runs but has not registered, and its log names no JobManager address", p.Name, p.Status.PodIP))
			continue
		}
		out = append(out, fmt.Sprintf("taskmanager pod %s (%s) runs but has not registered with the JobManager at %s (its log: %s)", p.Name, p.Status.PodIP, addr, said))
	}
	return strings.Join(out, "; ")
}
