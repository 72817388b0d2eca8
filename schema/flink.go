package schema

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// parseFlinkMemory parses a Flink memory size as Flink's MemorySize does: digits, optional
// blanks, an optional unit — b/bytes, k/kb/kibibytes, m/mb/mebibytes, g/gb/gibibytes,
// t/tb/tebibytes, any case, all binary (1024); no unit means bytes.
func parseFlinkMemory(s string) (int64, bool) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil {
		return 0, false
	}
	var mult int64
	switch strings.ToLower(strings.TrimSpace(t[i:])) {
	case "", "b", "bytes":
		mult = 1
	case "k", "kb", "kibibytes":
		mult = 1 << 10
	case "m", "mb", "mebibytes":
		mult = 1 << 20
	case "g", "gb", "gibibytes":
		mult = 1 << 30
	case "t", "tb", "tebibytes":
		mult = 1 << 40
	default:
		return 0, false
	}
	if n > (1<<62)/mult {
		return 0, false
	}
	return n * mult, true
}

// binaryQuantity renders bytes as a Kubernetes quantity in the largest binary unit that divides
// them: 1728m is 1728Mi, 2g is 2Gi.
func binaryQuantity(b int64) string {
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"Ti", 1 << 40}, {"Gi", 1 << 30}, {"Mi", 1 << 20}, {"Ki", 1 << 10}} {
		if b >= u.size && b%u.size == 0 {
			return fmt.Sprintf("%d%s", b/u.size, u.suffix)
		}
	}
	return strconv.FormatInt(b, 10)
}

// flinkVersion is a Flink release line, e.g. 1.20 or 2.1.
type flinkVersion struct{ major, minor int }

func (v flinkVersion) String() string { return fmt.Sprintf("%d.%d", v.major, v.minor) }

func (v flinkVersion) atLeast(major, minor int) bool {
	return v.major > major || (v.major == major && v.minor >= minor)
}

// tagVersion is the chart's rule (flink.version in flink-common): the image tag's leading
// major.minor[.patch].
var tagVersion = regexp.MustCompile(`^[0-9]+\.[0-9]+(\.[0-9]+)?`)

func parseFlinkVersion(s string) (flinkVersion, bool) {
	m := tagVersion.FindString(strings.TrimSpace(s))
	if m == "" {
		return flinkVersion{}, false
	}
	parts := strings.SplitN(m, ".", 3)
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return flinkVersion{}, false
	}
	return flinkVersion{major, minor}, true
}

// removedIn2 are configuration keys Flink 1.20 still reads and Flink 2.x no longer knows at all
// (neither as a key nor as a deprecated key of another option), so that Flink 2 silently ignores
// them. Each is in the "List of removed configuration options" of the Flink 2.0 release notes,
// and was checked against the ConfigOptions of the Flink 1.20.0 and 2.3.0 jars. Keys that were
// only deprecated (state.backend, restart-strategy, high-availability, state.checkpoints.dir,
// env.java.opts, taskmanager.network.memory.min/max, web.port…) still work on 2.x and are not
// listed.
var removedIn2 = map[string]string{
	"jobmanager.heap.size":                "jobmanager.memoryProcessSize",
	"jobmanager.heap.mb":                  "jobmanager.memoryProcessSize",
	"taskmanager.heap.size":               "taskmanager.memoryProcessSize",
	"taskmanager.heap.mb":                 "taskmanager.memoryProcessSize",
	"taskmanager.network.numberOfBuffers": "taskmanager.memory.network.min and .max",
	"security.ssl.enabled":                "security.ssl.internal.enabled and security.ssl.rest.enabled",
	"web.ssl.enabled":                     "security.ssl.rest.enabled",
	"jobmanager.web.ssl.enabled":          "security.ssl.rest.enabled",
	"cluster.evenly-spread-out-slots":     "taskmanager.load-balance.mode: slots",
	"state.backend.async":                 "", // snapshots are always asynchronous
	"pipeline.time-characteristic":        "", // event time is the default
	"execution.checkpointing.force":       "",
	"high-availability.job.delay":         "",
	"recovery.job.delay":                  "",
}

// uriLike matches what the charts' schemas accept for a storage URI: scheme://rest.
var uriLike = regexp.MustCompile(`^[a-z][a-z0-9+.-]*://.+`)

// storageURIProblem says what is wrong with a durable storage location for Flink (HA storage,
// savepoints), or "" when it looks usable. file://host/path is a trap: Flink's local file system
// ignores the authority and uses /path.
func storageURIProblem(s string) string {
	switch {
	case strings.TrimSpace(s) == "":
		return "is empty"
	case !uriLike.MatchString(s):
		return "is not a URI"
	case strings.HasPrefix(s, "file://") && !strings.HasPrefix(s, "file:///"):
		return "is a file:// URI with a host, which Flink ignores"
	case strings.HasPrefix(s, "local://"), strings.HasPrefix(s, "http://"), strings.HasPrefix(s, "https://"):
		return "is not on a file system Flink writes to"
	}
	return ""
}

// storageURIWant is the fix for storageURIProblem: the file:/// form of a file://host/path URI,
// else example.
func storageURIWant(s, example string) string {
	if rest, ok := strings.CutPrefix(s, "file://"); ok && !strings.HasPrefix(rest, "/") && rest != "" {
		return "file:///" + rest + " (three slashes)"
	}
	return example
}

// javaClassName matches a binary class name, e.g. org.example.Job or org.example.Job$Inner.
var javaClassName = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)*$`)

// dns1123Label is what Kubernetes and Flink accept as kubernetes.cluster-id (at most 45 characters
// in Flink, which adds suffixes to it for its ConfigMaps and services).
var clusterIDPattern = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

const maxClusterID = 45
