#!/usr/bin/env bash
# dist.sh (make dist): the plugin's release artifacts, installable without a Go toolchain.
#
#   $DIST_DIR/plugin/helm-flink-<version>-<os>-<arch>.tgz       one per platform (linux, darwin × amd64, arm64)
#   $DIST_DIR/plugin/helm-flink-<version>-<os>-<arch>.tgz.prov  Helm 4 provenance, when SIGN_KEY is given
#   $DIST_DIR/plugin/checksums.txt                              sha256sum of every tarball
#
# DIST_DIR defaults to dist/ of the checkout; <version> is plugin.yaml's. Each tarball holds the
# plugin at its root (plugin.yaml, plugin.complete, install-binary.sh, bin/helm-flink, LICENSE,
# README.md): Helm 3 needs plugin.yaml at the archive's root, Helm 4 accepts it there. The
# binaries are static (CGO_ENABLED=0), stripped and stamped with the version, the commit and the
# Kubernetes version Helm's offline checks assume (from the linked k8s.io/client-go, as Helm's
# own Makefile does). Archives are reproducible: sorted, owner 0, mtime of the commit.
#
# Signing: SIGN_KEY=<key name> KEYRING=<secret keyring, binary OpenPGP> [PASSPHRASE_FILE=…].
# Helm 4 verifies <url>.prov against the URL's file name, so every tarball is signed under its
# own name by ci/provsign (Helm's provenance package); `helm plugin package --sign` could only
# write NAME-VERSION.tgz, with the plugin under a top folder that Helm 3 cannot install.
# PLATFORMS="linux/amd64 …" narrows the build (a local rehearsal); releases build all four.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
out=${DIST_DIR:-$top/dist}/plugin
platforms=${PLATFORMS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64}
tar=${TAR:-tar}

die() { echo "dist: $*" >&2; exit 1; }

version=$(sed -n 's/^version:[[:space:]]*//p' "$top/plugin.yaml" | head -n 1 | tr -d "\"' \r")
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$ ]] || die "plugin.yaml: no semver version (got \"$version\")"
commit=${COMMIT:-$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)}
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$top" log -1 --format=%ct 2>/dev/null || echo 0)}
case $("$tar" --version 2>/dev/null) in *"GNU tar"*) ;; *) die "needs GNU tar for reproducible archives (set TAR=gtar)" ;; esac
if command -v sha256sum >/dev/null; then sha=(sha256sum); else sha=(shasum -a 256); fi
if [ -n "${SIGN_KEY:-}" ]; then
  [ -n "${KEYRING:-}" ] || die "SIGN_KEY needs KEYRING, the secret keyring holding the key"
  [ -r "$KEYRING" ] || die "KEYRING $KEYRING is not readable"
  KEYRING=$(cd "$(dirname "$KEYRING")" && pwd)/$(basename "$KEYRING")
fi

# Helm's -X stamps of the Kubernetes version (k8s.io/client-go v0.X.Y is Kubernetes 1.X).
client_go=$(cd "$top" && go list -m -f '{{.Version}}' k8s.io/client-go)
kube_minor=${client_go#v0.}; kube_minor=${kube_minor%%.*}
[[ $kube_minor =~ ^[0-9]+$ ]] || die "cannot read the Kubernetes minor version from k8s.io/client-go $client_go"
vpkg=github.com/helm-flink/helm-flink/plugin/version
ldflags="-s -w -X $vpkg.Version=v$version -X $vpkg.Commit=$commit"
for p in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
  ldflags+=" -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$kube_minor"
done

stage=$(mktemp -d "${TMPDIR:-/tmp}/helm-flink-dist.XXXXXX")
trap 'rm -rf "$stage"' EXIT

if [ -n "${SIGN_KEY:-}" ]; then
  if [ -n "${PASSPHRASE_FILE:-}" ]; then
    PASSPHRASE_FILE=$(cd "$(dirname "$PASSPHRASE_FILE")" && pwd)/$(basename "$PASSPHRASE_FILE")
  fi
  provsign() { "$stage/provsign" -keyring "$KEYRING" -key "$SIGN_KEY" ${PASSPHRASE_FILE:+-passphrase-file "$PASSPHRASE_FILE"} "$@"; }
  (cd "$here/provsign" && go build -o "$stage/provsign" .)
  provsign -check # a wrong key or passphrase fails now, not after the builds
fi
rm -rf "$out"
mkdir -p "$out"

tarballs=()
for platform in $platforms; do
  goos=${platform%/*} goarch=${platform#*/}
  name=helm-flink-$version-$goos-$goarch.tgz
  root=$stage/$goos-$goarch
  mkdir -p "$root/bin"
  echo "dist: building $name (v$version, commit $commit)"
  (cd "$top" && CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch \
    go build -trimpath -ldflags "$ldflags" -o "$root/bin/helm-flink" ./cmd/helm-flink)
  for f in plugin.yaml plugin.complete install-binary.sh LICENSE README.md; do
    cp "$top/$f" "$root/$f"
  done
  chmod 0755 "$root/bin" "$root/bin/helm-flink" "$root/plugin.complete" "$root/install-binary.sh"
  chmod 0644 "$root/plugin.yaml" "$root/LICENSE" "$root/README.md"
  # plugin.yaml first (Helm 4 reads it before anything else); bin/ as a directory entry before
  # bin/helm-flink (Helm 3's extractor creates no parent folders); no "./" entry.
  "$tar" --format=ustar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
    -C "$root" -cf - plugin.yaml plugin.complete install-binary.sh LICENSE README.md bin |
    gzip -9n >"$out/$name"
  tarballs+=("$name")
done

(cd "$out" && "${sha[@]}" "${tarballs[@]}" >checksums.txt)

if [ -n "${SIGN_KEY:-}" ]; then
  echo "dist: signing with \"$SIGN_KEY\" from $KEYRING"
  (cd "$out" && provsign "${tarballs[@]}")
else
  echo "dist: SIGN_KEY not set: no .prov written (Helm 4 installs these tarballs only with --verify=false)"
fi

ls -l "$out"
