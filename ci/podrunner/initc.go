package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// runnableInit tells whether the runner runs an init container for real: a shell script (the
// chart's jar fetcher is `sh -c`). A sidecar (restartPolicy Always) never completes, so it is not.
func runnableInit(c *corev1.Container) bool {
	if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
		return false
	}
	return len(c.Command) > 0 && shells[c.Command[0]]
}

// runInits runs the pod's init containers in order, each to completion, before the pod's
// containers start, as the kubelet does. Other init containers are reported done without running,
// as kwok reports them. It returns false when the containers must not start: an init container
// failed under restartPolicy Never, could not be set up, or the pod is going away.
func (w *worker) runInits(ctx context.Context, pod *corev1.Pod) bool {
	for i := range pod.Spec.InitContainers {
		if !w.runInit(ctx, pod, i) {
			return false
		}
	}
	w.mu.Lock()
	w.initDone = true
	w.mu.Unlock()
	return true
}

// initStatuses is how a pod's init containers start out: waiting, as PodInitializing.
func initStatuses(pod *corev1.Pod) []corev1.ContainerStatus {
	var out []corev1.ContainerStatus
	for _, c := range pod.Spec.InitContainers {
		out = append(out, corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: c.Image,
			ContainerID: "podrunner://" + string(pod.UID) + "/" + c.Name,
			State:       corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}}})
	}
	return out
}

func (w *worker) setInit(i int, f func(*corev1.ContainerStatus)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f(&w.inits[i])
}

// runInit runs init container i until it succeeds, restarting it with back-off after a failure
// unless the pod's restartPolicy is Never.
func (w *worker) runInit(ctx context.Context, pod *corev1.Pod, i int) bool {
	c := &pod.Spec.InitContainers[i]
	if !runnableInit(c) {
		now := metav1.Now()
		w.setInit(i, func(s *corev1.ContainerStatus) {
			s.Ready = true
			s.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed", StartedAt: now, FinishedAt: now}}
		})
		return true
	}
	pending := containerState{phase: corev1.PodPending}
	backoff := time.Second
	for {
		l, err := w.scriptLaunch(ctx, pod, c, "PATH="+os.Getenv("PATH"), "HOME="+w.dir)
		if err != nil {
			var wait *errWaiting
			reason := "CreateContainerConfigError"
			if errors.As(err, &wait) {
				reason = "ContainerCreating"
			}
			w.initWaiting(ctx, i, reason, err.Error())
			if reason != "ContainerCreating" {
				return false
			}
			select {
			case <-ctx.Done():
				return false
			case <-w.r.jobManagerChanged():
			case <-time.After(2 * time.Second):
			}
			continue
		}
		started := metav1.Now()
		cmd, logw, err := w.start(l)
		if err != nil {
			w.initWaiting(ctx, i, "RunContainerError", err.Error())
			return false
		}
		w.setInit(i, func(s *corev1.ContainerStatus) {
			s.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: started}}
			s.Started = ptr(true)
		})
		w.setInfo(func(p *processInfo) { p.PID, p.State = cmd.Process.Pid, "Init:"+c.Name })
		w.writeStatus(ctx, pending)
		exited := w.reap(cmd, logw)
		var werr error
		select {
		case <-ctx.Done():
			w.stop(cmd, exited)
			return false
		case werr = <-exited:
		}
		code := exitCodeOf(werr)
		w.logf("init container %s exited with code %d", c.Name, code)
		term := &corev1.ContainerStateTerminated{ExitCode: code, Reason: "Completed", StartedAt: started, FinishedAt: metav1.Now(),
			ContainerID: "podrunner://" + string(w.uid) + "/" + c.Name}
		if code == 0 {
			w.setInit(i, func(s *corev1.ContainerStatus) {
				s.State, s.Ready, s.Started = corev1.ContainerState{Terminated: term}, true, ptr(false)
			})
			w.setInfo(func(p *processInfo) { p.PID, p.State = 0, "PodInitializing" })
			w.writeStatus(ctx, pending)
			return true
		}
		term.Reason = "Error"
		if pod.Spec.RestartPolicy == corev1.RestartPolicyNever {
			// The pod fails; its containers never start.
			w.setInit(i, func(s *corev1.ContainerStatus) {
				s.State, s.Started = corev1.ContainerState{Terminated: term}, ptr(false)
			})
			w.setInfo(func(p *processInfo) { p.PID, p.State = 0, "Init:Error" })
			w.writeStatus(ctx, containerState{phase: corev1.PodFailed})
			return false
		}
		// The kubelet restarts a failed init container (not the ones before it) with back-off.
		w.setInit(i, func(s *corev1.ContainerStatus) {
			s.RestartCount++
			s.LastTerminationState = corev1.ContainerState{Terminated: term}
			s.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff",
				Message: fmt.Sprintf("back-off %s restarting failed container=%s (exit code %d)", backoff, c.Name, code)}}
			s.Started = ptr(false)
		})
		w.setInfo(func(p *processInfo) { p.PID, p.State = 0, "Init:CrashLoopBackOff" })
		w.writeStatus(ctx, pending)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// initWaiting reports init container i as not started, with the reason.
func (w *worker) initWaiting(ctx context.Context, i int, reason, msg string) {
	w.logf("init container %s: %s: %s", w.inits[i].Name, reason, msg)
	w.setInit(i, func(s *corev1.ContainerStatus) {
		s.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}
	})
	w.setInfo(func(p *processInfo) { p.State = "Init:" + reason + ": " + msg })
	w.writeStatus(ctx, containerState{phase: corev1.PodPending})
}

func ptr[T any](v T) *T { return &v }
