// Package charts holds the tests of the Helm charts in this folder: golden renders of each
// chart's ci/ values sets (rewritten with `go test ./charts -update`), determinism, and what a
// values change may change.
package charts
