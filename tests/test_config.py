"""``[tool.convbnlint]`` is checked as strictly as the command line: a typo never
turns the checks off silently.  End to end, through the installed command."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_cli import BAD
from tests.util import run


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "bad.py").write_text(BAD)
    return tmp_path


def _config(project: Path, body: str) -> None:
    (project / "pyproject.toml").write_text("[tool.convbnlint]\n" + body)


@pytest.mark.parametrize(
    ("body", "key", "value"),
    [
        ('select = ["CBX001"]\n', "select", "CBX001"),
        ('select = ["CBL001", "CBL9"]\n', "select", "CBL9"),
        ('extend-select = ["XYZ"]\n', "extend-select", "XYZ"),
        ('ignore = ["CBL0011"]\n', "ignore", "CBL0011"),
        ('ignore = [""]\n', "ignore", ""),
        ('per-file-ignores = { "tests/*" = ["CBL01X"] }\n', "per-file-ignores 'tests/*'", "CBL01X"),
    ],
)
def test_unknown_code_in_the_config_is_an_error(
    project: Path, body: str, key: str, value: str
) -> None:
    _config(project, body)
    res = run(["pkg"], cwd=project)
    assert res.returncode == 2, res.stdout + res.stderr
    assert res.stdout == ""  # nothing checked, nothing "passed"
    (line,) = res.stderr.splitlines()
    assert line.startswith(f"convbnlint: error: {project / 'pyproject.toml'}: ")
    assert f"[tool.convbnlint] {key}: unknown rule code or prefix {value!r}" in line
    assert "known: CBL001, CBL002, CBL003" in line


def test_the_same_typo_on_the_command_line(project: Path) -> None:
    res = run(["--select", "CBX001", "pkg"], cwd=project)
    assert res.returncode == 2 and "unknown rule code or prefix: CBX001" in res.stderr
    res = run(["--extend-select", "CBX", "pkg"], cwd=project)
    assert res.returncode == 2 and "unknown rule code or prefix: CBX" in res.stderr


def test_known_codes_and_prefixes_are_accepted(project: Path) -> None:
    _config(
        project,
        'select = ["CBL"]\nextend-select = ["CBL002"]\nignore = ["CBL003"]\n'
        'per-file-ignores = { "tests/*" = ["CBL00"] }\n',
    )
    res = run(["pkg"], cwd=project)
    assert res.returncode == 1 and "CBL001" in res.stdout


@pytest.mark.parametrize(
    ("text", "where", "reason"),
    [
        ('[tool.convbnlint]\nselect = ["CBL001"\nignore = []\n', ":3:1:", "Unclosed array"),
        ("[tool.convbnlint]\nselect = \n", ":2:10:", "Invalid value"),
        ("[tool.other]\nx = 1\n[tool.other]\n", ":3:12:", "Cannot declare"),
        ('[tool.convbnlint]\nselect = ["CBL001"]\nx = "\n', ":3:", "Illegal character"),
    ],
)
def test_invalid_toml_is_reported_with_file_line_and_reason(
    project: Path, text: str, where: str, reason: str
) -> None:
    (project / "pyproject.toml").write_text(text)
    res = run(["pkg"], cwd=project)
    assert res.returncode == 2, res.stdout + res.stderr
    assert res.stdout == ""
    (line,) = res.stderr.splitlines()
    assert line.startswith(f"convbnlint: error: {project / 'pyproject.toml'}{where}")
    assert "invalid TOML: " in line and reason in line


def test_an_invalid_pyproject_above_is_not_skipped(project: Path) -> None:
    """Searching upwards, a broken pyproject.toml may be the one meant: say so."""
    (project / "pyproject.toml").write_text("[tool.convbnlint\n")
    res = run(["."], cwd=project / "pkg")
    assert res.returncode == 2 and "invalid TOML" in res.stderr
    # An explicit --config is read the same way.
    (project / "other.toml").write_text("select = [\n")
    res = run(["--config", "other.toml", "pkg"], cwd=project)
    assert (
        res.returncode == 2
        and f"{Path('other.toml')}:" in res.stderr
        and "invalid TOML" in res.stderr
    )


def test_unreadable_or_undecodable_pyproject(project: Path) -> None:
    (project / "pyproject.toml").write_bytes(b"[tool.convbnlint]\n# caf\xe9\n")
    res = run(["pkg"], cwd=project)
    assert res.returncode == 2 and "cannot read: not UTF-8" in res.stderr


def test_wrong_types_name_the_key_and_value(project: Path) -> None:
    _config(project, 'select = "CBL001"\n')
    res = run(["pkg"], cwd=project)
    assert res.returncode == 2
    assert (
        "[tool.convbnlint] select must be a list of strings (list[str]), not 'CBL001'" in res.stderr
    )
    _config(project, 'output-format = "xml"\n')
    res = run(["pkg"], cwd=project)
    assert res.returncode == 2 and "output-format: unknown format 'xml'" in res.stderr


def test_extend_select_adds_to_select(project: Path) -> None:
    two = "import torch.nn as nn\nb = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8))\n"
    (project / "pkg" / "lin.py").write_text(two)
    _config(project, 'select = ["CBL002"]\n')
    res = run(["pkg"], cwd=project)
    assert {line.split()[1] for line in res.stdout.splitlines()[:-1]} == {"CBL002"}
    res = run(["--extend-select", "CBL001", "pkg"], cwd=project)
    assert {line.split()[1] for line in res.stdout.splitlines()[:-1]} == {"CBL001", "CBL002"}
    _config(project, 'select = ["CBL002"]\nextend-select = ["CBL001"]\n')
    res = run(["pkg"], cwd=project)
    assert {line.split()[1] for line in res.stdout.splitlines()[:-1]} == {"CBL001", "CBL002"}
    # A --select on the command line starts afresh (as in Ruff).
    res = run(["--select", "CBL001", "pkg"], cwd=project)
    assert {line.split()[1] for line in res.stdout.splitlines()[:-1]} == {"CBL001"}
