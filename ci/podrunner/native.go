package main

import (
	"fmt"
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Flink's native Kubernetes mode. The JobManager runs `kubernetes-jobmanager.sh kubernetes-session`
// (or kubernetes-application), talks to the API server with its pod's ServiceAccount and creates
// the TaskManager pods itself. Those pods run the image's /docker-entrypoint.sh with the args
// `bash -c "kubernetes-taskmanager.sh -Dkey='value' …"`, which the entrypoint passes through to bash.
const (
	roleNativeSession     = "kubernetes-session"
	roleNativeApplication = "kubernetes-application"
	roleNativeTaskManager = "kubernetes-taskmanager"
	// roleNativeUnknown: kubernetes-jobmanager.sh with a service other than the two above, which
	// Flink's flink-console.sh refuses ("Unknown service").
	roleNativeUnknown = "kubernetes-jobmanager.sh"

	nativeJobManagerScript  = "kubernetes-jobmanager.sh"
	nativeTaskManagerScript = "kubernetes-taskmanager.sh"
)

// nativeScript is the first word of the script of a container whose args are `bash -c "<script>"`
// (as kwok.yaml's selector computes it: leading spaces trimmed, split at spaces), with the whole
// script; "" when the args are not of that form.
func nativeScript(c *corev1.Container) (first, script string) {
	a := c.Args
	if len(a) < 3 || a[0] != "bash" || a[1] != "-c" {
		return "", ""
	}
	first, _, _ = strings.Cut(strings.TrimLeft(a[2], " "), " ")
	return first, a[2]
}

// nativeJobManagerRole is the role of `kubernetes-jobmanager.sh <service> …`.
func nativeJobManagerRole(rest []string) string {
	if len(rest) > 0 && (rest[0] == roleNativeSession || rest[0] == roleNativeApplication) {
		return rest[0]
	}
	return roleNativeUnknown
}

func isNative(role string) bool {
	switch role {
	case roleNativeSession, roleNativeApplication, roleNativeTaskManager, roleNativeUnknown:
		return true
	}
	return false
}

// isJobManager: a role whose process is a JobManager (a TaskManager's rpc address may name it).
func isJobManager(role string) bool {
	switch role {
	case roleJobManager, roleApplication, roleNativeSession, roleNativeApplication:
		return true
	}
	return false
}

func isTaskManager(role string) bool { return role == roleTaskManager || role == roleNativeTaskManager }

// entryArgs are the arguments of a Flink container's entrypoint command, after the command (and,
// for kubernetes-jobmanager.sh, its service), with $(VAR) references expanded as the kubelet
// does: the container's args, or the words of its `bash -c` script.
func entryArgs(c *corev1.Container, env map[string]string) ([]string, error) {
	var words []string
	if first, script := nativeScript(c); first == nativeJobManagerScript || first == nativeTaskManagerScript {
		w, err := shellWords(expandVars(script, env))
		if err != nil {
			return nil, fmt.Errorf("the container's bash -c script: %w", err)
		}
		words = w
	} else {
		for _, a := range c.Args {
			words = append(words, expandVars(a, env))
		}
	}
	if len(words) == 0 {
		return nil, nil
	}
	skip := 1
	if words[0] == nativeJobManagerScript && len(words) > 1 {
		skip = 2
	}
	return words[skip:], nil
}

// shellWords splits a bash command line into words as bash would without expansions: blanks
// separate words, 'single quotes' keep everything, "double quotes" keep everything but \" \\ \$ \`,
// a backslash outside quotes keeps the next character. Flink single-quotes the values of its
// dynamic properties (-Dkey='value').
func shellWords(s string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		in    bool // a word has started (possibly empty: '')
	)
	flush := func() {
		if in {
			words = append(words, cur.String())
		}
		cur.Reset()
		in = false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			flush()
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated ' in %q", s)
			}
			cur.WriteString(s[i+1 : i+1+j])
			in, i = true, i+1+j
		case c == '"':
			in = true
			for i++; ; i++ {
				if i >= len(s) {
					return nil, fmt.Errorf("unterminated \" in %q", s)
				}
				if s[i] == '"' {
					break
				}
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
		case c == '\\':
			if i+1 < len(s) {
				i++
				if s[i] != '\n' {
					cur.WriteByte(s[i])
				}
			}
			in = true
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	flush()
	return words, nil
}

// pipelineJar is the local path of an application's job jar (pipeline.jars, local:// or a path),
// "" when there is none or it is elsewhere.
func pipelineJar(conf flinkConf) string {
	jars := strings.Split(conf["pipeline.jars"], ";")
	j := strings.TrimSpace(jars[0])
	if rest, ok := strings.CutPrefix(j, "local://"); ok {
		j = rest
	} else if rest, ok := strings.CutPrefix(j, "file://"); ok {
		j = rest
	}
	if !strings.HasPrefix(j, "/") {
		return ""
	}
	return path.Clean(j)
}

// nativeJVMMemory is the direct memory limit of a native TaskManager's JVM: what Flink computed for
// the pod (FLINK_TM_JVM_MEM_OPTS' -XX:MaxDirectMemorySize: network and off-heap memory), so that
// the memory options the JobManager gave the TaskManager (and matches its request by) fit.
func nativeJVMMemory(env map[string]string) string {
	for _, o := range strings.Fields(env["FLINK_TM_JVM_MEM_OPTS"]) {
		if v, ok := strings.CutPrefix(o, "-XX:MaxDirectMemorySize="); ok && v != "" {
			return v
		}
	}
	return "512m"
}
