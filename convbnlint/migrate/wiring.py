"""Which norm absorbs each removed bias, read from the built model with ``torch.fx``.

Why the built model and not the source: the source says which *constructor call*
was fixed, but a checkpoint is keyed by *module paths* (``features.3.bias``), and
those depend on how the model was built at run time: loops and helper functions
(VGG's ``make_layers``), nested ``ModuleList``s built by comprehensions,
``bias=not batch_norm`` evaluated for this configuration, classes from other
files and packages.  The built model knows all of that exactly.  What it does not
know by itself is the wiring in ``forward``; ``torch.fx`` symbolic tracing
records it as a data-flow graph without running any tensor code.

Over that graph each removed bias ``b`` of a conv or linear is followed as a
*shift*: a per-channel constant added to the layer's output.  The old model
computed ``layer(x) + b`` where the fixed one computes ``layer(x)``, so every
value downstream differs by a known linear function of the biases, until a
cancelling norm subtracts its mean:

* through bias-transparent operations (``op(x + b) = op(x) + b``: the catalog's
  transparent layers under the catalog's conditions, their functional forms,
  ``contiguous``/``clone``) the shift passes unchanged; ``Flatten`` turns a
  per-channel shift into a per-feature one (each channel repeated);
* through ``+``/``-`` shifts add (a sum of several convs into one norm: the norm's
  mean moved by the sum of their biases; ``conv(x) - conv(y)`` cancels);
* reaching a cancelling norm of the catalog (exactly its class, not a subclass)
  as its only input, the shift is absorbed: in train mode by the batch or
  instance mean, in eval mode by the running mean, which the migration moves by
  the same amount (``running_mean - b``); a norm without running statistics
  needs nothing;
* reaching anything else (an activation, another conv, a residual add whose
  result is returned, the graph's output, an unknown function) means the bias
  was *not* cancelled there: no checkpoint can carry it over exactly, and the
  migration refuses.

The graph is traced twice, in train and in eval mode (``self.training`` may
change the wiring), and both must agree.  The model is traced as a whole when
torch.fx can (with submodules that hold no removed bias and no norm as opaque
leaves if needed); otherwise each removed bias is followed in the smallest
enclosing module whose ``forward`` traces and contains its way to a norm.
Forward arguments with a default are traced with that default.
"""

from __future__ import annotations

import inspect
import operator
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import fx, nn

from convbnlint.catalog import LayerSpec, Role
from convbnlint.catalog.torch import CATALOG
from convbnlint.migrate.errors import MigrationError

# How a shift sits in a tensor: one value per channel (dim 1 of a conv's
# (N, C, ...) output), per feature (the last dim of a linear's output; a
# BatchNorm1d reads it as its channel dim on (N, features) input, the same
# premise as rule CBL002), or per channel after ``flatten(1)`` (each channel's
# value repeated over the flattened positions that follow it).
CHANNELS = "channels"
FEATURES = "features"
FLATTENED = "flattened"

Term = tuple[int, str]  # (id of the layer whose bias was removed, layout)
Shift = frozenset  # of (Term, coefficient) pairs, coefficients non-zero ints


def spec_of(module: nn.Module) -> LayerSpec | None:
    """The catalog entry of ``module``'s exact class (subclasses are not it)."""
    cls = type(module)
    return CATALOG.lookup(f"{cls.__module__}.{cls.__qualname__}")


def is_biased_layer(module: nn.Module) -> bool:
    spec = spec_of(module)
    return spec is not None and spec.role is Role.BIASED


def is_norm(module: nn.Module) -> bool:
    spec = spec_of(module)
    return spec is not None and spec.role is Role.CANCELLING_NORM


def _shift(counts: Counter) -> Shift:
    return frozenset((term, c) for term, c in counts.items() if c)


def _combine(*parts: tuple[Shift, int]) -> Shift:
    total: Counter = Counter()
    for shift, sign in parts:
        for term, coeff in shift:
            total[term] += sign * coeff
    return _shift(total)


def _relayout(shift: Shift, table: dict[str, str]) -> Shift | None:
    """The shift with each term's layout mapped; None when a layout is not in ``table``."""
    out: Counter = Counter()
    for (obj, layout), coeff in shift:
        if layout not in table:
            return None
        out[(obj, table[layout])] += coeff
    return _shift(out)


@dataclass
class Flow:
    """What one traced graph does with the shifts of the removed biases."""

    called: set[int] = field(default_factory=set)  # removed-bias layers called in it
    # Every call of a cancelling norm in the graph: (norm id, shift of its input).
    norm_calls: list[tuple[int, Shift]] = field(default_factory=list)
    escapes: dict[int, str] = field(default_factory=dict)  # layer id -> where it went
    to_output: set[int] = field(default_factory=set)  # reached the graph's output


