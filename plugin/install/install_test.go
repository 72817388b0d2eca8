package install

import (
	"testing"

	"github.com/helm-flink/helm-flink/plugin/act"
	"github.com/helm-flink/helm-flink/plugin/jobmanager"
	"github.com/helm-flink/helm-flink/plugin/values"
)

func TestJobFlagsBecomeApplicationValues(t *testing.T) {
	job := jobmanager.Spec{Jar: "https://repo.example.com/job.jar", EntryClass: "com.example.Job",
		Args: []string{"--input", "a b", `"quoted"`}, Parallelism: 4}
	user := make([]string, 1, 4) // room to append: the user's slice must not be written into
	vals := values.Options{JSONValues: user[:0]}
	if err := jobValues(act.Application, job, &vals); err != nil {
		t.Fatal(err)
	}
	want := `job.args=["--input","a b","\"quoted\""]`
	if len(vals.JSONValues) != 1 || vals.JSONValues[0] != want || user[0] != "" {
		t.Fatalf("args as --set-json: %q, want %q (user's slice %q)", vals.JSONValues, want, user)
	}
	if err := jobValues(act.Application, jobmanager.Spec{Jar: "/tmp/job.jar"}, &values.Options{}); err == nil {
		t.Fatal("a local jar file for an application chart must be refused: the pods cannot see it")
	}
	if err := jobValues(act.Session, jobmanager.Spec{EntryClass: "com.example.Job"}, &values.Options{}); err == nil {
		t.Fatal("--entry-class without --jar on a session chart must be refused")
	}
}
