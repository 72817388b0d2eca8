package main

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Flink's container entrypoint commands (the first argument of the official image's
// docker-entrypoint.sh) that the pod runner runs as real processes.
const (
	roleJobManager  = "jobmanager"
	roleTaskManager = "taskmanager"
	roleApplication = "standalone-job"
	// A container whose command is kubectl (the charts' cleanup hooks) runs the stack's kubectl
	// with a token of the pod's own ServiceAccount, so RBAC applies as in a real cluster.
	roleKubectl = "kubectl"
	// A container whose command is python3 runs `python3 -m http.server` (and nothing else): the
	// stack's stand-in for an artifact repository that serves job jars behind a Service.
	roleHTTPServer = "python3"
)

var mainClasses = map[string]string{
	roleJobManager:        "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint",
	roleTaskManager:       "org.apache.flink.runtime.taskexecutor.TaskManagerRunner",
	roleApplication:       "org.apache.flink.container.entrypoint.StandaloneApplicationClusterEntryPoint",
	roleNativeSession:     "org.apache.flink.kubernetes.entrypoint.KubernetesSessionClusterEntrypoint",
	roleNativeApplication: "org.apache.flink.kubernetes.entrypoint.KubernetesApplicationClusterEntrypoint",
	roleNativeTaskManager: "org.apache.flink.kubernetes.taskmanager.KubernetesTaskExecutorRunner",
}

// flinkRole returns the Flink role of a pod, or "" when it is not a Flink pod: the first
// container's first argument (the official image's entrypoint commands, and native mode's
// kubernetes-jobmanager.sh), or for args `bash -c "<script>"` the script's first word when it is
// kubernetes-taskmanager.sh or kubernetes-jobmanager.sh (the pods Flink's native mode creates).
// It must agree with the kwok stage selector in ci/kwok/kwok.yaml.
func flinkRole(pod *corev1.Pod) string {
	if len(pod.Spec.Containers) == 0 {
		return ""
	}
	c := &pod.Spec.Containers[0]
	if len(c.Command) > 0 && (c.Command[0] == roleKubectl || c.Command[0] == roleScript || c.Command[0] == roleHTTPServer) {
		return c.Command[0]
	}
	if len(c.Args) == 0 {
		return ""
	}
	switch a := c.Args[0]; a {
	case roleJobManager, roleTaskManager, roleApplication:
		return a
	case nativeJobManagerScript:
		return nativeJobManagerRole(c.Args[1:])
	}
	switch first, script := nativeScript(c); first {
	case nativeTaskManagerScript:
		return roleNativeTaskManager
	case nativeJobManagerScript:
		words, _ := shellWords(script)
		if len(words) == 0 {
			return roleNativeUnknown
		}
		return nativeJobManagerRole(words[1:])
	}
	return ""
}

var tagVersion = regexp.MustCompile(`^(\d+)\.(\d+)`)

