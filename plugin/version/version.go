// Package version carries the build's version, stamped by the Makefile with -ldflags -X.
package version

import (
	"fmt"
	"runtime"
)

// Set by the Makefile; a plain `go build` reports a development build.
var (
	Version = "v0.0.0-dev"
	Commit  = "unknown"
)

// Info is what `helm flink version` prints.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// Get returns the version of this binary.
func Get() Info {
	return Info{Version: Version, Commit: Commit, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
}

func (i Info) String() string {
	return fmt.Sprintf("helm-flink %s (commit %s, %s, %s)", i.Version, i.Commit, i.GoVersion, i.Platform)
}
