package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"k8s.io/apimachinery/pkg/api/resource"
)

// CheckOptions are what the plugin's flags add to the chart's values.
type CheckOptions struct {
	// Jar is --jar: a local jar file (it must exist, be a jar and hold the entry class), an
	// http(s) URL (only its shape is checked: nothing is downloaded), or local:///path inside
	// the image (not checked).
	Jar string
	// EntryClass is --entry-class. Without it the entry class is flink-job's job.entryClass, else
	// the jar manifest's program-class or Main-Class.
	EntryClass string
	// Parallelism is --parallelism; 0 when not given.
	Parallelism int
	// SavepointPath is the savepoint to start from (--savepoint); "" when not given.
	SavepointPath string
	// SavepointDir is where a command stops jobs to (--savepoint-dir); "" when not given. A
	// file:// one must be on a volume every Flink pod mounts.
	SavepointDir string
	// ReleaseName, when known, lets the default kubernetes.cluster-id (the release's full name)
	// be checked.
	ReleaseName string
}

// Check validates a chart's values: the chart's values.schema.json (and its subcharts'), then
// what no schema can express — Flink memory against the container memory limits, task slots
// against the requested parallelism, the HA settings, the Flink version against the configuration,
// env the image's entrypoint cannot apply, the jar and its entry class, the savepoint path. vals are the coalesced values (see
// plugin/values); the chart is only read. It returns every problem, sorted by path; the error is
// for a chart whose schema cannot be used. The extra checks skip values the schema already
// rejected, so that nothing is reported twice.
func Check(ch *chart.Chart, vals map[string]any, opts CheckOptions) ([]Problem, error) {
	if ch == nil {
		return nil, errors.New("no chart")
	}
	if vals == nil {
		vals = map[string]any{}
	}
	schemaProblems, err := validateTree(ch, vals, "")
	if err != nil {
		return nil, err
	}
	c := &checker{vals: vals, opts: opts, chartName: ch.Name(), appVersion: ch.AppVersion(), defaults: ch.Values}
	c.conf, _ = asMap(vals["flinkConfiguration"])
	for _, p := range schemaProblems {
		c.schemaPaths = append(c.schemaPaths, p.Path)
		c.out = append(c.out, c.nestedConfig(p))
	}
	ver, ok := c.version()
	if ok {
		c.configForVersion(ver)
	}
	c.memory()
	c.parallelism()
	c.highAvailability()
	c.native()
	c.application()
	c.env()
	c.jar()
	c.savepoints()
	c.durableState(c.haDir, c.haDirPath)
	c.objectStorage()
	c.flinkOptionTypes()
	c.ownedOptions()

	return c.sorted(), nil
}

// CheckJob checks what a submission to a running cluster names, without chart values: the jar,
// its entry class and the savepoint path.
func CheckJob(opts CheckOptions) []Problem {
	c := &checker{vals: map[string]any{}, opts: opts}
	c.jar()
	c.savepoints()
	c.durableState(c.haDir, c.haDirPath)
	return c.sorted()
}

// sorted is the problems by path, without repeats.
func (c *checker) sorted() []Problem {
	sort.SliceStable(c.out, func(i, j int) bool { return c.out[i].Path < c.out[j].Path })
	out := c.out[:0]
	for i, p := range c.out {
		if i > 0 && p == c.out[i-1] {
			continue
		}
		out = append(out, p)
	}
	return out
}

// validateTree validates the chart's values against its schema and each subchart's values
// against the subchart's schema, as Helm does.
func validateTree(ch *chart.Chart, vals map[string]any, prefix string) ([]Problem, error) {
	var out []Problem
	if len(ch.Schema) > 0 {
		ps, err := Validate(ch.Schema, vals)
		if err != nil {
			return nil, &BadSchemaError{Chart: ch.Name(), Err: err}
		}
		for _, p := range ps {
			p.Path = strings.TrimSuffix(prefix+p.Path, ".")
			out = append(out, p)
		}
	}
	for _, sub := range ch.Dependencies() {
		sv, _ := asMap(vals[sub.Name()])
		if sv == nil {
			sv = map[string]any{}
		}
		ps, err := validateTree(sub, sv, prefix+sub.Name()+".")
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
	}
	return out, nil
}

