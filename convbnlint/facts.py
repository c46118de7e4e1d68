"""One pass over a parsed module that records *facts*, not diagnostics.

The walker records:

* every call of a catalogued class as a :class:`Site` (its spec, bias state and,
  for containers, its ordered items);
* *holders*: places that hold a module object — ``self.<attr>`` of a class (per
  family of classes related by inheritance inside the module) and local names
  assigned a layer — with everything ever bound to them;
* every occurrence of a site or holder with the context it occurs in (bound to a
  holder, an item of a container, called, a harmless attribute read, or anything
  else, which is an *escape*);
* *invocations* (calls of a module object) and, through a small flow-sensitive
  reaching-definitions pass over each function body, where their output goes:
  the sole input of another module call, or anywhere else (escape).

Anything the walker does not model is an escape, so the analysis stays sound:
unknown means no finding.  The analysis over these facts lives in
:mod:`convbnlint.analysis` and never touches libcst.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import libcst as cst
from libcst.metadata import (
    CodeRange,
    MetadataWrapper,
    PositionProvider,
    QualifiedNameProvider,
    QualifiedNameSource,
)

from libcst.metadata.base_provider import LazyValue

from convbnlint.cstwalk import children, walk
from convbnlint.catalog import ArgIs, Catalog, LayerSpec, Role
from convbnlint.ir import (  # noqa: F401  (re-exported: the walker's vocabulary)
    SiteRef,
    HolderRef,
    UnknownRef,
    UNKNOWN,
    Ref,
    Escape,
    ESCAPE,
    Consumer,
    BIND,
    HARMLESS,
    ESCAPED,
    member_use,
    list_use,
    Graph,
    EMPTY_GRAPH,
    ListState,
    LIST,
    SEQ_SELF,
    call_use,
    Site,
    Invocation,
    ModuleFacts,
    negate,
    literal_source,
    describe,
    bias_for,
)
from convbnlint.types import Bias, Span

# --------------------------------------------------------------------------- contexts
# A context says where an expression's value goes.


@dataclass(frozen=True)
class Ctx:
    kind: str  # escape | discard | bind | item | sole_input | callee | def | harmless
    ref: Ref | None = None  # sole_input: the consuming module
    seq: int = -1  # item
    index: int = -1  # item
    inv: int = -1  # callee


C_ESCAPE = Ctx("escape")
C_DISCARD = Ctx("discard")
C_BIND = Ctx("bind")
C_DEF = Ctx("def")
C_HARMLESS = Ctx("harmless")

# Attribute reads on a module object that route its output somewhere else.
_OUTPUT_ATTRS = frozenset(
    {"forward", "__call__", "_conv_forward", "register_forward_hook", "_call_impl"}
)
# Attribute reads and method calls on a tensor that do not depend on its values.
_TENSOR_META_ATTRS = frozenset({"shape", "dtype", "device", "ndim", "is_cuda", "requires_grad"})
_TENSOR_META_METHODS = frozenset({"size", "dim"})
# Methods of nn.Module that enumerate submodules: reading them does not call them.
_SELF_HARMLESS = frozenset(
    {"modules", "named_modules", "children", "named_children", "parameters", "named_parameters"}
)
_DYNAMIC_SELF = frozenset({"__dict__", "_modules"})
_LOOP_PASSES = 8

Env = dict[str, frozenset[int]]


def _merge(*envs: Env | None) -> Env | None:
    live = [e for e in envs if e is not None]
    if not live:
        return None
    if len(live) == 1:
        return dict(live[0])
    out: dict = {}
    keys: set[str] = set()
    for env in live:
        keys.update(env)
    for key in keys:
        values = [env.get(key) for env in live]
        present = [v for v in values if v is not None]
        if key.startswith(LIST):
            merged = present[0]
            for v in present[1:]:
                merged = merged.union(v)
            if len(present) < len(values):
                merged = ListState(merged.lids, merged.graph, True)
            out[key] = merged
        else:
            acc: frozenset[int] = frozenset()
            for v in present:
                acc = acc | v
            out[key] = acc
    return out


def _string_value(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


# --------------------------------------------------------------------------- scope pre-scan


@dataclass
class ScopeInfo:
    simple_rhs: dict[str, list[cst.BaseExpression]] = field(default_factory=dict)
    complex_bound: set[str] = field(default_factory=set)
    closure_names: set[str] = field(default_factory=set)


def _target_names(target: cst.BaseExpression) -> Iterator[str]:
    if isinstance(target, cst.Name):
        yield target.value
    elif isinstance(target, (cst.Tuple, cst.List)):
        for el in target.elements:
            yield from _target_names(el.value)
    elif isinstance(target, cst.StarredElement):
        yield from _target_names(target.value)


class _NamesIn(cst.CSTVisitor):
    """Collects the identifiers below one node; nested scopes come from the memo."""

    def __init__(self, root: cst.CSTNode) -> None:
        self.root = root
        self.found: set[str] = set()

    def visit_Attribute(self, n: cst.Attribute) -> bool:
        walk(n.value, self)
        return False

    def visit_Arg(self, n: cst.Arg) -> bool:
        walk(n.value, self)
        return False

    def visit_Name(self, n: cst.Name) -> None:
        self.found.add(n.value)

    def _scope(self, n: cst.CSTNode) -> bool:
        if n is self.root:
            return True
        self.found.update(_names_in(n))
        return False

    visit_FunctionDef = visit_ClassDef = visit_Lambda = _scope
    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _scope


# ``_names_in`` of every nested scope, computed once per module (``collect`` clears
# it): prescans at each level of nesting would otherwise walk inner scopes again.
_NAMES_MEMO: dict[cst.CSTNode, frozenset[str]] = {}


def _names_in(node: cst.CSTNode) -> frozenset[str]:
    """Every identifier read anywhere below ``node`` (attribute names excluded)."""
    hit = _NAMES_MEMO.get(node)
    if hit is None:
        visitor = _NamesIn(node)
        walk(node, visitor)
        hit = _NAMES_MEMO[node] = frozenset(visitor.found)
    return hit


def _nested_bound(node: cst.CSTNode) -> set[str]:
    """Names a nested scope binds itself (parameters, comprehension targets)."""
    bound: set[str] = set()
    if isinstance(node, (cst.FunctionDef, cst.Lambda)):
        params = node.params
        for p in (*params.posonly_params, *params.params, *params.kwonly_params):
            bound.add(p.name.value)
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                bound.add(star.name.value)
    if isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
        comp: cst.CompFor | None = node.for_in
        while comp is not None:
            bound.update(_target_names(comp.target))
            comp = comp.inner_for_in
    return bound


_NESTED = (
    cst.FunctionDef,
    cst.ClassDef,
    cst.Lambda,
    cst.ListComp,
    cst.SetComp,
    cst.GeneratorExp,
    cst.DictComp,
)


def prescan(body: Sequence[cst.CSTNode], params: Iterable[str] = ()) -> ScopeInfo:
    """Classify the names bound in one scope (not descending into nested scopes)."""
    info = ScopeInfo()
    info.complex_bound.update(params)

    class _V(cst.CSTVisitor):
        def _nested(self, node: cst.CSTNode) -> bool:
            info.closure_names.update(_names_in(node) - _nested_bound(node))
            return False

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            info.complex_bound.add(node.name.value)
            for dec in node.decorators:
                walk(dec, self)
            return self._nested(node)

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            info.complex_bound.add(node.name.value)
            return self._nested(node)

        def visit_Lambda(self, node: cst.Lambda) -> bool:
            return self._nested(node)

        def visit_ListComp(self, node: cst.ListComp) -> bool:
            return self._nested(node)

        def visit_SetComp(self, node: cst.SetComp) -> bool:
            return self._nested(node)

        def visit_GeneratorExp(self, node: cst.GeneratorExp) -> bool:
            return self._nested(node)

        def visit_DictComp(self, node: cst.DictComp) -> bool:
            return self._nested(node)

        def visit_Assign(self, node: cst.Assign) -> None:
            for t in node.targets:
                if isinstance(t.target, cst.Name):
                    info.simple_rhs.setdefault(t.target.value, []).append(node.value)
                else:
                    info.complex_bound.update(_target_names(t.target))

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            if isinstance(node.target, cst.Name) and node.value is not None:
                info.simple_rhs.setdefault(node.target.value, []).append(node.value)
            else:
                info.complex_bound.update(_target_names(node.target))

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            info.complex_bound.update(_target_names(node.target))

        def visit_For(self, node: cst.For) -> None:
            info.complex_bound.update(_target_names(node.target))

        def visit_WithItem(self, node: cst.WithItem) -> None:
            if node.asname is not None:
                info.complex_bound.update(_target_names(node.asname.name))

        def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
            if node.name is not None:
                info.complex_bound.update(_target_names(node.name.name))

        def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
            info.complex_bound.update(_target_names(node.target))

        def visit_Del(self, node: cst.Del) -> None:
            info.complex_bound.update(_target_names(node.target))

        def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
            name = node.asname.name if node.asname else node.name
            if isinstance(name, cst.Name):
                info.complex_bound.add(name.value)
            elif isinstance(name, cst.Attribute):
                root: cst.BaseExpression = name
                while isinstance(root, cst.Attribute):
                    root = root.value
                if isinstance(root, cst.Name):
                    info.complex_bound.add(root.value)

        def visit_Global(self, node: cst.Global) -> None:
            for n in node.names:
                info.complex_bound.add(n.name.value)
                info.closure_names.add(n.name.value)

        def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
            for n in node.names:
                info.complex_bound.add(n.name.value)
                info.closure_names.add(n.name.value)

        def visit_MatchAs(self, node: cst.MatchAs) -> None:
            if node.name is not None:
                info.complex_bound.add(node.name.value)

        def visit_MatchStar(self, node: cst.MatchStar) -> None:
            if node.name is not None:
                info.complex_bound.add(node.name.value)

    visitor = _V()
    for stmt in body:
        walk(stmt, visitor)
    return info


# --------------------------------------------------------------------------- builder


class FactBuilder:
    """Walks a module and fills a :class:`ModuleFacts`."""

    def __init__(self, module: cst.Module, catalog: Catalog, names: NameResolver) -> None:
        self.module = module
        self.catalog = catalog
        self.names = names
        self._positions: dict[cst.CSTNode, CodeRange] | None = None
        self.facts = ModuleFacts()
        self.factories: dict[str, cst.Call] = {}
        self.factory_defs: dict[str, cst.FunctionDef] = {}
        self.factory_calls: set[cst.Call] = set()
        self.site_nodes: dict[int, cst.Call] = {}
        self._site_ids: dict[cst.Call, int] = {}
        self._inv_ids: dict[cst.Call, int] = {}
        self._scope_ids: dict[cst.CSTNode, int] = {}
        self._families: dict[str, int] = {}

    # -- public
    def build(self) -> ModuleFacts:
        self._assign_families()
        self._find_factories()
        scope = _Scope(self, self._scope_id(self.module), prescan(self.module.body), None, None)
        scope.local_bound = set()
        scope.run_body(self.module.body)
        for lid in self.facts.escaped_lists:
            for ref in self.facts.list_elements.get(lid, ()):
                self.use(ref, ESCAPED)
        return self.facts

    def _find_factories(self) -> None:
        """Module-level ``def f(...): return nn.Conv2d(...)``: a call of ``f`` is that layer."""
        defs: dict[str, list[cst.FunctionDef]] = {}
        other: set[str] = set()
        for stmt in self.module.body:
            if isinstance(stmt, cst.FunctionDef):
                defs.setdefault(stmt.name.value, []).append(stmt)
            else:
                info = prescan([stmt])
                other |= info.complex_bound | set(info.simple_rhs)
        for name, nodes in defs.items():
            if len(nodes) != 1 or name in other or nodes[0].decorators:
                continue
            returns = _returns(nodes[0])
            if len(returns) != 1 or not isinstance(returns[0].value, cst.Call):
                continue
            call = returns[0].value
            spec = self.spec_of(call.func)
            if spec is not None and spec.role is Role.BIASED:
                self.factories[name] = call
                self.factory_defs[name] = nodes[0]
                self.factory_calls.add(call)

    def span(self, site: int) -> Span:
        if self._positions is None:
            wrapper = MetadataWrapper(self.module, unsafe_skip_copy=True)
            self._positions = dict(wrapper.resolve(PositionProvider))
        rng = self._positions[self.site_nodes[site]]
        return Span(rng.start.line, rng.start.column + 1, rng.end.line, rng.end.column + 1)

    # -- identities
    def _scope_id(self, node: cst.CSTNode) -> int:
        return self._scope_ids.setdefault(node, len(self._scope_ids))

    def _assign_families(self) -> None:
        """Classes related by inheritance inside this module share ``self`` attributes."""
        classes = [s for s in self.module.body if isinstance(s, cst.ClassDef)]
        parent: dict[str, str] = {c.name.value: c.name.value for c in classes}

        def find(x: str) -> str:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for cls in classes:
            for base in cls.bases:
                if isinstance(base.value, cst.Name) and base.value.value in parent:
                    parent[find(cls.name.value)] = find(base.value.value)
        roots: dict[str, int] = {}
        for name in parent:
            self._families[name] = roots.setdefault(find(name), len(roots))

    def family_of(self, cls: cst.ClassDef, nested_counter: list[int]) -> int:
        if cls.name.value in self._families and cls in self.module.body:
            return self._families[cls.name.value]
        nested_counter[0] += 1
        return 10_000 + self._scope_id(cls)

    # -- resolution
    def spec_of(self, func: cst.BaseExpression) -> LayerSpec | None:
        names = self.names(func)
        if not names:
            return None
        specs = set()
        for name in names:
            spec = self.catalog.lookup(name)
            if spec is None:
                return None
            specs.add(spec)
        return specs.pop() if len(specs) == 1 else None

    def site_for(self, call: cst.Call, spec: LayerSpec, scope: int = -1) -> int:
        sid = self._site_ids.get(call)
        if sid is not None and scope != -1:
            self.facts.sites[sid].scope = scope
        if sid is None:
            sid = len(self._site_ids)
            self._site_ids[call] = sid
            self.site_nodes[sid] = call
            self.facts.sites[sid] = Site(
                sid,
                spec,
                bias=bias_state(call, spec),
                transparent=spec.role is Role.TRANSPARENT and is_transparent(call, spec),
                scope=scope,
                channels=self._channels(call, spec),
            )
        return sid

    def helper_call_site(self, call: cst.Call, name: str, scope: int) -> int | None:
        """A call of helper ``name`` (which returns a layer) as a site of its own."""
        sid = self._site_ids.get(call)
        if sid is not None:
            return sid
        inner = self.factories[name]
        spec = self.spec_of(inner.func)
        if spec is None:
            return None
        inner_id = self.site_for(inner, spec)
        bias, derived, fixable = helper_bias(self.factory_defs[name], inner, spec, call)
        sid = len(self._site_ids)
        self._site_ids[call] = sid
        self.site_nodes[sid] = call
        self.facts.sites[sid] = Site(
            sid,
            derived,
            bias=bias,
            scope=scope,
            channels=self.facts.sites[inner_id].channels,
            factory_of=inner_id,
            helper=name,
            fixable=fixable,
        )
        self.facts.factory_calls.setdefault(inner_id, []).append(sid)
        return sid

    def _channels(self, call: cst.Call, spec: LayerSpec) -> str | None:
        if spec.channels_param is None:
            return None
        value = _argument(call, spec.channels_param, spec.channels_index)
        return None if value is None else self.module.code_for_node(value).strip()

    def inv_for(self, call: cst.Call, callee: Ref) -> Invocation:
        iid = self._inv_ids.get(call)
        if iid is None:
            iid = len(self._inv_ids)
            self._inv_ids[call] = iid
            self.facts.invocations[iid] = Invocation(iid, callee)
        return self.facts.invocations[iid]

    def use(self, ref: Ref, kind: tuple) -> None:
        if isinstance(ref, UnknownRef):
            return
        self.facts.uses.setdefault(ref, set()).add(kind)

    def bind(self, holder: tuple, ref: Ref) -> None:
        refs = self.facts.bindings.setdefault(holder, [])
        if ref not in refs:
            refs.append(ref)


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
    star_kwargs = (
        params.star_kwarg.name.value if isinstance(params.star_kwarg, cst.Param) else None
    )
    inner_value = _argument(inner, spec.bias_param, spec.bias_index)
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
    passed = _argument(call, route[0], route[1])
    if passed is not None:
        return constant_truth(passed), derived, True
    if route[0] in defaults:
        default = defaults[route[0]]
        assert default is not None
        return constant_truth(default), derived, True
    if forwards_kwargs and inner_value is None:
        return (Bias.DEFAULT if spec.bias_default else Bias.FALSE), derived, True
    return Bias.UNKNOWN, derived, True


def _argument(call: cst.Call, param: str, index: int | None) -> cst.BaseExpression | None:
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
    const = _constant(value)
    return const is not _NOT_CONST and any(
        const == v and type(const) is type(v) for v in cond.values
    )


_NOT_CONST = object()


def _constant(node: cst.BaseExpression) -> object:
    if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[node.value]
    if isinstance(node, cst.Integer):
        try:
            return int(node.value.replace("_", ""), 0)
        except ValueError:
            return _NOT_CONST
    if isinstance(node, cst.Tuple):
        items = tuple(_constant(e.value) for e in node.elements)
        return _NOT_CONST if _NOT_CONST in items else items
    return _NOT_CONST


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


# --------------------------------------------------------------------------- scope walker


class _Scope:
    """Walks the statements of one scope (module, class body or function)."""

    def __init__(
        self,
        builder: FactBuilder,
        scope_id: int,
        info: ScopeInfo,
        self_name: str | None,
        family: int | None,
    ) -> None:
        self.b = builder
        self.scope_id = scope_id
        self.info = info
        self.self_name = self_name
        self.family = family
        self.holder_names = self._holder_names()
        self.local_bound: set[str] = info.complex_bound | set(info.simple_rhs)
        self.seq_class = False  # a method of an nn.Sequential subclass without forward
        self.seq_site: int | None = None  # its super().__init__ container site
        self.seq_names: set[str] = set()
        self.seq_broken = False
        # Path condition: literals (scope, name, kind, positive) of enclosing ``if``s
        # whose test is a parameter never rebound (``if batch_norm:``).
        self.conds: frozenset = frozenset()
        self.params: set[str] = set()
        self.body: Sequence[cst.CSTNode] = ()
        self._rebound: set[str] | None = None
        self.loops: list[tuple[list[Env | None], list[Env | None]]] = []
        self.nested_counter = [0]
        # Module objects held in local names that nested scopes can see escape.
        for name in self.holder_names & info.closure_names:
            self.b.use(self.local(name), ESCAPED)

    def _holder_names(self) -> set[str]:
        names = set()
        for name, rhss in self.info.simple_rhs.items():
            if name in self.info.complex_bound:
                continue
            if any(self._is_catalog_call(r) for r in rhss):
                names.add(name)
        return names

    def _is_catalog_call(self, node: cst.BaseExpression) -> bool:
        return isinstance(node, cst.Call) and self.b.spec_of(node.func) is not None

    def local(self, name: str) -> HolderRef:
        return HolderRef(("local", self.scope_id, name))

    def attr(self, name: str) -> HolderRef:
        assert self.family is not None
        return HolderRef(("attr", self.family, name))

    def is_self(self, node: cst.BaseExpression) -> bool:
        return (
            self.self_name is not None
            and isinstance(node, cst.Name)
            and node.value == self.self_name
        )

    def self_attr(self, node: cst.BaseExpression) -> str | None:
        if isinstance(node, cst.Attribute) and self.is_self(node.value):
            return node.attr.value
        return None

    # -- refs
    def ref_of(self, node: cst.BaseExpression) -> Ref:
        """The module object an expression denotes, if it is one we track."""
        if isinstance(node, cst.Call):
            spec = self.b.spec_of(node.func)
            if spec is not None:
                return SiteRef(self.b.site_for(node, spec))
            helper = self.helper_site(node)
            return UNKNOWN if helper is None else SiteRef(helper)
        name = self.self_attr(node)
        if name is not None:
            return self.attr(name)
        if isinstance(node, cst.Name) and node.value in self.holder_names:
            return self.local(node.value)
        return UNKNOWN

    # -- statements
    def run_body(self, body: Sequence[cst.CSTNode], env: Env | None = None) -> Env | None:
        env = {} if env is None else env
        for stmt in body:
            if env is None:  # unreachable code: still record sites and uses
                env = {}
                self.stmt(stmt, env)
                env = None
                continue
            env = self.stmt(stmt, env)
        return env

    def block(self, node: cst.BaseSuite, env: Env | None) -> Env | None:
        if env is None:
            env = {}
        if isinstance(node, cst.SimpleStatementSuite):
            return self.run_body(node.body, env)
        assert isinstance(node, cst.IndentedBlock)
        return self.run_body(node.body, env)

    def stmt(self, node: cst.CSTNode, env: Env) -> Env | None:
        if isinstance(node, cst.SimpleStatementLine):
            out: Env | None = env
            for small in node.body:
                if out is None:
                    self.small(small, {})
                else:
                    out = self.small(small, out)
            return out
        method = getattr(self, f"c_{type(node).__name__}", None)
        if method is not None:
            return method(node, env)
        # Unknown compound statement: walk everything as escapes.
        self.generic(node, env)
        return env

    def small(self, node: cst.BaseSmallStatement, env: Env) -> Env | None:
        if isinstance(node, cst.Assign):
            return self.assign([t.target for t in node.targets], node.value, env)
        if isinstance(node, cst.AnnAssign):
            self.expr(node.annotation.annotation, C_HARMLESS, env)
            if node.value is None:
                return env
            return self.assign([node.target], node.value, env)
        if isinstance(node, cst.AugAssign):
            target = node.target
            if isinstance(target, cst.Name) and LIST + target.value in env:
                state = env[LIST + target.value]
                if isinstance(node.operator, cst.AddAssign) and isinstance(
                    node.value, (cst.List, cst.Tuple)
                ):
                    env[LIST + target.value] = self.extend_list(state, node.value.elements, env)
                    return env
                self.escape_list(state)
                env.pop(LIST + target.value)
            self.expr(node.value, C_ESCAPE, env)
            self.expr(node.target, C_ESCAPE, env)
            self.kill_target(node.target, env)
            return env
        if isinstance(node, cst.Expr):
            self.expr(node.value, C_DISCARD, env)
            return env
        if isinstance(node, cst.Return) and node.value in self.b.factory_calls:
            self.expr(node.value, C_HARMLESS, env)  # callers' uses are the object's uses
            return None
        if isinstance(node, (cst.Return, cst.Raise)):
            self.generic(node, env)
            return None
        if isinstance(node, (cst.Break, cst.Continue)):
            if self.loops:
                breaks, continues = self.loops[-1]
                (breaks if isinstance(node, cst.Break) else continues).append(dict(env))
            return None
        if isinstance(node, cst.Del):
            for name in _target_names(node.target):
                env.pop(name, None)
                env.pop(LIST + name, None)
            self.generic(node.target, env, skip_names=True)
            return env
        if isinstance(node, (cst.Import, cst.ImportFrom)):
            for alias in node.names if isinstance(node.names, Sequence) else ():
                name = alias.asname.name if alias.asname else alias.name
                if isinstance(name, cst.Name):
                    env.pop(name.value, None)
            return env
        if isinstance(node, (cst.Global, cst.Nonlocal, cst.Pass)):
            return env
        self.generic(node, env)
        return env

    def assign(
        self, targets: list[cst.BaseExpression], value: cst.BaseExpression, env: Env
    ) -> Env:
        holders: list[tuple] = []
        plain_names: list[str] = []
        other_targets: list[cst.BaseExpression] = []
        for t in targets:
            attr = self.self_attr(t)
            if attr is not None:
                holders.append(self.attr(attr).holder)
            elif isinstance(t, cst.Name) and t.value in self.holder_names:
                holders.append(self.local(t.value).holder)
            elif isinstance(t, cst.Name):
                plain_names.append(t.value)
            else:
                other_targets.append(t)
        tracked = [n for n in plain_names if n not in self.info.closure_names]
        if holders and not plain_names and not other_targets:
            ref = self.ref_of(value)
            for h in holders:
                self.b.bind(h, ref)
                if h[0] == "attr":
                    self.seq_append(h[2], value, env)
            self.expr(value, C_BIND, env)
        elif holders:
            for h in holders:
                self.b.bind(h, UNKNOWN)
            self.expr(value, C_ESCAPE, env)
        elif (
            tracked
            and len(plain_names) == 1
            and len(tracked) == 1
            and not other_targets
            and isinstance(value, cst.List)
        ):
            name = tracked[0]
            old = env.pop(LIST + name, None)
            if old is not None and any(
                isinstance(e, cst.Element)
                and isinstance(e.value, cst.Name)
                and e.value.value == name
                for e in value.elements
            ):
                self.escape_list(old)
            env.pop(name, None)
            self.new_list(name, value.elements, env)
            return env
        elif tracked and len(tracked) == len(plain_names) and len(plain_names) == 1 and not (
            other_targets
        ):
            inv = self.expr(value, C_DEF, env)
            name = tracked[0]
            env[name] = frozenset({inv}) if inv is not None else frozenset()
            env.pop(LIST + name, None)
            return env
        else:
            self.expr(value, C_ESCAPE, env)
        for t in other_targets:
            self.kill_target(t, env)
            self.target_reads(t, env)
        for n in plain_names:
            env.pop(n, None)
            env.pop(LIST + n, None)
        return env

    def kill_target(self, target: cst.BaseExpression, env: Env) -> None:
        for name in _target_names(target):
            env.pop(name, None)
            env.pop(LIST + name, None)
        for el in _self_attrs_in_target(target, self):
            self.b.bind(self.attr(el).holder, UNKNOWN)

    def target_reads(self, target: cst.BaseExpression, env: Env) -> None:
        """Subscripts/attributes in a target read their base expressions."""
        if isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                self.target_reads(el.value, env)
        elif isinstance(target, cst.StarredElement):
            self.target_reads(target.value, env)
        elif isinstance(target, cst.Subscript):
            self.expr(target.value, C_ESCAPE, env)
            for element in target.slice:
                self.generic_children(element, env)
        elif isinstance(target, cst.Attribute):
            if not self.is_self(target.value):
                self.expr(target.value, C_HARMLESS, env)

    # compound statements
    def c_If(self, node: cst.If, env: Env) -> Env | None:
        self.expr(node.test, C_ESCAPE, env)
        literal = self.literal(node.test)
        outer = self.conds
        if literal is not None:
            self.conds = outer | {literal}
        then = self.block(node.body, dict(env))
        if literal is not None:
            self.conds = outer | {negate(literal)}
        if node.orelse is None:
            other: Env | None = env
        elif isinstance(node.orelse, cst.If):
            other = self.c_If(node.orelse, dict(env))
        else:
            other = self.block(node.orelse.body, dict(env))
        self.conds = outer
        return _merge(then, other)

    def literal(self, test: cst.BaseExpression) -> tuple | None:
        """``name`` / ``not name`` / ``name is [not] None`` for a never-rebound parameter."""
        positive = True
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            test, positive = test.expression, False
        kind = "truthy"
        if (
            isinstance(test, cst.Comparison)
            and len(test.comparisons) == 1
            and isinstance(test.comparisons[0].comparator, cst.Name)
            and test.comparisons[0].comparator.value == "None"
            and isinstance(test.comparisons[0].operator, (cst.Is, cst.IsNot))
        ):
            kind = "isnone"
            if isinstance(test.comparisons[0].operator, cst.IsNot):
                positive = not positive
            test = test.left
        if not isinstance(test, cst.Name) or test.value not in self.params:
            return None
        if self._rebound is None:
            info = prescan(self.body)
            self._rebound = info.complex_bound | set(info.simple_rhs) | info.closure_names
        if test.value in self._rebound:
            return None
        return (self.scope_id, test.value, kind, positive)

    def _loop(self, body: cst.BaseSuite, env: Env, before_each: object = None) -> Env | None:
        head: Env = dict(env)
        breaks: list[Env | None] = []
        for _ in range(_LOOP_PASSES):
            breaks, continues = [], []
            self.loops.append((breaks, continues))
            body_env = dict(head)
            if callable(before_each):
                before_each(body_env)
            out = self.block(body, body_env)
            self.loops.pop()
            new_head = _merge(env, out, *continues) or {}
            if new_head == head:
                break
            head = new_head
        else:
            # No fixpoint in time: give up on everything live at the loop head.
            self.forget(head)
        return _merge(head, *breaks)

    def forget(self, env: Env) -> None:
        """Make every value tracked in ``env`` unknown (sound fallback)."""
        for key, value in env.items():
            if key.startswith(LIST):
                self.escape_list(value)
            else:
                for inv in value:
                    self.b.facts.invocations[inv].consumers.add(ESCAPE)

    def c_For(self, node: cst.For, env: Env) -> Env | None:
        self.expr(node.iter, C_ESCAPE, env)

        def bind_target(e: Env) -> None:
            self.kill_target(node.target, e)
            self.target_reads(node.target, e)

        after = self._loop(node.body, env, bind_target)
        if node.orelse is not None and after is not None:
            after = _merge(after, self.block(node.orelse.body, dict(after)))
        return after

    def c_While(self, node: cst.While, env: Env) -> Env | None:
        self.expr(node.test, C_ESCAPE, env)
        after = self._loop(node.body, env, lambda e: self.expr(node.test, C_ESCAPE, e))
        if node.orelse is not None and after is not None:
            after = _merge(after, self.block(node.orelse.body, dict(after)))
        return after

    def c_Try(self, node: cst.Try | cst.TryStar, env: Env) -> Env | None:
        body_out = self.block(node.body, dict(env))
        handler_in = _merge(env, body_out) or {}
        outs: list[Env | None] = []
        for handler in node.handlers:
            if handler.type is not None:
                self.expr(handler.type, C_ESCAPE, handler_in)
            h_env = dict(handler_in)
            if handler.name is not None:
                self.kill_target(handler.name.name, h_env)
            outs.append(self.block(handler.body, h_env))
        if node.orelse is not None and body_out is not None:
            body_out = self.block(node.orelse.body, dict(body_out))
        result = _merge(body_out, *outs)
        if node.finalbody is not None:
            fin_in = _merge(handler_in, result) or {}
            fin_out = self.block(node.finalbody.body, dict(fin_in))
            if fin_out is None:
                return None
            result = _merge(result, fin_out) if result is not None else None
        return result

    c_TryStar = c_Try

    def c_With(self, node: cst.With, env: Env) -> Env | None:
        for item in node.items:
            self.expr(item.item, C_ESCAPE, env)
            if item.asname is not None:
                self.kill_target(item.asname.name, env)
        return self.block(node.body, env)

    def c_Match(self, node: cst.Match, env: Env) -> Env | None:
        self.expr(node.subject, C_ESCAPE, env)
        outs: list[Env | None] = [env]
        for case in node.cases:
            c_env = dict(env)
            self.generic(case.pattern, c_env)
            if case.guard is not None:
                self.expr(case.guard, C_ESCAPE, c_env)
            outs.append(self.block(case.body, c_env))
        return _merge(*outs)

    def c_FunctionDef(self, node: cst.FunctionDef, env: Env) -> Env:
        for dec in node.decorators:
            self.expr(dec.decorator, C_ESCAPE, env)
        self.generic(node.params, env)
        env.pop(node.name.value, None)
        self.function(node, method_of=None)
        return env

    def c_ClassDef(self, node: cst.ClassDef, env: Env) -> Env:
        for dec in node.decorators:
            self.expr(dec.decorator, C_ESCAPE, env)
        for arg in (*node.bases, *node.keywords):
            self.expr(arg.value, C_ESCAPE, env)
        env.pop(node.name.value, None)
        family = self.b.family_of(node, self.nested_counter)
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else node.body.body
        cls_scope = _Scope(self.b, self.b._scope_id(node), prescan(body), None, family)
        # A Sequential subclass that keeps Sequential's forward: ``super().__init__(...)``
        # arguments are its items, in order.
        seq_class = any(
            (spec := self.b.spec_of(base.value)) is not None and spec.role is Role.SEQUENTIAL
            for base in node.bases
        ) and not any(
            isinstance(st, cst.FunctionDef) and st.name.value in ("forward", "__call__")
            for st in body
        )
        # Class bodies: walk statements; methods get their own scopes with ``self``.
        cls_env: Env = {}
        for stmt in body:
            if isinstance(stmt, cst.FunctionDef):
                for dec in stmt.decorators:
                    cls_scope.expr(dec.decorator, C_ESCAPE, cls_env)
                cls_scope.generic(stmt.params, cls_env)
                cls_scope.function(stmt, method_of=family, seq_class=seq_class)
            else:
                out = cls_scope.stmt(stmt, cls_env)
                cls_env = out if out is not None else {}
        return env

    def function(
        self, node: cst.FunctionDef, method_of: int | None, seq_class: bool = False
    ) -> None:
        params = node.params
        names = [p.name.value for p in (*params.posonly_params, *params.params)]
        all_params = set(names) | {p.name.value for p in params.kwonly_params}
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                all_params.add(star.name.value)
        self_name = self.self_name
        family = self.family
        if method_of is not None:
            decorators = {
                d.decorator.value for d in node.decorators if isinstance(d.decorator, cst.Name)
            }
            if names and not decorators & {"staticmethod", "classmethod"}:
                self_name, family = names[0], method_of
            else:
                self_name, family = None, None
        elif self_name is not None and self_name in all_params:
            self_name = None
        body = node.body.body
        scope = _Scope(
            self.b, self.b._scope_id(node), prescan(body, all_params), self_name, family
        )
        scope.seq_class = seq_class and node.name.value == "__init__"
        scope.params = all_params
        scope.body = body
        out = scope.run_body(body)
        if scope.seq_site is not None:
            state = out.get(SEQ_SELF) if out is not None else None
            site = self.b.facts.sites[scope.seq_site]
            if state is None or state.partial or scope.seq_broken:
                site.items = None
            else:
                site.items = state.graph

    # -- expressions
    def generic(self, node: cst.CSTNode, env: Env, skip_names: bool = False) -> None:
        """Walk every expression below ``node`` as an escape."""
        if isinstance(node, cst.BaseExpression) and not (
            skip_names and isinstance(node, cst.Name)
        ):
            self.expr(node, C_ESCAPE, env)
            return
        self.generic_children(node, env)

    def generic_children(self, node: cst.CSTNode, env: Env) -> None:
        for child in children(node):
            if isinstance(child, cst.BaseExpression):
                self.expr(child, C_ESCAPE, env)
            elif isinstance(child, (cst.Arg,)):
                self.expr(child.value, C_ESCAPE, env)
            elif isinstance(child, cst.Param):
                if child.default is not None:
                    self.expr(child.default, C_ESCAPE, env)
                if child.annotation is not None:
                    self.expr(child.annotation.annotation, C_HARMLESS, env)
            elif isinstance(child, cst.BaseSuite):
                self.block(child, dict(env))
            else:
                self.generic_children(child, env)

    def record_ref(self, ref: Ref, ctx: Ctx) -> None:
        if ctx.kind == "bind":
            self.b.use(ref, BIND)
        elif ctx.kind == "member":
            self.b.use(ref, member_use(ctx.seq))
        elif ctx.kind == "list":
            self.b.use(ref, list_use(ctx.seq))
        elif ctx.kind == "callee":
            self.b.use(ref, call_use(ctx.inv))
        elif ctx.kind in ("harmless", "discard"):
            self.b.use(ref, HARMLESS)
        else:
            self.b.use(ref, ESCAPED)

    def read_value(self, name: str, ctx: Ctx, env: Env) -> None:
        """A read of a local name that may hold invocation outputs."""
        for inv in env.get(name, frozenset()):
            self.consume(inv, ctx)

    def consume(self, inv: int, ctx: Ctx) -> None:
        consumers = self.b.facts.invocations[inv].consumers
        if ctx.kind == "sole_input" and ctx.ref is not None:
            consumers.add(ctx.ref)
        elif ctx.kind in ("discard", "harmless"):
            return
        else:
            consumers.add(ESCAPE)

    def expr(self, node: cst.BaseExpression, ctx: Ctx, env: Env) -> int | None:
        """Walk an expression whose value goes to ``ctx``.

        Returns the invocation id when the expression is a module call (used by
        ``name = module(x)`` assignments), else None.
        """
        if isinstance(node, cst.Call):
            return self.call(node, ctx, env)
        if isinstance(node, cst.Name):
            if node.value in self.holder_names:
                self.record_ref(self.local(node.value), ctx)
            else:
                if node.value in env:
                    self.read_value(node.value, ctx, env)
                state = env.get(LIST + node.value)
                if state is not None and ctx.kind not in ("harmless", "discard"):
                    self.escape_list(state)
                factory = self.factory(node.value)
                if factory is not None and ctx.kind != "callee":
                    self.b.facts.escaped_factories.add(factory)
            return None
        if isinstance(node, cst.Attribute):
            attr = self.self_attr(node)
            if attr is not None:
                if attr in _DYNAMIC_SELF and self.family is not None:
                    self.b.facts.dynamic_holders.add(("attr", self.family))
                self.record_ref(self.attr(attr), ctx)
                return None
            base = node.value
            ref = self.ref_of(base) if not isinstance(base, cst.Call) else UNKNOWN
            if not isinstance(ref, UnknownRef):
                kind = C_ESCAPE if node.attr.value in _OUTPUT_ATTRS else C_HARMLESS
                self.expr(base, kind, env)
            elif isinstance(base, cst.Name) and base.value in env:
                kind = C_HARMLESS if node.attr.value in _TENSOR_META_ATTRS else C_ESCAPE
                self.read_value(base.value, kind, env)
            else:
                self.expr(base, C_ESCAPE, env)
            return None
        if isinstance(node, _NESTED):
            # Nested scopes: closure reads were made escapes by the pre-scan; walk
            # for layer sites and their contexts (all escapes here).
            nested = _Scope(self.b, self.b._scope_id(node), ScopeInfo(), self.self_name, self.family)
            nested.generic_children(node, {})
            return None
        self.generic_children(node, env)
        return None

    def call(self, node: cst.Call, ctx: Ctx, env: Env) -> int | None:
        spec = self.b.spec_of(node.func)
        if spec is not None:
            sid = self.b.site_for(node, spec, self.scope_id)
            self.record_ref(SiteRef(sid), ctx)
            if spec.role is Role.SEQUENTIAL:
                self.sequential(sid, node.args, env)
            else:
                for arg in node.args:
                    self.expr(arg.value, C_ESCAPE, env)
            return None

        func = node.func
        helper = self.helper_site(node)
        if helper is not None:
            self.record_ref(SiteRef(helper), ctx)
            for arg in node.args:
                self.expr(arg.value, C_ESCAPE, env)
            return None
        if (
            self.seq_class
            and isinstance(func, cst.Attribute)
            and func.attr.value == "__init__"
            and isinstance(func.value, cst.Call)
            and isinstance(func.value.func, cst.Name)
            and func.value.func.value == "super"
        ):
            spec = self.b.catalog.lookup("torch.nn.Sequential")
            if spec is not None:
                sid = self.b.site_for(node, spec)
                self.b.use(SiteRef(sid), ESCAPED)  # instances are used elsewhere
                self.sequential(sid, node.args, env)
                # Later ``self.x = layer`` / ``self.add_module(...)`` append items.
                self.seq_site = sid
                graph = self.b.facts.sites[sid].items
                if graph is not None:
                    env[SEQ_SELF] = ListState(frozenset(), graph)
                return None
        if (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and self.list_method(node, func.value.value, func.attr.value, env)
        ):
            return None
        if isinstance(func, cst.Name) and func.value == "len" and len(node.args) == 1:
            arg = node.args[0].value
            if isinstance(arg, cst.Name) and LIST + arg.value in env:
                return None
        if (
            isinstance(func, cst.Attribute)
            and self.is_self(func.value)
            and self.family is not None
            and func.attr.value in (*_SELF_HARMLESS, "add_module", "register_module")
        ):
            if func.attr.value in _SELF_HARMLESS:
                for arg in node.args:
                    self.expr(arg.value, C_ESCAPE, env)
            else:
                self.self_setattr(node.args, env)
            return None
        callee = self.ref_of(func)
        if not isinstance(callee, UnknownRef):
            inv = self.b.inv_for(node, callee)
            self.expr(func, Ctx("callee", inv=inv.id), env)
            sole = (
                len(node.args) == 1
                and node.args[0].keyword is None
                and node.args[0].star == ""
            )
            arg_ctx = Ctx("sole_input", ref=callee) if sole else C_ESCAPE
            for arg in node.args:
                self.expr(arg.value, arg_ctx, env)
            if ctx.kind == "def":
                return inv.id
            self.consume(inv.id, ctx)
            return None

        if isinstance(func, cst.Attribute):
            base = func.value
            method = func.attr.value
            if isinstance(base, cst.Name) and base.value in env and method in _TENSOR_META_METHODS:
                self.read_value(base.value, C_HARMLESS, env)
                for arg in node.args:
                    self.expr(arg.value, C_ESCAPE, env)
                return None
        if isinstance(func, cst.Name) and self.family is not None and node.args:
            first = node.args[0].value
            if func.value in ("setattr", "getattr", "delattr", "hasattr") and self.is_self(first):
                if func.value == "setattr":
                    self.self_setattr(node.args[1:], env)
                    return None
                name = _string_value(node.args[1].value) if len(node.args) > 1 else None
                if name is None:
                    self.b.facts.dynamic_holders.add(("attr", self.family))
                elif func.value == "getattr":
                    self.b.use(self.attr(name), ESCAPED)
                for arg in node.args[1:]:
                    self.expr(arg.value, C_ESCAPE, env)
                return None
        self.expr(func, C_ESCAPE, env)
        for arg in node.args:
            self.expr(arg.value, C_ESCAPE, env)
        return None

    def self_setattr(self, args: Sequence[cst.Arg], env: Env) -> None:
        """``self.add_module(name, m)`` / ``setattr(self, name, m)``."""
        assert self.family is not None
        name = _string_value(args[0].value) if len(args) == 2 else None
        if name is None or any(a.star or a.keyword for a in args):
            self.b.facts.dynamic_holders.add(("attr", self.family))
            for arg in args:
                self.expr(arg.value, C_ESCAPE, env)
            return
        value = args[1].value
        self.b.bind(self.attr(name).holder, self.ref_of(value))
        self.seq_append(name, value, env)
        self.expr(value, C_BIND, env)

    def seq_append(self, name: str, value: cst.BaseExpression, env: Env) -> None:
        """In a Sequential subclass's ``__init__``, a submodule assignment appends."""
        state = env.get(SEQ_SELF)
        if self.seq_site is None or state is None:
            return
        if isinstance(value, (cst.Integer, cst.Float, cst.SimpleString, cst.ConcatenatedString)) or (
            isinstance(value, cst.Name) and value.value in ("True", "False", "None")
        ):
            return  # not a module: not an item
        if name in self.seq_names:
            self.seq_broken = True  # re-assignment keeps the first position
        self.seq_names.add(name)
        ref = self.ref_of(value)
        node: Ref = self.attr(name) if not isinstance(ref, UnknownRef) else UNKNOWN
        if not isinstance(node, UnknownRef):
            self.b.use(node, member_use(self.seq_site))
        env[SEQ_SELF] = ListState(
            state.lids, state.graph.then(Graph.single(node), self.conds), state.partial
        )

    def sequential(self, sid: int, args: Sequence[cst.Arg], env: Env) -> None:
        """Items of ``nn.Sequential(...)`` (or a Sequential subclass's ``super().__init__``)."""
        graph = EMPTY_GRAPH
        ordered = self.ordered_dict_items(args)
        if ordered is not None:
            for value in ordered:
                graph = graph.then(Graph.single(self.ref_of(value)), self.conds)
                self.expr(value, Ctx("member", seq=sid), env)
            self.b.facts.sites[sid].items = graph
            return
        for arg in args:
            if arg.star == "*" and isinstance(arg.value, cst.Name):
                state = env.get(LIST + arg.value.value)
                if state is not None and state.clean:
                    graph = graph.then(state.graph, self.conds)
                    for ref in state.graph.nodes():
                        self.b.use(ref, member_use(sid))
                    continue
            if arg.star or arg.keyword is not None:
                graph = graph.then(Graph.single(UNKNOWN), self.conds)
                self.expr(arg.value, C_ESCAPE, env)
                continue
            graph = graph.then(Graph.single(self.ref_of(arg.value)), self.conds)
            self.expr(arg.value, Ctx("member", seq=sid), env)
        self.b.facts.sites[sid].items = graph

    def ordered_dict_items(self, args: Sequence[cst.Arg]) -> list[cst.BaseExpression] | None:
        """``OrderedDict([("a", m), ...])`` or ``OrderedDict(a=m, ...)`` as the only argument."""
        if len(args) != 1 or args[0].star or args[0].keyword is not None:
            return None
        call = args[0].value
        if not isinstance(call, cst.Call):
            return None
        names = self.b.names(call.func)
        if not names or not set(names) <= {"collections.OrderedDict", "typing.OrderedDict"}:
            return None
        if all(a.keyword is not None and not a.star for a in call.args):
            return [a.value for a in call.args]
        if len(call.args) == 1 and not call.args[0].star and call.args[0].keyword is None:
            seq = call.args[0].value
            if isinstance(seq, (cst.List, cst.Tuple)):
                values = []
                for el in seq.elements:
                    pair = el.value
                    if (
                        isinstance(el, cst.StarredElement)
                        or not isinstance(pair, cst.Tuple)
                        or len(pair.elements) != 2
                        or any(isinstance(e, cst.StarredElement) for e in pair.elements)
                    ):
                        return None
                    values.append(pair.elements[1].value)
                return values
        return None

    # -- lists of layers
    def new_list(self, name: str, elements: Sequence[cst.BaseElement], env: Env) -> None:
        lid = len(self.b.facts.list_elements)
        self.b.facts.list_elements[lid] = set()
        state = ListState(frozenset({lid}), EMPTY_GRAPH)
        env[LIST + name] = self.extend_list(state, elements, env)

    def extend_list(
        self, state: ListState, elements: Sequence[cst.BaseElement], env: Env
    ) -> ListState:
        graph = state.graph
        for el in elements:
            if isinstance(el, cst.StarredElement):
                ref: Ref = UNKNOWN
                self.expr(el.value, C_ESCAPE, env)
            else:
                ref = self.ref_of(el.value)
                lid = min(state.lids)
                self.expr(el.value, Ctx("list", seq=lid), env)
            for lid in state.lids:
                self.b.facts.list_elements[lid].add(ref)
            graph = graph.then(Graph.single(ref), self.conds)
        return ListState(state.lids, graph, state.partial)

    def escape_list(self, state: ListState) -> None:
        self.b.facts.escaped_lists.update(state.lids)

    def list_method(self, node: cst.Call, name: str, method: str, env: Env) -> bool:
        """``layers.append(m)`` / ``extend([...])`` / ``insert(len(layers), m)``."""
        state = env.get(LIST + name)
        if state is None:
            return False
        args = node.args
        plain = all(not a.star and a.keyword is None for a in args)
        elements: list[cst.BaseElement] | None = None
        if method == "append" and len(args) == 1 and plain:
            elements = [cst.Element(args[0].value)]
        elif method == "extend" and len(args) == 1 and plain:
            if isinstance(args[0].value, (cst.List, cst.Tuple)):
                elements = list(args[0].value.elements)
        elif method == "insert" and len(args) == 2 and plain:
            pos = args[0].value
            if (
                isinstance(pos, cst.Call)
                and isinstance(pos.func, cst.Name)
                and pos.func.value == "len"
                and len(pos.args) == 1
                and isinstance(pos.args[0].value, cst.Name)
                and pos.args[0].value.value == name
            ):
                elements = [cst.Element(args[1].value)]
        elif method in ("copy", "index", "count", "__len__"):
            for arg in args:
                self.expr(arg.value, C_ESCAPE, env)
            if method == "copy":  # the copy can go anywhere: so can the items
                self.escape_list(state)
            return True
        if elements is None:
            self.escape_list(state)
            for arg in args:
                self.expr(arg.value, C_ESCAPE, env)
            env[LIST + name] = ListState(state.lids, state.graph, True)
            return True
        env[LIST + name] = self.extend_list(state, elements, env)
        return True

    # -- helper functions that return a layer
    def factory(self, name: str) -> int | None:
        """The inner site of helper ``name`` if the name means that helper here."""
        call = self.b.factories.get(name)
        if call is None or name in self.info.simple_rhs or name in self.local_bound:
            return None
        spec = self.b.spec_of(call.func)
        return None if spec is None else self.b.site_for(call, spec)

    def helper_site(self, call: cst.Call) -> int | None:
        if isinstance(call.func, cst.Name) and self.factory(call.func.value) is not None:
            return self.b.helper_call_site(call, call.func.value, self.scope_id)
        return None


