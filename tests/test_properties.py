"""Property tests on generated Python programs (hypothesis + hypothesmith).

* linting never raises on any program; a parse error is only acceptable when
  CPython's own ``compile`` rejects the text too;
* a conv -> BatchNorm snippet inserted at any statement position of a generated
  program is found and fixed; the fix changes exactly the bias argument, its output
  parses and fixing again changes nothing.

Profiles live in ``tests/conftest.py``: ``HYPOTHESIS_PROFILE=long`` for thousands of
examples.
"""

from __future__ import annotations

import ast
import inspect
import re
import warnings

import hypothesmith
import pytest
from hypothesis import assume, event, example, given
from hypothesis import strategies as st

from convbnlint import fix_source
from convbnlint.engine import ParseError, check

# Every stage that could skip a generated program is off: everything is parsed.
_PARAMS = inspect.signature(check).parameters
NO_SHORTCUTS = {k: False for k in ("use_prefilter", "use_shapes", "use_blocks") if k in _PARAMS}

pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")

GRAMMAR = hypothesmith.from_grammar()
NODES = hypothesmith.from_node()
PROGRAMS = st.one_of(GRAMMAR, GRAMMAR, GRAMMAR, NODES)  # from_node is ~20x slower

ALIAS = "_cbl_nn_"
SNIPPET = (
    f"import torch.nn as {ALIAS}",
    f"_cbl_block_ = {ALIAS}.Sequential({ALIAS}.Conv2d(1, 2, 3), {ALIAS}.BatchNorm2d(2))",
)
BEFORE = f"{ALIAS}.Conv2d(1, 2, 3)"
AFTER = f"{ALIAS}.Conv2d(1, 2, 3, bias=False)"


def compiles(src: str) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(src, "<generated>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
            return False
    return True


# libcst builds nodes its own validation rejects for a few valid but odd spellings
# (``a not in.0``, ``0. <\\\n0.``); the engine reports those files as such, and that
# is the only parse error accepted for code CPython compiles.
LIBCST_LIMITATION = "libcst cannot parse this file"


def _parse_error_is_fair(src: str, exc: ParseError) -> bool:
    if not compiles(src):
        return True
    if str(exc).startswith(LIBCST_LIMITATION):
        event("libcst limitation on valid code")
        return True
    return False


@example(src="class A:\n pass\nfor A.A in ... < 0. not in.0:\n pass\n")
@given(src=PROGRAMS)
def test_lint_never_raises(src: str) -> None:
    try:
        check(src, **NO_SHORTCUTS)
    except ParseError as exc:
        assert _parse_error_is_fair(src, exc), f"ParseError on a program CPython compiles: {exc}"
    # And the default path (with the cheap stages) agrees there is nothing to flag.
    try:
        assert check(src).diagnostics == [] or ALIAS in src
    except ParseError as exc:
        assert _parse_error_is_fair(src, exc), f"ParseError on a program CPython compiles: {exc}"


STAR_IMPORT = re.compile(r"\bimport\s*\*")
_LINE = re.compile(r"[^\r\n]*(\r\n|\r|\n|$)")


def _lines(src: str) -> list[str]:
    out = [m.group(0) for m in _LINE.finditer(src)]
    return [line for line in out if line]


def insertion_points(src: str) -> list[tuple[int, str, str]]:
    """(0-based line, indentation, line ending) before which a statement may go."""
    tree = ast.parse(src)
    lines = _lines(src)
    points: list[tuple[int, str, str]] = []
    for node in ast.walk(tree):
        for name in ("body", "orelse", "finalbody"):
            body = getattr(node, name, None)
            if not isinstance(body, list):
                continue
            for stmt in body:
                if not isinstance(stmt, ast.stmt):
                    continue
                first = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", []))])
                line = lines[first - 1]
                indent = line[: len(line) - len(line.lstrip(" \t\x0c"))]
                col = stmt.col_offset if first == stmt.lineno else None
                if col is not None and len(indent.encode()) != col:
                    continue  # shares its line with something else (``if x: a``)
                if first != stmt.lineno and not line.lstrip().startswith("@"):
                    continue
                ending = re.search(r"(\r\n|\r|\n)$", line)
                points.append(
                    (first - 1, indent.replace("\x0c", ""), ending.group(1) if ending else "\n")
                )
    if not lines or lines[-1].endswith(("\n", "\r")):
        points.append((len(lines), "", "\n"))
    return points


def insert(src: str, where: tuple[int, str, str]) -> str:
    lines = _lines(src)
    index, indent, ending = where
    snippet = [f"{indent}{line}{ending}" for line in SNIPPET]
    return "".join(lines[:index] + snippet + lines[index:])


@st.composite
def programs_with_snippet(draw: st.DrawFn) -> str:
    src = draw(PROGRAMS)
    # A star import may rebind any name: the analysis stays silent (by design).
    assume(compiles(src) and ALIAS not in src and not STAR_IMPORT.search(src))
    try:
        points = insertion_points(src)
    except (SyntaxError, RecursionError, ValueError):  # pragma: no cover
        assume(False)
    assume(points)
    new = insert(src, draw(st.sampled_from(points)))
    assume(compiles(new))  # e.g. the snippet after a ``return`` in a generator is fine
    return new


@example(
    src="import torch.nn as _cbl_nn_\n_cbl_block_ = _cbl_nn_.Sequential("
    "_cbl_nn_.Conv2d(1, 2, 3), _cbl_nn_.BatchNorm2d(2))\npass\n\n "
)  # libcst drops a whitespace-only last line: only the calls may be regenerated
@given(src=programs_with_snippet())
def test_inserted_snippet_is_found_and_fixed_exactly(src: str) -> None:
    try:
        fixed, diagnostics = fix_source(src)
    except ParseError as exc:
        assert _parse_error_is_fair(src, exc), f"ParseError on a program CPython compiles: {exc}"
        return
    assert len(diagnostics) >= 1
    # Exactly the bias argument: undo it textually and get the input back.
    assert fixed.count(AFTER) == 1
    assert fixed.replace(AFTER, BEFORE) == src
    assert compiles(fixed)
    # Idempotent: nothing left to flag, nothing to change.
    again, more = fix_source(fixed)
    assert (again, more) == (fixed, [])
    # The default path (with its cheap stages) reports the same finding.
    assert [d.span for d in check(src).diagnostics] == [d.span for d in diagnostics]


@given(src=PROGRAMS)
def test_fix_of_any_program_parses_and_is_idempotent(src: str) -> None:
    assume(compiles(src))
    try:
        fixed, _ = fix_source(src)
    except ParseError as exc:
        assert _parse_error_is_fair(src, exc), f"ParseError on a program CPython compiles: {exc}"
        return
    assert compiles(fixed)
    assert fix_source(fixed) == (fixed, [])


@given(src=programs_with_snippet(), data=st.data())
def test_several_snippets(src: str, data: st.DataObject) -> None:
    """A second snippet at another position: both are fixed, nothing else moves."""
    points = insertion_points(src)
    twice = insert(src, data.draw(st.sampled_from(points)))
    assume(compiles(twice))
    try:
        fixed, diagnostics = fix_source(twice)
    except ParseError as exc:
        assert _parse_error_is_fair(twice, exc), f"ParseError on a program CPython compiles: {exc}"
        return
    assert len(diagnostics) == 2
    assert fixed.replace(AFTER, BEFORE) == twice
    assert fix_source(fixed) == (fixed, [])
