package access

import (
	"errors"
	"strings"
	"testing"

	authv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/manifest"
)

// reviewer answers SelfSubjectAccessReviews as an authorizer that allows all but deny.
func reviewer(deny func(authv1.ResourceAttributes) bool, asked *[]string) *fake.Clientset {
	cs := fake.NewClientset()
	cs.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authv1.SelfSubjectAccessReview).DeepCopy()
		ra := *r.Spec.ResourceAttributes
		if asked != nil {
			*asked = append(*asked, ra.Verb+" "+ra.Resource+"/"+ra.Subresource+" in "+ra.Namespace)
		}
		r.Status.Allowed = !deny(ra)
		return true, r, nil
	})
	return cs
}

const rendered = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: flink}
---
apiVersion: v1
kind: Service
metadata: {name: flink-rest}
---
apiVersion: v1
kind: Service
metadata: {name: flink-rpc}
`

func TestCheckNamesEveryDeniedPermission(t *testing.T) {
	objs, err := manifest.Parse(rendered)
	if err != nil {
		t.Fatal(err)
	}
	var asked []string
	cs := reviewer(func(ra authv1.ResourceAttributes) bool {
		return ra.Resource == "networkpolicies" || ra.Subresource == "portforward"
	}, &asked)
	needs := append(Objects("create", objs, func(kind, name string) string { return "the release's " + kind + " " + name }), Wait()...)
	err = Check(t.Context(), cs, "team-a", "nothing was installed", needs)
	var d *DeniedError
	if !errors.As(err, &d) || exit.Code(err) != exit.Other {
		t.Fatalf("%v (exit %d), want a DeniedError with exit 4", err, exit.Code(err))
	}
	want := "forbidden: in namespace team-a the user may not create networkpolicies.networking.k8s.io (the release's NetworkPolicy flink), " +
		"create pods/portforward (waiting for the pods and reaching the JobManager): nothing was installed"
	if !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("got  %s\nwant %s…", err, want)
	}
	// One question per permission: the two Services ask once.
	services := 0
	for _, a := range asked {
		if strings.HasPrefix(a, "create services/") {
			services++
		}
		if !strings.HasSuffix(a, " in team-a") {
			t.Errorf("asked %q outside the namespace", a)
		}
	}
	if services != 1 || len(asked) != 2+len(Wait()) {
		t.Errorf("asked %d times (%d for services): %v", len(asked), services, asked)
	}
}

func TestCheckAllowed(t *testing.T) {
	cs := reviewer(func(authv1.ResourceAttributes) bool { return false }, nil)
	if err := Check(t.Context(), cs, "team-a", "nothing was installed", append(ReleaseStorage(""), Wait()...)); err != nil {
		t.Fatal(err)
	}
}

// A cluster that does not answer the question refuses nothing: the calls themselves will.
func TestCheckUnansweredIsNoRefusal(t *testing.T) {
	cs := fake.NewClientset()
	cs.PrependReactor("create", "selfsubjectaccessreviews", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("the server could not find the requested resource")
	})
	if err := Check(t.Context(), cs, "team-a", "nothing was installed", Wait()); err != nil {
		t.Fatal(err)
	}
}

func TestReleaseStorageFollowsTheDriver(t *testing.T) {
	for driver, want := range map[string]string{"": "secrets", "secret": "secrets", "configmap": "configmaps", "memory": "", "sql": ""} {
		got := ""
		for _, n := range ReleaseStorage(driver) {
			got = n.Resource
		}
		if got != want {
			t.Errorf("driver %q: %q, want %q", driver, got, want)
		}
	}
}
