"""Helpers shared by the end-to-end tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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
) -> subprocess.CompletedProcess[str]:
    """The installed command; with ``timeout``, a hang is a failure too."""
    env = {**os.environ, "NO_COLOR": "1"}
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
