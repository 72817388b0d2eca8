package main

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// worker owns one pod the runner runs (Flink, kubectl or bash): it runs the pod's first container
// as a local process for as long as the pod exists, restarting it per the pod's restartPolicy,
// and reports its status.
type worker struct {
	r            *runner
	ns, name     string
	uid          types.UID
	role         string
	labels       labels.Set
	dir          string
	cancel       context.CancelFunc
	done         chan struct{}
	mu           sync.Mutex
	info         processInfo
	localPort    map[string]int32 // config key → local port, fixed for the pod's life
	declaredPort map[string]int32 // config key → port as the pod declares it
	crsCreated   bool
	removing     bool // guarded by r.mu
	// containerPorts: the Flink container's port names → numbers, for Services by port name.
	containerPorts map[string]int32
	// usrlib: the volume the Flink container mounts at its usrlib, "" for the image's own.
	usrlib string
	// inits: the init containers' statuses; initDone once all completed (guarded by mu).
	inits    []corev1.ContainerStatus
	initDone bool
}

// processInfo is what GET /processes reports about a pod's process.
type processInfo struct {
	Namespace    string           `json:"namespace"`
	Pod          string           `json:"pod"`
	Role         string           `json:"role"`
	FlinkVersion string           `json:"flinkVersion,omitempty"`
	PID          int              `json:"pid,omitempty"`
	Ports        map[string]int32 `json:"ports,omitempty"`
	Ready        bool             `json:"ready"`
	Restarts     int32            `json:"restarts"`
	State        string           `json:"state"`
	LogFile      string           `json:"logFile,omitempty"`
	Dir          string           `json:"dir"` // the pod's folder: usrlib/, volumes/, rootfs/, log/
	// Mounts: what the container's process sees where (mount path → host folder): its volumes,
	// and its own folders at /flink-data and its Flink config's state paths.
	Mounts map[string]string `json:"mounts,omitempty"`
}

func (w *worker) logf(format string, args ...any) {
	w.r.log.Printf("%s/%s: %s", w.ns, w.name, fmt.Sprintf(format, args...))
}

func (w *worker) setInfo(f func(*processInfo)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f(&w.info)
}

func (w *worker) snapshot() processInfo {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.info
}

// waiting reports the pod as not started, with a reason a user would see in `kubectl describe`.
func (w *worker) waiting(ctx context.Context, reason, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	w.logf("%s: %s", reason, msg)
	w.setInfo(func(i *processInfo) { i.State = reason + ": " + msg })
	w.writeStatus(ctx, containerState{waitingReason: reason, waitingMessage: msg, phase: corev1.PodPending})
}

func (w *worker) run(ctx context.Context, pod *corev1.Pod) {
	defer close(w.done)
	if !w.r.namespaceEnabled(pod.Namespace) {
		w.waiting(ctx, "NamespaceNotEnabled", "namespace %s is not labelled %s; the pod runner runs Flink pods only there", pod.Namespace, w.r.nsLabel)
		return
	}
	var prepare func(context.Context, *corev1.Pod) (*launch, error)
	switch w.role {
	case roleKubectl:
		prepare = w.prepareKubectl
	case roleScript:
		prepare = w.prepareScript
	case roleHTTPServer:
		prepare = w.prepareHTTPServer
	default:
		version, err := w.r.flinkVersionOf(pod)
		if err != nil {
			w.waiting(ctx, "ErrImagePull", "%v", err)
			return
		}
		w.setInfo(func(i *processInfo) { i.FlinkVersion = version })
		prepare = func(ctx context.Context, pod *corev1.Pod) (*launch, error) { return w.prepare(ctx, pod, version) }
	}
	if w.role != roleKubectl && w.role != roleScript {
		if err := w.r.createLogs(ctx, pod, w); err != nil {
			w.logf("logs: %v", err)
		}
	}
	// Init containers run first, whatever the containers then wait on, as on a node.
	if !w.runInits(ctx, pod) {
		return
	}
	// A pod that waits on another (a TaskManager on its JobManager, a script on its Service's
	// pods) prepares again when a JobManager changes, or every 2 s.
	for {
		l, err := prepare(ctx, pod)
		if err == nil {
			w.setInfo(func(i *processInfo) { i.Mounts = mountTable(l.binds) })
			w.loop(ctx, pod, l)
			return
		}
		var wait *errWaiting
		if !errors.As(err, &wait) {
			w.waiting(ctx, "CreateContainerConfigError", "%v", err)
			return
		}
		w.waiting(ctx, "ContainerCreating", "%v", err)
		select {
		case <-ctx.Done():
			return
		case <-w.r.jobManagerChanged():
		case <-time.After(2 * time.Second):
		}
	}
}

