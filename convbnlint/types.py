"""Plain data shared by every layer: positions, findings, file results."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, IntEnum


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


class Applicability(IntEnum):
    """How safely a fix may be applied, ordered like Ruff's (``fix.rs``).

    ``SAFE`` fixes are applied by ``--fix``; ``UNSAFE`` ones only with
    ``--unsafe-fixes`` too (they may break code that reads the removed bias);
    ``DISPLAY_ONLY`` fixes are shown, never applied.  A fix applies when its
    applicability is at least the required one: :meth:`applies`.
    """

    DISPLAY_ONLY = 0
    UNSAFE = 1
    SAFE = 2

    def applies(self, required: Applicability) -> bool:
        return self >= required


@dataclass(frozen=True)
class Diagnostic:
    code: str
    name: str
    message: str
    span: Span
    fixable: bool  # a fix exists (of any applicability)
    # Opaque handle the fixer uses to find the node; not part of the output.
    site: int = field(default=-1, compare=False)
    # The expression the fix writes as the bias argument.
    fix_value: str = field(default="False", compare=False)
    # How safe the fix is (meaningful only when ``fixable``), and why it is not
    # safe (names the line that reads the bias, say); None when safe.
    applicability: Applicability = field(default=Applicability.SAFE, compare=False)
    unsafe_reason: str | None = field(default=None, compare=False)
    # The ``state_dict`` entries the fix removes, relative to the module that
    # owns the layer (``features.0.bias``); empty when not known.
    state_keys: tuple[str, ...] = field(default=(), compare=False)
    # How other code can reach the fixed layer (class, attribute and variable
    # names, container membership, state keys), as plain strings: lets the runner
    # judge the fix against reads in other files, also for cached results
    # (:mod:`convbnlint.fixsafety`); empty when not computed.
    reach: tuple[str, ...] = field(default=(), compare=False)

    def fix_applies(self, unsafe_fixes: bool) -> bool:
        """Whether ``--fix`` applies this diagnostic's fix (with ``--unsafe-fixes`` or not)."""
        required = Applicability.UNSAFE if unsafe_fixes else Applicability.SAFE
        return self.fixable and self.applicability.applies(required)

    def sort_key(self) -> tuple[int, int, str]:
        return (self.span.line, self.span.column, self.code)


@dataclass
class FileResult:
    """Outcome of checking (and maybe fixing) one file."""

    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    error: str | None = None  # set when the file could not be read/parsed/fixed
    fixed: int = 0  # findings removed by --fix
    # The findings whose fix was applied (written by --fix, shown by --diff).
    applied: list[Diagnostic] = field(default_factory=list)
    new_source: str | None = None  # fixed text, when a fix was computed
    source: str | None = None  # original text, kept for code frames and diffs
