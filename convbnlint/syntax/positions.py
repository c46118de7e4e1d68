"""Positions of selected calls, the one module that uses private libcst API.

:func:`call_spans` gives the same numbers as libcst's ``PositionProvider`` for a
fraction of its cost by subclassing libcst's private ``CodegenState``
(``tests/test_stages.py`` pins it against ``PositionProvider``).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from contextlib import contextmanager
from typing import TYPE_CHECKING

from convbnlint.types import Span

if TYPE_CHECKING:
    import libcst as cst


class _SpansDone(Exception):
    pass


def call_spans(module: cst.Module, calls: Collection[cst.Call]) -> dict[cst.Call, Span]:
    """The :class:`~libcst.metadata.PositionProvider` spans of some ``Call`` nodes.

    Same numbers as ``PositionProvider`` (a call's syntactic position: inside its
    parentheses), for a fraction of the cost: the module is generated as code once,
    up to the last wanted call, and line/column are counted only where a wanted
    call starts and ends (``PositionProvider`` splits every token and records
    every node).
    """
    from dataclasses import dataclass as _dataclass, field as _field

    from libcst._nodes.internal import CodegenState

    wanted = set(calls)
    newline = re.compile(r"\r\n?|\n")

    @_dataclass
    class _State(CodegenState):
        targets: set = _field(default_factory=set)
        found: dict = _field(default_factory=dict)
        open: dict = _field(default_factory=dict)
        done: int = 0
        line: int = 1
        column: int = 0

        def where(self) -> tuple[int, int]:
            if self.done < len(self.tokens):
                chunk = "".join(self.tokens[self.done :])
                self.done = len(self.tokens)
                breaks = newline.findall(chunk)
                if breaks:
                    self.line += len(breaks)
                    tail = newline.split(chunk)[-1]
                    self.column = len(tail)
                else:
                    self.column += len(chunk)
            return self.line, self.column

        @contextmanager  # type: ignore[misc]
        def record_syntactic_position(self, node, *, start_node=None, end_node=None):  # type: ignore[no-untyped-def]
            if node not in self.targets:
                yield
                return
            start = self.where()
            yield
            end = self.where()
            self.found[node] = Span(start[0], start[1] + 1, end[0], end[1] + 1)
            if len(self.found) == len(self.targets):
                raise _SpansDone

    state = _State(
        default_indent=module.default_indent,
        default_newline=module.default_newline,
        targets=wanted,
    )
    try:
        module._codegen(state)
    except _SpansDone:
        pass
    return state.found
