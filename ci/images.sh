#!/usr/bin/env bash
# The container images of the local Kubernetes stack, built without a container engine from Debian
# (mmdebstrap), PyPI, Maven Central and the Go module proxy into one OCI image layout under
# $HELM_FLINK_CACHE/images/oci. Needs root (mmdebstrap, file owners), python3, go, mvn and java.
#
#   ci/images.sh build            build what changed since the last build (a layer is rebuilt only
#                                 when the inputs it was made from change: recipe, versions, files)
#   ci/images.sh import ADDRESS   import into containerd at ADDRESS (namespace k8s.io) the images it
#                                 does not have at their digest
#   ci/images.sh list             name and digest of each image built
#   ci/images.sh names            name, recipe and version of each image (no build needed)
set -euo pipefail
shopt -s inherit_errexit
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
. "$here/versions.sh"

COREDNS_VERSION=v1.12.1
DEBIAN_SUITE=bookworm
# Every file time in a layer is clamped to this (2026-01-01), and it is the images' creation time.
EPOCH=1767225600

# The images: name, recipe (image_<recipe> below), version. The one place that names them.
IMAGES="
docker.io/library/flink:1.20-java17              flink          $FLINK1_VERSION
docker.io/library/flink:2.3-java17               flink          $FLINK2_VERSION
registry.example.com/data/flink:prod-2026-11     flink          $FLINK1_VERSION
docker.io/library/flink-examples:1.20-java17     flink-examples $FLINK1_VERSION
docker.io/library/flink-examples:2.3-java17      flink-examples $FLINK2_VERSION
registry.k8s.io/kubectl:$KUBE_VERSION            kubectl        $KUBE_VERSION
docker.io/curlimages/curl:8.11.1                 curl           -
docker.io/library/python:3.12-alpine             python         -
registry.k8s.io/pause:3.10                       pause          -
registry.k8s.io/coredns/coredns:$COREDNS_VERSION coredns        $COREDNS_VERSION
docker.io/chrislusf/seaweedfs:$SEAWEEDFS_VERSION  seaweedfs      $SEAWEEDFS_VERSION
quay.io/prometheus/prometheus:v$PROMETHEUS_VERSION prometheus    $PROMETHEUS_VERSION
"

C=$HELM_FLINK_CACHE/images
layout=$C/oci
downloads=$HELM_FLINK_CACHE/downloads
oci=$here/images/oci.py

say() { echo "images: $*" >&2; }
die() { say "$*"; exit 1; }
key() { printf '%s\0' "$@" | sha256sum | cut -c1-32; }
# Most of a key: the code that writes layers.
OCI_KEY=$(key "$(cat "$oci")" "$EPOCH")

## Downloads, each checked and kept under $downloads

# pypi_get NAME VERSION PATTERN...: the path of the first file of NAME==VERSION matching a pattern
# (see images/pypi.py), downloaded once and checked against the index's sha256.
pypi_get() {
  local name=$1 version=$2; shift 2
  local d=$downloads/pypi rec file sha url
  rec="$d/$name-$version-$(key "$@").txt"
  mkdir -p "$d"
  [ -s "$rec" ] || { python3 "$here/images/pypi.py" "$name" "$version" "$@" > "$rec.tmp" && mv "$rec.tmp" "$rec"; }
  read -r file sha url < "$rec"
  if [ ! -f "$d/$file" ]; then
    say "downloading $file"
    curl -fsSL --retry 3 -o "$d/$file.part" "$url"
    echo "$sha  $d/$file.part" | sha256sum -c --quiet - || die "$file: sha256 is not the index's $sha"
    mv "$d/$file.part" "$d/$file"
  fi
  echo "$d/$file"
}

# maven_get GROUP:ARTIFACT:VERSION[:jar:CLASSIFIER] FILE: the artifact from Maven Central as FILE
maven_get() {
  local d=$downloads/maven
  [ -f "$d/$2" ] && return 0
  local log
  mkdir -p "$d/tmp"
  log=$(mvn -B -q -Dstyle.color=never -Dmaven.repo.local="${MAVEN_REPO_LOCAL:-$HOME/.m2/repository}" \
    dependency:copy -Dartifact="$1" -DoutputDirectory="$d/tmp" 2>&1) ||
    die "missing artifact $1 on Maven Central: $log"
  mv "$d/tmp/"*.jar "$d/$2"
}

example_jobs="TopSpeedWindowing WindowJoin WordCount"
examples_get() {
  local job
  for job in $example_jobs; do
    maven_get "org.apache.flink:flink-examples-streaming:$1:jar:$job" "flink-examples-streaming-$1-$job.jar"
  done
}

