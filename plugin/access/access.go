// Package access asks the API server, before a command changes anything, whether the user may
// do everything the command will do: one SelfSubjectAccessReview per permission, side by side.
// A Role that lacks one permission is then named up front, instead of failing halfway with a
// release half made.
package access

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	authv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/manifest"
)

// A Need is one permission in the command's namespace.
type Need struct {
	Verb  string
	Group string
	// Resource is the plural resource, with its subresource after a slash (pods/portforward).
	Resource string
	// Why is what needs it, in the user's terms.
	Why string
}

func (n Need) String() string {
	r := n.Resource
	if n.Group != "" {
		res, sub, _ := strings.Cut(n.Resource, "/")
		r = res + "." + n.Group
		if sub != "" {
			r += "/" + sub
		}
	}
	return n.Verb + " " + r
}

// DeniedError is what the API server says the user may not do in Namespace.
type DeniedError struct {
	Namespace string
	Denied    []Need
	// Action is what was not done, e.g. "nothing was installed".
	Action string
}

func (e *DeniedError) Error() string {
	var each []string
	for _, n := range e.Denied {
		each = append(each, fmt.Sprintf("%s (%s)", n, n.Why))
	}
	return fmt.Sprintf("forbidden: in namespace %s the user may not %s: %s; the README's Least privilege section lists the Role helm flink needs",
		e.Namespace, strings.Join(each, ", "), e.Action)
}

// ExitCode: the cluster refused, as for any other refusal of the API server.
func (e *DeniedError) ExitCode() int { return exit.Other }

// Check asks whether the user may do each need in ns and returns a *DeniedError naming every one
// the API server denies. An API server that cannot answer (no SelfSubjectAccessReview for this
// user, an error) denies nothing: the command goes on, and a refusal then comes from the call
// that needs the permission.
func Check(ctx context.Context, cs kubernetes.Interface, ns, action string, needs []Need) error {
	needs = unique(needs)
	denied := make([]bool, len(needs))
	var wg sync.WaitGroup
	for i, n := range needs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, sub, _ := strings.Cut(n.Resource, "/")
			r, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authv1.SelfSubjectAccessReview{
				Spec: authv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authv1.ResourceAttributes{
					Namespace: ns, Verb: n.Verb, Group: n.Group, Resource: res, Subresource: sub}},
			}, metav1.CreateOptions{})
			denied[i] = err == nil && !r.Status.Allowed
		}()
	}
	wg.Wait()
	var out []Need
	for i, n := range needs {
		if denied[i] {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return &DeniedError{Namespace: ns, Denied: out, Action: action}
}

// unique keeps the first need of each verb on a resource, in order.
func unique(needs []Need) []Need {
	var out []Need
	for _, n := range needs {
		if !slices.ContainsFunc(out, func(o Need) bool { return o.Verb == n.Verb && o.Group == n.Group && o.Resource == n.Resource }) {
			out = append(out, n)
		}
	}
	return out
}

// ReleaseStorage is what Helm does with its release records in the namespace (driver as
// HELM_DRIVER says): read the history, write a revision and update its status.
func ReleaseStorage(driver string) []Need {
	var res string
	switch strings.ToLower(driver) {
	case "", "secret", "secrets":
		res = "secrets"
	case "configmap", "configmaps":
		res = "configmaps"
	default:
		return nil // memory, sql: not in the cluster
	}
	why := "Helm's release records"
	return []Need{{"list", "", res, why}, {"get", "", res, why}, {"create", "", res, why}, {"update", "", res, why}}
}

// Objects are verb on the resource of each object (a release's rendered objects), why naming the
// first object of each kind.
func Objects(verb string, objs manifest.Manifest, why func(kind, name string) string) []Need {
	var out []Need
	for _, o := range objs {
		gvk := o.GetObjectKind().GroupVersionKind()
		if gvk.Kind == "" {
			continue
		}
		plural, _ := meta.UnsafeGuessKindToResource(gvk)
		out = append(out, Need{Verb: verb, Group: gvk.Group, Resource: plural.Resource, Why: why(gvk.Kind, o.GetName())})
	}
	return out
}

// Wait is what following a release's pods and reaching its JobManager takes: watches of pods
// (and an application's Jobs), their events and logs, and the port-forward.
func Wait() []Need {
	why := "waiting for the pods and reaching the JobManager"
	return []Need{
		{"list", "", "pods", why}, {"watch", "", "pods", why}, {"get", "", "pods/log", why},
		{"list", "", "events", why}, {"create", "", "pods/portforward", why},
	}
}
