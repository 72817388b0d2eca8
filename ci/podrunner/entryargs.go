package main

import (
	"fmt"
	"regexp"
	"strings"
)

// A Flink container's args reach Flink through the image's scripts and then a commons-cli parser
// (Flink's CommandLineParser, which stops at the first argument it does not know). The pod runner
// reads them the same way, so that args Flink refuses are refused here too instead of working on
// the stack only: jobmanager.sh takes a first argument that is not exactly -D for the legacy
// <host>, so `jobmanager -Dkey=value` fails on Flink 1.x and publishes a bogus address on 2.x,
// while `jobmanager -D key=value` works everywhere.

// cliOptions are the options of Flink's entrypoint parsers that take a value, by long and short
// name (-D aside); an option's value must not look like an option.
var cliOptions = map[string]string{
	"configDir": "c", "host": "h", "webui-port": "r", "executionMode": "x",
	"job-classname": "j", "job-id": "jid", "fromSavepoint": "s", "restoreMode": "rm", "claimMode": "cm", "jars": "jars",
}

// cliFlags are the entrypoint parsers' options without a value.
var cliFlags = map[string]string{"allowNonRestoredState": "n"}

// parseEntryArgs reads the args after a Flink container's command as Flink's scripts and parser
// do: it moves the dynamic properties into dyn and returns the other arguments (options, then
// whatever the parser stopped at: an application's job arguments). version is the Flink release
// (jobmanager.sh passes a legacy host on differently in 1.x and 2.x). The error is what Flink would
// fail with, or, where Flink starts with a bogus address the runner's rewrites would hide, says so.
func parseEntryArgs(role, version string, args []string, dyn flinkConf) ([]string, error) {
	legacyHost := ""
	if role == roleJobManager {
		args, legacyHost = jobManagerScript(version, args)
	}
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch name, isOpt := optionName(a); {
		case a == "-D":
			// -D takes two values: "key=value" splits at '=', else a second argument follows.
			if i+1 == len(args) || isOption(args[i+1]) {
				return nil, missingArgument("D", legacyHost)
			}
			k, v, ok := strings.Cut(args[i+1], "=")
			i++
			if !ok {
				v = "true"
				if i+1 < len(args) && !isOption(args[i+1]) {
					v = args[i+1]
					i++
				}
			}
			dyn[k] = v
		case strings.HasPrefix(a, "-D"):
			k, v, ok := strings.Cut(a[2:], "=")
			if !ok {
				v = "true"
			}
			dyn[k] = v
		case isOpt && cliOptions[name] != "":
			if i+1 == len(args) || isOption(args[i+1]) {
				return nil, missingArgument(cliOptions[name], legacyHost)
			}
			rest = append(rest, a, args[i+1])
			i++
		case isOpt:
			rest = append(rest, a)
		default:
			return append(rest, args[i:]...), nil
		}
	}
	if isJobManager(role) {
		for _, k := range []string{"jobmanager.rpc.address", "rest.address"} {
			if v, ok := dyn[k]; ok && !hostName.MatchString(v) {
				why := ""
				if legacyHost != "" {
					why = fmt.Sprintf(" (jobmanager.sh of Flink %s took the first argument %q for the legacy <host>: write dynamic properties as -D key=value)", version, legacyHost)
				}
				return nil, fmt.Errorf("%s %q is no host name: the JobManager would publish it as its address%s", k, v, why)
			}
		}
	}
	return rest, nil
}

// jobManagerScript is what jobmanager.sh start-foreground (1.20 and 2.x) makes of its args: all
// dynamic properties when the first is empty or exactly -D; otherwise the first is the legacy
// <host> and a second, unless -D, the web UI port, which Flink 1.x passes on as --host and
// --webui-port and 2.x as the dynamic properties jobmanager.rpc.address and rest.port. It returns
// the args and the legacy host ("" when none).
func jobManagerScript(version string, args []string) ([]string, string) {
	if len(args) == 0 || args[0] == "" || args[0] == "-D" {
		return args, ""
	}
	host, rest, port := args[0], args[1:], ""
	if len(rest) > 0 && rest[0] != "" && rest[0] != "-D" {
		port, rest = rest[0], rest[1:]
	}
	out := append([]string{}, rest...)
	if strings.HasPrefix(version, "1.") {
		out = append(out, "--host", host)
		if port != "" {
			out = append(out, "--webui-port", port)
		}
		return out, host
	}
	out = append(out, "-D", "jobmanager.rpc.address="+host)
	if port != "" {
		out = append(out, "-D", "rest.port="+port)
	}
	return out, host
}

// optionName is the name of an option the parsers know (-D aside), without dashes and value.
func optionName(a string) (string, bool) {
	if !strings.HasPrefix(a, "-") || len(a) < 2 {
		return "", false
	}
	name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
	if strings.HasPrefix(a, "--") {
		_, opt := cliOptions[name]
		_, flag := cliFlags[name]
		return name, opt || flag
	}
	for long, short := range cliOptions {
		if short == name {
			return long, true
		}
	}
	for long, short := range cliFlags {
		if short == name {
			return long, true
		}
	}
	return "", false
}

// isOption: commons-cli would read the argument as an option, not as a value (-Dkey=value
// included); a negative number is a value.
func isOption(a string) bool {
	if strings.HasPrefix(a, "-D") {
		return true
	}
	if negativeNumber.MatchString(a) {
		return false
	}
	_, ok := optionName(a)
	return ok
}

var (
	negativeNumber = regexp.MustCompile(`^-[0-9]+(\.[0-9]+)?$`)
	// hostName: a DNS name or an IP address, as Flink can publish and bind to.
	hostName = regexp.MustCompile(`^([A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$`)
)

// missingArgument is commons-cli's error for an option without its value, as Flink's entrypoint
// reports it; legacyHost names jobmanager.sh's reading of the args when it is the cause.
func missingArgument(short, legacyHost string) error {
	err := fmt.Errorf("org.apache.commons.cli.MissingArgumentException: Missing argument for option: %s", short)
	if short == "h" && legacyHost != "" {
		err = fmt.Errorf("%w (jobmanager.sh took the first argument %q for the legacy <host>: write dynamic properties as -D key=value)", err, legacyHost)
	}
	return err
}
