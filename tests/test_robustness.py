"""Robustness (issue 9): file size, deep nesting, repeated keywords, skipped files.

End to end through the installed command, plus unit tests of the pieces.  Time
and memory are measured in ``bench/robustness.py``, never asserted here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests import util

SNIPPET = "import torch.nn as nn\nblock = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))\n"
FIXED_SNIPPET = SNIPPET.replace("nn.Conv2d(1, 2, 3)", "nn.Conv2d(1, 2, 3, bias=False)")
FORMATS = ["text", "concise", "json", "json-lines", "github", "gitlab", "sarif", "junit"]


def run(args: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return util.run(["--no-cache", *args], cwd=cwd, timeout=timeout)


def _chain(op: str, term: str, n: int) -> str:
    return f"z = {f' {op} '.join([term] * n)}\n"


def _no_crash(res: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in res.stdout + res.stderr
    assert res.returncode >= 0, f"killed by signal {-res.returncode}"


def _error_line(res: subprocess.CompletedProcess[str], name: str) -> str:
    lines = [
        line for line in res.stderr.splitlines() if line.startswith(f"convbnlint: error: {name}:")
    ]
    assert len(lines) == 1, res.stderr
    return lines[0]


# --------------------------------------------------------------------- max-file-size


def _big(path: Path, size: int) -> None:
    """A model file of about ``size`` bytes (many small blocks)."""
    block = (
        "class Block{i}(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.conv = nn.Conv2d(3, 8, 3)\n"
        "        self.bn = nn.BatchNorm2d(8)\n\n"
        "    def forward(self, x):\n"
        "        return self.bn(self.conv(x))\n\n\n"
    )
    parts = ["import torch.nn as nn\n\n\n"]
    total, i = 0, 0
    while total < size:
        parts.append(block.format(i=i))
        total += len(parts[-1])
        i += 1
    path.write_text("".join(parts))


@pytest.mark.parametrize("fmt", FORMATS)
def test_file_over_the_limit_is_skipped_in_every_format(tmp_path: Path, fmt: str) -> None:
    _big(tmp_path / "big.py", 3000)
    (tmp_path / "good.py").write_text(SNIPPET)
    size = (tmp_path / "big.py").stat().st_size
    res = run(["--max-file-size", "2KB", "--output-format", fmt, "."], tmp_path)
    _no_crash(res)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "All checks passed" not in res.stdout + res.stderr
    out = res.stdout + res.stderr  # (text formats print errors on stderr)
    assert "big.py" in out, out
    assert f"{size:,} bytes" in out and "max-file-size (2 KB)" in out, out
    assert "good.py" in res.stdout  # the run goes on
    if fmt == "text":
        line = _error_line(res, "big.py")
        assert "skipped" in line and f"{size:,} bytes" in line and "(2 KB)" in line, line


def test_size_limit_from_pyproject_and_flag(tmp_path: Path) -> None:
    _big(tmp_path / "big.py", 3000)
    (tmp_path / "pyproject.toml").write_text('[tool.convbnlint]\nmax-file-size = "1KB"\n')
    res = run(["big.py"], tmp_path)
    assert res.returncode == 2 and "max-file-size (1 KB)" in _error_line(res, "big.py")
    res = run(["--show-settings"], tmp_path)
    assert "max-file-size = 1024" in res.stdout
    # The flag wins; 0 is no limit.
    res = run(["--max-file-size", "0", "big.py"], tmp_path)
    assert res.returncode == 1, res.stderr
    assert "CBL001" in res.stdout and "skipped" not in res.stderr
    (tmp_path / "pyproject.toml").write_text("[tool.convbnlint]\nmax-file-size = 100000\n")
    assert run(["big.py"], tmp_path).returncode == 1


@pytest.mark.parametrize("value", ['"lots"', "-1", "true", '"2TB"'])
def test_bad_size_in_pyproject_is_an_error(tmp_path: Path, value: str) -> None:
    (tmp_path / "good.py").write_text(SNIPPET)
    (tmp_path / "pyproject.toml").write_text(f"[tool.convbnlint]\nmax-file-size = {value}\n")
    res = run(["good.py"], tmp_path)
    assert res.returncode == 2
    assert "max-file-size" in res.stderr and "pyproject.toml" in res.stderr, res.stderr


def test_bad_size_flag_is_a_usage_error(tmp_path: Path) -> None:
    res = run(["--max-file-size", "big", "."], tmp_path)
    assert res.returncode == 2 and "--max-file-size" in res.stderr


def test_default_limit_skips_a_generated_model_file(tmp_path: Path) -> None:
    _big(tmp_path / "generated.py", 2 * 1024 * 1024 + 1)
    (tmp_path / "good.py").write_text(SNIPPET)
    res = run(["--fix", "."], tmp_path)
    _no_crash(res)
    assert res.returncode == 2
    assert "over max-file-size (2 MB)" in _error_line(res, "generated.py")
    assert (tmp_path / "good.py").read_text() == FIXED_SNIPPET
    assert "All checks passed" not in res.stdout


def test_large_file_that_cannot_hold_a_finding_is_not_skipped(tmp_path: Path) -> None:
    """Only files that would be parsed are skipped: the others cost nothing."""
    (tmp_path / "data.py").write_text("X = [\n" + "    1,\n" * 5000 + "]\n")
    res = run(["--max-file-size", "1KB", "data.py"], tmp_path)
    assert res.returncode == 0 and "All checks passed" in res.stdout, res.stderr


def test_stdin_over_the_limit(tmp_path: Path) -> None:
    _big(tmp_path / "big.py", 3000)
    raw = (tmp_path / "big.py").read_bytes()
    res = util.run(
        ["--max-file-size", "2KB", "--fix", "-", "--stdin-filename", "m.py"],
        cwd=tmp_path,
        stdin=raw,
    )
    assert res.returncode == 2 and "m.py: skipped" in res.stderr
    assert res.stdout.encode() == raw  # an editor gets its buffer back unchanged


# --------------------------------------------------------------------- deep nesting

# What CPython 3.10-3.12 compile: ``z = 0 + 0 ...`` up to about 2,990 terms (3.13:
# about 10,000, past what libcst parses in reasonable time).
DEEP_OK = {
    "concat_800.py": _chain("+", "'a'", 800),
    "zeros_2000.py": _chain("+", "0", 2000),
    "attrs_2900.py": "z = a" + ".b" * 2900 + "\n",
    "implicit_3000.py": "z = (" + " ".join(["'a'"] * 3000) + ")\n",
    "calls_1500.py": "z = f" + "()" * 1500 + "\n",
}


def _compiles(path: Path) -> bool:
    """CPython compiles the file (in a fresh interpreter: pytest's own frames
    would count against the compiler's depth limit here)."""
    code = f"compile(open({str(path)!r}).read(), 'x', 'exec')"
    return (
        subprocess.run([sys.executable, "-c", code], capture_output=True, check=False).returncode
        == 0
    )


@pytest.mark.parametrize("name", sorted(DEEP_OK))
def test_deep_files_cpython_compiles_are_analysed_and_fixed(tmp_path: Path, name: str) -> None:
    code = DEEP_OK[name]
    path = tmp_path / name
    path.write_text(SNIPPET + code)
    assert _compiles(path)
    res = run([name], tmp_path)
    _no_crash(res)
    assert res.returncode == 1, res.stdout + res.stderr
    assert f"{name}:2:" in res.stdout and "CBL001" in res.stdout
    res = run(["--fix", name], tmp_path)
    _no_crash(res)
    assert res.returncode == 0, res.stdout + res.stderr
    assert path.read_text() == FIXED_SNIPPET + code


def test_deepest_cpython_compiles_is_analysed(tmp_path: Path) -> None:
    code = _chain("+", "0", 2980)  # CPython 3.10-3.12 compile up to ~2,990 terms
    (tmp_path / "deep.py").write_text(SNIPPET + code)
    assert _compiles(tmp_path / "deep.py")
    res = run(["--output-format", "json", "deep.py"], tmp_path)
    _no_crash(res)
    assert res.returncode == 1, res.stderr
    assert [d["code"] for d in json.loads(res.stdout)] == ["CBL001"]


@pytest.mark.parametrize(
    "code",
    [_chain("+", "0", 5000), _chain("+", "0", 100_000), "z = a" + ".b" * 5000 + "\n"],
    ids=["zeros_5000", "zeros_100000", "attrs_5000"],
)
def test_deeper_than_libcst_can_is_refused_precisely(tmp_path: Path, code: str) -> None:
    (tmp_path / "deep.py").write_text(SNIPPET + code)
    (tmp_path / "good.py").write_text(SNIPPET)
    res = run(["--fix", "."], tmp_path)
    _no_crash(res)
    assert res.returncode == 2
    line = _error_line(res, "deep.py")
    assert "too deeply nested to parse (depth" in line and "> 3100" in line and "libcst" in line, (
        line
    )
    assert "All checks passed" not in res.stdout
    assert (tmp_path / "deep.py").read_text() == SNIPPET + code
    assert (tmp_path / "good.py").read_text() == FIXED_SNIPPET


def test_libcst_limit_on_valid_code_is_not_called_a_syntax_error(tmp_path: Path) -> None:
    code = "z = (" + " ".join(["'a'"] * 5000) + ")\n"  # libcst 1.9 stops near 3,500
    (tmp_path / "strings.py").write_text(SNIPPET + code)
    assert _compiles(tmp_path / "strings.py")
    res = run(["strings.py"], tmp_path)
    _no_crash(res)
    line = _error_line(res, "strings.py")
    if "libcst" not in line:  # pragma: no cover - a libcst that parses it
        assert res.returncode == 1
        return
    assert res.returncode == 2
    assert line.startswith(
        "convbnlint: error: strings.py: libcst cannot parse this file, which Python"
    )


def test_deep_stdin(tmp_path: Path) -> None:
    raw = (SNIPPET + DEEP_OK["concat_800.py"]).encode()
    res = util.run(["--fix", "-", "--stdin-filename", "m.py"], cwd=tmp_path, stdin=raw, timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stdout == FIXED_SNIPPET + DEEP_OK["concat_800.py"]


# --------------------------------------------------------------------- repeated keyword

DUPLICATES = {
    "bias_twice.py": (
        (
            "import torch.nn as nn\n"
            "block = nn.Sequential(nn.Conv2d(3, 8, 3, bias=True, bias=False), nn.BatchNorm2d(8))\n"
        ),
        "2:53: keyword argument repeated: bias",
    ),
    "elsewhere.py": (
        SNIPPET + "print(sep='', end='', sep=' ')\n",
        "3:23: keyword argument repeated: sep",
    ),
    "class_kw.py": (
        SNIPPET + "class A(metaclass=type, metaclass=type):\n    pass\n",
        "3:25: keyword argument repeated: metaclass",
    ),
    "in_function.py": (
        (
            "import torch.nn as nn\n\n"
            "def make():\n"
            "    return nn.Sequential(nn.Conv2d(3, 8, 3, bias=False, padding=1, bias=True),"
            " nn.BatchNorm2d(8))\n"
        ),
        "4:68: keyword argument repeated: bias",
    ),
}


@pytest.mark.parametrize("name", sorted(DUPLICATES))
def test_repeated_keyword_is_a_syntax_error_and_never_fixed(tmp_path: Path, name: str) -> None:
    code, where = DUPLICATES[name]
    with pytest.raises(SyntaxError, match="keyword argument repeated"):
        compile(code, name, "exec")
    (tmp_path / name).write_text(code)
    (tmp_path / "good.py").write_text(SNIPPET)
    res = run(["--fix", "."], tmp_path)
    _no_crash(res)
    assert res.returncode == 2
    assert _error_line(res, name) == f"convbnlint: error: {name}: syntax error at {where}"
    assert (tmp_path / name).read_text() == code
    assert (tmp_path / "good.py").read_text() == FIXED_SNIPPET
    res = run(["--output-format", "json", name], tmp_path)
    [entry] = json.loads(res.stdout)
    line, col = where.split(":")[:2]
    assert (entry["line"], entry["column"], entry["code"]) == (int(line), int(col), None)


def test_repeated_keyword_in_a_file_without_norms_costs_nothing(tmp_path: Path) -> None:
    """As for every syntax error: only files that could hold a finding are parsed."""
    (tmp_path / "other.py").write_text("print(sep='', sep=' ')\n")
    res = run(["other.py"], tmp_path)
    assert res.returncode == 0 and "All checks passed" in res.stdout


# --------------------------------------------------------------------- units


def test_parse_size() -> None:
    from convbnlint.config import parse_size

    assert parse_size(0) == 0
    assert parse_size(1234) == 1234
    assert parse_size("2MB") == parse_size("2 mb") == parse_size("2MiB") == 2 * 1024 * 1024
    assert parse_size("512KB") == parse_size("512k") == 512 * 1024
    assert parse_size("1.5MB") == 3 * 512 * 1024
    for bad in (-1, True, "x", "2TB", "-1MB", "", None, 1.5):
        with pytest.raises(ValueError):
            parse_size(bad)


def test_duplicate_keyword_unit() -> None:
    import ast

    from convbnlint.syntax.parse import duplicate_keyword

    assert duplicate_keyword(ast.parse("f(a=1, b=2, **k, **k)\nclass A(B, m=1): pass\n")) is None
    assert duplicate_keyword(ast.parse("f(\n  a=1,\n  a=2)\n")) == (
        "syntax error at 3:3: keyword argument repeated: a"
    )


def test_run_deep_restores_limits_and_raises() -> None:
    import threading

    from convbnlint.syntax.parse import DEEP_RECURSION, in_deep_mode, run_deep

    before = (sys.getrecursionlimit(), threading.stack_size())
    assert run_deep(lambda: (in_deep_mode(), sys.getrecursionlimit())) == (True, DEEP_RECURSION)
    assert not in_deep_mode()
    with pytest.raises(KeyError):
        run_deep(lambda: {}["x"])
    assert (sys.getrecursionlimit(), threading.stack_size()) == before


def test_no_visitor_class_is_kept_per_scope() -> None:
    """A visitor class made per call lives until the cyclic collector runs (paused
    during analysis): ~10 KB for each scope of the file."""
    import gc

    import libcst as cst

    from convbnlint import cstwalk
    from convbnlint.facts.prescan import prescan, returns

    module = cst.parse_module("def f():\n    x = [y for y in z]\n    return x\n")
    prescan(module.body)
    returns(module.body[0])  # type: ignore[arg-type]
    gc.collect()
    kinds = len(cstwalk._HOOKS)
    types_before = sum(isinstance(o, type) for o in gc.get_objects())
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(200):
            prescan(module.body)
            returns(module.body[0])  # type: ignore[arg-type]
        types_after = sum(isinstance(o, type) for o in gc.get_objects())
    finally:
        if enabled:
            gc.enable()
    assert types_after - types_before < 10
    assert len(cstwalk._HOOKS) <= kinds + 1
