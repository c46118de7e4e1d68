"""Before/after fix fixtures (``tests/fixtures/fix/*.fixture``), byte for byte.

Every byte outside the edit must survive: encoding cookie, BOM, CRLF and mixed
line endings, tabs, form feeds, a missing final newline, comments in the call.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from convbnlint import fix_source, runner, sourcefile
from tests.util import run

FIXTURES = Path(__file__).parent / "fixtures" / "fix"
MARKER = b"\n#### output ####\n"
NAMES = sorted(p.stem for p in FIXTURES.glob("*.fixture"))


def load(name: str) -> tuple[bytes, bytes]:
    raw = (FIXTURES / f"{name}.fixture").read_bytes()
    assert raw.count(MARKER) == 1, f"{name}: the marker must appear exactly once"
    before, after = raw.split(MARKER)
    return before, after


def test_the_fixtures_cover_the_layouts() -> None:
    required = {
        "single_line",
        "one_arg_per_line_trailing_comma",
        "comments_inside_call",
        "positional_true",
        "bias_true_keyword",
        "crlf",
        "latin1_cookie",
        "utf8_bom",
        "tabs",
        "form_feed",
        "no_final_newline",
        "mixed_line_endings",
    }
    assert required <= set(NAMES)
    assert load("crlf")[0].count(b"\r\n") > 5
    assert load("latin1_cookie")[0].startswith(b"# -*- coding: latin-1 -*-\n")
    assert b"\xe9" in load("latin1_cookie")[0]
    assert load("utf8_bom")[0].startswith(b"\xef\xbb\xbf")
    assert b"\t" in load("tabs")[0] and b"\x0c" in load("form_feed")[0]
    assert not load("no_final_newline")[0].endswith(b"\n")
    mixed = load("mixed_line_endings")[0]
    assert b"\r\n" in mixed and mixed.replace(b"\r\n", b"").count(b"\n") > 0


@pytest.mark.parametrize("name", NAMES)
def test_fix_writes_exactly_the_expected_bytes(name: str, tmp_path: Path) -> None:
    before, after = load(name)
    assert before != after, "a fix fixture must change something"
    path = tmp_path / f"{name}.py"
    path.write_bytes(before)
    result = runner.check_path(path, runner.Options(fix=True))
    assert result.error is None
    assert result.fixed >= 1
    assert path.read_bytes() == after
    # A second run finds nothing and writes nothing.
    again = runner.check_path(path, runner.Options(fix=True))
    assert (again.error, again.fixed, again.diagnostics) == (None, 0, [])
    assert path.read_bytes() == after


@pytest.mark.parametrize("name", NAMES)
def test_public_api_gives_the_same_text(name: str) -> None:
    before, after = load(name)
    source = sourcefile.decode(before)
    new, fixed = fix_source(source.text)
    assert fixed
    assert source.encode(new) == after


def test_cli_fixes_every_fixture(tmp_path: Path) -> None:
    for name in NAMES:
        (tmp_path / f"{name}.py").write_bytes(load(name)[0])
    res = run(["--fix", "."], cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    for name in NAMES:
        assert (tmp_path / f"{name}.py").read_bytes() == load(name)[1], name
    res = run(["--diff", "."], cwd=tmp_path)
    assert res.returncode == 0 and res.stdout == ""


def test_diff_writes_nothing(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "crlf.fixture", tmp_path / "x.fixture")
    before = load("crlf")[0]
    (tmp_path / "crlf.py").write_bytes(before)
    res = run(["--diff", "crlf.py"], cwd=tmp_path)
    assert res.returncode == 1
    assert "+        bias=False," in res.stdout
    assert (tmp_path / "crlf.py").read_bytes() == before