def _returns(func: cst.FunctionDef) -> list[cst.Return]:
    """The return statements of a function, not of the scopes nested in it."""
    found: list[cst.Return] = []

    class _V(cst.CSTVisitor):
        def visit_Return(self, node: cst.Return) -> None:
            found.append(node)

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return node is func

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            return False

        def visit_Lambda(self, node: cst.Lambda) -> bool:
            return False

    walk(func, _V())
    return found


def _self_attrs_in_target(target: cst.BaseExpression, scope: _Scope) -> Iterator[str]:
    if isinstance(target, (cst.Tuple, cst.List)):
        for el in target.elements:
            yield from _self_attrs_in_target(el.value, scope)
    elif isinstance(target, cst.StarredElement):
        yield from _self_attrs_in_target(target.value, scope)
    else:
        name = scope.self_attr(target)
        if name is not None:
            yield name


class NameResolver(Protocol):
    """What a callee expression refers to: the set of dotted names it may denote
    through imports, or None/empty when it is not (only) an imported name."""

    def __call__(self, node: cst.BaseExpression) -> Collection[str] | None: ...


class LibcstNames:
    """:class:`NameResolver` backed by libcst's ``QualifiedNameProvider``."""

    def __init__(self, module: cst.Module) -> None:
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        self._table = wrapper.resolve(QualifiedNameProvider)

    def __call__(self, node: cst.BaseExpression) -> Collection[str] | None:
        names = self._table.get(node)
        if isinstance(names, LazyValue):
            names = names()
        if not names:
            return None
        if any(qn.source is not QualifiedNameSource.IMPORT for qn in names):
            return None
        return {qn.name for qn in names}


def collect(module: cst.Module, catalog: Catalog, names: NameResolver | None = None) -> FactBuilder:
    """Walk ``module`` and return the builder holding its facts and node table."""
    builder = FactBuilder(module, catalog, names or LibcstNames(module))
    _NAMES_MEMO.clear()
    try:
        builder.build()
    finally:
        _NAMES_MEMO.clear()
    return builder
