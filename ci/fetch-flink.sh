#!/usr/bin/env bash
# Fetches, with Maven, everything a real Flink JobManager and TaskManager need to run with `java -cp`,
# plus the example jobs, into $HELM_FLINK_CACHE/flink/<version>/{lib,examples}. A version already
# complete is skipped. A missing artifact stops the script with its coordinates named.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.sh"

# flink version -> log4j version it ships with (flink-parent's log4j.version)
log4j_for() { case $1 in 1.*) echo 2.17.1 ;; *) echo 2.25.3 ;; esac; }

mvn_q() { mvn -B -q -Dstyle.color=never -Dmaven.repo.local="${MAVEN_REPO_LOCAL:-$HOME/.m2/repository}" "$@"; }
# The cache is valid for one version of the pom: a changed class path fetches again.
stamp=$(cat "$here/flink/pom.xml" "$here/fetch-flink.sh" | sha256sum | cut -c1-16)

fetch() {
  local v=$1 d="$HELM_FLINK_CACHE/flink/$1"
  [ "$(cat "$d/.complete" 2>/dev/null)" = "$stamp" ] && return 0
  echo "flink: fetching Flink $v from Maven Central"
  rm -rf "$d" && mkdir -p "$d/lib" "$d/examples"
  if ! mvn_q -f "$here/flink/pom.xml" -Dflink.version="$v" -Dlog4j.version="$(log4j_for "$v")" \
      dependency:copy-dependencies -DoutputDirectory="$d/lib" -DincludeScope=runtime; then
    echo "flink: cannot resolve org.apache.flink:flink-runtime/-runtime-web/-clients:$v (see ci/flink/pom.xml)" >&2
    exit 1
  fi
  for job in TopSpeedWindowing WindowJoin WordCount; do
    local coord="org.apache.flink:flink-examples-streaming:$v:jar:$job"
    if ! mvn_q dependency:copy -Dartifact="$coord" -DoutputDirectory="$d/examples" -Dmdep.stripVersion=true; then
      echo "flink: missing artifact $coord" >&2
      exit 1
    fi
    mv "$d/examples/flink-examples-streaming-$job.jar" "$d/examples/$job.jar"
  done
  echo "$stamp" > "$d/.complete"
}

for v in ${*:-$FLINK1_VERSION $FLINK2_VERSION}; do fetch "$v"; done
