package charts

import (
	"path/filepath"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"helm.sh/helm/v3/pkg/releaseutil"
)

// networkPolicies are the NetworkPolicies of a render.
func networkPolicies(t *testing.T, manifest string) []networkingv1.NetworkPolicy {
	t.Helper()
	var out []networkingv1.NetworkPolicy
	for _, doc := range releaseutil.SplitManifests(manifest) {
		if !strings.Contains(doc, "kind: NetworkPolicy") {
			continue
		}
		var np networkingv1.NetworkPolicy
		if err := yaml.UnmarshalStrict([]byte(doc), &np); err != nil {
			t.Fatalf("NetworkPolicy: %v\n%s", err, doc)
		}
		out = append(out, np)
	}
	return out
}

func selects(t *testing.T, s *metav1.LabelSelector, l map[string]string) bool {
	t.Helper()
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err != nil {
		t.Fatalf("selector %v: %v", s, err)
	}
	return !sel.Empty() && sel.Matches(labels.Set(l))
}

// On by default, and one trust domain: every pod a values set renders (every opt-in on: hooks,
// the test pod, the CronJob's, native TaskManagers) is both guarded by the policy and let in by
// its first rule, so Flink's pods reach each other and the hooks reach REST; nothing else is let in
// unless the values name it, and then only on the REST or metrics port.
func TestNetworkPolicyTakesInEveryPodOfTheRelease(t *testing.T) {
	for _, chart := range charts {
		files, _ := filepath.Glob(filepath.Join(chart, "ci", "*-values.yaml"))
		for _, f := range files {
			set := append([]string{"metrics.enabled=true"}, optIns...)
			manifest := render(t, chart, []string{f}, set...)
			nps := networkPolicies(t, manifest)
			if len(nps) != 1 {
				t.Fatalf("%s %s: %d NetworkPolicies, want 1", chart, filepath.Base(f), len(nps))
			}
			np := nps[0]
			if len(np.Spec.Ingress) != 1 || len(np.Spec.Ingress[0].From) != 1 || len(np.Spec.Ingress[0].Ports) != 0 ||
				len(np.Spec.PolicyTypes) != 1 || np.Spec.PolicyTypes[0] != networkingv1.PolicyTypeIngress {
				t.Fatalf("%s %s: want one ingress rule, from the release's pods: %+v", chart, filepath.Base(f), np.Spec)
			}
			own := np.Spec.Ingress[0].From[0]
			if own.NamespaceSelector != nil || own.IPBlock != nil || own.PodSelector == nil {
				t.Fatalf("%s %s: the first rule lets in more than the release's pods: %+v", chart, filepath.Base(f), own)
			}
			for _, p := range pods(t, manifest) {
				if !selects(t, &np.Spec.PodSelector, p.labels) || !selects(t, own.PodSelector, p.labels) {
					t.Errorf("%s %s: %s (labels %v) is outside the policy's release", chart, filepath.Base(f), p.where, p.labels)
				}
			}
		}
	}
	if nps := networkPolicies(t, render(t, "flink-session", nil, "networkPolicy.enabled=false")); len(nps) != 0 {
		t.Errorf("networkPolicy.enabled=false renders %d NetworkPolicies", len(nps))
	}
}

// The values' namespaces and peers open the REST port and the metrics port, each to its own.
func TestNetworkPolicyOpensPortsToTheNamedPeers(t *testing.T) {
	for _, chart := range charts {
		manifest := render(t, chart, nil, "metrics.enabled=true",
			"networkPolicy.rest.namespaces={ingress-nginx,tools}", "networkPolicy.rest.from[0].ipBlock.cidr=10.1.0.0/16",
			"networkPolicy.metrics.namespaces={monitoring}")
		np := networkPolicies(t, manifest)[0]
		if len(np.Spec.Ingress) != 3 {
			t.Fatalf("%s: %d ingress rules, want 3: %+v", chart, len(np.Spec.Ingress), np.Spec.Ingress)
		}
		rest, metrics := np.Spec.Ingress[1], np.Spec.Ingress[2]
		if len(rest.Ports) != 1 || rest.Ports[0].Port.String() != "http" || len(rest.From) != 3 ||
			!selects(t, rest.From[0].NamespaceSelector, map[string]string{"kubernetes.io/metadata.name": "ingress-nginx"}) ||
			!selects(t, rest.From[1].NamespaceSelector, map[string]string{"kubernetes.io/metadata.name": "tools"}) ||
			rest.From[2].IPBlock == nil || rest.From[2].IPBlock.CIDR != "10.1.0.0/16" {
			t.Errorf("%s: the REST rule: %+v", chart, rest)
		}
		if len(metrics.Ports) != 1 || metrics.Ports[0].Port.String() != "metrics" || len(metrics.From) != 1 ||
			!selects(t, metrics.From[0].NamespaceSelector, map[string]string{"kubernetes.io/metadata.name": "monitoring"}) {
			t.Errorf("%s: the metrics rule: %+v", chart, metrics)
		}
		// Without the metrics reporter there is no metrics port to open.
		np = networkPolicies(t, render(t, chart, nil, "networkPolicy.metrics.namespaces={monitoring}"))[0]
		if len(np.Spec.Ingress) != 1 {
			t.Errorf("%s: metrics off, yet %d ingress rules", chart, len(np.Spec.Ingress))
		}
	}
}
