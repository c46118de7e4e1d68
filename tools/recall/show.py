#!/usr/bin/env python3
"""Print what a reader needs to classify sampled candidates: the call with its
neighbourhood, and every line of the enclosing top-level definition that names
the variable or attribute the call is bound to (``self.conv1`` -> ``conv1``).

    python tools/recall/show.py SAMPLE.json ROOT [ID...]
"""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path


def main() -> int:
    sample, root, *ids = sys.argv[1:]
    for c in json.load(open(sample)):
        if ids and c["id"] not in ids:
            continue
        path = Path(root) / c["package"] / c["path"]
        text = path.read_text(encoding="utf-8", errors="replace")
        lines = text.splitlines()
        tree = ast.parse(text)
        top = next(
            (n for n in tree.body if n.lineno <= c["line"] <= (n.end_lineno or n.lineno)), None
        )
        print("=" * 100)
        print(f"{c['id']} {c['stratum']} {c['kind']}/{c['scope']} {c['package']}/{c['path']}:{c['line']}:{c['col']}")
        lo, hi = max(0, c["line"] - 4), min(len(lines), c["line"] + 4)
        for i in range(lo, hi):
            print(f"{'>' if i + 1 == c['line'] else ' '}{i + 1:5} {lines[i]}")
        m = re.match(r"\s*(?:self\.)?(\w+)\s*(?::[^=]*)?=", lines[c["line"] - 1])
        if m and top is not None:
            name = m.group(1)
            pat = re.compile(rf"\b{name}\b")
            print("  uses of", name)
            for i in range(top.lineno - 1, top.end_lineno or top.lineno):
                if pat.search(lines[i]) and not lo <= i < hi:
                    print(f"  {i + 1:5} {lines[i]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
