"""Expressions: what an expression denotes (a site, a holder) and where its value goes.

Part of :class:`~convbnlint.facts.scope.Scope` (a mixin: ``self`` is the scope).
Anything not modelled here is walked as an escape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from convbnlint.cstwalk import children
from convbnlint.facts.env import C_ESCAPE, C_HARMLESS, Ctx, Env
from convbnlint.facts.prescan import NESTED, ScopeInfo
from convbnlint.catalog import Apply
from convbnlint.ir import (
    ITEMS_ESCAPED,
    CallInput,
    ContainerState,
    BIND,
    ESCAPE,
    ESCAPED,
    HARMLESS,
    LIST,
    Ref,
    SiteRef,
    UNKNOWN,
    UnknownRef,
    call_use,
    list_use,
    member_use,
)

if TYPE_CHECKING:
    pass


class Expressions:
    # -- refs
    def ref_of(self, node: cst.BaseExpression) -> Ref:
        """The module object an expression denotes, if it is one we track."""
        if isinstance(node, cst.Call):
            inner = self.returns_self(node)
            if inner is not None:
                return self.ref_of(inner)
            spec = self.b.spec_of(node.func)
            if spec is not None:
                if spec.apply is not Apply.OBJECT:
                    return UNKNOWN  # its value is the output, not a module
                return SiteRef(self.b.site_for(node, spec))
            found = self.partial_spec(node.func)
            if found is not None:
                return SiteRef(self.b.site_for(node, found[0], partial=found[1]))
            helper = self.helper_site(node)
            return UNKNOWN if helper is None else SiteRef(helper)
        name = self.self_attr(node)
        if name is not None:
            return self.attr(name)
        if isinstance(node, cst.Name) and node.value in self.holder_names:
            return self.local(node.value)
        return UNKNOWN

    def returns_self(self, call: cst.Call) -> cst.Call | None:
        """``nn.Conv2d(...).to(dtype)``: a method that returns the module itself
        (``Framework.self_returning_methods``), called on a constructor call of a
        catalogued module class (or on another such chain): that inner call."""
        func = call.func
        if not (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Call)
            and not any(a.star for a in call.args)
        ):
            return None
        inner = func.value
        ctor = inner
        while (deeper := self.returns_self(ctor)) is not None:
            ctor = deeper
        spec = self.b.spec_of(ctor.func)
        if (
            spec is not None
            and spec.apply is Apply.OBJECT
            and func.attr.value in _self_returning(spec.framework)
        ):
            return inner
        return None

    # -- expressions
    def generic(self, node: cst.CSTNode, env: Env, skip_names: bool = False) -> None:
        """Walk every expression below ``node`` as an escape."""
        if isinstance(node, cst.BaseExpression) and not (skip_names and isinstance(node, cst.Name)):
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
            consumers.add(CallInput(ctx.ref, ctx.keywords) if ctx.keywords else ctx.ref)
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
                state = env.get(LIST + node.value)
                if isinstance(state, ContainerState) and not state.used:
                    env[LIST + node.value] = ContainerState(state.sid, state.graph, True)
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
                if attr in self.b.framework.dynamic_attrs and self.family is not None:
                    self.b.facts.dynamic_holders.add(("attr", self.family))
                self.record_ref(self.attr(attr), ctx)
                return None
            base = node.value
            ref = self.ref_of(base) if not isinstance(base, cst.Call) else UNKNOWN
            if not isinstance(ref, UnknownRef):
                fw = self.b.framework
                if node.attr.value in fw.container_mutators | fw.container_appenders:
                    self.b.use(ref, ITEMS_ESCAPED)  # (a modelled append never gets here)
                kind = C_ESCAPE if node.attr.value in self.b.framework.output_attrs else C_HARMLESS
                self.expr(base, kind, env)
            elif isinstance(base, cst.Name) and base.value in env:
                kind = (
                    C_HARMLESS
                    if node.attr.value in self.b.framework.tensor_meta_attrs
                    else C_ESCAPE
                )
                self.read_value(base.value, kind, env)
            else:
                self.expr(base, C_ESCAPE, env)
            return None
        if isinstance(node, NESTED):
            # Nested scopes: closure reads were made escapes by the pre-scan; walk
            # for layer sites and their contexts (all escapes here).
            nested = type(self)(
                self.b, self.b._scope_id(node), ScopeInfo(), self.self_name, self.family
            )
            nested.module_visible = False
            nested.is_function = True
            nested.generic_children(node, {})
            return None
        self.generic_children(node, env)
        return None


def _self_returning(framework: str) -> frozenset[str]:
    """The methods of ``framework``'s modules that return the module itself."""
    from convbnlint.catalog import framework_catalog

    try:
        return framework_catalog(framework).framework.self_returning_methods
    except KeyError:
        return frozenset()
