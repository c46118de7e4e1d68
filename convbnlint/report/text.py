"""``--format text``: ``path:line:col: CODE message``; code frames on a terminal.

A frame shows the lines around a finding, marks its whole range (every line of a
call that spans several) and ends with a ``help`` line (the fix, and whether
``--fix`` applies it).  Colour and frames are separate: ``NO_COLOR`` only removes
the colour.  An unsafe fix gets a ``note`` line with its reason in every case.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO

from convbnlint.report import (
    MIGRATE_HINT,
    ReportOptions,
    counts,
    file_errors,
    fix_title,
    hidden,
    locate,
    plural,
    summary,
    unsafe_note,
)
from convbnlint.types import Applicability, Diagnostic, FileResult

TAB = 4
# A range longer than this many lines is shown by its first and last lines.
FRAME_MAX_LINES = 6


def _console(out: IO[str], color: bool):  # type: ignore[no-untyped-def]
    from rich.console import Console

    return Console(
        file=out,
        force_terminal=color,
        no_color=not color,
        highlight=False,
        soft_wrap=True,
        emoji=False,
        markup=False,
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
    emit = _Emitter(out, console)
    for result in results:
        for d in result.diagnostics:
            if options.quiet and options.fixing:
                continue
            loc = locate(result, d)
            applies = d.fix_applies(options.unsafe_fixes)
            mark = "[*] " if concise and applies and not options.fixing else ""
            tail = ""
            if concise and d.fixable and d.applicability == Applicability.UNSAFE:
                tail = " (unsafe fix)"
            elif concise and d.fixable and d.applicability == Applicability.DISPLAY_ONLY:
                tail = " (display-only fix)"
            emit.finding(f"{result.path}:{loc.prefix}:", d.code, mark, d.message + tail)
            if frames and result.source is not None:
                _frame(emit, result.source, d, d.span.line - loc.line, _bounds(result, d))
                emit.help(_help(d, options))
            if not concise and d.fixable and d.applicability == Applicability.UNSAFE:
                emit.note(_unsafe_line(d, options))
            elif not concise and d.fixable and d.applicability == Applicability.DISPLAY_ONLY:
                emit.note("the fix is only shown: --fix never applies it")
            if frames and result.source is not None:
                emit.blank()
    if options.errors_inline:
        for error in file_errors(results):
            emit.error(f"{error.prefix}:", error.message)
    if options.quiet:
        return
    if options.show_fixes and (options.fixing or options.diff):
        _fix_summary(emit, results, options)
    if options.fixing:
        _removed_state(emit, results)
    emit.summary(summary(results, options), counts(results, options).errors == 0)


def _help(d: Diagnostic, options: ReportOptions) -> str:
    if not d.fixable:
        return "no automatic fix (see the message)"
    if d.fix_applies(options.unsafe_fixes):
        return f"{fix_title(d)} (fixable with --fix)"
    if hidden(d, options.unsafe_fixes):
        return f"{fix_title(d)} (an unsafe fix: apply it with --fix --unsafe-fixes)"
    return f"{fix_title(d)} (shown only; never applied automatically)"


def _unsafe_line(d: Diagnostic, options: ReportOptions) -> str:
    text = unsafe_note(d)
    if not options.unsafe_fixes:
        text += "; --fix applies it only with --unsafe-fixes"
    return text


def fix_table(results: Sequence[FileResult], *, fixing: bool) -> list[str]:
    """Ruff's ``--show-fixes``: ``Fixed N issues:``, then per file ``n × CODE (name)``."""
    table: dict[str, dict[tuple[str, str], int]] = {}
    for r in results:
        for d in r.applied:
            row = table.setdefault(r.path, {})
            row[(d.code, d.name)] = row.get((d.code, d.name), 0) + 1
    total = sum(sum(t.values()) for t in table.values())
    if not total:
        return []
    width = len(str(max(n for t in table.values() for n in t.values())))
    verb = "Fixed" if fixing else "Would fix"
    lines = [f"{verb} {plural(total, 'issue')}:"]
    for path in sorted(table):
        lines.append(f"- {path}:")
        for (code, name), n in sorted(table[path].items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"    {n:>{width}} × {code} ({name})")
    return lines


def _fix_summary(emit: _Emitter, results: Sequence[FileResult], options: ReportOptions) -> None:
    lines = fix_table(results, fixing=options.fixing)
    if not lines:
        return
    emit.blank()
    emit.plain(lines[0], style="bold green")
    for line in lines[1:]:
        emit.plain(line)
    emit.blank()


def _removed_state(emit: _Emitter, results: Sequence[FileResult]) -> None:
    """After ``--fix``: the ``state_dict`` entries the written fixes removed."""
    rows = []
    any_applied = False
    for r in results:
        for d in r.applied:
            any_applied = True
            if d.state_keys:
                loc = locate(r, d)
                rows.append(f"  {r.path}:{loc.prefix}: {', '.join(d.state_keys)}")
    if not any_applied:
        return
    if rows:
        emit.plain(f"Removed from the models' state_dict ({MIGRATE_HINT}):")
        for row in rows:
            emit.plain(row)
    else:
        emit.plain(
            "Note: the fixed layers have no bias in their state_dict any more; checkpoints"
            " saved before the fix still hold them: convert them with `convbnlint migrate`."
        )