type checker struct {
	chartName  string
	appVersion string // the chart's default Flink version
	// haDir is the HA storage dir Flink gets and haDirPath the value it comes from; "" without HA.
	haDir, haDirPath string
	vals             map[string]any
	conf             map[string]any // flinkConfiguration
	opts             CheckOptions
	schemaPaths      []string
	out              []Problem

	defaults map[string]any // the chart's values.yaml
}

func (c *checker) add(p Problem) { c.out = append(c.out, p) }

// clean says that the schema found nothing wrong at, above or below any of paths.
func (c *checker) clean(paths ...string) bool {
	for _, p := range paths {
		for _, s := range c.schemaPaths {
			if s == p || s == "" || strings.HasPrefix(p, s+".") || strings.HasPrefix(s, p+".") {
				return false
			}
		}
	}
	return true
}

func (c *checker) get(path ...string) (any, bool) { return lookup(c.vals, path...) }

func (c *checker) str(path ...string) string {
	v, _ := c.get(path...)
	s, _ := v.(string)
	return s
}

func (c *checker) integer(path ...string) (int64, bool) {
	v, ok := c.get(path...)
	if !ok {
		return 0, false
	}
	return Int(v)
}

func (c *checker) boolean(path ...string) bool {
	v, _ := c.get(path...)
	b, _ := v.(bool)
	return b
}

// confValue is a flinkConfiguration value as Flink reads it, and its path.
func (c *checker) confValue(key string) (string, string, bool) {
	v, ok := c.conf[key]
	if !ok || v == nil {
		return "", "", false
	}
	return scalarString(v), confPath(key), true
}

func confPath(key string) string { return "flinkConfiguration." + key }

// isJob: the flink-job chart (one application per release); else the session chart.
func (c *checker) isJob() bool {
	_, ok := asMap(c.vals["job"])
	return ok
}

// nestedConfig explains a nested map under flinkConfiguration: Flink keys are written dotted.
func (c *checker) nestedConfig(p Problem) Problem {
	key, ok := strings.CutPrefix(p.Path, "flinkConfiguration.")
	if !ok {
		return p
	}
	m, ok := asMap(c.conf[key])
	if !ok {
		return p
	}
	leaves := flatten(key, m)
	if len(leaves) == 0 {
		return p
	}
	return Problem{Path: p.Path, Message: "nested map: Flink configuration keys are written dotted", Got: "a map", Want: leaves[0]}
}

func flatten(prefix string, m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		if sub, ok := asMap(m[k]); ok {
			out = append(out, flatten(prefix+"."+k, sub)...)
			continue
		}
		out = append(out, prefix+"."+k+": "+scalarString(m[k]))
	}
	return out
}

// version is the Flink version the charts derive (flink.version in flink-common): flinkVersion,
// else the image tag's leading major.minor.
func (c *checker) version() (flinkVersion, bool) {
	fv, tag := c.str("flinkVersion"), c.str("image", "tag")
	if tag == "" {
		// flink.imageTag in flink-common: the chart's appVersion on Java 17.
		tag = c.appVersion + "-java17"
	}
	var ver flinkVersion
	path := "flinkVersion"
	if fv != "" {
		if !c.clean("flinkVersion") {
			return ver, false
		}
		v, ok := parseFlinkVersion(fv)
		if !ok {
			c.add(Problem{Path: "flinkVersion", Message: "not a Flink version", Got: show(fv), Want: "e.g. 1.20 or 2.1"})
			return ver, false
		}
		if tv, ok := parseFlinkVersion(tag); ok && tv != v && c.clean("image.tag") {
			c.add(Problem{Path: "flinkVersion", Message: "disagrees with the image tag; the chart writes the configuration file for flinkVersion",
				Got: show(fv), Want: fmt.Sprintf("%s, as image.tag %q says", tv, tag)})
		}
		ver = v
	} else {
		if !c.clean("image.tag") {
			return ver, false
		}
		v, ok := parseFlinkVersion(tag)
		if !ok {
			c.add(Problem{Path: "image.tag", Message: "names no Flink version and flinkVersion is not set",
				Got: show(tag), Want: "a tag starting with the version (e.g. 1.20-java17), or flinkVersion (e.g. 1.20)"})
			return ver, false
		}
		ver, path = v, "image.tag"
	}
	if ver.major != 1 && ver.major != 2 {
		c.add(Problem{Path: path, Message: "Flink version the charts do not support", Got: ver.String(), Want: "1.x or 2.x"})
		return ver, false
	}
	return ver, true
}

