// Package schema validates chart values: against the chart's values.schema.json with
// gojsonschema (Validate), then with the checks no JSON schema can express — Flink memory against
// container limits, task slots against parallelism, HA settings, Flink version against its
// configuration, the job's jar and entry class (Check). Every problem is reported at once, each
// with the path of the value (or the flag) it concerns. Nothing here talks to a cluster.
package schema

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xeipuuv/gojsonschema"
)

// Problem is one thing wrong with a set of values.
type Problem struct {
	// Path of the value in dotted form, e.g. taskmanager.replicas, or a flag such as --jar; ""
	// for the top level.
	Path    string `json:"path"`
	Message string `json:"message"`
	// Got is the offending value as the user wrote it, Want what would be accepted; both optional.
	Got  string `json:"got,omitempty"`
	Want string `json:"want,omitempty"`
}

// String renders `path: message (got X, want Y)`.
func (p Problem) String() string {
	s := p.Message
	if p.Path != "" {
		s = p.Path + ": " + s
	}
	var gw []string
	if p.Got != "" {
		gw = append(gw, "got "+p.Got)
	}
	if p.Want != "" {
		gw = append(gw, "want "+p.Want)
	}
	if len(gw) > 0 {
		s += " (" + strings.Join(gw, ", ") + ")"
	}
	return s
}

// InvalidError is the error of a command whose values have problems: its message lists them
// all, and the command exits 1.
type InvalidError struct {
	// What was checked, e.g. "values of chart flink-session".
	Subject  string
	Problems []Problem
}

