package jobmanager

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/helm-flink/helm-flink/plugin/flink"
)

func TestResourceManagerAddress(t *testing.T) {
	lines := []string{
		"2026-12-07 05:40:01,100 INFO  org.apache.flink.runtime.taskexecutor.TaskExecutor           [] - Connecting to ResourceManager pekko.tcp://flink@s-flink-session-jobmanager:6123/user/rpc/resourcemanager_*(00000000000000000000000000000000).",
		"2026-12-07 05:40:11,200 INFO  org.apache.flink.runtime.registration.RetryingRegistration   [] - Could not resolve ResourceManager address pekko.tcp://flink@s-flink-session-jobmanager:6123/user/rpc/resourcemanager_*, retrying in 10000 ms: Could not connect to rpc endpoint under address pekko.tcp://flink@s-flink-session-jobmanager:6123/user/rpc/resourcemanager_*.",
		"2026-12-07 05:40:12,000 INFO  org.apache.flink.runtime.taskexecutor.TaskExecutor           [] - something else",
	}
	addr, said := resourceManagerAddress(lines)
	if addr != "s-flink-session-jobmanager:6123" || !strings.HasPrefix(said, "Could not resolve ResourceManager address") || len(said) > 243 {
		t.Errorf("%q %q", addr, said)
	}
	if addr, _ := resourceManagerAddress([]string{"Starting TaskManager"}); addr != "" {
		t.Errorf("an address from no such line: %q", addr)
	}
}

// Of the running TaskManager pods, those whose address is not among the registered TaskManagers'
// are named; pending or leaving pods are not.
func TestDescribeUnregistered(t *testing.T) {
	pod := func(name, ip string, phase corev1.PodPhase) corev1.Pod {
		return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
			Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "taskmanager"}}},
			Status: corev1.PodStatus{Phase: phase, PodIP: ip}}
	}
	pods := []corev1.Pod{pod("tm-in", "10.88.0.3", corev1.PodRunning), pod("tm-out", "10.88.0.4", corev1.PodRunning), pod("tm-new", "", corev1.PodPending)}
	cs := fake.NewClientset(&pods[0], &pods[1], &pods[2])
	tms := []flink.TaskManager{{ID: "10.88.0.3:6122-3e2f17", Path: "pekko.tcp://flink@10.88.0.3:6122/user/rpc/taskmanager_0"}}
	got := describeUnregistered(t.Context(), cs, "ns", pods, tms)
	if !strings.Contains(got, "taskmanager pod tm-out (10.88.0.4) runs but has not registered") || strings.Contains(got, "tm-in") || strings.Contains(got, "tm-new") {
		t.Errorf("%s", got)
	}
}

// A registration wait that times out with the JobManager answering carries the TaskManagers that
// did register, and is still a deadline.
func TestWaitTaskManagersCarriesTheRegistered(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/overview":
			_, _ = w.Write([]byte(`{"taskmanagers":1,"slots-total":1,"slots-available":1,"flink-version":"1.20.0"}`))
		case "/taskmanagers":
			_, _ = w.Write([]byte(`{"taskmanagers":[{"id":"10.88.0.3:6122-3e2f17","path":"pekko.tcp://flink@10.88.0.3:6122/user/rpc/taskmanager_0"}]}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 600*time.Millisecond)
	defer cancel()
	err := (&JobManager{REST: flink.New(srv.URL)}).WaitTaskManagers(ctx, 2, nil)
	var short *tooFewRegistered
	if !errors.As(err, &short) || len(short.registered) != 1 || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "1/2 taskmanagers registered") {
		t.Fatalf("%v (%+v)", err, short)
	}
}

// The deadline that ends the wait often cuts a request in flight: the count the JobManager last
// gave stands, and the TaskManagers it named, rather than "unknown".
func TestWaitTaskManagersKeepsTheLastAnswerWhenTheDeadlineCutsARequest(t *testing.T) {
	var answered atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/overview":
			if answered.Swap(true) {
				<-r.Context().Done() // the next one hangs until the wait gives up
				return
			}
			_, _ = w.Write([]byte(`{"taskmanagers":0,"slots-total":0,"slots-available":0,"flink-version":"1.20.0"}`))
		case "/taskmanagers":
			_, _ = w.Write([]byte(`{"taskmanagers":[]}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 600*time.Millisecond)
	defer cancel()
	err := (&JobManager{REST: flink.New(srv.URL)}).WaitTaskManagers(ctx, 1, nil)
	var short *tooFewRegistered
	if !errors.As(err, &short) || !strings.Contains(err.Error(), "0/1 taskmanagers registered") {
		t.Fatalf("%v, want the last answer: 0/1 taskmanagers registered", err)
	}
}
