package flink

import (
	"testing"
)

func TestSummaries(t *testing.T) {
	for _, tc := range []struct {
		errors []string
		want   string
	}{
		{nil, ""},
		{[]string{"Internal server error."}, ""},
		{[]string{"Not found: /nope"}, "Not found: /nope"},
		{[]string{"Internal server error.", "<Exception on server side:\njava.lang.RuntimeException: outer\n\tat a.B.c(B.java:1)\nCaused by: java.lang.ClassNotFoundException: x.Y\n\t... 1 more\n\nEnd of exception on server side>"},
			"java.lang.ClassNotFoundException: x.Y"},
		{[]string{"org.apache.flink.runtime.rest.handler.RestHandlerException: Bad thing.\n\tat a.B.c(B.java:1)\n"}, "Bad thing."},
		{[]string{"org.apache.flink.runtime.rest.handler.RestHandlerException\n\tat a.B.c(B.java:1)\n"}, "org.apache.flink.runtime.rest.handler.RestHandlerException"},
	} {
		e := &APIError{Method: "GET", Path: "/x", StatusCode: 500, Errors: tc.errors}
		if got := e.Summary(); got != tc.want {
			t.Errorf("%q: summary %q, want %q", tc.errors, got, tc.want)
		}
		want := "get /x: 500 Internal Server Error"
		if tc.want != "" {
			want += ": " + tc.want
		}
		if e.Error() != want {
			t.Errorf("Error() = %q", e.Error())
		}
	}
}

func TestParseVersion(t *testing.T) {
	for in, want := range map[string][3]int{
		"1.20.0": {1, 20, 1}, "2.3.0": {2, 3, 1}, "2.1": {2, 1, 1}, "2.3-SNAPSHOT": {2, 3, 1},
		"1.19.1-rc2": {1, 19, 1}, "2": {0, 0, 0}, "": {0, 0, 0}, "x.y": {0, 0, 0},
	} {
		ma, mi, ok := parseVersion(in)
		got := [3]int{ma, mi, 0}
		if ok {
			got[2] = 1
		} else {
			got = [3]int{}
		}
		if got != want {
			t.Errorf("%q: %v, want %v", in, got, want)
		}
	}
}