class _Emitter:
    """Lines to ``out``: through rich when colouring or framing, else plain."""

    def __init__(self, out: IO[str], console) -> None:  # type: ignore[no-untyped-def]
        self.out = out
        self.console = console

    def _text(self):  # type: ignore[no-untyped-def]
        from rich.text import Text

        return Text()

    def finding(self, where: str, code: str, mark: str, message: str) -> None:
        if self.console is None:
            self.out.write(f"{where} {code} {mark}{message}\n")
            return
        line = self._text()
        line.append(where, style="bold")
        line.append(f" {code} ", style="bold red")
        if mark:
            line.append(mark, style="cyan")
        line.append(message)
        self.console.print(line)

    def error(self, where: str, message: str) -> None:
        if self.console is None:
            self.out.write(f"{where} error: {message}\n")
            return
        line = self._text()
        line.append(where, style="bold")
        line.append(" error: ", style="bold red")
        line.append(message)
        self.console.print(line)

    def help(self, text: str) -> None:
        self._labelled("help", text, "bold cyan")

    def note(self, text: str) -> None:
        self._labelled("note", text, "bold yellow")

    def _labelled(self, label: str, text: str, style: str) -> None:
        if self.console is None:
            self.out.write(f"  = {label}: {text}\n")
            return
        line = self._text()
        line.append("  = ", style="blue")
        line.append(f"{label}: ", style=style)
        line.append(text)
        self.console.print(line)

    def plain(self, text: str, style: str = "") -> None:
        if self.console is None:
            self.out.write(text + "\n")
            return
        line = self._text()
        line.append(text, style=style)
        self.console.print(line)

    def blank(self) -> None:
        self.plain("")

    def summary(self, text: str, clean: bool) -> None:
        style = "bold green" if clean and text == "All checks passed!" else "bold"
        self.plain(text, style)

    def frame_line(self, gutter: str, code: str = "", marks: str = "") -> None:
        if self.console is None:
            self.out.write(f"{gutter}{code}\n" if not marks else f"{gutter}{marks}\n")
            return
        line = self._text()
        line.append(gutter, style="blue")
        if marks:
            line.append(marks, style="bold red")
        else:
            line.append(code)
        self.console.print(line)


def _display(text: str) -> tuple[str, list[int]]:
    """``text`` with tabs expanded, and the display column where each character
    starts (wide characters take two cells, as a terminal shows them)."""
    from rich.cells import cell_len

    shown: list[str] = []
    starts: list[int] = []
    col = 0
    for ch in text:
        starts.append(col)
        if ch == "\t":
            width = TAB - col % TAB
            shown.append(" " * width)
        else:
            width = cell_len(ch)
            shown.append(ch)
        col += width
    starts.append(col)
    return "".join(shown), starts


def _bounds(result: FileResult, d: Diagnostic) -> tuple[int, int] | None:
    """A notebook finding's frame stays inside its cell: its first and last line."""
    cell_at = getattr(result, "cell_at", None)
    cell = cell_at(d.span.line) if cell_at is not None else None
    if cell is None:
        return None
    return cell.first_line, cell.first_line + cell.n_lines - 1


def _frame(
    emit: _Emitter,
    source: str,
    d: Diagnostic,
    shift: int = 0,
    bounds: tuple[int, int] | None = None,
) -> None:
    """The lines around ``d`` with its whole range marked (``^`` under each of its
    lines), numbered as the user sees them (``shift``: notebook cell offset;
    ``bounds``: the lines the frame may show, a notebook cell's)."""
    from convbnlint.syntax.parse import source_lines

    lines = source_lines(source)
    top, bottom = bounds if bounds is not None else (1, len(lines))
    bottom = min(bottom, len(lines))
    s = d.span
    first, last = s.line, min(s.end_line, bottom)
    lo, hi = max(top, first - 1), min(bottom, last + 1)
    width = len(str(hi - shift))
    pad = " " * (width + 1)
    emit.frame_line(f"{pad}|")
    shown = list(range(lo, hi + 1))
    if last - first + 1 > FRAME_MAX_LINES:
        keep_head = set(range(first, first + 3))
        keep_tail = set(range(last - 1, last + 1))
        shown = [n for n in shown if n < first or n > last or n in keep_head or n in keep_tail]
    previous = None
    for n in shown:
        if previous is not None and n != previous + 1:
            emit.frame_line(f"{'.' * width} |", " ...")
        previous = n
        text = lines[n - 1]
        display, starts = _display(text)
        emit.frame_line(f"{n - shift:>{width}} | ", display)
        if first <= n <= last:
            a = s.column - 1 if n == first else len(text) - len(text.lstrip())
            b = s.end_column - 1 if n == last else len(text.rstrip())
            a = min(max(a, 0), len(text))
            b = min(max(b, a), len(text))
            left, right = starts[a], starts[b]
            marks = " " * left + "^" * max(1, right - left)
            emit.frame_line(f"{pad}| ", marks=marks)
    emit.frame_line(f"{pad}|")
