#!/usr/bin/env bash
# `make demo`: installs the plugin into Helm, then runs a Flink session cluster with the
# TopSpeedWindowing job until every task is RUNNING — on the cluster of the current kubeconfig
# when one answers, else on the local real stack (ci/stack.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
. "$here/versions.sh"
bin="$top/.cache/bin"
ns=${DEMO_NAMESPACE:-flink-demo}
image=${DEMO_IMAGE:-flink:1.20-java17}

if "$bin/kubectl" version --request-timeout=5s >/dev/null 2>&1; then
  echo "demo: using the cluster of the current kubeconfig ($("$bin/kubectl" config current-context))"
else
  bash "$here/stack.sh" up
  export KUBECONFIG="$top/.cache/stack/kubeconfig"
  echo "demo: no cluster in the kubeconfig answered; using the local stack"
fi
k() { "$bin/kubectl" -n "$ns" "$@"; }

# The plugin, installed from this checkout into a Helm of the project's own.
export HELM_DATA_HOME="$top/.cache/helm/data" HELM_CONFIG_HOME="$top/.cache/helm/config" HELM_CACHE_HOME="$top/.cache/helm/cache"
export HELM_PLUGINS="$HELM_DATA_HOME/plugins"
"$bin/helm3" plugin uninstall flink >/dev/null 2>&1 || true
"$bin/helm3" plugin install "$top" >/dev/null
echo "demo: $("$bin/helm3" flink version)"

"$bin/kubectl" create namespace "$ns" --dry-run=client -o yaml | "$bin/kubectl" apply -f - >/dev/null
"$bin/kubectl" label namespace "$ns" helm-flink.dev/pod-runner=enabled --overwrite >/dev/null
sed "s|\${FLINK_IMAGE}|$image|" "$here/smoke/session.yaml" | k apply -f - >/dev/null
k rollout status deploy/flink-jobmanager --timeout=180s
k rollout status deploy/flink-taskmanager --timeout=180s

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
k port-forward deploy/flink-jobmanager "$port:8081" >/dev/null 2>&1 &
pf=$!
trap 'kill $pf 2>/dev/null || true' EXIT
rest="http://127.0.0.1:$port"
for _ in $(seq 1 100); do curl -sf "$rest/overview" >/dev/null && break; sleep 0.2; done

version=$(curl -sf "$rest/overview" | python3 -c 'import json,sys; print(json.load(sys.stdin)["flink-version"])')
jar="$HELM_FLINK_CACHE/flink/$version/examples/TopSpeedWindowing.jar"
[ -f "$jar" ] || bash "$here/fetch-flink.sh" "$version"
id=$(curl -sf -X POST -F "jarfile=@$jar" "$rest/jars/upload" | python3 -c 'import json,os,sys; print(os.path.basename(json.load(sys.stdin)["filename"]))')
job=$(curl -sf -X POST -H 'Content-Type: application/json' -d '{"parallelism": 2}' "$rest/jars/$id/run" | python3 -c 'import json,sys; print(json.load(sys.stdin)["jobid"])')
curl -sf -X DELETE "$rest/jars/$id" >/dev/null || true
echo "demo: submitted TopSpeedWindowing as job $job; waiting until every task is RUNNING"
for _ in $(seq 1 600); do
  if curl -sf "$rest/jobs/$job" | python3 -c '
import json, sys
j = json.load(sys.stdin)
if j["state"] == "FAILED": sys.exit(2)
ok = j["state"] == "RUNNING" and all(v["tasks"].get("RUNNING", 0) + v["tasks"].get("FINISHED", 0) == v["parallelism"] for v in j["vertices"])
sys.exit(0 if ok else 1)'; then
    curl -sf "$rest/jobs/$job" | python3 -c '
import json, sys
j = json.load(sys.stdin)
print("job %s  %s  state=%s" % (j["jid"], j["name"], j["state"]))
for v in j["vertices"]:
    print("  %-60s parallelism=%d  %s" % (v["name"][:60], v["parallelism"], v["status"]))'
    echo "demo: Flink UI: kubectl -n $ns port-forward deploy/flink-jobmanager 8081:8081, then http://localhost:8081"
    exit 0
  elif [ $? = 2 ]; then
    echo "demo: job $job FAILED:" >&2
    curl -sf "$rest/jobs/$job/exceptions" | python3 -c 'import json,sys; e=json.load(sys.stdin).get("exceptionHistory",{}).get("entries",[]); print(e[0]["stacktrace"][:2000] if e else "no exception recorded")' >&2
    exit 3
  fi
  sleep 0.2
done
echo "demo: job $job did not reach RUNNING with every task in 120s" >&2
exit 2
