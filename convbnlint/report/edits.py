"""Fixes as text edits: what SARIF ``fixes``, editor code actions and notebook
cells need (a region to replace and its new text) instead of a whole new file.

Each edit comes from the real fixer (:func:`convbnlint.fix.apply_fixes`, which
verifies its output), reduced to the smallest changed region.  Lines are split
the way editors and SARIF viewers split them: at CRLF, CR or LF only.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from convbnlint.types import Diagnostic

_NEWLINE = re.compile(r"\r\n|\r|\n")


def line_starts(text: str) -> list[int]:
    """Offsets at which each line begins (line 0 starts at 0)."""
    return [0, *(m.end() for m in _NEWLINE.finditer(text))]


def position(starts: Sequence[int], offset: int) -> tuple[int, int]:
    """0-based (line, column in code points) of a character offset."""
    line = bisect.bisect_right(starts, offset) - 1
    return line, offset - starts[line]


def offset(starts: Sequence[int], line: int, column: int) -> int:
    """Character offset of a 0-based (line, column)."""
    return starts[line] + column


@dataclass(frozen=True)
class TextEdit:
    """Replace ``text[start:end]`` with ``new_text`` (0-based positions, end exclusive)."""

    start: int
    end: int
    new_text: str
    start_line: int
    start_column: int
    end_line: int
    end_column: int

    def apply(self, text: str) -> str:
        return text[: self.start] + self.new_text + text[self.end :]


def minimal_edit(old: str, new: str) -> TextEdit | None:
    """The single smallest edit turning ``old`` into ``new`` (None if equal).

    The edit never starts or ends between the CR and LF of a CRLF pair.
    """
    if old == new:
        return None
    limit = min(len(old), len(new))
    lo = 0
    while lo < limit and old[lo] == new[lo]:
        lo += 1
    hi = 0
    while hi < limit - lo and old[len(old) - 1 - hi] == new[len(new) - 1 - hi]:
        hi += 1
    start, old_end, new_end = lo, len(old) - hi, len(new) - hi
    if 0 < start and old[start - 1] == "\r" and old[start : start + 1] == "\n":
        start -= 1
    if 0 < old_end < len(old) and old[old_end - 1] == "\r" and old[old_end] == "\n":
        old_end += 1
        new_end += 1
    starts = line_starts(old)
    sl, sc = position(starts, start)
    el, ec = position(starts, old_end)
    return TextEdit(start, old_end, new[start:new_end], sl, sc, el, ec)


def apply_all(text: str, edits: Sequence[TextEdit]) -> str:
    """Apply non-overlapping edits (any order given)."""
    out = text
    last = len(text) + 1
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        if edit.end > last:
            raise ValueError("overlapping edits")
        out = edit.apply(out)
        last = edit.start
    return out


def _key(d: Diagnostic) -> tuple[str, int, int, int, int]:
    s = d.span
    return (d.code, s.line, s.column, s.end_line, s.end_column)


def fix_edits(
    source: str,
    wanted: Sequence[Diagnostic] | None = None,
    *,
    select: Collection[str] | None = None,
    ignore: Collection[str] = (),
) -> dict[tuple[str, int, int, int, int], TextEdit]:
    """One verified edit per fixable diagnostic of ``source``.

    ``wanted`` limits the work to those findings (matched by code and span);
    findings whose fix cannot be verified get no edit.  Keys are
    ``(code, line, column, end_line, end_column)`` of the diagnostic.
    """
    from convbnlint.engine import ParseError, check
    from convbnlint.fix import UnsafeFixError, apply_fixes

    try:
        checked = check(source, select=select, ignore=ignore)
    except (ParseError, RecursionError):
        return {}
    keys = None if wanted is None else {_key(d) for d in wanted}
    out: dict[tuple[str, int, int, int, int], TextEdit] = {}
    for d in checked.diagnostics:
        if not d.fixable or (keys is not None and _key(d) not in keys):
            continue
        try:
            new = apply_fixes(source, checked, [d], select=select, ignore=ignore)
        except (UnsafeFixError, RecursionError):
            continue
        edit = minimal_edit(source, new)
        if edit is not None:
            out[_key(d)] = edit
    return out


def key(d: Diagnostic) -> tuple[str, int, int, int, int]:
    return _key(d)
