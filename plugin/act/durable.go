package act

import (
	"fmt"

	"github.com/helm-flink/helm-flink/schema"
)

// CheckSavepointDir refuses (an input error, nothing done) a savepoint directory the release's
// pods would lose: a file:// one that is not on a volume every JobManager and TaskManager of rel
// mounts. flag names it in the report.
func CheckSavepointDir(rel *Release, flag, dir string) error {
	if dir == "" {
		return nil
	}
	if problems := schema.CheckSavepointDir(rel.Values, flag, dir); len(problems) > 0 {
		return &schema.InvalidError{Subject: fmt.Sprintf("%s for release %s", flag, rel.Name), Problems: problems}
	}
	return nil
}
