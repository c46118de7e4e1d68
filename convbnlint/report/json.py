"""``--format json``: one array of finding objects (stable keys, sorted)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import IO

from convbnlint.report import ReportOptions
from convbnlint.types import FileResult


def as_dicts(results: Sequence[FileResult]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for result in results:
        for d in result.diagnostics:
            rows.append(
                {
                    "path": result.path,
                    "line": d.span.line,
                    "column": d.span.column,
                    "end_line": d.span.end_line,
                    "end_column": d.span.end_column,
                    "code": d.code,
                    "name": d.name,
                    "message": d.message,
                    "fixable": d.fixable,
                }
            )
    return rows


def report(results: Sequence[FileResult], out: IO[str], options: ReportOptions) -> None:
    json.dump(as_dicts(results), out, indent=2)
    out.write("\n")
