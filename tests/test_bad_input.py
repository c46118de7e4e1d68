"""No input crashes the run: the real ``convbnlint`` command on hostile files.

Each bad file gets one ``convbnlint: error: <file>: <reason>`` line on stderr, the
other files are still checked and fixed, the exit code is 2, no traceback is shown
and nothing is written to the bad file.  Every file mentions a convolution and a
BatchNorm, so the cheap text stages cannot skip it.

Unreadable files: tests run as root, and root reads a ``chmod 000`` file.  A
symbolic link to a file the kernel refuses even to root stands in for it
(``/sys/bus/pci/rescan``: permission denied; ``/proc/self/mem``: input/output error).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from convbnlint import sourcefile
from tests import util


def run(
    args: list[str], cwd: Path | None = None, stdin: bytes | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """The installed command, with a time limit (a hang is a failure too)."""
    return util.run(args, cwd=cwd, stdin=stdin, timeout=timeout)


SNIPPET = "import torch.nn as nn\nblock = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))\n"
FIXED_SNIPPET = SNIPPET.replace("nn.Conv2d(1, 2, 3)", "nn.Conv2d(1, 2, 3, bias=False)")

BAD_FILES: dict[str, tuple[bytes, str]] = {
    "py2_print.py": ((SNIPPET + 'print "hello"\n').encode(), "syntax error"),
    "incomplete.py": ((SNIPPET + "x = (\n").encode(), "syntax error"),
    "bad_indent.py": ((SNIPPET + "if x:\nreturn\n").encode(), "syntax error"),
    "ascii_cookie_bad_byte.py": (
        b"# -*- coding: ascii -*-\n" + SNIPPET.encode() + b"x = '\xe9'\n",
        "cannot decode as ascii: invalid byte 0xe9",
    ),
    "utf8_bad_byte.py": (SNIPPET.encode() + b"x = '\xff\xfe'\n", "cannot decode as utf-8"),
    "unknown_cookie.py": (
        b"# -*- coding: klingon -*-\n" + SNIPPET.encode(),
        "unknown encoding: klingon",
    ),
    "nul.py": (SNIPPET.encode() + b"x = 1\x00\n", "NUL bytes"),
}


def _tree(root: Path, bad: dict[str, bytes]) -> None:
    (root / "good.py").write_text(SNIPPET)
    for name, raw in bad.items():
        (root / name).write_bytes(raw)


def _assert_reported(res: subprocess.CompletedProcess[str], name: str, reason: str) -> None:
    lines = [line for line in res.stderr.splitlines() if f"{name}:" in line]
    assert lines, f"{name} not reported:\n{res.stderr}"
    assert lines[0].startswith("convbnlint: error: ") and reason in lines[0], lines[0]


def _no_traceback(res: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in res.stderr + res.stdout
    assert res.returncode >= 0, f"killed by signal {-res.returncode}"


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_each_bad_file_is_reported_and_the_run_goes_on(name: str, tmp_path: Path) -> None:
    raw, reason = BAD_FILES[name]
    _tree(tmp_path, {name: raw})
    res = run(["--fix", "."], cwd=tmp_path)
    _no_traceback(res)
    assert res.returncode == 2, res.stdout + res.stderr
    _assert_reported(res, name, reason)
    assert (tmp_path / name).read_bytes() == raw
    assert (tmp_path / "good.py").read_text() == FIXED_SNIPPET


def test_all_bad_files_in_one_run(tmp_path: Path) -> None:
    _tree(tmp_path, {name: raw for name, (raw, _) in BAD_FILES.items()})
    for args in (["."], ["--format", "json", "."], ["--diff", "."], ["--fix", "."]):
        res = run(args, cwd=tmp_path)
        _no_traceback(res)
        assert res.returncode == 2, args
        for name, (raw, reason) in BAD_FILES.items():
            _assert_reported(res, name, reason)
            assert (tmp_path / name).read_bytes() == raw
    assert (tmp_path / "good.py").read_text() == FIXED_SNIPPET


def test_verbose_shows_no_traceback_for_bad_input(tmp_path: Path) -> None:
    """Bad input is not an internal error: even --verbose reports it plainly."""
    _tree(tmp_path, {name: raw for name, (raw, _) in BAD_FILES.items()})
    res = run(["--verbose", "."], cwd=tmp_path)
    _no_traceback(res)
    assert res.returncode == 2


def test_empty_file_is_fine(tmp_path: Path) -> None:
    (tmp_path / "empty.py").write_bytes(b"")
    (tmp_path / "blank.py").write_bytes(b"\n\n")
    res = run(["--fix", "."], cwd=tmp_path)
    assert res.returncode == 0 and res.stderr == ""
    assert (tmp_path / "empty.py").read_bytes() == b""


def test_missing_paths_on_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "good.py").write_text(SNIPPET)
    res = run(["--fix", "nope.py", "good.py", "no/such/dir"], cwd=tmp_path)
    _no_traceback(res)
    assert res.returncode == 2
    _assert_reported(res, "nope.py", "no such file")
    _assert_reported(res, "no/such/dir", "no such file")
    assert (tmp_path / "good.py").read_text() == FIXED_SNIPPET


def test_broken_symlink_named_on_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "good.py").write_text(SNIPPET)
    (tmp_path / "broken.py").symlink_to(tmp_path / "gone.py")
    (tmp_path / "self.py").symlink_to(tmp_path / "self.py")  # a loop
    res = run(["--fix", "broken.py", "self.py", "good.py"], cwd=tmp_path)
    _no_traceback(res)
    assert res.returncode == 2
    _assert_reported(res, "broken.py", "broken symbolic link")
    _assert_reported(res, "self.py", "")
    assert (tmp_path / "good.py").read_text() == FIXED_SNIPPET
    assert (tmp_path / "broken.py").is_symlink() and (tmp_path / "self.py").is_symlink()


def test_broken_symlink_inside_a_folder_is_reported(tmp_path: Path) -> None:
    (tmp_path / "good.py").write_text(SNIPPET)
    (tmp_path / "broken.py").symlink_to(tmp_path / "gone.py")
    res = run(["--fix", "."], cwd=tmp_path)
    _no_traceback(res)
    assert (tmp_path / "good.py").read_text() == FIXED_SNIPPET
    assert res.returncode == 2
    _assert_reported(res, "broken.py", "broken symbolic link")


def test_symlink_loops_in_folders(tmp_path: Path) -> None:
    """Symlinked folders are not followed: loops cannot trap the walk, files are
    checked once."""
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "sub" / "m.py").write_text(SNIPPET)
    (pkg / "sub" / "up").symlink_to(pkg)
    (pkg / "self").symlink_to(pkg / "self")
    (pkg / "a").symlink_to(pkg / "b")
    (pkg / "b").symlink_to(pkg / "a")
    start = time.monotonic()
    res = run(["."], cwd=tmp_path)
    assert time.monotonic() - start < 30
    _no_traceback(res)
    assert res.returncode == 1
    assert res.stdout.count("m.py:2:") == 1


def test_fifo_and_directory_named_like_sources(tmp_path: Path) -> None:
    (tmp_path / "good.py").write_text(SNIPPET)
    os.mkfifo(tmp_path / "fifo.py")
    pkg = tmp_path / "package.py"  # a folder: walked like any other
    pkg.mkdir()
    (pkg / "inner.py").write_text(SNIPPET)
    res = run(["--fix", "fifo.py", "package.py", "good.py"], cwd=tmp_path, timeout=60)
    _no_traceback(res)
    assert res.returncode == 2
    _assert_reported(res, "fifo.py", "not a regular file")
    assert (pkg / "inner.py").read_text() == FIXED_SNIPPET
    # Walking the folder never blocks on the FIFO either.
    res = run(["."], cwd=tmp_path, timeout=60)
    _no_traceback(res)


def test_reading_never_blocks_on_a_fifo(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "f.py")
    with pytest.raises(sourcefile.SourceError, match="not a regular file"):
        sourcefile.read(tmp_path / "f.py")


def _unreadable(tmp_path: Path) -> dict[str, str]:
    """name -> expected reason, for files the kernel refuses to read."""
    out: dict[str, str] = {}
    if os.geteuid() != 0:
        locked = tmp_path / "locked.py"
        locked.write_text(SNIPPET)
        locked.chmod(0)
        out["locked.py"] = "permission denied"
        return out
    for name, target, reason in (
        ("eacces.py", "/sys/bus/pci/rescan", "permission denied"),
        ("eio.py", "/proc/self/mem", "Input/output error"),
    ):
        try:
            fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK)
            try:
                os.read(fd, 1)
            finally:
                os.close(fd)
        except OSError:
            (tmp_path / name).symlink_to(target)
            out[name] = reason
    return out


def test_unreadable_files(tmp_path: Path) -> None:
    expected = _unreadable(tmp_path)
    if not expected:  # pragma: no cover - depends on the kernel
        pytest.skip("no way to make an unreadable file here")
    (tmp_path / "good.py").write_text(SNIPPET)
    res = run(["--fix", *expected, "good.py"], cwd=tmp_path)
    _no_traceback(res)
    assert res.returncode == 2
    for name, reason in expected.items():
        _assert_reported(res, name, reason)
    assert (tmp_path / "good.py").read_text() == FIXED_SNIPPET


def test_very_large_file(tmp_path: Path) -> None:
    """Tens of MB: mostly data (a long docstring and a long comment block), with a
    model at the end that must still be found and fixed, in reasonable time."""
    filler = "x" * 99 + "\n"
    text = (
        '"""'
        + filler * 150_000
        + '"""\n'  # 15 MB docstring
        + ("# " + filler) * 100_000  # 10 MB of comments
        + SNIPPET
    )
    path = tmp_path / "huge.py"
    path.write_text(text)
    assert path.stat().st_size > 25_000_000
    start = time.monotonic()
    # (Over the default max-file-size, which skips it: tests/test_robustness.py.)
    res = run(["--fix", "--max-file-size", "0", "huge.py"], cwd=tmp_path, timeout=300)
    elapsed = time.monotonic() - start
    _no_traceback(res)
    assert res.returncode == 0, res.stderr
    assert path.read_text() == text.replace(SNIPPET, FIXED_SNIPPET)
    assert elapsed < 60, elapsed  # 4 s here; it was 84 s with a quadratic line index


