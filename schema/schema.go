// Package schema validates chart values against the chart's values.schema.json with
// gojsonschema, reporting every problem with the path of the value it concerns.
package schema

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/xeipuuv/gojsonschema"
)

// Problem is one thing wrong with a set of values.
type Problem struct {
	// Path of the value in dotted form, e.g. taskmanager.replicas; "" for the top level.
	Path    string
	Message string
}

func (p Problem) String() string {
	if p.Path == "" {
		return p.Message
	}
	return p.Path + ": " + p.Message
}

// Validate checks values against a JSON schema (drafts 4 to 7). It returns the problems found,
// sorted by path; the error is for a schema that cannot be used at all.
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
	var out []Problem
	for _, e := range res.Errors() {
		switch e.Type() {
		// if/then and anyOf wrappers repeat what their branches already reported.
		case "condition_then", "condition_else", "number_any_of", "number_one_of", "number_all_of":
			continue
		}
		path := e.Field()
		if path == "(root)" {
			path = ""
		}
		if p, ok := e.Details()["property"].(string); ok && e.Type() == "additional_property_not_allowed" {
			path = strings.TrimPrefix(path+"."+p, ".")
		}
		out = append(out, Problem{Path: path, Message: e.Description()})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}
