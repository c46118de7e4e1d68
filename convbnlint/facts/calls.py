"""Calls: constructors of catalogued classes, module invocations, helpers that
return a layer, ``super().__init__`` of a container subclass, ``setattr``/``getattr``
and submodule registration on ``self``.

Part of :class:`~convbnlint.facts.scope.Scope` (a mixin: ``self`` is the scope).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import libcst as cst

from convbnlint.catalog import Apply, LayerSpec, Role
from convbnlint.facts.arguments import argument, call_constant, string_value
from convbnlint.facts.env import C_BIND, C_ESCAPE, C_HARMLESS, Ctx, Env
from convbnlint.ir import (
    ESCAPED,
    ITEMS_ESCAPED,
    LIST,
    SEQ_SELF,
    ContainerState,
    Graph,
    ListState,
    SiteRef,
    UnknownRef,
    call_use,
)

if TYPE_CHECKING:
    pass


class Calls:
    def call(self, node: cst.Call, ctx: Ctx, env: Env) -> int | None:
        inner = self.returns_self(node)
        if inner is not None:  # ``nn.Conv2d(...).to(dtype)`` is the module itself
            self.expr(inner, ctx, env)
            for arg in node.args:
                self.expr(arg.value, C_ESCAPE, env)
            return None
        spec = self.b.spec_of(node.func)
        partial = None
        if spec is None:
            found = self.partial_spec(node.func)
            if found is not None:
                spec, partial = found
        if spec is not None:
            sid = self.b.site_for(node, spec, self.scope_id, partial)
            if spec.apply is Apply.INPUT_ARG:
                return self.apply_input_arg(node, sid, spec, ctx, env)
            self.record_ref(SiteRef(sid), ctx)
            if spec.role is Role.SEQUENTIAL:
                self.sequential(sid, node.args, env, spec)
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
            self.seq_spec is not None
            and isinstance(func, cst.Attribute)
            and func.attr.value == "__init__"
            and isinstance(func.value, cst.Call)
            and isinstance(func.value.func, cst.Name)
            and func.value.func.value == "super"
        ):
            spec = self.seq_spec
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
            and self.container_method(node, func.value.value, func.attr.value, env)
        ):
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
            and func.attr.value
            in self.b.framework.submodule_enumerators | self.b.framework.submodule_registrars
        ):
            if func.attr.value in self.b.framework.submodule_enumerators:
                for arg in node.args:
                    self.expr(arg.value, C_ESCAPE, env)
            else:
                self.self_setattr(node.args, env)
            return None
        callee = self.ref_of(func)
        if not isinstance(callee, UnknownRef):
            inv = self.b.inv_for(node, callee)
            self.expr(func, Ctx("callee", inv=inv.id), env)
            # The input: the one positional argument; keyword arguments beside it
            # (``bn(x, training=False)``) go with it, for the catalog to judge.
            args = node.args
            sole = bool(args) and args[0].keyword is None and not any(a.star for a in args)
            # Other positionals as ("#<slot>", value): ``bn(x, True)`` (Haiku).
            keywords = tuple(
                (a.keyword.value if a.keyword else f"#{i}", call_constant(a.value))
                for i, a in enumerate(args)
                if i > 0
            )
            arg_ctx = Ctx("sole_input", ref=callee, keywords=keywords) if sole else C_ESCAPE
            for i, arg in enumerate(args):
                self.expr(arg.value, arg_ctx if i == 0 else C_ESCAPE, env)
            if ctx.kind == "def":
                return inv.id
            self.consume(inv.id, ctx)
            return None

        if isinstance(func, cst.Attribute):
            base = func.value
            method = func.attr.value
            if (
                isinstance(base, cst.Name)
                and base.value in env
                and method in self.b.framework.tensor_meta_methods
            ):
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
                name = string_value(node.args[1].value) if len(node.args) > 1 else None
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

    def apply_input_arg(
        self, node: cst.Call, sid: int, spec: LayerSpec, ctx: Ctx, env: Env
    ) -> int | None:
        """A call that builds a layer and applies it to its input argument
        (``tf.compat.v1.layers.conv2d(x, ...)``): a site and an invocation of it."""
        ref = SiteRef(sid)
        inv = self.b.inv_for(node, ref)
        self.b.use(ref, call_use(inv.id))
        value = argument(node, spec.input_param or "", spec.input_index)
        for arg in node.args:
            if value is not None and arg.value is value:
                self.expr(arg.value, Ctx("sole_input", ref=ref), env)
            else:
                self.expr(arg.value, C_ESCAPE, env)
        if ctx.kind == "def":
            return inv.id
        self.consume(inv.id, ctx)
        return None

    def container_method(self, node: cst.Call, name: str, method: str, env: Env) -> bool:
        """``model.add(layer)`` on a container held in a local name (appends while the
        name has not been used otherwise), and the framework's other container
        methods (``insert``, ``pop``...): the items become unknown."""
        fw = self.b.framework
        if method not in fw.container_appenders and method not in fw.container_mutators:
            return False
        state = env.get(LIST + name)
        plain = len(node.args) == 1 and not node.args[0].star and node.args[0].keyword is None
        if (
            isinstance(state, ContainerState)
            and method in fw.container_appenders
            and plain
            and name in self.holder_names
        ):
            site = self.b.facts.sites[state.sid]
            value = node.args[0].value
            if state.used or state.broken or site.items is None:
                env[LIST + name] = ContainerState(state.sid, state.graph, True, True)
                site.items = None
                self.expr(value, C_ESCAPE, env)
                return True
            ref = self.ref_of(value)
            graph = state.graph.then(Graph.single(ref), self.conds)
            env[LIST + name] = ContainerState(state.sid, graph)
            site.items = graph
            self.expr(value, Ctx("member", seq=state.sid), env)
            return True
        if name in self.holder_names:
            self.b.use(self.local(name), ITEMS_ESCAPED)
            if isinstance(state, ContainerState):
                env[LIST + name] = ContainerState(state.sid, state.graph, True, True)
                self.b.facts.sites[state.sid].items = None
        return False

    def self_setattr(self, args: Sequence[cst.Arg], env: Env) -> None:
        """``self.add_module(name, m)`` / ``setattr(self, name, m)``."""
        assert self.family is not None
        name = string_value(args[0].value) if len(args) == 2 else None
        if name is None or any(a.star or a.keyword for a in args):
            self.b.facts.dynamic_holders.add(("attr", self.family))
            for arg in args:
                self.expr(arg.value, C_ESCAPE, env)
            return
        value = args[1].value
        self.b.bind(self.attr(name).holder, self.ref_of(value))
        self.seq_append(name, value, env)
        self.expr(value, C_BIND, env)

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
