"""Reporters: format results; never decide exit codes or touch files."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import IO

from convbnlint.types import FileResult

Reporter = Callable[[Sequence[FileResult], IO[str], "ReportOptions"], None]


class ReportOptions:
    def __init__(self, *, color: bool, frames: bool, quiet: bool, fixing: bool) -> None:
        self.color = color
        self.frames = frames
        self.quiet = quiet
        self.fixing = fixing


def get(name: str) -> Reporter:
    if name == "json":
        from convbnlint.report.json import report
    else:
        from convbnlint.report.text import report
    return report


FORMATS = ("text", "json")
