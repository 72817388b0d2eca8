// Package values merges chart values exactly as `helm install` does, so validation sees what the templates get.
//
// The user's -f files and --set, --set-string, --set-file, --set-json and --set-literal values go
// through Helm's own values.Options, then the chart's defaults are coalesced under them. Nothing
// here talks to a cluster.
package values

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	helmvalues "helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/getter"
	"helm.sh/helm/v3/pkg/strvals"
)

// Options are Helm's value flags, in Helm's own type: -f/--values, --set, --set-string,
// --set-file, --set-json and --set-literal.
type Options = helmvalues.Options

// User merges the values the user gave, in Helm's order: the -f files one after the other, then
// --set-json, --set, --set-string, --set-file and --set-literal. p fetches -f and --set-file
// URLs (getter.All(settings) as Helm uses; "-" reads stdin). An error names the file or the flag
// and its argument.
func User(o *Options, p getter.Providers) (map[string]any, error) {
	if o == nil {
		o = &Options{}
	}
	if err := notTooLarge(o); err != nil {
		return nil, err
	}
	if err := noEmptyKeys(o); err != nil {
		return nil, err
	}
	vals, err := o.MergeValues(p)
	if err != nil {
		return nil, blame(o, p, err)
	}
	if path, ok := emptyKey("", vals); ok {
		return nil, blameEmptyKey(o, p, path)
	}
	return vals, nil
}

// MaxInput bounds a values file or flag argument: values are a few kilobytes, and a parser fed
// hundreds of megabytes takes the memory of the machine first.
const MaxInput = 4 << 20

func notTooLarge(o *Options) error {
	for _, f := range o.ValueFiles {
		if st, err := os.Stat(f); err == nil && st.Size() > MaxInput {
			return &Error{Flag: "--values", Arg: f, Err: fmt.Errorf("%d bytes: values files are at most %d (4 MiB)", st.Size(), MaxInput)}
		}
	}
	for _, g := range flagArgs(o) {
		for _, a := range g.args {
			if len(a) > MaxInput {
				return &Error{Flag: g.flag, Arg: a[:32] + "…", Err: fmt.Errorf("%d bytes: a value argument is at most %d (4 MiB)", len(a), MaxInput)}
			}
		}
	}
	return nil
}

var unescapedComma = regexp.MustCompile(`(^|[^\\]),`)

// noEmptyKeys refuses a --set… argument with an empty key (`=1`, `a=1,=2`): Helm drops its
// value without a word.
func noEmptyKeys(o *Options) error {
	for _, g := range flagArgs(o) {
		for _, a := range g.args {
			pieces := []string{a}
			if g.flag != "--set-literal" && g.flag != "--set-json" {
				pieces = unescapedComma.Split(a, -1)
			}
			for _, piece := range pieces {
				if strings.HasPrefix(piece, "=") {
					return &Error{Flag: g.flag, Arg: a, Err: fmt.Errorf("an empty key before %q: want key=value with a key", piece)}
				}
			}
		}
	}
	return nil
}

// emptyKey finds a key "" in vals (`--set =1`, `"": 1` in a file): Helm takes it and the chart
// never sees the value.
func emptyKey(prefix string, vals map[string]any) (string, bool) {
	for k, v := range vals {
		if k == "" {
			return prefix, true
		}
		if m, ok := v.(map[string]any); ok {
			if p, ok := emptyKey(strings.TrimPrefix(prefix+"."+k, "."), m); ok {
				return p, true
			}
		}
	}
	return "", false
}

// blameEmptyKey names the flag argument or file that makes an empty key.
func blameEmptyKey(o *Options, p getter.Providers, path string) error {
	where := "at the top level"
	if path != "" {
		where = "under " + path
	}
	err := fmt.Errorf("an empty key %s: want key=value with a key", where)
	for _, f := range o.ValueFiles {
		if strings.TrimSpace(f) == "-" {
			continue
		}
		if v, e := (&Options{ValueFiles: []string{f}}).MergeValues(p); e == nil {
			if _, ok := emptyKey("", v); ok {
				return &Error{Flag: "--values", Arg: f, Err: err}
			}
		}
	}
	for _, g := range flagArgs(o) {
		for _, a := range g.args {
			if v, e := g.one(a).MergeValues(p); e == nil {
				if _, ok := emptyKey("", v); ok {
					return &Error{Flag: g.flag, Arg: a, Err: err}
				}
			}
		}
	}
	return fmt.Errorf("values: %w", err)
}

