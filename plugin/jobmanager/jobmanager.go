// Package jobmanager reaches a release's Flink JobManager and runs, lists, stops and follows its jobs.
//
// It finds a ready JobManager pod, forwards to its REST port through the API server (or uses
// --rest-url), waits for the cluster to come up, submits jars, and follows a job to its outcome
// by the one rule of [flink.Outcome].
package jobmanager

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/flink"
	"github.com/helm-flink/helm-flink/plugin/kube"
)

// defaultRESTPort is Flink's rest.port, used when the JobManager container names no "rest" port.
const defaultRESTPort = 8081

// JobManager is a connection to a release's JobManager REST API.
type JobManager struct {
	Namespace string
	Release   string
	// Pod is the JobManager pod forwarded to; empty with a --rest-url.
	Pod  string
	REST *flink.Client
	// Native is set for a native-mode cluster, whose TaskManager pods Flink creates.
	Native *Native
	pf     *kube.PortForward
}

// Native is the Kubernetes side of a native-mode cluster: waiting for a job then also follows
// the TaskManager pods Flink creates for it and fails as soon as the API server refuses them.
type Native struct {
	Kube      kubernetes.Interface
	ClusterID string
	// MinTaskManagers are started with the JobManager and kept (slotmanager.number-of-slots.min).
	MinTaskManagers int
}

// Close stops the port-forward, if any. Safe to call more than once.
func (jm *JobManager) Close() {
	if jm != nil && jm.pf != nil {
		jm.pf.Close()
	}
}

// Connect reaches release's JobManager: restURL when set, else a port-forward to a ready
// JobManager pod's REST port.
func Connect(ctx context.Context, cs kubernetes.Interface, cfg *rest.Config, ns, release, restURL string) (*JobManager, error) {
	jm := &JobManager{Namespace: ns, Release: release}
	if restURL != "" {
		jm.REST = flink.New(restURL)
		return jm, nil
	}
	pod, err := kube.ReadyPod(ctx, cs, ns, kube.Selector(release, kube.JobManager))
	if err != nil {
		return nil, fmt.Errorf("jobmanager of release %q: %w", release, err)
	}
	pf, err := ForwardREST(ctx, cfg, pod, 0)
	if err != nil {
		return nil, err
	}
	jm.Pod, jm.pf, jm.REST = pod.Name, pf, flink.New(pf.URL())
	return jm, nil
}

// ForwardREST forwards local port local of 127.0.0.1 (0: a free one) to JobManager pod's REST
// port, which serves the web UI too, until ctx ends or it is closed.
func ForwardREST(ctx context.Context, cfg *rest.Config, pod *corev1.Pod, local int) (*kube.PortForward, error) {
	return kube.ForwardPort(ctx, cfg, pod.Namespace, pod.Name, restPort(pod), local) // names the pod and port
}

func restPort(p *corev1.Pod) int {
	for _, c := range p.Spec.Containers {
		for _, port := range c.Ports {
			if port.Name == "rest" || port.Name == "http" {
				return int(port.ContainerPort)
			}
		}
	}
	return defaultRESTPort
}

// UpOptions say how to wait for a release's cluster.
type UpOptions struct {
	RESTURL string
	// JobManagers to wait for; 0 counts them from the release's workloads.
	JobManagers int
	// Application: the JobManager runs the job's main(), so its crash is the job's failure.
	Application bool
	// Native is set for a native-mode cluster: its TaskManagers come with jobs, so only the
	// JobManager is waited for, and the TaskManagers Flink starts with it (MinTaskManagers).
	Native *Native
	// Progress receives one line per change.
	Progress func(format string, a ...any)
}

// Up waits with watches until the release's JobManager and TaskManager pods are ready, connects
// to the JobManager, and waits until every TaskManager has registered with it.
func Up(ctx context.Context, cs kubernetes.Interface, cfg *rest.Config, ns, release string, o UpOptions) (*JobManager, error) {
	progress := o.Progress
	if progress == nil {
		progress = func(string, ...any) {}
	}
	wantJM, wantTM, err := kube.Want(ctx, cs, ns, release)
	if err != nil {
		return nil, err
	}
	if o.JobManagers > 0 {
		wantJM = o.JobManagers
	}
	if err := kube.WaitReady(ctx, cs, ns, kube.Selector(release, kube.JobManager), wantJM, func(r, w int, note string) {
		progress("  jobmanager pods ready %d/%d%s", r, w, kube.Note(note))
	}); err != nil {
		err = fmt.Errorf("wait for jobmanager: %w", err)
		var crash *kube.PodStartError
		if o.Application && errors.As(err, &crash) && len(crash.Log) > 0 {
			return nil, exit.With(exit.JobFailed, err)
		}
		return nil, err
	}
	if o.Native != nil {
		return upNative(ctx, cs, cfg, ns, release, o, progress)
	}
	if err := kube.WaitReady(ctx, cs, ns, kube.Selector(release, kube.TaskManager), wantTM, func(r, w int, note string) {
		progress("  taskmanager pods ready %d/%d%s", r, w, kube.Note(note))
	}); err != nil {
		return nil, fmt.Errorf("wait for taskmanagers: %w", err)
	}
	jm, err := Connect(ctx, cs, cfg, ns, release, o.RESTURL)
	if err != nil {
		return nil, err
	}
	if err := jm.WaitTaskManagers(ctx, wantTM, func(r, w int) {
		progress("  taskmanagers registered %d/%d", r, w)
	}); err != nil {
		var short *tooFewRegistered
		if errors.As(err, &short) {
			if why := unregistered(cs, ns, release, short.registered); why != "" {
				err = fmt.Errorf("%w; %s", err, why)
			}
		}
		jm.Close()
		return nil, fmt.Errorf("wait for taskmanagers to register: %w", err)
	}
	return jm, nil
}

