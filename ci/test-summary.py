#!/usr/bin/env python3
"""ci/test-summary.py NAME: reads `go test -json` and prints it as `go test -v` would, without the
=== RUN/PAUSE/CONT lines. At the end it prints, for each test that failed, its own output (the
lines of parallel tests are interleaved above, and a CI excerpt shows only the end), then
"NAME: N passed, N failed, N skipped". Exits non-zero when a test failed or skipped (a skipped
test proves nothing: make test orders its targets so that every test has what it needs), a
package failed, or none ran."""

import json
import sys

# A failed test's own lines kept for the end: its failure and what it logged just before.
KEEP = 60


def main() -> int:
    name = sys.argv[1] if len(sys.argv) > 1 else "tests"
    counts = {"pass": 0, "fail": 0, "skip": 0}
    status = 0
    own: dict[str, list[str]] = {}
    failed: list[str] = []
    for raw in sys.stdin:
        try:
            ev = json.loads(raw)
        except ValueError:
            sys.stdout.write(raw)  # the build's own output
            continue
        if not isinstance(ev, dict):
            sys.stdout.write(raw)
            continue
        action, test, out = ev.get("Action"), ev.get("Test"), ev.get("Output", "")
        if action in ("output", "build-output"):
            if out.startswith(("=== RUN", "=== PAUSE", "=== CONT", "=== NAME")):
                continue
            sys.stdout.write(out)
            if test:
                lines = own.setdefault(test, [])
                lines.append(out)
                del lines[:-KEEP]
            continue
        if action == "build-fail":
            status = 1
        if test and action in counts:
            counts[action] += 1
            if action == "fail":
                failed.append(test)
        elif action == "fail":
            status = 1  # a package: a build error, a panic or a timeout
    sys.stdout.flush()
    # A parent fails with its subtest: show the innermost failures, each once.
    leaves = [t for t in failed if not any(o.startswith(t + "/") for o in failed)]
    if leaves:
        print(f"\n{name}: the output of each failed test")
        for t in leaves:
            print(f"--- {t}")
            sys.stdout.write("".join(own.get(t, [])))
    print(f"{name}: {counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped")
    if counts["fail"] or counts["skip"] or status or not counts["pass"]:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
