"""The adversarial set: every finding on it is proven dead by real training.

``tests/adversarial/*.py`` are small programs, each showing one way a program can
reach a layer, its container or its norm (indexing, slicing, iteration, hooks,
registries, replaced norms and forwards, frozen norms, copies, class patches...;
``a*``) or an idiom around a truly dead bias (``p*``, positive controls).  They
were written against the analysis by someone trying to break it, independently
of the rule tables.  ``harness.py`` computes the ground truth of every biased
layer the program builds by training the program with the bias randomised and
with it zeroed (see its docstring); this test asserts, per case:

* no finding on a bias that is not dead (``FP``), except the documented limits
  in :data:`KNOWN_LIMITS`;
* no *safe* fix whose program crashes (``FIXCRASH``);
* every dead bias of a positive control is found (no ``miss`` in ``p*``).

``tests/adversarial/projects/*`` are the same for several files: a wrapper
defined in one module and used, changed or reached from another (its conv's
output read, its norm replaced or frozen, hooks, subclasses, monkeypatched
``forward``, re-exports, ``norm_layer`` arguments).  ``xharness.py`` runs the
installed ``convbnlint`` command on the folder, so whatever whole-project
analysis it does by default is what is judged: no finding on a live bias, no
safe fix whose program crashes.

Each case runs in its own process (cases monkeypatch torch on purpose): about
2-4 s each.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.util import convbnlint_cmd

pytest.importorskip("torch")

HERE = Path(__file__).parent / "adversarial"
CASES = sorted(p for p in HERE.glob("[ap][0-9]*.py"))
PROJECTS = sorted(p for p in (HERE / "projects").iterdir() if p.is_dir())

# Findings that are wrong on the case's own program but stay by design, with why.
KNOWN_LIMITS = {
    # CBL002 assumes a Linear feeding BatchNorm1d sees (N, C) input, and says so in
    # its message and rule page; the file shows no 3-D shape (no view/reshape/
    # transpose/sequence model), the program feeds (N, L, C) with L == C.
    "a26_linear_3d.py",
}


def run_harness(script: str, *args: str) -> dict:
    """Run ``script`` (``harness.py``, ``xharness.py``) in its own process; its
    result, which must name at least one biased layer and no error."""
    env = dict(os.environ, PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run(
        [sys.executable, str(HERE / script), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("RESULT "), proc.stdout[-2000:]
    result = json.loads(last[len("RESULT ") :])
    assert result["error"] is None, result["error"]
    assert result["sites"], "the program built no biased layer"
    return result


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case(path: Path) -> None:
    result = run_harness("harness.py", str(path))
    bad = []
    for site in result["sites"]:
        where = f"{path.name}:{site['line']}:{site['column']} {site['flag']} {site['why']}"
        if site["verdict"] == "FP" and path.name not in KNOWN_LIMITS:
            bad.append("finding on a live bias: " + where)
        if site["verdict"] == "FIXCRASH":
            bad.append("safe fix crashes the program: " + where)
        if site["verdict"] == "miss" and path.name.startswith("p"):
            bad.append("positive control missed: " + where)
    assert not bad, "\n".join(bad)
    if path.name in KNOWN_LIMITS:
        assert any(s["verdict"] == "FP" for s in result["sites"]), "limit lifted: drop it from KNOWN_LIMITS"


@pytest.mark.parametrize("mode", ["default", "whole-project"])
@pytest.mark.parametrize("folder", PROJECTS, ids=[p.name for p in PROJECTS])
def test_project(folder: Path, mode: str, tmp_path: Path) -> None:
    (exe,) = convbnlint_cmd()
    case = tmp_path / "cases" / folder.name  # (a copy: no cache, no __pycache__ in tests/)
    shutil.copytree(folder, case)
    options = ["--whole-project"] if mode == "whole-project" else []
    result = run_harness("xharness.py", exe, str(case), *options)
    bad = [
        f"{s['verdict']}: {folder.name}/{s['file']}:{s['line']}:{s['column']} {s['flag']} {s['why']}"
        for s in result["sites"]
        if s["verdict"] in ("FP", "FIXCRASH")
    ]
    assert not bad, "\n".join(bad)
