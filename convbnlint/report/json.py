"""``--format json``: one array of finding objects (stable keys, sorted).

Notebook findings add ``"cell"`` (1-based index of the cell in the notebook);
their lines and columns are relative to that cell.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import IO

from convbnlint.report import ReportOptions, locate
from convbnlint.types import FileResult


def as_dicts(results: Sequence[FileResult]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for result in results:
        for d in result.diagnostics:
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
                "fixable": d.fixable,
            }
            if loc.cell is not None:
                row["cell"] = loc.cell
            rows.append(row)
    return rows


def report(results: Sequence[FileResult], out: IO[str], options: ReportOptions) -> None:
    json.dump(as_dicts(results), out, indent=2)
    out.write("\n")
