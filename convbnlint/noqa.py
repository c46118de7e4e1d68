"""``--add-noqa``: add ``# noqa: CODE`` to the line of every finding, verified and
written like a fix.

One edit per flagged line: the codes are appended to a ``# noqa: ...`` list the
line already has, or ``  # noqa: CODE`` is added at its end (after any comment,
before the line break).  Only a comment changes, so the edit is verified as a
fix is:

* each edit alone must leave CPython's syntax tree exactly as it was (a line
  that ends inside a string or with a backslash cannot take a comment: that
  finding is reported and left alone);
* all edits together must leave the tree unchanged too, and checking the new
  text must find none of the findings that were given a comment, and every
  other one still there;
* the file is written atomically, only if its bytes are still those checked,
  in its own encoding and line endings (:func:`convbnlint.sourcefile.write_atomic`).

Notebooks get the comment in the cell's source (only the changed cells'
sources change, as with ``--fix``).
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from convbnlint.report.edits import TextEdit, apply_all, key, line_starts
from convbnlint.types import Diagnostic, FileResult


class NoqaError(Exception):
    pass


def _tree(text: str) -> str | None:
    try:
        return ast.dump(ast.parse(text))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def line_edit(text: str, line0: int, codes: Sequence[str]) -> TextEdit | None:
    """The edit that makes line ``line0`` (0-based) suppress ``codes``; None when
    it already does."""
    from convbnlint.engine import _NOQA, noqa_codes
    from convbnlint.syntax.parse import source_lines

    line = source_lines(text)[line0]
    present = noqa_codes(line)
    if present is not None and (not present or all(c in present for c in codes)):
        return None
    wanted = [c for c in dict.fromkeys(codes) if present is None or c not in present]
    match = _NOQA.search(line)
    if match is not None and match.group("codes"):
        col, insert = match.end("codes"), ", " + ", ".join(wanted)
    else:
        col, insert = len(line.rstrip(" \t")), "  # noqa: " + ", ".join(wanted)
    offset = line_starts(text)[line0] + col
    return TextEdit(offset, offset, insert, line0, col, line0, col)


def plan(
    text: str, diagnostics: Sequence[Diagnostic]
) -> tuple[list[TextEdit], list[tuple[Diagnostic, str]]]:
    """Verified edits for ``diagnostics`` of ``text`` (spans in ``text``), and the
    findings that cannot take a comment, with the reason."""
    original = _tree(text)
    if original is None:
        raise NoqaError("CPython cannot parse this file; no comment can be verified")
    by_line: dict[int, list[Diagnostic]] = {}
    for d in diagnostics:
        by_line.setdefault(d.span.line - 1, []).append(d)
    edits: list[TextEdit] = []
    refused: list[tuple[Diagnostic, str]] = []
    for line0, found in sorted(by_line.items()):
        edit = line_edit(text, line0, [d.code for d in found])
        if edit is None:
            continue
        if _tree(edit.apply(text)) != original:
            reason = f"line {line0 + 1} cannot take a comment (it continues in a string or after a backslash)"
            refused.extend((d, reason) for d in found)
            continue
        edits.append(edit)
    if edits and _tree(apply_all(text, edits)) != original:  # pragma: no cover - defensive
        raise NoqaError("the comments together change the program; nothing written")
    return edits, refused


def _verify(
    before: Sequence[Diagnostic], after: Sequence[Diagnostic], suppressed: Sequence[Diagnostic]
) -> None:
    gone = {key(d) for d in suppressed}
    expected = sorted(key(d) for d in before if key(d) not in gone)
    if sorted(key(d) for d in after) != expected:
        raise NoqaError(
            "checking the new text does not give the expected findings; nothing written"
        )


def add_to_text(
    text: str, path: str, options: Any, only: Sequence[Diagnostic] | None = None
) -> tuple[str, int, list[tuple[Diagnostic, str]]]:
    """``(new_text, comments added, refused findings)`` for one Python text (for
    every finding, or those of ``only``, matched by code and span)."""
    from convbnlint import runner

    plain = dataclasses.replace(options, fix=False, diff=False)
    checked = runner.check_text(text, path, plain)
    if checked.error:
        raise NoqaError(checked.error)
    wanted = checked.diagnostics
    if only is not None:
        keys = {key(d) for d in only}
        wanted = [d for d in wanted if key(d) in keys]
    edits, refused = plan(text, wanted)
    if not edits:
        return text, 0, refused
    new = apply_all(text, edits)
    again = runner.check_text(new, path, plain)
    if again.error:
        raise NoqaError(f"the new text does not check: {again.error}")
    refused_ids = {id(d) for d, _ in refused}
    _verify(checked.diagnostics, again.diagnostics, [d for d in wanted if id(d) not in refused_ids])
    return new, len(edits), refused


def _add_to_python(
    path: Path, options: Any
) -> tuple[int, list[tuple[Diagnostic, str]], FileResult]:
    from convbnlint import sourcefile

    try:
        source = sourcefile.read(path)
    except sourcefile.SourceError as exc:
        raise NoqaError(str(exc)) from None
    new, added, refused = add_to_text(source.text, str(path), options)
    if added:
        try:
            sourcefile.write_atomic(path, source.encode(new), source.raw)
        except sourcefile.SourceError as exc:
            raise NoqaError(str(exc)) from None
    return added, refused, FileResult(path=str(path), source=source.text)


def _add_to_notebook(
    path: Path, options: Any
) -> tuple[int, list[tuple[Diagnostic, str]], FileResult]:
    from convbnlint import notebook, sourcefile

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise NoqaError(exc.strerror or str(exc)) from None
    plain = dataclasses.replace(options, fix=False, diff=False)
    result = notebook.check_bytes(raw, str(path), plain)
    if result.error:
        raise NoqaError(result.error)
    if not result.diagnostics:
        return 0, [], result
    parsed = notebook.parse(raw)
    edits, refused = plan(parsed.virtual, result.diagnostics)
    if not edits:
        return 0, refused, result
    try:
        new_raw, _ = notebook.edit_cells(parsed, edits)
    except notebook.NotebookError as exc:
        raise NoqaError(f"refusing to write an unverified change: {exc}") from None
    again = notebook.check_bytes(new_raw, str(path), plain)
    if again.error:
        raise NoqaError(f"the new notebook does not check: {again.error}")
    refused_ids = {id(d) for d, _ in refused}
    _verify(
        result.diagnostics,
        again.diagnostics,
        [d for d in result.diagnostics if id(d) not in refused_ids],
    )
    try:
        sourcefile.write_atomic(path, new_raw, raw)
    except sourcefile.SourceError as exc:
        raise NoqaError(str(exc)) from None
    return len(edits), refused, result


def add_to_files(
    files: Sequence[Path], options: Any, config: Any, missing: Sequence[FileResult], quiet: bool
) -> int:
    """``convbnlint --add-noqa``: exit 0 when every finding now has its comment,
    2 when a file (or a finding in it) could not be handled."""
    from convbnlint.report import locate

    errors = 0
    total = 0
    for r in missing:
        click.echo(f"convbnlint: error: {r.path}: {r.error}", err=True)
        errors += 1
    for path in files:
        extra = tuple(config.ignores_for(path))
        opts = dataclasses.replace(options, ignore=(*options.ignore, *extra)) if extra else options
        add = _add_to_notebook if path.suffix.lower() == ".ipynb" else _add_to_python
        try:
            added, refused, result = add(path, opts)
        except NoqaError as exc:
            click.echo(f"convbnlint: error: {path}: {exc}", err=True)
            errors += 1
            continue
        total += added
        for d, reason in refused:
            loc = locate(result, d)
            click.echo(f"convbnlint: error: {path}:{loc.prefix}: {d.code}: {reason}", err=True)
            errors += 1
    if not quiet:
        s = "" if total == 1 else "s"
        click.echo(f"Added {total} noqa directive{s}.", err=True)
    return 2 if errors else 0
