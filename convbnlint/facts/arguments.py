"""Constructor arguments: the bias state of a call, constants, argument conditions.

Pure functions of a libcst ``Call`` and a catalog :class:`~convbnlint.catalog.LayerSpec`:
an argument is found by keyword or by position with one helper (:func:`argument`),
as TorchFix does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import libcst as cst

from convbnlint.catalog import ArgIs, ArgSame, Cond, LayerSpec, Layout, Role, When
from convbnlint.ir import NOT_CONSTANT
from convbnlint.types import Bias


def string_value(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


# The keys a ``**name`` argument always carries, when known (:mod:`convbnlint.facts.kwargs`).
KnownKeys = Callable[[cst.BaseExpression], "frozenset[str] | None"]


def _may_supply(call: cst.Call, param: str, known: KnownKeys | None) -> bool:
    """Whether a ``*``/``**`` argument of ``call`` may supply ``param``."""
    for arg in call.args:
        if arg.star == "*":
            return True
        if arg.star == "**":
            keys = known(arg.value) if known is not None else None
            if keys is None or param in keys:
                return True
    return False


def bias_state(call: cst.Call, spec: LayerSpec, known: KnownKeys | None = None) -> Bias:
    """Read the bias argument of a catalogued constructor call (and the other
    arguments that can turn the bias off: ``spec.bias_also``).

    ``known`` gives the keys of a ``**name`` argument when they are known; any
    other ``**`` makes the call open-ended.
    """
    if spec.role is not Role.BIASED:
        return Bias.UNKNOWN
    main = _bias_arg(call, spec, known)
    if main is Bias.FALSE or not spec.bias_also:
        return main
    for cond in spec.bias_also:
        value = argument(call, cond.param, cond.index)
        if value is None:
            if _may_supply(call, cond.param, known):
                main = Bias.UNKNOWN
            continue
        const = constant(value)
        if const is NOT_CONST:
            main = Bias.UNKNOWN
        elif value_is(const, cond):
            return Bias.FALSE
    return main


def _bias_arg(call: cst.Call, spec: LayerSpec, known: KnownKeys | None = None) -> Bias:
    value: cst.BaseExpression | None = None
    positional = 0
    open_ended = False
    for arg in call.args:
        if arg.star == "**":
            keys = known(arg.value) if known is not None else None
            if keys is None or spec.bias_param in keys:
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
    return bias_value(value, spec)


def bias_value(value: cst.BaseExpression, spec: LayerSpec) -> Bias:
    """What a bias argument's value says, read the way ``spec`` reads it."""
    if not spec.bias_values:
        return constant_truth(value)
    const = constant(value)
    for key, on in spec.bias_values:
        if const is not NOT_CONST and const == key and type(const) is type(key):
            return Bias.TRUE if on else Bias.FALSE
    return Bias.UNKNOWN


