#!/bin/sh
# install-binary.sh: the plugin's install and update hook (plugin.yaml) on linux and darwin. It puts
# bin/helm-flink into the plugin's folder:
#   1. installed from a release tarball, the binary is already there and runs: nothing to do
#      (`--update` skips this check: an updated plugin gets the binary of its new version);
#   2. otherwise the release tarball of this OS and architecture is downloaded from
#      $HELM_FLINK_DOWNLOAD_URL (default: the GitHub release of plugin.yaml's version) with
#      curl or wget, its sha256 checked against checksums.txt next to it, and only
#      bin/helm-flink taken out of it;
#   3. only when that download or check cannot be done at all, and Go and the source are here,
#      the binary is built with `go build` (HELM_FLINK_FROM_SOURCE=1 skips the download: a
#      developer's checkout builds what it holds).
# A checksum that does not match fails at once: there is no fallback from a bad download.
set -eu

cd "${HELM_PLUGIN_DIR:-$(dirname "$0")}"

version=$(sed -n 's/^version:[[:space:]]*//p' plugin.yaml | head -n 1 | tr -d "\"' \r")
base=${HELM_FLINK_DOWNLOAD_URL:-https://github.com/helm-flink/helm-flink/releases/download/v$version}
base=${base%/}

if [ "${1:-}" != "--update" ] && [ -x bin/helm-flink ] && bin/helm-flink version >/dev/null 2>&1; then
  exit 0
fi

os=$(uname -s | tr '[:upper:]' '[:lower:]')
case $os in linux | darwin) ;; *) os="" ;; esac
case $(uname -m) in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) arch="" ;;
esac
tarball=helm-flink-$version-$os-$arch.tgz
url=$base/$tarball

tmp=$(mktemp -d "${TMPDIR:-/tmp}/helm-flink-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# fetch URL FILE: 0 when FILE holds URL's content; the tool's error in $tmp/err otherwise.
fetch() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --connect-timeout 15 -o "$2" "$1" 2>"$tmp/err"
  elif command -v wget >/dev/null 2>&1; then
    wget -nv -T 30 -t 2 -O "$2" "$1" 2>"$tmp/err"
  else
    echo "neither curl nor wget is installed" >"$tmp/err"
    return 1
  fi
}

lasterr() { head -n 1 "$tmp/err" 2>/dev/null | tr -d '\r'; }

# download: 0 with bin/helm-flink installed; 1 with $reason when the release binary cannot be
# had (so building is the next try). A checksum mismatch exits here.
reason=""
download() {
  if [ -z "$os" ] || [ -z "$arch" ]; then
    reason="there is no release binary for $(uname -s)/$(uname -m)"
    return 1
  fi
  if ! fetch "$url" "$tmp/$tarball"; then
    reason="downloading $url failed ($(lasterr))"
    return 1
  fi
  if ! fetch "$base/checksums.txt" "$tmp/checksums.txt"; then
    reason="downloading $base/checksums.txt to verify $tarball failed ($(lasterr))"
    return 1
  fi
  if command -v sha256sum >/dev/null 2>&1; then
    got=$(sha256sum "$tmp/$tarball" | cut -d' ' -f1)
  elif command -v shasum >/dev/null 2>&1; then
    got=$(shasum -a 256 "$tmp/$tarball" | cut -d' ' -f1)
  else
    reason="neither sha256sum nor shasum is installed to verify $url"
    return 1
  fi
  want=$(awk -v f="$tarball" '$2 == f || $2 == "*" f { print $1; exit }' "$tmp/checksums.txt")
  if [ "$got" != "$want" ]; then
    if [ -z "$want" ]; then
      echo "helm-flink: $base/checksums.txt has no sha256 of $tarball: refusing $url; nothing was installed." >&2
    else
      echo "helm-flink: checksum mismatch: $url has sha256 $got but $base/checksums.txt says $want: refusing it; nothing was installed." >&2
    fi
    exit 1
  fi
  mkdir -p "$tmp/x"
  if ! tar -xzf "$tmp/$tarball" -C "$tmp/x" bin/helm-flink 2>"$tmp/err" || [ ! -f "$tmp/x/bin/helm-flink" ]; then
    reason="$url holds no bin/helm-flink ($(lasterr))"
    return 1
  fi
  chmod 0755 "$tmp/x/bin/helm-flink"
  if ! "$tmp/x/bin/helm-flink" version >/dev/null 2>"$tmp/err"; then
    reason="the binary of $url does not run here ($(lasterr))"
    return 1
  fi
  mkdir -p bin
  cp "$tmp/x/bin/helm-flink" bin/helm-flink.new
  mv -f bin/helm-flink.new bin/helm-flink
  echo "helm-flink: installed bin/helm-flink $version ($os/$arch) from $url (sha256 verified)"
}

# HELM_FLINK_FROM_SOURCE=1: a developer's checkout builds what it holds, never a release.
if [ "${HELM_FLINK_FROM_SOURCE:-}" = 1 ]; then
  reason="HELM_FLINK_FROM_SOURCE=1 asks for a build from source"
elif download; then
  exit 0
fi

if command -v go >/dev/null 2>&1 && [ -f go.mod ] && [ -d cmd/helm-flink ]; then
  echo "helm-flink: $reason; building bin/helm-flink from source with go" >&2
  go build -trimpath -o bin/helm-flink ./cmd/helm-flink
  exit 0
fi

if command -v go >/dev/null 2>&1; then
  nogo="there is no source here to build it with go"
  fix="install the plugin from its source (helm plugin install https://github.com/helm-flink/helm-flink)"
else
  nogo="go is not on PATH to build it from source"
  fix="install Go (https://go.dev/dl/) and install the plugin from its source again"
fi
if [ -n "$os" ] && [ -n "$arch" ]; then
  fix="$fix, or install a release tarball: helm plugin install $url"
else
  fix="$fix, or use a platform with release tarballs (linux or darwin, amd64 or arm64)"
fi
echo "helm-flink: cannot install bin/helm-flink $version: $reason, and $nogo. Fix: $fix" >&2
exit 1
