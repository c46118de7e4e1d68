"""Jupyter notebooks (``.ipynb``): lint the code cells, fix them in place.

* The code cells are joined, in notebook order, into one virtual module (a
  notebook is one namespace: a layer defined in one cell and used in another
  must be seen as one program, or a use in a later cell would be missed and the
  rule would report a bias that is not dead).
* IPython syntax is not Python: lines with magics (``%time``, ``%%bash``),
  shell escapes (``!pip``, ``files = !ls``) and help (``obj?``) are replaced by a
  placeholder call that mentions every name on the line, so a value used only
  there still counts as used (unknown => silent).  Cells whose first line is a
  cell magic are replaced whole, except magics whose body is Python
  (``%%time``, ``%%timeit``, ``%%capture``, ``%%prun``).  Each line keeps its
  place, so positions map back exactly.  Non-Python notebooks are skipped.
* Findings are reported as ``path:cell N:line:col`` (N counts every cell of the
  notebook, from 1, as editors number them; line and column are in the cell).
* ``--fix`` edits only the ``source`` of the changed cells in the raw JSON text:
  outputs, metadata, key order, indentation and escaping stay byte for byte.
  The new file is decoded again and compared with the old one (only those
  sources may differ) before it is written atomically.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import keyword
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from convbnlint.report import Location
from convbnlint.report.edits import TextEdit, apply_all, fix_edits, key, line_starts
from convbnlint.types import FileResult, Span

PLACEHOLDER = "__convbnlint_magic__"
PYTHON_BODY_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun"})
_NEWLINE = re.compile(r"\r\n|\r|\n")
_NAME_CHAIN = re.compile(r"[^\W\d]\w*(?:\s*\.\s*[^\W\d]\w*)*")
_ASSIGN_MAGIC = re.compile(r"=\s*[%!]")


def is_notebook(path: Path) -> bool:
    return path.suffix.lower() == ".ipynb"


# -- IPython syntax -> placeholder lines ------------------------------------------


def _split_lines(text: str) -> list[str]:
    """Lines with their endings (CRLF, CR, LF), like the Python tokenizer."""
    out: list[str] = []
    pos = 0
    for m in _NEWLINE.finditer(text):
        out.append(text[pos : m.end()])
        pos = m.end()
    if pos < len(text):
        out.append(text[pos:])
    return out


def _names(text: str) -> list[str]:
    """Names and dotted chains in ``text`` that are valid Python expressions."""
    seen: dict[str, None] = {}
    for m in _NAME_CHAIN.finditer(text):
        parts = [p.strip() for p in m.group().split(".")]
        good: list[str] = []
        for part in parts:
            if not part.isidentifier() or keyword.iskeyword(part):
                break
            good.append(part)
        if good:
            seen.setdefault(".".join(good), None)
    return list(seen)


def _placeholder(indent: str, body: str, eol: str) -> str:
    return f"{indent}{PLACEHOLDER}({', '.join(_names(body))}){eol}"


def _scan(body: str, quote: str | None, depth: int) -> tuple[str, str | None, int, bool]:
    """Lex one physical line: (code outside strings/comments, open quote, bracket
    depth, ends with a backslash continuation)."""
    code: list[str] = []
    i, n = 0, len(body)
    while i < n:
        ch = body[i]
        if quote is not None:
            if ch == "\\":
                i += 2
                continue
            if body.startswith(quote, i):
                i += len(quote)
                quote = None
                continue
            i += 1
            continue
        if ch == "#":
            return "".join(code), None, depth, False
        if ch in "\"'":
            quote = body[i : i + 3] if body[i : i + 3] in ('"""', "'''") else ch
            i += len(quote)
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        code.append(ch)
        i += 1
    cont = body.endswith("\\") and (quote is None or len(quote) == 1)
    if quote is not None and len(quote) == 1 and not body.endswith("\\"):
        quote = None  # an unterminated one-line string: a syntax error, lex on
    return "".join(code), quote, depth, cont


def _escape_start(stripped: str) -> bool:
    # No Python statement starts with these; IPython escapes do.
    return bool(stripped) and stripped[0] in "%!?/,;"


