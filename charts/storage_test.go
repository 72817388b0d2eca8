package charts

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/helm-flink/helm-flink/schema"
)

// flinkContainer is the Flink container of a pod spec the charts render, nil for the hooks'.
func flinkContainer(spec corev1.PodSpec) *corev1.Container {
	for i, c := range spec.Containers {
		if c.Name == "jobmanager" || c.Name == "taskmanager" || c.Name == "flink-main-container" {
			return &spec.Containers[i]
		}
	}
	return nil
}

// The chart and `helm flink validate` (schema.StorageOf and Storage.Writable) share one table of
// file systems and one rule: with objectStorage.plugins set both refuse the same state locations
// in the same words; without, the chart renders (an image may carry the plugin, as before 0.6) and
// warns, while the plugin refuses.
func TestObjectStorageRefusedAlike(t *testing.T) {
	creds := "objectStorage.credentials.secretName=s3"
	type storageCase struct {
		name     string
		set      []string
		want     string // the field named; "" when fine
		chartToo bool   // the chart refuses as well
	}
	cases := []storageCase{
		{"s3 with presto and a Secret", []string{"flinkConfiguration.state\\.checkpoints\\.dir=s3://b/c", "objectStorage.plugins={s3-fs-presto}", creds}, "", false},
		{"s3a with hadoop, nodes' credentials", []string{"flinkConfiguration.state\\.savepoints\\.dir=s3a://b/s", "objectStorage.plugins={s3-fs-hadoop}", "objectStorage.credentials.fromEnvironment=true"}, "", false},
		{"gs with workload identity", []string{"flinkConfiguration.state\\.savepoints\\.dir=gs://b/s", "objectStorage.plugins={gs-fs-hadoop}", "serviceAccount.annotations.iam\\.gke\\.io/gcp-service-account=f@p.iam.gserviceaccount.com"}, "", false},
		{"gs with the S3 Secret only", []string{"flinkConfiguration.state\\.savepoints\\.dir=gs://b/s", "objectStorage.plugins={gs-fs-hadoop}", creds}, "flinkConfiguration.state.savepoints.dir", true},
		{"HA on s3 without credentials", []string{"highAvailability.enabled=true", "highAvailability.storageDir=s3://b/ha", "objectStorage.plugins={s3-fs-presto}"}, "highAvailability.storageDir", true},
		{"s3 with both S3 plugins", []string{"flinkConfiguration.state\\.checkpoints\\.dir=s3://b/c", "objectStorage.plugins={s3-fs-presto,s3-fs-hadoop}", creds}, "flinkConfiguration.state.checkpoints.dir", true},
		{"s3p and s3a with both", []string{"flinkConfiguration.state\\.checkpoints\\.dir=s3p://b/c", "flinkConfiguration.state\\.savepoints\\.dir=s3a://b/s", "objectStorage.plugins={s3-fs-presto,s3-fs-hadoop}", creds}, "", false},
		{"s3 with no plugin", []string{"flinkConfiguration.state\\.checkpoints\\.dir=s3://b/c", creds}, "flinkConfiguration.state.checkpoints.dir", false},
		{"abfs with the S3 plugin", []string{"flinkConfiguration.state\\.checkpoints\\.dir=abfss://c@a.dfs.core.windows.net/x", "objectStorage.plugins={s3-fs-presto}", "objectStorage.credentials.fromEnvironment=true"}, "flinkConfiguration.state.checkpoints.dir", false},
		{"file state needs nothing", []string{"persistence.enabled=true", "objectStorage.plugins={s3-fs-presto}"}, "", false},
	}
	// And from the plugin's table itself: each file system's schemes, with its own credential
	// sources and without any.
	for _, fs := range schema.FileSystems {
		for _, scheme := range fs.Schemes {
			dir := "flinkConfiguration.state\\.savepoints\\.dir=" + scheme + "://b/s"
			base := []string{dir, "objectStorage.plugins={" + fs.Plugin + "}"}
			cases = append(cases, storageCase{fs.Plugin + " " + scheme + " without credentials", base, "flinkConfiguration.state.savepoints.dir", true})
			if fs.Identity != "" {
				cases = append(cases, storageCase{fs.Plugin + " " + scheme + " with its cloud identity", append(base, "serviceAccount.annotations."+strings.ReplaceAll(fs.Identity, ".", "\\.")+"=x"), "", false})
			}
			if fs.Secret {
				cases = append(cases, storageCase{fs.Plugin + " " + scheme + " with the Secret", append(base, creds), "", false})
			}
		}
	}
	for _, chart := range charts {
		ch := load(t, chart)
		for _, tc := range cases {
			t.Run(chart+"/"+tc.name, func(t *testing.T) {
				problems, rel, renderErr := checkAndRender(t, ch, tc.set)

				if !refusedAt(t, problems, renderErr, tc.want) {
					return
				}
				if !tc.chartToo {
					if renderErr != nil {
						t.Fatalf("the chart refuses (%v); want it to render and warn", renderErr)
					}
					if strings.Contains(problems[0].Message, "no file system") && !strings.Contains(rel.Info.Notes, "WARNING: "+tc.want+" is on ") {
						t.Fatalf("NOTES do not warn about %s:\n%s", tc.want, rel.Info.Notes)
					}
					return
				}
				if renderErr == nil || !strings.Contains(renderErr.Error(), problems[0].String()) {
					t.Fatalf("render error\n  %v\ndoes not say what the check says\n  %s", renderErr, problems[0])
				}
			})
		}
	}
}

