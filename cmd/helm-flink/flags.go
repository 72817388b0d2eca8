package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/pflag"
	"helm.sh/helm/v3/pkg/action"
	"k8s.io/client-go/util/homedir"

	"github.com/helm-flink/helm-flink/plugin/jobmanager"
	"github.com/helm-flink/helm-flink/plugin/values"
)

// addChartFlags adds Helm's flags for locating a chart, with Helm's names and meaning.
func addChartFlags(f *pflag.FlagSet, o *action.ChartPathOptions) {
	f.StringVar(&o.Version, "version", "", "chart version constraint (default: the latest)")
	f.StringVar(&o.RepoURL, "repo", "", "chart repository URL where to locate the chart")
	f.StringVar(&o.Username, "username", "", "chart repository or registry username")
	f.StringVar(&o.Password, "password", "", "chart repository or registry password")
	f.StringVar(&o.CertFile, "cert-file", "", "identify HTTPS client using this SSL certificate file")
	f.StringVar(&o.KeyFile, "key-file", "", "identify HTTPS client using this SSL key file")
	f.StringVar(&o.CaFile, "ca-file", "", "verify certificates of HTTPS-enabled servers using this CA bundle")
	f.BoolVar(&o.InsecureSkipTLSverify, "insecure-skip-tls-verify", false, "skip TLS certificate checks for the chart download")
	f.BoolVar(&o.PlainHTTP, "plain-http", false, "use insecure HTTP connections for the chart download")
	f.BoolVar(&o.PassCredentialsAll, "pass-credentials", false, "pass credentials to all domains")
	f.BoolVar(&o.Verify, "verify", false, "verify the chart package's provenance (.prov) before using it")
	f.StringVar(&o.Keyring, "keyring", defaultKeyring(), "location of public keys used for verification")
}

// defaultKeyring is Helm's: pubring.gpg in $GNUPGHOME, else in ~/.gnupg.
func defaultKeyring() string {
	if v, ok := os.LookupEnv("GNUPGHOME"); ok {
		return filepath.Join(v, "pubring.gpg")
	}
	return filepath.Join(homedir.HomeDir(), ".gnupg", "pubring.gpg")
}

// addValueFlags adds Helm's value flags with Helm's names, shorthands and help texts.
func addValueFlags(f *pflag.FlagSet, o *values.Options) {
	f.StringSliceVarP(&o.ValueFiles, "values", "f", []string{}, "specify values in a YAML file or a URL (can specify multiple)")
	f.StringArrayVar(&o.Values, "set", []string{}, "set values on the command line (can specify multiple or separate values with commas: key1=val1,key2=val2)")
	f.StringArrayVar(&o.StringValues, "set-string", []string{}, "set STRING values on the command line (can specify multiple or separate values with commas: key1=val1,key2=val2)")
	f.StringArrayVar(&o.FileValues, "set-file", []string{}, "set values from respective files specified via the command line (can specify multiple or separate values with commas: key1=path1,key2=path2)")
	f.StringArrayVar(&o.JSONValues, "set-json", []string{}, "set JSON values on the command line (can specify multiple or separate values with commas: key1=jsonval1,key2=jsonval2)")
	f.StringArrayVar(&o.LiteralValues, "set-literal", []string{}, "set a literal STRING value on the command line")
}

// addJobFlags adds the flags that say which job to run, and whether to wait for it.
func addJobFlags(f *pflag.FlagSet, j *jobmanager.Spec, noWaitRunning *bool) {
	f.StringVar(&j.Jar, "jar", "", "job jar: a local path or an http(s) URL (flink-job: local:///opt/flink/usrlib/… or http(s))")
	f.StringVar(&j.EntryClass, "entry-class", "", "the job's main class (default: the jar manifest's)")
	f.StringArrayVar(&j.Args, "args", nil, "an argument of the job's main method (repeat for more)")
	f.Var(newIntAtLeast(&j.Parallelism, 0, 1), "parallelism", "job parallelism (default: the cluster's parallelism.default)")
	f.StringVar(&j.Savepoint, "savepoint", "", "savepoint or retained checkpoint to start the job from")
	f.BoolVar(&j.AllowNonRestoredState, "allow-non-restored-state", false, "allow savepoint state that maps to no operator of the job")
	f.BoolVar(noWaitRunning, "no-wait-running", false, "return once the job is submitted instead of when every task is RUNNING")
}

// intAtLeast is an int flag refused when parsed below min: one rule for every command that has
// the flag (a default below min, such as -1 for "not given", is left alone).
type intAtLeast struct {
	p   *int
	min int
}

func newIntAtLeast(p *int, def, min int) intAtLeast {
	*p = def
	return intAtLeast{p, min}
}

func (f intAtLeast) String() string { return strconv.Itoa(*f.p) }
func (f intAtLeast) Type() string   { return "int" }
func (f intAtLeast) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return errors.New("not a whole number")
	}
	if n < f.min {
		return fmt.Errorf("must be at least %d", f.min)
	}
	*f.p = n
	return nil
}

// positiveDuration is a duration flag refused when parsed at zero or below.
type positiveDuration struct{ p *time.Duration }

func newPositiveDuration(p *time.Duration, def time.Duration) positiveDuration {
	*p = def
	return positiveDuration{p}
}

func (f positiveDuration) String() string {
	if *f.p == 0 {
		return "0" // not given: pflag then prints no default
	}
	return f.p.String()
}
func (f positiveDuration) Type() string { return "duration" }
func (f positiveDuration) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("not a duration such as 90s or 10m")
	}
	if d <= 0 {
		return errors.New("must be positive, such as 90s or 10m")
	}
	*f.p = d
	return nil
}