// loop starts the process, and again after it exits when the restart policy says so.
func (w *worker) loop(ctx context.Context, pod *corev1.Pod, l *launch) {
	var st containerState
	backoff := time.Second
	for {
		started := time.Now()
		cmd, logw, err := w.start(l)
		if err != nil {
			w.waiting(ctx, "RunContainerError", "%v", err)
			return
		}
		st.startedAt, st.exited, st.ready, st.phase = started, false, false, corev1.PodRunning
		w.setInfo(func(i *processInfo) {
			i.PID, i.State, i.Ready, i.Restarts = cmd.Process.Pid, "Running", false, st.restarts
		})
		w.writeStatus(ctx, st)
		if !w.crsCreated && w.role != roleKubectl && w.role != roleScript {
			if err := w.r.createForwards(ctx, pod, w); err != nil {
				w.logf("port-forward: %v", err)
			} else {
				w.crsCreated = true
			}
		}
		exited := w.reap(cmd, logw)
		readyCtx, stopProbe := context.WithCancel(ctx)
		go w.probe(readyCtx, l, func() {
			st.ready = true
			w.setInfo(func(i *processInfo) { i.Ready = true })
			w.writeStatus(ctx, st)
			w.r.notifyJobManagers()
		})
		var werr error
		select {
		case <-ctx.Done():
			stopProbe()
			w.stop(cmd, exited)
			return
		case werr = <-exited:
		}
		stopProbe()
		code := exitCodeOf(werr)
		w.logf("process exited with code %d", code)
		st.ready, st.exited, st.exitCode, st.finishedAt = false, true, code, time.Now()
		restart := pod.Spec.RestartPolicy == corev1.RestartPolicyAlways ||
			(pod.Spec.RestartPolicy == corev1.RestartPolicyOnFailure && code != 0)
		if !restart {
			st.phase = corev1.PodSucceeded
			if code != 0 {
				st.phase = corev1.PodFailed
			}
			w.setInfo(func(i *processInfo) {
				i.PID, i.Ready, i.State = 0, false, fmt.Sprintf("Terminated: exit code %d", code)
			})
			w.writeStatus(ctx, st)
			w.r.notifyJobManagers()
			return
		}
		// A crash shows as a restart with the last exit code, as CrashLoopBackOff does.
		st.last = &corev1.ContainerStateTerminated{ExitCode: code, Reason: "Error",
			StartedAt: metav1.NewTime(st.startedAt), FinishedAt: metav1.NewTime(st.finishedAt)}
		if code == 0 {
			st.last.Reason = "Completed"
		}
		st.restarts++
		st.exited, st.startedAt = false, time.Time{}
		st.waitingReason, st.waitingMessage = "CrashLoopBackOff", fmt.Sprintf("back-off %s restarting failed container (exit code %d)", backoff, code)
		w.setInfo(func(i *processInfo) { i.PID, i.Ready, i.Restarts, i.State = 0, false, st.restarts, "CrashLoopBackOff" })
		w.writeStatus(ctx, st)
		w.r.notifyJobManagers()
		if time.Since(started) > 2*time.Minute {
			backoff = time.Second
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
		st.waitingReason, st.waitingMessage = "", ""
	}
}

func exitCodeOf(err error) int32 {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int32(ws.Signal())
		}
		return int32(ee.ExitCode())
	}
	return 128
}

