"""Helpers shared by the end-to-end tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Environment that gives findings the fix applicability their marker comments ask
# for (``# test: unsafe``...; see tests/applicability_site/sitecustomize.py).
APPLICABILITY_ENV = {"PYTHONPATH": str(ROOT / "tests" / "applicability_site")}


def convbnlint_cmd() -> list[str]:
    """The installed console script (end-to-end tests run the real command)."""
    exe = shutil.which("convbnlint", path=os.path.dirname(sys.executable))
    if exe is None:
        exe = shutil.which("convbnlint")
    assert exe, "convbnlint is not installed (pip install -e '.[test]')"
    return [exe]


def run(
    args: list[str],
    cwd: Path | str | None = None,
    stdin: bytes | None = None,
    timeout: float | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """The installed command; with ``timeout``, a hang is a failure too; ``env``
    adds to (or overrides) the environment."""
    env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    proc = subprocess.run(
        [*convbnlint_cmd(), *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        timeout=timeout,
        env=env,
    )
    return subprocess.CompletedProcess(
        proc.args,
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
    )