## Layer recipes: `stage_<name> ROOT ARGS` fills ROOT with the files of the layer, owners included.

# Debian with a JRE and the tools the charts' scripts use; user flink (9999) is here so that every
# image, whatever its user, resolves it. apt's .debs are kept under $downloads/debs.
stage_base() {
  local root=$1 debs=$downloads/debs
  mkdir -p "$debs"
  say "mmdebstrap $DEBIAN_SUITE (a minute with the .debs at hand, three without)"
  SOURCE_DATE_EPOCH=$EPOCH mmdebstrap --variant=minbase --mode=root --format=directory \
    --include=openjdk-17-jre-headless,libjemalloc2,bash,coreutils,findutils,procps,hostname,gosu,curl,ca-certificates,netbase,netcat-openbsd,gettext-base,python3-minimal,libpython3.11-stdlib \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --aptopt='APT::Install-Recommends "false"' \
    `# /usr merged by symlinks, as debootstrap does: the usrmerge package would bring perl` \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --skip=essential/unlink \
    --setup-hook='mkdir -p "$1"/var/cache/apt/archives "$1"/usr/share/man/man1' \
    --setup-hook="sync-in $debs /var/cache/apt/archives/" \
    --customize-hook="sync-out /var/cache/apt/archives $debs" \
    --customize-hook='chroot "$1" groupadd --system --gid 9999 flink' \
    --customize-hook='chroot "$1" useradd --system --home-dir /opt/flink --no-create-home --uid 9999 --gid flink flink' \
    `# the runtime mounts its own over these; mmdebstrap copied the build machine's` \
    --customize-hook='rm -f "$1"/etc/hostname && : > "$1"/etc/resolv.conf' \
    --customize-hook='printf "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" > "$1"/etc/hosts' \
    `# whether apt could sandbox its download decided these owners` \
    --customize-hook='chown 42:0 "$1"/var/cache/apt/archives/partial "$1"/var/lib/apt/lists/partial' \
    --customize-hook='rm -rf "$1"/usr/share/man "$1"/var/log/* "$1"/var/cache/ldconfig/aux-cache "$1"/var/lib/dpkg/*-old "$1"/var/cache/debconf/*-old' \
    "$DEBIAN_SUITE" "$root" \
    "deb http://deb.debian.org/debian $DEBIAN_SUITE main" \
    "deb http://deb.debian.org/debian $DEBIAN_SUITE-updates main" \
    "deb http://deb.debian.org/debian-security $DEBIAN_SUITE-security main" > "$root.log" 2>&1 ||
    { tail -n 30 "$root.log" >&2; die "mmdebstrap failed (log: $root.log)"; }
}