// flinkVersionFor picks the cached Flink release that serves an image: the image tag's
// major.minor decides (1.20 → the 1.20.x release, 2.x → the 2.x release).
func flinkVersionFor(image string, versions map[string]string) (string, error) {
	ref := image
	if i := strings.LastIndex(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	tag := "latest"
	if i := strings.LastIndex(ref, ":"); i >= 0 && !strings.Contains(ref[i:], "/") {
		tag = ref[i+1:]
	}
	m := tagVersion.FindStringSubmatch(tag)
	if m == nil {
		return "", fmt.Errorf("image %q: tag %q names no Flink version (want e.g. flink:1.20-java17 or flink:2.3)", image, tag)
	}
	if v, ok := versions[m[1]+"."+m[2]]; ok {
		return v, nil
	}
	if v, ok := versions[m[1]]; ok {
		return v, nil
	}
	return "", fmt.Errorf("image %q: no Flink %s.%s in the stack (have %v)", image, m[1], m[2], versions)
}

// exampleJars maps a jar reference to one of the example jobs fetched from Maven Central:
// a jar whose file name (without .jar) or an entry class whose simple name is an example's name.
var exampleNames = []string{"TopSpeedWindowing", "WindowJoin", "WordCount"}

func exampleFor(ref string) string {
	base := strings.TrimSuffix(path.Base(ref), ".jar")
	if i := strings.LastIndex(base, "."); i >= 0 {
		base = base[i+1:]
	}
	for _, n := range exampleNames {
		if strings.EqualFold(base, n) {
			return n
		}
	}
	return ""
}

// expandVars expands Kubernetes' $(VAR) references in container args; $$ escapes.
func expandVars(s string, env map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '$' && i+1 < len(s) {
			if s[i+1] == '$' {
				b.WriteByte('$')
				i++
				continue
			}
			if s[i+1] == '(' {
				if j := strings.IndexByte(s[i:], ')'); j > 0 {
					name := s[i+2 : i+j]
					if v, ok := env[name]; ok {
						b.WriteString(v)
						i += j
						continue
					}
				}
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// portKeys lists the config keys whose value is a port the pod listens on, per role, with
// Flink's default when the config leaves it out. Each gets a free local port.
var portKeys = map[string][]struct {
	key string
	def int32
}{
	roleJobManager:        {{"rest.port", 8081}, {"jobmanager.rpc.port", 6123}, {"blob.server.port", 6124}},
	roleApplication:       {{"rest.port", 8081}, {"jobmanager.rpc.port", 6123}, {"blob.server.port", 6124}},
	roleNativeSession:     {{"rest.port", 8081}, {"jobmanager.rpc.port", 6123}, {"blob.server.port", 6124}},
	roleNativeApplication: {{"rest.port", 8081}, {"jobmanager.rpc.port", 6123}, {"blob.server.port", 6124}},
	roleTaskManager:       {{"taskmanager.rpc.port", 6122}, {"taskmanager.data.port", 6121}},
	roleNativeTaskManager: {{"taskmanager.rpc.port", 6122}, {"taskmanager.data.port", 6121}},
}

var reporterPort = regexp.MustCompile(`^metrics\.reporter\.[^.]+\.port$`)

// portsOf returns the ports (config key → port as the pod declares it) that the process listens on.
func portsOf(role string, conf flinkConf) map[string]int32 {
	out := map[string]int32{}
	for _, pk := range portKeys[role] {
		p := pk.def
		if v, ok := conf[pk.key]; ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
				p = int32(n)
			}
		}
		out[pk.key] = p
	}
	for k, v := range conf {
		if reporterPort.MatchString(k) {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
				out[k] = int32(n)
			}
		}
	}
	return out
}

// pathKeys are config keys holding file system locations of Flink's state. They are not
// rewritten: a local path (file:///x or /x) is what the process sees in its mount namespace — a
// volume mounted there, else a folder of the container's own (see privateBinds), so that state
// outlives the pod only on a volume that does, as on a real cluster.
var pathKeys = []string{
	"state.savepoints.dir", "execution.checkpointing.savepoint-dir",
	"state.checkpoints.dir", "execution.checkpointing.dir",
	"high-availability.storageDir", "high-availability.storage-path",
	"execution.savepoint.path", "execution.state-recovery.path",
}

// statePaths are the local paths of a Flink process's state: its config's pathKeys and the
// savepoint an application starts from (--fromSavepoint / -s).
func statePaths(conf flinkConf, args []string) []string {
	var vals []string
	for _, k := range pathKeys {
		if v, ok := conf[k]; ok {
			vals = append(vals, v)
		}
	}
	for i := 0; i < len(args)-1; i++ {
		if args[i] == "--fromSavepoint" || args[i] == "-s" {
			vals = append(vals, args[i+1])
		}
	}
	var out []string
	for _, v := range vals {
		if p := localPath(v); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// localPath is the path of a file:// URI or an absolute path, "" for any other file system.
func localPath(v string) string {
	v = strings.TrimSpace(v)
	u, err := url.Parse(v)
	if err != nil {
		return ""
	}
	switch {
	case u.Scheme == "file" && strings.HasPrefix(u.Path, "/"):
		return path.Clean(u.Path)
	case u.Scheme == "" && strings.HasPrefix(v, "/"):
		return path.Clean(v)
	}
	return ""
}
