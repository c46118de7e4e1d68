"""``convbnlint --add-noqa``: a ``# noqa: CODE`` comment on the line of every
finding, exact (only the comment changes, bytes and line endings kept) and
verified like a fix.  End to end, through the installed command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_cli import BAD
from tests.util import run

LIN = "import torch.nn as nn\nb = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8))\n"


def test_adds_comments_and_the_findings_are_gone(tmp_path: Path) -> None:
    src = (
        "import torch.nn as nn\n"
        "a = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))   \n"  # trailing blanks
        "b = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))  # a comment\n"
        "c = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))  # noqa: E501\n"
        "d = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8))"  # no final newline
    )
    (tmp_path / "m.py").write_text(src)
    res = run(["--add-noqa", "."], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stderr == "Added 4 noqa directives.\n"
    assert (tmp_path / "m.py").read_text() == (
        "import torch.nn as nn\n"
        "a = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))  # noqa: CBL001   \n"
        "b = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))  # a comment  # noqa: CBL001\n"
        "c = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))  # noqa: E501, CBL001\n"
        "d = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8))  # noqa: CBL002"
    )
    assert run(["."], cwd=tmp_path).returncode == 0
    again = run(["--add-noqa", "."], cwd=tmp_path)
    assert again.returncode == 0 and again.stderr == "Added 0 noqa directives.\n"


def test_bytes_encoding_and_line_endings_are_kept(tmp_path: Path) -> None:
    raw = ("\ufeff# coding: utf-8\r\n" + BAD.replace("\n", "\r\n") + "s = 'é'\r\n").encode("utf-8")
    (tmp_path / "crlf.py").write_bytes(raw)
    latin = ("# -*- coding: latin-1 -*-\n" + BAD + "s = 'é'\n").encode("latin-1")
    (tmp_path / "latin.py").write_bytes(latin)
    res = run(["--add-noqa", "."], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "crlf.py").read_bytes() == raw.replace(
        b"nn.Conv2d(3, 8, 3),\r\n", b"nn.Conv2d(3, 8, 3),  # noqa: CBL001\r\n"
    )
    assert (tmp_path / "latin.py").read_bytes() == latin.replace(
        b"nn.Conv2d(3, 8, 3),\n", b"nn.Conv2d(3, 8, 3),  # noqa: CBL001\n"
    )


def test_a_line_that_cannot_take_a_comment_is_reported_and_left(tmp_path: Path) -> None:
    string = (
        "import torch.nn as nn\n"
        'a = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8)); doc = """starts here\n'
        'ends here"""\n'
    )
    backslash = (
        "import torch.nn as nn\na = nn.Sequential(nn.Conv2d(3, 8, 3), \\\n    nn.BatchNorm2d(8))\n"
    )
    (tmp_path / "string.py").write_text(string)
    (tmp_path / "backslash.py").write_text(backslash)
    (tmp_path / "ok.py").write_text(BAD)
    res = run(["--add-noqa", "."], cwd=tmp_path)
    assert res.returncode == 2
    assert (
        "convbnlint: error: backslash.py:2:19: CBL001: line 2 cannot take a comment" in res.stderr
    )
    assert "convbnlint: error: string.py:2:19: CBL001: line 2 cannot take a comment" in res.stderr
    assert res.stderr.endswith("Added 1 noqa directive.\n")
    assert (tmp_path / "string.py").read_text() == string
    assert (tmp_path / "backslash.py").read_text() == backslash
    assert "# noqa: CBL001" in (tmp_path / "ok.py").read_text()


def test_config_and_selection_are_honoured(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.convbnlint]\nper-file-ignores = { "skip.py" = ["CBL001"] }\n'
    )
    (tmp_path / "skip.py").write_text(BAD)
    (tmp_path / "lin.py").write_text(LIN)
    res = run(["--add-noqa", "--select", "CBL002", "."], cwd=tmp_path)
    assert res.returncode == 0 and res.stderr == "Added 1 noqa directive.\n"
    assert (tmp_path / "skip.py").read_text() == BAD
    assert (tmp_path / "lin.py").read_text().endswith("nn.BatchNorm1d(8))  # noqa: CBL002\n")


def test_bad_input_and_usage(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("import torch.nn as nn\nnn.BatchNorm2d(\n")
    (tmp_path / "ok.py").write_text(BAD)
    res = run(["--add-noqa", ".", "missing.py"], cwd=tmp_path)
    assert res.returncode == 2
    assert "convbnlint: error: missing.py: no such file or directory" in res.stderr
    assert "convbnlint: error: broken.py: syntax error" in res.stderr
    assert "# noqa: CBL001" in (tmp_path / "ok.py").read_text()
    for other in (["--fix"], ["--diff"]):
        bad = run(["--add-noqa", *other, "."], cwd=tmp_path)
        assert bad.returncode == 2 and "cannot be combined" in bad.stderr
    stdin = run(["--add-noqa", "-"], cwd=tmp_path, stdin=BAD.encode())
    assert stdin.returncode == 2 and "not on stdin" in stdin.stderr


def test_read_only_file_is_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "ro.py"
    target.write_text(BAD)
    target.chmod(0o444)
    res = run(["--add-noqa", "."], cwd=tmp_path)
    assert res.returncode == 2 and "ro.py: file is read-only; not written" in res.stderr
    assert target.read_text() == BAD


def test_notebook_cells_get_the_comment(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# model"),
        nbformat.v4.new_code_cell("import torch.nn as nn\n%matplotlib inline"),
        nbformat.v4.new_code_cell(
            "block = nn.Sequential(\n    nn.Conv2d(3, 8, 3),\n    nn.BatchNorm2d(8),\n)"
        ),
    ]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, str(path))
    before = json.loads(path.read_text())
    res = run(["--add-noqa", "nb.ipynb"], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    after = json.loads(path.read_text())
    assert "".join(after["cells"][2]["source"]) == (
        "block = nn.Sequential(\n    nn.Conv2d(3, 8, 3),  # noqa: CBL001\n    nn.BatchNorm2d(8),\n)"
    )
    after["cells"][2]["source"] = before["cells"][2]["source"]
    assert after == before  # nothing else changed
    assert run(["nb.ipynb"], cwd=tmp_path).returncode == 0


def test_verification_refuses_a_wrong_edit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The checks run for real: an edit that changes code, or a comment that does
    not suppress the finding, is refused before anything could be written."""
    from convbnlint import noqa
    from convbnlint.report.edits import TextEdit
    from convbnlint.runner import Options

    real = noqa.line_edit

    def code_change(text, line0, codes):  # type: ignore[no-untyped-def]
        e = real(text, line0, codes)
        return TextEdit(
            e.start, e.end, "; x = 1", e.start_line, e.start_column, e.end_line, e.end_column
        )

    monkeypatch.setattr(noqa, "line_edit", code_change)
    new, added, refused = noqa.add_to_text(BAD, "m.py", Options())
    assert (new, added) == (BAD, 0) and len(refused) == 1

    def wrong_code(text, line0, codes):  # type: ignore[no-untyped-def]
        e = real(text, line0, codes)
        return TextEdit(
            e.start,
            e.end,
            "  # noqa: CBL999",
            e.start_line,
            e.start_column,
            e.end_line,
            e.end_column,
        )

    monkeypatch.setattr(noqa, "line_edit", wrong_code)
    with pytest.raises(noqa.NoqaError, match="expected findings"):
        noqa.add_to_text(BAD, "m.py", Options())
