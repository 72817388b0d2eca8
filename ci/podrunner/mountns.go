package main

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Every process the runner starts for a pod runs in a mount namespace of its own, in which the
// pod's volumes are at their mount paths and the paths a container writes outside its volumes
// are folders of its own: the runner starts itself in the internal mode mount-exec, in a new mount
// namespace (CLONE_NEWNS), which bind-mounts them and then executes the container's program.
//
//	podrunner mount-exec [--dir D] [--bind SRC DST | --ro-bind SRC DST | --keep P]... -- PROG ARGV0 ARGS...
const mountExecCmd = "mount-exec"

// oPath is Linux's O_PATH (not in package syscall): a handle on a path that only names it.
const oPath = 0x200000

// bindMount is one mount of a container: the host folder (or file) src at dst.
type bindMount struct {
	src, dst string
	readOnly bool
}

// mountExecArgs is the command line of mount-exec that runs prog (argv0 args…) in dir with binds.
// keep are host paths the process needs (the runner's folders, java): mounted again at their own
// path when a bind hides them.
func mountExecArgs(binds []bindMount, keep []string, dir, prog, argv0 string, args []string) []string {
	out := []string{mountExecCmd}
	if dir != "" {
		out = append(out, "--dir", dir)
	}
	for _, b := range binds {
		flag := "--bind"
		if b.readOnly {
			flag = "--ro-bind"
		}
		out = append(out, flag, b.src, b.dst)
	}
	for _, k := range keep {
		out = append(out, "--keep", k)
	}
	out = append(out, "--", prog, argv0)
	return append(out, args...)
}

// mountExecMain is the mount-exec mode; it returns only by exiting.
func mountExecMain(args []string) {
	if err := mountExec(args); err != nil {
		fmt.Fprintln(os.Stderr, "podrunner "+mountExecCmd+":", err)
		os.Exit(127)
	}
}

func mountExec(args []string) error {
	var (
		binds []bindMount
		keep  []string
		dir   string
	)
	i := 0
	for ; i < len(args) && args[i] != "--"; i++ {
		switch a := args[i]; a {
		case "--bind", "--ro-bind":
			if i+2 >= len(args) {
				return fmt.Errorf("%s needs SRC and DST", a)
			}
			binds = append(binds, bindMount{src: args[i+1], dst: path.Clean(args[i+2]), readOnly: a == "--ro-bind"})
			i += 2
		case "--keep", "--dir":
			if i+1 >= len(args) {
				return fmt.Errorf("%s needs a path", a)
			}
			if a == "--keep" {
				keep = append(keep, path.Clean(args[i+1]))
			} else {
				dir = args[i+1]
			}
			i++
		default:
			return fmt.Errorf("unknown option %q", a)
		}
	}
	if i+2 >= len(args) {
		return fmt.Errorf("usage: %s [options] -- PROG ARGV0 [ARGS...]", mountExecCmd)
	}
	prog, argv := args[i+1], args[i+2:]

	// Nothing mounted here may reach the host's mount namespace.
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w (not in a mount namespace of its own?)", err)
	}
	// Sources are opened before anything is mounted: a bind may hide the path of a later source.
	open := func(p string) (int, error) {
		return syscall.Open(p, oPath|syscall.O_CLOEXEC, 0)
	}
	srcFD := make([]int, len(binds))
	for j, b := range binds {
		fd, err := open(b.src)
		if err != nil {
			return fmt.Errorf("volume source %s: %w", b.src, err)
		}
		srcFD[j] = fd
	}
	var keepFD []int
	var kept []string
	for _, k := range keep {
		if !hiddenBy(k, binds) {
			continue
		}
		fd, err := open(k)
		if err != nil {
			continue // not on this machine: nothing to keep
		}
		keepFD, kept = append(keepFD, fd), append(kept, k)
	}
	// Outer mount points first: a volume inside another is mounted on top of it.
	order := make([]int, len(binds))
	for j := range order {
		order[j] = j
	}
	sort.SliceStable(order, func(a, b int) bool { return depth(binds[order[a]].dst) < depth(binds[order[b]].dst) })
	for _, j := range order {
		if err := bindFD(srcFD[j], binds[j].dst); err != nil {
			return fmt.Errorf("mount %s on %s: %w", binds[j].src, binds[j].dst, err)
		}
	}
	for j, k := range kept {
		if err := bindFD(keepFD[j], k); err != nil {
			return fmt.Errorf("keep %s: %w", k, err)
		}
	}
	for _, j := range order {
		if b := binds[j]; b.readOnly {
			if err := syscall.Mount("", b.dst, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
				return fmt.Errorf("read-only %s: %w", b.dst, err)
			}
		}
	}
	if dir != "" {
		if err := os.Chdir(dir); err != nil {
			// The runtime creates a missing working directory (inside a volume, here).
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			if err := os.Chdir(dir); err != nil {
				return err
			}
		}
	}
	if !strings.Contains(prog, "/") {
		p, err := exec.LookPath(prog)
		if err != nil {
			return err
		}
		prog = p
	}
	return syscall.Exec(prog, argv, os.Environ())
}

