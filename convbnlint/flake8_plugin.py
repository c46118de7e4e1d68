"""flake8 plugin: ``flake8 --select CBL`` reports convbnlint's findings.

Registered under the ``flake8.extension`` entry point ``CBL``.  flake8 decides
what is selected, ignored and ``# noqa``-suppressed (its own ``--select``,
``--extend-ignore``, ``per-file-ignores`` and ``--disable-noqa`` apply), so the
plugin reports every finding, suppressed or not, and leaves filtering to
flake8.  ``[tool.convbnlint]`` is not read here; fixing stays with
``convbnlint --fix``.  A file that does not parse yields nothing (flake8
reports the syntax error itself as E999).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from convbnlint import __version__


class Plugin:
    name = "convbnlint"
    version = __version__

    # flake8 classifies plugins by their first parameter: ``tree`` makes this an
    # AST plugin (run once per file); the source text comes from ``lines``.
    def __init__(self, tree: Any, lines: Sequence[str], filename: str = "") -> None:
        self.lines = lines
        self.filename = filename

    def run(self) -> Iterator[tuple[int, int, str, type[Any]]]:
        from convbnlint.engine import ParseError, check

        source = "".join(self.lines)
        try:
            checked = check(source)
        except (ParseError, RecursionError):
            return
        found = sorted((*checked.diagnostics, *checked.suppressed), key=lambda d: d.sort_key())
        for d in found:
            yield d.span.line, d.span.column - 1, f"{d.code} {d.message}", type(self)
