"""Edits -> new source, and the proof that the edit is exactly what we meant.

A fix rewrites a flagged constructor call's bias argument to ``False``:

* ``bias=<anything>`` keyword: its value becomes ``False``;
* a positional value in the bias slot: it becomes ``False``;
* no bias argument: ``bias=False`` is appended as the last argument, following
  the call's layout (one line, one argument per line, trailing comma, comments).

The node edits are applied by one transformer; libcst regenerates every other
byte of the file unchanged.  :func:`verify` then proves it, the way Black does:
the new text must parse, its syntax tree must equal the original's once the bias
arguments of the fixed calls are normalised away, those calls must now say
``bias=False``, and checking the new text again must not flag them (idempotence).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
import warnings
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

import libcst as cst

from convbnlint.catalog import LayerSpec
from convbnlint.types import Diagnostic

if TYPE_CHECKING:
    from convbnlint.engine import Checked


class UnsafeFixError(Exception):
    """A computed fix failed verification; nothing may be written."""


FALSE = cst.Name("False")


def fixed_call(call: cst.Call, spec: LayerSpec, value: cst.BaseExpression = FALSE) -> cst.Call:
    """The same call with its bias argument set to ``value`` (default ``False``)."""
    args = list(call.args)
    positional = 0
    for i, arg in enumerate(args):
        if arg.star:
            continue
        if arg.keyword is not None:
            if arg.keyword.value == spec.bias_param:
                args[i] = arg.with_changes(value=_keep_parens(arg.value, value))
                return call.with_changes(args=args)
            continue
        if positional == spec.bias_index:
            args[i] = arg.with_changes(value=_keep_parens(arg.value, value))
            return call.with_changes(args=args)
        positional += 1
    if not spec.bias_keyword:  # a helper's positional-only parameter
        if positional != spec.bias_index:
            raise UnsafeFixError(f"cannot pass positional-only {spec.bias_param} at its slot")
        if positional < len(args):  # keyword arguments follow: insert before them
            comma = args[positional - 1].comma if positional else cst.Comma(
                whitespace_after=cst.SimpleWhitespace(" ")
            )
            args.insert(positional, cst.Arg(value=value, comma=comma))
            return call.with_changes(args=args)
        return call.with_changes(args=_append_keyword(call, None, value))
    return call.with_changes(args=_append_keyword(call, spec.bias_param, value))


def _keep_parens(old: cst.BaseExpression, new: cst.BaseExpression) -> cst.BaseExpression:
    """``new`` inside ``old``'s own parentheses (and whatever comments they hold)."""
    old_lpar = getattr(old, "lpar", ())
    if old_lpar and not getattr(new, "lpar", ()) and hasattr(new, "lpar"):
        return new.with_changes(lpar=old_lpar, rpar=old.rpar)  # type: ignore[attr-defined]
    return new


