package main

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
)

// containerState is what the runner knows of the Flink container's process.
type containerState struct {
	waitingReason, waitingMessage string
	startedAt                     time.Time // zero until the process has started
	ready                         bool
	exited                        bool
	exitCode                      int32
	finishedAt                    time.Time
	restarts                      int32
	last                          *corev1.ContainerStateTerminated
	phase                         corev1.PodPhase
}

// writeStatus replaces the pod's status with one derived from the processes, like a kubelet.
// Init containers are reported as the runner ran them (see runInits). Containers other than the
// first (sidecars) are not run: they are reported running once the first one is, so that the
// pod's readiness is its process's readiness.
func (w *worker) writeStatus(ctx context.Context, s containerState) {
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		pod, err := w.r.cs.CoreV1().Pods(w.ns).Get(ctx, w.name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if pod.UID != w.uid || pod.DeletionTimestamp != nil {
			return nil
		}
		now := metav1.Now()
		st := &pod.Status
		st.Phase = s.phase
		st.HostIP = w.hostIP(ctx, pod)
		st.HostIPs = []corev1.HostIP{{IP: st.HostIP}}
		st.PodIP = podIP
		st.PodIPs = []corev1.PodIP{{IP: podIP}}
		if st.StartTime == nil {
			st.StartTime = &now
		}
		inits, initDone := w.initState()
		st.Message, st.Reason = "", ""
		if !initDone && s.waitingReason == "" {
			// Until every init container completed, the containers wait as PodInitializing.
			s = containerState{phase: s.phase, waitingReason: "PodInitializing"}
		} else if s.waitingReason != "" && s.startedAt.IsZero() {
			// A reason the pod cannot start (NamespaceNotEnabled, ErrImagePull, …) shows on the pod.
			st.Message, st.Reason = s.waitingMessage, s.waitingReason
		}
		ready := corev1.ConditionFalse
		if s.ready {
			ready = corev1.ConditionTrue
		}
		initialized := corev1.ConditionFalse
		if initDone {
			initialized = corev1.ConditionTrue
		}
		setCond(st, corev1.PodScheduled, corev1.ConditionTrue, now)
		setCond(st, corev1.PodInitialized, initialized, now)
		setCond(st, corev1.ContainersReady, ready, now)
		setCond(st, corev1.PodReady, ready, now)

		st.InitContainerStatuses = inits
		st.ContainerStatuses = nil
		for i, c := range pod.Spec.Containers {
			cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: c.Image, ContainerID: "podrunner://" + string(w.uid) + "/" + c.Name}
			if i > 0 && !initDone {
				cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "PodInitializing"}
				st.ContainerStatuses = append(st.ContainerStatuses, cs)
				continue
			}
			if i > 0 {
				cs.Ready, cs.Started = s.ready, &s.ready
				cs.State.Running = &corev1.ContainerStateRunning{StartedAt: now}
				st.ContainerStatuses = append(st.ContainerStatuses, cs)
				continue
			}
			cs.RestartCount = s.restarts
			cs.Ready = s.ready
			started := !s.startedAt.IsZero() && !s.exited
			cs.Started = &started
			cs.LastTerminationState.Terminated = s.last
			switch {
			case s.exited:
				reason := "Completed"
				if s.exitCode != 0 {
					reason = "Error"
				}
				cs.State.Terminated = &corev1.ContainerStateTerminated{ExitCode: s.exitCode, Reason: reason,
					StartedAt: metav1.NewTime(s.startedAt), FinishedAt: metav1.NewTime(s.finishedAt)}
			case !s.startedAt.IsZero():
				cs.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(s.startedAt)}
			default:
				cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: s.waitingReason, Message: s.waitingMessage}
			}
			st.ContainerStatuses = append(st.ContainerStatuses, cs)
		}
		_, err = w.r.cs.CoreV1().Pods(w.ns).UpdateStatus(ctx, pod, metav1.UpdateOptions{})
		return err
	})
	if err != nil && !apierrors.IsNotFound(err) && ctx.Err() == nil {
		w.logf("update status: %v", err)
	}
}

// initState is a copy of the init containers' statuses, and whether all of them completed.
func (w *worker) initState() ([]corev1.ContainerStatus, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]corev1.ContainerStatus, len(w.inits))
	for i := range w.inits {
		w.inits[i].DeepCopyInto(&out[i])
	}
	return out, w.initDone
}

func setCond(st *corev1.PodStatus, t corev1.PodConditionType, s corev1.ConditionStatus, now metav1.Time) {
	for i := range st.Conditions {
		if st.Conditions[i].Type == t {
			if st.Conditions[i].Status != s {
				st.Conditions[i].Status = s
				st.Conditions[i].LastTransitionTime = now
			}
			return
		}
	}
	st.Conditions = append(st.Conditions, corev1.PodCondition{Type: t, Status: s, LastTransitionTime: now})
}

func (w *worker) hostIP(ctx context.Context, pod *corev1.Pod) string {
	if pod.Status.HostIP != "" {
		return pod.Status.HostIP
	}
	if node, err := w.r.cs.CoreV1().Nodes().Get(ctx, pod.Spec.NodeName, metav1.GetOptions{}); err == nil {
		for _, a := range node.Status.Addresses {
			if a.Type == corev1.NodeInternalIP && a.Address != "" {
				return a.Address
			}
		}
	}
	return podIP
}
