#!/usr/bin/env python3
"""pypi.py NAME VERSION PATTERN...: the first file of NAME==VERSION on PyPI's simple index whose
name matches one of the PATTERNs (regular expressions, in order of preference), printed as
"filename sha256 url"."""
import json
import re
import sys
import urllib.request

name, version, patterns = sys.argv[1], sys.argv[2], sys.argv[3:]
req = urllib.request.Request(f"https://pypi.org/simple/{name}/",
                             headers={"Accept": "application/vnd.pypi.simple.v1+json"})
with urllib.request.urlopen(req, timeout=60) as r:
    files = json.load(r)["files"]
# file names spell the project with - or _ (PEP 427/625)
stem = re.escape(name).replace(r"\-", "[-_]") + "-" + re.escape(version)
ours = [f for f in files if re.match(stem + r"(\.tar\.gz|-)", f["filename"]) and not f.get("yanked")]
for pattern in patterns:
    for f in ours:
        if re.search(pattern, f["filename"]):
            print(f["filename"], f["hashes"]["sha256"], f["url"])
            sys.exit(0)
sys.exit(f"pypi.py: no file of {name}=={version} matches {patterns} "
         f"(there are: {' '.join(f['filename'] for f in ours) or 'none'})")