class _Names:
    """Readable names for modules: their first path in the model."""

    def __init__(self, model: nn.Module) -> None:
        self.paths: dict[int, str] = {}
        for path, module in model.named_modules(remove_duplicate=False):
            self.paths.setdefault(id(module), path)
        self.objects = {id(m): m for m in model.modules()}

    def __call__(self, module_id: int) -> str:
        module = self.objects.get(module_id)
        kind = type(module).__name__ if module is not None else "module"
        return f"`{self.paths.get(module_id, '?') or '<model>'}` ({kind})"


# ------------------------------------------------------------------ operations


def _avgpool_transparent(values: dict[str, object]) -> bool:
    spec = CATALOG.lookup("torch.nn.AvgPool2d")
    assert spec is not None
    return _conditions_hold(spec, values)


def _conditions_hold(spec: LayerSpec, values: dict[str, object]) -> bool:
    """The catalog's ``transparent_when`` over actual argument/attribute values."""
    if not spec.transparent_when:
        return True
    for alternative in spec.transparent_when:
        ok = True
        for cond in alternative:
            if cond.param not in values:
                ok = ok and cond.absent_ok
                continue
            value = values[cond.param]
            if isinstance(value, list):
                value = tuple(value)
            if not any(value == v and type(value) is type(v) for v in cond.values):
                ok = False
        if ok:
            return True
    return False


_TRANSPARENT_ATTRS = ("padding", "ceil_mode", "count_include_pad", "divisor_override")


def _module_transparent(module: nn.Module, spec: LayerSpec) -> dict[str, str] | None:
    """Layout map of a transparent catalog module, or None when it is not transparent."""
    if getattr(module, "return_indices", False):
        return None
    if spec.qualname == "torch.nn.Flatten":
        if module.start_dim == 1 and module.end_dim == -1:  # type: ignore[comparison-overlap]
            return {CHANNELS: FLATTENED, FLATTENED: FLATTENED}
        return None
    if spec.qualname == "torch.nn.Identity":
        return {CHANNELS: CHANNELS, FEATURES: FEATURES, FLATTENED: FLATTENED}
    values = {a: getattr(module, a) for a in _TRANSPARENT_ATTRS if hasattr(module, a)}
    if not _conditions_hold(spec, values):
        return None
    # Pooling and resampling act on the dims after the channel dim: only a
    # per-channel shift is sure to be one of them.
    return {CHANNELS: CHANNELS}


def _functions() -> dict[object, str]:
    table: dict[object, str] = {}
    for dim in (1, 2, 3):
        table[getattr(F, f"max_pool{dim}d")] = "maxpool"
        table[getattr(F, f"adaptive_max_pool{dim}d")] = "adaptivemax"
        table[getattr(F, f"adaptive_avg_pool{dim}d")] = "pool"
        table[getattr(F, f"avg_pool{dim}d")] = "avgpool"
    table[F.interpolate] = "pool"
    table[F.upsample] = "pool"
    table[torch.flatten] = "flatten"
    table[operator.add] = "add"
    table[torch.add] = "add"
    table[operator.sub] = "sub"
    table[torch.sub] = "sub"
    table[operator.getitem] = "getitem"
    table[getattr] = "getattr"
    return table


_FUNCTIONS: dict[object, str] | None = None
_SAME_METHODS = frozenset({"contiguous", "clone"})
_META_METHODS = frozenset({"size", "dim"})
_META_ATTRS = frozenset({"shape", "dtype", "device", "ndim", "is_cuda", "requires_grad"})
_AVGPOOL_PARAMS = (
    "kernel_size",
    "stride",
    "padding",
    "ceil_mode",
    "count_include_pad",
    "divisor_override",
)


def _arg(node: fx.Node, index: int, name: str, default: object) -> object:
    if name in node.kwargs:
        return node.kwargs[name]
    if len(node.args) > index:
        return node.args[index]
    return default


def _nodes_in(value: object) -> Iterator[fx.Node]:
    if isinstance(value, fx.Node):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _nodes_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _nodes_in(item)
    elif isinstance(value, slice):
        yield from _nodes_in((value.start, value.stop, value.step))


# ------------------------------------------------------------------ propagation


