"""``--format github``: GitHub Actions workflow commands.

Each finding becomes ``::warning file=…,line=…,col=…,endLine=…,endColumn=…,
title=CBL001::message``; the runner turns these into annotations on the pull
request's diff.  Values are escaped as the runner expects (``%``, CR, LF in the
message; also ``:`` and ``,`` in properties).  Notebook findings are annotated
on the file, with the cell and line in the message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO

from convbnlint.report import ReportOptions, locate
from convbnlint.types import FileResult


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def report(results: Sequence[FileResult], out: IO[str], options: ReportOptions) -> None:
    for result in results:
        for d in result.diagnostics:
            loc = locate(result, d)
            props = [("file", result.path)]
            message = d.message
            if loc.cell is None:
                props += [
                    ("line", str(loc.line)),
                    ("col", str(loc.column)),
                    ("endLine", str(loc.end_line)),
                    ("endColumn", str(loc.end_column)),
                ]
            else:
                message = f"cell {loc.cell}, line {loc.line}, column {loc.column}: {message}"
            props.append(("title", d.code))
            head = ",".join(f"{k}={escape_property(v)}" for k, v in props)
            out.write(f"::warning {head}::{escape_data(message)}\n")