def _append_keyword(
    call: cst.Call, keyword: str | None, value: cst.BaseExpression = FALSE
) -> list[cst.Arg]:
    """The call's arguments with ``keyword=value`` appended (``value`` alone when
    ``keyword`` is None), in the call's layout."""
    args = list(call.args)
    new = cst.Arg(value=value) if keyword is None else cst.Arg(
        keyword=cst.Name(keyword),
        value=value,
        equal=cst.AssignEqual(
            whitespace_before=cst.SimpleWhitespace(""),
            whitespace_after=cst.SimpleWhitespace(""),
        ),
    )
    if not args:
        return [new]
    last = args[-1]
    separator = _separator(call)
    if isinstance(last.comma, cst.Comma):
        # Trailing comma: ``a,\n)`` -> ``a,\n    bias=False,\n)``.  A comment after
        # the old last argument stays on its line.
        trailing = last.comma
        after = trailing.whitespace_after
        if isinstance(after, cst.ParenthesizedWhitespace) and isinstance(
            separator, cst.ParenthesizedWhitespace
        ):
            between = trailing.with_changes(
                whitespace_after=after.with_changes(last_line=separator.last_line)
            )
            closing = trailing.with_changes(
                whitespace_after=after.with_changes(
                    first_line=_bare(after.first_line), empty_lines=[]
                )
            )
        else:
            between = trailing.with_changes(whitespace_after=separator)
            closing = trailing
        args[-1] = last.with_changes(comma=between)
        args.append(new.with_changes(comma=closing, whitespace_after_arg=last.whitespace_after_arg))
        if isinstance(after, cst.ParenthesizedWhitespace) and not isinstance(
            separator, cst.ParenthesizedWhitespace
        ):
            # ``(a, b,\n)``: keep the new argument on the same line as ``b``.
            args[-2] = last.with_changes(
                comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
            )
        return args
    # No trailing comma: ``(a, b)`` -> ``(a, b, bias=False)``; whatever followed the
    # old last argument (a newline before ``)``) now follows the new one.
    args[-1] = last.with_changes(
        comma=cst.Comma(whitespace_after=separator),
        whitespace_after_arg=cst.SimpleWhitespace(""),
    )
    args.append(new.with_changes(whitespace_after_arg=last.whitespace_after_arg))
    return args


def _separator(call: cst.Call) -> cst.BaseParenthesizableWhitespace:
    """The whitespace the call already uses between arguments."""
    for arg in call.args[:-1]:
        if isinstance(arg.comma, cst.Comma):
            after = arg.comma.whitespace_after
            if isinstance(after, cst.ParenthesizedWhitespace):
                return after.with_changes(first_line=_bare(after.first_line), empty_lines=[])
            return after
    before = call.whitespace_before_args
    if isinstance(before, cst.ParenthesizedWhitespace):
        return before.with_changes(first_line=_bare(before.first_line), empty_lines=[])
    return cst.SimpleWhitespace(" ")


def _bare(line: cst.TrailingWhitespace) -> cst.TrailingWhitespace:
    """An end of line without comment, with the same line ending as ``line`` (a
    file with mixed endings keeps the ending used where the fix goes)."""
    return cst.TrailingWhitespace(newline=line.newline)


class _Fixer(cst.CSTTransformer):
    def __init__(self, targets: dict[cst.Call, tuple[LayerSpec, str]]) -> None:
        self.targets = targets
        self.applied = 0
        self.fixed: dict[cst.Call, cst.Call] = {}

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        target = self.targets.get(original_node)
        if target is None:
            return updated_node
        spec, value = target
        self.applied += 1
        new = fixed_call(updated_node, spec, cst.parse_expression(value))
        self.fixed[original_node] = new
        return new


def apply_fixes(
    source: str,
    checked: Checked,
    diagnostics: Sequence[Diagnostic],
    *,
    select: Collection[str] | None = None,
    ignore: Collection[str] = (),
    **_: object,
) -> str:
    """The fixed text, verified; raises :class:`UnsafeFixError` otherwise."""
    if checked.module is None or checked.builder is None:
        raise UnsafeFixError("no whole-module parse to fix from")
    builder = checked.builder
    targets = {
        builder.site_nodes[d.site]: (builder.facts.sites[d.site].spec, d.fix_value)
        for d in diagnostics
    }
    fixer = _Fixer(targets)
    new_module = checked.module.visit(fixer)
    if fixer.applied != len(targets):
        raise UnsafeFixError(f"applied {fixer.applied} of {len(targets)} edits")
    new = _splice(source, checked, diagnostics, fixer) or new_module.code
    if new == source:
        raise UnsafeFixError("the edits changed nothing")
    moved = verify(
        source,
        new,
        [(d.span, targets[builder.site_nodes[d.site]][0]) for d in diagnostics],
        values=[d.fix_value for d in diagnostics],
    )
    again = checked.recheck(new) if checked.recheck is not None else None
    if again is None:
        raise UnsafeFixError("no way to check the fixed text again")
    if any((d.span.line, d.span.column) in moved for d in again.diagnostics):
        raise UnsafeFixError("fix is not idempotent: a fixed call is still flagged")
    return new


