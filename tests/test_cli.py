"""End-to-end: the installed ``convbnlint`` command as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.util import convbnlint_cmd, run

BAD = textwrap.dedent(
    """\
    import torch.nn as nn

    block = nn.Sequential(
        nn.Conv2d(3, 8, 3),
        nn.BatchNorm2d(8),
    )
    """
)
GOOD = BAD.replace("nn.Conv2d(3, 8, 3)", "nn.Conv2d(3, 8, 3, bias=False)")
NO_NORM = "import torch.nn as nn\nconv = nn.Conv2d(3, 8, 3)\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "bad.py").write_text(BAD)
    (tmp_path / "pkg" / "good.py").write_text(GOOD)
    (tmp_path / "pkg" / "plain.py").write_text(NO_NORM)
    return tmp_path


def test_findings_exit_1_and_text_format(project: Path) -> None:
    res = run(["pkg"], cwd=project)
    assert res.returncode == 1, res.stderr
    assert res.stdout.splitlines() == [
        "pkg/bad.py:4:5: CBL001 Conv2d bias is cancelled by the following BatchNorm2d; "
        "pass bias=False",
        "Found 1 issue (1 fixable with --fix).",
    ]
    assert res.stderr == ""


def test_clean_exit_0(project: Path) -> None:
    res = run(["pkg/good.py", "pkg/plain.py"], cwd=project)
    assert res.returncode == 0
    assert res.stdout == "All checks passed!\n"


def test_default_path_is_cwd(project: Path) -> None:
    res = run([], cwd=project)
    assert res.returncode == 1
    assert "pkg/bad.py:4:5" in res.stdout


def test_exit_zero_and_quiet(project: Path) -> None:
    res = run(["--exit-zero", "-q", "pkg"], cwd=project)
    assert res.returncode == 0
    assert res.stdout.count("\n") == 1 and "Found" not in res.stdout


def test_json_shape(project: Path) -> None:
    res = run(["--format", "json", "pkg"], cwd=project)
    assert res.returncode == 1
    (row,) = json.loads(res.stdout)
    assert row == {
        "path": "pkg/bad.py",
        "line": 4,
        "column": 5,
        "end_line": 4,
        "end_column": 23,
        "code": "CBL001",
        "name": "conv-bias-before-norm",
        "message": "Conv2d bias is cancelled by the following BatchNorm2d; pass bias=False",
        "severity": "warning",
        "fixable": True,
        "fixed": False,
        "fix": {
            "applicability": "safe",
            "message": "Pass bias=False",
            "applies": True,
            "unsafe_reason": None,
            "state_keys": ["0.bias"],
        },
    }


def test_json_empty_array_when_clean(project: Path) -> None:
    res = run(["--format", "json", "pkg/good.py"], cwd=project)
    assert res.returncode == 0
    assert json.loads(res.stdout) == []


def test_diff_writes_nothing(project: Path) -> None:
    res = run(["--diff", "pkg"], cwd=project)
    assert res.returncode == 1
    assert res.stdout.splitlines()[:2] == ["--- a/pkg/bad.py", "+++ b/pkg/bad.py"]
    assert "-    nn.Conv2d(3, 8, 3)," in res.stdout
    assert "+    nn.Conv2d(3, 8, 3, bias=False)," in res.stdout
    assert (project / "pkg" / "bad.py").read_text() == BAD
    clean = run(["--diff", "pkg/good.py"], cwd=project)
    assert clean.returncode == 0 and clean.stdout == ""


def test_fix_rewrites_and_exit_0(project: Path) -> None:
    target = project / "pkg" / "bad.py"
    os.chmod(target, 0o640)
    res = run(["--fix", "pkg"], cwd=project)
    assert res.returncode == 0, res.stderr
    assert "Found 1 issue (1 fixed, 0 remaining)." in res.stdout
    assert target.read_text() == GOOD
    assert oct(target.stat().st_mode & 0o777) == oct(0o640)
    again = run(["--fix", "pkg"], cwd=project)
    assert again.returncode == 0 and target.read_text() == GOOD


def test_fix_and_diff_together_is_usage_error(project: Path) -> None:
    res = run(["--fix", "--diff", "pkg"], cwd=project)
    assert res.returncode == 2
    assert "cannot be combined" in res.stderr


def test_unknown_code_is_usage_error(project: Path) -> None:
    res = run(["--select", "XYZ1", "pkg"], cwd=project)
    assert res.returncode == 2
    assert "unknown rule code" in res.stderr


def test_select_ignore_flags(project: Path) -> None:
    assert run(["--ignore", "CBL001", "pkg"], cwd=project).returncode == 0
    assert run(["--select", "CBL", "pkg"], cwd=project).returncode == 1


def test_stdin_lint(project: Path) -> None:
    res = run(["-", "--stdin-filename", "model.py"], cwd=project, stdin=BAD.encode())
    assert res.returncode == 1
    assert res.stdout.startswith("model.py:4:5: CBL001 ")


def test_stdin_fix_prints_fixed_source(project: Path) -> None:
    res = run(["--fix", "-", "--stdin-filename", "model.py"], cwd=project, stdin=BAD.encode())
    assert res.returncode == 0
    assert res.stdout == GOOD
    clean = run(["--fix", "-", "--stdin-filename", "m.py"], cwd=project, stdin=NO_NORM.encode())
    assert clean.returncode == 0 and clean.stdout == NO_NORM


def test_stdin_filename_alone_reads_stdin(project: Path) -> None:
    res = run(["--stdin-filename", "x.py"], cwd=project, stdin=GOOD.encode())
    assert res.returncode == 0


def test_stdin_crlf_and_bom_round_trip(project: Path) -> None:
    src = ("\ufeff" + BAD).replace("\n", "\r\n").encode("utf-8")
    res = subprocess.run(
        [*convbnlint_cmd(), "--fix", "-", "--stdin-filename", "m.py"],
        input=src,
        capture_output=True,
        cwd=project,
    )
    assert res.returncode == 0
    assert res.stdout == ("\ufeff" + GOOD).replace("\n", "\r\n").encode("utf-8")


def test_syntax_error_exit_2_other_files_still_checked(project: Path) -> None:
    (project / "pkg" / "broken.py").write_text("import torch.nn as nn\nnn.BatchNorm2d(\n")
    res = run(["pkg"], cwd=project)
    assert res.returncode == 2
    assert "pkg/bad.py:4:5: CBL001" in res.stdout
    assert "pkg/broken.py" in res.stderr and "syntax error" in res.stderr
    assert "Traceback" not in res.stderr


def test_missing_path_exit_2(project: Path) -> None:
    res = run(["nope.py", "pkg/good.py"], cwd=project)
    assert res.returncode == 2
    assert "nope.py: no such file or directory" in res.stderr


def test_noqa(project: Path) -> None:
    (project / "pkg" / "bad.py").write_text(
        BAD.replace("nn.Conv2d(3, 8, 3),", "nn.Conv2d(3, 8, 3),  # noqa: CBL001")
    )
    assert run(["pkg"], cwd=project).returncode == 0


def test_config_ignore_and_per_file_ignores(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.convbnlint]\nignore = ["CBL001"]\n')
    assert run(["pkg"], cwd=project).returncode == 0
    (project / "pyproject.toml").write_text(
        '[tool.convbnlint]\nper-file-ignores = { "pkg/bad.py" = ["CBL001"] }\n'
    )
    assert run(["pkg"], cwd=project).returncode == 0
    # Patterns are relative to the pyproject's folder, wherever the run starts.
    outside = run([f"{project.name}/pkg/bad.py"], cwd=project.parent)
    assert outside.returncode == 0, outside.stdout + outside.stderr


def test_config_flags_win(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.convbnlint]\nselect = ["CBL002"]\n')
    assert run(["pkg"], cwd=project).returncode == 0
    assert run(["--select", "CBL001", "pkg"], cwd=project).returncode == 1


def test_config_exclude(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.convbnlint]\nextend-exclude = ["pkg/bad.py"]\n')
    assert run(["."], cwd=project).returncode == 0
    # A file named explicitly is always checked.
    assert run(["pkg/bad.py"], cwd=project).returncode == 1


def test_config_found_from_subfolder(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.convbnlint]\nignore = ["CBL001"]\n')
    assert run(["."], cwd=project / "pkg").returncode == 0


def test_bad_config_exit_2(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.convbnlint]\nselekt = ["CBL"]\n')
    res = run(["pkg"], cwd=project)
    assert res.returncode == 2
    assert "unknown option" in res.stderr and "selekt" in res.stderr


def test_default_excludes_and_gitignore(project: Path) -> None:
    for folder in (".venv", "build", "node_modules", "__pycache__", "ignored"):
        (project / folder).mkdir()
        (project / folder / "m.py").write_text(BAD)
    (project / ".git").mkdir()
    (project / ".gitignore").write_text("ignored/\n")
    res = run(["."], cwd=project)
    assert res.returncode == 1
    paths = {line.split(":")[0] for line in res.stdout.splitlines() if ": CBL" in line}
    assert paths == {"pkg/bad.py"}


def test_python_dash_m(project: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "convbnlint", "pkg"], cwd=project, capture_output=True, text=True
    )
    assert proc.returncode == 1
    assert "CBL001" in proc.stdout


def test_version() -> None:
    from convbnlint import __version__

    res = run(["--version"])
    assert res.returncode == 0
    assert __version__ in res.stdout


def test_excluded_folder_named_explicitly_is_walked(project: Path) -> None:
    (project / ".git").mkdir()
    (project / ".gitignore").write_text("vendor/\n")
    (project / "vendor" / "lib").mkdir(parents=True)
    (project / "vendor" / "lib" / "m.py").write_text(BAD)
    (project / "build").mkdir()
    (project / "build" / "m.py").write_text(BAD)
    assert "vendor" not in run(["."], cwd=project).stdout
    res = run(["vendor"], cwd=project)
    assert res.returncode == 1 and "vendor/lib/m.py:4:5" in res.stdout
    assert run(["build"], cwd=project).returncode == 1
