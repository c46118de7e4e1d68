"""Reporters: format results; never decide exit codes or touch files.

Every reporter has the signature ``report(results, out, options)``.  Findings in
notebooks carry a cell number: use :func:`locate` rather than ``d.span`` to get
positions a user can find (``path:cell N:line:col``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO

from convbnlint.types import Diagnostic, FileResult

Reporter = Callable[[Sequence[FileResult], IO[str], "ReportOptions"], None]

FORMATS = ("text", "concise", "json", "github", "sarif", "junit")

# Where the documentation site lives (mkdocs.yml's ``site_url`` must agree;
# tests/test_docs.py checks it).  Rule pages are at ``{DOCS_URL}rules/CODE/``.
DOCS_URL = "https://example.invalid/convbnlint/"


def rule_url(code: str) -> str:
    return f"{DOCS_URL}rules/{code}/"


class ReportOptions:
    def __init__(
        self,
        *,
        color: bool,
        frames: bool,
        quiet: bool,
        fixing: bool,
        statistics: bool = False,
    ) -> None:
        self.color = color
        self.frames = frames
        self.quiet = quiet
        self.fixing = fixing
        self.statistics = statistics


@dataclass(frozen=True)
class Location:
    """Where a finding is, as the user sees the file (1-based; end exclusive)."""

    line: int
    column: int
    end_line: int
    end_column: int
    cell: int | None = None  # notebooks: 1-based index of the cell in the notebook

    @property
    def prefix(self) -> str:
        """``line:col`` or ``cell N:line:col``."""
        head = f"cell {self.cell}:" if self.cell is not None else ""
        return f"{head}{self.line}:{self.column}"


def locate(result: FileResult, d: Diagnostic) -> Location:
    """The user-facing location of ``d`` (cell-relative in notebooks)."""
    mapper = getattr(result, "locate", None)
    if mapper is not None:
        return mapper(d.span)  # type: ignore[no-any-return]
    s = d.span
    return Location(s.line, s.column, s.end_line, s.end_column)


def get(name: str) -> Reporter:
    if name not in FORMATS:
        raise ValueError(f"unknown format: {name}")
    module = importlib.import_module(f"convbnlint.report.{name}")
    return module.report  # type: ignore[no-any-return]