type flagGroup struct {
	flag string
	args []string
	one  func(string) *Options
}

// flagArgs are the value flags' arguments, in Helm's order, each with the Options of it alone.
func flagArgs(o *Options) []flagGroup {
	return []flagGroup{
		{"--set-json", o.JSONValues, func(a string) *Options { return &Options{JSONValues: []string{a}} }},
		{"--set", o.Values, func(a string) *Options { return &Options{Values: []string{a}} }},
		{"--set-string", o.StringValues, func(a string) *Options { return &Options{StringValues: []string{a}} }},
		{"--set-file", o.FileValues, func(a string) *Options { return &Options{FileValues: []string{a}} }},
		{"--set-literal", o.LiteralValues, func(a string) *Options { return &Options{LiteralValues: []string{a}} }},
	}
}

// blame finds the one flag argument that fails on its own, so that the error names it. Helm's
// own messages do not always say which of several --set arguments or files was wrong.
func blame(o *Options, p getter.Providers, err error) error {
	try := func(flag, arg string, one Options) error {
		_, e := one.MergeValues(p)
		if e != nil && flag == "--set-json" {
			// Helm drops the JSON parser's reason; ask the parser again for it.
			if e2 := strvals.ParseJSON(arg, map[string]any{}); e2 != nil {
				e = e2
			}
		}
		if e != nil {
			return &Error{Flag: flag, Arg: arg, Err: e}
		}
		return nil
	}
	for _, f := range o.ValueFiles {
		if strings.TrimSpace(f) == "-" { // stdin is read once: Helm's error already says "-"
			continue
		}
		if e := try("--values", f, Options{ValueFiles: []string{f}}); e != nil {
			return e
		}
	}
	for _, g := range flagArgs(o) {
		for _, a := range g.args {
			if e := try(g.flag, a, *g.one(a)); e != nil {
				return e
			}
		}
	}
	return err
}

// Error is a value flag that could not be used: an unreadable or unparsable -f file, or a --set…
// argument Helm cannot parse.
type Error struct {
	Flag string // --values, --set, --set-string, --set-file, --set-json or --set-literal
	Arg  string // the file or the flag's argument
	Err  error  // Helm's error
}

func (e *Error) Error() string {
	msg := e.Err.Error()
	// Helm prefixes "failed parsing --set data: "; the flag is named here already.
	if i := strings.Index(msg, " data: "); i >= 0 && strings.HasPrefix(msg, "failed parsing --") {
		msg = msg[i+len(" data: "):]
	}
	if e.Flag == "--values" {
		return fmt.Sprintf("values file %s: %s", e.Arg, msg)
	}
	return fmt.Sprintf("%s %q: %s", e.Flag, e.Arg, msg)
}

func (e *Error) Unwrap() error { return e.Err }

// ForChart gives the values the chart's templates get under .Values when `helm install` (or
// upgrade, or template) renders it with the user's values: dependencies processed (conditions,
// tags, import-values) and the chart's and subcharts' defaults coalesced under the user's values,
// by the same chartutil calls the install action makes. Like that action it may disable
// dependencies of ch. Schema validation is left to the caller.
func ForChart(ch *chart.Chart, user map[string]any) (map[string]any, error) {
	if ch == nil {
		return nil, errors.New("no chart")
	}
	if user == nil {
		user = map[string]any{}
	}
	if err := chartutil.ProcessDependenciesWithMerge(ch, user); err != nil {
		return nil, fmt.Errorf("chart %s: dependencies: %w", ch.Name(), err)
	}
	top, err := chartutil.ToRenderValuesWithSchemaValidation(ch, user, chartutil.ReleaseOptions{IsInstall: true}, nil, true)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", ch.Name(), err)
	}
	vals, ok := top["Values"].(chartutil.Values)
	if !ok {
		return nil, fmt.Errorf("chart %s: coalesced values have type %T", ch.Name(), top["Values"])
	}
	return vals, nil
}

// Copy deep-copies values (nested maps), so that coalescing into the copy never writes into a
// stored release's values.
func Copy(v map[string]any) map[string]any {
	out := make(map[string]any, len(v))
	for k, x := range v {
		if m, ok := x.(map[string]any); ok {
			out[k] = Copy(m)
		} else {
			out[k] = x
		}
	}
	return out
}
