#!/usr/bin/env bash
# Passes `go test -v` output through, keeping only results and failures, and ends with the
# plain "N passed, N failed" line; exits non-zero when a test failed or none ran.
set -uo pipefail
passed=0 failed=0 status=0
while IFS= read -r line; do
  case "$line" in
    "=== RUN"*|"=== PAUSE"*|"=== CONT"*|"=== NAME"*) continue ;;
    *"--- PASS:"*) passed=$((passed + 1)) ;;
    *"--- FAIL:"*) failed=$((failed + 1)) ;;
    FAIL*) status=1 ;;
  esac
  printf '%s\n' "$line"
done
echo "e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ] && [ "$passed" -gt 0 ]