// configForVersion checks flinkConfiguration against what the Flink version reads: Flink 2 no
// longer knows keys removed in 2.0 (it ignores them); Flink before 1.19 reads the line-based
// flink-conf.yaml, where '#' starts a comment, a value cannot span lines and an empty value is
// skipped.
func (c *checker) configForVersion(ver flinkVersion) {
	keys := make([]string, 0, len(c.conf))
	for k := range c.conf {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		path := confPath(key)
		if !c.clean(path) {
			continue
		}
		if ver.major >= 2 {
			if repl, ok := removedIn2[key]; ok {
				want := "the key removed"
				if repl != "" {
					want = repl + " instead"
				}
				c.add(Problem{Path: path, Message: fmt.Sprintf("removed in Flink 2.0; Flink %s ignores it", ver), Want: want})
			}
			continue
		}
		if ver.atLeast(1, 19) {
			continue
		}
		s, isString := c.conf[key].(string)
		if !isString {
			continue
		}
		legacy := fmt.Sprintf("Flink %s reads flink-conf.yaml", ver)
		switch {
		case strings.ContainsAny(s, "\r\n"):
			c.add(Problem{Path: path, Message: legacy + ", where a value cannot span lines", Got: show(s), Want: "one line, or Flink 1.19 or later, which reads config.yaml"})
		case strings.Contains(s, "#"):
			c.add(Problem{Path: path, Message: legacy + ", where # starts a comment: the value would be cut there", Got: show(s), Want: "no #, or Flink 1.19 or later, which reads config.yaml"})
		case strings.TrimSpace(s) == "":
			c.add(Problem{Path: path, Message: legacy + ", whose parser skips an empty value", Want: "a value, or the key removed"})
		}
	}
}

// memory: a Flink process must fit its container. With explicit resources the limit is
// resources.limits.memory; without, the chart sets the limit from memoryProcessSize, and a
// flinkConfiguration *.memory.process.size (which wins in the Flink configuration) must not
// exceed it.
func (c *checker) memory() {
	for _, comp := range []string{"jobmanager", "taskmanager"} {
		if comp == "taskmanager" && c.isNative() {
			continue // Flink sizes the pods it creates by the process size (see native)
		}
		mpsPath := comp + ".memoryProcessSize"
		mps := c.str(comp, "memoryProcessSize")
		procPath, procStr := mpsPath, mps
		if s, p, ok := c.confValue(comp + ".memory.process.size"); ok {
			procPath, procStr = p, s
		}
		if procStr == "" || !c.clean(procPath) {
			continue
		}
		proc, ok := parseFlinkMemory(procStr)
		if !ok {
			c.add(Problem{Path: procPath, Message: "not a Flink memory size", Got: show(procStr), Want: "e.g. 1728m or 2g"})
			continue
		}
		resV, _ := c.get(comp, "resources")
		res, _ := asMap(resV)
		if len(res) == 0 {
			if procPath == mpsPath || !c.clean(mpsPath) {
				continue
			}
			if lim, ok := parseFlinkMemory(mps); ok && proc > lim {
				c.add(Problem{Path: procPath, Message: fmt.Sprintf("Flink process memory exceeds the container memory limit the chart sets from %s", mpsPath),
					Got: show(procStr), Want: fmt.Sprintf("at most %s, or %s set instead", mps, mpsPath)})
			}
			continue
		}
		resPath := comp + ".resources"
		if !c.clean(resPath) {
			continue
		}
		limV, hasLimit := lookup(res, "limits", "memory")
		lim, limOK := quantityBytes(limV)
		if hasLimit && limOK && proc > lim {
			c.add(Problem{Path: procPath, Message: fmt.Sprintf("Flink process memory exceeds the container memory limit %s.limits.memory", resPath),
				Got: fmt.Sprintf("%s = %s", procStr, binaryQuantity(proc)), Want: "at most " + quantityWant(limV)})
		}
		reqV, hasReq := lookup(res, "requests", "memory")
		if req, ok := quantityBytes(reqV); hasReq && ok && hasLimit && limOK && req > lim {
			c.add(Problem{Path: resPath + ".requests.memory", Message: "memory request above the memory limit: Kubernetes rejects the pod",
				Got: scalarString(reqV), Want: "at most " + quantityWant(limV)})
		}
	}
}

