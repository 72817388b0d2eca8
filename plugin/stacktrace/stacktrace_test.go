package stacktrace

import (
	"reflect"
	"strings"
	"testing"
)

// The shapes of Throwable.printStackTrace that Flink's answers carry.
func TestParse(t *testing.T) {
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
	if got := Parse(trace); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}
	if got := Parse(strings.ReplaceAll(trace, "\n", "\r\n")); !reflect.DeepEqual(got, want) {
		t.Errorf("CRLF: %#v", got)
	}
	if got := Parse("  \n"); got != nil {
		t.Errorf("empty: %#v", got)
	}
	if got := Parse("Only Jar files are allowed."); !reflect.DeepEqual(got, []Throwable{{Message: "Only Jar files are allowed."}}) {
		t.Errorf("plain text: %#v", got)
	}
	if got := Parse("Not found: /nope"); !reflect.DeepEqual(got, []Throwable{{Message: "Not found: /nope"}}) {
		t.Errorf("plain text with a colon: %#v", got)
	}
}

// A crashed JobManager's log: the last exception with its causes, not the log lines around it.
func TestLast(t *testing.T) {
	log := []string{
		"2026-11-24 21:40:00,001 INFO  org.apache.flink.runtime.entrypoint.ClusterEntrypoint [] - Starting",
		"java.lang.IllegalStateException: an earlier one",
		"2026-11-24 21:40:01,002 ERROR org.apache.flink.runtime.entrypoint.ClusterEntrypoint [] - Could not start cluster entrypoint StandaloneApplicationClusterEntryPoint.",
		"org.apache.flink.util.FlinkException: Could not load the provided entrypoint class.",
		"\tat org.apache.flink.client.program.DefaultPackagedProgramRetriever.getPackagedProgram(DefaultPackagedProgramRetriever.java:215) ~[flink-clients-1.20.0.jar:1.20.0]",
		"Caused by: org.apache.flink.client.program.ProgramInvocationException: The program's entry point class 'com.example.Nope' was not found in the jar file.",
		"\t... 2 more",
		"Caused by: java.lang.ClassNotFoundException: com.example.Nope",
		"\tat java.net.URLClassLoader.findClass(URLClassLoader.java:445) ~[?:?]",
		"2026-11-24 21:40:01,003 INFO  org.apache.flink.runtime.blob.BlobServer [] - Stopped BLOB server",
	}
	got := Lines(Last(log))
	want := []string{log[3], log[5], log[7]}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if Last(log[:1]) != nil || Last([]string{"org.example.Config: loaded"}) != nil {
		t.Fatal("no exception, yet one was found")
	}
}
