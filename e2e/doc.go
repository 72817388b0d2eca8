// Package e2e tests helm-flink end to end on the real local stack (ci/stack.sh): a real
// Kubernetes API server, real Helm and real Flink processes. The tests carry the build tag e2e
// and run with `make e2e` (RUN=<regex> selects).
package e2e
