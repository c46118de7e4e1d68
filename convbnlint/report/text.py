"""``--format text``: ``path:line:col: CODE message``, code frames on a terminal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO

from convbnlint.report import ReportOptions, locate
from convbnlint.types import FileResult


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(results: Sequence[FileResult]) -> str:
    """``Found 3 issues (3 fixable with --fix).`` or ``All checks passed!``."""
    found = sum(len(r.diagnostics) for r in results)
    fixable = sum(d.fixable for r in results for d in r.diagnostics)
    fixed = sum(r.fixed for r in results)
    if found == 0 and fixed == 0:
        return "All checks passed!"
    total = found + fixed
    parts = []
    if fixed:
        parts.append(f"{fixed} fixed")
        parts.append(f"{found} remaining")
    elif fixable:
        parts.append(f"{fixable} fixable with --fix")
    suffix = f" ({', '.join(parts)})" if parts else ""
    return f"Found {_plural(total, 'issue')}{suffix}."


def _console(out: IO[str], color: bool):  # type: ignore[no-untyped-def]
    from rich.console import Console

    return Console(
        file=out,
        force_terminal=color,
        no_color=not color,
        highlight=False,
        soft_wrap=True,
    )


def report(
    results: Sequence[FileResult],
    out: IO[str],
    options: ReportOptions,
    *,
    concise: bool = False,
) -> None:
    frames = options.frames and not concise
    console = _console(out, options.color) if (frames or options.color) else None
    for result in results:
        for d in result.diagnostics:
            if options.quiet and options.fixing:
                continue
            loc = locate(result, d)
            mark = "[*] " if concise and d.fixable else ""
            if console is None:
                out.write(f"{result.path}:{loc.prefix}: {d.code} {mark}{d.message}\n")
                continue
            from rich.text import Text

            line = Text()
            line.append(f"{result.path}:{loc.prefix}:", style="bold")
            line.append(f" {d.code} ", style="bold red")
            if mark:
                line.append(mark, style="cyan")
            line.append(d.message)
            console.print(line)
            if frames and result.source is not None:
                _frame(console, result.source, d.span.line, d.span.column, d.span.line - loc.line)
    if not options.quiet:
        out.write(summary(results) + "\n")


def _frame(console, source: str, line: int, column: int, shift: int = 0) -> None:  # type: ignore[no-untyped-def]
    from rich.text import Text

    lines = source.splitlines()
    lo, hi = max(1, line - 1), min(len(lines), line + 1)
    width = len(str(hi - shift))
    for n in range(lo, hi + 1):
        text = Text(f"  {n - shift:>{width}} | ", style="dim")
        text.append(lines[n - 1].expandtabs(4) if n != line else lines[n - 1])
        console.print(text)
        if n == line:
            console.print(Text(" " * (width + 5 + column - 1) + "^", style="bold red"))
    console.print()