// start starts a container's process in a mount namespace of its own (see mountns.go), with
// its private folders fresh.
func (w *worker) start(l *launch) (*exec.Cmd, *criLog, error) {
	prog, err := exec.LookPath(l.java)
	if err != nil {
		return nil, nil, err
	}
	if l.fresh != "" {
		if err := os.RemoveAll(l.fresh); err != nil {
			return nil, nil, err
		}
	}
	for _, b := range l.binds {
		if strings.HasPrefix(b.src, l.fresh+string(filepath.Separator)) {
			if err := os.MkdirAll(b.src, 0o755); err != nil {
				return nil, nil, err
			}
		}
	}
	self, err := selfExe()
	if err != nil {
		return nil, nil, err
	}
	logw, err := newCRILog(l.logFile)
	if err != nil {
		return nil, nil, err
	}
	dir := w.dir
	if l.dir != "" {
		dir = l.dir
	}
	cmd := exec.Command(self, mountExecArgs(l.binds, w.r.keepPaths(prog), dir, prog, l.java, l.args)...)
	cmd.Dir = w.dir
	cmd.Env = l.env
	cmd.Stdout = logw.stream("stdout")
	cmd.Stderr = logw.stream("stderr")
	// Own process group, so that stopping it stops whatever the JVM forked; die with the runner;
	// own mount namespace.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Cloneflags: syscall.CLONE_NEWNS}
	if err := cmd.Start(); err != nil {
		logw.Close()
		return nil, nil, fmt.Errorf("start %s: %w", l.java, err)
	}
	w.r.track(cmd.Process.Pid)
	return cmd, logw, nil
}

// reap waits for the process in the background; the channel gets its exit.
func (w *worker) reap(cmd *exec.Cmd, logw *criLog) <-chan error {
	exited := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		// Reaped: its group id may be reused, so it must not be killed as a leftover later.
		w.r.untrack(cmd.Process.Pid)
		logw.Close()
		exited <- err
	}()
	return exited
}

// stop ends the process group: SIGTERM, then SIGKILL after a grace period.
func (w *worker) stop(cmd *exec.Cmd, exited <-chan error) {
	pgid := cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-exited
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL) // anything the JVM left in its group
	w.setInfo(func(i *processInfo) { i.PID, i.Ready, i.State = 0, false, "Stopped" })
}

// probe marks the pod ready once the process accepts connections on every port it must listen on.
func (w *worker) probe(ctx context.Context, l *launch, ready func()) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ok := true
		for _, key := range l.readinessKeys {
			conn, err := net.DialTimeout("tcp", net.JoinHostPort(podIP, strconv.Itoa(int(w.localPort[key]))), time.Second)
			if err != nil {
				ok = false
				break
			}
			conn.Close()
		}
		if ok {
			ready()
			return
		}
	}
}

// errWaiting is a condition the pod waits on (its JobManager is not up yet), not a failure.
type errWaiting struct{ msg string }

func (e *errWaiting) Error() string { return e.msg }

// launch is the resolved command line of a pod's process (Flink, a script, kubectl, python3).
type launch struct {
	java          string // the program
	args          []string
	env           []string
	dir           string // working directory, as the container sees it; the pod's folder when empty
	logFile       string
	readinessKeys []string
	binds         []bindMount // the container's mounts (containerMounts)
	fresh         string      // the container's private folders, emptied at each start
}