def propagate(root: nn.Module, graph: fx.Graph, removed: set[int], names: _Names) -> Flow:
    """Follow the shifts of the ``removed`` layers' biases through ``graph`` (of ``root``)."""
    global _FUNCTIONS
    if _FUNCTIONS is None:
        _FUNCTIONS = _functions()
    shifts: dict[fx.Node, Shift] = {}
    flow = Flow()

    def escape(shift: Shift, where: str) -> None:
        for (obj, _), _coeff in shift:
            flow.escapes.setdefault(obj, where)

    for node in graph.nodes:
        inputs = [n for n in _nodes_in((node.args, node.kwargs)) if shifts.get(n)]
        first = node.args[0] if node.args else None
        sole = (
            len(node.args) >= 1 and isinstance(first, fx.Node) and all(n is first for n in inputs)
        )
        incoming = shifts.get(first, frozenset()) if isinstance(first, fx.Node) else frozenset()
        if node.op == "output":
            for n in inputs:
                for (obj, _), _coeff in shifts[n]:
                    flow.to_output.add(obj)
            continue
        if node.op == "call_module":
            assert isinstance(node.target, str)
            module = root.get_submodule(node.target)
            spec = spec_of(module)
            described = names(id(module))
            if id(module) in removed:
                flow.called.add(id(module))
                for n in inputs:
                    escape(shifts[n], f"{described}, a layer that does not pass a shift through")
                assert spec is not None
                layout = FEATURES if spec.family == "linear" else CHANNELS
                shifts[node] = frozenset({((id(module), layout), 1)})
                continue
            if spec is not None and spec.role is Role.CANCELLING_NORM:
                only = len(node.args) == 1 and not node.kwargs
                if inputs and not only:
                    for n in inputs:
                        escape(shifts[n], f"{described}, called with more than its input")
                    continue
                bad = _not_cancelled(incoming, spec, names)
                if bad is not None:
                    escape(incoming, f"{described}, which does not cancel {bad}")
                    continue
                flow.norm_calls.append((id(module), incoming))
                continue
            if inputs:
                table = (
                    _module_transparent(module, spec)
                    if spec is not None and spec.role is Role.TRANSPARENT
                    else None
                )
                moved = _relayout(incoming, table) if table is not None and sole else None
                if moved is None:
                    for n in inputs:
                        escape(shifts[n], described)
                else:
                    shifts[node] = moved
            continue
        if node.op in ("call_function", "call_method") and inputs:
            out = _operation(node, inputs, sole, incoming, shifts)
            if out is None:
                what = (
                    node.target
                    if node.op == "call_method"
                    else getattr(node.target, "__name__", str(node.target))
                )
                for n in inputs:
                    escape(shifts[n], f"`{what}`")
            elif out:
                shifts[node] = out
    return flow


def _operation(
    node: fx.Node,
    inputs: list[fx.Node],
    sole: bool,
    incoming: Shift,
    shifts: dict[fx.Node, Shift],
) -> Shift | None:
    """The shift of a function or method call's result; None when it is not followed."""
    assert _FUNCTIONS is not None
    if node.op == "call_method":
        method = node.target
        if method in _META_METHODS:
            return frozenset()
        if method in _SAME_METHODS and sole and len(node.args) == 1 and not node.kwargs:
            return incoming
        if method == "flatten" and sole:
            return _flatten(node, incoming)
        return None
    kind = _FUNCTIONS.get(node.target)
    if kind is None:
        return None
    if kind == "getattr":
        return frozenset() if len(node.args) == 2 and node.args[1] in _META_ATTRS else None
    if kind in ("add", "sub"):
        if len(node.args) != 2 or node.kwargs:
            return None
        a, b = node.args
        a_shift = shifts.get(a, frozenset()) if isinstance(a, fx.Node) else frozenset()
        b_shift = shifts.get(b, frozenset()) if isinstance(b, fx.Node) else frozenset()
        return _combine((a_shift, 1), (b_shift, 1 if kind == "add" else -1))
    if not sole:
        return None
    if kind == "flatten":
        return _flatten(node, incoming)
    if kind in ("maxpool", "adaptivemax"):
        # max_pool{n}d(input, kernel, stride, padding, dilation, ceil_mode, return_indices),
        # adaptive_max_pool{n}d(input, output_size, return_indices)
        if _arg(node, 6 if kind == "maxpool" else 2, "return_indices", False) is not False:
            return None
        return _relayout(incoming, {CHANNELS: CHANNELS})
    if kind == "avgpool":
        values = {
            name: _arg(node, i + 1, name, None)
            for i, name in enumerate(_AVGPOOL_PARAMS)
            if name in node.kwargs or len(node.args) > i + 1
        }
        if any(isinstance(v, fx.Node) for v in values.values()):
            return None
        if not _avgpool_transparent(values):
            return None
        return _relayout(incoming, {CHANNELS: CHANNELS})
    if kind == "pool":  # adaptive average pooling, interpolation: weights that sum to 1
        return _relayout(incoming, {CHANNELS: CHANNELS})
    return None


