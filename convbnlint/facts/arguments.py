"""Constructor arguments: the bias state of a call, constants, argument conditions.

Pure functions of a libcst ``Call`` and a catalog :class:`~convbnlint.catalog.LayerSpec`:
an argument is found by keyword or by position with one helper (:func:`argument`),
as TorchFix does.
"""

from __future__ import annotations

from dataclasses import replace

import libcst as cst

from convbnlint.catalog import ArgIs, LayerSpec, Role
from convbnlint.types import Bias


def string_value(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def bias_state(call: cst.Call, spec: LayerSpec) -> Bias:
    """Read the bias argument of a catalogued constructor call."""
    if spec.role is not Role.BIASED:
        return Bias.UNKNOWN
    value: cst.BaseExpression | None = None
    positional = 0
    open_ended = False
    for arg in call.args:
        if arg.star == "**":
            open_ended = True
        elif arg.star == "*":
            open_ended = True
        elif arg.keyword is not None:
            if arg.keyword.value == spec.bias_param:
                value = arg.value
        else:
            if not open_ended and positional == spec.bias_index:
                value = arg.value
            positional += 1
    if value is None:
        if open_ended:
            return Bias.UNKNOWN
        return Bias.DEFAULT if spec.bias_default else Bias.FALSE
    return constant_truth(value)


def helper_bias(
    helper: cst.FunctionDef, inner: cst.Call, spec: LayerSpec, call: cst.Call
) -> tuple[Bias, LayerSpec, bool]:
    """Bias state of the layer a helper call creates, and how the call can pass bias.

    Returns ``(bias, spec, fixable)`` where ``spec`` describes the helper's own
    bias parameter (name and slot) when the helper forwards one to the layer.
    """
    params = helper.params
    positional = [p.name.value for p in (*params.posonly_params, *params.params)]
    kwonly = [p.name.value for p in params.kwonly_params]
    defaults = {
        p.name.value: p.default
        for p in (*params.posonly_params, *params.params, *params.kwonly_params)
        if p.default is not None
    }
    star_kwargs = params.star_kwarg.name.value if isinstance(params.star_kwarg, cst.Param) else None
    inner_value = argument(inner, spec.bias_param, spec.bias_index)
    forwards_kwargs = star_kwargs is not None and any(
        a.star == "**" and isinstance(a.value, cst.Name) and a.value.value == star_kwargs
        for a in inner.args
    )
    # Which helper parameter carries the bias, if any.
    route: tuple[str, int | None] | None = None
    if isinstance(inner_value, cst.Name) and inner_value.value in (*positional, *kwonly):
        name = inner_value.value
        route = (name, positional.index(name) if name in positional else None)
    elif inner_value is None and forwards_kwargs:
        route = (spec.bias_param, None)
    derived = spec
    if route is not None:
        derived = replace(spec, bias_param=route[0], bias_index=route[1])
    if any(a.star for a in call.args):
        return Bias.UNKNOWN, derived, False
    if route is None:
        if inner_value is None and any(a.star == "**" for a in inner.args):
            return Bias.UNKNOWN, derived, False
        return bias_state(inner, spec), derived, False
    passed = argument(call, route[0], route[1])
    if passed is not None:
        return constant_truth(passed), derived, True
    if route[0] in defaults:
        default = defaults[route[0]]
        assert default is not None
        return constant_truth(default), derived, True
    if forwards_kwargs and inner_value is None:
        return (Bias.DEFAULT if spec.bias_default else Bias.FALSE), derived, True
    return Bias.UNKNOWN, derived, True


def argument(call: cst.Call, param: str, index: int | None) -> cst.BaseExpression | None:
    """An argument by keyword or by position (None when absent or behind ``*``)."""
    positional = 0
    for arg in call.args:
        if arg.star:
            if arg.star == "*":
                return None
            continue
        if arg.keyword is not None:
            if arg.keyword.value == param:
                return arg.value
        else:
            if positional == index:
                return arg.value
            positional += 1
    return None


def is_transparent(call: cst.Call, spec: LayerSpec) -> bool:
    """Whether the catalog's argument conditions for transparency hold."""
    if not spec.transparent_when:
        return True
    if any(arg.star for arg in call.args):
        return False
    return any(all(_arg_is(call, cond) for cond in alt) for alt in spec.transparent_when)


def _arg_is(call: cst.Call, cond: ArgIs) -> bool:
    positional = [a for a in call.args if a.keyword is None]
    value: cst.BaseExpression | None = None
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == cond.param:
            value = arg.value
    if value is None and cond.index is not None and len(positional) > cond.index:
        value = positional[cond.index].value
    if value is None:
        return cond.absent_ok
    const = constant(value)
    return const is not NOT_CONST and any(
        const == v and type(const) is type(v) for v in cond.values
    )


NOT_CONST = object()


def constant(node: cst.BaseExpression) -> object:
    if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[node.value]
    if isinstance(node, cst.Integer):
        try:
            return int(node.value.replace("_", ""), 0)
        except ValueError:
            return NOT_CONST
    if isinstance(node, cst.Tuple):
        items = tuple(constant(e.value) for e in node.elements)
        return NOT_CONST if NOT_CONST in items else items
    return NOT_CONST


def constant_truth(value: cst.BaseExpression) -> Bias:
    if isinstance(value, cst.Name):
        if value.value == "True":
            return Bias.TRUE
        if value.value in ("False", "None"):
            return Bias.FALSE
        return Bias.UNKNOWN
    if isinstance(value, cst.Integer):
        try:
            return Bias.TRUE if int(value.value.replace("_", ""), 0) else Bias.FALSE
        except ValueError:
            return Bias.UNKNOWN
    return Bias.UNKNOWN
