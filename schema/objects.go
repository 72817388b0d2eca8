package schema

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/releaseutil"
)

// DefaultReleaseName is the name CheckObjects renders with when the release's is not known
// (`validate` without one), as `helm template` does.
const DefaultReleaseName = "release-name"

// maxConfigMapBytes is the API server's limit on a ConfigMap's data.
const maxConfigMapBytes = 1 << 20

// CheckRelease is Check, then, when the values pass it, CheckObjects for the release: what
// install and upgrade refuse before anything is created.
func CheckRelease(ch *chart.Chart, vals, user map[string]any, opts CheckOptions, rel chartutil.ReleaseOptions) ([]Problem, error) {
	problems, err := Check(ch, vals, opts)
	if err != nil || len(problems) > 0 {
		return problems, err
	}
	return CheckObjects(ch, vals, user, rel)
}

// CheckObjects renders ch for the release rel (an install of revision 1 unless told) with vals (the coalesced values, user the
// user's own: they name the path of a problem) and checks each object as the API server would
// on create: that it decodes (int32 ranges, quantities), names by their kind's rules, labels and
// annotations, ConfigMap size, containers, ports, environment names, volume mounts and probes.
// Input Helm accepts but the API server refuses would otherwise fail after the release exists.
// One problem per cause: at the values path whose text is in the offending value, else naming
// the object. A chart's own refusal (`fail`) is a problem too.
func CheckObjects(ch *chart.Chart, vals, user map[string]any, rel chartutil.ReleaseOptions) ([]Problem, error) {
	if rel.Name == "" {
		rel.Name = DefaultReleaseName
	}
	if rel.Revision == 0 {
		rel.Revision, rel.IsInstall = 1, true
	}
	release := rel.Name
	caps := chartutil.DefaultCapabilities.Copy()
	top, err := chartutil.ToRenderValues(ch, vals, rel, caps)
	if err != nil {
		return nil, fmt.Errorf("render chart %s: %w", ch.Name(), err)
	}
	files, err := engine.Render(ch, top)
	if err != nil {
		return []Problem{{Message: "the chart refuses these values: " + chartMessage(err)}}, nil
	}
	names := make([]string, 0, len(files))
	for n := range files {
		if strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	o := &objectChecker{user: flattenScalars(user), release: release, seen: map[string]bool{}}
	for _, n := range names {
		docs := releaseutil.SplitManifests(files[n])
		keys := make([]string, 0, len(docs))
		for k := range docs {
			keys = append(keys, k)
		}
		sort.Sort(releaseutil.BySplitManifestsOrder(keys))
		for _, k := range keys {
			o.check(docs[k])
		}
	}
	return o.out, nil
}

var executionError = regexp.MustCompile(`^execution error at \([^)]*\): `)

// chartMessage is a template error without the template's position when the chart itself
// failed (its `fail`), else as Helm says it.
func chartMessage(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, "execution error at ("); i >= 0 {
		return executionError.ReplaceAllString(msg[i:], "")
	}
	return msg
}

// flattenScalars maps each scalar of vals to its dotted path.
func flattenScalars(vals map[string]any) map[string]string {
	out := map[string]string{}
	var walk func(p string, v any)
	walk = func(p string, v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, e := range t {
				walk(join(p, k), e)
			}
		case []any:
			for i, e := range t {
				walk(p+"["+strconv.Itoa(i)+"]", e)
			}
		case nil:
		default:
			out[p] = scalarString(t)
		}
	}
	walk("", vals)
	return out
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

type objectChecker struct {
	user    map[string]string
	release string
	out     []Problem
	seen    map[string]bool
}

// report records that the rendered object (kind/name) is refused at field for msg, bad being the
// offending text: at the user's value that holds it, once per path.
func (o *objectChecker) report(kind, name, fieldPath, bad, msg string) {
	path, got := o.pathOf(bad)
	what := fmt.Sprintf("the rendered %s %s", kind, name)
	if fieldPath != "" {
		what += " (" + fieldPath + ")"
	}
	p := Problem{Path: path, Message: what + ": " + msg, Got: got}
	// Names hold the release name, or its start when the full name was cut to 50 characters.
	if path == "" && (strings.Contains(bad, o.release) || (len(o.release) > 40 && strings.Contains(bad, o.release[:40]))) {
		p = Problem{Message: fmt.Sprintf("release name %q makes invalid objects: %s: %s", o.release, what, msg)}
		path = "release name"
	}
	key := path
	if key == "" {
		key = what + msg
	}
	if o.seen[key] {
		return
	}
	o.seen[key] = true
	o.out = append(o.out, p)
}