# --- deep nesting: libcst's native parser crashes the process (SIGSEGV) -----------------

DEEP = {
    "parens.py": "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n",
    "and_chain.py": "x = " + " and ".join(["a"] * 10000) + "\n",
    "dotted_import.py": "import " + ".".join(["a"] * 10000) + "\n",
}
SLOW_DEEP = {
    "plus_chain.py": "x = " + "+".join(["a"] * 100_000) + "\n",  # 20 s, then SIGSEGV
}


def _deep_tree(root: Path, cases: dict[str, str]) -> None:
    (root / "good.py").write_text(SNIPPET)
    for name, code in cases.items():
        (root / name).write_text(SNIPPET + code)


@pytest.mark.parametrize("name", sorted(DEEP) + sorted(SLOW_DEEP))
def test_parse_hazard_spots_deep_nesting(name: str) -> None:
    code = {**DEEP, **SLOW_DEEP}[name]
    assert sourcefile.parse_hazard(SNIPPET + code) is not None
    assert sourcefile.parse_hazard(SNIPPET) is None


def test_parse_hazard_leaves_ordinary_and_newer_code_alone() -> None:
    ordinary = (
        SNIPPET + "x = " + " and ".join(["a"] * 200) + "\n" + "y = [" + "1, " * 50_000 + "]\n"
    )
    assert sourcefile.parse_hazard(ordinary) is None
    # CPython rejects it (print statement) but it is shallow: libcst may report it.
    assert sourcefile.parse_hazard(SNIPPET + 'print "x"\n') is None
    # Rejected by CPython and deep: refused without asking libcst.
    assert sourcefile.parse_hazard('print "x"\n' + "x = " + "-" * 5000 + "a\n") is not None
    assert sourcefile.parse_hazard('print "x"\n' + "x = " + "[" * 300 + "]" * 300) is not None


def test_deep_nesting_does_not_crash_the_run(tmp_path: Path) -> None:
    """libcst's native parser segfaults on very deep nesting; the engine asks
    ``sourcefile.parse_hazard`` first, so each such file is reported instead."""
    cases = {**DEEP, **SLOW_DEEP}
    _deep_tree(tmp_path, cases)
    start = time.monotonic()
    res = run(["--fix", "."], cwd=tmp_path, timeout=120)
    assert time.monotonic() - start < 60
    _no_traceback(res)
    assert res.returncode == 2, res.stderr
    for name in cases:
        _assert_reported(res, name, "too deeply nested")
        assert (tmp_path / name).read_text() == SNIPPET + cases[name]
    assert (tmp_path / "good.py").read_text() == FIXED_SNIPPET


def test_stdin_bad_input() -> None:
    for raw, reason in (
        (b"x = '\xff'\n" + SNIPPET.encode(), "cannot decode"),
        (SNIPPET.encode() + b"x = (\n", "syntax error"),
    ):
        res = run(["-", "--stdin-filename", "s.py"], stdin=raw)
        _no_traceback(res)
        assert res.returncode == 2
        _assert_reported(res, "s.py", reason)
