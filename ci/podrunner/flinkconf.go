package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// flinkConf is a Flink configuration flattened to Flink's dotted keys, as Flink itself reads
// both config.yaml (standard YAML, nested or flat) and the legacy flat flink-conf.yaml.
type flinkConf map[string]string

// parseConfigYAML reads Flink ≥1.19's config.yaml: nested maps are joined with '.'.
func parseConfigYAML(data []byte) (flinkConf, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("config.yaml: %w", err)
	}
	out := flinkConf{}
	flatten("", doc, out)
	return out, nil
}

func flatten(prefix string, v any, out flinkConf) {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			key := k
			if prefix != "" {
				key = prefix + "." + k
			}
			flatten(key, child, out)
		}
	case []any:
		parts := make([]string, 0, len(t))
		for _, e := range t {
			parts = append(parts, fmt.Sprint(e))
		}
		out[prefix] = strings.Join(parts, ";")
	case nil:
		out[prefix] = ""
	default:
		out[prefix] = fmt.Sprint(t)
	}
}

// parseFlatConf reads the legacy flink-conf.yaml and FLINK_PROPERTIES: one `key: value` a line.
func parseFlatConf(data string) flinkConf {
	out := flinkConf{}
	sc := bufio.NewScanner(strings.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		out[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"'`)
	}
	return out
}

// dynamicProperties renders overrides as Flink's -Dkey=value arguments, in a stable order.
func (c flinkConf) dynamicProperties() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	args := make([]string, 0, len(keys))
	for _, k := range keys {
		args = append(args, "-D"+k+"="+c[k])
	}
	return args
}

// writeOverrides writes overrides into the Flink configuration file of dir, the way the official
// image's entrypoint writes FLINK_PROPERTIES there: flink-conf.yaml gets them as lines at its end
// (the last line of a key wins), config.yaml is rewritten with flat keys (as Flink flattens nested
// ones) and the overrides set; without either, config.yaml holds just them.
func writeOverrides(dir string, over flinkConf) error {
	keys := make([]string, 0, len(over))
	for k := range over {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	legacy := filepath.Join(dir, "flink-conf.yaml")
	if data, err := os.ReadFile(legacy); err == nil {
		var b strings.Builder
		b.Write(data)
		b.WriteString("\n# the pod runner's rewrites\n")
		for _, k := range keys {
			fmt.Fprintf(&b, "%s: %s\n", k, over[k])
		}
		return os.WriteFile(legacy, []byte(b.String()), 0o644)
	}
	file := filepath.Join(dir, "config.yaml")
	doc := map[string]any{}
	if data, err := os.ReadFile(file); err == nil {
		var nested map[string]any
		if err := yaml.Unmarshal(data, &nested); err != nil {
			return fmt.Errorf("config.yaml: %w", err)
		}
		flattenTyped("", nested, doc)
	}
	for _, k := range keys {
		doc[k] = over[k]
	}
	data, err := yaml.Marshal(doc)
	if err != nil {
		return err
	}
	return os.WriteFile(file, append([]byte("# the pod's config.yaml, flattened, with the pod runner's rewrites\n"), data...), 0o644)
}

// flattenTyped flattens nested maps into dotted keys, keeping the values' YAML types.
func flattenTyped(prefix string, m map[string]any, out map[string]any) {
	for k, v := range m {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
			flattenTyped(key, sub, out)
			continue
		}
		out[key] = v
	}
}
