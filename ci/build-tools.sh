#!/usr/bin/env bash
# Installs the node's Debian packages (host) and builds the binaries of the local stack from the
# Go module proxy into
# $HELM_FLINK_CACHE/tools/<name>/<version>/, skipping what is already built at that version,
# and links them into .cache/bin of the checkout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
. "$here/versions.sh"

bin="$top/.cache/bin"
mkdir -p "$bin"

# built NAME VERSION -> prints the folder, returns 1 when the binary is not there yet
dest() { echo "$HELM_FLINK_CACHE/tools/$1/$2"; }

link() { ln -sfn "$(dest "$1" "$2")/$3" "$bin/$4"; }

kube_cmds="kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy"

build_kube() {
  local d; d=$(dest kube "$KUBE_VERSION")
  local c missing=0
  for c in $kube_cmds; do [ -x "$d/$c" ] || missing=1; done
  if [ $missing = 1 ]; then
    echo "tools: building $kube_cmds $KUBE_VERSION (minutes on a cold cache)"
    local v=${KUBE_VERSION#v} major minor
    major=${v%%.*}; minor=${v#*.}; minor=${minor%%.*}
    # Without the version stamp the server reports v0.0.0-master, which breaks Helm's kubeVersion checks.
    local pkg=k8s.io/component-base/version
    local ld="-s -w -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
    mkdir -p "$d.tmp"
    local pkgs=() 
    for c in $kube_cmds; do [ -x "$d/$c" ] && cp "$d/$c" "$d.tmp/" || pkgs+=("k8s.io/kubernetes/cmd/$c"); done
    (cd "$here/tools/kube" && go build -trimpath -ldflags "$ld" -o "$d.tmp/" "${pkgs[@]}")
    rm -rf "$d" && mv "$d.tmp" "$d"
  fi
  for c in $kube_cmds; do link kube "$KUBE_VERSION" "$c" "$c"; done
}

build_etcd() {
  local d; d=$(dest etcd "$ETCD_VERSION")
  if [ ! -x "$d/etcd" ]; then
    echo "tools: building etcd $ETCD_VERSION"
    mkdir -p "$d.tmp"
    (cd "$here/tools/etcd" && go build -trimpath -ldflags "-s -w" -o "$d.tmp/etcd" .)
    rm -rf "$d" && mv "$d.tmp" "$d"
  fi
  link etcd "$ETCD_VERSION" etcd etcd
}

# go_install NAME VERSION MODULE/PATH... : plain `go install pkg@version` into the cache folder,
# with $ldflags added to -s -w; $modversion, when set, is the module version (VERSION then only
# names the cache folder).
go_install() {
  local name=$1 version=$2; shift 2
  local d; d=$(dest "$name" "$version")
  local missing=0 p
  for p in "$@"; do [ -x "$d/$(basename "$p")" ] || missing=1; done
  if [ $missing = 1 ]; then
    echo "tools: building $name $version"
    mkdir -p "$d.tmp"
    for p in "$@"; do GOBIN="$d.tmp" go install -trimpath -ldflags "-s -w ${ldflags:-}" "$p@${modversion:-$version}"; done
    rm -rf "$d" && mv "$d.tmp" "$d"
  fi
}

build_kwok() {
  go_install kwok "$KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok sigs.k8s.io/kwok/cmd/kwokctl
  link kwok "$KWOK_VERSION" kwok kwok
  link kwok "$KWOK_VERSION" kwokctl kwokctl
}

# Helm's release builds stamp their version and, for Helm 3, the Kubernetes version `helm template`
# and `helm lint` assume offline (else v1.20.0, which our charts' kubeVersion refuses). Helm 4 reads
# the latter from its client-go module version. A changed stamp is a new cache folder.
HELM_STAMP=k8s1.37
build_helm() {
  local v3=helm.sh/helm/v3 v4=helm.sh/helm/v4
  ldflags="-X $v3/internal/version.version=$HELM3_VERSION -X $v3/internal/version.gitTreeState=clean
    -X $v3/pkg/chartutil.k8sVersionMajor=1 -X $v3/pkg/chartutil.k8sVersionMinor=37
    -X $v3/pkg/lint/rules.k8sVersionMajor=1 -X $v3/pkg/lint/rules.k8sVersionMinor=37" modversion=$HELM3_VERSION \
    go_install helm3 "$HELM3_VERSION-$HELM_STAMP" helm.sh/helm/v3/cmd/helm
  ldflags="-X $v4/internal/version.version=$HELM4_VERSION -X $v4/internal/version.gitTreeState=clean" modversion=$HELM4_VERSION \
    go_install helm4 "$HELM4_VERSION-$HELM_STAMP" helm.sh/helm/v4/cmd/helm
  link helm3 "$HELM3_VERSION-$HELM_STAMP" helm helm3
  link helm4 "$HELM4_VERSION-$HELM_STAMP" helm helm4
}

# Only its NetworkPolicy firewall runs (ci/node.sh): GHSA-v5mh-h5hx-7v92 is in the BGP router,
# which stays off. The cache folder follows ci/tools/kube-router/go.sum (the raised dependencies).
build_kuberouter() {
  local d; d=$(dest kube-router "$KUBE_ROUTER_VERSION-$(sha256sum < "$here/tools/kube-router/go.sum" | cut -c1-12)")
  if [ ! -x "$d/kube-router" ]; then
    echo "tools: building kube-router $KUBE_ROUTER_VERSION"
    mkdir -p "$d.tmp"
    (cd "$here/tools/kube-router" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$d.tmp/kube-router" github.com/cloudnativelabs/kube-router/v2/cmd/kube-router)
    rm -rf "$d" && mv "$d.tmp" "$d"
  fi
  ln -sfn "$d/kube-router" "$bin/kube-router"
}

build_helmdocs() {
  go_install helm-docs "$HELM_DOCS_VERSION" github.com/norwoodj/helm-docs/cmd/helm-docs
  link helm-docs "$HELM_DOCS_VERSION" helm-docs helm-docs
}

# The node's runtime and what builds its images come from Debian, installed when missing (root).
host_packages="containerd runc containernetworking-plugins iptables ipset conntrack socat mmdebstrap"
build_host() {
  local missing=() p
  for p in $host_packages; do [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p"); done
  [ ${#missing[@]} = 0 ] && return 0
  echo "tools: installing ${missing[*]} (Debian)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
}

targets=${*:-host kube etcd kwok kuberouter helm helmdocs}
for t in $targets; do "build_$t"; done
