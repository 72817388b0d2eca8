package charts

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/releaseutil"
	"sigs.k8s.io/yaml"
)

var record = flag.Bool("record", false, "record the charts' current versions as released (releases.yaml) and keep their packages in testdata/released")

// releasesFile is the release record: every released version of each chart with a digest of its
// content. It travels with the repository, where git tags may not.
const releasesFile = "releases.yaml"

type release struct {
	Version string `json:"version"`
	// Digest of every file the package holds (the library chart's included), see contentDigest.
	Digest string `json:"digest"`
	// Digest of the artifacthub.io/changes annotation the version was released with.
	Changes string `json:"changes"`
}

type releases map[string][]release

func readReleases(t *testing.T) releases {
	t.Helper()
	data, err := os.ReadFile(releasesFile)
	if err != nil {
		t.Fatal(err)
	}
	var r releases
	if err := yaml.UnmarshalStrict(data, &r); err != nil {
		t.Fatalf("%s: %v", releasesFile, err)
	}
	return r
}

// contentDigest hashes what the chart's package ships, file by file as Helm's chartutil.Save
// writes them (Chart.yaml as Helm serialises it, values.yaml, the schema, templates, other files,
// the library chart), so that a chart folder and its package have the same digest.
func contentDigest(ch *chart.Chart) string {
	h := sha256.New()
	add := func(name string, data []byte) {
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(data))
		h.Write(data)
	}
	var walk func(prefix string, c *chart.Chart)
	walk = func(prefix string, c *chart.Chart) {
		md, err := yaml.Marshal(c.Metadata)
		if err != nil {
			panic(err) // metadata Helm loaded always marshals
		}
		add(prefix+"Chart.yaml", md)
		files := map[string][]byte{}
		for _, f := range c.Raw {
			if f.Name == chartutil.ValuesfileName {
				files[f.Name] = f.Data
			}
		}
		if c.Schema != nil {
			files[chartutil.SchemafileName] = c.Schema
		}
		for _, f := range append(append([]*chart.File{}, c.Templates...), c.Files...) {
			files[f.Name] = f.Data
		}
		names := make([]string, 0, len(files))
		for n := range files {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			add(prefix+n, files[n])
		}
		deps := append([]*chart.Chart{}, c.Dependencies()...)
		sort.Slice(deps, func(i, j int) bool { return deps[i].Name() < deps[j].Name() })
		for _, d := range deps {
			walk(prefix+"charts/"+d.Name()+"/", d)
		}
	}
	walk("", ch)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

