"""Statements: simple and compound statements, function and class definitions.

Part of :class:`~convbnlint.facts.scope.Scope` (a mixin: ``self`` is the scope).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import libcst as cst

from convbnlint.catalog import LayerSpec, Role
from convbnlint.facts.env import (
    C_BIND,
    C_DEF,
    C_DISCARD,
    C_ESCAPE,
    C_HARMLESS,
    LOOP_PASSES,
    Env,
    merge_envs,
)
from convbnlint.facts.prescan import prescan, target_names
from convbnlint.ir import (
    ITEMS_ESCAPED,
    UnknownRef,
    ContainerState,
    SiteRef,
    ESCAPE,
    LIST,
    SEQ_SELF,
    UNKNOWN,
    negate,
)

if TYPE_CHECKING:
    from convbnlint.facts.scope import Scope


class Statements:
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
            if isinstance(target, cst.Name) and isinstance(
                env.get(LIST + target.value), ContainerState
            ):
                self.b.facts.sites[env.pop(LIST + target.value).sid].items = None
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
            for name in target_names(node.target):
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

    def assign(self, targets: list[cst.BaseExpression], value: cst.BaseExpression, env: Env) -> Env:
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
                else:
                    env.pop(LIST + h[2], None)
            self.expr(value, C_BIND, env)
            self.hold_container(holders, ref, env)
        elif holders:
            for h in holders:
                self.b.bind(h, UNKNOWN)
                if h[0] == "local":
                    env.pop(LIST + h[2], None)
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
        elif (
            tracked
            and len(tracked) == len(plain_names)
            and len(plain_names) == 1
            and not (other_targets)
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

    def hold_container(self, holders: list[tuple], ref: object, env: Env) -> None:
        """``model = Sequential([...])``: later ``model.add(...)`` append to it."""
        if (
            len(holders) != 1
            or holders[0][0] != "local"
            or not isinstance(ref, SiteRef)
            or not self.b.framework.container_appenders
        ):
            return
        site = self.b.facts.sites[ref.site]
        if site.spec.role is Role.SEQUENTIAL and site.items is not None:
            env[LIST + holders[0][2]] = ContainerState(ref.site, site.items)

    def kill_target(self, target: cst.BaseExpression, env: Env) -> None:
        for name in target_names(target):
            env.pop(name, None)
            env.pop(LIST + name, None)
        for el in self_attrs_in_target(target, self):
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
            if self.is_self(target.value):
                if target.attr.value in self.b.framework.state_attrs and self.family is not None:
                    # ``self.trainable = False``: every layer of the class may change.
                    self.b.facts.dynamic_holders.add(("attr", self.family))
            else:
                # ``bn.trainable = False``, ``model.trainable = False``: an object
                # changed in place is no longer what its constructor says.
                ref = self.ref_of(target.value) if not isinstance(target.value, cst.Call) else UNKNOWN
                if not isinstance(ref, UnknownRef):
                    self.b.use(ref, ITEMS_ESCAPED)
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
        return merge_envs(then, other)

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
        for _ in range(LOOP_PASSES):
            breaks, continues = [], []
            self.loops.append((breaks, continues))
            body_env = dict(head)
            if callable(before_each):
                before_each(body_env)
            out = self.block(body, body_env)
            self.loops.pop()
            new_head = merge_envs(env, out, *continues) or {}
            if new_head == head:
                break
            head = new_head
        else:
            # No fixpoint in time: give up on everything live at the loop head.
            self.forget(head)
        return merge_envs(head, *breaks)

    def forget(self, env: Env) -> None:
        """Make every value tracked in ``env`` unknown (sound fallback)."""
        for key, value in env.items():
            if isinstance(value, ContainerState):
                self.b.facts.sites[value.sid].items = None
            elif key.startswith(LIST):
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
            after = merge_envs(after, self.block(node.orelse.body, dict(after)))
        return after

    def c_While(self, node: cst.While, env: Env) -> Env | None:
        self.expr(node.test, C_ESCAPE, env)
        after = self._loop(node.body, env, lambda e: self.expr(node.test, C_ESCAPE, e))
        if node.orelse is not None and after is not None:
            after = merge_envs(after, self.block(node.orelse.body, dict(after)))
        return after

    def c_Try(self, node: cst.Try | cst.TryStar, env: Env) -> Env | None:
        body_out = self.block(node.body, dict(env))
        handler_in = merge_envs(env, body_out) or {}
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
        result = merge_envs(body_out, *outs)
        if node.finalbody is not None:
            fin_in = merge_envs(handler_in, result) or {}
            fin_out = self.block(node.finalbody.body, dict(fin_in))
            if fin_out is None:
                return None
            result = merge_envs(result, fin_out) if result is not None else None
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
        return merge_envs(*outs)

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
        cls_scope = type(self)(self.b, self.b._scope_id(node), prescan(body), None, family)
        cls_scope.module_visible = self.module_visible and not self.is_function
        # A Sequential subclass that keeps Sequential's forward: ``super().__init__(...)``
        # arguments are its items, in order.
        seq_specs = [
            spec
            for base in node.bases
            if (spec := self.b.spec_of(base.value)) is not None and spec.role is Role.SEQUENTIAL
        ]
        forward = self.b.framework.forward_methods
        seq_spec = seq_specs[0] if seq_specs else None
        if any(isinstance(st, cst.FunctionDef) and st.name.value in forward for st in body):
            seq_spec = None
        # Class bodies: walk statements; methods get their own scopes with ``self``.
        cls_env: Env = {}
        for stmt in body:
            if isinstance(stmt, cst.FunctionDef):
                for dec in stmt.decorators:
                    cls_scope.expr(dec.decorator, C_ESCAPE, cls_env)
                cls_scope.generic(stmt.params, cls_env)
                cls_scope.function(stmt, method_of=family, seq_spec=seq_spec)
            else:
                out = cls_scope.stmt(stmt, cls_env)
                cls_env = out if out is not None else {}
        return env

    def function(
        self, node: cst.FunctionDef, method_of: int | None, seq_spec: LayerSpec | None = None
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
        scope = type(self)(
            self.b, self.b._scope_id(node), prescan(body, all_params), self_name, family
        )
        scope.seq_spec = seq_spec if node.name.value == "__init__" else None
        scope.module_visible = self.module_visible and not self.is_function
        scope.is_function = True
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


def self_attrs_in_target(target: cst.BaseExpression, scope: Scope) -> Iterator[str]:
    if isinstance(target, (cst.Tuple, cst.List)):
        for el in target.elements:
            yield from self_attrs_in_target(el.value, scope)
    elif isinstance(target, cst.StarredElement):
        yield from self_attrs_in_target(target.value, scope)
    else:
        name = scope.self_attr(target)
        if name is not None:
            yield name