// pathOf is the user's value whose text is in bad, the longest such one (and that text).
func (o *objectChecker) pathOf(bad string) (string, string) {
	best, got := "", ""
	for p, v := range o.user {
		if len(v) < 2 || !strings.Contains(bad, v) {
			continue
		}
		if len(v) > len(got) || (len(v) == len(got) && p < best) {
			best, got = p, v
		}
	}
	return best, got
}

var jsonNumber = regexp.MustCompile(`number (-?[0-9.eE+]+)`)

func (o *objectChecker) check(doc string) {
	obj, gvk, err := scheme.Codecs.UniversalDeserializer().Decode([]byte(doc), nil, nil)
	if runtime.IsNotRegisteredError(err) || runtime.IsMissingKind(err) || (err == nil && gvk == nil) {
		return // custom resources (PodMonitor): the API server of a cluster with their CRD checks them
	}
	if err != nil {
		var meta struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		_ = yaml.Unmarshal([]byte(doc), &meta)
		bad := err.Error()
		if m := jsonNumber.FindStringSubmatch(bad); m != nil {
			bad = m[1]
		}
		o.report(meta.Kind, meta.Metadata.Name, "", bad, "the API server cannot decode it: "+decodeMessage(err))
		return
	}
	acc, ok := obj.(metav1.Object)
	if !ok {
		return
	}
	kind, name := gvk.Kind, acc.GetName()
	meta := func(errs field.ErrorList) {
		for _, e := range errs {
			o.report(kind, name, e.Field, fmt.Sprint(e.BadValue), e.ErrorBody())
		}
	}
	meta(nameErrors(kind, name))
	meta(metav1validation.ValidateLabels(acc.GetLabels(), field.NewPath("metadata", "labels")))
	meta(apivalidation.ValidateAnnotations(acc.GetAnnotations(), field.NewPath("metadata", "annotations")))
	switch t := obj.(type) {
	case *corev1.ConfigMap:
		size := 0
		for k, v := range t.Data {
			size += len(k) + len(v)
		}
		for k, v := range t.BinaryData {
			size += len(k) + len(v)
		}
		if size > maxConfigMapBytes {
			biggest := ""
			for _, v := range t.Data {
				if len(v) > len(biggest) {
					biggest = v
				}
			}
			o.report(kind, name, "data", biggest, fmt.Sprintf("%d bytes of data, over the API server's limit of %d (1 MiB)", size, maxConfigMapBytes))
		}
	case *corev1.Service:
		for i, p := range t.Spec.Ports {
			meta(portErrors(field.NewPath("spec", "ports").Index(i), p.Name, p.Port))
		}
	case *corev1.Pod:
		meta(podErrors(field.NewPath("spec"), &t.Spec))
	case *appsv1.Deployment:
		meta(metav1validation.ValidateLabels(t.Spec.Template.Labels, field.NewPath("spec", "template", "metadata", "labels")))
		meta(podErrors(field.NewPath("spec", "template", "spec"), &t.Spec.Template.Spec))
	case *appsv1.StatefulSet:
		meta(metav1validation.ValidateLabels(t.Spec.Template.Labels, field.NewPath("spec", "template", "metadata", "labels")))
		meta(podErrors(field.NewPath("spec", "template", "spec"), &t.Spec.Template.Spec))
	case *batchv1.Job:
		meta(podErrors(field.NewPath("spec", "template", "spec"), &t.Spec.Template.Spec))
	case *batchv1.CronJob:
		meta(podErrors(field.NewPath("spec", "jobTemplate", "spec", "template", "spec"), &t.Spec.JobTemplate.Spec.Template.Spec))
	}
}

func decodeMessage(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, "json: "); i >= 0 {
		msg = msg[i+len("json: "):]
	}
	return msg
}