# /opt/flink laid out as Flink's binary distribution, from PyPI: apache-flink carries bin/ and
# conf/; apache-flink-libraries carries lib/, opt/, plugins/ and bin/bash-java-utils.jar (a wheel
# under pyflink/ since 2.x, an sdist with them under deps/ for 1.x). Maven Central adds the example
# jobs and the S3 file systems.
stage_flink() {
  local root=$1 v=$2 home=$1/opt/flink src=$1.src whl libs job fs
  whl=$(pypi_get apache-flink "$v" 'cp311-.*manylinux.*x86_64\.whl$')
  libs=$(pypi_get apache-flink-libraries "$v" 'none-any\.whl$' '\.tar\.gz$')
  mkdir -p "$home"/{bin,conf,lib,log,examples/streaming} "$src"
  python3 -m zipfile -e "$whl" "$src/flink"
  case $libs in
    *.whl) python3 -m zipfile -e "$libs" "$src/libs" && mv "$src"/libs/*.dist-info/licenses/* "$home/" &&
      libs=$src/libs/pyflink ;;
    *) mkdir "$src/libs" && tar -xzf "$libs" -C "$src/libs" && mv "$src"/libs/*/{LICENSE,NOTICE} "$home/" &&
      libs=$(echo "$src"/libs/*/deps) ;;
  esac
  cp "$src"/flink/pyflink/bin/*.sh "$src/flink/pyflink/bin/flink" "$libs/bin/bash-java-utils.jar" "$home/bin/"
  cp -r "$src"/flink/pyflink/conf/. "$home/conf/"
  mv "$libs/lib/"* "$home/lib/"
  mv "$libs/opt" "$libs/plugins" "$libs/licenses" "$home/"
  for fs in presto hadoop; do
    maven_get "org.apache.flink:flink-s3-fs-$fs:$v" "flink-s3-fs-$fs-$v.jar"
    cp "$downloads/maven/flink-s3-fs-$fs-$v.jar" "$home/opt/"
  done
  examples_get "$v"
  for job in $example_jobs; do
    cp "$downloads/maven/flink-examples-streaming-$v-$job.jar" "$home/examples/streaming/$job.jar"
  done
  rm -rf "$src"
  chmod 755 "$home"/bin/*.sh "$home/bin/flink"
  find "$home/plugins" -name '*.sh' -exec chmod 755 {} +
  # As the official image does: listen on every interface, not localhost; taskmanager.host is
  # left to Flink (the pod's address).
  bash "$home/bin/config-parser-utils.sh" "$home/conf" "$home/bin" "$home/lib" \
    -repKV rest.address,localhost,0.0.0.0 -repKV rest.bind-address,localhost,0.0.0.0 \
    -repKV jobmanager.bind-host,localhost,0.0.0.0 -repKV taskmanager.bind-host,localhost,0.0.0.0 \
    -rmKV taskmanager.host=localhost
  chown -R 9999:9999 "$home"
}

stage_entrypoint() {
  install -m 755 "$here/images/flink/docker-entrypoint.sh" "$1/docker-entrypoint.sh"
}

# usrlib/ of a job image: the example jobs, as a user's Dockerfile would COPY them.
stage_examples() {
  local job
  examples_get "$2"
  mkdir -p "$1/opt/flink/usrlib"
  for job in $example_jobs; do
    cp "$downloads/maven/flink-examples-streaming-$2-$job.jar" "$1/opt/flink/usrlib/$job.jar"
  done
  chown -R 9999:9999 "$1/opt/flink"  # the same owner as the layer below, which this dir entry replaces
}

# stage_binary ROOT FILE PATH: one executable at PATH (usr/bin/… or at the top)
stage_binary() {
  mkdir -p "$(dirname "$1/$3")"
  install -m 755 "$2" "$1/$3"
}

stage_pause() {
  (cd "$top" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$1/pause" ./ci/images/pause)
}

## Layers and images

# layer NAME KEY gzip|none: the descriptor of a layer made by `stage_NAME DIR ARGS` (ARGS: the
# rest), reused while a layer of that NAME and KEY is in the layout.
layer() {
  local name=$1 k=$2 comp=$3 rec digest dir start=$SECONDS; shift 3
  rec=$C/layers/$name-$k.json
  if [ -s "$rec" ]; then
    digest=$(sed -n 's/.*"digest": "sha256:\([0-9a-f]*\)".*/\1/p' "$rec")
    [ -f "$layout/blobs/sha256/$digest" ] && { cat "$rec"; return 0; }
  fi
  say "building layer $name"
  dir=$C/work/$name
  rm -rf "$dir" "$dir".* && mkdir -p "$dir" "$C/layers"
  "stage_$name" "$dir" "$@" >&2
  python3 "$oci" layer "$layout" "$dir" "$EPOCH" "$comp" > "$rec.tmp"
  mv "$rec.tmp" "$rec"
  rm -rf "$dir" "$dir".*
  say "layer $name: $(( SECONDS - start )) s, $(sed -n 's/.*"size": \([0-9]*\).*/\1/p' "$rec") bytes"
  cat "$rec"
}

base_layer() { layer base "$(key "$OCI_KEY" "$DEBIAN_SUITE" "$(declare -f stage_base)")" gzip; }

# Tools built from the Go module proxy, cached by version like ci/build-tools.sh's.
coredns_binary() {
  local d=$HELM_FLINK_CACHE/tools/coredns/$COREDNS_VERSION
  if [ ! -x "$d/coredns" ]; then
    say "building coredns $COREDNS_VERSION (minutes on a cold cache)"
    rm -rf "$d.tmp" && mkdir -p "$d.tmp"
    GOBIN=$d.tmp CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" "github.com/coredns/coredns@$COREDNS_VERSION"
    rm -rf "$d" && mv "$d.tmp" "$d"
  fi
  echo "$d/coredns"
}

