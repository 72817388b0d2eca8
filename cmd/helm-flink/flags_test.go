package main

import (
	"reflect"
	"testing"

	"github.com/spf13/pflag"

	"github.com/helm-flink/helm-flink/plugin/values"
)

func TestValueFlagsMatchHelm(t *testing.T) {
	var o values.Options
	fs := pflag.NewFlagSet("validate", pflag.ContinueOnError)
	addValueFlags(fs, &o)
	err := fs.Parse([]string{"-f", "a.yaml,b.yaml", "--values", "c.yaml", "--set", "x=1,y=2", "--set", "z=3",
		"--set-string", "s=1", "--set-file", "f=p", "--set-json", `j={"k":1}`, "--set-literal", "l=a,b"})
	if err != nil {
		t.Fatal(err)
	}
	want := values.Options{
		ValueFiles: []string{"a.yaml", "b.yaml", "c.yaml"}, Values: []string{"x=1,y=2", "z=3"},
		StringValues: []string{"s=1"}, FileValues: []string{"f=p"}, JSONValues: []string{`j={"k":1}`}, LiteralValues: []string{"l=a,b"},
	}
	if !reflect.DeepEqual(o, want) {
		t.Fatalf("%+v", o)
	}
}
