#!/usr/bin/env bash
# Runs every Go fuzz target of the repository for FUZZTIME each (default 10s), one after the
# other (go test -fuzz takes one target at a time). Fails when a target finds a failure, and when
# a Fuzz function exists that is not listed here (so none is silently left out).
#   ci/fuzz.sh [fuzztime]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
time=${1:-${FUZZTIME:-10s}}
targets=(
  "./schema FuzzValues"
  "./schema FuzzReadJar"
  "./plugin/flink FuzzAnswers"
  "./plugin/manifest FuzzParse"
)
found=$(grep -rhoE '^func Fuzz[A-Za-z0-9_]+' --include='*_test.go' . | sed 's/^func //' | sort)
listed=$(for t in "${targets[@]}"; do echo "${t#* }"; done | sort)
if [ "$found" != "$listed" ]; then
  echo "fuzz: targets in the code and in ci/fuzz.sh differ:" >&2
  diff <(echo "$listed") <(echo "$found") >&2 || true
  exit 1
fi
for t in "${targets[@]}"; do
  pkg=${t% *} name=${t#* }
  echo "fuzz: $name ($pkg) for $time"
  # A new input is minimized for at most 1 s: Go's default (60 s) takes a whole FuzzValues run,
  # whose every execution merges, checks and renders a chart.
  go test "$pkg" -run '^$' -fuzz "^$name\$" -fuzztime "$time" -fuzzminimizetime 1s 2>&1 | tail -3
  [ "${PIPESTATUS[0]}" = 0 ] || { echo "fuzz: $name failed (the failing input is under $pkg/testdata/fuzz/$name)" >&2; exit 1; }
done
