"""Text in, libcst tree out: the one place that parses for the analysis.

:func:`parse` measures the text first (libcst's native parser crashes the process
on very deep nesting, :func:`convbnlint.sourcefile.parse_hazard`) and turns every
parser failure into a :class:`ParseError` naming the cause.  Lower than the
engine and the fixer, which both import it (no import circle).
"""

from __future__ import annotations

import ast
import gc
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

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


def explain(source: str, message: str) -> str:
    """``message``, a libcst parse error, said as libcst's limit when CPython's
    parser accepts ``source`` (libcst 1.9 refuses e.g. ~3,500 adjacent string
    literals: "expected one of STRING")."""
    if not message.startswith("syntax error") or "keyword argument repeated" in message:
        return message
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
            return message
    version = ".".join(map(str, sys.version_info[:2]))
    return f"libcst cannot parse this file, which Python {version} parses ({message})"


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

    CPython's compiler (it builds no Python objects but the code) answers first;
    only when it rejects the text does libcst parse it, for the message (and the
    verdict: libcst accepts some texts CPython rejects, e.g. a ``nonlocal`` at
    module level, or syntax newer than the running Python).  A repeated keyword
    argument, which only the compiler sees, is reported as it says.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(source, "<source>", "exec", dont_inherit=True)
            return
        except SyntaxError as exc:
            if (exc.msg or "").startswith("keyword argument repeated"):
                raise ParseError(
                    f"syntax error at {exc.lineno}:{exc.offset or 1}: {exc.msg}"
                ) from None
        except (ValueError, RecursionError, MemoryError, OverflowError):
            pass
    with gc_paused():
        parse(source)  # (measured first: the text may be deep)


def depth_hazard(source: str, depth: int) -> str | None:
    """``sourcefile.parse_hazard`` for a text whose ``ast`` depth is already known."""
    limit = max_depth()
    if len(source) > limit and depth > limit:
        return too_deep(depth, limit)
    return None


def too_deep(depth: int, limit: int) -> str:
    """The reason a text of this libcst depth is refused."""
    if limit < DEEP_MAX_DEPTH:
        return f"too deeply nested to parse (depth {depth} > {limit})"
    return (
        f"too deeply nested to parse (depth {depth} > {limit}): libcst's parser takes time"
        " that grows steeply with nesting (2 s at 3,000 levels, over 2 minutes at 10,000)"
    )


def duplicate_keyword(tree: ast.AST) -> str | None:
    """The error CPython's compiler gives for a repeated keyword argument
    (``f(bias=True, bias=False)``, ``class A(metaclass=M, metaclass=N)``), which
    its parser (``ast``) accepts; None when there is none."""
    for node in ast.walk(tree):
        kind = type(node)
        if (kind is ast.Call or kind is ast.ClassDef) and len(node.keywords) > 1:  # type: ignore[attr-defined]
            seen: set[str] = set()
            for kw in node.keywords:  # type: ignore[attr-defined]
                if kw.arg is None:
                    continue
                if kw.arg in seen:
                    return (
                        f"syntax error at {kw.lineno}:{kw.col_offset + 1}:"
                        f" keyword argument repeated: {kw.arg}"
                    )
                seen.add(kw.arg)
    return None


# --- deep nesting --------------------------------------------------------------------
#
# On the main thread (8 MB of C stack, recursion limit 1,000) a text is parsed only
# up to ``sourcefile.MAX_DEPTH`` levels.  A deeper one is checked again by
# :func:`run_deep`: on a thread with a large stack and a raised recursion limit,
# up to DEEP_MAX_DEPTH levels, which covers what CPython 3.10-3.12 compile (their
# compiler stops near 3,000 levels: ``x = 0 + 0 + ...`` of 2,990 terms).  libcst's
# parser takes time that grows steeply past that (measured, libcst 1.9.0, gc off:
# 1,000 levels 0.2 s, 2,000 0.9 s, 3,000 2.1 s, 10,000 138 s; CPython 3.13
# compiles 10,000), so deeper texts are refused with that reason.

#: Deepest libcst tree analysed on a :func:`run_deep` thread.
DEEP_MAX_DEPTH = 3100
#: That thread's C stack (reserved, not committed: pages are used as touched) and
#: recursion limit; ample for DEEP_MAX_DEPTH (libcst's native parser and the
#: walkers use a few frames per level).
DEEP_STACK = 512 * 1024 * 1024
DEEP_RECURSION = 200_000

_DEEP = threading.local()
_DEEP_LOCK = threading.Lock()
_T = TypeVar("_T")


def max_depth() -> int:
    """The deepest text this thread may hand to libcst."""
    from convbnlint.sourcefile import MAX_DEPTH

    return DEEP_MAX_DEPTH if getattr(_DEEP, "on", False) else MAX_DEPTH


def in_deep_mode() -> bool:
    return bool(getattr(_DEEP, "on", False))


def run_deep(fn: Callable[..., _T], *args: object) -> _T:
    """``fn(*args)`` on a thread with a large stack and a raised recursion limit,
    where texts up to DEEP_MAX_DEPTH levels deep are parsed and analysed.

    (The recursion limit is the interpreter's: it is raised for the duration and
    restored; one deep call at a time.)
    """
    box: dict[str, object] = {}

    def target() -> None:
        _DEEP.on = True
        try:
            box["value"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001  (re-raised in the caller)
            box["error"] = exc

    thread = threading.Thread(target=target, name="convbnlint-deep", daemon=True)
    with _DEEP_LOCK:
        old_limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old_limit, DEEP_RECURSION))
        try:
            old_stack = threading.stack_size(DEEP_STACK)  # (read when a thread starts)
            try:
                thread.start()
            finally:
                threading.stack_size(old_stack)
            thread.join()
        finally:
            sys.setrecursionlimit(old_limit)
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]
