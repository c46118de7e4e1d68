"""Nothing a user owns is ever damaged.

* a fix is written only once verification proves it changes nothing but the bias
  arguments (a deliberately wrong fixer is refused, the file left as it was);
* writes are atomic, keep permission bits and owner, follow symlinks to the file;
* a file that changed on disk after it was read is not overwritten;
* read-only files and read-only folders are reported and left alone;
* the same tree gives the same output whatever the number of workers;
* no user code is ever run.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from convbnlint import fix, runner, sourcefile
from convbnlint.engine import check
from tests.util import run

BAD = textwrap.dedent(
    """\
    import torch.nn as nn

    block = nn.Sequential(
        nn.Conv2d(3, 8, 3),  # keep this comment
        nn.BatchNorm2d(8),
    )
    """
)
FIXED = BAD.replace("nn.Conv2d(3, 8, 3)", "nn.Conv2d(3, 8, 3, bias=False)")

# The real CLI in a subprocess, after a patch (to break the fixer on purpose).
PATCHED_CLI = """\
import sys
{patch}
from convbnlint.cli import main
sys.argv[0] = "convbnlint"
main()
"""


def run_patched(patch: str, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    code = PATCHED_CLI.format(patch=textwrap.dedent(patch))
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


# --- verification ----------------------------------------------------------------

WRONG_FIXERS = {
    # fixed_call also changes another argument (kernel size 3 -> 5)
    "changes_another_argument": """
        import libcst as cst
        import convbnlint.fix as fix
        _orig = fix.fixed_call
        def fixed_call(call, spec, value=fix.FALSE):
            new = _orig(call, spec, value)
            args = list(new.args)
            args[2] = args[2].with_changes(value=cst.Integer("5"))
            return new.with_changes(args=args)
        fix.fixed_call = fixed_call
    """,
    # fixed_call drops the comment after the first argument (the tree cannot see it)
    "drops_a_comment": """
        import libcst as cst
        import convbnlint.fix as fix
        _orig = fix.fixed_call
        def fixed_call(call, spec, value=fix.FALSE):
            new = _orig(call, spec, value)
            args = [a.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                    if isinstance(a.comma, cst.Comma) else a for a in new.args]
            return new.with_changes(args=args)
        fix.fixed_call = fixed_call
    """,
    # fixed_call writes bias=True
    "writes_the_wrong_value": """
        import libcst as cst
        import convbnlint.fix as fix
        _orig = fix.fixed_call
        def fixed_call(call, spec, value=fix.FALSE):
            return _orig(call, spec, cst.Name("True"))
        fix.fixed_call = fixed_call
    """,
    # the whole module's text is regenerated with a comment elsewhere removed
    "changes_text_outside_the_call": """
        import convbnlint.fix as fix
        _splice = fix._splice
        def splice(*args):
            return _splice(*args).replace("# elsewhere\\n", "")
        fix._splice = splice
    """,
}


@pytest.mark.parametrize("name", sorted(WRONG_FIXERS))
def test_a_wrong_fix_is_refused_and_nothing_is_written(name: str, tmp_path: Path) -> None:
    text = "# elsewhere\n" + BAD.replace("nn.Conv2d(3, 8, 3),", "nn.Conv2d(3,  # in\n 8, 3),")
    (tmp_path / "model.py").write_text(text)
    (tmp_path / "other.py").write_text("x = 1\n")
    before = (tmp_path / "model.py").read_bytes()
    res = run_patched(WRONG_FIXERS[name], ["--fix", "."], tmp_path)
    assert res.returncode == 2, res.stdout + res.stderr
    assert (tmp_path / "model.py").read_bytes() == before
    assert "model.py" in res.stderr
    assert "unverified fix" in res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    assert not list(tmp_path.glob(".*.convbnlint"))


def test_the_unpatched_cli_fixes_the_same_file(tmp_path: Path) -> None:
    """Control for the test above: only the sabotage makes it fail."""
    text = "# elsewhere\n" + BAD.replace("nn.Conv2d(3, 8, 3),", "nn.Conv2d(3,  # in\n 8, 3),")
    (tmp_path / "model.py").write_text(text)
    res = run_patched("", ["--fix", "."], tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "bias=False" in (tmp_path / "model.py").read_text()


def _edits(old: str) -> tuple[list[tuple[object, object]], str]:
    checked = check(old)
    assert checked.diagnostics and checked.builder is not None
    b = checked.builder
    edits = [(d.span, b.facts.sites[d.site].spec) for d in checked.diagnostics]
    return edits, fix.apply_fixes(old, checked, checked.diagnostics)


OLD = textwrap.dedent(
    """\
    import torch.nn as nn  # header

    \x0c
    block = nn.Sequential(
    \tnn.Conv2d(3, 8,  # channels
    \t          3),
    \tnn.BatchNorm2d(8),
    )
    tail = 1
    """
)

# Each mutation of the correct fixed text must be refused by verify().
MUTATIONS = {
    "comment_outside": lambda s: s.replace("# header", "# heading"),
    "form_feed_dropped": lambda s: s.replace("\x0c\n", "\n"),
    "line_ending": lambda s: s.replace("tail = 1\n", "tail = 1\r\n"),
    "tab_to_spaces": lambda s: s.replace("\tnn.BatchNorm2d", "    nn.BatchNorm2d"),
    "trailing_space": lambda s: s.replace("tail = 1", "tail = 1 "),
    "comment_in_call_dropped": lambda s: s.replace("  # channels", ""),
    "comment_in_call_edited": lambda s: s.replace("# channels", "# chans"),
    "other_argument": lambda s: s.replace("3, 8,", "3, 9,"),
    "bias_true": lambda s: s.replace("bias=False", "bias=True"),
    "extra_argument": lambda s: s.replace("bias=False", "bias=False, groups=1"),
    "syntax_error": lambda s: s.replace("tail = 1", "tail = "),
    "code_after": lambda s: s + "print('hi')\n",
    "final_newline_dropped": lambda s: s[:-1],
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_verify_refuses_any_other_change(name: str) -> None:
    edits, new = _edits(OLD)
    fix.verify(OLD, new, edits)  # the real fix passes
    wrong = MUTATIONS[name](new)
    assert wrong != new
    with pytest.raises(fix.UnsafeFixError):
        fix.verify(OLD, wrong, edits)


def test_verify_accepts_the_real_fix_and_reports_where_the_calls_are() -> None:
    edits, new = _edits(OLD)
    assert "nn.Conv2d(3, 8,  # channels\n\t          3, bias=False)" in new
    assert fix.verify(OLD, new, edits) == {(5, 2)}


# --- atomic writes ------------------------------------------------------------------


def test_write_keeps_mode_owner_and_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    target = real / "model.py"
    target.write_text(BAD)
    os.chmod(target, 0o751)
    if os.geteuid() == 0:
        os.chown(target, 4321, 8765)
    link = tmp_path / "link.py"
    link.symlink_to(target)
    result = runner.check_path(link, runner.Options(fix=True))
    assert result.error is None and result.fixed == 1
    assert link.is_symlink()
    assert target.read_text() == FIXED
    st = os.stat(target)
    assert stat.S_IMODE(st.st_mode) == 0o751
    if os.geteuid() == 0:
        assert (st.st_uid, st.st_gid) == (4321, 8765)
    assert sorted(p.name for p in real.iterdir()) == ["model.py"]


def test_write_atomic_refuses_a_file_that_changed(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_bytes(b"new content\n")
    with pytest.raises(sourcefile.SourceError, match="changed on disk"):
        sourcefile.write_atomic(path, b"fixed\n", b"old content\n")
    assert path.read_bytes() == b"new content\n"
    assert [p.name for p in tmp_path.iterdir()] == ["m.py"]


def test_a_file_changed_after_reading_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In process: the file is edited by someone else while it is being analysed."""
    path = tmp_path / "m.py"
    path.write_text(BAD)
    edited = BAD + "# the user's edit\n"
    real_check_text = runner.check_text

    def check_text_then_edit(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = real_check_text(*args, **kwargs)
        path.write_text(edited)
        return result

    monkeypatch.setattr(runner, "check_text", check_text_then_edit)
    result = runner.check_path(path, runner.Options(fix=True))
    assert result.error is not None and "changed on disk" in result.error
    assert result.fixed == 0
    assert path.read_text() == edited


def test_edit_between_check_and_rename_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last re-read happens after the temporary file is written."""
    path = tmp_path / "m.py"
    path.write_text(BAD)
    real_chmod = os.chmod

    def chmod_then_edit(p, mode, **kw):  # type: ignore[no-untyped-def]
        real_chmod(p, mode, **kw)
        if str(p).endswith(sourcefile.TEMP_SUFFIX):
            path.write_text("# edited meanwhile\n")

    monkeypatch.setattr(sourcefile.os, "chmod", chmod_then_edit)
    with pytest.raises(sourcefile.SourceError, match="changed on disk"):
        sourcefile.write_atomic(path, FIXED.encode(), BAD.encode())
    assert path.read_text() == "# edited meanwhile\n"
    assert [p.name for p in tmp_path.iterdir()] == ["m.py"]


def _big_model(blocks: int) -> str:
    block = textwrap.dedent(
        """
        class Block{i}(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(
                    nn.Conv2d(3, 8, 3),
                    nn.BatchNorm2d(8),
                )
        """
    )
    return "import torch.nn as nn\n" + "".join(block.format(i=i) for i in range(blocks))


def _wait_until_read(path: Path, proc: subprocess.Popen[bytes], timeout: float = 30) -> bool:
    """Wait for the first read of ``path`` (its access time moves: relatime updates
    an access time older than the modification time)."""
    start = os.stat(path).st_atime_ns
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if os.stat(path).st_atime_ns != start:
            return True
        time.sleep(0.005)
    return False


def test_cli_mid_run_edit_and_vanished_file(tmp_path: Path) -> None:
    """Through the real CLI: one file is edited while it is analysed, another one
    disappears before it is read; both are reported, the edit survives, the other
    files are fixed, exit 2."""
    big = tmp_path / "a_big.py"
    big.write_text(_big_model(400))
    (tmp_path / "b_ok.py").write_text(BAD)
    vanish = tmp_path / "c_vanish.py"
    vanish.write_text(BAD)
    for p in (big, vanish):
        st = os.stat(p)
        os.utime(p, ns=(10**9, st.st_mtime_ns))
    env = {**os.environ, "NO_COLOR": "1"}
    from tests.util import convbnlint_cmd

    proc = subprocess.Popen(
        [*convbnlint_cmd(), "--fix", "-j", "1", "."],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    read = _wait_until_read(big, proc)
    # The runner reads every file once to settle what cheap stages can, then again
    # right before analysing it; analysing this file takes seconds after that.
    time.sleep(0.6)
    running = proc.poll() is None
    edited = big.read_text() + "# edited while convbnlint was running\n"
    big.write_text(edited)
    vanish.unlink()
    _, err = proc.communicate(timeout=300)
    stderr = err.decode()
    assert big.read_text() == edited  # whatever the timing: never overwritten
    if not (read and running):  # pragma: no cover - no access times / too fast
        pytest.skip("could not edit the file while it was being analysed")
    assert proc.returncode == 2, stderr
    assert big.read_text() == edited
    assert "a_big.py: file changed on disk" in stderr
    assert "c_vanish.py: no such file" in stderr
    assert (tmp_path / "b_ok.py").read_text() == FIXED
    assert "Traceback" not in stderr
    assert not list(tmp_path.glob(".*.convbnlint"))


# --- read-only files and folders -------------------------------------------------------


def test_read_only_file_and_folder(tmp_path: Path) -> None:
    (tmp_path / "ok.py").write_text(BAD)
    ro_file = tmp_path / "ro.py"
    ro_file.write_text(BAD)
    ro_file.chmod(0o444)
    ro_dir = tmp_path / "frozen"
    ro_dir.mkdir()
    (ro_dir / "inside.py").write_text(BAD)
    ro_dir.chmod(0o555)
    try:
        res = run(["--fix", "."], cwd=tmp_path)
        assert res.returncode == 2, res.stdout + res.stderr
        assert (tmp_path / "ok.py").read_text() == FIXED
        assert ro_file.read_text() == BAD
        assert (ro_dir / "inside.py").read_text() == BAD
        assert "ro.py: file is read-only; not written" in res.stderr
        assert "inside.py: folder" in res.stderr and "is read-only" in res.stderr
        assert stat.S_IMODE(ro_file.stat().st_mode) == 0o444
        assert sorted(p.name for p in ro_dir.iterdir()) == ["inside.py"]
        assert "Traceback" not in res.stderr
        # The findings that could not be fixed are still reported.
        assert "ro.py:4:5: CBL001" in res.stdout
    finally:
        ro_dir.chmod(0o755)


# --- determinism ----------------------------------------------------------------------


def _tree(root: Path, n: int = 48) -> None:
    variants = [
        BAD,
        FIXED,
        BAD.replace("Conv2d(3, 8, 3)", "Conv1d(3, 8, 3)").replace("BatchNorm2d", "BatchNorm1d"),
        "import torch.nn as nn\nx = nn.Conv2d(1, 2, 3)\n",
        "def broken(:\n    nn.BatchNorm2d(2)\n",
        _big_model(3),
    ]
    for i in range(n):
        folder = root / f"pkg{i % 5}" / f"sub{i % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"m{i:02d}.py").write_text(variants[i % len(variants)])


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_output_is_identical_across_runs_and_job_counts(tmp_path: Path, fmt: str) -> None:
    _tree(tmp_path)
    # Without the results cache (so -j 2 really uses the pool every time), then
    # with it, cold and warm.
    runs = [
        ["--no-cache", "-j", "1"],
        ["--no-cache", "-j", "2"],
        ["--no-cache", "-j", "2"],
        ["-j", "2"],
        ["-j", "2"],
        ["-j", "1"],
    ]
    outs = [run(["--format", fmt, *args, "."], cwd=tmp_path) for args in runs]
    assert outs[0].returncode == 2  # the broken files
    assert len(outs[0].stdout.splitlines()) > 20
    for other in outs[1:]:
        assert (other.returncode, other.stdout, other.stderr) == (
            outs[0].returncode,
            outs[0].stdout,
            outs[0].stderr,
        )
    if fmt == "json":
        json.loads(outs[0].stdout)


def test_fix_is_identical_across_job_counts(tmp_path: Path) -> None:
    trees = []
    for jobs in ("1", "2"):
        root = tmp_path / f"j{jobs}"
        _tree(root)
        res = run(["--fix", "--no-cache", "-j", jobs, "."], cwd=root)
        assert res.returncode == 2
        trees.append(
            (
                res.stdout,
                res.stderr,
                {
                    p.relative_to(root).as_posix(): p.read_bytes()
                    for p in sorted(root.rglob("*.py"))
                },
            )
        )
    assert trees[0] == trees[1]


# --- never runs user code ----------------------------------------------------------------

MARKER_CODE = """\
import pathlib
pathlib.Path({marker!r}).write_text("ran")
import torch.nn as nn
block = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
if __name__ == "__main__":
    pathlib.Path({marker!r}).write_text("main ran")
"""


def test_never_runs_user_code(tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    pkg = tmp_path / "proj"
    (pkg / "pkg").mkdir(parents=True)
    names = [
        "sitecustomize.py",
        "usercustomize.py",
        "conftest.py",
        "setup.py",
        "__main__.py",
        "pkg/__init__.py",
        "model.py",
        "torch.py",
    ]
    for i, name in enumerate(names):
        (pkg / name).write_text(MARKER_CODE.format(marker=str(markers / f"m{i}")))
    (pkg / "evil.pth").write_text(
        f"import pathlib; pathlib.Path({str(markers / 'pth')!r}).touch()\n"
    )
    for args in (["."], ["--fix", "."], ["--diff", "."], ["--format", "json", "."]):
        if args[0] == "--fix":
            res = run(args, cwd=pkg)
            assert res.returncode == 0, res.stderr
        else:
            run(args, cwd=pkg)
        assert list(markers.iterdir()) == [], args
    assert "bias=False" in (pkg / "model.py").read_text()
    for name in names:
        res = run(["-", "--stdin-filename", name], cwd=pkg, stdin=(pkg / name).read_bytes())
        assert list(markers.iterdir()) == []