// quantityWant shows a memory limit; a lowercase m is Kubernetes' milli, a classic slip.
func quantityWant(v any) string {
	s := scalarString(v)
	if strings.HasSuffix(s, "m") {
		return fmt.Sprintf("%s, which Kubernetes reads as millibytes: write %sMi", s, s[:len(s)-1])
	}
	return s
}

// quantityBytes reads a Kubernetes memory quantity (2Gi, 1600Mi, 2G, or a number of bytes).
func quantityBytes(v any) (int64, bool) {
	switch x := v.(type) {
	case string:
		q, err := resource.ParseQuantity(strings.TrimSpace(x))
		if err != nil {
			return 0, false
		}
		return q.Value(), true
	case nil:
		return 0, false
	}
	n, ok := asFloat(v)
	if !ok || n < 0 || n > math.MaxInt64/2 {
		return 0, false
	}
	return int64(math.Ceil(n)), true
}

// Slots are the task slots a cluster's values give it: TaskManagers × slots each, with the values
// paths they come from.
type Slots struct {
	TaskManagersPath string
	TaskManagers     int64
	SlotsPath        string
	Slots            int64
}

// Total is TaskManagers × Slots.
func (s Slots) Total() int64 { return s.TaskManagers * s.Slots }

// Rule is where Total comes from: "taskmanager.replicas 2 × taskmanager.numberOfTaskSlots 2".
func (s Slots) Rule() string {
	return fmt.Sprintf("%s %d × %s %d", s.TaskManagersPath, s.TaskManagers, s.SlotsPath, s.Slots)
}

func (s Slots) String() string { return fmt.Sprintf("%d = %s", s.Total(), s.Rule()) }

// TaskSlots are the most task slots a release's coalesced values give its cluster; false when
// they set no bound (native mode without native.maxTaskManagers) or say nothing usable. The one
// rule for the values check at install and the refusal of a job too wide at submit.
func TaskSlots(vals map[string]any) (Slots, bool) {
	c := &checker{vals: vals}
	c.conf, _ = asMap(vals["flinkConfiguration"])
	return c.taskSlots()
}

// taskSlots: taskmanager.replicas (native.maxTaskManagers in native mode, where Flink creates
// TaskManagers as jobs need slots and 0 sets no limit) × taskmanager.numberOfTaskSlots, which
// flinkConfiguration may set instead. A value the schema check refused gives none; a slots
// override that is not a number is a problem.
func (c *checker) taskSlots() (Slots, bool) {
	var s Slots
	var ok bool
	if c.isNative() {
		s.TaskManagersPath = "native.maxTaskManagers"
		if s.TaskManagers, ok = c.integer("native", "maxTaskManagers"); ok && s.TaskManagers == 0 {
			return s, false
		}
	} else {
		s.TaskManagersPath = "taskmanager.replicas"
		s.TaskManagers, ok = c.integer("taskmanager", "replicas")
	}
	if !ok || !c.clean(s.TaskManagersPath) {
		return s, false
	}
	s.SlotsPath = "taskmanager.numberOfTaskSlots"
	s.Slots, ok = c.integer("taskmanager", "numberOfTaskSlots")
	if v, p, found := c.confValue("taskmanager.numberOfTaskSlots"); found {
		s.SlotsPath = p
		s.Slots, ok = Int(v)
		if c.clean(p) && (!ok || s.Slots < 1) {
			c.add(Problem{Path: p, Message: "not a number of task slots", Got: show(v), Want: "a whole number, at least 1"})
			return s, false
		}
	}
	return s, ok && c.clean(s.SlotsPath)
}