def _splice(
    source: str, checked: Checked, diagnostics: Sequence[Diagnostic], fixer: _Fixer
) -> str | None:
    """``source`` with the text of each fixed call replaced, every other byte kept.

    Only the fixed calls are regenerated by libcst: the rest of the file is the
    original text, even where libcst would not reproduce it (it drops a
    whitespace-only last line without a newline, for one).  None when a call's
    position cannot be matched to its text (then the whole module is regenerated,
    and verification still decides).
    """
    assert checked.module is not None and checked.builder is not None
    module, builder = checked.module, checked.builder
    index = _LineIndex(source)
    pieces: list[tuple[int, int, str]] = []
    for d in diagnostics:
        node = builder.site_nodes[d.site]
        new_node = fixer.fixed.get(node)
        span = d.span
        if new_node is None or not (1 <= span.line <= span.end_line <= index.lines):
            return None
        start = index.starts[span.line - 1] + span.column - 1
        end = index.starts[span.end_line - 1] + span.end_column - 1
        bare_old = module.code_for_node(node.with_changes(lpar=[], rpar=[]))
        if source[start:end] == bare_old:
            text = module.code_for_node(new_node.with_changes(lpar=[], rpar=[]))
        elif source[start:end] == module.code_for_node(node):
            text = module.code_for_node(new_node)
        else:
            return None
        pieces.append((start, end, text))
    pieces.sort()
    out: list[str] = []
    at = 0
    for start, end, text in pieces:
        if start < at:
            return None
        out += [source[at:start], text]
        at = end
    out.append(source[at:])
    return "".join(out)


def verify(
    old: str,
    new: str,
    edits: Sequence[tuple[object, LayerSpec]],
    values: Sequence[str] | None = None,
) -> set[tuple[int, int]]:
    """Prove ``new`` differs from ``old`` only in the bias arguments of ``edits``.

    ``edits`` pairs each fixed call's :class:`~convbnlint.types.Span` (in ``old``)
    with its spec; ``values`` are the bias values written (default ``False``).
    Proven, or :class:`UnsafeFixError` is raised:

    1. ``new`` parses, and its syntax tree equals ``old``'s once the bias arguments
       of the fixed calls are removed from both; each fixed call passes its value;
    2. every byte outside the fixed calls is unchanged (comments, blank lines, line
       endings, form feeds and tabs included: the syntax tree cannot see those);
    3. inside each fixed call, the tokens and comments are unchanged except for the
       bias argument itself (a comment inside the replaced value goes with it) and
       the commas and line breaks around it.

    Returns the (line, 1-based column) where each fixed call starts in ``new``.
    """
    old_tree = _parse(old, "original")
    new_tree = _parse(new, "fixed source")
    old_index = _LineIndex(old)
    new_index = _LineIndex(new)
    wanted: dict[tuple[int, int], tuple[LayerSpec, str, tuple[int, int] | None]] = {}
    for i, (span, spec) in enumerate(edits):
        line = span.line  # type: ignore[attr-defined]
        column = span.column  # type: ignore[attr-defined]
        if not 1 <= line <= old_index.lines:
            raise UnsafeFixError(f"fix position {line}:{column} is outside the file")
        byte_col = old_index.byte_column(line, column - 1)
        value = values[i] if values is not None else "False"
        # The end too: ``Conv2D(8, 3)(x)`` starts where its constructor call does.
        end_line = getattr(span, "end_line", None)
        end_col = getattr(span, "end_column", None)
        end: tuple[int, int] | None = None
        if end_line is not None and end_col is not None and 1 <= end_line <= old_index.lines:
            end = (end_line, old_index.byte_column(end_line, end_col - 1))
        wanted[(line, byte_col)] = (spec, value, end)
    old_calls = [n for n in ast.walk(old_tree) if isinstance(n, ast.Call)]
    new_calls = [n for n in ast.walk(new_tree) if isinstance(n, ast.Call)]
    if len(old_calls) != len(new_calls):
        raise UnsafeFixError("fix changed the number of calls")
    pairs: list[tuple[ast.Call, ast.Call, LayerSpec]] = []
    for old_call, new_call in zip(old_calls, new_calls):
        target = wanted.get((old_call.lineno, old_call.col_offset))
        if target is None:
            continue
        spec, value, end = target
        if end is not None and end != (old_call.end_lineno, old_call.end_col_offset):
            continue
        if not _says(new_call, spec, value):
            raise UnsafeFixError(f"fixed call at line {old_call.lineno} does not pass bias={value}")
        pairs.append((old_call, new_call, spec))
    if len(pairs) != len(wanted):
        raise UnsafeFixError(f"located {len(pairs)} of {len(wanted)} fixed calls")
    # Regions and tokens first: stripping the bias changes the trees.
    regions = sorted((old_index.region(o), new_index.region(n), spec) for o, n, spec in pairs)
    _check_text(old, new, regions)
    for old_call, new_call, spec in pairs:
        _strip_bias(old_call, spec)
        _strip_bias(new_call, spec)
    if ast.dump(old_tree) != ast.dump(new_tree):
        raise UnsafeFixError("fix changed more than the bias arguments")
    return {new_index.position(n.lineno, n.col_offset) for _, n, _ in pairs}