# SeaweedFS's weed, from ci/tools/seaweedfs (its module pins the version and one replaced
# dependency); the cache folder follows that module's go.sum.
seaweedfs_binary() {
  local d=$HELM_FLINK_CACHE/tools/seaweedfs/$SEAWEEDFS_VERSION-$(sha256sum < "$here/tools/seaweedfs/go.sum" | cut -c1-12)
  if [ ! -x "$d/weed" ]; then
    say "building seaweedfs $SEAWEEDFS_VERSION (minutes on a cold cache)"
    rm -rf "$d.tmp" && mkdir -p "$d.tmp"
    (cd "$here/tools/seaweedfs" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$d.tmp/weed" github.com/seaweedfs/seaweedfs/weed)
    rm -rf "$d" && mv "$d.tmp" "$d"
  fi
  echo "$d/weed"
}

# Prometheus from ci/tools/prometheus, with Kubernetes service discovery the only one built in
# (Prometheus's own build tags), its version stamped as its release builds do.
prometheus_binary() {
  local d=$HELM_FLINK_CACHE/tools/prometheus/$PROMETHEUS_VERSION-$(sha256sum < "$here/tools/prometheus/go.sum" | cut -c1-12)
  local v=github.com/prometheus/common/version
  if [ ! -x "$d/prometheus" ]; then
    say "building prometheus $PROMETHEUS_VERSION (minutes on a cold cache)"
    rm -rf "$d.tmp" && mkdir -p "$d.tmp"
    (cd "$here/tools/prometheus" && CGO_ENABLED=0 go build -trimpath -tags remove_all_sd,enable_kubernetes_sd \
      -ldflags "-s -w -X $v.Version=$PROMETHEUS_VERSION -X $v.Branch=HEAD -X $v.BuildUser=helm-flink -X $v.BuildDate=19700101-00:00:00" \
      -o "$d.tmp/prometheus" github.com/prometheus/prometheus/cmd/prometheus)
    rm -rf "$d" && mv "$d.tmp" "$d"
  fi
  echo "$d/prometheus"
}

kubectl_binary() {
  bash "$here/build-tools.sh" kube >&2
  echo "$HELM_FLINK_CACHE/tools/kube/$KUBE_VERSION/kubectl"
}

debian_env='"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","LANG=C.UTF-8"'

# image_RECIPE VERSION: prints the image's config (JSON) and layers (JSON descriptors, one a line)
image_flink() {
  local v=$1 user=""
  # The 2.x images run as flink (the official's USER flink); 1.x start as root and step down.
  case $v in 1.*) ;; *) user=flink ;; esac
  cat <<EOF
{"Env":["PATH=/opt/flink/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","LANG=C.UTF-8",
 "JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64","FLINK_HOME=/opt/flink"],
 "Entrypoint":["/docker-entrypoint.sh"],"Cmd":["help"],"User":"$user","WorkingDir":"/opt/flink",
 "ExposedPorts":{"6123/tcp":{},"8081/tcp":{}}}
EOF
  base_layer
  layer flink "$(key "$OCI_KEY" "$v" "$(declare -f stage_flink pypi_get maven_get examples_get)")" none "$v"
  layer entrypoint "$(key "$OCI_KEY" "$(cat "$here/images/flink/docker-entrypoint.sh")")" gzip
}

image_flink-examples() {
  image_flink "$1"
  layer examples "$(key "$OCI_KEY" "$1" "$(declare -f stage_examples maven_get examples_get)")" gzip "$1"
}

image_kubectl() {
  local bin; bin=$(kubectl_binary)
  echo "{\"Env\":[$debian_env],\"Entrypoint\":[\"kubectl\"]}"
  base_layer
  layer binary "$(key "$OCI_KEY" "$(sha256sum < "$bin")" usr/bin/kubectl)" gzip "$bin" usr/bin/kubectl
}

image_curl() {
  echo "{\"Env\":[$debian_env],\"Entrypoint\":[\"curl\"],\"User\":\"100\"}"
  base_layer
}

image_python() {
  echo "{\"Env\":[$debian_env],\"Cmd\":[\"python3\"]}"
  base_layer
}

image_pause() {
  echo '{"Entrypoint":["/pause"],"User":"65535:65535"}'
  layer pause "$(key "$OCI_KEY" "$(cat "$here/images/pause/main.go")" "$(go version)")" gzip
}

image_coredns() {
  local bin; bin=$(coredns_binary)
  echo "{\"Env\":[$debian_env],\"Entrypoint\":[\"/coredns\"],\"ExposedPorts\":{\"53/tcp\":{},\"53/udp\":{}}}"
  base_layer
  layer binary "$(key "$OCI_KEY" "$(sha256sum < "$bin")" coredns)" gzip "$bin" coredns
}

