"""What a Ruff user types first, end to end through the installed command:
``check``, ``--output-format`` (and its environment variable), ``--show-settings``,
``--show-files``, ``--force-exclude``, ``--color`` with FORCE_COLOR/NO_COLOR, a
coloured ``--diff``, code frames, ``--show-fixes``, the cache at the project root."""

from __future__ import annotations

import json
import os
import pty
import subprocess
from pathlib import Path

import pytest

from tests.test_cli import BAD, GOOD
from tests.util import convbnlint_cmd, run

MSG = "Conv2d bias is cancelled by the following BatchNorm2d; pass bias=False"
MULTI = """\
import torch.nn as nn


class Net(nn.Module):
\tdef __init__(self):
\t\tsuper().__init__()
\t\tself.conv = nn.Conv2d(
\t\t\t3,  # café
\t\t\t8,
\t\t\t3,
\t\t)
\t\tself.bn = nn.BatchNorm2d(8)

\tdef forward(self, x):
\t\treturn self.bn(self.conv(x))
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "bad.py").write_text(BAD)
    (tmp_path / "pkg" / "good.py").write_text(GOOD)
    return tmp_path


def on_terminal(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    """The command's stdout when it is a terminal (a pseudo-terminal)."""
    main, child = pty.openpty()
    full_env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    full_env.update({"COLUMNS": "200", "TERM": "xterm", **(env or {})})
    proc = subprocess.run(
        [*convbnlint_cmd(), *args],
        stdout=child,
        stderr=subprocess.PIPE,
        env=full_env,
        cwd=cwd,
        timeout=120,
    )
    os.close(child)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(main)
    assert proc.returncode in (0, 1), proc.stderr
    return b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")


# -- check, output formats ----------------------------------------------------------------


def test_check_subcommand(project: Path) -> None:
    res = run(["check", "pkg"], cwd=project)
    assert res.returncode == 1 and res.stdout.startswith("pkg/bad.py:4:5: CBL001 ")
    assert run(["check"], cwd=project).returncode == 1  # the current folder
    # A folder named check is linted when written as a path.
    (project / "check").mkdir()
    (project / "check" / "m.py").write_text(BAD)
    res = run(["./check"], cwd=project)
    assert res.returncode == 1 and "check/m.py:4:5" in res.stdout
    assert "convbnlint check PATHS" in run(["--help"], cwd=project).stdout


def test_output_format_flag_alias_env_and_config(project: Path) -> None:
    as_json = run(["--output-format", "json", "pkg"], cwd=project)
    assert json.loads(as_json.stdout)[0]["code"] == "CBL001"
    assert run(["--format", "json", "pkg"], cwd=project).stdout == as_json.stdout
    env = {"CONVBNLINT_OUTPUT_FORMAT": "json"}
    assert run(["pkg"], cwd=project, env=env).stdout == as_json.stdout
    # The flag wins over the environment; the environment over the file.
    assert run(["--output-format", "concise", "pkg"], cwd=project, env=env).stdout.startswith(
        "pkg/bad.py:4:5: CBL001 [*] "
    )
    (project / "pyproject.toml").write_text('[tool.convbnlint]\noutput-format = "github"\n')
    assert run(["pkg"], cwd=project).stdout.startswith("::warning file=pkg/bad.py")
    assert run(["pkg"], cwd=project, env=env).stdout == as_json.stdout
    # Ruff's name for the default format.
    full = run(["--output-format", "full", "pkg"], cwd=project)
    assert full.stdout == run(["--output-format", "text", "pkg"], cwd=project).stdout
    bad = run(["pkg"], cwd=project, env={"CONVBNLINT_OUTPUT_FORMAT": "xml"})
    assert bad.returncode == 2 and "CONVBNLINT_OUTPUT_FORMAT" in bad.stderr
    stats = run(["--statistics", "--output-format", "sarif", "pkg"], cwd=project)
    assert stats.returncode == 2 and "--statistics prints text or json, not sarif" in stats.stderr


