package act_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/release"
	authv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8sfake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/helm-flink/helm-flink/plugin/access"
	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/internal/fake"
)

// What an install asks before it makes anything: the release records, each kind it renders, the
// install hooks' objects (created, waited for, deleted) and not the test hooks', and the wait.
func TestCheckAccessAsksForWhatTheReleaseTakes(t *testing.T) {
	cfg := fake.Config(t, "")
	var asked []string
	cfg.Kube.(*k8sfake.Clientset).PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authv1.SelfSubjectAccessReview).DeepCopy()
		ra := r.Spec.ResourceAttributes
		res := ra.Resource
		if ra.Subresource != "" {
			res += "/" + ra.Subresource
		}
		asked = append(asked, ra.Verb+" "+res)
		r.Status.Allowed = !(ra.Verb == "delete" && ra.Resource == "jobs")
		return true, r, nil
	})
	rendered := &release.Release{Name: "s", Namespace: "flink",
		Manifest: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: s-jm}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s-rest}\n",
		Hooks: []*release.Hook{
			{Events: []release.HookEvent{release.HookPostInstall}, Manifest: "apiVersion: batch/v1\nkind: Job\nmetadata: {name: s-submit}\n"},
			{Events: []release.HookEvent{release.HookTest}, Manifest: "apiVersion: v1\nkind: Pod\nmetadata: {name: s-test}\n"},
		}}
	err := cfg.CheckAccess(context.Background(), rendered, act.Installing)
	var d *access.DeniedError
	if !errors.As(err, &d) || len(d.Denied) != 1 || !strings.Contains(err.Error(), "delete jobs.batch (the post-install hook Job s-submit)") ||
		!strings.Contains(err.Error(), "nothing was installed") {
		t.Fatalf("%v", err)
	}
	for _, want := range []string{"create secrets", "update secrets", "create deployments", "create services", "create jobs", "watch jobs", "create pods/portforward", "get pods/log"} {
		if !strings.Contains(strings.Join(asked, ","), want) {
			t.Errorf("not asked: %s (asked %v)", want, asked)
		}
	}
	for _, a := range asked {
		if a == "create pods" {
			t.Errorf("asked for the test hook's pod: %v", asked)
		}
	}
}