def to_python(cell: str) -> tuple[str, set[int]]:
    """The cell as Python, and the 0-based numbers of the lines replaced."""
    lines = _split_lines(cell)
    magic: set[int] = set()
    out: list[str] = []
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    whole_cell = False
    if first is not None and lines[first].lstrip().startswith("%%"):
        name = lines[first].lstrip()[2:].split(None, 1)
        whole_cell = not name or name[0] not in PYTHON_BODY_CELL_MAGICS
    quote: str | None = None
    depth = 0
    cont = False
    magic_cont = False
    magic_indent = ""
    for idx, line in enumerate(lines):
        body = line.rstrip("\r\n")
        eol = line[len(body) :]
        stripped = body.lstrip(" \t\f")
        indent = body[: len(body) - len(stripped)]
        if whole_cell or (first is not None and idx == first and stripped.startswith("%%")):
            if stripped:
                out.append(_placeholder("", stripped, eol))
                magic.add(idx)
            else:
                out.append(line)
            continue
        if magic_cont:  # continues the magic above: same indentation
            out.append(_placeholder(magic_indent, stripped, eol))
            magic.add(idx)
            magic_cont = body.endswith("\\")
            continue
        at_start = quote is None and depth == 0 and not cont
        if at_start and _escape_start(stripped):
            is_magic = True
        else:
            code, q2, d2, c2 = _scan(body, quote, depth)
            is_magic = at_start and ("?" in code or bool(_ASSIGN_MAGIC.search(code)))
            if not is_magic:
                quote, depth, cont = q2, d2, c2
                out.append(line)
                continue
        out.append(_placeholder(indent, stripped, eol))
        magic.add(idx)
        magic_cont = body.endswith("\\")
        magic_indent = indent
    return "".join(out), magic


# -- JSON with positions -----------------------------------------------------------

_TOKEN = re.compile(
    r'[ \t\r\n]*(?:("[^"\\]*(?:\\.[^"\\]*)*")|([{}\[\],:])|([^ \t\r\n{}\[\],:"]+))', re.DOTALL
)


@dataclass
class _Node:
    start: int
    end: int
    items: list[_Node] | dict[str, _Node] | None = None


