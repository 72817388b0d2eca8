package schema

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Flink option types, as Flink's configuration parses them when the cluster starts: a value it
// cannot parse stops the JobManager (or the job) after the release exists.
type optionKind int

const (
	durationOption optionKind = iota
	intOption
	boolOption
	enumOption
	fractionOption
	portOption
)

type flinkOption struct {
	kind optionKind
	min  int64 // intOption: the least value Flink accepts
	// values of an enumOption, as Flink spells them (compared without case)
	values []string
}

// flinkOptions are the options people set most under flinkConfiguration, with their types in
// Flink 1.20 and 2.x.
var flinkOptions = map[string]flinkOption{
	"execution.checkpointing.interval":                           {kind: durationOption},
	"execution.checkpointing.timeout":                            {kind: durationOption},
	"execution.checkpointing.min-pause":                          {kind: durationOption},
	"execution.checkpointing.max-concurrent-checkpoints":         {kind: intOption, min: 1},
	"execution.checkpointing.tolerable-failed-checkpoints":       {kind: intOption, min: 0},
	"execution.checkpointing.num-retained":                       {kind: intOption, min: 1},
	"state.checkpoints.num-retained":                             {kind: intOption, min: 1},
	"execution.checkpointing.mode":                               {kind: enumOption, values: []string{"EXACTLY_ONCE", "AT_LEAST_ONCE"}},
	"execution.checkpointing.unaligned.enabled":                  {kind: boolOption},
	"execution.checkpointing.incremental":                        {kind: boolOption},
	"state.backend.incremental":                                  {kind: boolOption},
	"execution.checkpointing.externalized-checkpoint-retention":  {kind: enumOption, values: []string{"DELETE_ON_CANCELLATION", "RETAIN_ON_CANCELLATION", "NO_EXTERNALIZED_CHECKPOINTS"}},
	"execution.runtime-mode":                                     {kind: enumOption, values: []string{"STREAMING", "BATCH", "AUTOMATIC"}},
	"parallelism.default":                                        {kind: intOption, min: 1},
	"taskmanager.numberOfTaskSlots":                              {kind: intOption, min: 1},
	"restart-strategy.type":                                      {kind: enumOption, values: []string{"none", "off", "disable", "fixeddelay", "fixed-delay", "failurerate", "failure-rate", "exponentialdelay", "exponential-delay"}},
	"restart-strategy.fixed-delay.attempts":                      {kind: intOption, min: 0},
	"restart-strategy.fixed-delay.delay":                         {kind: durationOption},
	"restart-strategy.failure-rate.max-failures-per-interval":    {kind: intOption, min: 1},
	"restart-strategy.failure-rate.failure-rate-interval":        {kind: durationOption},
	"restart-strategy.failure-rate.delay":                        {kind: durationOption},
	"restart-strategy.exponential-delay.initial-backoff":         {kind: durationOption},
	"restart-strategy.exponential-delay.max-backoff":             {kind: durationOption},
	"restart-strategy.exponential-delay.reset-backoff-threshold": {kind: durationOption},
	"restart-strategy.exponential-delay.jitter-factor":           {kind: fractionOption},
	"slot.request.timeout":                                       {kind: durationOption},
	"resourcemanager.taskmanager-timeout":                        {kind: durationOption},
	"taskmanager.memory.managed.fraction":                        {kind: fractionOption},
	"taskmanager.memory.network.fraction":                        {kind: fractionOption},
	"jobmanager.execution.failover-strategy":                     {kind: enumOption, values: []string{"full", "region"}},
	"metrics.reporter.prom.port":                                 {kind: portOption},
}

// durationUnits are the units Flink's TimeUtils.parseDuration knows (lower case); none is ms.
var durationUnits = map[string]bool{
	"": true, "d": true, "day": true, "days": true, "h": true, "hour": true, "hours": true,
	"min": true, "m": true, "minute": true, "minutes": true, "s": true, "sec": true, "secs": true,
	"second": true, "seconds": true, "ms": true, "milli": true, "millis": true, "millisecond": true,
	"milliseconds": true, "µs": true, "micro": true, "micros": true, "microsecond": true,
	"microseconds": true, "ns": true, "nano": true, "nanos": true, "nanosecond": true, "nanoseconds": true,
}

