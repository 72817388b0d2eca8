#!/usr/bin/env bash
# ci/charts.sh [package|push]: the chart repository of helm-flink.
#
#   package (default, `make charts`): packages charts/flink-session and charts/flink-job into
#     $CHARTS_DIR (default dist/charts) and writes its index.yaml.
#   push (`make charts-push OCI_REPO=oci://host:port/path`): pushes the packages of the current
#     chart versions to an OCI registry with `helm push` (packaging them first when missing).
#
# The library chart flink-common is shipped inside each package exactly once, unpacked as
# charts/flink-common/ (as Helm packages a dependency it finds as a folder). In the checkout it is
# each chart's `file://../flink-common` dependency, which `helm dependency build` turns into
# charts/flink-common-<v>.tgz (the README's plain-helm path; e2e does it): packaged beside the
# unpacked copy, every flink-common file would be in twice. So each chart is packaged from a
# staging copy with that archive removed and the library copied in: `helm dependency list`
# reports it "unpacked" (in the staging copy and in the package alike; Helm says "ok" only for a
# dependency .tgz in charts/, which is the trap); anything else (missing, wrong version, too many
# matches) stops the script. The archive is checked with tar: no entry twice, one
# flink-common/Chart.yaml, no nested .tgz.
#
# Environment:
#   CHARTS_DIR       output folder (default dist/charts); every package in it is indexed
#   HELM             helm binary (default .cache/bin/helm3; the packages install with Helm 4 too)
#   SIGN_KEY         name of the OpenPGP key to sign with (`helm package --sign`); each package
#   KEYRING          gets a .prov. KEYRING is the secret keyring (binary format, see ci/testkey.sh);
#   PASSPHRASE_FILE  the key's passphrase, if it has one (or HELM_KEY_PASSPHRASE, as helm reads it).
#   CHART_REPO_URL   URL the index entries point to (default https://helm-flink.github.io/helm-flink)
#   PUBLISHED_INDEX  URL or file of the published index.yaml: merged (`helm repo index --merge`)
#                    so that every version already released stays in the index. Without it an
#                    index.yaml already in CHARTS_DIR is merged instead.
#   RELEASED_DIR     folder of previously released packages (*.tgz and their .prov) copied into
#                    CHARTS_DIR before indexing. Default charts/testdata/released when
#                    PUBLISHED_INDEX is unset: this is how the test repository gets two versions
#                    of a chart. For a real release PUBLISHED_INDEX is set and the published index
#                    is merged instead (the packages themselves already live on the site).
#                    RELEASED_DIR= (empty) adds none.
#   OCI_REPO         push: the registry and path, e.g. oci://ghcr.io/helm-flink/charts
#   PLAIN_HTTP=1     push: talk plain http to the registry (a local one)
#
# `helm push` pushes a package's .prov as a layer of the same OCI artifact when it lies beside the
# .tgz, so `helm pull oci://… --verify` and `helm install oci://… --verify` check it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)

