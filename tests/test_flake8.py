"""The flake8 plugin, run by the real flake8 (a subprocess of the installed one)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.test_cli import BAD, GOOD

FLAKE8 = shutil.which("flake8", path=os.path.dirname(sys.executable)) or shutil.which("flake8")
pytestmark = pytest.mark.skipif(FLAKE8 is None, reason="flake8 is not installed")

MSG = "CBL001 Conv2d bias is cancelled by the following BatchNorm2d; pass bias=False"


def flake8(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    assert FLAKE8 is not None
    return subprocess.run(
        [FLAKE8, "--isolated", *args], cwd=cwd, capture_output=True, text=True, input=stdin
    )


def test_plugin_is_registered(tmp_path: Path) -> None:
    res = flake8("--version", cwd=tmp_path)
    assert res.returncode == 0
    from convbnlint import __version__

    assert f"convbnlint: {__version__}" in res.stdout


def test_select_cbl(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(BAD)
    (tmp_path / "good.py").write_text(GOOD)
    res = flake8("--select", "CBL", "bad.py", "good.py", cwd=tmp_path)
    assert res.returncode == 1, res.stderr
    assert res.stdout.splitlines() == [f"bad.py:4:5: {MSG}"]
    assert res.stderr == ""


def test_default_selection_and_stdin(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(BAD)
    res = flake8("bad.py", cwd=tmp_path)
    assert f"bad.py:4:5: {MSG}" in res.stdout.splitlines()
    res = flake8("--select", "CBL", "-", cwd=tmp_path, stdin=BAD)
    assert res.stdout.splitlines() == [f"stdin:4:5: {MSG}"]


def test_flake8_controls_noqa_and_ignores(tmp_path: Path) -> None:
    noqa = BAD.replace("nn.Conv2d(3, 8, 3),", "nn.Conv2d(3, 8, 3),  # noqa: CBL001")
    (tmp_path / "m.py").write_text(noqa)
    assert flake8("--select", "CBL", "m.py", cwd=tmp_path).stdout == ""
    # --disable-noqa is flake8's to decide: the plugin reports suppressed findings too.
    res = flake8("--select", "CBL", "--disable-noqa", "m.py", cwd=tmp_path)
    assert res.stdout.splitlines() == [f"m.py:4:5: {MSG}"]
    (tmp_path / "b.py").write_text(BAD)
    assert flake8("--select", "CBL", "--extend-ignore", "CBL001", "b.py", cwd=tmp_path).stdout == ""
    res = flake8("--select", "CBL", "--per-file-ignores", "b.py:CBL001", "b.py", cwd=tmp_path)
    assert res.stdout == ""


def test_syntax_error_is_flake8s_e999_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("import torch.nn as nn\nnn.BatchNorm2d(\n")
    res = flake8("broken.py", cwd=tmp_path)
    assert "E999" in res.stdout
    assert "Traceback" not in res.stderr


def test_other_rules_come_through(tmp_path: Path) -> None:
    src = textwrap.dedent(
        """\
        import torch.nn as nn

        head = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))
        """
    )
    (tmp_path / "m.py").write_text(src)
    from convbnlint import check_source

    found = check_source(src)
    assert [d.code for d in found] == ["CBL002"]
    expected = [f"m.py:{d.span.line}:{d.span.column}: {d.code} {d.message}" for d in found]
    res = flake8("--select", "CBL", "m.py", cwd=tmp_path)
    assert res.stdout.splitlines() == expected
