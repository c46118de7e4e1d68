"""The results cache: same results, less work, never a stale or unsafe answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from convbnlint import cache, runner
from convbnlint.types import FileResult
from tests.util import run

BAD = """import torch.nn as nn
m = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
"""
GOOD = """import torch.nn as nn
m = nn.Sequential(nn.Conv2d(3, 8, 3, bias=False), nn.BatchNorm2d(8))
"""
PLAIN = "x = 1\n"
NORM_ONLY = "import torch.nn as nn\nnorm = nn.BatchNorm2d(8)\n"


def age(path: Path, seconds: float = 60) -> None:
    """Make a file old enough to be trusted by its stat signature."""
    t = time.time() - seconds
    os.utime(path, (t, t))


def tree(root: Path, files: dict[str, str]) -> list[Path]:
    out = []
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        age(p)
        out.append(p)
    return out


def key(results: list[FileResult]) -> list[object]:
    return [
        (r.path, r.error, [(d.code, d.span, d.message, d.fixable, d.fix_value) for d in r.diagnostics])
        for r in results
    ]


class Spy:
    """Counts calls of a runner function and lets them through."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
        self.calls = 0
        real = getattr(runner, name)

        def spy(*args: object, **kwargs: object) -> object:
            self.calls += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(runner, name, spy)


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    return tree(
        tmp_path / "proj",
        {"a.py": BAD, "b.py": GOOD, "c.py": PLAIN, "sub/d.py": BAD, "e.py": NORM_ONLY},
    )


def opts(tmp_path: Path, **kw: object) -> runner.Options:
    return runner.Options(cache_dir=str(tmp_path / "cache"), **kw)  # type: ignore[arg-type]


