# The stack's real node, sourced by ci/stack.sh: containerd + runc with the CNI bridge plugin
# (Debian packages), a kubelet and kube-proxy built like the control plane, kube-router's
# NetworkPolicy firewall, CoreDNS, the S3 server (SeaweedFS) and Prometheus as pods, the images
# ci/images.sh builds imported into containerd. Every pod of a namespace without the pod-runner
# label runs here as a real container.
#
# The control plane listens on 127.0.0.1 (kwokctl's own clients need it there); the API server
# advertises the node's bridge address, where a relay (socat) takes pods' connections through the
# `kubernetes` Service to it. Nothing outside this machine can reach the bridge.
# node_down leaves the machine as node_up found it: processes, mounts, network namespaces,
# iptables chains, the bridge, and the /run, /var paths the components hard-code.

NODE=helm-flink-node
BRIDGE=hfbr0
NODE_IP=10.88.0.1
POD_CIDR=10.88.0.0/24
DNS_IP=10.0.0.10
# The API server's default Service range (kwokctl sets none).
SERVICE_CIDR=10.0.0.0/24
node_dir="$state/node"
# containerd's root (its images) outlives the stack: a warm stack-up imports nothing.
ctr_root="$HELM_FLINK_CACHE/node/containerd"
# Unix socket paths are limited to 108 bytes: not under the checkout.
run_dir=/run/helm-flink
ctr_sock="$run_dir/containerd.sock"
# Paths the components use whatever their flags say; node_up records which of them it created.
hardcoded="/run/containerd /var/lib/kubelet /var/log/containers /var/log/pods /var/lib/cni /var/run/netns /usr/libexec/kubernetes /etc/kubernetes"

ctr_() { ctr --address "$ctr_sock" -n k8s.io "$@"; }