def helper_bias(
    helper: cst.FunctionDef,
    inner: cst.Call,
    spec: LayerSpec,
    call: cst.Call,
    known: KnownKeys | None = None,
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
    posonly = {p.name.value for p in params.posonly_params}
    if route is not None:
        derived = replace(
            spec, bias_param=route[0], bias_index=route[1], bias_keyword=route[0] not in posonly
        )
    if any(a.star for a in call.args):
        return Bias.UNKNOWN, derived, False
    if route is None:
        return bias_state(inner, spec, known), derived, False
    passed = argument(call, route[0], route[1])
    if passed is not None:
        return bias_value(passed, spec), derived, True
    # Not passed: the fix adds it, by keyword, or (positional-only) right after
    # the call's positional arguments, which must then end just before its slot.
    reachable = derived.bias_keyword or sum(
        1 for a in call.args if a.keyword is None and not a.star
    ) == route[1]
    if route[0] in defaults:
        default = defaults[route[0]]
        assert default is not None
        return bias_value(default, spec), derived, reachable
    if forwards_kwargs and inner_value is None:
        return (Bias.DEFAULT if spec.bias_default else Bias.FALSE), derived, True
    return Bias.UNKNOWN, derived, reachable


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
    return cond_state(call, cond) is True


def cond_state(call: cst.Call, cond: Cond, known: KnownKeys | None = None) -> bool | None:
    """Whether a condition holds for a call: True, False, or None when it cannot
    be told (a ``*args``/``**kwargs`` could carry the argument; ``known`` gives the
    keys of a ``**name`` whose keys are known, as for :func:`bias_state`)."""
    if any(arg.star for arg in call.args):
        found = argument(call, cond.param, None)
        if found is None and (
            any(arg.star == "*" for arg in call.args)
            or _may_supply(call, cond.param, known)
            or (isinstance(cond, ArgSame) and _may_supply(call, cond.other, known))
        ):
            return None
    if isinstance(cond, ArgSame):
        a = argument(call, cond.param, cond.index)
        b = argument(call, cond.other, cond.other_index)
        if a is None or b is None:
            return False
        return _source(a) == _source(b)
    value = argument(call, cond.param, cond.index)
    if value is None:
        return cond.absent_ok
    return value_is(constant(value), cond)


def value_is(const: object, cond: ArgIs) -> bool:
    """Whether a value (a constant, or ``NOT_CONST``) meets ``cond``."""
    if const is NOT_CONST or const is NOT_CONSTANT:
        return cond.unknown_ok
    listed = any(const == v and type(const) is type(v) for v in cond.values)
    return listed != cond.negate


def holds(call: cst.Call, when: When, known: KnownKeys | None = None) -> bool:
    """Whether some alternative of ``when`` surely holds for ``call`` (empty: yes)."""
    if not when:
        return True
    return any(all(cond_state(call, c, known) is True for c in alt) for alt in when)


def keywords_hold(keywords: tuple[tuple[str, object], ...], when: When) -> bool:
    """``when`` over a call's keyword arguments only (their constant values)."""
    if not when:
        return True
    given = dict(keywords)
    for alt in when:
        ok = True
        for cond in alt:
            if isinstance(cond, ArgSame):
                ok = False
            else:
                key = cond.param if cond.param in given else f"#{cond.index}"
                ok = value_is(given[key], cond) if key in given else cond.absent_ok
            if not ok:
                break
        if ok:
            return True
    return False


def layout_axes(call: cst.Call, layout: Layout) -> tuple[int, ...] | None:
    """The channel axes ``layout`` gives for this call (None: not known)."""
    value: object = layout.default
    if layout.param is not None:
        if any(arg.star for arg in call.args) and argument(call, layout.param, None) is None:
            return None
        node = argument(call, layout.param, layout.index)
        if node is not None:
            value = constant(node)
            if value is None:
                value = layout.default
    if value is NOT_CONST or value is None:
        return None
    return layout.axes_for(value)


def _source(node: cst.BaseExpression) -> str:
    return cst.Module([]).code_for_node(node).strip()


NOT_CONST = object()


def constant(node: cst.BaseExpression) -> object:
    if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[node.value]
    if isinstance(node, cst.Integer):
        try:
            return int(node.value.replace("_", ""), 0)
        except ValueError:
            return NOT_CONST
    if isinstance(node, cst.Float):
        try:
            return float(node.value.replace("_", ""))
        except ValueError:
            return NOT_CONST
    if isinstance(node, cst.Tuple):
        items = tuple(constant(e.value) for e in node.elements)
        return NOT_CONST if NOT_CONST in items else items
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else NOT_CONST
    if (
        isinstance(node, cst.UnaryOperation)
        and isinstance(node.operator, cst.Minus)
        and isinstance(node.expression, (cst.Integer, cst.Float))
    ):
        inner = constant(node.expression)
        return NOT_CONST if inner is NOT_CONST else -inner  # type: ignore[operator]
    return NOT_CONST


def call_constant(node: cst.BaseExpression) -> object:
    """A call argument's constant value, or :data:`~convbnlint.ir.NOT_CONSTANT`."""
    value = constant(node)
    return NOT_CONSTANT if value is NOT_CONST else value


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
