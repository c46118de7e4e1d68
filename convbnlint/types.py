"""Plain data shared by every layer: positions, findings, file results."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Bias(str, Enum):
    """What the source says about a layer's bias argument."""

    DEFAULT = "default"  # absent, and the class default is on
    TRUE = "true"  # explicitly a truthy constant (keyword or positional)
    FALSE = "false"  # explicitly a falsy constant
    UNKNOWN = "unknown"  # an expression, or *args/**kwargs could carry it

    @property
    def enabled(self) -> bool:
        return self in (Bias.DEFAULT, Bias.TRUE)


@dataclass(frozen=True, order=True)
class Span:
    """1-based line and column of the first character; end is exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class Diagnostic:
    code: str
    name: str
    message: str
    span: Span
    fixable: bool
    # Opaque handle the fixer uses to find the node; not part of the output.
    site: int = field(default=-1, compare=False)
    # The expression the fix writes as the bias argument.
    fix_value: str = field(default="False", compare=False)

    def sort_key(self) -> tuple[int, int, str]:
        return (self.span.line, self.span.column, self.code)


@dataclass
class FileResult:
    """Outcome of checking (and maybe fixing) one file."""

    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    error: str | None = None  # set when the file could not be read/parsed/fixed
    fixed: int = 0  # findings removed by --fix
    new_source: str | None = None  # fixed text, when a fix was computed
    source: str | None = None  # original text, kept for code frames and diffs
