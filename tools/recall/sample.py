#!/usr/bin/env python3
"""Draw the seeded, stratified random sample of the recall measure.

Strata (from ``scan.py``'s candidates; the scanner knows nothing of convbnlint):

Enriched strata (where dead biases are dense; sampled first):

* ``S0`` layer whose next sibling (argument, list item, statement, ``append``/``add_module``
  item) is a call of something named like a norm;
* ``B3`` wrapper call, definition in another file, passing a bias-like argument ``= True``
  (the cross-file population: every such call is read, not sampled).

Plain strata (the rest; an estimate of what the enriched strata miss):

* ``S1`` layer, its top-level class/function names ``BatchNorm``/``InstanceNorm``;
* ``S2`` layer, only a weaker norm hint (``norm``, ``bn``);
* ``S3`` wrapper call, definition in another file of the package;
* ``S4`` wrapper call, definition in the same file.

``dev`` = the bench corpus (read by the team while building the walker: tune on it);
``heldout`` = ``tools/recall/heldout.py``'s packages (never tuned on).

    python tools/recall/sample.py --split dev CANDIDATES.jsonl > part.json
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

SIZES = {
    "dev": {"S0": 30, "B3": 1000, "S1": 14, "S2": 6, "S3": 8, "S4": 8},
    "heldout": {"S0": 100, "B3": 100, "S1": 12, "S2": 4, "S3": 8, "S4": 6},
}
STRONG = re.compile(r"BatchNorm|InstanceNorm")


def stratum(c: dict, roots: dict[str, Path]) -> str:
    if c["kind"] == "wrapper":
        if c["scope"] == "cross-file":
            return "B3" if c["bias_on"] else "S3"
        return "S4"
    if c["adjacent"]:
        return "S0"
    text = (roots[c["package"]] / c["path"]).read_text(encoding="utf-8", errors="replace")
    import ast

    tree = ast.parse(text)
    lines = text.splitlines()
    for node in tree.body:
        end = getattr(node, "end_lineno", node.lineno)
        if node.lineno <= c["line"] <= end:
            seg = "\n".join(lines[node.lineno - 1 : end])
            return "S1" if STRONG.search(seg) else "S2"
    return "S2"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", choices=SIZES, required=True)
    ap.add_argument("--root", type=Path, required=True, help="folder holding the package roots")
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("candidates", type=Path)
    args = ap.parse_args()
    rows = [json.loads(line) for line in args.candidates.read_text().splitlines() if line]
    roots = {r["package"]: args.root / r["package"] for r in rows}
    by: dict[str, list[dict]] = {}
    for r in sorted(rows, key=lambda r: r["id"]):
        by.setdefault(stratum(r, roots), []).append(r)
    rng = random.Random(args.seed)
    out = []
    for name, size in SIZES[args.split].items():
        pool = by.get(name, [])
        for r in rng.sample(pool, min(size, len(pool))):
            out.append({**r, "stratum": name, "split": args.split, "population": len(pool),
                        "verdict": "", "note": ""})
    json.dump(out, sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
