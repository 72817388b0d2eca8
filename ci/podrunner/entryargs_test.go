package main

import (
	"reflect"
	"strings"
	"testing"
)

// Args are read as Flink's scripts and parsers read them: "-D key=value" (two arguments) and
// -Dkey=value are dynamic properties wherever the parser reads options, but jobmanager.sh takes a
// first argument other than -D for the legacy <host>.
func TestParseEntryArgs(t *testing.T) {
	for _, tc := range []struct {
		role, version string
		args          []string
		rest          []string
		dyn           flinkConf
	}{
		// The charts' HA JobManager, on both lines.
		{roleJobManager, "1.20.0", []string{"-D", "jobmanager.rpc.address=127.0.0.1"}, nil, flinkConf{"jobmanager.rpc.address": "127.0.0.1"}},
		{roleJobManager, "2.3.0", []string{"-D", "jobmanager.rpc.address=127.0.0.1"}, nil, flinkConf{"jobmanager.rpc.address": "127.0.0.1"}},
		// After a first -D the parser takes either form.
		{roleJobManager, "1.20.0", []string{"-D", "a=1", "-Db=2", "-D", "c"}, nil, flinkConf{"a": "1", "b": "2", "c": "true"}},
		{roleJobManager, "1.20.0", nil, nil, flinkConf{}},
		// The legacy host (and web UI port): --host on 1.x, dynamic properties on 2.x.
		{roleJobManager, "1.20.0", []string{"10.0.0.5", "8082", "-D", "a=1"}, []string{"--host", "10.0.0.5", "--webui-port", "8082"}, flinkConf{"a": "1"}},
		{roleJobManager, "2.3.0", []string{"10.0.0.5"}, nil, flinkConf{"jobmanager.rpc.address": "10.0.0.5"}},
		// taskmanager.sh and kubernetes-*.sh pass everything on.
		{roleTaskManager, "1.20.0", []string{"-Da=1", "-D", "b=2"}, nil, flinkConf{"a": "1", "b": "2"}},
		{roleNativeTaskManager, "2.3.0", []string{"-Dtaskmanager.resource-id=tm-1-1", "-Dtaskmanager.cpu.cores=0.5"}, nil, flinkConf{"taskmanager.resource-id": "tm-1-1", "taskmanager.cpu.cores": "0.5"}},
		// An application's options end at its first job argument: what follows is the job's,
		// -D included.
		{roleApplication, "2.3.0",
			[]string{"--job-classname", "C", "--job-id", "00ff", "--fromSavepoint", "file:///sp", "--allowNonRestoredState", "-D", "jobmanager.rpc.address=127.0.0.1", "--windowSize", "2000", "-Dx=y"},
			[]string{"--job-classname", "C", "--job-id", "00ff", "--fromSavepoint", "file:///sp", "--allowNonRestoredState", "--windowSize", "2000", "-Dx=y"},
			flinkConf{"jobmanager.rpc.address": "127.0.0.1"}},
		{roleApplication, "1.20.0", []string{"-Djobmanager.rpc.address=127.0.0.1", "-j", "C", "in.txt"}, []string{"-j", "C", "in.txt"}, flinkConf{"jobmanager.rpc.address": "127.0.0.1"}},
	} {
		dyn := flinkConf{}
		rest, err := parseEntryArgs(tc.role, tc.version, tc.args, dyn)
		if err != nil || !reflect.DeepEqual(rest, tc.rest) || !reflect.DeepEqual(dyn, tc.dyn) {
			t.Errorf("%s %s %q: rest %q, properties %v, %v; want %q, %v", tc.role, tc.version, tc.args, rest, dyn, err, tc.rest, tc.dyn)
		}
	}
}

// What Flink refuses, or starts with a bogus address, is refused with Flink's reason.
func TestParseEntryArgsRefusesWhatFlinkRefuses(t *testing.T) {
	for _, tc := range []struct {
		role, version string
		args          []string
		want          string
	}{
		// -Dkey=value first: jobmanager.sh's <host>. 1.20 dies in its parser, 2.3 would publish it.
		{roleJobManager, "1.20.0", []string{"-Djobmanager.rpc.address=127.0.0.1"}, `Missing argument for option: h (jobmanager.sh took the first argument "-Djobmanager.rpc.address=127.0.0.1" for the legacy <host>`},
		{roleJobManager, "2.3.0", []string{"-Djobmanager.rpc.address=127.0.0.1"}, `jobmanager.rpc.address "-Djobmanager.rpc.address=127.0.0.1" is no host name`},
		{roleJobManager, "2.3.0", []string{"-Da=b", "-D", "c=d"}, `jobmanager.rpc.address "-Da=b" is no host name`},
		{roleJobManager, "1.20.0", []string{"-D"}, "Missing argument for option: D"},
		{roleTaskManager, "2.3.0", []string{"-D", "-Da=b"}, "Missing argument for option: D"},
		{roleApplication, "2.3.0", []string{"--job-classname", "-D", "a=b"}, "Missing argument for option: j"},
		{roleApplication, "2.3.0", []string{"-D", "jobmanager.rpc.address=$(POD_IP)", "--job-classname", "C"}, `jobmanager.rpc.address "$(POD_IP)" is no host name`},
	} {
		_, err := parseEntryArgs(tc.role, tc.version, tc.args, flinkConf{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s %q: %v, want an error with %q", tc.role, tc.version, tc.args, err, tc.want)
		}
	}
}
