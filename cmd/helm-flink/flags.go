package main

import "github.com/spf13/pflag"

// jobFlags are the flags that say which job to run.
type jobFlags struct {
	jar, entryClass, savepoint string
	args                       []string
	parallelism                int
	allowNonRestored           bool
	noWaitRunning              bool
}

func (j *jobFlags) add(f *pflag.FlagSet) {
	f.StringVar(&j.jar, "jar", "", "job jar: a local path or an http(s) URL (flink-job: local:///opt/flink/usrlib/… or http(s))")
	f.StringVar(&j.entryClass, "entry-class", "", "the job's main class (default: the jar manifest's)")
	f.StringArrayVar(&j.args, "args", nil, "an argument of the job's main method (repeat for more)")
	f.IntVar(&j.parallelism, "parallelism", 0, "job parallelism (default: the cluster's parallelism.default)")
	f.StringVar(&j.savepoint, "savepoint", "", "savepoint or retained checkpoint to start the job from")
	f.BoolVar(&j.allowNonRestored, "allow-non-restored-state", false, "allow savepoint state that maps to no operator of the job")
	f.BoolVar(&j.noWaitRunning, "no-wait-running", false, "return once the job is submitted instead of when every task is RUNNING")
}
