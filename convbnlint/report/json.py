"""``--format json``: one array of objects (stable keys), findings and file errors.

A finding: ``path``, ``line``, ``column``, ``end_line``, ``end_column``, ``code``,
``name``, ``message``, ``severity`` (``"warning"``), ``fixable``, ``fixed`` and
``fix`` -- null, or (like Ruff's JSON) ``{"applicability": "safe" | "unsafe" |
"display-only", "message", "applies", "unsafe_reason", "state_keys"}``; ``applies``
says whether this run's ``--fix`` applies it (unsafe fixes need
``--unsafe-fixes``).  After ``--fix`` the fixed findings are listed too, with
``"fixed": true`` and the ``state_dict`` entries the fix removed.

A file error (a file that could not be read, parsed or safely fixed, or a
missing path): ``"severity": "error"``, ``"code": null``, ``"name": "file-error"``,
the reason as ``message``, and its line and column when known (else null).

Notebook rows add ``"cell"`` (1-based index of the cell in the notebook); their
lines and columns are relative to that cell.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import IO

from convbnlint.report import (
    MIGRATE_HINT,
    MIGRATE_NOTE,
    ReportOptions,
    applicability,
    file_error,
    fix_title,
    locate,
)
from convbnlint.types import Diagnostic, FileResult


def _fix(d: Diagnostic, unsafe_fixes: bool, fixed: bool) -> dict[str, object] | None:
    kind = applicability(d)
    if kind is None:
        return None
    out: dict[str, object] = {
        "applicability": kind,
        "message": fix_title(d),
        "applies": fixed or d.fix_applies(unsafe_fixes),
        "unsafe_reason": d.unsafe_reason if kind == "unsafe" else None,
        "state_keys": list(d.state_keys),
    }
    if fixed:
        out["note"] = MIGRATE_HINT if d.state_keys else MIGRATE_NOTE
    return out


def _row(result: FileResult, d: Diagnostic, unsafe_fixes: bool, fixed: bool) -> dict[str, object]:
    loc = locate(result, d)
    row: dict[str, object] = {
        "path": result.path,
        "line": loc.line,
        "column": loc.column,
        "end_line": loc.end_line,
        "end_column": loc.end_column,
        "code": d.code,
        "name": d.name,
        "message": d.message,
        "severity": "warning",
        "fixable": d.fixable,
        "fixed": fixed,
        "fix": _fix(d, unsafe_fixes, fixed),
    }
    if loc.cell is not None:
        row["cell"] = loc.cell
    return row


def _error_row(result: FileResult) -> dict[str, object] | None:
    error = file_error(result)
    if error is None:
        return None
    row: dict[str, object] = {
        "path": error.path,
        "line": error.line,
        "column": error.column,
        "end_line": None,
        "end_column": None,
        "code": None,
        "name": "file-error",
        "message": error.message,
        "severity": "error",
        "fixable": False,
        "fixed": False,
        "fix": None,
    }
    if error.cell is not None:
        row["cell"] = error.cell
    return row


def iter_rows(
    results: Sequence[FileResult], options: ReportOptions | None = None
) -> Iterator[dict[str, object]]:
    unsafe_fixes = options.unsafe_fixes if options is not None else False
    for result in results:
        error = _error_row(result)
        if error is not None:
            yield error
        items = [(d, False) for d in result.diagnostics] + [(d, True) for d in result.applied]
        items.sort(key=lambda item: item[0].sort_key())
        for d, fixed in items:
            yield _row(result, d, unsafe_fixes, fixed)


def as_dicts(
    results: Sequence[FileResult], options: ReportOptions | None = None
) -> list[dict[str, object]]:
    return list(iter_rows(results, options))


def report(results: Sequence[FileResult], out: IO[str], options: ReportOptions) -> None:
    json.dump(as_dicts(results, options), out, indent=2, ensure_ascii=False)
    out.write("\n")
