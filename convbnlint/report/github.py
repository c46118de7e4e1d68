"""``--format github``: GitHub Actions workflow commands.

Each finding becomes ``::warning file=…,line=…,col=…,endLine=…,endColumn=…,
title=CBL001::message`` with a ``help:`` line naming the fix and whether
``--fix`` applies it (an unsafe fix says why); the runner turns these into
annotations on the pull request's diff.  A file that could not be checked is an
``::error`` annotation on that file (and line, when known).  Values are escaped
as the runner expects (``%``, CR, LF in the message; also ``:`` and ``,`` in
properties).  Notebook findings are annotated on the file, with the cell and
line in the message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO

from convbnlint.report import (
    ReportOptions,
    file_error,
    fix_title,
    hidden,
    locate,
    unsafe_note,
)
from convbnlint.types import Applicability, Diagnostic, FileResult


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def _help(d: Diagnostic, options: ReportOptions) -> str | None:
    if not d.fixable:
        return None
    if d.fix_applies(options.unsafe_fixes):
        text = f"{fix_title(d)} (fixable with --fix)"
        if d.applicability == Applicability.UNSAFE:
            text += f"; {unsafe_note(d)}"
        return text
    if hidden(d, options.unsafe_fixes):
        return f"{fix_title(d)}; {unsafe_note(d)}; apply it with --fix --unsafe-fixes"
    return f"{fix_title(d)} (not applied automatically)"


def _command(kind: str, props: list[tuple[str, str]], message: str) -> str:
    head = ",".join(f"{k}={escape_property(v)}" for k, v in props)
    return f"::{kind} {head}::{escape_data(message)}\n"


def report(results: Sequence[FileResult], out: IO[str], options: ReportOptions) -> None:
    for result in results:
        error = file_error(result)
        if error is not None:
            props = [("file", error.path)]
            message = error.message
            if error.line is not None and error.cell is None:
                props += [("line", str(error.line)), ("col", str(error.column))]
            elif error.cell is not None:
                message = f"cell {error.cell}, line {error.line}, column {error.column}: {message}"
            props.append(("title", "convbnlint"))
            out.write(_command("error", props, f"{error.path}: {message}"))
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
            help_text = _help(d, options)
            if help_text:
                message += f"\n  help: {help_text}"
            out.write(_command("warning", props, message))