// parallelism: the TaskManagers' slots (replicas × numberOfTaskSlots) must cover every
// parallelism asked for; in reactive mode the job takes what there is.
func (c *checker) parallelism() {
	if c.boolean("reactiveMode") {
		return
	}
	if s, _, ok := c.confValue("scheduler-mode"); ok && strings.EqualFold(s, "reactive") {
		return
	}
	sl, ok := c.taskSlots()
	if !ok {
		return
	}
	total := sl.Total()

	type need struct {
		path string
		n    int64
	}
	var needs []need
	if c.opts.Parallelism > 0 {
		needs = append(needs, need{"--parallelism", int64(c.opts.Parallelism)})
	}
	if s, p, found := c.confValue("parallelism.default"); found {
		if n, ok := Int(s); ok && c.clean(p) {
			needs = append(needs, need{p, n})
		}
	} else if n, ok := c.integer("parallelism"); ok && n > 0 && c.clean("parallelism") {
		needs = append(needs, need{"parallelism", n})
	}
	submitting := !c.isJob() && c.boolean("submit", "enabled")
	if submitting {
		if n, ok := c.integer("submit", "parallelism"); ok && n > 0 && c.clean("submit.parallelism") {
			needs = append(needs, need{"submit.parallelism", n})
		}
	}
	want := "at most " + sl.String()
	for _, nd := range needs {
		if nd.n > total {
			c.add(Problem{Path: nd.path, Message: "parallelism above the task slots of the cluster: the job would wait for slots that never come",
				Got: strconv.FormatInt(nd.n, 10), Want: want})
		}
	}
	if total == 0 && len(needs) == 0 && (c.isJob() || submitting) {
		c.add(Problem{Path: "taskmanager.replicas", Message: "no task slots: the job cannot run", Got: "0", Want: "at least 1"})
	}
}

// highAvailability: Kubernetes HA needs the chart's switch (RBAC, ServiceAccount token, the
// JobManager's pod-IP address, cluster-id), a storage dir Flink can write to, and a valid
// cluster-id; standby JobManagers need HA.
func (c *checker) highAvailability() {
	switchOn := c.boolean("highAvailability", "enabled")
	haType, haTypePath, haTypeSet := c.confValue("high-availability.type")
	if !haTypeSet { // the deprecated key, still read by Flink 1.x and 2.x
		haType, haTypePath, haTypeSet = c.confValue("high-availability")
	}
	k8sType := haTypeSet && (strings.EqualFold(haType, "kubernetes") ||
		haType == "org.apache.flink.kubernetes.highavailability.KubernetesHaServicesFactory")
	typeClean := haTypeSet && c.clean(haTypePath)
	switch {
	case !switchOn && k8sType && typeClean:
		c.add(Problem{Path: haTypePath, Message: "Kubernetes HA without the chart's switch: the pods get no ConfigMap permissions, no ServiceAccount token and no pod-IP rpc address",
			Got: show(haType), Want: "highAvailability.enabled: true instead"})
	case switchOn && haTypeSet && !k8sType && typeClean:
		c.add(Problem{Path: haTypePath, Message: "overrides the Kubernetes HA that highAvailability.enabled sets up",
			Got: show(haType), Want: "kubernetes, or the key removed"})
	}
	ha := (switchOn && (!haTypeSet || k8sType)) || k8sType

	if ha {
		dir, dirPath, ok := c.confValue("high-availability.storageDir")
		if !ok {
			dir, dirPath = c.str("highAvailability", "storageDir"), "highAvailability.storageDir"
			if !switchOn {
				// The chart passes highAvailability.storageDir to Flink only with the switch on.
				dir, dirPath = "", confPath("high-availability.storageDir")
			}
		}
		if c.clean(dirPath, "highAvailability.enabled") {
			why := storageURIProblem(dir)
			if why == "" {
				c.haDir, c.haDirPath = dir, dirPath
			}
			if why != "" {
				got := ""
				if dir != "" {
					got = show(dir)
				}
				c.add(Problem{Path: dirPath, Message: "HA storage dir " + why, Got: got,
					Want: storageURIWant(dir, "a durable URI every Flink pod reaches, e.g. s3://bucket/flink/ha or file:///flink-data/ha")})
			}
		}
		c.clusterID(switchOn)
	} else if c.isNative() {
		c.clusterID(true)
	}

	if n, ok := c.integer("jobmanager", "replicas"); ok && n > 1 && !ha && c.clean("jobmanager.replicas", "highAvailability.enabled") {
		c.add(Problem{Path: "jobmanager.replicas", Message: "standby JobManagers need high availability: without it every replica leads a cluster of its own behind the same service",
			Got: strconv.FormatInt(n, 10), Want: "1, or highAvailability.enabled: true"})
	}
}