class _JSONSpans:
    """Offsets of every value in a JSON text (the text is already known valid)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def _next(self) -> tuple[str, int, int]:
        m = _TOKEN.match(self.text, self.pos)
        if m is None or m.lastindex is None:
            raise ValueError("unexpected end of JSON")
        self.pos = m.end()
        return m.group(m.lastindex), m.start(m.lastindex), m.end()

    def value(self) -> _Node:
        tok, start, end = self._next()
        if tok == "{":
            obj: dict[str, _Node] = {}
            tok2, _, end2 = self._peek()
            if tok2 == "}":
                self.pos = end2
                return _Node(start, end2, obj)
            while True:
                ktok, _, _ = self._next()
                name = json.loads(ktok)
                colon, _, _ = self._next()
                if colon != ":":
                    raise ValueError("expected ':'")
                obj[name] = self.value()
                sep, _, send = self._next()
                if sep == "}":
                    return _Node(start, send, obj)
                if sep != ",":
                    raise ValueError("expected ',' or '}'")
        if tok == "[":
            arr: list[_Node] = []
            tok2, _, end2 = self._peek()
            if tok2 == "]":
                self.pos = end2
                return _Node(start, end2, arr)
            while True:
                arr.append(self.value())
                sep, _, send = self._next()
                if sep == "]":
                    return _Node(start, send, arr)
                if sep != ",":
                    raise ValueError("expected ',' or ']'")
        return _Node(start, end)

    def _peek(self) -> tuple[str, int, int]:
        saved = self.pos
        try:
            return self._next()
        finally:
            self.pos = saved


# -- results ---------------------------------------------------------------------------


@dataclass
class Cell:
    number: int  # 1-based index among all cells
    first_line: int  # 1-based line of its first line in the virtual module
    n_lines: int
    text: str  # the cell's source as in the notebook
    python: str  # the same lines with IPython syntax replaced
    magic: set[int]  # 0-based lines of the cell that were replaced


@dataclass
class NotebookResult(FileResult):
    cells: list[Cell] = field(default_factory=list)
    new_raw: bytes | None = None  # the fixed notebook file, when a fix was computed
    changed: dict[int, tuple[str, str]] = field(default_factory=dict)  # cell -> (old, new)

    def cell_at(self, line: int) -> Cell | None:
        for cell in self.cells:
            if cell.first_line <= line < cell.first_line + cell.n_lines:
                return cell
        return None

    def locate(self, span: Span) -> Location:
        cell = self.cell_at(span.line)
        if cell is None:  # pragma: no cover - spans always fall in a cell
            return Location(span.line, span.column, span.end_line, span.end_column)
        shift = cell.first_line - 1
        return Location(
            span.line - shift, span.column, span.end_line - shift, span.end_column, cell.number
        )


class NotebookError(Exception):
    pass


@dataclass
class _Parsed:
    text: str  # the JSON text (BOM removed)
    bom: bool
    data: dict[str, Any]
    cells: list[Cell]
    virtual: str
    python: bool


def _language(data: dict[str, Any]) -> str | None:
    meta = data.get("metadata") or {}
    if not isinstance(meta, dict):
        return None
    for holder, name in (("kernelspec", "language"), ("language_info", "name")):
        value = (meta.get(holder) or {}).get(name) if isinstance(meta.get(holder), dict) else None
        if isinstance(value, str) and value:
            return value.lower()
    return None


def _source_text(source: Any) -> str:
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        return "".join(source)
    raise NotebookError("a cell's source is neither a string nor a list of strings")


def parse(raw: bytes) -> _Parsed:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotebookError(f"not UTF-8: {exc}") from None
    bom = text.startswith("\ufeff")
    if bom:
        text = text[1:]
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(f"invalid notebook JSON at {exc.lineno}:{exc.colno}: {exc.msg}") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        if isinstance(data, dict) and "worksheets" in data:
            raise NotebookError(
                "notebook format v3 is not supported "
                "(convert it: jupyter nbconvert --to notebook --nbformat 4)"
            )
        raise NotebookError("not a Jupyter notebook (no list of cells)")
    lang = _language(data)
    python = lang is None or lang in ("python", "python3", "ipython", "ipython3")
    cells: list[Cell] = []
    chunks: list[str] = []
    line = 1
    for number, cell in enumerate(data["cells"], start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = _source_text(cell.get("source", ""))
        if not src:
            continue
        py, magic = to_python(src)
        if not py.endswith(("\n", "\r")):
            py += "\n"
        n = len(_split_lines(py))
        cells.append(Cell(number, line, n, src, py, magic))
        chunks.append(py)
        line += n
    return _Parsed(text, bom, data, cells, "".join(chunks), python)


def _cell_relative_error(message: str, cells: list[Cell]) -> str:
    m = re.search(r"\bat (\d+):(\d+)", message)
    if not m:
        return message
    vline = int(m.group(1))
    for cell in cells:
        if cell.first_line <= vline < cell.first_line + cell.n_lines:
            where = f"cell {cell.number}:{vline - cell.first_line + 1}:{m.group(2)}"
            return message[: m.start(1)] + where + message[m.end(2) :]
    return message


def check_bytes(raw: bytes, path: str, options: Any) -> NotebookResult:
    """Check (and with ``options.fix``/``diff`` compute the fix of) a notebook."""
    from convbnlint import runner

    result = NotebookResult(path=path)
    try:
        parsed = parse(raw)
    except NotebookError as exc:
        result.error = str(exc)
        return result
    result.cells = parsed.cells
    if not parsed.python or not parsed.cells:
        return result
    plain = dataclasses.replace(options, fix=False, diff=False)
    checked = runner.check_text(parsed.virtual, path, plain)
    if checked.error:
        result.error = _cell_relative_error(checked.error, parsed.cells)
        return result
    result.source = checked.source
    result.diagnostics = [d for d in checked.diagnostics if _on_python_line(result, d.span)]
    if not (options.fix or options.diff):
        return result
    fixable = [d for d in result.diagnostics if d.fix_applies(options.unsafe_fixes)]
    if not fixable:
        return result
    try:
        new_raw, changed = _fix(parsed, fixable, options)
    except NotebookError as exc:
        result.error = f"internal error: refusing to write an unverified fix: {exc}"
        return result
    result.source = parsed.virtual
    result.new_raw = new_raw
    result.changed = changed
    result.fixed = len(fixable)
    result.applied = fixable
    applied = {id(d) for d in fixable}
    result.diagnostics = [d for d in result.diagnostics if id(d) not in applied]
    return result


def _on_python_line(result: NotebookResult, span: Span) -> bool:
    cell = result.cell_at(span.line)
    return cell is not None and (span.line - cell.first_line) not in cell.magic


def _fix(
    parsed: _Parsed, fixable: list[Any], options: Any
) -> tuple[bytes, dict[int, tuple[str, str]]]:
    from convbnlint import runner

    whole = runner.check_text(
        parsed.virtual, "<notebook>", dataclasses.replace(options, fix=True)
    )
    if whole.error or whole.new_source is None:
        raise NotebookError(whole.error or "no fix computed")
    edits = fix_edits(parsed.virtual, fixable, select=options.select, ignore=options.ignore)
    if len(edits) != len(fixable) or any(key(d) not in edits for d in fixable):
        raise NotebookError("a finding's fix could not be computed on its own")
    if apply_all(parsed.virtual, list(edits.values())) != whole.new_source:
        raise NotebookError("per-cell edits disagree with the whole-notebook fix")
    return edit_cells(parsed, list(edits.values()))


def edit_cells(parsed: _Parsed, edits: list[TextEdit]) -> tuple[bytes, dict[int, tuple[str, str]]]:
    """The notebook file with ``edits`` (on the virtual module) made to its cells'
    sources, and ``{cell number: (old source, new source)}``; verified (only those
    sources changed).  An edit may not cross a cell or touch an IPython line."""
    per_cell: dict[int, list[Any]] = {}
    for edit in edits:
        vline = edit.start_line + 1
        cell = next(
            (c for c in parsed.cells if c.first_line <= vline < c.first_line + c.n_lines), None
        )
        if cell is None or edit.end_line + 1 > cell.first_line + cell.n_lines - 1:
            raise NotebookError("an edit crosses a cell boundary")
        rel_start, rel_end = edit.start_line + 1 - cell.first_line, edit.end_line + 1 - cell.first_line
        if any(i in cell.magic for i in range(rel_start, rel_end + 1)):
            raise NotebookError("an edit touches a line with IPython syntax")
        per_cell.setdefault(cell.number, []).append((cell, rel_start, rel_end, edit))
    changed: dict[int, tuple[str, str]] = {}
    for number, items in per_cell.items():
        cell = items[0][0]
        starts = line_starts(cell.text)
        text = cell.text
        for _, rs, re_, edit in sorted(items, key=lambda t: t[3].start, reverse=True):
            a = starts[rs] + edit.start_column
            b = starts[re_] + edit.end_column if re_ < len(starts) else len(cell.text)
            text = text[:a] + edit.new_text + text[b:]
        changed[number] = (cell.text, text)
    new_text = _rewrite_json(parsed, changed)
    _verify(parsed, new_text, changed)
    out = ("\ufeff" if parsed.bom else "") + new_text
    return out.encode("utf-8"), changed


def _ensure_ascii(text: str) -> bool:
    """Whether the file escapes non-ASCII characters (Jupyter does not)."""
    return text.isascii() and "\\u" in text


def _rewrite_json(parsed: _Parsed, changed: dict[int, tuple[str, str]]) -> str:
    text = parsed.text
    try:
        root = _JSONSpans(text).value()
    except (ValueError, json.JSONDecodeError) as exc:
        raise NotebookError(f"cannot locate cells in the JSON text: {exc}") from None
    assert isinstance(root.items, dict)
    cells_node = root.items["cells"]
    assert isinstance(cells_node.items, list)
    ascii_only = _ensure_ascii(text)
    replacements: list[tuple[int, int, str]] = []
    for number, (_, new) in changed.items():
        cell_node = cells_node.items[number - 1]
        assert isinstance(cell_node.items, dict)
        src = cell_node.items["source"]
        if src.items is None:  # one string
            replacements.append(
                (src.start, src.end, json.dumps(new, ensure_ascii=ascii_only))
            )
            continue
        assert isinstance(src.items, list)
        replacements.append((src.start, src.end, _rewrite_list(text, src, new, ascii_only)))
    for start, end, value in sorted(replacements, reverse=True):
        text = text[:start] + value + text[end:]
    return text


def _rewrite_list(text: str, node: _Node, new: str, ascii_only: bool) -> str:
    """A JSON list of line strings for ``new``, reusing the raw text of every
    unchanged line and the list's own layout."""
    assert isinstance(node.items, list)
    elems = node.items
    old_raw = [text[e.start : e.end] for e in elems]
    old_lines = [json.loads(r) for r in old_raw]
    new_lines = new.splitlines(keepends=True)
    if elems:
        lead = text[node.start + 1 : elems[0].start]  # "\n    "
        tail = text[elems[-1].end : node.end - 1]  # "\n   "
        sep = text[elems[0].end : elems[1].start] if len(elems) > 1 else "," + lead
    else:  # pragma: no cover - an empty cell has nothing to fix
        lead, tail, sep = "", "", ", "
    out: list[str] = []
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.extend(old_raw[i1:i2])
        else:
            out.extend(json.dumps(s, ensure_ascii=ascii_only) for s in new_lines[j1:j2])
    return "[" + lead + sep.join(out) + tail + "]"


