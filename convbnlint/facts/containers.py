"""Containers: the ordered items of ``Sequential(...)`` (and of a Sequential
subclass's ``super().__init__``), ``OrderedDict`` arguments, and local lists of
layers built with ``append``/``extend``/``+=``/``insert``.

Part of :class:`~convbnlint.facts.scope.Scope` (a mixin: ``self`` is the scope).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import libcst as cst

from convbnlint.catalog import LayerSpec, Role
from convbnlint.facts.arguments import argument
from convbnlint.facts.arguments import string_value
from convbnlint.facts.env import C_ESCAPE, Ctx, Env
from convbnlint.ir import (
    EMPTY_GRAPH,
    SiteRef,
    negate,
    LIST,
    SEQ_SELF,
    Graph,
    ListState,
    Ref,
    UNKNOWN,
    UnknownRef,
    member_use,
)

if TYPE_CHECKING:
    pass


class Containers:
    def seq_append(self, name: str, value: cst.BaseExpression, env: Env) -> None:
        """In a Sequential subclass's ``__init__``, a submodule assignment appends."""
        state = env.get(SEQ_SELF)
        if self.seq_site is None or state is None:
            return
        if isinstance(
            value, (cst.Integer, cst.Float, cst.SimpleString, cst.ConcatenatedString)
        ) or (isinstance(value, cst.Name) and value.value in ("True", "False", "None")):
            return  # not a module: not an item
        if name in self.seq_names:
            self.seq_broken = True  # re-assignment keeps the first position
        self.seq_names.add(name)
        ref = self.ref_of(value, env)
        node: Ref = self.attr(name) if not isinstance(ref, UnknownRef) else UNKNOWN
        if not isinstance(node, UnknownRef):
            self.b.use(node, member_use(self.seq_site))
        env[SEQ_SELF] = ListState(
            state.lids, state.graph.then(Graph.single(node), self.conds), state.partial
        )

    def sequential(
        self, sid: int, args: Sequence[cst.Arg], env: Env, spec: LayerSpec | None = None
    ) -> None:
        """Items of ``nn.Sequential(...)`` (or a Sequential subclass's ``super().__init__``)."""
        if spec is not None and (
            spec.items_from == "list"
            or (
                spec.items_from == "either"
                and len(args) == 1
                and not args[0].star
                and args[0].keyword is None
                and isinstance(args[0].value, (cst.List, cst.Tuple))
            )
        ):
            self.sequential_list(sid, args, env, spec)
            return
        graph = EMPTY_GRAPH
        ordered = self.ordered_dict_items(args)
        if ordered is not None:
            keys = [k for k, _ in ordered]
            site = self.b.facts.sites[sid]
            site.item_names = None if None in keys else frozenset(keys)  # type: ignore[arg-type]
            if len(set(keys)) < len(keys):
                site.items = None  # a repeated key keeps the first position, last value
                for _, value in ordered:
                    self.expr(value, C_ESCAPE, env)
                return
            for _, value in ordered:
                graph = graph.then(Graph.single(self.ref_of(value, env)), self.conds)
                self.expr(value, Ctx("member", seq=sid), env)
            site.items = graph
            return
        previous: cst.BaseExpression | None = None
        for arg in args:
            if previous is not None and isinstance(previous, cst.Call):
                names = self.b.names(previous.func)
                if names and all(n in self.b.not_2d_classes for n in names):
                    self.b.facts.sites[sid].after_not_2d.add(self.ref_of(arg.value, env))
            previous = arg.value
            if arg.star == "*" and isinstance(arg.value, cst.Name):
                state = env.get(LIST + arg.value.value)
                if isinstance(state, ListState) and state.clean:
                    graph = graph.then(state.graph, self.conds)
                    for ref in state.graph.nodes():
                        self.b.use(ref, member_use(sid))
                    continue
            if arg.star or arg.keyword is not None:
                graph = graph.then(Graph.single(UNKNOWN), self.conds)
                self.expr(arg.value, C_ESCAPE, env)
                continue
            branches = self.conditional_item(arg.value, Ctx("member", seq=sid), env)
            if branches is not None:
                graph = self.then_branches(graph, branches)
                continue
            graph = graph.then(Graph.single(self.ref_of(arg.value, env)), self.conds)
            self.expr(arg.value, Ctx("member", seq=sid), env)
        self.b.facts.sites[sid].items = graph

    # -- conditional items: ``nn.BatchNorm2d(c) if use_bn else nn.Identity()``
    def then_branches(self, graph: Graph, branches: list[tuple[Ref, frozenset]]) -> Graph:
        """``graph`` followed by one of ``branches`` (each under its own condition)."""
        out: Graph | None = None
        for ref, cond in branches:
            one = graph.then(Graph.single(ref), self.conds | cond)
            out = one if out is None else out.union(one)
        assert out is not None
        return out

    def conditional_item(
        self, value: cst.BaseExpression, ctx: Ctx, env: Env
    ) -> list[tuple[Ref, frozenset]] | None:
        """The branches of an item chosen at construction time, each with the path
        condition under which it is the item, or None when ``value`` is not one.

        ``A if test else B`` (each branch walked as an item in ``ctx``), and a call of
        a local alias bound once to such a choice of classes
        (``norm = nn.BatchNorm2d if use_bn else nn.Identity`` ... ``norm(c)``; see
        :meth:`class_choice`).  When ``test`` is a never-rebound parameter
        (:meth:`literal`) the branches carry it and its negation, so a norm in one
        branch gives a conditional finding (CBL003); otherwise both hold under the
        enclosing conditions only.
        """
        if isinstance(value, cst.IfExp):
            lit = self.literal(value.test)
            self.expr(value.test, C_ESCAPE, env)
            conds = (frozenset({lit}), frozenset({negate(lit)})) if lit else (frozenset(), frozenset())
            refs = []
            for branch, cond in zip((value.body, value.orelse), conds):
                refs.append((self.ref_of(branch), cond))
                self.expr(branch, ctx, env)
            return refs
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Name):
            choice = self.class_choice(value.func.value)
            if choice is None:
                return None
            test, specs = choice
            lit = self.literal(test)
            conds = (frozenset({lit}), frozenset({negate(lit)})) if lit else (frozenset(), frozenset())
            refs = []
            for index, (spec, cond) in enumerate(zip(specs, conds)):
                if spec is None:
                    refs.append((UNKNOWN, cond))
                    continue
                sid = self.b.site_for(value, spec, self.scope_id, branch=index)
                self.record_ref(SiteRef(sid), ctx)
                refs.append((SiteRef(sid), cond))
            for arg in value.args:
                self.expr(arg.value, C_ESCAPE, env)
            return refs
        return None

    def class_choice(
        self, name: str
    ) -> tuple[cst.BaseExpression, tuple[LayerSpec | None, LayerSpec | None]] | None:
        """``name`` is a local of this scope bound exactly once, to ``A if test else B``
        where ``A`` or ``B`` names a catalogued class: the test and both specs (None for
        a branch that is not a catalogued class).  Anything else: None."""
        rhs = self.info.simple_rhs.get(name, [])
        if (
            len(rhs) != 1
            or not isinstance(rhs[0], cst.IfExp)
            or name in self.info.complex_bound
            or name in self.info.closure_names
            or name in self.holder_names
            or not self.params  # a function's locals only
        ):
            return None
        choice = rhs[0]
        specs = tuple(
            self.b.spec_of(branch) if isinstance(branch, (cst.Name, cst.Attribute)) else None
            for branch in (choice.body, choice.orelse)
        )
        # A biased class behind an alias is left unknown: a finding would sit on a call
        # that builds something else on the other path (and the stages look for no such seed).
        specs = tuple(None if s is None or s.role is Role.BIASED else s for s in specs)
        if specs == (None, None):
            return None
        return choice.test, specs  # type: ignore[return-value]

    def sequential_list(
        self, sid: int, args: Sequence[cst.Arg], env: Env, spec: LayerSpec
    ) -> None:
        """Items of a container that takes them as one list (``keras.Sequential([...])``)."""
        call = cst.Call(func=cst.Name("_"), args=args)
        index = spec.items_index if spec.items_from == "list" else 0
        value = argument(call, spec.items_param or "", index)
        graph: Graph | None = EMPTY_GRAPH
        if value is None and any(a.star for a in args):
            graph = None
        elif isinstance(value, (cst.List, cst.Tuple)):
            for el in value.elements:
                if isinstance(el, cst.StarredElement):
                    graph = graph.then(Graph.single(UNKNOWN), self.conds)  # type: ignore[union-attr]
                    self.expr(el.value, C_ESCAPE, env)
                    continue
                graph = graph.then(Graph.single(self.ref_of(el.value, env)), self.conds)  # type: ignore[union-attr]
                self.expr(el.value, Ctx("member", seq=sid), env)
        elif isinstance(value, cst.Name) and isinstance(env.get(LIST + value.value), ListState):
            state = env[LIST + value.value]
            if state.clean:
                graph = state.graph
                for ref in state.graph.nodes():
                    self.b.use(ref, member_use(sid))
            else:
                graph = None
                self.expr(value, C_ESCAPE, env)
        elif value is not None and not (isinstance(value, cst.Name) and value.value == "None"):
            graph = None
            self.expr(value, C_ESCAPE, env)
        for arg in args:
            if arg.value is not value:
                self.expr(arg.value, C_ESCAPE, env)
        self.b.facts.sites[sid].items = graph

    def ordered_dict_items(
        self, args: Sequence[cst.Arg]
    ) -> list[tuple[str | None, cst.BaseExpression]] | None:
        """``OrderedDict([("a", m), ...])`` or ``OrderedDict(a=m, ...)`` as the only
        argument: (key or None when not a literal, value) pairs."""
        if len(args) != 1 or args[0].star or args[0].keyword is not None:
            return None
        call = args[0].value
        if not isinstance(call, cst.Call):
            return None
        names = self.b.names(call.func)
        if not names or not set(names) <= {"collections.OrderedDict", "typing.OrderedDict"}:
            return None
        if all(a.keyword is not None and not a.star for a in call.args):
            return [(a.keyword.value, a.value) for a in call.args]  # type: ignore[union-attr]
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
                    values.append((string_value(pair.elements[0].value), pair.elements[1].value))
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
                branches = self.conditional_item(
                    el.value, Ctx("list", seq=min(state.lids)), env
                )
                if branches is not None:
                    for lid in state.lids:
                        self.b.facts.list_elements[lid].update(r for r, _ in branches)
                    graph = self.then_branches(graph, branches)
                    continue
                ref = self.ref_of(el.value, env)
                lid = min(state.lids)
                if self.is_self(el.value):
                    self.b.facts.self_lists.update(state.lids)
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
        if not isinstance(state, ListState):
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
