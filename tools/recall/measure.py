#!/usr/bin/env python3
"""Recall of convbnlint on the hand-classified sample (``tools/recall/sample.json``).

Runs the real command line (``python -m convbnlint --format json``) over every
package root the sample touches (whole packages: cross-file findings need the
other files), then counts, per split and per kind of proof, the sampled sites a
finding starts at.

    python tools/recall/measure.py                 # this checkout
    python tools/recall/measure.py --code DIR      # another checkout (e.g. main before a change)

Verdicts (``sample.json``, read by hand; see ``docs/recall.md``):

* ``in-file``: a reader proves the bias dead (always, or exactly under a
  parameter test) from the file alone;
* ``cross-file``: it takes other files of the same package;
* ``not``: the bias can matter, or it depends on what unseen callers, configs or
  other packages pass, or the only fix would break code that reads the bias.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "tools" / "recall" / "sample.json"
ROOTS = {"dev": REPO / ".cache" / "corpus", "heldout": REPO / ".cache" / "heldout"}
CONFIG = "[tool.convbnlint]\nexclude = []\nrespect-gitignore = false\n"


def findings(root: Path, code: Path | None, config: Path, whole: bool = False) -> set[tuple[str, int, int]]:
    cmd = [sys.executable, "-m", "convbnlint", "--config", str(config), "--format", "json",
           "--exit-zero", "--quiet", "--no-cache", str(root)]
    if whole:
        cmd.insert(-1, "--whole-project")
    env = {**os.environ, "NO_COLOR": "1"}
    if code is not None:
        env["PYTHONPATH"] = str(code)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=root)
    rows = json.loads(proc.stdout or "[]")
    out = set()
    for r in rows:
        path = os.path.relpath(r["path"], root) if os.path.isabs(r["path"]) else r["path"]
        out.add((path, r["line"], r["column"]))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--code", type=Path, help="a checkout whose convbnlint package is measured")
    ap.add_argument("--sample", type=Path, default=SAMPLE)
    ap.add_argument("--whole-project", action="store_true", help="measure with --whole-project")
    args = ap.parse_args()
    sample = json.loads(args.sample.read_text())
    flagged: dict[tuple[str, str], set] = {}
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "pyproject.toml"
        config.write_text(CONFIG)
        for split, package in sorted({(c["split"], c["package"]) for c in sample}):
            root = ROOTS[split] / package
            flagged[(split, package)] = findings(root, args.code, config, args.whole_project)
            print(f"  {package}: {len(flagged[(split, package)])} findings", file=sys.stderr)
    total: Counter = Counter()
    found: Counter = Counter()
    missed: list[str] = []
    wrong: list[str] = []
    for c in sample:
        hit = (c["path"], c["line"], c["col"]) in flagged[(c["split"], c["package"])]
        key = (c["split"], c["verdict"])
        total[key] += 1
        if hit:
            found[key] += 1
            if c["verdict"] == "not":
                wrong.append(f"{c['id']} {c['package']}/{c['path']}:{c['line']}")
        elif c["verdict"] in ("in-file", "cross-file"):
            missed.append(f"{c['split']:8} {c['verdict']:10} {c['id']} {c['package']}/{c['path']}:{c['line']}  {c['note']}")
    print("| split | verdict | sampled | flagged | recall |")
    print("|---|---|---:|---:|---:|")
    for split in ("dev", "heldout"):
        for verdict in ("in-file", "cross-file", "not"):
            n = total[(split, verdict)]
            k = found[(split, verdict)]
            rec = f"{100 * k / n:.0f}%" if n and verdict != "not" else ""
            print(f"| {split} | {verdict} | {n} | {k} | {rec} |")
    if missed:
        print("\nmissed:")
        for m in missed:
            print("  " + m)
    if wrong:
        print("\nflagged sites classified 'not' (read again: a false positive or a wrong verdict):")
        for w in wrong:
            print("  " + w)
    return 0


if __name__ == "__main__":
    sys.exit(main())