def _parse(text: str, what: str) -> ast.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return ast.parse(text)
        except SyntaxError as exc:
            raise UnsafeFixError(f"{what} does not parse: {exc.msg} (line {exc.lineno})") from None
        except (ValueError, MemoryError) as exc:
            raise UnsafeFixError(f"{what} does not parse: {type(exc).__name__}") from None


_LINE_END = re.compile(r"\r\n|\r|\n")


class _LineIndex:
    """Offsets of the lines of a text as Python numbers them (only ``\\r\\n``,
    ``\\r`` and ``\\n`` end a line; ``str.splitlines`` also splits at form feeds)."""

    def __init__(self, text: str) -> None:
        self.text = text
        starts = [0]
        starts.extend(m.end() for m in _LINE_END.finditer(text))
        self.starts = starts
        self.lines = len(starts)

    def line(self, lineno: int) -> str:
        start = self.starts[lineno - 1]
        end = self.starts[lineno] if lineno < self.lines else len(self.text)
        return self.text[start:end]

    def byte_column(self, lineno: int, char_col: int) -> int:
        return len(self.line(lineno)[:char_col].encode("utf-8"))

    def offset(self, lineno: int, byte_col: int) -> int:
        line = self.line(lineno)
        prefix = line.encode("utf-8")[:byte_col].decode("utf-8", "strict")
        return self.starts[lineno - 1] + len(prefix)

    def position(self, lineno: int, byte_col: int) -> tuple[int, int]:
        return lineno, self.offset(lineno, byte_col) - self.starts[lineno - 1] + 1

    def region(self, node: ast.expr) -> tuple[int, int]:
        assert node.end_lineno is not None and node.end_col_offset is not None
        return (
            self.offset(node.lineno, node.col_offset),
            self.offset(node.end_lineno, node.end_col_offset),
        )


def _check_text(
    old: str,
    new: str,
    regions: Sequence[tuple[tuple[int, int], tuple[int, int], LayerSpec]],
) -> None:
    old_at = new_at = 0
    for (old_start, old_end), (new_start, new_end), spec in regions:
        if old_start < old_at or new_start < new_at:
            raise UnsafeFixError("fixed calls overlap")
        if old[old_at:old_start] != new[new_at:new_start]:
            raise UnsafeFixError(_where("fix changed text outside the fixed calls", old, old_at))
        if _call_tokens(old[old_start:old_end], spec) != _call_tokens(new[new_start:new_end], spec):
            raise UnsafeFixError(
                _where("fix changed a fixed call beyond its bias argument", old, old_start)
            )
        old_at, new_at = old_end, new_end
    if old[old_at:] != new[new_at:]:
        raise UnsafeFixError(_where("fix changed text outside the fixed calls", old, old_at))