def test_warm_run_reads_nothing_and_gives_the_same_results(
    tmp_path: Path, files: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    cold = runner.run(files, runner.Options())
    first = runner.run(files, opts(tmp_path))
    assert key(first) == key(cold)
    reads = Spy(monkeypatch, "_read")
    analyses = Spy(monkeypatch, "_analyse")
    second = runner.run(files, opts(tmp_path))
    assert key(second) == key(cold)
    # Only the files with findings are read again (reports show their code), and
    # nothing is analysed.
    assert reads.calls == 2 and analyses.calls == 0
    assert all(r.source is not None for r in second if r.diagnostics)


def test_changed_file_is_checked_again(tmp_path: Path, files: list[Path]) -> None:
    runner.run(files, opts(tmp_path))
    files[1].write_text(BAD)  # b.py: now flagged
    age(files[1], 30)
    again = runner.run(files, opts(tmp_path))
    assert key(again) == key(runner.run(files, runner.Options()))
    assert again[1].diagnostics


def test_touched_but_unchanged_file_is_not_analysed_again(
    tmp_path: Path, files: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    want = key(runner.run(files, runner.Options()))
    runner.run(files, opts(tmp_path))
    for f in files:
        age(f, 5000)  # a checkout: new stat signatures, same bytes
    analyses = Spy(monkeypatch, "_analyse")
    again = runner.run(files, opts(tmp_path))
    assert analyses.calls == 0
    assert key(again) == want


def test_fresh_files_are_not_trusted_by_stat(
    tmp_path: Path, files: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    files[0].write_text(BAD)  # written "now": a same-tick edit would not show
    runner.run(files, opts(tmp_path))
    index = json.loads(next((tmp_path / "cache" / "v1").glob("*.json")).read_text())
    assert index["files"][os.path.abspath(files[0])][1] == [-1]
    assert index["files"][os.path.abspath(files[2])][1] != [-1]
    reads = Spy(monkeypatch, "_read")
    runner.run(files[:1], opts(tmp_path))
    assert reads.calls == 1


def test_options_and_per_file_ignores_are_part_of_the_key(tmp_path: Path, files: list[Path]) -> None:
    runner.run(files, opts(tmp_path))
    ignored = runner.run(files, opts(tmp_path, ignore=("CBL001",)))
    assert not any(r.diagnostics for r in ignored)
    extras = [("CBL001",) if f.name == "a.py" else () for f in files]
    per_file = runner.run(files, opts(tmp_path), extras)
    assert not per_file[0].diagnostics and per_file[3].diagnostics
    assert key(runner.run(files, opts(tmp_path))) == key(runner.run(files, runner.Options()))


def test_corrupt_or_foreign_index_is_ignored(tmp_path: Path, files: list[Path]) -> None:
    runner.run(files, opts(tmp_path))
    (index,) = (tmp_path / "cache" / "v1").glob("*.json")
    for junk in (b"{not json", b'{"files": [], "results": 3}', b"\x00\xff", b""):
        index.write_bytes(junk)
        assert key(runner.run(files, opts(tmp_path))) == key(runner.run(files, runner.Options()))
        json.loads(index.read_text())  # rewritten whole


def test_cache_folder_is_tagged_and_ignored_by_git(tmp_path: Path, files: list[Path]) -> None:
    runner.run(files, opts(tmp_path))
    folder = tmp_path / "cache"
    assert (folder / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert (folder / ".gitignore").read_text().splitlines()[-1] == "*"


def test_fix_rechecks_current_bytes_and_never_trusts_the_cache(tmp_path: Path, files: list[Path]) -> None:
    runner.run(files, opts(tmp_path))  # a.py cached with a fixable finding
    fixed = runner.run(files, opts(tmp_path, fix=True))
    assert fixed[0].fixed == 1 and "bias=False" in files[0].read_text()
    # The file changed on disk: the cache must not hand back the old finding.
    after = runner.run(files, opts(tmp_path))
    assert not after[0].diagnostics
    # Flagged again, then fixed again from the bytes on disk.
    files[0].write_text(BAD)
    age(files[0], 10)
    again = runner.run(files, opts(tmp_path, fix=True))
    assert again[0].fixed == 1


def test_diff_mode_uses_fresh_source(tmp_path: Path, files: list[Path]) -> None:
    runner.run(files, opts(tmp_path))
    diffs = runner.run(files, opts(tmp_path, diff=True))
    text = runner.unified_diff(diffs[0])
    assert "+m = nn.Sequential(nn.Conv2d(3, 8, 3, bias=False)" in text
    assert files[0].read_text() == BAD


def test_results_in_input_order_through_the_pool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    many = {f"m{i:03d}.py": (BAD if i % 3 == 0 else GOOD if i % 3 == 1 else PLAIN) for i in range(60)}
    paths = tree(tmp_path / "p", many)
    paths.reverse()
    serial = runner.run(paths, runner.Options(), jobs=1)
    monkeypatch.setattr(runner, "POOL_MIN_BYTES", 0)
    pooled = runner.run(paths, runner.Options(), jobs=2)
    assert key(pooled) == key(serial)
    assert [r.path for r in pooled] == [str(p) for p in paths]


def test_plain_ascii_fast_path_agrees_with_decoding(tmp_path: Path) -> None:
    cases = {
        "ascii.py": b"x = 1\n",
        "cookie.py": b"# -*- coding: latin-1 -*-\nx = '\xe9'\n",
        "badcookie.py": b"# -*- coding: nonsense -*-\nx = 1\n",
        "nul.py": b"x = 1\x00\n",
        "latin1.py": b"x = '\xe9'\n",
        "bom.py": b"\xef\xbb\xbfx = 1\n",
    }
    paths = []
    for name, data in cases.items():
        p = tmp_path / name
        p.write_bytes(data)
        paths.append(p)
    fast = runner.run(paths, runner.Options())
    slow = [runner.check_path(p, runner.Options()) for p in paths]
    assert key(fast) == key(slow)
    errors = {Path(r.path).name for r in fast if r.error}
    assert errors == {"badcookie.py", "nul.py", "latin1.py"}


CONCURRENT = """
import sys
from pathlib import Path
from convbnlint import runner
paths = sorted(Path(sys.argv[1]).rglob("*.py"))
res = runner.run(paths, runner.Options(cache_dir=sys.argv[2]), jobs=1)
print(sum(len(r.diagnostics) for r in res))
"""


def test_concurrent_runs_share_the_cache_safely(tmp_path: Path) -> None:
    many = {f"d{i % 7}/m{i:03d}.py": (BAD if i % 2 else GOOD) for i in range(80)}
    tree(tmp_path / "p", many)
    cache_dir = tmp_path / "cache"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT, str(tmp_path / "p"), str(cache_dir)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    outs = [p.communicate(timeout=300)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert set(outs) == {"40"}
    (index,) = (cache_dir / "v1").glob("*.json")
    data = json.loads(index.read_text())
    assert len(data["files"]) == 80
    assert not list((cache_dir / "v1").glob(".index-*"))  # no temporary left behind


def test_fingerprint_covers_options_and_code() -> None:
    a = cache.fingerprint([None, (), True, "check"])
    assert a == cache.fingerprint([None, (), True, "check"])
    assert a != cache.fingerprint([("CBL001",), (), True, "check"])
    assert a != cache.fingerprint([None, ("CBL002",), True, "check"])


def test_cli_cache_location_and_opt_out(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    tree(proj, {"pyproject.toml": "[tool.convbnlint]\n", "pkg/a.py": BAD, "pkg/b.py": GOOD})
    res = run(["pkg"], cwd=proj)
    assert res.returncode == 1
    assert (proj / ".convbnlint_cache" / "CACHEDIR.TAG").is_file()
    again = run(["pkg"], cwd=proj)
    assert again.stdout == res.stdout and again.returncode == 1
    other = tmp_path / "elsewhere"
    res2 = run(["--cache-dir", str(other), "pkg"], cwd=proj)
    assert res2.stdout == res.stdout and (other / "CACHEDIR.TAG").is_file()
    nocache = tmp_path / "nocache"
    tree(nocache, {"pyproject.toml": "[tool.convbnlint]\n", "a.py": BAD})
    res3 = run(["--no-cache", "a.py"], cwd=nocache)
    assert res3.returncode == 1 and not (nocache / ".convbnlint_cache").exists()
    # The cache folder is never linted, and is excluded by default.
    res4 = run(["."], cwd=proj)
    assert ".convbnlint_cache" not in res4.stdout + res4.stderr