def _flatten(node: fx.Node, incoming: Shift) -> Shift | None:
    start = _arg(node, 1, "start_dim", 0)
    end = _arg(node, 2, "end_dim", -1)
    if start != 1 or end != -1:
        return None
    return _relayout(incoming, {CHANNELS: FLATTENED, FLATTENED: FLATTENED})


def _not_cancelled(shift: Shift, spec: LayerSpec, names: _Names) -> str | None:
    """Which term of ``shift`` the norm ``spec`` does not cancel (words), or None."""
    for (obj, layout), _coeff in shift:
        layer = names.objects.get(obj)
        family = spec_of(layer).family if layer is not None and spec_of(layer) else "conv"
        if family not in spec.cancels:
            return f"the bias of {names(obj)}"
        if layout == FLATTENED:
            flatten = CATALOG.lookup("torch.nn.Flatten")
            if flatten is not None and spec.qualname not in flatten.transparent_into:
                return f"the flattened bias of {names(obj)}"
    return None


# ------------------------------------------------------------------ tracing


class _Tracer(fx.Tracer):
    """torch.fx's tracer; optionally with given modules kept as opaque leaves."""

    def __init__(self, leaves: frozenset[int] = frozenset()) -> None:
        super().__init__()
        self.leaves = leaves

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        return id(m) in self.leaves or super().is_leaf_module(m, module_qualified_name)


def _defaults(module: nn.Module) -> dict[str, object]:
    """``forward``'s parameters with a plain default, traced as that default."""
    try:
        signature = inspect.signature(module.forward)
    except (TypeError, ValueError):
        return {}
    out = {}
    for name, param in signature.parameters.items():
        if param.kind not in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY):
            continue
        default = param.default
        if default is param.empty:
            continue
        if default is None or isinstance(default, (bool, int, float, str)):
            out[name] = default
    return out


def trace(module: nn.Module, relevant: set[int]) -> tuple[fx.Graph | None, str]:
    """``module``'s forward as a graph, or None and why not.

    First with torch.fx's own leaves (torch.nn's layers); if that fails, also with
    every submodule that holds nothing ``relevant`` as an opaque leaf (less code
    to trace; a shift reaching such a leaf is not followed into it).
    """
    if type(module).forward is nn.Module.forward or isinstance(
        module, (nn.ModuleList, nn.ModuleDict, nn.ParameterList, nn.ParameterDict)
    ):
        return None, f"{type(module).__name__} has no forward"
    concrete = _defaults(module) or None
    reason = ""
    for leaves in (frozenset(), _irrelevant(module, relevant)):
        try:
            return _Tracer(leaves).trace(module, concrete_args=concrete), ""
        except Exception as exc:  # noqa: BLE001  (user code under tracing)
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            reason = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
            reason = reason if len(reason) <= 200 else reason[:197] + "..."
    return None, reason


def _irrelevant(module: nn.Module, relevant: set[int]) -> frozenset[int]:
    """Submodules of ``module`` (not itself) whose subtree holds no relevant module."""
    holds: dict[int, bool] = {}

    def visit(m: nn.Module) -> bool:
        if id(m) in holds:
            return holds[id(m)]
        holds[id(m)] = id(m) in relevant
        for child in m.children():
            if visit(child):
                holds[id(m)] = True
        return holds[id(m)]

    visit(module)
    return frozenset(
        id(m) for m in module.modules() if m is not module and not holds.get(id(m), False)
    )


# ------------------------------------------------------------------ the question


@contextmanager
def _mode(model: nn.Module, training: bool) -> Iterator[None]:
    saved = [(m, m.training) for m in model.modules()]
    model.train(training)
    try:
        yield
    finally:
        for m, flag in saved:
            m.training = flag


def norm_shifts(model: nn.Module, removed: dict[int, nn.Module]) -> dict[int, Shift]:
    """For each cancelling norm that absorbs a removed bias, the shift of its input.

    ``removed`` maps ``id(layer)`` to each built layer whose bias was removed.
    Raises :class:`MigrationError` when a removed bias is not provably absorbed by
    norms, the same way at every call, in train and in eval mode.
    """
    names = _Names(model)
    results = []
    for training in (True, False):
        with _mode(model, training):
            results.append(_solve(model, removed, names, "train" if training else "eval"))
    train, evaluation = results
    if train != evaluation:
        norms = sorted(
            {n for n in set(train) ^ set(evaluation)}
            | {n for n in set(train) & set(evaluation) if train[n] != evaluation[n]},
            key=lambda n: names.paths.get(n, ""),
        )
        raise MigrationError(
            "the model's wiring differs between train and eval mode at "
            + ", ".join(names(n) for n in norms)
            + "; the running means cannot be carried over exactly"
        )
    return train


