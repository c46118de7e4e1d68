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
    C_RETURN,
    C_TEST,
    LOOP_PASSES,
    Env,
    merge_envs,
)
from convbnlint.facts.prescan import function_info, prescan, target_names
from convbnlint.ir import (
    ContainerState,
    SiteRef,
    ListState,
    ESCAPE,
    ESCAPED,
    LIST,
    NOT_2D,
    OTHER,
    SEQ_SELF,
    method_use,
    UNKNOWN,
    CLASS_PATCHED,
    ElementRef,
    FamilyRef,
    HolderRef,
    ItemRef,
    Ref,
    ScopeFacts,
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
        self.b.current = node
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
            if isinstance(target, cst.Attribute) and self.self_attr(target) is None:
                self.attribute_store(target.value, target.attr.value, None, env)
            return env
        if isinstance(node, cst.Expr):
            self.expr(node.value, C_DISCARD, env)
            return env
        if isinstance(node, cst.Return) and node.value in self.b.factory_calls:
            self.expr(node.value, C_HARMLESS, env)  # callers' uses are the object's uses
            return None
        if isinstance(node, cst.Return):
            if node.value is not None:
                self.expr(node.value, C_RETURN, env)
            return None
        if isinstance(node, cst.Raise):
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
        if (
            len(targets) == 1
            and isinstance(targets[0], cst.Subscript)
            and self.refs_of(targets[0].value, env)
        ):
            # ``self.blocks["a"] = m`` / ``self.layers[0] = m``: into a collection.
            target = targets[0]
            receivers = self.refs_of(target.value, env)
            guard = target.value.value if isinstance(target.value, cst.Name) else None
            for ref in receivers:
                self.use(ref, ("method", "__setitem__", "none", self.scope_id), guard)
            for element in target.slice:
                self.generic_children(element, env)
            self.walk_receiver(target.value, env)
            self.collection_add([cst.Arg(value)], receivers, env)
            return env
        if (
            len(targets) == 1
            and isinstance(targets[0], (cst.Tuple, cst.List))
            and isinstance(value, (cst.Tuple, cst.List))
            and len(targets[0].elements) == len(value.elements)
            and all(isinstance(e.value, cst.Name) for e in targets[0].elements)
            and not any(isinstance(e, cst.StarredElement) for e in value.elements)
            and all(isinstance(e.value, cst.List) for e in value.elements)
        ):
            # ``a, b = [], []``: one list each.
            for t, v in zip(targets[0].elements, value.elements):
                env = self.assign([t.value], v.value, env)
            return env
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
        # A value that goes into an object (not a plain local): a bias read in it is stored.
        storing = bool(other_targets) or any(h[0] == "attr" for h in holders)
        old_storing = self.storing
        self.storing = self.storing or storing
        try:
            if holders and not plain_names and not other_targets:
                refs = self.refs_of(value, env)
                for h in holders:
                    for ref in refs or [UNKNOWN]:
                        self.b.bind(h, ref)
                    self.note_not_2d_holder(h, value)
                    if h[0] == "attr":
                        self.seq_append(h[2], value, env)
                        if h[2] in self.family_vocab(h[1]).state_attrs:
                            # ``self.trainable = False``: every layer of the class may change.
                            self.b.facts.dynamic_holders.add(("attr", h[1]))
                    else:
                        env.pop(LIST + h[2], None)
                self.expr(value, C_BIND if refs else C_ESCAPE, env)
                self.start_builder(targets, value, env)
                self.hold_container(holders, refs[0] if len(refs) == 1 else UNKNOWN, env)
                return env
            if holders:
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
                name = tracked[0]
                flat = self.not_2d(value, env)
                refs = self.refs_of(value, env)
                if refs:
                    # A local alias of module objects (``m = self.features[0]``).
                    self.expr(value, C_BIND, env)
                    env[name] = frozenset(refs)
                else:
                    inv = self.expr(value, C_DEF, env)
                    env[name] = frozenset({inv if inv is not None else OTHER})
                env.pop(LIST + name, None)
                env.pop(NOT_2D + name, None)
                if flat:
                    env[NOT_2D + name] = frozenset({OTHER})
                return env
            else:
                self.expr(value, C_ESCAPE, env)
        finally:
            self.storing = old_storing
        single = len(targets) == 1
        flat = isinstance(value, cst.Call) and self.makes_not_2d(value)
        for t in other_targets:
            self.kill_target(t, env)
            if isinstance(t, cst.Attribute):
                self.attribute_store(t.value, t.attr.value, value if single else None, env)
            else:
                self.target_reads(t, env)
            if flat and isinstance(t, (cst.Tuple, cst.List)):
                for el in t.elements:  # ``out, state = self.lstm(x)``
                    if isinstance(el.value, cst.Name):
                        env[NOT_2D + el.value.value] = frozenset({OTHER})
        for n in plain_names:
            env.pop(n, None)
            env.pop(LIST + n, None)
            env.pop(NOT_2D + n, None)
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
            env.pop(NOT_2D + name, None)
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
                if self.family is not None and target.attr.value in self.family_vocab(self.family).state_attrs:
                    # ``self.trainable = False``: every layer of the class may change.
                    self.b.facts.dynamic_holders.add(("attr", self.family))
            else:
                self.attribute_store(target.value, target.attr.value, None, env)

    # compound statements
    def c_If(self, node: cst.If, env: Env) -> Env | None:
        self.expr(node.test, C_TEST, env)
        literal = self.literal(node.test)
        outer = self.conds
        if literal is not None:
            self.conds = outer | {literal}
        guards = self.guards
        narrowed = self.narrowing(node.test)
        if narrowed:
            self.guards = {**guards, **narrowed}
        then = self.block(node.body, dict(env))
        self.guards = guards
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
            node = self.fn_node
            info = function_info(node) if node is not None else prescan(self.body)
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
                    if isinstance(inv, int):
                        if inv != OTHER:
                            self.b.facts.invocations[inv].consumers.add(ESCAPE)
                    else:
                        self.b.use(inv, ESCAPED)

    def c_For(self, node: cst.For, env: Env) -> Env | None:
        elements = self.iteration(node.iter, env)

        def bind_target(e: Env) -> None:
            self.bind_loop_target(node.target, elements, e)

        after = self._loop(node.body, env, bind_target)
        if node.orelse is not None and after is not None:
            after = merge_envs(after, self.block(node.orelse.body, dict(after)))
        return after

    def c_While(self, node: cst.While, env: Env) -> Env | None:
        self.expr(node.test, C_TEST, env)
        after = self._loop(node.body, env, lambda e: self.expr(node.test, C_TEST, e))
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
        for dec in node.decorators:
            # A class decorator may replace any method of the class (its forward,
            # ``train``), so it reaches everything its instances hold; one from
            # code outside the file (a registry) is taken to return the class.
            func = dec.decorator.func if isinstance(dec.decorator, cst.Call) else dec.decorator
            if not self.b.outside(func) and not self.b.registrar(func):
                self.b.use(FamilyRef(family), CLASS_PATCHED)
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else node.body.body
        cls_id = self.b._scope_id(node)
        self.b.facts.scopes.setdefault(cls_id, ScopeFacts(None, self.scope_id, None))
        cls_scope = type(self)(
            self.b, cls_id, prescan(body), None, family, outer=self.nested_visible()
        )
        cls_scope.is_class_body = True
        cls_scope.module_visible = self.module_visible and not self.is_function
        # A Sequential subclass that keeps Sequential's forward: ``super().__init__(...)``
        # arguments are its items, in order.
        seq_specs = [
            spec
            for base in node.bases
            if (spec := self.b.spec_of(base.value)) is not None and spec.role is Role.SEQUENTIAL
        ]
        seq_spec = seq_specs[0] if seq_specs and self.b.seq_forward_kept(family) else None
        forward = self.b.framework.forward_methods
        # Class bodies: walk statements; methods get their own scopes with ``self``.
        cls_env: Env = {}
        for stmt in body:
            if isinstance(stmt, cst.FunctionDef):
                for dec in stmt.decorators:
                    cls_scope.expr(dec.decorator, C_ESCAPE, cls_env)
                    if self.b.own_decorator(dec.decorator):
                        # A decorator of the file may put anything in the method's
                        # place (a forward that skips the norm): the class changed.
                        self.b.use(FamilyRef(family), CLASS_PATCHED)
                cls_scope.generic(stmt.params, cls_env)
                cls_scope.function(stmt, method_of=family, seq_spec=seq_spec)
            else:
                for name in _forward_aliases(stmt, forward):
                    self.b.facts.roots.add(name)  # ``forward = other``: other computes it
                out = cls_scope.stmt(stmt, cls_env)
                cls_env = out if out is not None else {}
        # Module objects a class body holds are class attributes: shared by every
        # instance, reachable as ``Cls.name`` and ``self.name`` from anywhere.
        for name in cls_scope.own_holders:
            self.b.use(cls_scope.local(name), ESCAPED)
        cls_scope.forget(cls_env)
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
        decorators = {
            d.decorator.value for d in node.decorators if isinstance(d.decorator, cst.Name)
        }
        if method_of is not None:
            if names and not decorators & {"staticmethod", "classmethod"}:
                self_name, family = names[0], method_of
            else:
                self_name, family = None, None
        elif self_name is not None and self_name in all_params:
            self_name = None
        body = node.body.body
        sid = self.b._scope_id(node)
        name = node.name.value
        self.b.facts.scopes[sid] = ScopeFacts(name, self.scope_id, family)
        info = function_info(node, all_params)
        scope = type(self)(self.b, sid, info, self_name, family, outer=self.nested_visible())
        if info.declared:
            self.rebound_elsewhere(info.declared)
        scope.seq_spec = seq_spec if name == "__init__" else None
        scope.module_visible = self.module_visible and not self.is_function
        scope.is_function = True
        scope.params = all_params
        scope.body = body
        scope.fn_node = node
        key: tuple | None
        if method_of is not None and (method_of, name) in self.b.functions:
            key = (method_of, name)
        elif method_of is None and self.scope_id == self.b._scope_id(self.b.module):
            key = (None, name) if (None, name) in self.b.functions else None
        else:
            key = None
        if key is None and method_of is None:
            from convbnlint.facts.builder import Signature

            self.b.nested_functions.setdefault((None, name), []).append(
                Signature(node, sid, False)
            )
        scope.fn_key = key
        if name in self.b.framework.train_methods and self_name is not None and len(names) > 1:
            scope.mode_param = names[1]
        env: Env = {}
        for param in names + [p.name.value for p in params.kwonly_params]:
            if param == self_name:
                continue
            ref: Ref = HolderRef(("param", sid, param))
            if param in scope.info.closure_names:
                self.b.use(ref, ESCAPED)
            else:
                env[param] = frozenset({ref})
        out = scope.run_body(body, env)
        scope.finish_builders(out)
        if scope.seq_site is not None:
            state = out.get(SEQ_SELF) if out is not None else None
            site = self.b.facts.sites[scope.seq_site]
            if state is None or state.partial or scope.seq_broken:
                site.items = None
            else:
                site.items = state.graph

    # -- containers filled after construction
    def start_builder(self, targets: list[cst.BaseExpression], value: cst.BaseExpression, env: Env) -> None:
        """``self.features = nn.Sequential(...)``: later ``append``/``add_module``
        calls in this function add its items (see ``builder_append``)."""
        for t in targets:
            key = self.builder_key(t)
            if key is None:
                continue
            env.pop(key, None)
            if isinstance(value, cst.Call):
                spec = self.b.spec_of(value.func)
                if spec is not None and spec.role is Role.SEQUENTIAL:
                    sid = self.b.site_for(value, spec)
                    graph = self.b.facts.sites[sid].items
                    if graph is not None:
                        env[key] = ListState(frozenset({sid}), graph)

    def finish_builders(self, out: Env | None) -> None:
        """The containers filled in this function: their items as they are at its end."""
        started = {k for k in self.builder_keys}
        for key in started:
            state = out.get(key) if out is not None else None
            for sid in self.builder_keys[key]:
                site = self.b.facts.sites[sid]
                if state is None or state.partial or state.lids != frozenset({sid}):
                    site.items = None
                else:
                    site.items = state.graph

    # -- loops over submodules
    def iteration(self, node: cst.BaseExpression, env: Env) -> tuple | None:
        """What a loop over ``node`` binds: a *shape*, None (nothing we follow; the
        iterable is then walked as an escape), ``("refs", refs)`` (each item may be
        any of these references: "any submodule of X", "an item of X") or
        ``("tuple", shapes)`` (``enumerate``, ``zip``, ``named_modules``...)."""
        fw = self.b.framework
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name):
            name = node.func.value
            args = node.args
            plain = bool(args) and not any(a.star or a.keyword for a in args)
            if plain and not self.shadowed(name):
                if name in ("reversed", "list", "tuple", "sorted", "iter") and len(args) == 1:
                    return self.iteration(args[0].value, env)
                if name == "enumerate" and len(args) <= 2:
                    for extra in args[1:]:
                        self.expr(extra.value, C_ESCAPE, env)
                    return ("tuple", [None, self.iteration(args[0].value, env)])
                if name == "zip":
                    return ("tuple", [self.iteration(a.value, env) for a in args])
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            method = node.func.attr.value
            receiver = node.func.value
            if method in self.b.module_enumerators and not self.b.names(receiver):
                if self.is_self(receiver) or self.is_super(receiver):
                    targets: list = [self.self_ref()]
                else:
                    targets = self.receiver_refs(receiver, env)
                for t in targets:
                    if t is not None:
                        self.b.use(t, ("method", method, "none", self.scope_id))
                if not (self.is_self(receiver) or self.is_super(receiver)):
                    self.walk_receiver(receiver, env)
                for arg in node.args:
                    self.expr(arg.value, C_ESCAPE, env)
                shape = ("refs", [self.enumerated(method, t) for t in targets])
                return ("tuple", [None, shape]) if method in fw.named_enumerators else shape
            if (
                (method in fw.collection_values or method in fw.collection_pairs)
                and not node.args
                and self.refs_of(receiver, env)
            ):
                refs = self.refs_of(receiver, env)
                for ref in refs:
                    self.use(ref, method_use(method, "none", self.scope_id))
                self.walk_receiver(receiver, env)
                shape = ("refs", [ItemRef(r) for r in refs])
                return ("tuple", [None, shape]) if method in fw.collection_pairs else shape
        if isinstance(node, cst.Name) and isinstance(env.get(LIST + node.value), ListState):
            state = env[LIST + node.value]
            if state.clean:
                return ("refs", [HolderRef(("list", lid)) for lid in state.lids])
        refs = self.refs_of(node, env)
        if refs:
            guard = node.value if isinstance(node, cst.Name) else None
            for ref in refs:
                self.use(ref, ("iter",), guard)
            if not isinstance(node, cst.Name):
                self.walk_receiver(node, env)
            return ("refs", [ItemRef(r) for r in refs])
        self.expr(node, C_ESCAPE, env)
        return None

    def bind_loop_target(
        self, target: cst.BaseExpression, shape: tuple | None, env: Env
    ) -> None:
        self.kill_target(target, env)
        self.target_reads(target, env)
        self.bind_shape(target, shape, env)

    def bind_shape(self, node: cst.BaseExpression, shape: tuple | None, env: Env) -> None:
        if shape is None:
            return
        if shape[0] == "refs":
            refs = shape[1]
            if (
                isinstance(node, cst.Name)
                and node.value not in self.info.closure_names
                and node.value not in self.holder_names
            ):
                env[node.value] = frozenset(refs)
                return
        elif (
            isinstance(node, (cst.Tuple, cst.List))
            and len(node.elements) == len(shape[1])
            and not any(isinstance(e, cst.StarredElement) for e in node.elements)
        ):
            for el, part in zip(node.elements, shape[1]):
                self.bind_shape(el.value, part, env)
            return
        for ref in _shape_refs(shape):
            self.b.use(ref, ESCAPED)  # modules bound where we do not follow them

    def narrowing(self, test: cst.BaseExpression) -> dict[str, frozenset[str]]:
        """Names an ``isinstance``/``type(...) is`` test narrows to catalogued classes."""
        out: dict[str, frozenset[str]] = {}
        if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
            left, right = self.narrowing(test.left), self.narrowing(test.right)
            for name in left.keys() | right.keys():
                if name in left and name in right:
                    out[name] = left[name] & right[name]
                else:
                    out[name] = left.get(name) or right[name]
            return out
        subject: cst.BaseExpression | None = None
        classes: cst.BaseExpression | None = None
        if (
            isinstance(test, cst.Call)
            and isinstance(test.func, cst.Name)
            and test.func.value == "isinstance"
            and len(test.args) == 2
            and not any(a.star or a.keyword for a in test.args)
            and not self.shadowed("isinstance")
        ):
            subject, classes = test.args[0].value, test.args[1].value
        elif (
            isinstance(test, cst.Comparison)
            and len(test.comparisons) == 1
            and isinstance(test.comparisons[0].operator, (cst.Is, cst.Equal))
            and isinstance(test.left, cst.Call)
            and isinstance(test.left.func, cst.Name)
            and test.left.func.value == "type"
            and len(test.left.args) == 1
            and not self.shadowed("type")
        ):
            subject, classes = test.left.args[0].value, test.comparisons[0].comparator
        if not isinstance(subject, cst.Name) or classes is None:
            return out
        items = (
            [e.value for e in classes.elements]
            if isinstance(classes, (cst.Tuple, cst.List))
            else [classes]
        )
        quals: set[str] = set()
        for item in items:
            names = self.b.names(item)
            if not names:
                return out
            for n in names:
                spec = self.b.catalog.lookup(n)
                if spec is None or spec.role is Role.SEQUENTIAL:
                    return out  # a base class or a container: may be anything
                quals.add(spec.qualname)
        out[subject.value] = frozenset(quals)
        return out


def _shape_refs(shape: tuple | None) -> list:
    if shape is None:
        return []
    if shape[0] == "refs":
        return list(shape[1])
    return [r for part in shape[1] for r in _shape_refs(part)]


def _forward_aliases(stmt: cst.CSTNode, forward: frozenset[str]) -> list[str]:
    """``forward = other`` in a class body: the names assigned to a forward method."""
    found: list[str] = []
    if isinstance(stmt, cst.SimpleStatementLine):
        for small in stmt.body:
            if isinstance(small, cst.Assign) and any(
                isinstance(t.target, cst.Name) and t.target.value in forward for t in small.targets
            ):
                value = small.value
                while isinstance(value, cst.Call) and value.args:
                    value = value.args[0].value  # staticmethod(f), wraps(f)(g)...
                if isinstance(value, cst.Name):
                    found.append(value.value)
                elif isinstance(value, cst.Attribute):
                    found.append(value.attr.value)
    return found


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
