package schema

import (
	"strconv"
	"strings"
)

// The official Flink image's entrypoint acts on two env variables in ways the chart's pods do not
// survive: it writes FLINK_PROPERTIES into conf/config.yaml, which the chart mounts read-only from
// its ConfigMap (the write fails, the entrypoint carries on and the properties are lost), and it
// links the jars ENABLE_BUILT_IN_PLUGINS names into /opt/flink/plugins, which a read-only root file
// system refuses. The charts refuse both at render (flink.checkEnv in flink-common) with the same
// words, for Flux and plain Helm; charts/env_test.go holds the two to that.

const (
	flinkPropertiesMsg = "the image's entrypoint writes FLINK_PROPERTIES into conf/config.yaml, which the chart mounts read-only from its ConfigMap: the properties would be lost"
	flinkPropertiesFix = "the properties in flinkConfiguration instead"
	builtInPluginsMsg  = "the image's entrypoint links these plugins into /opt/flink/plugins, which the read-only root file system (securityContext.readOnlyRootFilesystem) refuses"
	builtInPluginsFix  = "the key removed, and the file systems (S3, GCS, Azure, OSS) named in objectStorage.plugins; other plugins in an image that has them under /opt/flink/plugins/<name>/"
)

// env checks the env of the Flink containers: the chart-wide and per-component extraEnv, and in
// native mode what Flink adds to the TaskManager pods it creates (containerized.taskmanager.env.*).
func (c *checker) env() {
	readOnly := c.boolean("securityContext", "readOnlyRootFilesystem")
	check := func(path, name string) {
		switch {
		case name == "FLINK_PROPERTIES":
			c.add(Problem{Path: path, Message: flinkPropertiesMsg, Got: show(name), Want: flinkPropertiesFix})
		case name == "ENABLE_BUILT_IN_PLUGINS" && readOnly && c.clean("securityContext"):
			c.add(Problem{Path: path, Message: builtInPluginsMsg, Got: show(name), Want: builtInPluginsFix})
		}
	}
	for _, list := range [][]string{{"extraEnv"}, {"jobmanager", "extraEnv"}, {"taskmanager", "extraEnv"}} {
		at := strings.Join(list, ".")
		items, _ := c.val(list...).([]any)
		if !c.clean(at) {
			continue
		}
		for i, item := range items {
			m, ok := asMap(item)
			if !ok {
				continue // Kubernetes refuses it by itself
			}
			name, _ := m["name"].(string)
			check(at+"."+strconv.Itoa(i)+".name", name)
		}
	}
	if c.isNative() {
		for key := range c.conf {
			if name, ok := strings.CutPrefix(key, "containerized.taskmanager.env."); ok && c.clean(confPath(key)) {
				check(confPath(key), name)
			}
		}
	}
}
