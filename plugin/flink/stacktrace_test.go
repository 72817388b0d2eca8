package flink

import (
	"reflect"
	"strings"
	"testing"
)

// The shapes of Throwable.printStackTrace that Flink's answers carry.
func TestParseStackTrace(t *testing.T) {
	trace := strings.Join([]string{
		"org.example.JobException: first line",
		"second line of the message",
		"\tat org.example.A.a(A.java:1)",
		"\tat org.example.B.b(B.java:2)",
		"\tSuppressed: java.lang.IllegalStateException: cleanup failed",
		"\t\tat org.example.C.c(C.java:3)",
		"\t\t... 1 more",
		"\tCaused by: java.lang.Error: cause of the suppressed",
		"Caused by: java.io.IOException: disk full",
		"\tat org.example.D.d(D.java:4)",
		"\t... 12 more",
		"Caused by: java.lang.NullPointerException",
		"\t... 13 more",
		"",
	}, "\n")
	want := []Throwable{
		{Class: "org.example.JobException", Message: "first line\nsecond line of the message",
			Frames: []string{"org.example.A.a(A.java:1)", "org.example.B.b(B.java:2)"}},
		{Class: "java.io.IOException", Message: "disk full", Frames: []string{"org.example.D.d(D.java:4)"}, Omitted: 12},
		{Class: "java.lang.NullPointerException", Omitted: 13},
	}
	if got := ParseStackTrace(trace); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}
	if got := ParseStackTrace(strings.ReplaceAll(trace, "\n", "\r\n")); !reflect.DeepEqual(got, want) {
		t.Errorf("CRLF: %#v", got)
	}
	if got := ParseStackTrace("  \n"); got != nil {
		t.Errorf("empty: %#v", got)
	}
	if got := ParseStackTrace("Only Jar files are allowed."); !reflect.DeepEqual(got, []Throwable{{Message: "Only Jar files are allowed."}}) {
		t.Errorf("plain text: %#v", got)
	}
	if got := ParseStackTrace("Not found: /nope"); !reflect.DeepEqual(got, []Throwable{{Message: "Not found: /nope"}}) {
		t.Errorf("plain text with a colon: %#v", got)
	}
}

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
