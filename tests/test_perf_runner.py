"""Runner decisions that keep small runs cheap (no timing here)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from convbnlint import runner

BAD = "import torch.nn as nn\nm = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))\n"


def test_no_pool_for_small_batches() -> None:
    assert runner.pool_size(None, 5, 10_000) == 1  # a pre-commit batch
    assert runner.pool_size(None, 100, runner.POOL_MIN_BYTES) >= 1
    assert runner.pool_size(None, 1, 10**8) == 1
    # An explicit --jobs is obeyed (given two files to analyse).
    assert runner.pool_size(1, 500, 10**8) == 1
    assert runner.pool_size(2, 1, 10**8) == 1
    assert runner.pool_size(4, 3, 10) == 3


def test_progress_bar_only_on_a_terminal_for_long_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    big = runner.PROGRESS_MIN_FILES
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr("sys.stderr", io.StringIO())  # not a terminal
    assert isinstance(runner._progress(runner.Options(), big, 0, 10), runner._NoProgress)
    monkeypatch.setenv("CI", "true")
    assert isinstance(runner._progress(runner.Options(), big, 0, 10), runner._NoProgress)


def test_forced_progress_bar_renders_and_changes_nothing(tmp_path: Path) -> None:
    paths = []
    for i in range(4):
        p = tmp_path / f"m{i}.py"
        p.write_text(BAD if i % 2 else "x = 1\n")
        paths.append(p)
    plain = runner.run(paths, runner.Options())
    shown = runner.run(paths, runner.Options(progress=True))
    assert [(r.path, r.diagnostics) for r in shown] == [(r.path, r.diagnostics) for r in plain]


def test_startup_path_imports_no_heavy_module(tmp_path: Path) -> None:
    """One plain file: libcst, rich and the analysis stay unimported."""
    import subprocess
    import sys

    (tmp_path / "plain.py").write_text("import os\nprint(os.getcwd())\n")
    code = (
        "import sys\nfrom pathlib import Path\nfrom convbnlint import runner\n"
        "runner.run([Path('plain.py')], runner.Options(cache_dir='c'))\n"
        "bad = [m for m in ('libcst', 'rich', 'convbnlint.facts', 'convbnlint.syntax.stages', 'convbnlint.engine', 'convbnlint.sourcefile')"
        " if m in sys.modules]\nprint(bad)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