def _solve(
    model: nn.Module, removed: dict[int, nn.Module], names: _Names, mode: str
) -> dict[int, Shift]:
    relevant = set(removed) | {id(m) for m in model.modules() if is_norm(m)}
    graph, reason = trace(model, relevant)
    flows: list[Flow] = []
    if graph is not None:
        flow = propagate(model, graph, set(removed), names)
        _check(flow, set(removed), names, "the model's forward", mode)
        flows.append(flow)
    else:
        flows = _solve_in_parts(model, removed, names, relevant, reason, mode)
    seen: dict[int, set[Shift]] = {}
    for flow in flows:
        for norm, shift in flow.norm_calls:
            seen.setdefault(norm, set()).add(shift)
    out: dict[int, Shift] = {}
    for norm, shifts in seen.items():
        if not any(shifts):
            continue
        if len(shifts) > 1:
            raise MigrationError(
                f"{names(norm)} is called more than once ({mode} mode) and the removed biases "
                "reach it differently at different calls; one running mean cannot absorb both"
            )
        (out[norm],) = shifts
    return out


def _check(flow: Flow, wanted: set[int], names: _Names, where: str, mode: str) -> None:
    for layer in sorted(wanted, key=lambda o: names.paths.get(o, "")):
        if layer in flow.escapes:
            raise MigrationError(
                f"the removed bias of {names(layer)} is not cancelled by a norm: its output "
                f"reaches {flow.escapes[layer]} ({mode} mode); there is no norm to fold it into"
            )
        if layer not in flow.called:
            raise MigrationError(
                f"{names(layer)} is never called as a module in {where} ({mode} mode); "
                "cannot tell where its removed bias went"
            )
        if layer in flow.to_output:
            raise MigrationError(
                f"the output of {names(layer)} leaves {where} before any norm ({mode} mode); "
                "there is no norm to fold its removed bias into"
            )


def _parent(path: str) -> str:
    return path.rsplit(".", 1)[0] if "." in path else ""


def _inside(path: str, root: str) -> bool:
    return root == "" or path == root or path.startswith(root + ".")


def _solve_in_parts(
    model: nn.Module,
    removed: dict[int, nn.Module],
    names: _Names,
    relevant: set[int],
    model_reason: str,
    mode: str,
) -> list[Flow]:
    """The whole model does not trace: follow each removed bias in the smallest
    enclosing module whose forward traces and takes it to norms."""
    root_of = {layer: _parent(names.paths[layer]) for layer in removed}
    failures: dict[str, str] = {"": model_reason}
    while True:
        roots = set(root_of.values())
        outer = {r for r in roots if not any(o != r and _inside(r, o) for o in roots)}
        for layer, root in root_of.items():
            root_of[layer] = next(o for o in outer if _inside(root, o))
        climb: set[str] = set()
        flows: list[Flow] = []
        for root in sorted(outer):
            mine = {layer for layer, r in root_of.items() if r == root}
            if root == "":
                _give_up(mine, names, failures, mode)
            module = model.get_submodule(root)
            graph, reason = trace(module, relevant)
            if graph is None:
                failures[root] = reason
                climb.add(root)
                continue
            flow = propagate(module, graph, mine, names)
            for layer in mine:
                if layer in flow.escapes:
                    _check(flow, {layer}, names, f"the forward of `{root}`", mode)
            if any(layer not in flow.called or layer in flow.to_output for layer in mine):
                climb.add(root)
                continue
            flows.append(flow)
        if not climb:
            return flows
        for layer, root in root_of.items():
            if root in climb:
                root_of[layer] = _parent(root)


def _give_up(layers: set[int], names: _Names, failures: dict[str, str], mode: str) -> None:
    layer = min(layers, key=lambda o: names.paths.get(o, ""))
    path = names.paths[layer]
    tried = [p for p in failures if p and _inside(path, p)]
    detail = "; ".join(f"`{p}`: {failures[p]}" for p in sorted(tried, key=len, reverse=True)[:2])
    raise MigrationError(
        f"cannot follow the output of {names(layer)} to a norm ({mode} mode): torch.fx cannot "
        f"trace the model ({failures['']})"
        + (
            f", nor the modules around it that would contain its way to a norm ({detail})"
            if detail
            else ""
        )
    )
