"""Compare convbnlint's findings on torchvision's source with the runtime truth.

The truth (``torchvision_truth.json``, made by ``torchvision_truth.py`` in a venv
with torch 2.14.1 + torchvision 0.29.1) records, for every conv constructor call
site, whether its bias is on and whether every forward call's output went only
into a cancelling norm, per model and per calling site.  A runtime positive is:

* a *site* positive: every instance built there has a dead bias;
* a *model* positive: in some models every instance built there has a dead bias
  (the same line builds layers for other models where it does not): a
  conditional finding (CBL003) is the right static answer;
* a *caller* positive: the conv is built in a shared helper in another module
  and the dead bias is decided by arguments at a call site.

A static finding is correct when it names a runtime positive.  Positives that
depend on values only known at run time in another module (a ``norm_layer``
parameter, a helper in another file) are *statically undecidable* for a
single-file linter and listed separately with the reason.

Usage (the project venv, with convbnlint installed, and the corpus built by
``python bench/corpus.py --group models``)::

    python tools/runtime/compare_torchvision.py [--truth tools/runtime/torchvision_truth.json]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / ".cache" / "corpus" / "torchvision-0.29.1" / "torchvision"

# Why a runtime positive cannot be decided from the file alone.
UNDECIDABLE = {
    "models/optical_flow/raft.py": (
        "Conv2dNormActivation(..., norm_layer=norm_layer, bias=True): the conv is built in "
        "ops/misc.py (another module) and the norm is the caller's norm_layer argument, "
        "BatchNorm2d or InstanceNorm2d per model; RAFT's authors keep the bias on purpose "
        "(the BatchNorm is frozen after the first training stage)"
    ),
}


def static_findings(root: Path) -> list[dict[str, object]]:
    proc = subprocess.run(
        ["convbnlint", "--format", "json", "--exit-zero", "--no-cache", str(root)],
        capture_output=True,
        text=True,
    )
    if proc.returncode not in (0, 1):
        proc = subprocess.run(
            ["convbnlint", "--format", "json", "--exit-zero", str(root)],
            capture_output=True,
            text=True,
        )
    rows = json.loads(proc.stdout)
    for row in rows:
        row["file"] = Path(str(row["path"])).resolve().relative_to(root.resolve()).as_posix()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--truth", default=str(Path(__file__).with_name("torchvision_truth.json")))
    parser.add_argument("--source", default=str(CORPUS))
    args = parser.parse_args()
    truth = json.loads(Path(args.truth).read_text())
    source = Path(args.source)
    if not source.is_dir():
        print(f"no torchvision source at {source}: python bench/corpus.py --group models")
        return 2

    positives: dict[tuple[str, int], str] = {}
    for site in truth["sites"]:
        if site["runtime_positive"]:
            positives[(site["file"], site["line"])] = "site"
    for entry in truth["model_positives"]:
        file, line = re.match(r"(\S+):(\d+)", entry).groups()  # type: ignore[union-attr]
        positives.setdefault((file, int(line)), "model")
    for entry in truth["caller_positives"]:
        file, line = re.match(r"(\S+):(\d+)", entry).groups()  # type: ignore[union-attr]
        positives.setdefault((file, int(line)), "caller")

    findings = static_findings(source)
    found = {(str(f["file"]), int(f["line"])): f for f in findings}  # type: ignore[arg-type]
    true_pos = [k for k in found if k in positives]
    false_pos = [k for k in found if k not in positives]
    undecidable = {k: UNDECIDABLE[k[0]] for k in positives if k[0] in UNDECIDABLE}
    decidable = [k for k in positives if k not in undecidable]
    missed = [k for k in decidable if k not in found]

    print(f"models built at run time: {len(truth['models'])}, conv sites: {len(truth['sites'])}")
    print(f"runtime positives: {len(positives)} ({len(decidable)} statically decidable)")
    print(f"static findings: {len(found)}")
    for key in sorted(found):
        f = found[key]
        verdict = "TRUE" if key in positives else "FALSE POSITIVE"
        print(f"  {key[0]}:{key[1]} {f['code']} [{verdict}, {positives.get(key, '-')}]")
    precision = len(true_pos) / len(found) if found else 1.0
    recall = (len(decidable) - len(missed)) / len(decidable) if decidable else 1.0
    print(f"precision: {len(true_pos)}/{len(found)} = {precision:.0%}")
    print(f"recall (statically decidable): {len(decidable) - len(missed)}/{len(decidable)} = {recall:.0%}")
    for key in missed:
        print(f"  MISSED {key[0]}:{key[1]} ({positives[key]} positive)")
    print(f"statically undecidable runtime positives: {len(undecidable)}")
    for key, why in sorted(undecidable.items()):
        print(f"  {key[0]}:{key[1]}: {why}")
    return 1 if false_pos or missed else 0


if __name__ == "__main__":
    sys.exit(main())
