#!/usr/bin/env bash
# `make fixtures`: captures the REST answers that plugin/flink's unit tests replay, from real Flink
# JobManagers of both pinned versions. Per version it starts a session cluster of the local stack
# (ci/smoke/session.yaml in a namespace of its own), port-forwards the JobManager's REST port and
# runs plugin/flink/internal/capture, which writes plugin/flink/testdata/<version>/*.json.
# The namespaces are deleted afterwards; the stack stays up (ci/stack.sh down stops it).
#
#   ci/capture-fixtures.sh [flink-version...]     default: $FLINK1_VERSION $FLINK2_VERSION
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
. "$here/versions.sh"
bin="$top/.cache/bin"
export KUBECONFIG="$top/.cache/stack/kubeconfig"

bash "$here/stack.sh" up
(cd "$top" && go build -o "$top/.cache/bin/flink-capture" ./plugin/flink/internal/capture)

work=$(mktemp -d)
pf=
ns=
cleanup() {
  [ -n "$pf" ] && kill "$pf" 2>/dev/null || true
  [ -n "$ns" ] && "$bin/kubectl" delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

capture() {
  local v=$1 mm=${1%.*}
  ns="flink-fixtures-${mm//./-}"
  local k=("$bin/kubectl" -n "$ns")
  echo "fixtures: Flink $v in namespace $ns"
  "$bin/kubectl" delete namespace "$ns" --ignore-not-found --wait=true >/dev/null
  "$bin/kubectl" create namespace "$ns" >/dev/null
  "$bin/kubectl" label namespace "$ns" helm-flink.dev/pod-runner=enabled >/dev/null
  sed "s|\${FLINK_IMAGE}|flink:$mm-java17|" "$here/smoke/session.yaml" | "${k[@]}" apply -f - >/dev/null
  "${k[@]}" rollout status deploy/flink-jobmanager --timeout=180s >/dev/null
  "${k[@]}" rollout status deploy/flink-taskmanager --timeout=180s >/dev/null

  local port; port=$(free_port)
  "${k[@]}" port-forward deploy/flink-jobmanager "$port:8081" >"$work/port-forward.log" 2>&1 &
  pf=$!
  local rest="http://127.0.0.1:$port" got=
  for _ in $(seq 1 300); do
    got=$(curl -sf "$rest/overview" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["flink-version"])' 2>/dev/null) && break
    sleep 0.2
  done
  if [ "$got" != "$v" ]; then
    echo "fixtures: the JobManager at $rest answers Flink '${got:-nothing}', want $v" >&2
    exit 1
  fi
  (cd "$top" && "$bin/flink-capture" -url "$rest" -out plugin/flink/testdata \
    -jar "$HELM_FLINK_CACHE/flink/$v/examples/TopSpeedWindowing.jar" -savepoint-dir "$work/savepoints-$v")

  kill "$pf" 2>/dev/null || true
  wait "$pf" 2>/dev/null || true
  pf=
  "$bin/kubectl" delete namespace "$ns" --wait=true --timeout=120s >/dev/null
  ns=
}

for v in ${*:-$FLINK1_VERSION $FLINK2_VERSION}; do capture "$v"; done
echo "fixtures: written to plugin/flink/testdata/"
