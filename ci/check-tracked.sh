#!/usr/bin/env bash
# Fails when git tracks a built binary or a file over 1 MiB outside testdata/: those belong in a
# release or a cache, never in the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
bad=0
while IFS= read -r -d '' f; do
  case "/$f" in */testdata/*) continue ;; esac
  [ -f "$f" ] && [ ! -L "$f" ] || continue
  size=$(wc -c < "$f")
  if [ "$size" -gt 1048576 ]; then
    echo "tracked file over 1 MiB: $f ($size bytes); keep it out of git (release asset, cache or testdata/)" >&2
    bad=1
  fi
  magic=$(head -c 4 "$f" | od -An -tx1 | tr -d ' \n')
  case "$magic" in
    7f454c46|cffaedfe|cefaedfe|feedfacf|feedface|cafebabe|4d5a*)
      # cafebabe is also a Java class; either way a build output.
      echo "tracked executable binary: $f; remove it (git rm --cached) and add it to .gitignore" >&2
      bad=1 ;;
  esac
done < <(git ls-files -z)
exit $bad
