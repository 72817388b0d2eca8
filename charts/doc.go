// Package charts holds the tests of the Helm charts in this folder: golden renders of each
// chart's ci/ values sets (rewritten with `go test ./charts -update`), determinism, what a
// values change may change, Flink container args in the form Flink's scripts parse, deadlines of
// every hook, and env the image's entrypoint cannot apply refused alike by the charts and
// `helm flink validate`.
package charts
