#!/usr/bin/env bash
# ci/test-summary.sh NAME: passes `go test -v` output through, keeping only results and failures,
# and ends with the plain "NAME: N passed, N failed, N skipped" line; exits non-zero when a test
# failed or skipped (a skipped test proves nothing: make test orders its targets so that every
# test has what it needs) or none ran.
set -uo pipefail
name=${1:-tests}
passed=0 failed=0 skipped=0 status=0
while IFS= read -r line; do
  case "$line" in
    "=== RUN"*|"=== PAUSE"*|"=== CONT"*|"=== NAME"*) continue ;;
    *"--- PASS:"*) passed=$((passed + 1)) ;;
    *"--- FAIL:"*) failed=$((failed + 1)) ;;
    *"--- SKIP:"*) skipped=$((skipped + 1)) ;;
    FAIL*) status=1 ;;
  esac
  printf '%s\n' "$line"
done
echo "$name: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ] && [ "$skipped" -eq 0 ] && [ "$passed" -gt 0 ]
