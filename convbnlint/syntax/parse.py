"""Text in, libcst tree out: the one place that parses for the analysis.

:func:`parse` measures the text first (libcst's native parser crashes the process
on very deep nesting, :func:`convbnlint.sourcefile.parse_hazard`) and turns every
parser failure into a :class:`ParseError` naming the cause.  Lower than the
engine and the fixer, which both import it (no import circle).
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import libcst as cst


class ParseError(Exception):
    """The source is not valid Python (message says where and why)."""


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def source_lines(source: str) -> list[str]:
    """Lines as Python numbers them (``str.splitlines`` also breaks at form feeds)."""
    return _LINE_BREAK.split(source)


def parse(source: str) -> cst.Module:
    """libcst's tree of ``source``; :class:`ParseError` when it cannot (or must not) parse.

    libcst's native parser crashes the process on very deep nesting, so the text
    is measured first (:func:`convbnlint.sourcefile.parse_hazard`).
    """
    from convbnlint.sourcefile import parse_hazard

    hazard = parse_hazard(source)
    if hazard is not None:
        raise ParseError(hazard)
    return parse_measured(source)


def parse_measured(source: str) -> cst.Module:
    """:func:`parse` for a text already measured (or cut from one that was)."""
    import libcst as cst

    try:
        return cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        raise ParseError(
            f"syntax error at {exc.raw_line}:{exc.raw_column + 1}: {exc.message}"
        ) from None
    except RecursionError:
        raise ParseError("too deeply nested to parse") from None
    except (cst.CSTValidationError, ValueError, TypeError, IndexError) as exc:
        # libcst's parser builds a node its own checks reject (seen on valid
        # code: ``0. <\\\n0.``): the file cannot be analysed, say so.
        raise ParseError(f"libcst cannot parse this file ({type(exc).__name__}: {exc})") from None


@contextmanager
def gc_paused() -> Iterator[None]:
    """Syntax trees are large and acyclic: the cyclic collector only slows building
    them (it rescans every young node; ``ast.parse`` runs ~4x slower under it)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def raise_if_invalid(source: str) -> None:
    """Raise the :class:`ParseError` libcst reports for ``source``, if it is invalid.

    CPython's ``symtable`` (a parse without building Python objects) answers
    first; only when it rejects the text does libcst parse it, for the message
    (and the verdict: libcst accepts some texts CPython rejects, e.g. a
    ``nonlocal`` at module level).
    """
    import symtable
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            symtable.symtable(source, "<source>", "exec")
            return
        except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
            pass
    with gc_paused():
        parse(source)  # (measured first: the text may be deep)


def depth_hazard(source: str, depth: int) -> str | None:
    """``sourcefile.parse_hazard`` for a text whose ``ast`` depth is already known."""
    from convbnlint.sourcefile import MAX_DEPTH

    if len(source) > MAX_DEPTH and depth > MAX_DEPTH:
        return f"too deeply nested to parse (depth {depth} > {MAX_DEPTH})"
    return None