// upNative connects to a native cluster's JobManager once its REST API answers, and waits for
// the TaskManagers Flink starts with it (slotmanager.number-of-slots.min) to register, following
// their pods: one that cannot start is the error.
func upNative(ctx context.Context, cs kubernetes.Interface, cfg *rest.Config, ns, release string, o UpOptions, progress func(format string, a ...any)) (*JobManager, error) {
	progress("  taskmanager pods: Flink creates them as jobs need task slots (native mode)")
	jm, err := Connect(ctx, cs, cfg, ns, release, o.RESTURL)
	if err != nil {
		return nil, err
	}
	jm.Native = o.Native
	// A ready JobManager may still be electing its leader: REST answers then.
	if err := jm.WaitTaskManagers(ctx, 0, nil); err != nil {
		jm.Close()
		return nil, fmt.Errorf("wait for the jobmanager's REST API: %w", err)
	}
	if o.Native.MinTaskManagers == 0 {
		return jm, nil
	}
	wctx, say, stop := jm.watchNative(ctx, progress)
	err = jm.WaitTaskManagers(wctx, o.Native.MinTaskManagers, func(r, w int) {
		say("  taskmanagers registered %d/%d (slotmanager.number-of-slots.min)", r, w)
	})
	note := stop()
	if err != nil {
		if cause := context.Cause(wctx); ctx.Err() == nil && cause != nil {
			err = cause // a pod that cannot start, not the REST call it interrupted
		} else if note != "" {
			err = fmt.Errorf("%w; %s", err, note)
		}
		jm.Close()
		return nil, fmt.Errorf("wait for taskmanagers to register: %w", err)
	}
	return jm, nil
}

// WaitTaskManagers polls the JobManager until want TaskManagers have registered, calling progress
// when the count changes. Flink has no watch API, so this one wait polls.
func (jm *JobManager) WaitTaskManagers(ctx context.Context, want int, progress func(registered, want int)) error {
	last := -1
	var lastErr error
	var registered []flink.TaskManager
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		ov, err := jm.REST.Overview(ctx)
		if err == nil {
			lastErr = nil
			if ov.TaskManagers != last {
				if tms, err := jm.REST.TaskManagers(ctx); err == nil {
					registered = tms
				}
				if progress != nil {
					progress(ov.TaskManagers, want)
				}
			}
			last = ov.TaskManagers
			if ov.TaskManagers >= want {
				return nil
			}
		} else if ctx.Err() == nil {
			// A request the deadline cut says nothing of the JobManager: the last answer stands.
			lastErr = err
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return fmt.Errorf("taskmanagers registered: unknown (last error: %v): %w", lastErr, context.Cause(ctx))
			}
			return &tooFewRegistered{registered: registered,
				err: fmt.Errorf("%d/%d taskmanagers registered: %w", max(last, 0), want, context.Cause(ctx))}
		case <-tick.C:
		}
	}
}

// UIHint tells how to open the Flink UI: `helm flink ui`, or kubectl's port-forward to the
// release's REST service, whose name (unlike a pod's) stays the same.
func UIHint(ctx context.Context, cs kubernetes.Interface, ns, release string) string {
	svcs, err := cs.CoreV1().Services(ns).List(ctx, metav1.ListOptions{LabelSelector: kube.Selector(release, "")})
	if err == nil {
		for _, s := range svcs.Items {
			if strings.HasSuffix(s.Name, "-rest") {
				return fmt.Sprintf("helm flink ui %s -n %s, or kubectl port-forward -n %s svc/%s 8081 and http://localhost:8081", release, ns, ns, s.Name)
			}
		}
	}
	return fmt.Sprintf("helm flink status %s -n %s", release, ns)
}