var flinkDuration = regexp.MustCompile(`^([0-9]+)\s*(\S*)$`)

// parseFlinkDuration says whether Flink parses s as a duration ("10 s", "1min", "500").
func parseFlinkDuration(s string) bool {
	m := flinkDuration.FindStringSubmatch(strings.TrimSpace(s))
	return m != nil && durationUnits[strings.ToLower(m[2])]
}

// flinkOptionTypes checks the values under flinkConfiguration of the options above.
func (c *checker) flinkOptionTypes() {
	keys := make([]string, 0, len(c.conf))
	for k := range c.conf {
		if _, ok := flinkOptions[k]; ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, key := range keys {
		path := confPath(key)
		if !c.clean(path) || c.reported(path) {
			continue
		}
		o, v := flinkOptions[key], c.conf[key]
		text := scalarString(v)
		switch o.kind {
		case durationOption:
			if !parseFlinkDuration(text) {
				c.add(Problem{Path: path, Message: "not a Flink duration", Got: show(text), Want: `a number and a unit, e.g. "10 s", "1 min", "500 ms" (no unit: milliseconds)`})
			}
		case intOption, portOption:
			n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 32)
			lo, hi := o.min, int64(1<<31-1)
			if o.kind == portOption {
				lo, hi = 1, 65535
			}
			if err != nil || n < lo || n > hi {
				c.add(Problem{Path: path, Message: "not a whole number Flink accepts here", Got: show(text), Want: fmt.Sprintf("%d to %d", lo, hi)})
			}
		case boolOption:
			if b := strings.ToLower(strings.TrimSpace(text)); b != "true" && b != "false" {
				c.add(Problem{Path: path, Message: "not a Flink boolean", Got: show(text), Want: "true or false"})
			}
		case fractionOption:
			f, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
			if err != nil || f < 0 || f > 1 {
				c.add(Problem{Path: path, Message: "not a fraction", Got: show(text), Want: "a number from 0 to 1"})
			}
		case enumOption:
			ok := false
			for _, e := range o.values {
				ok = ok || strings.EqualFold(e, strings.TrimSpace(text))
			}
			if !ok {
				c.add(Problem{Path: path, Message: "not one of the values Flink knows", Got: show(text), Want: strings.Join(o.values, ", ")})
			}
		}
	}
}

// chartOwned are Flink options the chart's Services, probes and pods depend on: set again under
// flinkConfiguration (as anyone pasting Flink's docs does) to another value they would break the
// release after it exists. The same value is accepted. (Native mode's own: nativeOwned.)
var chartOwned = []struct {
	key  string
	want string
	why  string
}{
	{"rest.port", "8081", "the REST Service, the probes and the plugin's port-forward use 8081"},
	{"jobmanager.rpc.port", "6123", "the JobManager Service and the TaskManagers use 6123"},
	{"blob.server.port", "6124", "the JobManager Service exposes the blob server on 6124"},
	{"taskmanager.data.port", "6121", "the TaskManagers' readiness probe checks 6121"},
	{"rest.bind-address", "0.0.0.0", "the REST Service reaches the JobManager on its pod address"},
	{"jobmanager.bind-host", "0.0.0.0", "the Services reach the JobManager on its pod address"},
	{"taskmanager.bind-host", "0.0.0.0", "the JobManager reaches the TaskManagers on their pod addresses"},
}

// ownedOptions refuses the chart's own settings given other values under flinkConfiguration.
// It runs after the other checks: a path they reported is not reported again.
func (c *checker) ownedOptions() {
	for _, o := range chartOwned {
		v, ok := c.conf[o.key]
		if !ok {
			continue
		}
		path := confPath(o.key)
		if !c.clean(path) || c.reported(path) || strings.TrimSpace(scalarString(v)) == o.want {
			continue
		}
		c.add(Problem{Path: path, Message: "set by the chart: " + o.why, Got: show(scalarString(v)), Want: fmt.Sprintf("the key removed (the chart sets %s)", o.want)})
	}
}

// reported says whether a check has reported a problem at path already.
func (c *checker) reported(path string) bool {
	for _, p := range c.out {
		if p.Path == path {
			return true
		}
	}
	return false
}
