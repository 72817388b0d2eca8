package schema

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
)

// native: Flink's native Kubernetes mode (mode: native), where the JobManager creates the
// TaskManager pods itself. What only standalone mode reads is refused, and so are
// flinkConfiguration overrides of what the chart sets up for Flink (the names it looks up, the
// namespace and ServiceAccount the Role allows, the TaskManager pod template); native.* values
// without the mode are refused too.
func (c *checker) native() {
	mode := c.str("mode")
	if mode != "native" {
		if !c.clean("mode") {
			return
		}
		for _, key := range []string{"minTaskManagers", "maxTaskManagers", "taskManagerTimeout"} {
			path := "native." + key
			if v, set := c.changed("native", key); set && c.clean(path) {
				c.add(Problem{Path: path, Message: "applies only in native mode, and mode is " + show(mode),
					Got: scalarString(v), Want: "mode: native, or the key removed"})
			}
		}
		return
	}

	// Standalone-only values.
	if v, set := c.changed("taskmanager", "replicas"); set && c.clean("taskmanager.replicas") {
		c.add(Problem{Path: "taskmanager.replicas", Message: "does not apply with mode: native, where Flink creates the TaskManager pods as jobs need slots",
			Got: scalarString(v), Want: "the key removed; native.minTaskManagers and native.maxTaskManagers bound the TaskManagers"})
	}
	if c.boolean("reactiveMode") && c.clean("reactiveMode") {
		c.add(Problem{Path: "reactiveMode", Message: "Flink's reactive mode runs only on standalone clusters, not with mode: native",
			Got: "true", Want: "false, or mode: standalone"})
	}
	if s, p, ok := c.confValue("scheduler-mode"); ok && strings.EqualFold(s, "reactive") && c.clean(p) {
		c.add(Problem{Path: p, Message: "Flink's reactive mode runs only on standalone clusters, not with mode: native",
			Got: show(s), Want: "the key removed, or mode: standalone"})
	}
	// Flink sets the CPU and memory of the pods it creates: from taskmanager.cpu and memoryProcessSize.
	if res, ok := asMap(c.val("taskmanager", "resources")); ok && c.clean("taskmanager.resources") {
		for _, kind := range []string{"limits", "requests"} {
			for _, r := range []string{"cpu", "memory"} {
				if v, ok := lookup(res, kind, r); ok {
					want := "taskmanager.cpu instead"
					if r == "memory" {
						want = "taskmanager.memoryProcessSize instead"
					}
					c.add(Problem{Path: "taskmanager.resources." + kind + "." + r,
						Message: "Flink sets the CPU and memory of the TaskManager pods it creates (kubernetes.taskmanager.cpu.amount, taskmanager.memory.process.size)",
						Got:     scalarString(v), Want: want})
				}
			}
		}
	}
	if v, _ := c.get("taskmanager", "cpu"); v != nil && c.clean("taskmanager.cpu") && !cpuCores.MatchString(scalarString(v)) {
		c.add(Problem{Path: "taskmanager.cpu", Message: "native mode gives it to Flink as a number of cores (kubernetes.taskmanager.cpu.amount)",
			Got: show(scalarString(v)), Want: "e.g. 1, 0.5 or 500m"})
	}

	// The Role that may create pods is bound to the pods' ServiceAccount.
	if !c.boolean("serviceAccount", "create") && c.str("serviceAccount", "name") == "" && c.clean("serviceAccount") {
		c.add(Problem{Path: "serviceAccount.name", Message: "native mode binds a Role that may create and delete pods to the Flink pods' ServiceAccount: unset, that is the namespace's default one, which every pod without an account of its own uses",
			Want: "serviceAccount.create: true, or the name of an account for Flink alone"})
	}

	// TaskManager bounds.
	minTMs, _ := c.integer("native", "minTaskManagers")
	maxTMs, _ := c.integer("native", "maxTaskManagers")
	if maxTMs > 0 && minTMs > maxTMs && c.clean("native.minTaskManagers", "native.maxTaskManagers") {
		c.add(Problem{Path: "native.maxTaskManagers", Message: "below native.minTaskManagers",
			Got: strconv.FormatInt(maxTMs, 10), Want: fmt.Sprintf("at least %d, or 0 for no limit", minTMs)})
	}

	// What the chart sets up for Flink's native mode must not be overridden.
	for _, o := range nativeOwned {
		s, p, ok := c.confValue(o.key)
		if !ok || !c.clean(p) {
			continue
		}
		if o.key == "taskmanager.rpc.port" {
			if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n > 0 && n < 65536 {
				continue // another fixed port is fine
			}
		}
		c.add(Problem{Path: p, Message: o.why, Got: show(s), Want: o.want})
	}
}

// nativeOwned are the Flink options the chart sets in native mode, why they must stay, and what to
// set instead. (kubernetes.cluster-id: see clusterID.)
var nativeOwned = []struct{ key, why, want string }{
	{"execution.target", "native mode runs the chart's Kubernetes entrypoint for its own target", "the key removed"},
	{"kubernetes.namespace", "the JobManager's Role allows TaskManager pods in the release's namespace only", "the key removed"},
	{"kubernetes.service-account", "the TaskManager pods get the chart's ServiceAccount", "serviceAccount.name instead"},
	{"kubernetes.pod-template-file", "replaces the chart's TaskManager pod template (security context, labels, volumes): Pod Security would reject Flink's pods", "the key removed; taskmanager.* values shape the pods"},
	{"kubernetes.pod-template-file.default", "replaces the chart's TaskManager pod template (security context, labels, volumes): Pod Security would reject Flink's pods", "the key removed; taskmanager.* values shape the pods"},
	{"kubernetes.pod-template-file.taskmanager", "replaces the chart's TaskManager pod template (security context, labels, volumes): Pod Security would reject Flink's pods", "the key removed; taskmanager.* values shape the pods"},
	{"kubernetes.container.image.ref", "the TaskManager pods run the chart's image", "image.repository, image.tag or image.digest instead"},
	{"kubernetes.container.image", "the TaskManager pods run the chart's image", "image.repository, image.tag or image.digest instead"},
	{"taskmanager.rpc.port", "native mode needs one fixed TaskManager rpc port (Flink refuses 0 and ranges)", "a port number, or the key removed"},
	{"slotmanager.number-of-slots.min", "set from native.minTaskManagers × taskmanager.numberOfTaskSlots", "native.minTaskManagers instead"},
	{"slotmanager.number-of-slots.max", "set from native.maxTaskManagers × taskmanager.numberOfTaskSlots", "native.maxTaskManagers instead"},
	{"resourcemanager.taskmanager-timeout", "set from native.taskManagerTimeout", "native.taskManagerTimeout instead"},
}

var cpuCores = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?m?$`)

// val is the value at path, nil when unset.
func (c *checker) val(path ...string) any {
	v, _ := c.get(path...)
	return v
}

// changed is the value at path when it differs from the chart's default (vals are coalesced, so a
// value equal to the default cannot be told from an unset one).
func (c *checker) changed(path ...string) (any, bool) {
	v, ok := c.get(path...)
	if !ok || v == nil {
		return nil, false
	}
	d, _ := lookup(c.defaults, path...)
	if a, aok := asFloat(v); aok {
		if b, bok := asFloat(d); bok {
			return v, a != b
		}
	}
	return v, !reflect.DeepEqual(v, d)
}

// isNative: the chart runs in Flink's native Kubernetes mode.
func (c *checker) isNative() bool { return c.str("mode") == "native" }