func (e *InvalidError) Error() string {
	n := "1 problem"
	if len(e.Problems) != 1 {
		n = fmt.Sprintf("%d problems", len(e.Problems))
	}
	subject := e.Subject
	if subject == "" {
		subject = "values"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", subject, n)
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// ExitCode makes the plugin exit 1 on invalid values.
func (e *InvalidError) ExitCode() int { return 1 }

// BadSchemaError is a chart whose values.schema.json cannot be used: the chart is the user's
// input, and the error names its file (exit 1).
type BadSchemaError struct {
	Chart string
	Err   error
}

func (e *BadSchemaError) Error() string {
	return fmt.Sprintf("chart %s: values.schema.json is not a usable JSON schema: %v", e.Chart, e.Err)
}

func (e *BadSchemaError) Unwrap() error { return e.Err }

// ExitCode is 1: the chart is input.
func (e *BadSchemaError) ExitCode() int { return 1 }

// Validate checks values against a JSON schema (drafts 4 to 7). It returns the problems found,
// at most one per path, sorted by path; the error is for a schema that cannot be used at all.
func Validate(schemaJSON []byte, values map[string]any) ([]Problem, error) {
	s, err := gojsonschema.NewSchema(gojsonschema.NewBytesLoader(schemaJSON))
	if err != nil {
		return nil, fmt.Errorf("load schema: %w", err)
	}
	// Values from YAML carry Go types the validator must see as JSON does.
	data, err := json.Marshal(values)
	if err != nil {
		return nil, fmt.Errorf("values: %w", err)
	}
	res, err := s.Validate(gojsonschema.NewBytesLoader(data))
	if err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	return explain(parseDoc(schemaJSON), res.Errors()), nil
}

// rank orders the errors found at one path: the first explains the problem best.
var rank = map[string]int{
	"required":                        0,
	"invalid_type":                    1,
	"additional_property_not_allowed": 2,
	"invalid_property_name":           2,
	"enum":                            3,
	"const":                           3,
	"string_gte":                      4,
	"pattern":                         5,
}

func rankOf(t string) int {
	if r, ok := rank[t]; ok {
		return r
	}
	return 6
}

type found struct {
	p    Problem
	typ  string
	segs []string
}

func explain(d *doc, errs []gojsonschema.ResultError) []Problem {
	// propertyNames failures come twice: as invalid_property_name on the object and as the
	// name's own failure (a pattern, with the name as value) at the same place.
	badNames := map[string]bool{}
	for _, e := range errs {
		if e.Type() == "invalid_property_name" {
			if p, ok := e.Details()["property"].(string); ok {
				badNames[strings.Join(segments(e), "\x00")+"\x00"+p] = true
			}
		}
	}
	byPath := map[string][]found{}
	var order []string
	for _, e := range errs {
		switch e.Type() {
		// if/then and anyOf wrappers repeat what their branches already reported.
		case "condition_then", "condition_else", "number_any_of", "number_one_of", "number_all_of":
			continue
		}
		segs := segments(e)
		if s, ok := e.Value().(string); ok && e.Type() != "invalid_property_name" && badNames[strings.Join(segs, "\x00")+"\x00"+s] {
			continue
		}
		f := found{typ: e.Type(), segs: segs, p: describe(d, e, segs)}
		if f.p.Path == "" && len(segs) > 0 {
			f.p.Path = strings.Join(segs, ".")
		}
		if _, ok := byPath[f.p.Path]; !ok {
			order = append(order, f.p.Path)
		}
		byPath[f.p.Path] = append(byPath[f.p.Path], f)
	}
	out := make([]Problem, 0, len(order))
	for _, path := range order {
		fs := byPath[path]
		sort.SliceStable(fs, func(i, j int) bool { return rankOf(fs[i].typ) < rankOf(fs[j].typ) })
		p := fs[0].p
		for _, f := range fs[1:] {
			if p.Want == "" && f.typ == "pattern" {
				p.Want = f.p.Want
			}
		}
		out = append(out, p)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// segments is the error's value path as keys (which may themselves contain dots, as Flink
// configuration keys do); the root is none.
func segments(e gojsonschema.ResultError) []string {
	ctx := e.Context()
	if ctx == nil {
		return nil
	}
	parts := strings.Split(ctx.String("\x00"), "\x00")
	if len(parts) > 0 && parts[0] == "(root)" {
		parts = parts[1:]
	}
	return parts
}

func describe(d *doc, e gojsonschema.ResultError, segs []string) Problem {
	det := e.Details()
	path := strings.Join(segs, ".")
	child := func(name string) ([]string, string) {
		s := append(append([]string{}, segs...), name)
		return s, strings.Join(s, ".")
	}
	switch e.Type() {
	case "invalid_type":
		given, _ := det["given"].(string)
		return Problem{Path: path, Message: "wrong type", Got: strings.TrimSpace(given + " " + showTyped(e.Value())), Want: typeList(fmt.Sprint(det["expected"]))}
	case "required":
		name, _ := det["property"].(string)
		s, p := child(name)
		return Problem{Path: p, Message: "required value missing", Want: d.hint(s)}
	case "additional_property_not_allowed":
		name, _ := det["property"].(string)
		_, p := child(name)
		msg := "unknown key"
		if s := d.didYouMean(segs, name); s != "" {
			msg += " (did you mean " + s + "?)"
		}
		return Problem{Path: p, Message: msg}
	case "invalid_property_name":
		name, _ := det["property"].(string)
		_, p := child(name)
		want := ""
		for _, n := range d.at(segs) {
			if pn, ok := n["propertyNames"].(map[string]any); ok {
				if re, ok := d.resolve(pn)["pattern"].(string); ok {
					want = patternHint(re)
				}
			}
		}
		return Problem{Path: p, Message: "invalid key", Got: show(name), Want: want}
	case "enum":
		allowed := strings.ReplaceAll(fmt.Sprint(det["allowed"]), `"`, "")
		return Problem{Path: path, Message: "not an allowed value", Got: show(e.Value()), Want: "one of " + allowed}
	case "const":
		return Problem{Path: path, Message: "not the required value", Got: show(e.Value()), Want: strings.Trim(fmt.Sprint(det["allowed"]), `"`)}
	case "pattern":
		want := d.hint(segs)
		if want == "" {
			want = patternHint(fmt.Sprint(det["pattern"]))
		}
		return Problem{Path: path, Message: "invalid format", Got: show(e.Value()), Want: want}
	case "string_gte":
		if fmt.Sprint(det["min"]) == "1" {
			return Problem{Path: path, Message: "must not be empty", Want: d.hint(segs)}
		}
		return Problem{Path: path, Message: "too short", Got: show(e.Value()), Want: fmt.Sprintf("at least %v characters", det["min"])}
	case "string_lte":
		return Problem{Path: path, Message: "too long", Got: show(e.Value()), Want: fmt.Sprintf("at most %v characters", det["max"])}
	case "number_gte":
		return Problem{Path: path, Message: "too small", Got: show(e.Value()), Want: fmt.Sprintf("at least %v", det["min"])}
	case "number_gt":
		return Problem{Path: path, Message: "too small", Got: show(e.Value()), Want: fmt.Sprintf("more than %v", det["min"])}
	case "number_lte":
		return Problem{Path: path, Message: "too large", Got: show(e.Value()), Want: fmt.Sprintf("at most %v", det["max"])}
	case "number_lt":
		return Problem{Path: path, Message: "too large", Got: show(e.Value()), Want: fmt.Sprintf("less than %v", det["max"])}
	case "array_min_items":
		return Problem{Path: path, Message: "too few items", Want: fmt.Sprintf("at least %v", det["min"])}
	case "array_max_items":
		return Problem{Path: path, Message: "too many items", Want: fmt.Sprintf("at most %v", det["max"])}
	case "format":
		return Problem{Path: path, Message: "invalid format", Got: show(e.Value()), Want: fmt.Sprintf("a valid %v", det["format"])}
	}
	return Problem{Path: path, Message: e.Description()}
}

// patternHints say in words what the patterns of the charts' schemas accept; other patterns
// are shown as they are.
var patternHints = map[string]string{
	`^[a-z][a-z0-9+.-]*://.+`:                                    "a URI, e.g. s3://bucket/flink/ha",
	`^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$`:                "a Kubernetes quantity, e.g. 500m or 2Gi",
	`^[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)*$`:    "a Java class name, e.g. org.example.MyJob",
	`^$|^[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)*$`: "a Java class name, e.g. org.example.MyJob, or empty",
	`^$|^[0-9a-f]{32}$`:                                          "32 lowercase hex digits, or empty",
	`^$|^[0-9a-f]{64}$`:                                          "a sha256 as 64 lowercase hex digits, or empty",
	`^$|^[a-z0-9]([-a-z0-9]{0,43}[a-z0-9])?$`:                    "lowercase letters, digits and '-', at most 45 characters, or empty",
	`^[0-9]+(ms|s|m|h)$`:                                         "a duration, e.g. 30s",
	`^[0-9]+%?$`:                                                 "a number or a percentage, e.g. 1 or 25%",
	`^/`:                                                         "an absolute path, e.g. /",
	`^/.+\.jar$`:                                                 "the absolute path of a jar in the image, e.g. /opt/flink/usrlib/my-job.jar",
	`^[A-Za-z0-9][A-Za-z0-9_.\-\[\]]*$`:                          "a dotted Flink key, e.g. state.backend.type",
}

func patternHint(re string) string {
	if h, ok := patternHints[re]; ok {
		return h
	}
	return "a string matching " + re
}

// typeList turns gojsonschema's "[string,number]" into "string or number".
func typeList(s string) string {
	s = strings.Trim(s, "[]")
	parts := strings.Split(s, ",")
	if len(parts) <= 2 {
		return strings.Join(parts, " or ")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " or " + parts[len(parts)-1]
}

// show renders a value as the user would write it: strings quoted, the rest as JSON, shortened.
func show(v any) string {
	var s string
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		s = strconv.Quote(x)
	case json.Number:
		s = x.String()
	case bool, int, int64, int32, uint, uint64, uint32:
		s = fmt.Sprint(x)
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			s = fmt.Sprint(x)
		} else {
			s = string(b)
		}
	}
	// Long values are cut in the middle: a path's or URL's end (the file name) tells most.
	if utf8.RuneCountInString(s) > 80 {
		r := []rune(s)
		s = string(r[:38]) + "…" + string(r[len(r)-39:])
	}
	return s
}

// showTyped is show for a type error: the type is said separately; nulls say nothing more.
func showTyped(v any) string {
	if v == nil {
		return ""
	}
	return show(v)
}
