package schema

import (
	"fmt"
	"strings"
)

// FileSystem is one of Flink's object-store file systems: a plugin jar in the image's opt/
// folder (flink-<Plugin>-<version>.jar), the URI schemes it serves and where its credentials come
// from. The charts hold the same table (flink.fileSystems in flink-common); charts/storage_test.go
// holds the two together.
type FileSystem struct {
	Plugin  string
	Schemes []string
	// Secret: the key pair can come from objectStorage.credentials.secretName (the AWS_* env).
	Secret bool
	// Identity is the ServiceAccount annotation of the cloud identity that provides credentials.
	Identity string
}

// FileSystems are the object stores the charts enable. s3:// is served by both S3 plugins; with
// both enabled state must name one by its own scheme (s3p://, s3a://).
var FileSystems = []FileSystem{
	{Plugin: "s3-fs-presto", Schemes: []string{"s3", "s3p"}, Secret: true, Identity: "eks.amazonaws.com/role-arn"},
	{Plugin: "s3-fs-hadoop", Schemes: []string{"s3", "s3a"}, Secret: true, Identity: "eks.amazonaws.com/role-arn"},
	{Plugin: "gs-fs-hadoop", Schemes: []string{"gs"}, Identity: "iam.gke.io/gcp-service-account"},
	{Plugin: "azure-fs-hadoop", Schemes: []string{"abfs", "abfss", "wasb", "wasbs"}, Identity: "azure.workload.identity/client-id"},
	{Plugin: "oss-fs-hadoop", Schemes: []string{"oss"}},
}

// Scheme is the lower-case scheme of a URI ("" for a path or a non-URI).
func Scheme(uri string) string {
	s, _, ok := strings.Cut(strings.TrimSpace(uri), "://")
	if !ok || s == "" || strings.ContainsAny(s, "/ ") {
		return ""
	}
	return strings.ToLower(s)
}

// ObjectStore says whether uri is on an object store the charts enable (s3://, gs://, abfs://…).
func ObjectStore(uri string) bool { return len(objectStore(Scheme(uri))) > 0 }

// objectStore: the file systems that serve scheme (nil for file://, hdfs:// and what Flink has
// built in).
func objectStore(scheme string) []FileSystem {
	var out []FileSystem
	for _, fs := range FileSystems {
		for _, s := range fs.Schemes {
			if s == scheme {
				out = append(out, fs)
			}
		}
	}
	return out
}

// Storage is what a release's values give its pods for object storage.
type Storage struct {
	// Plugins are the file systems the pods enable (objectStorage.plugins), in FileSystems' order.
	Plugins []string
	// The credential sources configured.
	secret, fromEnv bool
	annotations     map[string]bool
}

// StateLocations are the values naming where a release keeps or reads state, path → URI: the
// checkpoint and savepoint options, the HA storage dir the chart passes, the periodic savepoints'
// dir and flink-job's job.fromSavepoint.
func StateLocations(vals map[string]any) map[string]string {
	c := &checker{vals: vals}
	c.conf, _ = asMap(vals["flinkConfiguration"])
	out := map[string]string{}
	for _, k := range append(append([]string(nil), stateKeys...), "high-availability.storageDir") {
		if v, at, ok := c.confValue(k); ok && v != "" {
			out[at] = v
		}
	}
	if _, set := out[confPath("high-availability.storageDir")]; !set && c.boolean("highAvailability", "enabled") {
		if d := c.str("highAvailability", "storageDir"); d != "" {
			out["highAvailability.storageDir"] = d
		}
	}
	if d := c.str("periodicSavepoints", "dir"); d != "" && c.boolean("periodicSavepoints", "enabled") {
		out["periodicSavepoints.dir"] = d
	}
	if c.isJob() {
		if d := c.str("job", "fromSavepoint"); d != "" {
			out["job.fromSavepoint"] = d
		}
	}
	return out
}

// StorageOf reads the object storage of a release's coalesced values.
func StorageOf(vals map[string]any) Storage {
	c := &checker{vals: vals}
	st := Storage{
		secret:      c.str("objectStorage", "credentials", "secretName") != "",
		fromEnv:     c.boolean("objectStorage", "credentials", "fromEnvironment"),
		annotations: map[string]bool{},
	}
	if a, ok := asMap(c.val("serviceAccount", "annotations")); ok {
		for k, v := range a {
			if s, _ := v.(string); s != "" {
				st.annotations[k] = true
			}
		}
	}
	enabled := map[string]bool{}
	for _, p := range c.list("objectStorage", "plugins") {
		if s, ok := p.(string); ok {
			enabled[s] = true
		}
	}
	for _, fs := range FileSystems {
		if enabled[fs.Plugin] {
			st.Plugins = append(st.Plugins, fs.Plugin)
		}
	}
	return st
}

// Writable says why the release's pods cannot use uri (flag or value path at), nil when they can
// (or when it is not on an object store).
func (st Storage) Writable(at, uri string) *Problem {
	scheme := Scheme(uri)
	fss := objectStore(scheme)
	if len(fss) == 0 {
		return nil
	}
	enabled := map[string]bool{}
	for _, p := range st.Plugins {
		enabled[p] = true
	}
	var serving []FileSystem
	for _, fs := range fss {
		if enabled[fs.Plugin] {
			serving = append(serving, fs)
		}
	}
	switch {
	case len(serving) == 0:
		names := make([]string, len(fss))
		for i, fs := range fss {
			names[i] = fs.Plugin
		}
		return &Problem{Path: at, Message: fmt.Sprintf("the release's pods have no file system for %s:// (Flink would fail with \"Could not find a file system implementation for scheme '%s'\")", scheme, scheme),
			Got: show(uri), Want: "objectStorage.plugins: [" + strings.Join(names, "] or [") + "], and its credentials (objectStorage.credentials)"}
	case len(serving) > 1:
		return &Problem{Path: at, Message: "s3:// is served by both s3-fs-presto and s3-fs-hadoop, and Flink picks either",
			Got: show(uri), Want: "s3p://… (s3-fs-presto, for checkpoints and savepoints) or s3a://… (s3-fs-hadoop)"}
	}
	fs := serving[0]
	if st.fromEnv || (fs.Identity != "" && st.annotations[fs.Identity]) || (fs.Secret && st.secret) {
		return nil
	}
	var want []string
	if fs.Secret {
		want = append(want, "objectStorage.credentials.secretName (a Secret with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
	}
	if fs.Identity != "" {
		want = append(want, "serviceAccount.annotations."+fs.Identity+" (the pods' cloud identity)")
	}
	want = append(want, "objectStorage.credentials.fromEnvironment: true (the nodes provide them)")
	return &Problem{Path: at, Message: fmt.Sprintf("no credentials for %s:// (%s): Flink fails at the first checkpoint or savepoint", scheme, fs.Plugin),
		Got: show(uri), Want: strings.Join(want, ", or ")}
}

// objectStorage refuses state locations the release's pods could not write.
func (c *checker) objectStorage() {
	st := StorageOf(c.vals)
	locs := StateLocations(c.vals)
	for at, uri := range locs {
		if !c.clean(at) {
			continue
		}
		if p := st.Writable(at, uri); p != nil {
			c.add(*p)
		}
	}
	if c.opts.SavepointDir != "" && c.clean("--savepoint-dir") {
		if p := st.Writable("--savepoint-dir", c.opts.SavepointDir); p != nil {
			c.add(*p)
		}
	}
	if c.opts.SavepointPath != "" && c.clean("--savepoint") {
		if p := st.Writable("--savepoint", c.opts.SavepointPath); p != nil {
			c.add(*p)
		}
	}
}
