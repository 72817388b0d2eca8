package schema

import (
	"encoding/json"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// doc is a parsed JSON schema, walked to find what a value path allows: the property names of an
// object (for did-you-mean) and the description of a value (for "want").
type doc struct {
	root map[string]any
}

func parseDoc(schemaJSON []byte) *doc {
	var root map[string]any
	if json.Unmarshal(schemaJSON, &root) != nil {
		return &doc{}
	}
	return &doc{root: root}
}

// resolve follows local $refs ("#/definitions/x", any JSON pointer into the document).
func (d *doc) resolve(n map[string]any) map[string]any {
	for range 16 {
		ref, ok := n["$ref"].(string)
		if !ok || !strings.HasPrefix(ref, "#") {
			return n
		}
		var cur any = d.root
		for _, tok := range strings.Split(strings.TrimPrefix(strings.TrimPrefix(ref, "#"), "/"), "/") {
			if tok == "" {
				continue
			}
			tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
			m, ok := cur.(map[string]any)
			if !ok {
				return n
			}
			cur = m[tok]
		}
		next, ok := cur.(map[string]any)
		if !ok {
			return n
		}
		n = next
	}
	return n
}

// branches is a schema node with every subschema that applies to the same value: allOf, anyOf,
// oneOf, then and else members, $refs resolved.
func (d *doc) branches(n map[string]any) []map[string]any {
	var out []map[string]any
	var walk func(n map[string]any, depth int)
	walk = func(n map[string]any, depth int) {
		if n == nil || depth > 8 {
			return
		}
		n = d.resolve(n)
		out = append(out, n)
		for _, k := range []string{"allOf", "anyOf", "oneOf"} {
			if list, ok := n[k].([]any); ok {
				for _, s := range list {
					if m, ok := s.(map[string]any); ok {
						walk(m, depth+1)
					}
				}
			}
		}
		for _, k := range []string{"then", "else"} {
			if m, ok := n[k].(map[string]any); ok {
				walk(m, depth+1)
			}
		}
	}
	walk(n, 0)
	return out
}

// at returns the schema nodes that describe the value at path.
func (d *doc) at(path []string) []map[string]any {
	if d.root == nil {
		return nil
	}
	cur := d.branches(d.root)
	for _, seg := range path {
		var next []map[string]any
		for _, n := range cur {
			matched := false
			if props, ok := n["properties"].(map[string]any); ok {
				if p, ok := props[seg].(map[string]any); ok {
					next = append(next, d.branches(p)...)
					matched = true
				}
			}
			if pp, ok := n["patternProperties"].(map[string]any); ok {
				for re, p := range pp {
					if m, ok := p.(map[string]any); ok {
						if rx, err := regexp.Compile(re); err == nil && rx.MatchString(seg) {
							next = append(next, d.branches(m)...)
							matched = true
						}
					}
				}
			}
			if ap, ok := n["additionalProperties"].(map[string]any); ok && !matched {
				next = append(next, d.branches(ap)...)
			}
			if items, ok := n["items"].(map[string]any); ok {
				if _, err := strconv.Atoi(seg); err == nil {
					next = append(next, d.branches(items)...)
				}
			}
		}
		cur = next
	}
	return cur
}

// properties lists the property names the object at path declares, sorted.
func (d *doc) properties(path []string) []string {
	seen := map[string]bool{}
	for _, n := range d.at(path) {
		if props, ok := n["properties"].(map[string]any); ok {
			for k := range props {
				seen[k] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// hint is a human description of what the value at path should look like: the schema's
// examples, the "e.g. …" part of its description, or the whole description.
func (d *doc) hint(path []string) string {
	for _, n := range d.at(path) {
		if ex, ok := n["examples"].([]any); ok && len(ex) > 0 {
			var parts []string
			for _, e := range ex {
				parts = append(parts, show(e))
			}
			return "e.g. " + strings.Join(parts, " or ")
		}
	}
	for _, n := range d.at(path) {
		if desc, ok := n["description"].(string); ok && desc != "" {
			if i := strings.Index(desc, "e.g. "); i >= 0 {
				return strings.TrimRight(desc[i:], ".")
			}
			return strings.TrimRight(desc, ".")
		}
	}
	return ""
}

// propertyPaths lists every declared property path of the schema (depth-limited), to suggest where
// a key that is unknown at one level belongs.
func (d *doc) propertyPaths() [][]string {
	var out [][]string
	var walk func(nodes []map[string]any, prefix []string)
	walk = func(nodes []map[string]any, prefix []string) {
		if len(prefix) > 4 {
			return
		}
		for _, n := range nodes {
			props, ok := n["properties"].(map[string]any)
			if !ok {
				continue
			}
			keys := make([]string, 0, len(props))
			for k := range props {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				p := append(append([]string{}, prefix...), k)
				out = append(out, p)
				if m, ok := props[k].(map[string]any); ok {
					walk(d.branches(m), p)
				}
			}
		}
	}
	if d.root != nil {
		walk(d.branches(d.root), nil)
	}
	return out
}

// didYouMean suggests what an unknown key at parent was meant to be: the closest property of
// the same object, else the same name elsewhere in the schema.
func (d *doc) didYouMean(parent []string, key string) string {
	if s := closest(key, d.properties(parent)); s != "" {
		return s
	}
	var elsewhere []string
	for _, p := range d.propertyPaths() {
		if strings.EqualFold(p[len(p)-1], key) && len(p) > 1 {
			elsewhere = append(elsewhere, strings.Join(p, "."))
		}
	}
	if len(elsewhere) > 3 {
		elsewhere = elsewhere[:3]
	}
	return strings.Join(elsewhere, " or ")
}

// closest is the candidate nearest to s by edit distance (case-insensitive), when near enough to
// be a typo; "" if none is.
func closest(s string, candidates []string) string {
	best, bestDist := "", -1
	ls := strings.ToLower(s)
	for _, c := range candidates {
		if c == s {
			continue
		}
		lc := strings.ToLower(c)
		dist := levenshtein(ls, lc)
		if ls == lc {
			dist = 0
		}
		longer := max(utf8.RuneCountInString(ls), utf8.RuneCountInString(lc))
		limit := max(2, longer/3)
		if dist > limit {
			// A key that is a clear prefix of a longer name (numberOfSlots vs numberOfTaskSlots
			// is caught above; memory vs memoryProcessSize here) is still a likely slip.
			if len(ls) >= 4 && (strings.HasPrefix(lc, ls) || strings.HasPrefix(ls, lc)) {
				dist = limit
			} else {
				continue
			}
		}
		if bestDist < 0 || dist < bestDist {
			best, bestDist = c, dist
		}
	}
	return best
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