func changesDigest(ch *chart.Chart) string {
	sum := sha256.Sum256([]byte(strings.TrimSpace(ch.Metadata.Annotations["artifacthub.io/changes"])))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// The versioning policy (SemVer): a released version never changes; a chart that changed since
// its last release carries a higher version, a CHANGELOG entry for it and a new
// artifacthub.io/changes annotation.
func TestVersionPolicy(t *testing.T) {
	recorded := readReleases(t)
	for _, name := range charts {
		t.Run(name, func(t *testing.T) {
			ch := load(t, name)
			v, err := semver.StrictNewVersion(ch.Metadata.Version)
			if err != nil {
				t.Fatalf("%s/Chart.yaml: version %q is not SemVer (want e.g. 1.2.3): %v", name, ch.Metadata.Version, err)
			}
			history := recorded[name]
			if len(history) == 0 {
				t.Fatalf("%s: no released version in %s", name, releasesFile)
			}
			digest := contentDigest(ch)
			for _, r := range history {
				if r.Version == ch.Metadata.Version {
					if r.Digest != digest {
						t.Fatalf("%s changed since its release %s (or the library chart it includes did): bump version in %s/Chart.yaml (SemVer), "+
							"add a CHANGELOG.md entry and update the artifacthub.io/changes annotation", name, r.Version, name)
					}
					return
				}
			}
			last := history[len(history)-1]
			if lv := semver.MustParse(last.Version); !v.GreaterThan(lv) {
				t.Fatalf("%s/Chart.yaml: version %s is not released and not above the last release %s", name, v, lv)
			}
			if strings.TrimSpace(ch.Metadata.Annotations["artifacthub.io/changes"]) == "" || changesDigest(ch) == last.Changes {
				t.Fatalf("%s/Chart.yaml: artifacthub.io/changes still describes %s; write what %s changes", name, last.Version, v)
			}
			changelog, err := os.ReadFile(filepath.Join(name, "CHANGELOG.md"))
			if err != nil || !strings.Contains(string(changelog), "\n## "+v.String()) {
				t.Fatalf("%s/CHANGELOG.md has no \"## %s\" section", name, v)
			}
			if *record {
				recordRelease(t, recorded, ch, digest)
			}
		})
	}
}

// recordRelease marks the chart's current version as released and keeps its package as the
// previous release the upgrade tests start from (only the newest one per chart).
func recordRelease(t *testing.T, recorded releases, ch *chart.Chart, digest string) {
	t.Helper()
	name := ch.Name()
	recorded[name] = append(recorded[name], release{Version: ch.Metadata.Version, Digest: digest, Changes: changesDigest(ch)})
	data, err := yaml.Marshal(recorded)
	if err != nil {
		t.Fatal(err)
	}
	header := "# Released chart versions with a digest of their content (go test ./charts -record adds the\n" +
		"# current versions; TestVersionPolicy refuses a changed chart without a version bump).\n"
	if err := os.WriteFile(releasesFile, append([]byte(header), data...), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("testdata", "released")
	old, _ := filepath.Glob(filepath.Join(dir, name+"-*.tgz"))
	for _, f := range old {
		os.Remove(f)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := chartutil.Save(ch, dir); err != nil {
		t.Fatal(err)
	}
}

// The kept package of the previous release is what its record says.
func TestReleasedPackagesMatchTheRecord(t *testing.T) {
	recorded := readReleases(t)
	for _, name := range charts {
		files, _ := filepath.Glob(filepath.Join("testdata", "released", name+"-*.tgz"))
		if len(files) != 1 {
			t.Fatalf("testdata/released holds %d packages of %s, want the last release's", len(files), name)
		}
		ch := load(t, files[0])
		last := recorded[name][len(recorded[name])-1]
		if ch.Metadata.Version != last.Version || contentDigest(ch) != last.Digest {
			t.Fatalf("%s is not %s %s as recorded", files[0], name, last.Version)
		}
		data, err := os.ReadFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		if n := countPrefix(archiveEntries(t, data, ""), name+"/charts/flink-common/templates/"); n == 0 {
			t.Fatalf("%s has no library chart inside", files[0])
		}
	}
}

func countPrefix(entries []entry, prefix string) int {
	n := 0
	for _, e := range entries {
		if strings.HasPrefix(e.name, prefix) {
			n++
		}
	}
	return n
}

// podTemplates maps each rendered object that runs pods to what decides whether its pods restart:
// the pod template, and for a Job its name too (a new name is a new Job).
func podTemplates(t *testing.T, manifest string) map[string]string {
	t.Helper()
	out := map[string]string{}
	notes := strings.LastIndex(manifest, "---\n# NOTES.txt\n")
	for _, doc := range releaseutil.SplitManifests(manifest[:notes]) {
		var obj struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
			Spec struct {
				Template    any `json:"template"`
				JobTemplate struct {
					Spec struct {
						Template any `json:"template"`
					} `json:"spec"`
				} `json:"jobTemplate"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatalf("rendered object: %v\n%s", err, doc)
		}
		var tmpl any
		switch obj.Kind {
		case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job":
			tmpl = obj.Spec.Template
		case "CronJob":
			tmpl = obj.Spec.JobTemplate.Spec.Template
		default:
			continue
		}
		data, err := yaml.Marshal(tmpl)
		if err != nil {
			t.Fatal(err)
		}
		out[obj.Kind+"/"+obj.Metadata.Name] = string(data)
	}
	return out
}

// A chart version bump alone (what Flux follows unattended) changes no pod template, no config
// checksum and no JobManager Job name: no Flink pod restarts.
func TestChartVersionBumpRestartsNoPod(t *testing.T) {
	for _, name := range charts {
		for _, file := range valuesSets(t, name) {
			t.Run(name+"/"+filepath.Base(file), func(t *testing.T) {
				ch := load(t, name)
				before := podTemplates(t, renderChart(t, ch, []string{file}))
				bumped := *ch.Metadata
				v := semver.MustParse(bumped.Version).IncMinor()
				bumped.Version = v.String()
				ch.Metadata = &bumped
				after := podTemplates(t, renderChart(t, ch, []string{file}))
				if len(before) == 0 {
					t.Fatal("no pod template rendered")
				}
				for key, tmpl := range before {
					got, ok := after[key]
					if !ok {
						t.Errorf("%s is gone after the version bump to %s (a Job named after its version restarts it)", key, v)
						continue
					}
					if got != tmpl {
						t.Errorf("the version bump to %s changes the pod template of %s:\n%s", v, key, lineDiff(tmpl, got))
					}
				}
				if len(after) != len(before) {
					t.Errorf("the version bump changes the set of pod-running objects: %d before, %d after", len(before), len(after))
				}
			})
		}
	}
}

// artifacthub.io/images lists every image the chart can run with its defaults: the Flink image
// (appVersion's tag) and every other image a value names (jar fetcher, HA cleanup).
func TestArtifactHubImagesListEveryImage(t *testing.T) {
	for _, name := range charts {
		ch := load(t, name)
		var listed []struct {
			Image string `json:"image"`
		}
		if err := yaml.Unmarshal([]byte(ch.Metadata.Annotations["artifacthub.io/images"]), &listed); err != nil {
			t.Fatalf("%s: artifacthub.io/images: %v", name, err)
		}
		var got []string
		for _, l := range listed {
			got = append(got, l.Image)
		}
		img := ch.Values["image"].(map[string]any)
		want := []string{fmt.Sprintf("%s:%s-java17", img["repository"], ch.Metadata.AppVersion)}
		var walk func(m map[string]any)
		walk = func(m map[string]any) {
			for k, v := range m {
				if s, ok := v.(string); ok && k == "image" {
					want = append(want, s)
				} else if sub, ok := v.(map[string]any); ok {
					walk(sub)
				}
			}
		}
		walk(ch.Values)
		sort.Strings(got)
		sort.Strings(want)
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s/Chart.yaml: artifacthub.io/images lists %v, the chart runs %v", name, got, want)
		}
	}
}
