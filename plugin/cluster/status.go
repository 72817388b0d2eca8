package cluster

import (
	"context"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/helm-flink/helm-flink/plugin/kube"
)

// Report is `helm flink status`.
type Report struct {
	Release      ReleaseInfo       `json:"release"`
	Pods         []kube.PodSummary `json:"pods"`
	FlinkVersion string            `json:"flinkVersion,omitempty"`
	TaskManagers int               `json:"taskManagers"`
	SlotsTotal   int               `json:"slotsTotal"`
	SlotsFree    int               `json:"slotsFree"`
	Jobs         []Job             `json:"jobs"`
	// JobManagerError is why the Flink part is missing when the JobManager could not be reached.
	JobManagerError string `json:"jobManagerError,omitempty"`
}

// ReleaseInfo is the Helm side of a status.
type ReleaseInfo struct {
	Name      string    `json:"name"`
	Namespace string    `json:"namespace"`
	Revision  int       `json:"revision"`
	Status    string    `json:"status"`
	Chart     string    `json:"chart"`
	Updated   time.Time `json:"updated"`
	FluxOwner string    `json:"fluxOwner,omitempty"`
}

// Status gathers pods from Kubernetes and TaskManagers, slots and jobs from the JobManager; an
// unreachable JobManager still gives the Kubernetes part, with the reason.
func Status(ctx context.Context, cs kubernetes.Interface, connect func(context.Context) (*Cluster, error), info ReleaseInfo) (*Report, error) {
	r := &Report{Release: info}
	pods, err := kube.Pods(ctx, cs, info.Namespace, info.Name)
	if err != nil {
		return nil, err
	}
	r.Pods = pods
	c, err := connect(ctx)
	if err != nil {
		r.JobManagerError = err.Error()
		return r, nil
	}
	defer c.Close()
	ov, err := c.REST.Overview(ctx)
	if err != nil {
		r.JobManagerError = err.Error()
		return r, nil
	}
	r.FlinkVersion, r.TaskManagers, r.SlotsTotal, r.SlotsFree = ov.FlinkVersion, ov.TaskManagers, ov.SlotsTotal, ov.SlotsAvailable
	if r.Jobs, err = c.Jobs(ctx); err != nil {
		r.JobManagerError = err.Error()
	}
	return r, nil
}