// nameErrors applies the name rules of kind: a Service's is a DNS-1035 label; a Job's,
// StatefulSet's and Pod-owning names end in labels and host names (DNS-1123 labels), a CronJob's
// at most 52 characters (its Jobs add 11); the rest DNS-1123 subdomains.
func nameErrors(kind, name string) field.ErrorList {
	p := field.NewPath("metadata", "name")
	var msgs []string
	switch kind {
	case "Service":
		msgs = validation.IsDNS1035Label(name)
	case "Job", "StatefulSet":
		msgs = validation.IsDNS1123Label(name)
	case "CronJob":
		msgs = validation.IsDNS1123Label(name)
		if len(name) > 52 {
			msgs = append(msgs, "must be no more than 52 characters (a CronJob's Jobs add 11)")
		}
	default:
		msgs = validation.IsDNS1123Subdomain(name)
	}
	var out field.ErrorList
	for _, m := range msgs {
		out = append(out, field.Invalid(p, name, "not a valid "+kind+" name: "+m))
	}
	return out
}

func portErrors(p *field.Path, name string, port int32) field.ErrorList {
	var out field.ErrorList
	if name != "" {
		for _, m := range validation.IsValidPortName(name) {
			out = append(out, field.Invalid(p.Child("name"), name, m))
		}
	}
	for _, m := range validation.IsValidPortNum(int(port)) {
		out = append(out, field.Invalid(p.Child("port"), strconv.Itoa(int(port)), m))
	}
	return out
}

func podErrors(p *field.Path, spec *corev1.PodSpec) field.ErrorList {
	var out field.ErrorList
	volumes := map[string]bool{}
	for i, v := range spec.Volumes {
		volumes[v.Name] = true
		for _, m := range validation.IsDNS1123Label(v.Name) {
			out = append(out, field.Invalid(p.Child("volumes").Index(i).Child("name"), v.Name, m))
		}
	}
	containers := func(kind string, cs []corev1.Container) {
		for i, c := range cs {
			cp := p.Child(kind).Index(i)
			for _, m := range validation.IsDNS1123Label(c.Name) {
				out = append(out, field.Invalid(cp.Child("name"), c.Name, m))
			}
			for k, port := range c.Ports {
				out = append(out, portErrors(cp.Child("ports").Index(k), port.Name, port.ContainerPort)...)
			}
			for k, e := range c.Env {
				for _, m := range validation.IsEnvVarName(e.Name) {
					out = append(out, field.Invalid(cp.Child("env").Index(k).Child("name"), e.Name, m))
				}
			}
			for k, m := range c.VolumeMounts {
				if !volumes[m.Name] {
					out = append(out, field.NotFound(cp.Child("volumeMounts").Index(k).Child("name"), m.Name))
				}
				if m.MountPath == "" {
					out = append(out, field.Required(cp.Child("volumeMounts").Index(k).Child("mountPath"), ""))
				}
			}
			for probe, pr := range map[string]*corev1.Probe{"livenessProbe": c.LivenessProbe, "readinessProbe": c.ReadinessProbe, "startupProbe": c.StartupProbe} {
				out = append(out, probeErrors(cp.Child(probe), pr)...)
			}
		}
	}
	containers("initContainers", spec.InitContainers)
	containers("containers", spec.Containers)
	return out
}

func probeErrors(p *field.Path, pr *corev1.Probe) field.ErrorList {
	if pr == nil {
		return nil
	}
	var out field.ErrorList
	var port *intstr.IntOrString
	switch {
	case pr.TCPSocket != nil:
		port = &pr.TCPSocket.Port
	case pr.HTTPGet != nil:
		port = &pr.HTTPGet.Port
	}
	if port != nil && port.Type == intstr.Int {
		for _, m := range validation.IsValidPortNum(port.IntValue()) {
			out = append(out, field.Invalid(p.Child("port"), port.String(), m))
		}
	} else if port != nil {
		for _, m := range validation.IsValidPortName(port.String()) {
			out = append(out, field.Invalid(p.Child("port"), port.String(), m))
		}
	}
	for name, v := range map[string]int32{"periodSeconds": pr.PeriodSeconds, "timeoutSeconds": pr.TimeoutSeconds, "failureThreshold": pr.FailureThreshold, "successThreshold": pr.SuccessThreshold} {
		if v < 0 {
			out = append(out, field.Invalid(p.Child(name), strconv.Itoa(int(v)), "must be greater than or equal to 0"))
		}
	}
	if pr.InitialDelaySeconds < 0 {
		out = append(out, field.Invalid(p.Child("initialDelaySeconds"), strconv.Itoa(int(pr.InitialDelaySeconds)), "must be greater than or equal to 0"))
	}
	return out
}
