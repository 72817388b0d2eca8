#!/usr/bin/env bash
# The local real stack: a kwokctl binary-runtime Kubernetes control plane (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kwok), a real node (ci/node.sh: containerd, runc, CNI,
# kubelet, kube-proxy, CoreDNS) that runs every pod as a container of the images ci/images.sh
# builds, and — until every test has moved to the node — a fake node whose Flink pods the pod
# runner runs as JVMs (namespaces labelled helm-flink.dev/pod-runner=enabled).
#
#   ci/stack.sh up      idempotent; a half-dead stack from a killed run is torn down first
#   ci/stack.sh down    stops exactly what `up` started
#   ci/stack.sh status  exit 0 when the stack answers
#
# The kubeconfig is at .cache/stack/kubeconfig. Namespaces labelled helm-flink.dev/pod-runner=enabled
# (and `default`) get their Flink pods run for real. The default StorageClass `standard`
# (kwok/storageclass.yaml) is provisioned by the pod runner: a folder per claim.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
. "$here/versions.sh"

name=helm-flink
state="$top/.cache/stack"
bin="$top/.cache/bin"
kubeconfig="$state/kubeconfig"
export KWOK_WORKDIR="$state/kwok"
runner_pid="$state/podrunner.pid"
runner_addr="$state/podrunner.addr"
label=helm-flink.dev/pod-runner=enabled
# The pod runner's namespaces schedule onto the fake nodes (PodNodeSelector, kwok/admission.yaml).
runner_selector=scheduler.alpha.kubernetes.io/node-selector=type=kwok

kubectl_() { "$bin/kubectl" --kubeconfig "$kubeconfig" "$@"; }

. "$here/node.sh"

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop PIDFILE [TENTHS]: SIGTERM, SIGKILL after TENTHS tenths of a second (default 100).
stop() {
  if alive "$1"; then
    local pid; pid=$(cat "$1")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 "${2:-100}"); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
}

healthy() {
  [ -f "$kubeconfig" ] && alive "$runner_pid" && [ -f "$runner_addr" ] &&
    kubectl_ get --raw /readyz >/dev/null 2>&1 && node_healthy &&
    curl -sf "http://$(cat "$runner_addr")/processes" >/dev/null 2>&1
}

start_runner() {
  mkdir -p "$state/runner"
  setsid "$bin/podrunner" --kubeconfig "$kubeconfig" --workdir "$state/runner" \
    --flink-cache "$HELM_FLINK_CACHE/flink" --flink-versions "$FLINK1_VERSION,$FLINK2_VERSION" \
    --namespace-label "$label" --address-file "$runner_addr" --kubectl "$bin/kubectl" \
    >>"$state/podrunner.log" 2>&1 < /dev/null &
  echo $! > "$runner_pid"
  sha256sum < "$bin/podrunner" > "$state/podrunner.sha"
  for _ in $(seq 1 100); do [ -s "$runner_addr" ] && return 0; sleep 0.1; done
}

stop_runner() {
  stop "$runner_pid" 150
  rm -f "$runner_addr"
}

down() {
  stop_runner
  # JVMs of a runner that was killed with -9 are recorded in its process file.
  if [ -f "$state/runner/processes" ]; then
    while read -r pgid; do [ -n "$pgid" ] && kill -KILL -- "-$pgid" 2>/dev/null || true; done < "$state/runner/processes"
  fi
  rm -f "$runner_pid" "$runner_addr" "$state/runner/processes"
  if [ -x "$bin/kwokctl" ] && [ -d "$KWOK_WORKDIR/clusters/$name" ]; then
    "$bin/kwokctl" delete cluster --name "$name" --kubeconfig "$kubeconfig" >/dev/null 2>&1 || true
  fi
  rm -rf "$KWOK_WORKDIR/clusters/$name" "$kubeconfig"
  # After the control plane: its controller-manager recreates the flex volume folder
  # (/usr/libexec/kubernetes/kubelet-plugins/volume/exec) that the node's clean-up removes.
  node_down
  # The volumes of the cluster's claims go with the cluster.
  rm -rf "$state/runner/pvc"
}

storage_class() {
  kubectl_ apply -f "$here/kwok/storageclass.yaml" >/dev/null
}

up() {
  bash "$here/build-tools.sh" host kube etcd kwok
  bash "$here/fetch-flink.sh"
  bash "$here/images.sh" build
  (cd "$top" && go build -o "$bin/podrunner" ./ci/podrunner)
  local want; want=$(cat "$here/kwok/kwok.yaml" "$here/kwok/admission.yaml" "$here/versions.sh" "$here/node.sh" "$here"/node/* | sha256sum)
  if healthy && [ "$want" != "$(cat "$state/cluster.sha" 2>/dev/null)" ]; then
    echo "stack: kwok config or versions changed; recreating the cluster"
    down
  fi
  if healthy; then
    storage_class
    bash "$here/images.sh" import "$ctr_sock"
    # A changed pod runner replaces the running one; the cluster stays.
    if [ "$(sha256sum < "$bin/podrunner")" != "$(cat "$state/podrunner.sha" 2>/dev/null)" ]; then
      stop_runner
      start_runner
      echo "stack: pod runner restarted (kubeconfig $kubeconfig)"
    else
      echo "stack: already up (kubeconfig $kubeconfig)"
    fi
    return 0
  fi
  down
  mkdir -p "$state/runner"
  local t0=$SECONDS
  # The control plane binds to the node's bridge address: the bridge comes first.
  node_record_paths
  node_bridge
  render "$here/kwok/kwok.yaml" ADMISSION="$state/admission.yaml" > "$state/kwok.yaml"
  cp "$here/kwok/admission.yaml" "$state/admission.yaml"
  "$bin/kwokctl" create cluster --name "$name" --runtime binary \
    --config "$state/kwok.yaml" \
    --kube-apiserver-binary "$bin/kube-apiserver" \
    --kube-controller-manager-binary "$bin/kube-controller-manager" \
    --kube-scheduler-binary "$bin/kube-scheduler" \
    --etcd-binary "$bin/etcd" --kwok-controller-binary "$bin/kwok" \
    --enable-crds=PortForward,ClusterPortForward,Logs \
    --kubeconfig "$kubeconfig" --wait 120s >"$state/kwokctl.log" 2>&1 || {
      echo "stack: kwokctl create cluster failed:" >&2; tail -20 "$state/kwokctl.log" >&2; exit 1; }
  "$bin/kwokctl" --name "$name" scale node --replicas 1 --param '.nodeIPs=["127.0.0.1"]' >>"$state/kwokctl.log" 2>&1
  echo "$want" > "$state/cluster.sha"
  kubectl_ label namespace default "$label" --overwrite >/dev/null
  kubectl_ annotate namespace default "$runner_selector" --overwrite >/dev/null
  storage_class
  node_up

  start_runner
  for _ in $(seq 1 600); do
    if healthy && [ "$(kubectl_ get nodes --no-headers 2>/dev/null | grep -c ' Ready')" -ge 2 ]; then
      echo "stack: up in $((SECONDS - t0))s (kubeconfig $kubeconfig, pod runner at $(cat "$runner_addr"))"
      return 0
    fi
    alive "$runner_pid" || { echo "stack: pod runner exited:" >&2; tail -20 "$state/podrunner.log" >&2; exit 1; }
    sleep 0.2
  done
  echo "stack: not ready after 120s; see $state/*.log" >&2
  exit 1
}

case "${1:-}" in
  up) up ;;
  down) down; echo "stack: down" ;;
  status) healthy ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