// Every Flink pod (JobManager, TaskManager, the native TaskManagers' template) gets the plugins
// schema.StorageOf names, linked by the init container into the volume FLINK_PLUGINS_DIR names,
// and the key pair from the Secret; the S3 options reach the configuration; no secret value
// reaches a ConfigMap.
func TestObjectStoragePieces(t *testing.T) {
	set := []string{"objectStorage.plugins={s3-fs-hadoop,s3-fs-presto}", "objectStorage.credentials.secretName=s3",
		"objectStorage.s3.endpoint=http://seaweedfs.s3.svc:8333", "objectStorage.s3.pathStyleAccess=true",
		"flinkConfiguration.state\\.checkpoints\\.dir=s3p://flink/c"}
	for _, chart := range charts {
		for _, mode := range []string{"standalone", "native"} {
			t.Run(chart+"/"+mode, func(t *testing.T) {
				manifest := render(t, chart, nil, append(set, "mode="+mode)...)
				if !strings.Contains(manifest, "s3.endpoint: http://seaweedfs.s3.svc:8333") || !strings.Contains(manifest, "s3.path.style.access: true") {
					t.Fatalf("the configuration lacks the S3 options:\n%s", manifest)
				}
				seen := 0
				for _, p := range pods(t, manifest) {
					c := flinkContainer(p.spec)
					if c == nil {
						continue
					}
					seen++
					env := map[string]corev1.EnvVar{}
					for _, e := range c.Env {
						env[e.Name] = e
					}
					if env["FLINK_PLUGINS_DIR"].Value != "/opt/flink/plugins-enabled" {
						t.Errorf("%s: FLINK_PLUGINS_DIR %+v", p.where, env["FLINK_PLUGINS_DIR"])
					}
					for name, key := range map[string]string{"AWS_ACCESS_KEY_ID": "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY": "AWS_SECRET_ACCESS_KEY"} {
						ref := env[name].ValueFrom
						if ref == nil || ref.SecretKeyRef == nil || ref.SecretKeyRef.Name != "s3" || ref.SecretKeyRef.Key != key {
							t.Errorf("%s: %s %+v, want from Secret s3 key %s", p.where, name, env[name], key)
						}
					}
					if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool {
						return m.Name == "plugins" && m.MountPath == "/opt/flink/plugins-enabled" && m.ReadOnly
					}) {
						t.Errorf("%s: no read-only plugins mount: %+v", p.where, c.VolumeMounts)
					}
					i := slices.IndexFunc(p.spec.InitContainers, func(c corev1.Container) bool { return c.Name == "enable-plugins" })
					if i < 0 {
						t.Fatalf("%s: no enable-plugins init container", p.where)
					}
					init := p.spec.InitContainers[i]
					var plugins string
					for _, e := range init.Env {
						if e.Name == "PLUGINS" {
							plugins = e.Value
						}
					}
					if want := strings.Join([]string{"s3-fs-presto", "s3-fs-hadoop"}, " "); plugins != want {
						t.Errorf("%s: PLUGINS %q, want %q", p.where, plugins, want)
					}
					if init.Image != c.Image && c.Image != "" {
						t.Errorf("%s: init image %s, want the Flink image %s", p.where, init.Image, c.Image)
					}
				}
				if seen < 2 {
					t.Fatalf("%d Flink pods seen", seen)
				}
			})
		}
	}
}

// The init container's script, run against an image's layout: every plugin folder of plugins/
// and the named jars of opt/ end up as links to files in FLINK_PLUGINS_DIR; a name the image
// lacks stops the pod with the field named.
func TestPluginsScript(t *testing.T) {
	var script string
	for _, p := range pods(t, render(t, "flink-session", nil, "objectStorage.plugins={s3-fs-presto}", "objectStorage.credentials.fromEnvironment=true")) {
		for _, c := range p.spec.InitContainers {
			if c.Name == "enable-plugins" {
				script = c.Command[len(c.Command)-1]
			}
		}
	}
	if script == "" {
		t.Fatal("no enable-plugins init container")
	}
	home := t.TempDir()
	for _, f := range []string{"plugins/metrics-prometheus/flink-metrics-prometheus-1.20.0.jar", "plugins/README.txt", "opt/flink-s3-fs-presto-1.20.0.jar", "opt/flink-s3-fs-hadoop-1.20.0.jar"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(home, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(home, f), []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	env := []string{"FLINK_HOME=" + home, "FLINK_PLUGINS_DIR=" + dir, "PLUGINS=s3-fs-presto"}
	runIn(t, t.TempDir(), env, "sh", script)
	for link, target := range map[string]string{
		"metrics-prometheus/flink-metrics-prometheus-1.20.0.jar": "plugins/metrics-prometheus/flink-metrics-prometheus-1.20.0.jar",
		"s3-fs-presto/flink-s3-fs-presto-1.20.0.jar":             "opt/flink-s3-fs-presto-1.20.0.jar",
	} {
		got, err := os.Readlink(filepath.Join(dir, link))
		if err != nil || got != filepath.Join(home, target) {
			t.Errorf("%s -> %q (%v), want %s", link, got, err, filepath.Join(home, target))
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "s3-fs-hadoop")); err == nil {
		t.Error("s3-fs-hadoop linked, not named")
	}

	cmd := exec.Command("sh", "-c", script)
	cmd.Env = []string{"FLINK_HOME=" + home, "FLINK_PLUGINS_DIR=" + t.TempDir(), "PLUGINS=oss-fs-hadoop", "PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "objectStorage.plugins: oss-fs-hadoop: this image has no "+home+"/opt/flink-oss-fs-hadoop-<version>.jar") {
		t.Fatalf("a plugin the image lacks: %v\n%s", err, out)
	}
}
