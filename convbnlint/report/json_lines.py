"""``--format json-lines``: the objects of ``--format json``, one per line (as
Ruff's ``json-lines``): findings and file errors, streamable and ``grep``-able."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import IO

from convbnlint.report import ReportOptions
from convbnlint.report.json import iter_rows
from convbnlint.types import FileResult


def report(results: Sequence[FileResult], out: IO[str], options: ReportOptions) -> None:
    for row in iter_rows(results, options):
        out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
        out.write("\n")
