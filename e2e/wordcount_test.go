//go:build e2e

package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// A bounded job that runs to its end is a success: install and submit of WordCount exit 0 and
// say the job finished, and status judges it by the same rule.
func TestWordCountFinishes(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	s := newStandalone(t)
	jar := exampleJar(env.versions["FLINK1_VERSION"], "WordCount")
	out, errOut, code := s.run(t, "install", "flink", filepath.Join(env.root, "charts/flink-session"), "-n", ns,
		"--set", "tests.enabled=false", "--jar", jar, "-o", "json")
	inst := decode[cliInstall](t, out)
	if code != 0 || inst.Job.State != "FINISHED" || inst.Job.Total == 0 || inst.Job.Running+inst.Job.Finished != inst.Job.Total ||
		!strings.Contains(errOut, "FINISHED, ") || !strings.Contains(errOut, " tasks finished") {
		t.Fatalf("install of a bounded job: exit %d, %+v", code, inst.Job)
	}
	out, _, code = s.run(t, "submit", "flink", "-n", ns, "--jar", jar)
	if code != 0 || !strings.Contains(out, "FINISHED") || !strings.Contains(out, "finished") {
		t.Fatalf("submit of a bounded job: exit %d\n%s", code, out)
	}
	st := decode[struct {
		Jobs []struct {
			State   string `json:"state"`
			Outcome string `json:"outcome"`
		} `json:"jobs"`
	}](t, func() string { o, _, _ := s.run(t, "status", "flink", "-n", ns, "-o", "json"); return o }())
	if len(st.Jobs) != 2 || st.Jobs[0].Outcome != "finished" || st.Jobs[1].Outcome != "finished" {
		t.Fatalf("status: %+v", st.Jobs)
	}
	s.run(t, "uninstall", "flink", "-n", ns)
	assertNothingLeft(t, ns)
}