# -- settings and files -------------------------------------------------------------------


def test_show_settings(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.convbnlint]\nignore = ["CBL003"]\nextend-exclude = ["legacy/"]\n'
        'per-file-ignores = { "tests/*" = ["CBL001"] }\nunsafe-fixes = true\n'
    )
    res = run(["--show-settings", "--extend-select", "CBL002", "pkg"], cwd=project)
    assert res.returncode == 0
    lines = res.stdout.splitlines()
    assert f"# configuration file: {project / 'pyproject.toml'}" in lines
    assert "# rules enabled: CBL001, CBL002" in lines
    assert 'select = "all"' in lines
    assert 'ignore = ["CBL003"]' in lines
    assert 'extend-exclude = ["legacy/", ".ipynb_checkpoints"]' in lines
    assert 'per-file-ignores = {"tests/*": ["CBL001"]}' in lines
    assert "unsafe-fixes = true" in lines and "force-exclude = false" in lines
    assert f'cache-dir = "{project / ".convbnlint_cache"}"' in lines
    assert not (project / ".convbnlint_cache").exists()  # nothing was run


def test_show_files_and_force_exclude(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.convbnlint]\nextend-exclude = ["legacy/"]\n')
    (project / "legacy").mkdir()
    (project / "legacy" / "old.py").write_text(BAD)
    (project / "nb.ipynb").write_text(
        '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
    )
    res = run(["--show-files"], cwd=project)
    assert res.returncode == 0 and res.stdout.splitlines() == [
        "nb.ipynb",
        "pkg/bad.py",
        "pkg/good.py",
    ]
    # A file named explicitly is checked, unless --force-exclude (or the setting).
    assert run(["--show-files", "legacy/old.py"], cwd=project).stdout == "legacy/old.py\n"
    assert run(["legacy/old.py"], cwd=project).returncode == 1
    assert (
        run(["--show-files", "--force-exclude", "legacy/old.py", "pkg/bad.py"], cwd=project).stdout
        == "pkg/bad.py\n"
    )
    res = run(["--force-exclude", "legacy/old.py"], cwd=project)
    assert res.returncode == 0 and res.stdout == "All checks passed!\n"
    assert run(["--force-exclude", "legacy"], cwd=project).returncode == 0  # a folder too
    (project / "pyproject.toml").write_text(
        '[tool.convbnlint]\nextend-exclude = ["legacy/"]\nforce-exclude = true\n'
    )
    assert run(["legacy/old.py"], cwd=project).returncode == 0
    assert run(["--no-force-exclude", "legacy/old.py"], cwd=project).returncode == 1
    # Default excludes apply as well (a virtual environment's files).
    (project / ".venv").mkdir()
    (project / ".venv" / "x.py").write_text(BAD)
    assert run([".venv/x.py"], cwd=project).returncode == 0
    # stdin: an excluded --stdin-filename is not checked; --fix returns the text as is.
    res = run(["-", "--stdin-filename", "legacy/old.py"], cwd=project, stdin=BAD.encode())
    assert res.returncode == 0 and res.stdout == ""
    res = run(["--fix", "-", "--stdin-filename", "legacy/old.py"], cwd=project, stdin=BAD.encode())
    assert res.returncode == 0 and res.stdout == BAD
    res = run(["-", "--stdin-filename", "pkg/new.py"], cwd=project, stdin=BAD.encode())
    assert res.returncode == 1


def test_show_files_reports_missing_paths(project: Path) -> None:
    res = run(["--show-files", "pkg", "nope.py"], cwd=project)
    assert res.returncode == 2
    assert res.stdout.splitlines() == ["pkg/bad.py", "pkg/good.py"]
    assert "nope.py: no such file or directory" in res.stderr


