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
                args[i] = arg.with_changes(value=value)
                return call.with_changes(args=args)
            continue
        if positional == spec.bias_index:
            args[i] = arg.with_changes(value=value)
            return call.with_changes(args=args)
        positional += 1
    return call.with_changes(args=_append_keyword(call, spec.bias_param, value))


def _append_keyword(
    call: cst.Call, keyword: str, value: cst.BaseExpression = FALSE
) -> list[cst.Arg]:
    args = list(call.args)
    new = cst.Arg(
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
                    first_line=cst.TrailingWhitespace(), empty_lines=[]
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
                return after.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
            return after
    before = call.whitespace_before_args
    if isinstance(before, cst.ParenthesizedWhitespace):
        return before.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
    return cst.SimpleWhitespace(" ")


class _Fixer(cst.CSTTransformer):
    def __init__(self, targets: dict[cst.Call, tuple[LayerSpec, str]]) -> None:
        self.targets = targets
        self.applied = 0

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        target = self.targets.get(original_node)
        if target is None:
            return updated_node
        spec, value = target
        self.applied += 1
        return fixed_call(updated_node, spec, cst.parse_expression(value))


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
    assert checked.module is not None and checked.builder is not None
    builder = checked.builder
    targets = {
        builder.site_nodes[d.site]: (builder.facts.sites[d.site].spec, d.fix_value)
        for d in diagnostics
    }
    fixer = _Fixer(targets)
    new_module = checked.module.visit(fixer)
    if fixer.applied != len(targets):
        raise UnsafeFixError(f"applied {fixer.applied} of {len(targets)} edits")
    new = new_module.code
    verify(
        source,
        new,
        [(d.span, targets[builder.site_nodes[d.site]][0]) for d in diagnostics],
        values=[d.fix_value for d in diagnostics],
    )
    from convbnlint.engine import check

    again = check(new, select=select, ignore=ignore)
    starts = {(d.span.line, d.span.column) for d in diagnostics}
    if any((d.span.line, d.span.column) in starts for d in again.diagnostics):
        raise UnsafeFixError("fix is not idempotent: a fixed call is still flagged")
    return new


def verify(
    old: str,
    new: str,
    edits: Sequence[tuple[object, LayerSpec]],
    values: Sequence[str] | None = None,
) -> None:
    """Prove ``new`` differs from ``old`` only in the bias arguments of ``edits``.

    ``edits`` pairs each fixed call's :class:`~convbnlint.types.Span` (in ``old``)
    with its spec.  Raises :class:`UnsafeFixError` on any other difference.
    """
    try:
        old_tree = ast.parse(old)
    except SyntaxError as exc:  # pragma: no cover - old parsed with libcst
        raise UnsafeFixError(f"original does not parse with ast: {exc}") from None
    try:
        new_tree = ast.parse(new)
    except SyntaxError as exc:
        raise UnsafeFixError(f"fixed source does not parse: {exc}") from None
    old_lines = old.splitlines(keepends=True)
    wanted: dict[tuple[int, int], tuple[LayerSpec, str]] = {}
    for i, (span, spec) in enumerate(edits):
        line = old_lines[span.line - 1]  # type: ignore[attr-defined]
        byte_col = len(line[: span.column - 1].encode("utf-8"))  # type: ignore[attr-defined]
        value = values[i] if values is not None else "False"
        wanted[(span.line, byte_col)] = (spec, value)  # type: ignore[attr-defined]
    old_calls = [n for n in ast.walk(old_tree) if isinstance(n, ast.Call)]
    new_calls = [n for n in ast.walk(new_tree) if isinstance(n, ast.Call)]
    if len(old_calls) != len(new_calls):
        raise UnsafeFixError("fix changed the number of calls")
    found = 0
    for old_call, new_call in zip(old_calls, new_calls):
        target = wanted.get((old_call.lineno, old_call.col_offset))
        if target is None:
            continue
        spec, value = target
        found += 1
        if not _says(new_call, spec, value):
            raise UnsafeFixError(
                f"fixed call at line {old_call.lineno} does not pass bias={value}"
            )
        _strip_bias(old_call, spec)
        _strip_bias(new_call, spec)
    if found != len(wanted):
        raise UnsafeFixError(f"located {found} of {len(wanted)} fixed calls")
    if ast.dump(old_tree) != ast.dump(new_tree):
        raise UnsafeFixError("fix changed more than the bias arguments")


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
