package schema

import (
	"path"
	"sort"
	"strings"
)

// stateKeys are the Flink options whose file:// paths must outlive the pods: savepoints and
// checkpoints (1.x and 2.x names). HA storage is checked with the HA settings' own path.
var stateKeys = []string{
	"state.savepoints.dir",
	"state.checkpoints.dir",
	"execution.checkpointing.savepoint-dir",
	"execution.checkpointing.dir",
}

// LocalPath is the path a state location names on the pod's own file system, in every form
// Flink writes or reports it (file:///x, file:/x, /x); ok is false for other schemes (s3://,
// gs://, hdfs://…), whose storage outlives the pods by itself.
func LocalPath(s string) (p string, ok bool) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "file:///"):
		p = strings.TrimPrefix(s, "file://")
	case strings.HasPrefix(s, "file:/") && !strings.HasPrefix(s, "file://"):
		p = strings.TrimPrefix(s, "file:")
	case strings.HasPrefix(s, "/"):
		p = s
	default:
		return "", false
	}
	return path.Clean(p), true
}

// durableMounts are the mount paths every JobManager and every TaskManager pod has, of volumes
// that outlive a pod: persistence's claim, and extraVolumes that are not emptyDir mounted in
// both components (globally or per component).
func (c *checker) durableMounts() []string {
	var out []string
	if c.boolean("persistence", "enabled") {
		if mp := c.str("persistence", "mountPath"); mp != "" {
			out = append(out, path.Clean(mp))
		}
	}
	volumes := map[string]bool{} // name → outlives the pod
	for _, scope := range [][]string{{"extraVolumes"}, {"jobmanager", "extraVolumes"}, {"taskmanager", "extraVolumes"}} {
		for _, v := range c.list(scope...) {
			m, ok := asMap(v)
			if !ok {
				continue
			}
			name, _ := m["name"].(string)
			_, ephemeral := m["emptyDir"]
			volumes[name] = !ephemeral
		}
	}
	mounts := func(scope ...string) map[string]bool {
		out := map[string]bool{}
		for _, v := range c.list(scope...) {
			m, ok := asMap(v)
			if !ok {
				continue
			}
			name, _ := m["name"].(string)
			mp, _ := m["mountPath"].(string)
			if sub, _ := m["subPath"].(string); mp != "" && volumes[name] && sub == "" {
				out[path.Clean(mp)] = true
			}
		}
		return out
	}
	global, jm, tm := mounts("extraVolumeMounts"), mounts("jobmanager", "extraVolumeMounts"), mounts("taskmanager", "extraVolumeMounts")
	for mp := range global {
		out = append(out, mp)
	}
	for mp := range jm {
		if tm[mp] && !global[mp] {
			out = append(out, mp)
		}
	}
	sort.Strings(out)
	return out
}

// onVolume says whether p lies under one of the mount paths.
func onVolume(p string, mounts []string) bool {
	for _, m := range mounts {
		if p == m || m == "/" || strings.HasPrefix(p, m+"/") {
			return true
		}
	}
	return false
}

const durableWant = "a path under a volume every JobManager and TaskManager mounts (persistence.enabled: true, at persistence.mountPath), or object storage such as s3://bucket/flink"

// durableState refuses file:// state locations that live in a pod's own file system: a savepoint
// or checkpoint there is gone with the JobManager pod (an upgrade, a crash, a rescheduling).
func (c *checker) durableState(haDir, haDirPath string) {
	mounts := c.durableMounts()
	check := func(at, s, what string) {
		if s == "" || !c.clean(at) {
			return
		}
		if p, ok := LocalPath(s); ok && !onVolume(p, mounts) {
			c.add(Problem{Path: at, Message: what + " is on the pod's own file system, lost when the pod goes", Got: show(s), Want: durableWant})
		}
	}
	for _, k := range stateKeys {
		if v, at, ok := c.confValue(k); ok {
			check(at, v, "state location")
		}
	}
	check(haDirPath, haDir, "HA storage dir")
	if c.clean("--savepoint-dir") {
		c.out = append(c.out, CheckSavepointDir(c.vals, "--savepoint-dir", c.opts.SavepointDir)...)
	}
	check("--savepoint", c.opts.SavepointPath, "savepoint")
	check("periodicSavepoints.dir", c.str("periodicSavepoints", "dir"), "savepoint directory")
	if c.isJob() {
		check("job.fromSavepoint", c.str("job", "fromSavepoint"), "savepoint")
	}
}

func (c *checker) list(path ...string) []any {
	v, _ := c.get(path...)
	l, _ := v.([]any)
	return l
}

// CheckSavepointDir checks a savepoint directory a command names (flag, e.g. --savepoint-dir)
// against a release's coalesced values: a file:// one must be on a volume every JobManager and
// TaskManager pod of the release mounts, an object store's one needs its file system and
// credentials in the release. It returns the problems, none when dir is fine.
func CheckSavepointDir(vals map[string]any, flag, dir string) []Problem {
	c := &checker{vals: vals}
	if p, ok := LocalPath(dir); ok && !onVolume(p, c.durableMounts()) {
		return []Problem{{Path: flag, Message: "savepoint directory is on the pod's own file system, lost when the pod goes", Got: show(dir), Want: durableWant}}
	}
	if p := StorageOf(vals).Writable(flag, dir); p != nil {
		return []Problem{*p}
	}
	return nil
}