def test_cache_goes_to_the_project_root(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "src" / "models").mkdir(parents=True)
    (root / "src" / "models" / "m.py").write_text(BAD)
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n")  # no [tool.convbnlint]
    res = run(["src/models"], cwd=root)
    assert res.returncode == 1
    assert (root / ".convbnlint_cache").is_dir()
    assert not (root / "src" / "models" / ".convbnlint_cache").exists()
    # From inside the project too.
    run(["."], cwd=root / "src" / "models")
    assert not (root / "src" / "models" / ".convbnlint_cache").exists()
    # A git checkout without a pyproject.toml: the git root.
    other = tmp_path / "gitonly"
    (other / ".git").mkdir(parents=True)
    (other / "pkg").mkdir()
    (other / "pkg" / "m.py").write_text(BAD)
    run(["pkg"], cwd=other)
    assert (other / ".convbnlint_cache").is_dir() and not (
        other / "pkg" / ".convbnlint_cache"
    ).exists()


# -- colour and frames -------------------------------------------------------------------


def test_color_flag_and_environment(project: Path) -> None:
    plain = run(["pkg/bad.py"], cwd=project)  # piped, NO_COLOR set by the helper
    assert "\x1b[" not in plain.stdout
    always = run(["--color", "always", "pkg/bad.py"], cwd=project)
    assert "\x1b[" in always.stdout
    # FORCE_COLOR (non-empty) colours a pipe (CI logs), and wins over NO_COLOR; frames too.
    forced = run(["pkg/bad.py"], cwd=project, env={"FORCE_COLOR": "1"})
    assert "\x1b[" in forced.stdout and "^^^^" in forced.stdout
    assert "\x1b[" not in run(["pkg/bad.py"], cwd=project, env={"FORCE_COLOR": ""}).stdout
    never = run(["--color", "never", "pkg/bad.py"], cwd=project, env={"FORCE_COLOR": "1"})
    assert "\x1b[" not in never.stdout
    assert never.stdout.splitlines()[0] == f"pkg/bad.py:4:5: CBL001 {MSG}"
    # Machine formats are never coloured.
    assert "\x1b[" not in run(["--color", "always", "--format", "json", "pkg"], cwd=project).stdout


def test_terminal_frames_mark_the_whole_range_and_no_color_keeps_them(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(MULTI)
    out = on_terminal(["m.py"], tmp_path, env={"NO_COLOR": "1"})
    assert "\x1b[" not in out
    assert out.splitlines() == [
        f"m.py:7:15: CBL001 {MSG}",
        "   |",
        " 6 |         super().__init__()",
        " 7 |         self.conv = nn.Conv2d(",
        "   |                     ^^^^^^^^^^",
        " 8 |             3,  # café",
        "   |             ^^^^^^^^^^",
        " 9 |             8,",
        "   |             ^^",
        "10 |             3,",
        "   |             ^^",
        "11 |         )",
        "   |         ^",
        "12 |         self.bn = nn.BatchNorm2d(8)",
        "   |",
        "  = help: Pass bias=False (fixable with --fix)",
        "",
        "Found 1 issue (1 fixable with --fix).",
    ]
    coloured = on_terminal(["m.py"], tmp_path)
    assert "\x1b[" in coloured and "^^^^^^^^^^" in coloured
    # --color never on a terminal: frames, no colour.
    assert on_terminal(["--color", "never", "m.py"], tmp_path) == out
    # concise never frames.
    concise = on_terminal(["--format", "concise", "m.py"], tmp_path, env={"NO_COLOR": "1"})
    assert concise.splitlines()[0] == f"m.py:7:15: CBL001 [*] {MSG}" and "|" not in concise


def test_a_long_call_is_framed_by_its_first_and_last_lines(tmp_path: Path) -> None:
    args = "".join(f"    {n},\n" for n in (3, 8, 3, 1, 1, 1, 1))
    src = f"import torch.nn as nn\nb = nn.Sequential(nn.Conv2d(\n{args}), nn.BatchNorm2d(8))\n"
    (tmp_path / "m.py").write_text(src)
    out = on_terminal(["m.py"], tmp_path, env={"NO_COLOR": "1"}).splitlines()
    assert " 2 | b = nn.Sequential(nn.Conv2d(" in out
    assert ".. | ..." in out
    assert "10 | ), nn.BatchNorm2d(8))" in out
    assert " 7 |     1," not in out


def test_coloured_diff(project: Path) -> None:
    plain = run(["--diff", "pkg/bad.py"], cwd=project)
    assert "\x1b[" not in plain.stdout
    coloured = run(["--diff", "--color", "always", "pkg/bad.py"], cwd=project)
    assert coloured.returncode == 1
    assert "\x1b[31m-    nn.Conv2d(3, 8, 3),\x1b[0m\n" in coloured.stdout
    assert "\x1b[32m+    nn.Conv2d(3, 8, 3, bias=False),\x1b[0m\n" in coloured.stdout
    assert "\x1b[1m--- a/pkg/bad.py\x1b[0m\n" in coloured.stdout
    # Without the escapes it is exactly the plain diff.
    import re

    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured.stdout) == plain.stdout
    assert plain.stderr == "Would fix 1 issue.\n"


