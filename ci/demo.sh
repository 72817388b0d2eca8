#!/usr/bin/env bash
# `make demo`: installs the plugin into Helm, then `helm flink install`s a Flink session cluster
# with the TopSpeedWindowing job and returns when every task is RUNNING — on the cluster of the
# current kubeconfig when one answers, else on the local real stack (ci/stack.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
. "$here/versions.sh"
bin="$top/.cache/bin"
ns=${DEMO_NAMESPACE:-flink-demo}

if "$bin/kubectl" version --request-timeout=5s >/dev/null 2>&1; then
  echo "demo: using the cluster of the current kubeconfig ($("$bin/kubectl" config current-context))"
else
  bash "$here/stack.sh" up
  export KUBECONFIG="$top/.cache/stack/kubeconfig"
  echo "demo: no cluster in the kubeconfig answered; using the local stack"
fi

# The plugin, installed from this checkout into a Helm of the project's own.
export HELM_DATA_HOME="$top/.cache/helm/data" HELM_CONFIG_HOME="$top/.cache/helm/config" HELM_CACHE_HOME="$top/.cache/helm/cache"
export HELM_PLUGINS="$HELM_DATA_HOME/plugins"
helm="$bin/helm3"
"$helm" plugin uninstall flink >/dev/null 2>&1 || true
"$helm" plugin install "$top" >/dev/null
echo "demo: $("$helm" flink version)"

"$bin/kubectl" create namespace "$ns" --dry-run=client -o yaml | "$bin/kubectl" apply -f - >/dev/null
"$helm" flink uninstall demo -n "$ns" >/dev/null 2>&1 || true

jar="$HELM_FLINK_CACHE/flink/$FLINK1_VERSION/examples/TopSpeedWindowing.jar"
[ -f "$jar" ] || bash "$here/fetch-flink.sh"
set -x
"$helm" flink install demo "$top/charts/flink-session" -n "$ns" --jar "$jar" --timeout 5m