render() { # render FILE KEY=VALUE… : the file with each @KEY@ replaced
  local f=$1 s; shift
  s=$(cat "$f")
  local kv
  for kv in "$@"; do s=${s//@${kv%%=*}@/${kv#*=}}; done
  printf '%s\n' "$s"
}

node_bridge() {
  sysctl -qw net.ipv4.ip_forward=1
  [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] && sysctl -qw net.bridge.bridge-nf-call-iptables=1
  ip link show "$BRIDGE" >/dev/null 2>&1 || ip link add "$BRIDGE" type bridge
  # Not `ip … | grep -q`: grep may exit before ip has written all, and under pipefail ip's
  # SIGPIPE reads as "no address" (the second call of an `up` then failed on adding it again).
  [[ "$(ip addr show dev "$BRIDGE")" == *"inet $NODE_IP/"* ]] || ip addr add "$NODE_IP/${POD_CIDR#*/}" dev "$BRIDGE"
  ip link set "$BRIDGE" up
}

node_record_paths() {
  local f="$state/node-created-paths" p
  [ -f "$f" ] && return 0
  : > "$f"
  for p in $hardcoded; do [ -e "$p" ] || echo "$p" >> "$f"; done
  sysctl -n net.ipv4.ip_forward > "$state/node-ip-forward"
}

node_alive() { alive "$node_dir/$1.pid"; }

node_start() { # node_start NAME CMD… : a component in its own session, output in NAME.log
  local name=$1; shift
  setsid "$@" >>"$node_dir/$name.log" 2>&1 < /dev/null &
  echo $! > "$node_dir/$name.pid"
}

node_stop() {
  stop "$node_dir/$1.pid"
  rm -f "$node_dir/$1.pid"
}

node_up() {
  node_record_paths
  mkdir -p "$node_dir" "$run_dir" "$ctr_root"
  node_bridge
  if ! node_alive containerd; then
    mkdir -p "$node_dir/cni"
    render "$here/node/containerd.toml" ROOT="$ctr_root" STATE="$run_dir/containerd-state" SOCK="$ctr_sock" \
      CNI_CONF="$node_dir/cni" > "$node_dir/containerd.toml"
    render "$here/node/cni.conflist" BRIDGE="$BRIDGE" POD_CIDR="$POD_CIDR" NODE_IP="$NODE_IP" \
      IPAM="$node_dir/ipam" > "$node_dir/cni/10-helm-flink.conflist"
    node_start containerd containerd --config "$node_dir/containerd.toml"
    for _ in $(seq 1 100); do ctr_ version >/dev/null 2>&1 && break; sleep 0.1; done
    ctr_ version >/dev/null 2>&1 || { echo "stack: containerd did not start:" >&2; tail -20 "$node_dir/containerd.log" >&2; exit 1; }
  fi
  if ! node_alive apiserver-relay; then
    local port; port=$(kubectl_ config view --minify -o jsonpath='{.clusters[0].cluster.server}'); port=${port##*:}
    node_start apiserver-relay socat "TCP-LISTEN:$port,bind=$NODE_IP,fork,reuseaddr" "TCP:127.0.0.1:$port"
  fi
  bash "$here/images.sh" import "$ctr_sock"
  if ! node_alive kubelet; then
    mkdir -p "$node_dir/kubelet" "$node_dir/pod-logs" "$node_dir/volume-plugins"
    # The kubelet binds its gRPC socket under a temporary name and renames it into place: CI's
    # checkout file system refused that rename (EXDEV, the kubelet exits), and a deep checkout
    # would pass the 108-byte limit of socket paths. So the socket folder lives in $run_dir.
    mkdir -p "$run_dir/kubelet/pod-resources"
    ln -sfn "$run_dir/kubelet/pod-resources" "$node_dir/kubelet/pod-resources"
    render "$here/node/kubelet.yaml" NODE_IP="$NODE_IP" SOCK="$ctr_sock" LOGS="$node_dir/pod-logs" \
      PLUGINS="$node_dir/volume-plugins" DNS_IP="$DNS_IP" RESOLV=/etc/resolv.conf > "$node_dir/kubelet.yaml"
    node_start kubelet "$bin/kubelet" --config "$node_dir/kubelet.yaml" --kubeconfig "$kubeconfig" \
      --root-dir "$node_dir/kubelet" --cert-dir "$node_dir/kubelet/pki" \
      --hostname-override "$NODE" --node-ip "$NODE_IP" --node-labels "helm-flink.dev/node=real" --v 1
  fi
  if ! node_alive kube-proxy; then
    render "$here/node/kube-proxy.yaml" KUBECONFIG="$kubeconfig" NODE="$NODE" NODE_IP="$NODE_IP" \
      POD_CIDR="$POD_CIDR" > "$node_dir/kube-proxy.yaml"
    node_start kube-proxy "$bin/kube-proxy" --config "$node_dir/kube-proxy.yaml" --v 1
  fi
  for _ in $(seq 1 600); do kubectl_ get node "$NODE" >/dev/null 2>&1 && break; sleep 0.2; done
  kubectl_ wait --for=condition=Ready "node/$NODE" --timeout=120s >/dev/null || {
    echo "stack: node $NODE not Ready:" >&2; tail -20 "$node_dir/kubelet.log" >&2; exit 1; }
  if ! node_alive kube-router; then
    # NetworkPolicy enforced as on a real cluster (iptables + ipset; traffic from the node itself,
    # such as probes and port-forwards, is let in as the API says); it needs the Node object.
    # Nothing else of kube-router runs.
    node_start kube-router "$bin/kube-router" --kubeconfig "$kubeconfig" --hostname-override "$NODE" \
      --run-firewall=true --run-router=false --run-service-proxy=false --enable-cni=false \
      --enable-pod-egress=false --service-cluster-ip-range="$SERVICE_CIDR" --health-port=0 --v=1
  fi
  render "$here/node/coredns.yaml" DNS_IP="$DNS_IP" | kubectl_ apply -f - >/dev/null
  render "$here/node/seaweedfs.yaml" IMAGE="docker.io/chrislusf/seaweedfs:$SEAWEEDFS_VERSION" | kubectl_ apply -f - >/dev/null
  render "$here/node/prometheus.yaml" IMAGE="quay.io/prometheus/prometheus:v$PROMETHEUS_VERSION" | kubectl_ apply -f - >/dev/null
  kubectl_ -n kube-system rollout status deploy/coredns --timeout=120s >/dev/null || {
    echo "stack: CoreDNS not ready" >&2; kubectl_ -n kube-system get pods -o wide >&2; exit 1; }
  kubectl_ -n s3 rollout status deploy/seaweedfs --timeout=120s >/dev/null || {
    echo "stack: the S3 server (SeaweedFS) not ready" >&2; kubectl_ -n s3 get pods -o wide >&2
    kubectl_ -n s3 logs deploy/seaweedfs --tail=20 >&2 || true; exit 1; }
  kubectl_ -n monitoring rollout status deploy/prometheus --timeout=120s >/dev/null || {
    echo "stack: Prometheus not ready" >&2; kubectl_ -n monitoring get pods -o wide >&2
    kubectl_ -n monitoring logs deploy/prometheus --tail=20 >&2 || true; exit 1; }
}

node_healthy() {
  node_alive containerd && node_alive apiserver-relay && node_alive kubelet && node_alive kube-proxy &&
    node_alive kube-router &&
    [ "$(kubectl_ get node "$NODE" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

# iptables chains the kubelet and kube-proxy create and `kube-proxy --cleanup` leaves
# (KUBE-FIREWALL, KUBE-KUBELET-CANARY, KUBE-IPTABLES-HINT…), and the portmap plugin's CNI-*.
node_iptables_clean() {
  local t chains c rule
  { [ -x "$bin/kube-proxy" ] && "$bin/kube-proxy" --cleanup >/dev/null 2>&1; } || true
  for t in filter nat mangle; do
    chains=$(iptables -t "$t" -S 2>/dev/null | awk '/^-N (KUBE-|CNI-)/ {print $2}' || true)
    [ -n "$chains" ] || continue
    # Rules that jump to them first (in any chain), then the chains themselves.
    iptables -t "$t" -S 2>/dev/null | grep -E -- "-j (KUBE-|CNI-)" | sed 's/^-A/-D/' | while read -r rule; do
      eval "iptables -t $t $rule" 2>/dev/null || true
    done || true
    for c in $chains; do iptables -t "$t" -F "$c" 2>/dev/null || true; done
    for c in $chains; do iptables -t "$t" -X "$c" 2>/dev/null || true; done
  done
  # kube-router's ipsets, once no rule refers to them.
  for c in $(ipset list -n 2>/dev/null | grep -E '^(KUBE-|kube-router)' || true); do ipset destroy "$c" 2>/dev/null || true; done
}

node_down() {
  node_stop apiserver-relay
  node_stop kube-proxy
  node_stop kube-router
  node_stop kubelet
  if node_alive containerd; then
    # Every container and sandbox goes, so containerd's garbage collector frees their snapshots;
    # the images stay for the next stack.
    local id
    for id in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -s KILL "$id" >/dev/null 2>&1 || true; done
    for id in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks rm -f "$id" >/dev/null 2>&1 || true; done
    for id in $(ctr_ containers ls -q 2>/dev/null); do ctr_ containers rm "$id" >/dev/null 2>&1 || true; done
    for id in $(ctr_ snapshots ls 2>/dev/null | awk 'NR>1 && $3=="Active" {print $1}'); do
      ctr_ snapshots rm "$id" >/dev/null 2>&1 || true
    done
  fi
  node_stop containerd
  pkill -KILL -f "containerd-shim-runc-v2 .*-address $ctr_sock" 2>/dev/null || true
  # Mounts left by killed shims and the kubelet (volumes, overlay roots, netns), innermost first;
  # /proc/mounts has them under the folder's real path (.cache may be a link, e.g. in a worktree).
  local m real_node_dir
  real_node_dir=$(realpath -m "$node_dir")
  for m in $(awk '{print $2}' /proc/mounts | grep -E "^($node_dir|$real_node_dir|$run_dir|$ctr_root|/run/containerd|/var/run/netns|/run/netns|/var/lib/kubelet)" | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  local ns
  for ns in $(ip netns list 2>/dev/null | awk '/^cni-/ {print $1}'); do ip netns delete "$ns" 2>/dev/null || true; done
  node_iptables_clean
  if ip link show "$BRIDGE" >/dev/null 2>&1; then ip link delete "$BRIDGE"; fi
  rm -rf "$node_dir" "$run_dir"
  if [ -f "$state/node-created-paths" ]; then
    while read -r p; do [ -n "$p" ] && { rm -rf "$p" 2>/dev/null || { sleep 1; rm -rf "$p"; }; }; done < "$state/node-created-paths"
    rm -f "$state/node-created-paths"
  fi
  if [ -f "$state/node-ip-forward" ]; then
    sysctl -qw net.ipv4.ip_forward="$(cat "$state/node-ip-forward")"
    rm -f "$state/node-ip-forward"
  fi
}