image_seaweedfs() {
  local bin; bin=$(seaweedfs_binary)
  echo "{\"Env\":[$debian_env],\"Entrypoint\":[\"weed\"],\"User\":\"65532:65532\",\"ExposedPorts\":{\"8333/tcp\":{}}}"
  base_layer
  layer binary "$(key "$OCI_KEY" "$(sha256sum < "$bin")" usr/bin/weed)" gzip "$bin" usr/bin/weed
}

image_prometheus() {
  local bin; bin=$(prometheus_binary)
  echo "{\"Env\":[$debian_env],\"Entrypoint\":[\"prometheus\"],\"User\":\"65534:65534\",\"ExposedPorts\":{\"9090/tcp\":{}}}"
  base_layer
  layer binary "$(key "$OCI_KEY" "$(sha256sum < "$bin")" usr/bin/prometheus)" gzip "$bin" usr/bin/prometheus
}

build() {
  [ "$(id -u)" = 0 ] || die "build needs root (mmdebstrap --mode=root, file owners in the layers)"
  if ! command -v mmdebstrap >/dev/null; then
    say "installing mmdebstrap (Debian)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q mmdebstrap >&2 ||
      { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q mmdebstrap >&2; }
  fi
  local tool
  for tool in python3 go mvn java curl; do command -v $tool >/dev/null || die "build needs $tool"; done
  local name recipe version out start pairs=() total=$SECONDS
  mkdir -p "$layout" "$C/manifests"
  exec 9>"$C/.lock" && flock 9
  while read -r name recipe version; do
    [ -n "$name" ] || continue
    start=$SECONDS
    out=$("image_$recipe" "$version")
    python3 "$oci" image "$layout" "{\"created\": $EPOCH, \"config\": $(config_of <<<"$out"),
      \"layers\": [$(layers_of <<<"$out")]}" > "$C/manifests/${name//[\/:]/_}.json"
    pairs+=("$name=$C/manifests/${name//[\/:]/_}.json")
    [ $(( SECONDS - start )) -lt 2 ] || say "$name: $(( SECONDS - start )) s"
  done <<<"$IMAGES"
  python3 "$oci" index "$layout" "${pairs[@]}"
  gc
  say "built ${#pairs[@]} images in $(( SECONDS - total )) s"
}

# The output of image_RECIPE: config first (up to its closing brace line), then a descriptor a line.
config_of() { awk '/^\{"mediaType"/ {exit} {print}'; }
layers_of() { grep '^{"mediaType"' | paste -sd, -; }

# Deletes the blobs and layer records no image uses any more.
gc() {
  local keep f
  keep=$(python3 "$oci" referenced "$layout")
  for f in "$layout"/blobs/sha256/*; do
    grep -qx "sha256:${f##*/}" <<<"$keep" || rm -f "$f"
  done
  for f in "$C"/layers/*.json; do
    [ -e "$f" ] || continue
    grep -q "$(sed -n 's/.*"digest": "\(sha256:[0-9a-f]*\)".*/\1/p' "$f")" <<<"$keep" || rm -f "$f"
  done
  rm -rf "$C/work"
}

import() {
  local address=$1 name digest have need=() start=$SECONDS
  [ -f "$layout/index.json" ] || die "nothing built yet: ci/images.sh build"
  exec 9>"$C/.lock" && flock -s 9  # not while a build deletes blobs
  have=$(ctr --address "$address" -n k8s.io images ls | awk 'NR > 1 {print $1, $3}')
  while read -r name digest; do
    grep -qxF "$name $digest" <<<"$have" || need+=("$name")
  done < <(python3 "$oci" list "$layout")
  if [ ${#need[@]} = 0 ]; then
    say "containerd at $address has every image"
    return 0
  fi
  say "importing ${need[*]}"
  # Blobs containerd holds already (the shared base layer…) stay out of the stream.
  local have_blobs; have_blobs=$(mktemp)
  ctr --address "$address" -n k8s.io content ls -q > "$have_blobs"
  python3 "$oci" archive "$layout" "$have_blobs" "${need[@]}" |
    ctr --address "$address" -n k8s.io images import - >&2
  rm -f "$have_blobs"
  say "imported ${#need[@]} images in $(( SECONDS - start )) s"
}

case ${1:-} in
  build) build ;;
  import) [ $# = 2 ] || die "usage: ci/images.sh import ADDRESS"; import "$2" ;;
  list) [ -f "$layout/index.json" ] || die "nothing built yet: ci/images.sh build"; python3 "$oci" list "$layout" ;;
  names) awk 'NF {print $1, $2, $3}' <<<"$IMAGES" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
