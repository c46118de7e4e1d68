"""Ground truth for the multi-file adversarial cases (``projects/*``), like ``harness.py``.

A case is a folder of modules whose ``main.py`` defines ``model`` and ``inputs``;
the layer a wrapper builds in one file is used, changed or reached from another.
A site is a biased-layer constructor call (file name, line, column) on the way to
a built layer; findings come from the installed ``convbnlint`` command run on the
folder (``--format json``, whatever whole-project analysis it does by default).
Verdicts as in ``harness.py`` (``FIXCRASH``: a safe fix whose program crashes).

usage: python xharness.py CONVBNLINT CASE_DIR [OPTION...]   -> a ``RESULT {json}`` last line
(the options are passed to ``convbnlint``, e.g. ``--whole-project``).
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys

# (harness.py sits beside this script: its constructor instrumentation, training
# run and comparison serve both.)
from harness import instrumented, same, train_and_eval


def pos(frame):
    p = list(frame.f_code.co_positions())[frame.f_lasti // 2]
    return (os.path.basename(frame.f_code.co_filename), p[0], p[2] + 1)


def execute(folder, mode, targets):
    """Import the case's ``main`` afresh. Returns (module, sites dict)."""
    folder = os.path.realpath(folder)
    root = os.path.dirname(folder)
    for name in [
        m
        for m, mod in list(sys.modules.items())
        if getattr(mod, "__file__", None)
        and os.path.realpath(mod.__file__).startswith(root + os.sep)
    ]:
        del sys.modules[name]

    def in_case(f):
        return os.path.realpath(f.f_code.co_filename).startswith(folder + os.sep)

    sys.path.insert(0, folder)
    try:
        with instrumented(in_case, pos, mode, targets) as sites:
            ns = importlib.import_module("main")
    finally:
        sys.path.remove(folder)
    return ns, sites


def trajectory(folder, mode, targets):
    ns, _ = execute(folder, mode, targets)
    return train_and_eval(ns.model, tuple(ns.inputs))


def crashes(folder, site):
    try:
        trajectory(folder, "remove", {site})
    except Exception as e:  # noqa: BLE001
        return repr(e)[:80]
    return None


def main():
    exe, folder, extra = sys.argv[1], sys.argv[2], sys.argv[3:]
    _, sites = execute(folder, "record", set())
    proc = subprocess.run(
        [exe, "--format", "json", "--no-cache", "--exit-zero", *extra, folder],
        capture_output=True,
        text=True,
    )
    data = json.loads(proc.stdout)
    flagged = {
        (os.path.basename(d["path"]), d["line"], d["column"]): d for d in data if d.get("code")
    }
    errors = [d for d in data if not str(d.get("code") or "").startswith("CBL")]
    res = []
    for site in sorted({ch[0] for ch in sites.values()}):
        where = {p for ch in sites.values() if ch[0] == site for p in ch}
        hit = next((flagged[p] for p in sorted(where) if p in flagged), None)
        try:
            dead = same(trajectory(folder, "random", {site}), trajectory(folder, "zero", {site}))
            why = "" if dead else "outputs differ"
        except Exception as e:  # noqa: BLE001
            dead, why = False, "crash in random/zero run: " + repr(e)[:80]
        verdict = ("FP" if not dead else "TP") if hit else ("miss" if dead else "ok")
        if hit and dead:
            crash = crashes(folder, site)
            safe = (hit.get("fix") or {}).get("applicability") == "safe"
            if crash and safe:
                verdict, why = "FIXCRASH", "safe fix but the program crashes: " + crash
        res.append(
            {
                "file": site[0],
                "line": site[1],
                "column": site[2],
                "flag": hit["code"] if hit else None,
                "dead": dead,
                "verdict": verdict,
                "why": why,
            }
        )
    print("RESULT " + json.dumps({"sites": res, "error": errors[0] if errors else None}))


if __name__ == "__main__":
    main()
