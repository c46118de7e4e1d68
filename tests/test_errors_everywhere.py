"""File errors reach every output format, each in its own idiom, and a run that
exits 2 never looks like a pass.  End to end, through the installed command."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.test_cli import BAD, GOOD
from tests.util import run

# A syntax error in a file that names a conv and a norm (so it is parsed).
BROKEN = "import torch.nn as nn\nnn.Sequential(nn.Conv2d(1, 1, 1), nn.BatchNorm2d(1))\ndef (:\n"
MSG = "Conv2d bias is cancelled by the following BatchNorm2d; pass bias=False"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "bad.py").write_text(BAD)
    (tmp_path / "pkg" / "broken.py").write_text(BROKEN)
    (tmp_path / "pkg" / "good.py").write_text(GOOD)
    return tmp_path


ARGS = ["pkg", "nope.py"]  # a syntax error, a finding and a missing path


def _stderr_lines(res) -> list[str]:  # type: ignore[no-untyped-def]
    return [line for line in res.stderr.splitlines() if line.startswith("convbnlint: error: ")]


def test_stderr_names_each_error_once_in_every_format(project: Path) -> None:
    for fmt in ("text", "concise", "json", "json-lines", "github", "gitlab", "sarif", "junit"):
        res = run(["--output-format", fmt, *ARGS], cwd=project)
        assert res.returncode == 2, (fmt, res.stdout, res.stderr)
        assert sorted(_stderr_lines(res)) == [
            "convbnlint: error: nope.py: no such file or directory",
            "convbnlint: error: pkg/broken.py: syntax error at 3:5: invalid syntax",
        ], fmt
        assert "All checks passed" not in res.stdout + res.stderr


def test_text_and_concise_count_errors_in_the_summary(project: Path) -> None:
    res = run(ARGS, cwd=project)
    assert res.stdout.splitlines() == [
        f"pkg/bad.py:4:5: CBL001 {MSG}",
        "Found 1 issue (1 fixable with --fix) and 2 errors.",
    ]
    res = run(["--format", "concise", "pkg/broken.py", "pkg/good.py"], cwd=project)
    assert res.returncode == 2
    assert res.stdout == "Found 0 issues and 1 error.\n"


def test_text_report_written_to_a_file_lists_the_errors(project: Path) -> None:
    out = project / "report.txt"
    res = run(["--output-file", str(out), *ARGS], cwd=project)
    assert res.returncode == 2 and res.stdout == ""
    assert out.read_text().splitlines() == [
        f"pkg/bad.py:4:5: CBL001 {MSG}",
        "nope.py: error: no such file or directory",
        "pkg/broken.py:3:5: error: syntax error: invalid syntax",
        "Found 1 issue (1 fixable with --fix) and 2 errors.",
    ]


def test_json_and_json_lines(project: Path) -> None:
    rows = json.loads(run(["--format", "json", *ARGS], cwd=project).stdout)
    errors = [r for r in rows if r["severity"] == "error"]
    assert errors == [
        {
            "path": "nope.py",
            "line": None,
            "column": None,
            "end_line": None,
            "end_column": None,
            "code": None,
            "name": "file-error",
            "message": "no such file or directory",
            "severity": "error",
            "fixable": False,
            "fixed": False,
            "fix": None,
        },
        {
            "path": "pkg/broken.py",
            "line": 3,
            "column": 5,
            "end_line": None,
            "end_column": None,
            "code": None,
            "name": "file-error",
            "message": "syntax error: invalid syntax",
            "severity": "error",
            "fixable": False,
            "fixed": False,
            "fix": None,
        },
    ]
    assert [r["code"] for r in rows if r["severity"] == "warning"] == ["CBL001"]
    lines = run(["--format", "json-lines", *ARGS], cwd=project).stdout.splitlines()
    assert [json.loads(line) for line in lines] == rows
    assert all(line.startswith("{") and ", " not in line[:20] for line in lines)


def test_github_error_annotations(project: Path) -> None:
    out = run(["--format", "github", *ARGS], cwd=project).stdout.splitlines()
    assert "::error file=nope.py,title=convbnlint::nope.py: no such file or directory" in out
    assert (
        "::error file=pkg/broken.py,line=3,col=5,title=convbnlint::"
        "pkg/broken.py: syntax error: invalid syntax"
    ) in out
    assert sum(line.startswith("::warning ") for line in out) == 1


def test_gitlab_code_quality(project: Path) -> None:
    res = run(["--format", "gitlab", *ARGS], cwd=project, env={"CI_PROJECT_DIR": str(project)})
    issues = json.loads(res.stdout)
    for issue in issues:  # the fields GitLab requires
        assert set(issue) >= {"description", "check_name", "fingerprint", "severity", "location"}
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert issue["location"]["positions"]["begin"]["line"] >= 1
    by_name = {(i["check_name"], i["location"]["path"]): i for i in issues}
    assert set(by_name) == {
        ("file-error", "nope.py"),
        ("file-error", "pkg/broken.py"),
        ("CBL001", "pkg/bad.py"),
    }
    finding = by_name[("CBL001", "pkg/bad.py")]
    assert finding["description"] == f"CBL001: {MSG}"
    assert finding["severity"] == "minor"
    assert finding["location"]["positions"] == {
        "begin": {"line": 4, "column": 5},
        "end": {"line": 4, "column": 23},
    }
    assert finding["content"]["body"] == "Pass bias=False: fixable with `convbnlint --fix`."
    error = by_name[("file-error", "pkg/broken.py")]
    assert error["severity"] == "major" and error["location"]["positions"]["begin"] == {
        "line": 3,
        "column": 5,
    }
    assert len({i["fingerprint"] for i in issues}) == len(issues)


def test_gitlab_fingerprints_survive_moved_lines_and_tell_twins_apart(project: Path) -> None:
    twins = BAD + "\nother = nn.Sequential(\n    nn.Conv2d(3, 8, 3),\n    nn.BatchNorm2d(8),\n)\n"
    (project / "pkg" / "bad.py").write_text(twins)
    first = json.loads(run(["--format", "gitlab", "pkg/bad.py"], cwd=project).stdout)
    (project / "pkg" / "bad.py").write_text("# a new first line\n\n" + twins)
    moved = json.loads(run(["--format", "gitlab", "pkg/bad.py"], cwd=project).stdout)
    assert len(first) == 2 and first[0]["fingerprint"] != first[1]["fingerprint"]
    assert [i["fingerprint"] for i in moved] == [i["fingerprint"] for i in first]
    assert [i["location"]["positions"]["begin"]["line"] for i in moved] == [6, 11]


def test_gitlab_paths_are_relative_to_the_project(project: Path) -> None:
    issues = json.loads(
        run(
            ["--format", "gitlab", str(project / "pkg" / "bad.py")],
            cwd=project.parent,
            env={"CI_PROJECT_DIR": str(project)},
        ).stdout
    )
    assert issues[0]["location"]["path"] == "pkg/bad.py"


def test_junit_and_sarif_carry_errors(project: Path) -> None:
    import xml.etree.ElementTree as ET

    root = ET.fromstring(run(["--format", "junit", *ARGS], cwd=project).stdout)
    errors = root.findall(".//testcase/error")
    assert sorted(e.text or "" for e in errors) == [
        "nope.py: no such file or directory",
        "pkg/broken.py:3:5: syntax error: invalid syntax",
    ]
    assert root.get("errors") == "2" and root.get("failures") == "1"
    log = json.loads(run(["--format", "sarif", *ARGS], cwd=project).stdout)
    (invocation,) = log["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    notes = {n["message"]["text"]: n for n in invocation["toolExecutionNotifications"]}
    assert set(notes) == {
        "nope.py: no such file or directory",
        "pkg/broken.py: syntax error at 3:5: invalid syntax",
    }
    region = notes["pkg/broken.py: syntax error at 3:5: invalid syntax"]["locations"][0][
        "physicalLocation"
    ]["region"]
    assert region == {"startLine": 3, "startColumn": 5}


def test_statistics_carry_errors(project: Path) -> None:
    res = run(["--statistics", *ARGS], cwd=project)
    assert res.returncode == 2
    assert res.stdout == (
        "1\tCBL001\t[*] conv-bias-before-norm\nFound 1 issue (1 fixable with --fix) and 2 errors.\n"
    )
    rows = json.loads(run(["--statistics", "--format", "json", *ARGS], cwd=project).stdout)
    assert rows[-1] == {
        "code": None,
        "name": "file-error",
        "count": 2,
        "fixable": False,
        "fixable_count": 0,
    }
    only = run(["--statistics", "pkg/broken.py"], cwd=project)
    assert only.returncode == 2 and only.stdout == "Found 0 issues and 1 error.\n"


@pytest.mark.parametrize("fmt", ["text", "concise", "json", "github", "gitlab", "junit", "sarif"])
def test_a_missing_path_alone_is_never_a_pass(tmp_path: Path, fmt: str) -> None:
    res = run(["--format", fmt, "nope"], cwd=tmp_path)
    assert res.returncode == 2
    assert "All checks passed" not in res.stdout
    assert "convbnlint: error: nope: no such file or directory" in res.stderr
    if fmt in ("text", "concise"):  # the line is on stderr; the summary counts it
        assert res.stdout == "Found 0 issues and 1 error.\n"
    else:
        assert "nope" in res.stdout, fmt  # the report itself says so


def test_a_refused_fix_is_not_offered_again(project: Path) -> None:
    (project / "pkg" / "broken.py").unlink()
    target = project / "pkg" / "bad.py"
    target.chmod(0o444)
    res = run(["--fix", "pkg"], cwd=project)
    assert res.returncode == 2
    assert "bad.py: file is read-only; not written" in res.stderr
    assert res.stdout.splitlines() == [
        f"pkg/bad.py:4:5: CBL001 {MSG}",
        "Found 1 issue and 1 error.",
    ]
    assert "fixable" not in res.stdout and "All checks passed" not in res.stdout
    assert target.read_text() == BAD


def test_stdin_error_is_reported_once(tmp_path: Path) -> None:
    res = run(["-", "--stdin-filename", "m.py"], cwd=tmp_path, stdin=BROKEN.encode())
    assert res.returncode == 2
    assert _stderr_lines(res) == ["convbnlint: error: m.py: syntax error at 3:5: invalid syntax"]
    assert res.stdout == "Found 0 issues and 1 error.\n"
    fixed = run(["--fix", "-", "--stdin-filename", "m.py"], cwd=tmp_path, stdin=BROKEN.encode())
    assert fixed.returncode == 2 and fixed.stdout == BROKEN  # the buffer, unchanged
    assert _stderr_lines(fixed) == ["convbnlint: error: m.py: syntax error at 3:5: invalid syntax"]


def test_a_folder_with_no_python_files_warns(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# docs\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "m.py").write_text(GOOD)
    (tmp_path / "build").mkdir()  # excluded by default: nothing to check either
    (tmp_path / "build" / "m.py").write_text(BAD)
    res = run(["src", "docs"], cwd=tmp_path)
    assert res.returncode == 0
    assert res.stderr == "convbnlint: warning: no Python files (*.py, *.ipynb) found under docs\n"
    assert res.stdout == "All checks passed!\n"
    empty = run(["docs", "--format", "json"], cwd=tmp_path)
    assert empty.returncode == 0 and json.loads(empty.stdout) == []
    assert "no Python files" in empty.stderr
    # A folder whose only files are excluded counts as empty too.
    sub = tmp_path / "proj"
    sub.mkdir()
    (sub / "pyproject.toml").write_text('[tool.convbnlint]\nextend-exclude = ["gen/"]\n')
    (sub / "gen").mkdir()
    (sub / "gen" / "m.py").write_text(BAD)
    res = run(["."], cwd=sub)
    assert res.returncode == 0 and "no Python files" in res.stderr


def test_unreadable_file_in_every_format(tmp_path: Path) -> None:
    (tmp_path / "ok.py").write_text(BAD)
    os.symlink(tmp_path / "gone.py", tmp_path / "dangling.py")
    for fmt in ("json", "github", "gitlab", "junit", "sarif"):
        res = run(["--format", fmt, "."], cwd=tmp_path)
        assert res.returncode == 2, fmt
        assert "dangling.py" in res.stdout, fmt


def test_syntax_errors_are_reported_where_documented(tmp_path: Path) -> None:
    """README and --help: syntax errors only in files that could hold a finding (their
    text mentions a norm); other files are never parsed (bench/UX_RESULTS.md)."""
    (tmp_path / "no_norm.py").write_text(
        "import torch.nn as nn\nconv = nn.Conv2d(1, 1, 1)\ndef (:\n"
    )
    (tmp_path / "norm_only.py").write_text(
        "import torch.nn as nn\nbn = nn.BatchNorm2d(1)\ndef (:\n"
    )
    res = run(["."], cwd=tmp_path)
    assert res.returncode == 2
    assert _stderr_lines(res) == [
        "convbnlint: error: norm_only.py: syntax error at 3:5: invalid syntax"
    ]
    help_text = run(["--help"], cwd=tmp_path).stdout
    assert "Syntax errors are reported only in files that could hold a finding" in help_text
    from tests.util import ROOT

    assert "**Syntax errors** are reported only in files that could hold a finding" in (
        ROOT / "README.md"
    ).read_text(encoding="utf-8")