func (w *worker) prepare(ctx context.Context, pod *corev1.Pod, version string) (*launch, error) {
	c := &pod.Spec.Containers[0]
	env, order, err := containerEnv(ctx, w.r.cs, pod, c)
	if err != nil {
		return nil, err
	}
	confPath := "/opt/flink/conf"
	if v := env["FLINK_CONF_DIR"]; v != "" {
		confPath = v
	}
	for _, d := range []string{"conf", "tmp", "log", "usrlib"} {
		if err := os.MkdirAll(filepath.Join(w.dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	confDir := filepath.Join(w.dir, "conf")
	if err := writeConfDir(ctx, w.r.cs, pod, c, confPath, confDir); err != nil {
		return nil, err
	}
	conf, err := readConfDir(confDir)
	if err != nil {
		return nil, err
	}
	if props := env["FLINK_PROPERTIES"]; props != "" {
		// The image's entrypoint writes FLINK_PROPERTIES into the configuration file; where it
		// cannot, it prints the failure and starts Flink without them.
		if why := confReadOnly(pod, c, confPath); why != "" {
			w.logf("FLINK_PROPERTIES not applied, as the image's entrypoint could not write them: %s", why)
		} else {
			for k, v := range parseFlatConf(props) {
				conf[k] = v
			}
		}
	}
	if w.role == roleNativeUnknown {
		return nil, fmt.Errorf("args %q: %s takes the service %s or %s (Flink's flink-console.sh refuses any other)",
			c.Args, nativeJobManagerScript, roleNativeSession, roleNativeApplication)
	}
	// The configuration as the pod's files give it, before its -D arguments: a native
	// TaskManager's arguments carry what the JobManager's own configuration has on top of the files,
	// which here includes the runner's rewrites of the JobManager (its addresses and local ports).
	fileConf := flinkConf{}
	for k, v := range conf {
		fileConf[k] = v
	}
	args, err := entryArgs(c, env)
	if err != nil {
		return nil, err
	}
	userDyn := flinkConf{}
	if args, err = parseEntryArgs(w.role, version, args, userDyn); err != nil {
		return nil, fmt.Errorf("args %q: %w", c.Args, err)
	}
	for k, v := range userDyn {
		conf[k] = v
	}
	// State paths stay as the pod gives them: the process sees its volumes there, or folders of
	// its own that go with the container.
	binds, fresh, err := w.containerMounts(ctx, pod, c, statePaths(conf, args))
	if err != nil {
		return nil, err
	}

	if w.localPort == nil {
		w.declaredPort = portsOf(w.role, conf)
		if w.role == roleNativeTaskManager {
			w.declaredPort = portsOf(w.role, fileConf)
		}
		w.localPort = map[string]int32{}
		for k := range w.declaredPort {
			p, err := freePort()
			if err != nil {
				return nil, err
			}
			w.localPort[k] = p
		}
		w.setInfo(func(i *processInfo) { i.Ports = w.localPort })
	}

	over := flinkConf{}
	for k, v := range userDyn {
		over[k] = v
	}
	for k, p := range w.localPort {
		over[k] = strconv.Itoa(int(p))
	}
	over["io.tmp.dirs"] = filepath.Join(w.dir, "tmp")
	over["web.tmpdir"] = filepath.Join(w.dir, "tmp", "web")
	over["blob.storage.directory"] = filepath.Join(w.dir, "tmp", "blob")
	over["process.working-dir"] = filepath.Join(w.dir, "work")
	ha := conf["high-availability.type"]
	if ha == "" {
		ha = conf["high-availability"]
	}
	haEnabled := ha != "" && !strings.EqualFold(ha, "none") && !strings.EqualFold(ha, "NONE")
	l := &launch{java: w.r.java, logFile: filepath.Join(w.dir, "log", c.Name+".log"), binds: binds, fresh: fresh}
	switch {
	case isJobManager(w.role):
		for k, v := range map[string]string{
			"jobmanager.rpc.address": podIP, "jobmanager.bind-host": podIP,
			"rest.address": podIP, "rest.bind-address": podIP,
			"rest.bind-port":                    strconv.Itoa(int(w.localPort["rest.port"])),
			"high-availability.jobmanager.port": strconv.Itoa(int(w.localPort["jobmanager.rpc.port"])),
			"jobmanager.memory.process.size":    "768m",
		} {
			over[k] = v
		}
		l.readinessKeys = []string{"rest.port", "jobmanager.rpc.port"}
	case isTaskManager(w.role):
		for k, v := range map[string]string{
			"taskmanager.host": podIP, "taskmanager.bind-host": podIP,
			"taskmanager.resource-id": pod.Name,
		} {
			over[k] = v
		}
		// A native TaskManager keeps the memory options its JobManager gave it: the resource
		// manager matches the TaskManager that registers with the pod it requested by them. Only
		// its JVM is capped (jvmOptions).
		if w.role == roleTaskManager {
			for k, v := range taskManagerMemory(conf) {
				over[k] = v
			}
		}
		if !haEnabled {
			address := conf["jobmanager.rpc.address"]
			if w.role == roleNativeTaskManager {
				address = fileConf["jobmanager.rpc.address"] // the JobManager's Service, as in the pod's config
			}
			port, err := w.r.resolveJobManager(ctx, pod.Namespace, address)
			if err != nil {
				return nil, err
			}
			over["jobmanager.rpc.address"] = podIP
			over["jobmanager.rpc.port"] = strconv.Itoa(int(port))
		}
		l.readinessKeys = []string{"taskmanager.rpc.port"}
	}
	// A volume at usrlib hides the image's usrlib: what the init containers put there is the
	// job's jar. Without one the example jobs stand in for jars baked into the image.
	if isTaskManager(w.role) && w.usrlib == "" {
		// An application JobManager gives its TaskManagers the job's jars as paths relative to
		// usrlib, expecting the same image there: TaskManagers get every example job.
		if err := w.stageExamples(exampleNames); err != nil {
			return nil, err
		}
	}
	switch {
	case w.role == roleApplication:
		if w.usrlib == "" {
			if err := w.stageUserJars(args, conf); err != nil {
				return nil, err
			}
		}
	case w.role == roleNativeApplication:
		if w.usrlib == "" {
			if err := w.stageApplicationJar(conf); err != nil {
				return nil, err
			}
		}
	default:
		args = dropHostArg(args)
	}
	if isNative(w.role) && w.usrlib == "" && !onBind(flinkUsrlib, l.binds) {
		// The image's usrlib at its path: native application mode names its jar by that path
		// (pipeline.jars: local:///opt/flink/usrlib/…).
		l.binds = append(l.binds, bindMount{src: filepath.Join(w.dir, "usrlib"), dst: flinkUsrlib, readOnly: true})
	}

	l.args = append(l.args, jvmOptions(w.role)...)
	if w.role == roleNativeTaskManager {
		l.args = append(l.args, "-XX:MaxDirectMemorySize="+nativeJVMMemory(env))
	}
	log4j := filepath.Join(confDir, "log4j-console.properties")
	if _, err := os.Stat(log4j); err != nil {
		log4j = filepath.Join(w.dir, "log4j-runner.properties")
		if err := os.WriteFile(log4j, []byte(defaultLog4j), 0o644); err != nil {
			return nil, err
		}
	}
	lib := filepath.Join(w.r.flinkCache, version, "lib")
	l.args = append(l.args,
		"-Dlog4j.configurationFile=file:"+log4j,
		"-Dlog.file="+filepath.Join(w.dir, "log", "flink.log"),
		"-cp", filepath.Join(lib, "*"),
		mainClasses[w.role])
	if w.role != roleNativeSession && w.role != roleNativeApplication {
		// The native JobManagers take only -D options and read FLINK_CONF_DIR, as
		// kubernetes-jobmanager.sh starts them.
		l.args = append(l.args, "--configDir", confDir)
	}
	if w.role == roleNativeSession || w.role == roleNativeApplication {
		// A native JobManager gives each TaskManager pod it creates, as -D arguments, what its own
		// configuration has on top of its configuration file: the runner's rewrites go into that
		// file (as the image's entrypoint writes FLINK_PROPERTIES there), so that they stay out of
		// the pods' args; the pod's own -D arguments stay arguments, as on a real cluster.
		runner := flinkConf{}
		for k, v := range over {
			if _, ok := userDyn[k]; !ok {
				runner[k] = v
			}
		}
		if err := writeOverrides(confDir, runner); err != nil {
			return nil, err
		}
		over = userDyn
	}
	// Options before the pod's args: an application's parser takes everything from its first job
	// argument on as job arguments.
	l.args = append(l.args, over.dynamicProperties()...)
	l.args = append(l.args, args...)

	// The process sees the container's env plus what Flink's scripts would set.
	_ = os.Remove(filepath.Join(w.dir, "lib"))
	if err := os.Symlink(lib, filepath.Join(w.dir, "lib")); err != nil {
		return nil, err
	}
	l.env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + w.dir}
	if jh := os.Getenv("JAVA_HOME"); jh != "" {
		l.env = append(l.env, "JAVA_HOME="+jh)
	}
	for _, k := range order {
		l.env = append(l.env, k+"="+env[k])
	}
	l.env = append(l.env,
		"FLINK_HOME="+w.dir, "FLINK_CONF_DIR="+confDir, "FLINK_LIB_DIR="+filepath.Join(w.dir, "lib"),
		"FLINK_LOG_DIR="+filepath.Join(w.dir, "log"))
	if haEnabled || w.role == roleNativeSession || w.role == roleNativeApplication {
		// Kubernetes HA, and a native JobManager's resource manager (which creates its TaskManager
		// pods), talk to the API server as the pod's ServiceAccount (the chart's Role).
		kubeconfig, err := w.serviceAccountKubeconfig(ctx, pod)
		if err != nil {
			return nil, err
		}
		l.env = append(l.env, "KUBECONFIG="+kubeconfig)
	}
	return l, nil
}

// flinkVersionOf picks the Flink release for a pod from its first container's image tag, else
// from its helm-flink.dev/flink-version annotation (a custom tag such as prod-2026-11; the charts
// set it).
func (r *runner) flinkVersionOf(pod *corev1.Pod) (string, error) {
	version, err := flinkVersionFor(pod.Spec.Containers[0].Image, r.versions)
	if v, ok := pod.Annotations["helm-flink.dev/flink-version"]; err != nil && ok {
		if lv, lerr := flinkVersionFor("flink:"+v, r.versions); lerr == nil {
			return lv, nil
		}
	}
	return version, err
}

// commandLaunch runs a container's own command and args (with $(VAR) expanded, as the kubelet
// does) as binary, with the container's env after the given base env. rewrite, when given, maps
// every env value and argument to what it means on this machine.
func commandLaunch(w *worker, c *corev1.Container, binary string, env map[string]string, order []string,
	rewrite func(string) (string, error), base ...string) (*launch, error) {
	if rewrite == nil {
		rewrite = func(s string) (string, error) { return s, nil }
	}
	l := &launch{java: binary, logFile: filepath.Join(w.dir, "log", c.Name+".log"), env: base}
	for _, a := range append(append([]string{}, c.Command[1:]...), c.Args...) {
		// Expanded before the rewrite, so that a rewritten value is never rewritten again.
		a, err := rewrite(expandVars(a, env))
		if err != nil {
			return nil, err
		}
		l.args = append(l.args, a)
	}
	for _, k := range order {
		v, err := rewrite(env[k])
		if err != nil {
			return nil, fmt.Errorf("env %s: %w", k, err)
		}
		l.env = append(l.env, k+"="+v)
	}
	return l, nil
}

func readConfDir(dir string) (flinkConf, error) {
	if data, err := os.ReadFile(filepath.Join(dir, "flink-conf.yaml")); err == nil {
		return parseFlatConf(string(data)), nil
	}
	if data, err := os.ReadFile(filepath.Join(dir, "config.yaml")); err == nil {
		return parseConfigYAML(data)
	}
	return flinkConf{}, nil
}

// dropHostArg removes --host/-h: the process binds to loopback whatever the pod asked.
func dropHostArg(args []string) []string {
	var rest []string
	for i := 0; i < len(args); i++ {
		if (args[i] == "--host" || args[i] == "-h") && i+1 < len(args) {
			i++
			continue
		}
		rest = append(rest, args[i])
	}
	return rest
}

// stageApplicationJar puts a native application's jar where pipeline.jars names it in the image's
// usrlib: the example job of that name, or of the entry class ($internal.application.main).
func (w *worker) stageApplicationJar(conf flinkConf) error {
	jar := pipelineJar(conf)
	if jar == "" || path.Dir(jar) != flinkUsrlib {
		w.logf("pipeline.jars %q is not in %s: usrlib stays empty", conf["pipeline.jars"], flinkUsrlib)
		return nil
	}
	main := strings.TrimSpace(conf["$internal.application.main"])
	name := exampleFor(jar)
	if name == "" && main != "" {
		if name = exampleFor(main); name == "" {
			name = w.exampleWithClass(main)
		}
	}
	if name == "" {
		w.logf("no example jar matches %s (entry class %q): usrlib stays empty", jar, main)
		return nil
	}
	src := filepath.Join(w.r.flinkCache, w.snapshot().FlinkVersion, "examples", name+".jar")
	dst := filepath.Join(w.dir, "usrlib", path.Base(jar))
	_ = os.Remove(dst)
	return os.Symlink(src, dst)
}

// stageUserJars puts the application's jar into the pod's usrlib, where Flink's application
// entrypoint looks for it: the example job named by pipeline.jars or by the entry class.
func (w *worker) stageUserJars(args []string, conf flinkConf) error {
	var refs []string
	if v := conf["pipeline.jars"]; v != "" {
		refs = append(refs, strings.Split(v, ";")...)
	}
	for i := 0; i < len(args)-1; i++ {
		if args[i] == "--job-classname" || args[i] == "-j" {
			refs = append(refs, args[i+1])
		}
	}
	for _, ref := range refs {
		if name := exampleFor(strings.TrimSpace(ref)); name != "" {
			return w.stageExamples([]string{name})
		}
	}
	// An entry class that names no example: the image's usrlib holds the example jar that has
	// the class, as an image with that jar would. No jar has it: usrlib stays empty and Flink
	// fails with its own error, as it would in an image without the class.
	for _, ref := range refs {
		if name := w.exampleWithClass(strings.TrimSpace(ref)); name != "" {
			return w.stageExamples([]string{name})
		}
	}
	w.logf("no example jar matches %v: usrlib stays empty", refs)
	return nil
}

// exampleWithClass is the example jar that holds class, or "".
func (w *worker) exampleWithClass(class string) string {
	entry := strings.ReplaceAll(class, ".", "/") + ".class"
	for _, n := range exampleNames {
		z, err := zip.OpenReader(filepath.Join(w.r.flinkCache, w.snapshot().FlinkVersion, "examples", n+".jar"))
		if err != nil {
			continue
		}
		found := false
		for _, f := range z.File {
			if f.Name == entry {
				found = true
				break
			}
		}
		z.Close()
		if found {
			return n
		}
	}
	return ""
}

func (w *worker) stageExamples(names []string) error {
	for _, name := range names {
		src := filepath.Join(w.r.flinkCache, w.snapshot().FlinkVersion, "examples", name+".jar")
		dst := filepath.Join(w.dir, "usrlib", name+".jar")
		_ = os.Remove(dst)
		if err := os.Symlink(src, dst); err != nil {
			return err
		}
	}
	return nil
}

// Pod ports come from below the kernel's ephemeral range (32768 and up here), where port 0
// listeners and outgoing connections take theirs: a port checked free and released before the
// JVM binds it can then not be taken by a test's server or a port-forward in between. Each is
// handed out once per cycle through the range.
const podPortFirst, podPortLast = 20000, 32000

var podPorts struct {
	sync.Mutex
	next int32
}

func freePort() (int32, error) {
	podPorts.Lock()
	defer podPorts.Unlock()
	for range podPortLast - podPortFirst {
		switch {
		case podPorts.next == 0: // a random start: two stacks on one machine rarely meet
			podPorts.next = podPortFirst + rand.Int32N(podPortLast-podPortFirst)
		case podPorts.next > podPortLast:
			podPorts.next = podPortFirst
		}
		p := podPorts.next
		podPorts.next++
		if l, err := net.Listen("tcp", fmt.Sprintf("%s:%d", podIP, p)); err == nil {
			l.Close()
			return p, nil
		}
	}
	return 0, fmt.Errorf("no free port in %d-%d", podPortFirst, podPortLast)
}

// taskManagerMemory sets the resource options taskmanager.sh would compute, capped so that a
// handful of TaskManagers fit on a small machine; the slot count stays as configured.
func taskManagerMemory(conf flinkConf) flinkConf {
	cores := conf["taskmanager.numberOfTaskSlots"]
	if cores == "" {
		cores = "1"
	}
	return flinkConf{
		"taskmanager.cpu.cores":                      cores,
		"taskmanager.memory.framework.heap.size":     "64m",
		"taskmanager.memory.task.heap.size":          "192m",
		"taskmanager.memory.framework.off-heap.size": "64m",
		"taskmanager.memory.task.off-heap.size":      "0m",
		"taskmanager.memory.network.min":             "64m",
		"taskmanager.memory.network.max":             "64m",
		"taskmanager.memory.managed.size":            "64m",
		"taskmanager.memory.jvm-metaspace.size":      "192m",
		"taskmanager.memory.jvm-overhead.min":        "64m",
		"taskmanager.memory.jvm-overhead.max":        "64m",
	}
}

// jvmOptions: heap caps matching the memory options above, and the module opens that Flink's
// default env.java.opts give it on Java 17.
func jvmOptions(role string) []string {
	opts := []string{"-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k", "-XX:MaxMetaspaceSize=192m"}
	switch role {
	case roleTaskManager:
		opts = append(opts, "-Xmx256m", "-Xms256m", "-XX:MaxDirectMemorySize=160m")
	case roleNativeTaskManager:
		opts = append(opts, "-Xmx256m", "-Xms64m") // direct memory: see nativeJVMMemory
	default:
		opts = append(opts, "-Xmx384m", "-Xms64m", "-XX:MaxDirectMemorySize=128m")
	}
	for _, p := range []string{"java.lang", "java.lang.reflect", "java.lang.invoke", "java.io", "java.net", "java.nio",
		"sun.nio.ch", "java.text", "java.time", "java.util", "java.util.concurrent", "java.util.concurrent.atomic",
		"java.util.concurrent.locks", "java.math", "java.security"} {
		opts = append(opts, "--add-opens=java.base/"+p+"=ALL-UNNAMED")
	}
	return append(opts, "--add-exports=java.base/sun.net.util=ALL-UNNAMED",
		"--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
		"--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED")
}

const defaultLog4j = `rootLogger.level = INFO
rootLogger.appenderRef.console.ref = ConsoleAppender
appender.console.name = ConsoleAppender
appender.console.type = CONSOLE
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
`
