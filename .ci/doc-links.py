#!/usr/bin/env python3
"""No link in the workspace's docs is left unresolved.

`cargo doc --no-deps` renders an intra-doc link to another crate's item (say
`futures_core::Stream`, or a re-exported crate) as a raw `href="futures_core::Stream"` when that
crate's docs were not built, and rustdoc does not warn. This finds every raw path left in an
href whose text our own doc comments wrote (docs copied in from dependencies, such as blanket
implementations, are theirs to mend) and every relative `.html` link to a missing file.

usage: doc-links.py [DOC_ROOT] [CRATE_DIR=SOURCE_DIR ...]"""
import os
import re
import sys
from urllib.parse import unquote, urldefrag

root = sys.argv[1] if len(sys.argv) > 1 else "target/doc"
pairs = sys.argv[2:] or ["userapi=src", "userapi_fake=fake/src"]
href = re.compile(r'href="([^"]*)"')
doc_line = re.compile(r"^\s*//[/!](.*)$")

broken = set()
for pair in pairs:
    crate, sources = pair.split("=", 1)
    written = []
    for dirpath, _, files in os.walk(sources):
        for name in files:
            if name.endswith(".rs"):
                with open(os.path.join(dirpath, name), encoding="utf-8") as f:
                    written += [m.group(1) for m in map(doc_line.match, f) if m]
    written = "\n".join(written)
    for dirpath, _, files in os.walk(os.path.join(root, crate)):
        for name in files:
            if not name.endswith(".html"):
                continue
            page = os.path.join(dirpath, name)
            with open(page, encoding="utf-8") as f:
                links = href.findall(f.read())
            for link in links:
                if "://" in link or link.startswith(("#", "mailto:", "javascript:", "/")):
                    continue
                path = unquote(urldefrag(link)[0])
                if path.endswith(".html"):
                    target = os.path.normpath(os.path.join(dirpath, path))
                    if not os.path.exists(target):
                        broken.add(f"{os.path.relpath(page, root)}: {link} (no such page)")
                elif "::" in path and (f"]({path})" in written or f"[`{path}`]" in written):
                    broken.add(f"{os.path.relpath(page, root)}: {link} (not resolved)")
for line in sorted(broken):
    print("broken link:", line)
print(f"doc links: {len(broken)} broken")
sys.exit(1 if broken else 0)
