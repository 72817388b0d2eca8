package act

import (
	"fmt"

	"github.com/helm-flink/helm-flink/plugin/values"
	"github.com/helm-flink/helm-flink/schema"
)

// CheckSavepointDir refuses (an input error, nothing done) a savepoint directory the release's
// pods would lose: a file:// one that is not on a volume every JobManager and TaskManager mounts.
// flag names it in the report.
func (c *Config) CheckSavepointDir(flag, dir string) error {
	if dir == "" || c.Release == nil || c.Release.Chart == nil {
		return nil
	}
	vals, err := values.ForChart(c.Release.Chart, values.Copy(c.Release.Config))
	if err != nil {
		return fmt.Errorf("values of release %q: %w", c.Release.Name, err)
	}
	if problems := schema.CheckSavepointDir(vals, flag, dir); len(problems) > 0 {
		return &schema.InvalidError{Subject: fmt.Sprintf("%s for release %s", flag, c.Release.Name), Problems: problems}
	}
	return nil
}
