#!/usr/bin/env bash
# The local real stack: a kwokctl binary-runtime Kubernetes control plane (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kwok), a real node (ci/node.sh: containerd, runc, CNI,
# kubelet, kube-proxy, CoreDNS) that runs every pod as a container of the images ci/images.sh
# builds, and the storage provisioner (ci/provisioner) of the default StorageClass `standard`
# (kwok/storageclass.yaml): a folder of the node per claim.
#
#   ci/stack.sh up      idempotent; a half-dead stack from a killed run is torn down first
#   ci/stack.sh down    stops exactly what `up` started
#   ci/stack.sh status  exit 0 when the stack answers
#   ci/stack.sh restart-apiserver   stops and starts the API server (e2e's faults)
#
# The kubeconfig is at .cache/stack/kubeconfig.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
. "$here/versions.sh"

name=helm-flink
state="$top/.cache/stack"
bin="$top/.cache/bin"
kubeconfig="$state/kubeconfig"
export KWOK_WORKDIR="$state/kwok"
provisioner_pid="$state/provisioner.pid"
volumes="$state/volumes"

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
  [ -f "$kubeconfig" ] && alive "$provisioner_pid" &&
    kubectl_ get --raw /readyz >/dev/null 2>&1 && node_healthy
}

start_provisioner() {
  mkdir -p "$volumes"
  setsid "$bin/provisioner" --kubeconfig "$kubeconfig" --root "$volumes" \
    >>"$state/provisioner.log" 2>&1 < /dev/null &
  echo $! > "$provisioner_pid"
  sha256sum < "$bin/provisioner" > "$state/provisioner.sha"
}

down() {
  stop "$provisioner_pid" 50
  rm -f "$provisioner_pid"
  # A pod runner of an older checkout (its JVMs recorded in its process file).
  if [ -f "$state/podrunner.pid" ]; then
    stop "$state/podrunner.pid" 150
    if [ -f "$state/runner/processes" ]; then
      while read -r pgid; do [ -n "$pgid" ] && kill -KILL -- "-$pgid" 2>/dev/null || true; done < "$state/runner/processes"
    fi
    rm -rf "$state/podrunner."* "$state/runner"
  fi
  if [ -x "$bin/kwokctl" ] && [ -d "$KWOK_WORKDIR/clusters/$name" ]; then
    "$bin/kwokctl" delete cluster --name "$name" --kubeconfig "$kubeconfig" >/dev/null 2>&1 || true
  fi
  rm -rf "$KWOK_WORKDIR/clusters/$name" "$kubeconfig"
  # After the control plane: its controller-manager recreates the flex volume folder
  # (/usr/libexec/kubernetes/kubelet-plugins/volume/exec) that the node's clean-up removes.
  node_down
  # The volumes of the cluster's claims go with the cluster.
  rm -rf "$volumes"
}

storage_class() {
  kubectl_ apply -f "$here/kwok/storageclass.yaml" >/dev/null
}

up() {
  bash "$here/build-tools.sh" host kube etcd kwok kuberouter
  bash "$here/fetch-flink.sh"
  bash "$here/images.sh" build
  (cd "$top" && go build -o "$bin/provisioner" ./ci/provisioner)
  local want; want=$(cat "$here/kwok/kwok.yaml" "$here/versions.sh" "$here/node.sh" "$here"/node/* | sha256sum)
  if healthy && [ "$want" != "$(cat "$state/cluster.sha" 2>/dev/null)" ]; then
    echo "stack: kwok config or versions changed; recreating the cluster"
    down
  fi
  if healthy; then
    storage_class
    bash "$here/images.sh" import "$ctr_sock"
    # A changed provisioner replaces the running one; the cluster stays.
    if [ "$(sha256sum < "$bin/provisioner")" != "$(cat "$state/provisioner.sha" 2>/dev/null)" ]; then
      stop "$provisioner_pid" 50
      start_provisioner
      echo "stack: provisioner restarted (kubeconfig $kubeconfig)"
    else
      echo "stack: already up (kubeconfig $kubeconfig)"
    fi
    return 0
  fi
  down
  mkdir -p "$state"
  local t0=$SECONDS
  # The control plane binds to the node's bridge address: the bridge comes first.
  node_record_paths
  node_bridge
  cp "$here/kwok/kwok.yaml" "$state/kwok.yaml"
  "$bin/kwokctl" create cluster --name "$name" --runtime binary \
    --config "$state/kwok.yaml" \
    --kube-apiserver-binary "$bin/kube-apiserver" \
    --kube-controller-manager-binary "$bin/kube-controller-manager" \
    --kube-scheduler-binary "$bin/kube-scheduler" \
    --etcd-binary "$bin/etcd" --kwok-controller-binary "$bin/kwok" \
    --kubeconfig "$kubeconfig" --wait 120s >"$state/kwokctl.log" 2>&1 || {
      echo "stack: kwokctl create cluster failed:" >&2; tail -20 "$state/kwokctl.log" >&2; exit 1; }
  echo "$want" > "$state/cluster.sha"
  storage_class
  node_up

  start_provisioner
  for _ in $(seq 1 600); do
    if healthy && [ "$(kubectl_ get nodes --no-headers 2>/dev/null | grep -c ' Ready')" -ge 1 ]; then
      echo "stack: up in $((SECONDS - t0))s (kubeconfig $kubeconfig)"
      return 0
    fi
    alive "$provisioner_pid" || { echo "stack: provisioner exited:" >&2; tail -20 "$state/provisioner.log" >&2; exit 1; }
    sleep 0.2
  done
  echo "stack: not ready after 120s; see $state/*.log" >&2
  exit 1
}

# The API server stopped (SIGTERM) and started again with the same command line, as a rolling
# control-plane upgrade does to every client: watches and port-forwards through it break. kwokctl
# starts components only with the whole cluster, so this does what it does for one: the pid file
# it reads at `down` gets the new process.
restart_apiserver() {
  local pids="$KWOK_WORKDIR/clusters/$name/pids" pid dir t0=$SECONDS
  pid=$(cat "$pids/kube-apiserver.pid")
  kill -0 "$pid" 2>/dev/null || { echo "stack: no kube-apiserver running" >&2; exit 1; }
  dir=$(readlink "/proc/$pid/cwd")
  mapfile -d '' args < "/proc/$pid/cmdline"
  stop "$pids/kube-apiserver.pid" 100
  # A simple command in the background: the shell execs it, so $! is the API server itself,
  # and it holds none of this script's output open.
  cd "$dir"
  setsid "${args[@]}" >>"$KWOK_WORKDIR/clusters/$name/logs/kube-apiserver.log" 2>&1 < /dev/null &
  printf %s $! > "$pids/kube-apiserver.pid" # kwokctl reads a bare number
  cd "$top"
  for _ in $(seq 1 600); do
    if kubectl_ get --raw /readyz >/dev/null 2>&1; then
      local c
      for c in kube-controller-manager kube-scheduler; do
        alive "$pids/$c.pid" || { echo "stack: $c exited while the API server restarted" >&2; exit 1; }
      done
      echo "stack: kube-apiserver restarted in $((SECONDS - t0))s"
      return 0
    fi
    sleep 0.1
  done
  echo "stack: kube-apiserver not ready 60s after its restart" >&2
  exit 1
}

case "${1:-}" in
  up) up ;;
  restart-apiserver) restart_apiserver ;;
  down) down; echo "stack: down" ;;
  status) healthy ;;
  *) echo "usage: $0 up|down|status|restart-apiserver" >&2; exit 2 ;;
esac