HELM=${HELM:-$top/.cache/bin/helm3}
out=${CHARTS_DIR:-$top/dist/charts}
repo_url=${CHART_REPO_URL:-https://helm-flink.github.io/helm-flink}
charts=(flink-session flink-job)

die() { echo "charts: $*" >&2; exit 1; }

[ -x "$HELM" ] || die "no helm at $HELM (make tools, or set HELM)"

# chart_field DIR FIELD: a top-level scalar of DIR/Chart.yaml (version, name), quotes removed.
chart_field() {
  local v
  v=$(sed -n "s/^$2:[[:space:]]*//p" "$1/Chart.yaml" | head -n1)
  v=${v%%#*}; v=${v//[\"\'$'\r']/}; v=${v%"${v##*[![:space:]]}"}
  [ -n "$v" ] || die "$1/Chart.yaml has no $2"
  if [ "$2" = version ] && ! [[ $v =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$ ]]; then
    die "$1/Chart.yaml: version is no semver (got \"$v\")"
  fi
  echo "$v"
}

package_file() { echo "$out/$1-$(chart_field "$top/charts/$1" version).tgz"; }

# check_archive TGZ CHART: every entry once, the library chart in it exactly once.
check_archive() {
  local tgz=$1 chart=$2 entries dups n
  entries=$(tar tzf "$tgz")
  dups=$(sort <<<"$entries" | uniq -d)
  [ -z "$dups" ] || die "$(basename "$tgz") holds these entries more than once:"$'\n'"$dups"
  n=$(grep -c "^$chart/charts/flink-common/Chart.yaml$" <<<"$entries" || true)
  [ "$n" = 1 ] || die "$(basename "$tgz") holds flink-common $n times, want 1"
  if grep -q "^$chart/charts/.*\.tgz$" <<<"$entries"; then
    die "$(basename "$tgz") holds a dependency archive beside the unpacked dependency"
  fi
}

package() {
  mkdir -p "$out"
  out=$(cd "$out" && pwd)
  stage=$(mktemp -d)
  trap 'rm -rf "$stage"' EXIT

  # The index to merge, fetched first so that an unreachable one fails before anything is written.
  local merge=()
  if [ -n "${PUBLISHED_INDEX:-}" ]; then
    local prev=$stage/published-index.yaml
    case $PUBLISHED_INDEX in
      http://* | https://*) curl -fsSL --retry 3 -o "$prev" "$PUBLISHED_INDEX" || die "cannot fetch $PUBLISHED_INDEX" ;;
      *) cp "$PUBLISHED_INDEX" "$prev" || die "PUBLISHED_INDEX $PUBLISHED_INDEX: no such file" ;;
    esac
    merge=(--merge "$prev")
    echo "charts: merging the published index $PUBLISHED_INDEX"
  elif [ -f "$out/index.yaml" ]; then
    cp "$out/index.yaml" "$stage/previous-index.yaml"
    merge=(--merge "$stage/previous-index.yaml")
    echo "charts: merging the existing ${out#"$top"/}/index.yaml"
  fi

  # Previously released packages first, so that a package built now wins over a copy of the same
  # version.
  local released=${RELEASED_DIR-}
  if [ -z "${RELEASED_DIR+set}" ] && [ -z "${PUBLISHED_INDEX:-}" ]; then
    released=$top/charts/testdata/released
  fi
  if [ -n "$released" ] && compgen -G "$released/*.tgz" >/dev/null; then
    local f base added=()
    for f in "$released"/*.tgz; do
      base=$(basename "$f")
      if [ "$base" = "$(basename "$(package_file "${base%-*}" 2>/dev/null)")" ]; then
        echo "charts: warning: ${base%.tgz} is already released (${released#"$top"/}/$base): the package built now replaces it; bump the chart's version"
        continue
      fi
      cp "$f" "$out/"
      if [ -e "$f.prov" ]; then cp "$f.prov" "$out/"; fi
      added+=("$base")
    done
    if [ ${#added[@]} -gt 0 ]; then
      echo "charts: added the released packages of ${released#"$top"/}: ${added[*]}"
    fi
  fi

  local sign=()
  if [ -n "${SIGN_KEY:-}" ]; then
    [ -n "${KEYRING:-}" ] || die "SIGN_KEY needs KEYRING, the secret keyring to sign with"
    [ -r "$KEYRING" ] || die "KEYRING $KEYRING: no such file"
    sign=(--sign --key "$SIGN_KEY" --keyring "$KEYRING")
    if [ -n "${PASSPHRASE_FILE:-}" ]; then sign+=(--passphrase-file "$PASSPHRASE_FILE"); fi
  else
    echo "charts: SIGN_KEY not set, packages are not signed (no .prov)"
  fi

  # The staging copy: each chart's folder with the library unpacked in its charts/, beside a copy
  # of the library chart so that file://../flink-common resolves there as in the checkout.
  cp -R "$top/charts/flink-common" "$stage/"
  local chart tgz status
  for chart in "${charts[@]}"; do
    cp -R "$top/charts/$chart" "$stage/"
    # A dependency archive left by `helm dependency build` in the checkout would ship the library twice.
    rm -rf "$stage/$chart/charts" "$stage/$chart/Chart.lock"
    mkdir -p "$stage/$chart/charts"
    cp -R "$top/charts/flink-common" "$stage/$chart/charts/"
    [ -f "$stage/$chart/charts/flink-common/Chart.yaml" ] || die "charts/$chart/charts/flink-common is missing"
    # Every dependency must be found (unpacked or ok), none missing, duplicated or of a wrong version.
    status=$("$HELM" dependency list "$stage/$chart" | awk 'NR > 1 && NF { print $1 ": " $NF }')
    if [ -z "$status" ] || grep -qvE ': (ok|unpacked)$' <<<"$status"; then
      die "$chart dependencies:"$'\n'"$status"
    fi
    tgz=$out/$chart-$(chart_field "$stage/$chart" version).tgz
    rm -f "$tgz" "$tgz.prov"
    "$HELM" package "$stage/$chart" -d "$out" "${sign[@]}" >/dev/null
    [ -f "$tgz" ] || die "helm package wrote no $tgz"
    check_archive "$tgz" "$chart"
    if [ -n "${SIGN_KEY:-}" ]; then
      [ -f "$tgz.prov" ] || die "helm package --sign wrote no $tgz.prov"
      "$HELM" verify "$tgz" --keyring "$KEYRING" >/dev/null || die "helm verify $tgz failed"
    fi
    echo "charts: ${tgz#"$top"/}$([ -f "$tgz.prov" ] && echo " (+ .prov)")"
  done

  # Artifact Hub reads the repository's metadata next to index.yaml.
  cp "$top/charts/artifacthub-repo.yml" "$out/"
  # The index, merged with the versions already published so that none disappears.
  "$HELM" repo index "$out" --url "$repo_url" "${merge[@]}"
  echo "charts: ${out#"$top"/}/index.yaml for $repo_url"
}

push() {
  [ -n "${OCI_REPO:-}" ] || die "push needs OCI_REPO, e.g. OCI_REPO=oci://ghcr.io/helm-flink/charts"
  case $OCI_REPO in oci://*) ;; *) die "OCI_REPO must start with oci:// (got $OCI_REPO)" ;; esac
  local chart tgz missing=0 flags=()
  [ "${PLAIN_HTTP:-}" = 1 ] && flags+=(--plain-http)
  for chart in "${charts[@]}"; do [ -f "$(package_file "$chart")" ] || missing=1; done
  [ $missing = 0 ] || package
  for chart in "${charts[@]}"; do
    tgz=$(package_file "$chart")
    "$HELM" push "$tgz" "$OCI_REPO" "${flags[@]}"
    echo "charts: pushed $(basename "$tgz")$([ -f "$tgz.prov" ] && echo " with its .prov") to $OCI_REPO"
  done
}

case ${1:-package} in
  package) package ;;
  push) push ;;
  *) die "usage: charts.sh [package|push]" ;;
esac
