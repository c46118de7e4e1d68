"""Reporters: format results; never decide exit codes or touch files.

Every reporter has the signature ``report(results, out, options)``.  Findings in
notebooks carry a cell number: use :func:`locate` rather than ``d.span`` to get
positions a user can find (``path:cell N:line:col``).

A result whose ``error`` is set is a *file error* (a file that could not be
read, parsed or safely fixed, or a path that does not exist): every format
carries it in its own idiom (:func:`file_error` gives its place when the
message names one).  Fix applicability follows Ruff's model: a fix *applies* in
this run when ``d.fix_applies(options.unsafe_fixes)``; a fix that does not is
*hidden* (an unsafe one, enabled by ``--unsafe-fixes``).
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO

from convbnlint.types import Applicability, Diagnostic, FileResult

Reporter = Callable[[Sequence[FileResult], IO[str], "ReportOptions"], None]

FORMATS = ("text", "concise", "json", "json-lines", "github", "gitlab", "sarif", "junit")
# Ruff's name for the default format.
ALIASES = {"full": "text"}

# Where the documentation site is published, if it is: the rule pages are at
# ``{docs_url}rules/CODE/``.  No address is shipped (the site is built from
# ``docs/`` with mkdocs and can be hosted anywhere); set ``CONVBNLINT_DOCS_URL``
# to add links to SARIF and the language server.  Without it they carry the
# rule's text instead of a link.
DOCS_URL_ENV = "CONVBNLINT_DOCS_URL"


def docs_url() -> str | None:
    url = os.environ.get(DOCS_URL_ENV, "").strip()
    if not url:
        return None
    return url if url.endswith("/") else url + "/"


def rule_url(code: str) -> str | None:
    base = docs_url()
    return None if base is None else f"{base}rules/{code}/"


class ReportOptions:
    def __init__(
        self,
        *,
        color: bool,
        frames: bool,
        quiet: bool,
        fixing: bool,
        statistics: bool = False,
        unsafe_fixes: bool = False,
        show_fixes: bool = False,
        errors_inline: bool = True,
        diff: bool = False,
    ) -> None:
        self.color = color
        self.frames = frames
        self.quiet = quiet
        self.fixing = fixing  # --fix: fixes were applied (or refused)
        self.statistics = statistics
        self.unsafe_fixes = unsafe_fixes
        self.show_fixes = show_fixes
        # Text formats: list file errors in the report too (they always go to
        # stderr; a report written to a file must carry them itself).
        self.errors_inline = errors_inline
        self.diff = diff


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


# -- file errors -------------------------------------------------------------------

# The engine words a syntax error "syntax error at LINE:COL: reason" (a notebook's
# "syntax error at cell N:LINE:COL: reason").
_AT = re.compile(
    r"^(?P<head>.*?) at (?:cell (?P<cell>\d+):)?(?P<line>\d+):(?P<col>\d+): (?P<rest>.*)$",
    re.DOTALL,
)


class FileError:
    """A file that could not be checked (or fixed), and where, when that is known.

    (A plain class, not a dataclass: every run imports this module, and creating a
    dataclass costs start-up time.)"""

    __slots__ = ("cell", "column", "line", "message", "path")

    def __init__(
        self,
        path: str,
        message: str,  # the reason, without the place
        line: int | None = None,
        column: int | None = None,
        cell: int | None = None,
    ) -> None:
        self.path = path
        self.message = message
        self.line = line
        self.column = column
        self.cell = cell

    def __repr__(self) -> str:
        return (
            f"FileError({self.path!r}, {self.message!r}, {self.line}, {self.column}, {self.cell})"
        )

    @property
    def prefix(self) -> str:
        """``path``, ``path:line:col`` or ``path:cell N:line:col``."""
        if self.line is None:
            return self.path
        head = f"cell {self.cell}:" if self.cell is not None else ""
        return f"{self.path}:{head}{self.line}:{self.column}"


def file_error(result: FileResult) -> FileError | None:
    if not result.error:
        return None
    match = _AT.match(result.error)
    if match is None:
        return FileError(result.path, result.error)
    cell = match.group("cell")
    return FileError(
        result.path,
        f"{match.group('head')}: {match.group('rest')}",
        int(match.group("line")),
        int(match.group("col")),
        int(cell) if cell else None,
    )


def file_errors(results: Sequence[FileResult]) -> list[FileError]:
    return [e for e in map(file_error, results) if e is not None]


# -- fixes -------------------------------------------------------------------------

APPLICABILITY_NAMES = {
    Applicability.SAFE: "safe",
    Applicability.UNSAFE: "unsafe",
    Applicability.DISPLAY_ONLY: "display-only",
}


def applicability(d: Diagnostic) -> str | None:
    """``"safe"``, ``"unsafe"`` or ``"display-only"`` (Ruff's names); None without a fix."""
    if not d.fixable:
        return None
    return APPLICABILITY_NAMES[Applicability(d.applicability)]


def fix_title(d: Diagnostic) -> str:
    return f"Pass bias={d.fix_value or 'False'}"


def hidden(d: Diagnostic, unsafe_fixes: bool) -> bool:
    """A fix ``--unsafe-fixes`` would enable."""
    return d.fixable and not d.fix_applies(unsafe_fixes) and d.applicability == Applicability.UNSAFE


def unsafe_note(d: Diagnostic) -> str:
    """Why a fix is unsafe, as one sentence part."""
    reason = d.unsafe_reason or "it may change what the program does"
    return f"unsafe fix: {reason}"


MIGRATE_HINT = (
    "checkpoints saved before the fix still hold these entries; "
    "convert them with `convbnlint migrate`"
)
MIGRATE_NOTE = (
    "the fixed layer has no bias in its state_dict any more; checkpoints saved before "
    "the fix still hold one: convert them with `convbnlint migrate`"
)


class Counts:
    __slots__ = ("applicable", "errors", "fixed", "found", "hidden", "remaining")

    def __init__(
        self, found: int, remaining: int, fixed: int, applicable: int, hidden: int, errors: int
    ) -> None:
        self.found = found  # findings reported (remaining), plus fixed ones
        self.remaining = remaining
        self.fixed = fixed
        self.applicable = applicable  # remaining findings whose fix --fix would apply
        self.hidden = hidden  # remaining findings with an unsafe fix, not enabled
        self.errors = errors


def counts(results: Sequence[FileResult], options: ReportOptions) -> Counts:
    remaining = fixed = applicable = hide = errors = 0
    for r in results:
        remaining += len(r.diagnostics)
        fixed += r.fixed
        if r.error:
            errors += 1
            if options.fixing:
                continue  # its fixes were refused (or not written): nothing to offer
        for d in r.diagnostics:
            if d.fix_applies(options.unsafe_fixes):
                applicable += 1
            elif hidden(d, options.unsafe_fixes):
                hide += 1
    return Counts(remaining + fixed, remaining, fixed, applicable, hide, errors)


def plural(n: int, word: str, suffix: str = "s") -> str:
    return f"{n} {word}{'' if n == 1 else suffix}"


def _hidden_fixes(n: int) -> str:
    return f"{plural(n, 'hidden fix', 'es')} can be enabled with the `--unsafe-fixes` option"


def summary(results: Sequence[FileResult], options: ReportOptions | None = None) -> str:
    """The last line of the text formats.

    ``All checks passed!`` only when nothing was found, nothing fixed and no file
    error; otherwise ``Found 3 issues (2 fixable with --fix; 1 hidden fix can be
    enabled with the `--unsafe-fixes` option) and 1 error.``
    """
    options = options or ReportOptions(color=False, frames=False, quiet=False, fixing=False)
    c = counts(results, options)
    if c.found == 0 and c.errors == 0:
        return "All checks passed!"
    parts: list[str] = []
    if c.fixed:
        parts.append(f"{c.fixed} fixed, {c.remaining} remaining")
    elif c.applicable and not options.fixing:
        parts.append(f"{c.applicable} fixable with --fix")
    elif c.hidden and not options.fixing:
        parts.append("no fixes available")
    if c.hidden:
        parts.append(_hidden_fixes(c.hidden))
    inner = f" ({'; '.join(parts)})" if parts else ""
    tail = f" and {plural(c.errors, 'error')}" if c.errors else ""
    return f"Found {plural(c.found, 'issue')}{inner}{tail}."


def get(name: str) -> Reporter:
    name = ALIASES.get(name, name)
    if name not in FORMATS:
        raise ValueError(f"unknown format: {name}")
    module = importlib.import_module(f"convbnlint.report.{name.replace('-', '_')}")
    return module.report  # type: ignore[no-any-return]
