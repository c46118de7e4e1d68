"""``--format concise``: one line per finding (``[*]`` marks a fixable one), never
a code frame, then the summary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO

from convbnlint.report import ReportOptions
from convbnlint.report import text as _text
from convbnlint.types import FileResult


def report(results: Sequence[FileResult], out: IO[str], options: ReportOptions) -> None:
    _text.report(results, out, options, concise=True)