def _verify(parsed: _Parsed, new_text: str, changed: dict[int, tuple[str, str]]) -> None:
    try:
        new_data = json.loads(new_text)
    except json.JSONDecodeError as exc:  # pragma: no cover - defensive
        raise NotebookError(f"rewritten JSON does not parse: {exc}") from None
    expected = json.loads(parsed.text)
    for number, (_, new) in changed.items():
        cell = expected["cells"][number - 1]
        if _source_text(new_data["cells"][number - 1]["source"]) != new:
            raise NotebookError(f"cell {number} does not hold the fixed source")
        cell["source"] = new_data["cells"][number - 1]["source"]
    if new_data != expected:
        raise NotebookError("something besides the fixed cells changed")


def check_path(path: Path, options: Any, ignore_extra: tuple[str, ...] = ()) -> NotebookResult:
    """Check one notebook file; with ``options.fix`` write the fixed file."""
    from convbnlint import sourcefile

    opts = options
    if ignore_extra:
        opts = dataclasses.replace(options, ignore=(*options.ignore, *ignore_extra))
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return NotebookResult(path=str(path), error=exc.strerror or str(exc))
    result = check_bytes(raw, str(path), opts)
    if options.fix and result.new_raw is not None and result.error is None:
        try:
            sourcefile.write_atomic(path, result.new_raw, raw)
        except sourcefile.SourceError as exc:
            result.error = str(exc)
            again = check_bytes(raw, str(path), dataclasses.replace(opts, fix=False))
            result.diagnostics = again.diagnostics
            result.fixed = 0
            result.applied = []
            result.new_raw = None
            result.changed = {}
    return result


