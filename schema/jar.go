package schema

import (
	"archive/zip"
	"bufio"
	"bytes"
	"io"
	"regexp"
	"sort"
	"strings"
)

// jarInfo is what the checks need from a job jar.
type jarInfo struct {
	classes map[string]bool // binary names, e.g. org.example.Job$Inner
	// entry is the manifest's entry class as Flink reads it: program-class, else Main-Class.
	entry     string
	entryAttr string
}

// versionedClass matches classes of a multi-release jar, which the JVM may load as well.
var versionedClass = regexp.MustCompile(`^META-INF/versions/[0-9]+/(.+)\.class$`)

func readJar(path string) (*jarInfo, error) {
	r, err := zip.OpenReader(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	info := &jarInfo{classes: map[string]bool{}}
	if err := info.read(&r.Reader, true); err != nil {
		return nil, err
	}
	if info.entryAttr == "main-class" {
		info.entryAttr = "Main-Class"
	}
	return info, nil
}

// maxNestedJar bounds a lib/*.jar read into memory to look at its classes.
const maxNestedJar = 256 << 20

// read adds r's classes and, in the outer jar (top), the manifest's entry class and the classes
// of its lib/*.jar, which Flink's PackagedProgram puts on the job's class path.
func (info *jarInfo) read(r *zip.Reader, top bool) error {
	for _, f := range r.File {
		name := f.Name
		if m := versionedClass.FindStringSubmatch(name); m != nil {
			info.classes[strings.ReplaceAll(m[1], "/", ".")] = true
			continue
		}
		if top && strings.EqualFold(name, "META-INF/MANIFEST.MF") {
			rc, err := f.Open()
			if err != nil {
				return err
			}
			data, err := io.ReadAll(io.LimitReader(rc, 1<<20))
			rc.Close()
			if err != nil {
				return err
			}
			attrs := parseManifest(data)
			// Flink's PackagedProgram prefers program-class over Main-Class.
			for _, a := range []string{"program-class", "main-class"} {
				if v := attrs[a]; v != "" {
					info.entry, info.entryAttr = v, a
					break
				}
			}
			continue
		}
		if top && strings.HasPrefix(name, "lib/") && strings.HasSuffix(name, ".jar") && f.UncompressedSize64 <= maxNestedJar {
			rc, err := f.Open()
			if err != nil {
				return err
			}
			data, err := io.ReadAll(io.LimitReader(rc, maxNestedJar))
			rc.Close()
			if err != nil {
				return err
			}
			if nested, err := zip.NewReader(bytes.NewReader(data), int64(len(data))); err == nil {
				if err := info.read(nested, false); err != nil {
					return err
				}
			}
			continue
		}
		if strings.HasSuffix(name, ".class") && !strings.HasPrefix(name, "META-INF/") {
			info.classes[strings.ReplaceAll(strings.TrimSuffix(name, ".class"), "/", ".")] = true
		}
	}
	return nil
}

// parseManifest reads the main section of a jar manifest: "Name: value" lines, a line that
// starts with one space continuing the previous one (lines are wrapped at 72 bytes), attribute
// names case-insensitive (returned lowercased).
func parseManifest(data []byte) map[string]string {
	out := map[string]string{}
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	data = bytes.ReplaceAll(data, []byte("\r"), []byte("\n"))
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	last := ""
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			break // end of the main section
		}
		if strings.HasPrefix(line, " ") {
			if last != "" {
				out[last] += line[1:]
			}
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			last = ""
			continue
		}
		last = strings.ToLower(strings.TrimSpace(name))
		out[last] = strings.TrimPrefix(value, " ")
	}
	for k, v := range out {
		out[k] = strings.TrimSpace(v)
	}
	return out
}

// similarClasses suggests classes of the jar the user may have meant: the same simple name in
// another package, else a near spelling.
func (j *jarInfo) similarClasses(name string) []string {
	simple := name[strings.LastIndex(name, ".")+1:]
	var same []string
	for c := range j.classes {
		if c[strings.LastIndex(c, ".")+1:] == simple {
			same = append(same, c)
		}
	}
	sort.Strings(same)
	if len(same) > 0 {
		if len(same) > 3 {
			same = same[:3]
		}
		return same
	}
	all := make([]string, 0, len(j.classes))
	for c := range j.classes {
		if !strings.Contains(c, "$") {
			all = append(all, c)
		}
	}
	sort.Strings(all)
	if c := closest(name, all); c != "" {
		return []string{c}
	}
	return nil
}