// clusterID checks the kubernetes.cluster-id Flink gets: a flinkConfiguration override (which the
// chart's HA cleanup hook and RBAC do not know, nor, in native mode, the names of the JobManager
// Deployment, Services and ConfigMap), highAvailability.clusterId, or the release's full name.
// switchOn: the chart sets the cluster-id (HA switch or native mode).
func (c *checker) clusterID(switchOn bool) {
	if id, p, ok := c.confValue("kubernetes.cluster-id"); ok {
		if !c.clean(p) {
			return
		}
		if switchOn && c.isNative() {
			c.add(Problem{Path: p, Message: "overrides the cluster-id the chart names the JobManager Deployment, its Services and the Flink ConfigMap after: Flink looks them up by it",
				Got: show(id), Want: "highAvailability.clusterId instead"})
			return
		}
		if switchOn {
			c.add(Problem{Path: p, Message: "overrides the cluster-id the chart's HA cleanup hook selects Flink's ConfigMaps by",
				Got: show(id), Want: "highAvailability.clusterId instead"})
			return
		}
		if why := clusterIDProblem(id); why != "" {
			c.add(Problem{Path: p, Message: "cluster-id " + why, Got: show(id), Want: clusterIDWant})
		}
		return
	}
	if !switchOn || c.str("highAvailability", "clusterId") != "" { // the schema checks an explicit one
		return
	}
	id, from := c.fullname()
	if id == "" || !c.clean("highAvailability.clusterId", from) {
		return
	}
	if why := clusterIDProblem(id); why != "" {
		c.add(Problem{Path: "highAvailability.clusterId", Message: "unset, and the default cluster-id (the full name, from " + from + ") " + why,
			Got: show(id), Want: "highAvailability.clusterId set: " + clusterIDWant})
	}
}

const clusterIDWant = "lowercase letters, digits and '-', at most 45 characters"

func clusterIDProblem(id string) string {
	switch {
	case len(id) > maxClusterID:
		return fmt.Sprintf("is longer than Flink's %d characters", maxClusterID)
	case !clusterIDPattern.MatchString(id):
		return "is not a DNS label"
	}
	return ""
}

// fullname is flink.fullname of flink-common: fullnameOverride, else the release name, with
// the chart name appended unless it is in there; cut at 50 characters. "" when the release name
// is needed and unknown.
func (c *checker) fullname() (string, string) {
	cut := func(s string) string {
		if len(s) > 50 {
			s = s[:50]
		}
		return strings.TrimSuffix(s, "-")
	}
	if o := c.str("fullnameOverride"); o != "" {
		return cut(o), "fullnameOverride"
	}
	rel := c.opts.ReleaseName
	if rel == "" {
		return "", ""
	}
	name := c.str("nameOverride")
	if name == "" {
		name = c.chartName
	}
	if len(name) > 63 {
		name = name[:63]
	}
	name = strings.TrimSuffix(name, "-")
	if strings.Contains(rel, name) {
		return cut(rel), "the release name"
	}
	return cut(rel + "-" + name), "the release name"
}

