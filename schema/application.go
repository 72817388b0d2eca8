package schema

import "strings"

// application checks what the flink-job chart's JobManager Deployment relies on: it stays up when
// the job ends (execution.shutdown-on-application-finish: false). Were it to exit, the Deployment
// would restart it and run a finished job again (native mode: Flink would delete the Deployment,
// which Helm owns).
func (c *checker) application() {
	if !c.isJob() {
		return
	}
	s, p, ok := c.confValue("execution.shutdown-on-application-finish")
	if !ok || !c.clean(p) || strings.EqualFold(strings.TrimSpace(s), "false") {
		return
	}
	c.add(Problem{Path: p, Message: "the JobManager is a Deployment that stays up when the job ends, with the job's final state on its REST API; a JobManager that exits is restarted and runs the finished job again",
		Got: show(s), Want: "the key removed (the chart sets false)"})
}