// bindFD bind-mounts what fd names on dst, creating the mount point (a folder, or an empty file
// for a file) as the kubelet does.
func bindFD(fd int, dst string) error {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&syscall.S_IFMT == syscall.S_IFDIR {
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return err
		}
	} else {
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		f, err := os.OpenFile(dst, os.O_CREATE|os.O_RDONLY, 0o644)
		if err != nil {
			return err
		}
		f.Close()
	}
	return syscall.Mount("/proc/self/fd/"+strconv.Itoa(fd), dst, "", syscall.MS_BIND|syscall.MS_REC, "")
}

func depth(p string) int {
	if p == "/" {
		return 0
	}
	return strings.Count(p, "/")
}

// under tells whether p is dir or inside it.
func under(p, dir string) bool {
	return dir == "/" || p == dir || strings.HasPrefix(p, dir+"/")
}

// hiddenBy tells whether a bind mounts over host path p (p lies strictly inside a mount point).
func hiddenBy(p string, binds []bindMount) bool {
	for _, b := range binds {
		if p != b.dst && under(p, b.dst) {
			return true
		}
	}
	return false
}

// onBind tells whether path p (as the container sees it) is on one of the binds.
func onBind(p string, binds []bindMount) bool {
	p = path.Clean(p)
	for _, b := range binds {
		if under(p, b.dst) {
			return true
		}
	}
	return false
}

// systemDirs are top-level folders of this machine's own system that a container's private
// folder never replaces; a path under one gets its private folder one level deeper.
var systemDirs = map[string]bool{
	"/bin": true, "/sbin": true, "/lib": true, "/lib32": true, "/lib64": true, "/libx32": true,
	"/usr": true, "/etc": true, "/proc": true, "/sys": true, "/dev": true, "/run": true,
	"/boot": true, "/var": true, "/nix": true, "/snap": true,
}

// privateRoot is the folder that stands for the container's own file system around path p: its
// top-level folder (/flink-data for /flink-data/savepoints), or deeper under a system folder
// (/var/flink for /var/flink/ha). "" when p is a system folder itself.
func privateRoot(p string) string {
	p = path.Clean(p)
	if !strings.HasPrefix(p, "/") || p == "/" {
		return ""
	}
	parts := strings.Split(p[1:], "/")
	for i := 1; i <= len(parts); i++ {
		if c := "/" + strings.Join(parts[:i], "/"); !systemDirs[c] {
			return c
		}
	}
	return ""
}

// stateRoot is where Flink's state lives by convention (the charts' examples and tests): always a
// folder of the container's own unless a volume is mounted there.
const stateRoot = "/flink-data"

// privateBinds adds to a container's volume binds a folder of its own (under privDir) at
// /flink-data and at the private root of each local path (state paths of its Flink config), unless
// a volume covers it: what a process writes there is lost with the container, as on a node.
// Volumes inside such a folder are mounted on top of it.
func privateBinds(volumes []bindMount, paths []string, privDir string) []bindMount {
	roots := []string{stateRoot}
	for _, p := range paths {
		if onBind(p, volumes) {
			continue // on a volume: it is the volume's
		}
		if r := privateRoot(p); r != "" {
			roots = append(roots, r)
		}
	}
	var out []bindMount
	seen := map[string]bool{}
	for _, r := range roots {
		if seen[r] || onBind(r, volumes) {
			continue
		}
		seen[r] = true
		out = append(out, bindMount{src: filepath.Join(privDir, filepath.FromSlash(r[1:])), dst: r})
	}
	// A private root inside another (a state path /a/b after /a) is the outer one's folder.
	var binds []bindMount
	for _, b := range out {
		if !hiddenBy(b.dst, out) {
			binds = append(binds, b)
		}
	}
	return append(binds, volumes...)
}

// keepPaths are the host paths a pod's process needs whatever is mounted over them: the runner's
// folders (pods, volumes), the Flink releases, java, and the program's own installation.
func (r *runner) keepPaths(prog string) []string {
	r.keepOnce.Do(func() {
		r.keep = []string{r.workdir, r.flinkCache, os.Getenv("JAVA_HOME"), installDir(r.java), installDir(r.kubectl)}
	})
	out := append([]string{}, r.keep...)
	out = append(out, installDir(prog))
	seen := map[string]bool{}
	var res []string
	for _, p := range out {
		if p == "" || !filepath.IsAbs(p) || seen[p] {
			continue
		}
		seen[p] = true
		res = append(res, filepath.Clean(p))
	}
	return res
}

// installDir is the installation a program belongs to: the folder above its bin/ (a JDK), else
// its own folder; "" when it is not found.
func installDir(bin string) string {
	if bin == "" {
		return ""
	}
	p, err := exec.LookPath(bin)
	if err != nil {
		return ""
	}
	if real, err := filepath.EvalSymlinks(p); err == nil {
		p = real
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	d := filepath.Dir(p)
	if filepath.Base(d) == "bin" {
		d = filepath.Dir(d)
	}
	return d
}

// selfExe is this program, which runs mount-exec.
var selfExe = sync.OnceValues(os.Executable)