// jar checks --jar and the entry class: a local jar must exist, be a jar, and hold the entry
// class (--entry-class, flink-job's job.entryClass, or the manifest's).
func (c *checker) jar() {
	jar := strings.TrimSpace(c.opts.Jar)
	if c.opts.EntryClass != "" && !javaClassName.MatchString(c.opts.EntryClass) {
		c.add(Problem{Path: "--entry-class", Message: "not a Java class name", Got: show(c.opts.EntryClass), Want: "e.g. org.example.MyJob"})
	}
	if jar == "" {
		return
	}
	lower := strings.ToLower(jar)
	switch {
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
		u, err := url.Parse(jar)
		switch {
		case err != nil:
			c.add(Problem{Path: "--jar", Message: "not a URL: " + err.Error(), Got: show(jar)})
		case u.Host == "":
			c.add(Problem{Path: "--jar", Message: "URL without a host", Got: show(jar), Want: "e.g. https://repo.example.com/jobs/my-job.jar"})
		case !strings.HasSuffix(u.Path, ".jar"):
			c.add(Problem{Path: "--jar", Message: "URL path does not name a .jar file", Got: show(jar), Want: "e.g. https://repo.example.com/jobs/my-job.jar"})
		}
		return
	case strings.HasPrefix(lower, "local://"):
		if !strings.HasPrefix(jar, "local:///") || !strings.HasSuffix(jar, ".jar") {
			c.add(Problem{Path: "--jar", Message: "not a jar path in the image", Got: show(jar), Want: "local:///opt/flink/usrlib/<name>.jar"})
		}
		return
	case uriLike.MatchString(lower):
		c.add(Problem{Path: "--jar", Message: "unsupported URL scheme", Got: show(jar), Want: "a local file, an http(s) URL or local:///path/in/image.jar"})
		return
	}

	st, err := os.Stat(jar)
	switch {
	case err != nil && os.IsNotExist(err):
		c.add(Problem{Path: "--jar", Message: "no such file", Got: show(jar)})
		return
	case err != nil:
		c.add(Problem{Path: "--jar", Message: "cannot read the file: " + err.Error(), Got: show(jar)})
		return
	case st.IsDir():
		c.add(Problem{Path: "--jar", Message: "a directory, not a jar", Got: show(jar)})
		return
	}
	if !strings.HasSuffix(jar, ".jar") {
		// Flink's REST API refuses uploads whose names do not end in .jar.
		c.add(Problem{Path: "--jar", Message: "file name does not end in .jar, which Flink's upload refuses", Got: show(jar)})
	}
	info, err := readJar(jar)
	if err != nil {
		c.add(Problem{Path: "--jar", Message: "not a valid jar: " + err.Error(), Got: show(jar)})
		return
	}

	entry, entryPath := c.opts.EntryClass, "--entry-class"
	if entry == "" && c.isJob() {
		entry, entryPath = c.str("job", "entryClass"), "job.entryClass"
		if !c.clean(entryPath) {
			return
		}
	}
	if entry == "" {
		if info.entry == "" {
			c.add(Problem{Path: "--jar", Message: "no entry class: the manifest names none and --entry-class is not given",
				Got: show(jar), Want: "--entry-class, or a jar whose manifest has Main-Class or program-class"})
			return
		}
		entry, entryPath = info.entry, "--jar"
	}
	if !javaClassName.MatchString(entry) {
		if entryPath == "--jar" {
			c.add(Problem{Path: "--jar", Message: "the manifest's " + info.entryAttr + " is not a Java class name", Got: show(entry)})
		}
		return // --entry-class was reported above, job.entryClass by the schema
	}
	if info.classes[entry] {
		return
	}
	p := Problem{Path: entryPath, Message: "entry class not in the jar", Got: entry}
	if entryPath == "--jar" {
		p.Message = "the manifest's " + info.entryAttr + " names a class the jar does not hold"
	}
	if s := info.similarClasses(entry); len(s) > 0 {
		p.Message += " (did you mean " + strings.Join(s, " or ") + "?)"
	} else if info.entry != "" && info.entry != entry && info.classes[info.entry] {
		p.Want = info.entry + ", the manifest's " + info.entryAttr
	}
	c.add(p)
}

// savepoints checks where a job starts from: --savepoint and flink-job's job.fromSavepoint
// must be absolute paths or URIs of a file system Flink reads.
func (c *checker) savepoints() {
	check := func(path, s string) {
		if s == "" || !c.clean(path) {
			return
		}
		why := ""
		switch {
		case strings.HasPrefix(s, "/"):
		case strings.HasPrefix(s, "file:/") && !strings.HasPrefix(s, "file://"):
			// How Flink reports a savepoint's location (file:/flink-data/savepoints/savepoint-…).
		case strings.Contains(s, "://"):
			why = storageURIProblem(s)
		default:
			why = "is neither an absolute path nor a URI"
		}
		if why != "" {
			c.add(Problem{Path: path, Message: "savepoint path " + why, Got: show(s),
				Want: storageURIWant(s, "e.g. s3://bucket/savepoints/savepoint-1a2b3c-0123456789ab or file:///flink-data/savepoints/savepoint-1a2b3c-0123456789ab")})
		}
	}
	check("--savepoint", c.opts.SavepointPath)
	if c.isJob() {
		check("job.fromSavepoint", c.str("job", "fromSavepoint"))
	}
}

// lookup walks nested maps.
func lookup(m map[string]any, path ...string) (any, bool) {
	var cur any = m
	for _, k := range path {
		mm, ok := asMap(cur)
		if !ok {
			return nil, false
		}
		cur, ok = mm[k]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

func asMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case chartutil.Values:
		return m, true
	}
	return nil, false
}

// asInt reads a whole number: Go integers, integral floats, JSON numbers, numeric strings.
// Int is a values number as YAML, JSON or a Flink option string gives it; false for anything
// that is not a whole number.
func Int(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case uint:
		return int64(x), true
	case uint64:
		return int64(x), true
	case uint32:
		return int64(x), true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), true
		}
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		return n, err == nil
	}
	return 0, false
}

func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	n, ok := Int(v)
	return float64(n), ok
}

// scalarString renders a configuration value as it appears in the Flink configuration.
func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