def bias_reads(path: Path) -> list[Any]:
    """The bias reads in a notebook's code cells (:mod:`convbnlint.fixsafety`), as
    reads of ``path:cell N`` at the cell's line: a training notebook that reads
    ``net.conv.bias`` makes the fix of that layer in a ``.py`` file unsafe."""
    import dataclasses as dc

    from convbnlint import fixsafety

    try:
        raw = path.read_bytes()
        parsed = parse(raw)
    except (OSError, NotebookError):
        return []
    if not parsed.python or not parsed.cells:
        return []
    out = []
    for read in fixsafety.compact(fixsafety.scan(parsed.virtual, whole=False)):
        cell = next(
            (c for c in parsed.cells if c.first_line <= read.line < c.first_line + c.n_lines), None
        )
        if cell is None:  # pragma: no cover - every line is in a cell
            continue
        out.append(
            dc.replace(read, path=f"{path}:cell {cell.number}", line=read.line - cell.first_line + 1)
        )
    return out


def unified_diff(result: NotebookResult) -> str:
    """Per-cell unified diffs (``a/path:cell N``) of what ``--fix`` would change."""
    out: list[str] = []
    for number, (old, new) in sorted(result.changed.items()):
        a = [ln if ln.endswith("\n") else ln + "\n" for ln in old.splitlines(keepends=True)]
        b = [ln if ln.endswith("\n") else ln + "\n" for ln in new.splitlines(keepends=True)]
        out.extend(
            difflib.unified_diff(
                a, b, fromfile=f"a/{result.path}:cell {number}", tofile=f"b/{result.path}:cell {number}"
            )
        )
    return "".join(out)