def _where(message: str, text: str, offset: int) -> str:
    return f"{message} (after line {_LineIndex(text[:offset]).lines})"


_LAYOUT = frozenset(
    {
        tokenize.NL,
        tokenize.NEWLINE,
        tokenize.INDENT,
        tokenize.DEDENT,
        tokenize.ENDMARKER,
    }
)


def _call_tokens(code: str, spec: LayerSpec) -> list[tuple[int, str]]:
    """The tokens of one call, minus its bias argument, argument commas and layout.

    Comments are kept (the syntax tree cannot see them), except those inside the
    bias value, which the fix replaces.
    """
    try:
        toks = [
            t for t in tokenize.generate_tokens(io.StringIO(code).readline) if t.type not in _LAYOUT
        ]
    except (tokenize.TokenError, SyntaxError) as exc:
        raise UnsafeFixError(f"cannot tokenize a fixed call: {exc}") from None
    # The argument list: the parentheses that close the call.
    stack: list[int] = []
    open_at = close_at = -1
    for i, tok in enumerate(toks):
        if tok.type != tokenize.OP:
            continue
        if tok.string in "([{":
            stack.append(i)
        elif tok.string in ")]}" and stack:
            start = stack.pop()
            if tok.string == ")":
                open_at, close_at = start, i
    if open_at < 0 or close_at != max(
        (i for i, t in enumerate(toks) if t.type != tokenize.COMMENT), default=-1
    ):
        raise UnsafeFixError("a fixed call has no argument list")
    segments: list[list[int]] = [[]]
    depth = 0
    commas: set[int] = set()
    for i in range(open_at + 1, close_at):
        tok = toks[i]
        if tok.type == tokenize.OP:
            if tok.string in "([{":
                depth += 1
            elif tok.string in ")]}":
                depth -= 1
            elif tok.string == "," and depth == 0:
                commas.add(i)
                segments.append([])
                continue
        segments[-1].append(i)
    dropped = set(commas)
    positional = 0
    for segment in segments:
        code_at = [i for i in segment if toks[i].type != tokenize.COMMENT]
        if not code_at:
            continue
        first = toks[code_at[0]]
        if first.type == tokenize.OP and first.string in ("*", "**"):
            continue
        if (
            len(code_at) > 1
            and first.type == tokenize.NAME
            and toks[code_at[1]].type == tokenize.OP
            and toks[code_at[1]].string == "="
        ):
            if first.string != spec.bias_param:
                continue
            value_at = code_at[2:]
            dropped.update(code_at[:2])
        else:
            if positional != spec.bias_index:
                positional += 1
                continue
            positional += 1
            value_at = code_at
        if value_at:
            dropped.update(range(value_at[0], value_at[-1] + 1))
        break
    return [(t.type, t.string) for i, t in enumerate(toks) if i not in dropped]


def _says(call: ast.Call, spec: LayerSpec, value: str = "False") -> bool:
    """Whether ``call`` passes exactly ``value`` as its bias argument."""
    want = ast.dump(ast.parse(value, mode="eval").body)
    for kw in call.keywords:
        if kw.arg == spec.bias_param:
            return ast.dump(kw.value) == want
    positional = [a for a in call.args if not isinstance(a, ast.Starred)]
    if spec.bias_index is not None and len(positional) > spec.bias_index:
        return ast.dump(positional[spec.bias_index]) == want
    return False


def _strip_bias(call: ast.Call, spec: LayerSpec) -> None:
    call.keywords = [kw for kw in call.keywords if kw.arg != spec.bias_param]
    if spec.bias_index is not None and len(call.args) > spec.bias_index:
        if not any(isinstance(a, ast.Starred) for a in call.args[: spec.bias_index + 1]):
            del call.args[spec.bias_index]
