"""``--format text``: ``path:line:col: CODE message``, code frames on a terminal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO

from convbnlint.report import ReportOptions
from convbnlint.types import FileResult


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def report(results: Sequence[FileResult], out: IO[str], options: ReportOptions) -> None:
    console = None
    if options.frames or options.color:
        from rich.console import Console

        console = Console(
            file=out,
            force_terminal=options.color,
            no_color=not options.color,
            highlight=False,
            soft_wrap=True,
        )
    found = fixable = fixed = 0
    for result in results:
        fixed += result.fixed
        for d in result.diagnostics:
            found += 1
            fixable += d.fixable
            if options.quiet and options.fixing:
                continue
            head = f"{result.path}:{d.span.line}:{d.span.column}: {d.code} {d.message}"
            if console is None:
                out.write(head + "\n")
                continue
            from rich.text import Text

            line = Text()
            line.append(f"{result.path}:{d.span.line}:{d.span.column}:", style="bold")
            line.append(f" {d.code} ", style="bold red")
            line.append(d.message)
            console.print(line)
            if options.frames and result.source is not None:
                _frame(console, result.source, d.span.line, d.span.column)
    if options.quiet:
        return
    if found == 0 and fixed == 0:
        out.write("All checks passed!\n")
        return
    total = found + fixed
    parts = []
    if fixed:
        parts.append(f"{fixed} fixed")
        parts.append(f"{found} remaining")
    elif fixable:
        parts.append(f"{fixable} fixable with --fix")
    suffix = f" ({', '.join(parts)})" if parts else ""
    out.write(f"Found {_plural(total, 'issue')}{suffix}.\n")


def _frame(console, source: str, line: int, column: int) -> None:  # type: ignore[no-untyped-def]
    from rich.text import Text

    lines = source.splitlines()
    lo, hi = max(1, line - 1), min(len(lines), line + 1)
    width = len(str(hi))
    for n in range(lo, hi + 1):
        text = Text(f"  {n:>{width}} | ", style="dim")
        text.append(lines[n - 1].expandtabs(4) if n != line else lines[n - 1])
        console.print(text)
        if n == line:
            console.print(Text(" " * (width + 5 + column - 1) + "^", style="bold red"))
    console.print()
