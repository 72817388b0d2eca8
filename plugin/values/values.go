// Package values merges chart values exactly as `helm install` does, so validation sees what the templates get.
//
// The user's -f files and --set, --set-string, --set-file, --set-json and --set-literal values go
// through Helm's own values.Options, then the chart's defaults are coalesced under them. Nothing
// here talks to a cluster.
package values

import (
	"errors"
	"fmt"
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
	vals, err := o.MergeValues(p)
	if err == nil {
		return vals, nil
	}
	return nil, blame(o, p, err)
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
	groups := []struct {
		flag string
		args []string
		one  func(string) Options
	}{
		{"--set-json", o.JSONValues, func(a string) Options { return Options{JSONValues: []string{a}} }},
		{"--set", o.Values, func(a string) Options { return Options{Values: []string{a}} }},
		{"--set-string", o.StringValues, func(a string) Options { return Options{StringValues: []string{a}} }},
		{"--set-file", o.FileValues, func(a string) Options { return Options{FileValues: []string{a}} }},
		{"--set-literal", o.LiteralValues, func(a string) Options { return Options{LiteralValues: []string{a}} }},
	}
	for _, g := range groups {
		for _, a := range g.args {
			if e := try(g.flag, a, g.one(a)); e != nil {
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