# -- --show-fixes ---------------------------------------------------------------------------


def test_show_fixes(project: Path) -> None:
    two = BAD + "\nhead = nn.Sequential(nn.Conv1d(4, 4, 1), nn.BatchNorm1d(4))\n"
    (project / "pkg" / "two.py").write_text(two)
    diff = run(["--diff", "--show-fixes", "pkg"], cwd=project)
    assert diff.stderr.splitlines() == [
        "Would fix 3 issues:",
        "- pkg/bad.py:",
        "    1 × CBL001 (conv-bias-before-norm)",
        "- pkg/two.py:",
        "    2 × CBL001 (conv-bias-before-norm)",
        "Would fix 3 issues.",
    ]
    res = run(["--fix", "--show-fixes", "pkg"], cwd=project)
    assert res.returncode == 0
    assert res.stdout.splitlines() == [
        "",
        "Fixed 3 issues:",
        "- pkg/bad.py:",
        "    1 × CBL001 (conv-bias-before-norm)",
        "- pkg/two.py:",
        "    2 × CBL001 (conv-bias-before-norm)",
        "",
        "Removed from the models' state_dict (checkpoints saved before the fix still hold these"
        " entries; convert them with `convbnlint migrate`):",
        "  pkg/bad.py:4:5: 0.bias",
        "  pkg/two.py:4:5: 0.bias",
        "  pkg/two.py:8:22: 0.bias",
        "Found 3 issues (3 fixed, 0 remaining).",
    ]
    assert (project / "pkg" / "bad.py").read_text() == GOOD


def test_a_notebook_frame_stays_in_its_cell(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import torch.nn as nn\nprevious_cell = 1"),
        nbformat.v4.new_code_cell("block = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))"),
        nbformat.v4.new_code_cell("next_cell = 2"),
    ]
    nbformat.write(nb, str(tmp_path / "nb.ipynb"))
    out = on_terminal(["nb.ipynb"], tmp_path, env={"NO_COLOR": "1"})
    assert out.splitlines()[:5] == [
        f"nb.ipynb:cell 2:1:23: CBL001 {MSG}",
        "  |",
        "1 | block = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))",
        "  |                       ^^^^^^^^^^^^^^^^^^",
        "  |",
    ]
    assert "previous_cell" not in out and "next_cell" not in out


def test_force_exclude_without_a_configuration_file(tmp_path: Path) -> None:
    """pre-commit may name only files below an excluded folder; with no pyproject.toml
    the patterns are still matched from the project root (.git), not from the
    folder the named files share."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "build" / "lib").mkdir(parents=True)
    (tmp_path / "build" / "lib" / "m.py").write_text(BAD)
    res = run(["--force-exclude", "build/lib/m.py"], cwd=tmp_path)
    assert res.returncode == 0, res.stdout
    assert run(["build/lib/m.py"], cwd=tmp_path).returncode == 1
    # From a sub-folder too.
    res = run(["--force-exclude", "lib/m.py"], cwd=tmp_path / "build")
    assert res.returncode == 0, res.stdout
