"""Calls: constructors of catalogued classes, module invocations, helpers that
return a layer, ``super().__init__`` of a container subclass, calls of the
module's own functions and classes (arguments bound to parameters, results to
return values), methods called on module objects, ``setattr``/``getattr`` and
submodule registration.

Part of :class:`~convbnlint.facts.scope.Scope` (a mixin: ``self`` is the scope).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import libcst as cst

from convbnlint.catalog import Apply, LayerSpec, Role
from convbnlint.facts.arguments import argument, call_constant, constant_truth, string_value
from convbnlint.facts.env import C_BIND, C_DISCARD, C_ESCAPE, C_GIVEN, C_HANDED, C_HARMLESS, Ctx, Env
from convbnlint.facts.expressions import HARMLESS_BUILTINS, OPAQUE_BUILTINS, constant_value
from convbnlint.ir import (
    CLASS_PATCHED,
    ESCAPED,
    LIST,
    NOT_CONSTANT,
    OTHER,
    OUTPUT,
    REPLACED,
    SEQ_SELF,
    ContainerState,
    AttrNameRef,
    ElementRef,
    FamilyRef,
    ItemRef,
    ResultRef,
    HolderRef,
    Graph,
    ListState,
    Ref,
    UNKNOWN,
    SiteRef,
    UnknownRef,
    call_use,
    bias_use,
    stat_use,
    inference_use,
    method_use,
    store_use,
)
from convbnlint.types import Bias

if TYPE_CHECKING:
    pass


HANDLED = -2  # :meth:`Calls.method_call`: handled, no invocation to return


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
            elif spec.role is Role.COLLECTION:
                self.collection(sid, node.args, env)
            else:
                for arg in node.args:
                    self.expr(arg.value, C_ESCAPE, env)
            self.sole_input_other(ctx)
            return None

        func = node.func
        helper = self.helper_site(node)
        if helper is not None:
            self.record_ref(SiteRef(helper), ctx)
            for arg in node.args:
                self.expr(arg.value, C_ESCAPE, env)
            self.sole_input_other(ctx)
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
                self.b.facts.sites[sid].family = self.family
                self.b.use(SiteRef(sid), OUTPUT)  # instances are called elsewhere
                self.sequential(sid, node.args, env)
                # Later ``self.x = layer`` / ``self.add_module(...)`` append items.
                self.seq_site = sid
                if self.family is not None:
                    self.b.family_facts(self.family).seq_sites.add(sid)
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
            if isinstance(arg, cst.Name) and isinstance(env.get(LIST + arg.value), ListState):
                return None
        if self.inspecting(func):
            for arg in node.args:
                self.expr(arg.value, C_HARMLESS if self.refs_of(arg.value, env) else C_ESCAPE, env)
            self.sole_input_other(ctx)
            return None
        if isinstance(func, cst.Name):
            handled = self.named_call(node, func.value, ctx, env)
            if handled:
                return None
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            self.mention(method)
            target = self.callee_target(node)
            if target is not None:
                # ``self.helper(...)``: a method of the class (its own scope).
                self.record_ref(target, ctx)
                self.bind_arguments(target.holder[1], node.args, env)  # type: ignore[union-attr]
                return None
            if (
                self.family is not None
                and node.args
                and not node.args[0].star
                and node.args[0].keyword is None
                and self.is_self(node.args[0].value)
                and (
                    self.b.names(func.value)
                    or (
                        isinstance(func.value, cst.Name)
                        and self.b.class_families.get(func.value.value) == self.family
                    )
                )
            ):
                # ``Base.method(self, ...)``: a base class's method, as ``super()``.
                arg = "none"
                if method in self.b.framework.train_methods and len(node.args) > 1:
                    arg = self.mode_argument(node.args[1])
                self.use(self.self_ref(), method_use(method, arg, self.scope_id))
                for a in node.args[1:]:
                    self.expr(a.value, C_ESCAPE, env)
                self.sole_input_other(ctx)
                return None
            if method in self.b.framework.global_hooks:
                self.everything_escapes()
            else:
                handled = self.method_call(node, func, ctx, env)
                if handled is not None:
                    return handled if handled >= 0 else None
        elif isinstance(func, cst.Name):
            self.mention(func.value)
            if func.value in self.b.framework.global_hooks:
                self.everything_escapes()
        callee = self.ref_of(func, env)
        if not isinstance(callee, UnknownRef):
            inv = self.b.inv_for(node, callee)
            inv.scope = self.scope_id
            self.expr(func, Ctx("callee", inv=inv.id), env)
            self.invocation_args(node, inv.id, env)
            self.inference_call(node, callee, ctx)
            if ctx.kind == "def":
                return inv.id
            self.consume(inv.id, ctx)
            return None
        self.sole_input_other(ctx)
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
        if not self.b.framework_function(func):
            self.inference_call(node, None, ctx)  # (an object we do not follow)
        self.expr(func, C_ESCAPE, env)
        given = self.b.outside(func)
        handed = not given and self.b.reaching_function(func)
        for arg in node.args:
            if self.is_param_init(func) and self.is_bias_of_ref(arg.value, env):
                self.bias_write(arg.value, env)
            elif given and self.refs_of(arg.value, env):
                self.expr(arg.value, C_GIVEN, env)
            elif handed and self.refs_of(arg.value, env):
                self.expr(arg.value, C_HANDED, env)
            else:
                self.expr(arg.value, C_ESCAPE, env)
        return None

    def apply_input_arg(
        self, node: cst.Call, sid: int, spec: LayerSpec, ctx: Ctx, env: Env
    ) -> int | None:
        """A call that builds a layer and applies it to its input argument
        (``tf.compat.v1.layers.conv2d(x, ...)``): a site and an invocation of it."""
        ref = SiteRef(sid)
        inv = self.b.inv_for(node, ref)
        inv.scope = self.scope_id
        self.b.use(ref, call_use(inv.id))
        value = argument(node, spec.input_param or "", spec.input_index)
        if value is None:
            inv.inputs.add(OTHER)
        for arg in node.args:
            if value is not None and arg.value is value:
                self.expr(arg.value, Ctx("sole_input", inv=inv.id), env)
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
            ref = self.ref_of(value, env)
            graph = state.graph.then(Graph.single(ref), self.conds)
            env[LIST + name] = ContainerState(state.sid, graph)
            site.items = graph
            self.expr(value, Ctx("member", seq=state.sid), env)
            return True
        if name in self.holder_names:  # (the method itself is recorded by ``method_call``)
            if isinstance(state, ContainerState):
                env[LIST + name] = ContainerState(state.sid, state.graph, True, True)
                self.b.facts.sites[state.sid].items = None
        return False

    def inference_call(self, node: cst.Call, callee: Ref | None, ctx: Ctx) -> None:
        """A call that runs every layer inside the callee in inference mode
        (Keras's ``backbone(x, training=False)``: a falsy constant for one of the
        framework's ``mode_call_params``).  Its norms do not learn the bias while the
        model around the call trains: recorded on every submodule of the callee
        (``callee`` None: an object we do not follow, any module of the file)."""
        params = self.b.framework.mode_call_params
        if not params:
            return
        for arg in node.args:
            if arg.keyword is None or arg.keyword.value not in params:
                continue
            value = call_constant(arg.value)
            if value is not None and value is not NOT_CONSTANT and not value:
                fed = ctx.kind == "sole_input" and ctx.inv >= 0
                self.b.use(ElementRef(callee), inference_use(self.scope_id, fed))
                return

    def sole_input_other(self, ctx: Ctx) -> None:
        if ctx.kind == "sole_input" and ctx.inv >= 0:
            self.b.facts.invocations[ctx.inv].inputs.add(OTHER)

    def invocation_args(self, node: cst.Call, inv: int, env: Env) -> None:
        """Arguments of a module call: its first positional argument is its input;
        the others go with it as (keyword or ``#slot``, constant) pairs, for the
        catalog to judge (``bn(x, training=False)``: ``call_params``/``call_when``)."""
        args = node.args
        sole = bool(args) and args[0].keyword is None and not any(a.star for a in args)
        if not sole:
            self.b.facts.invocations[inv].inputs.add(OTHER)
            self.b.facts.invocations[inv].keywords = (("*", NOT_CONSTANT),)
            for arg in args:
                self.expr(arg.value, C_ESCAPE, env)
            return
        self.b.facts.invocations[inv].keywords = tuple(
            (a.keyword.value if a.keyword else f"#{i}", call_constant(a.value))
            for i, a in enumerate(args)
            if i > 0
        )
        for arg in args[1:]:
            self.expr(arg.value, C_ESCAPE, env)
        value = args[0].value
        if self.not_2d(value, env):
            self.b.facts.invocations[inv].not_2d = True
        self.expr(value, Ctx("sole_input", inv=inv), env)
        if isinstance(value, cst.Call) and value not in self.b._inv_ids:
            self.b.facts.invocations[inv].inputs.add(OTHER)

    # -- calls by name: builtins, the module's own functions and classes
    def named_call(self, node: cst.Call, name: str, ctx: Ctx, env: Env) -> bool:
        args = node.args
        if name in OPAQUE_BUILTINS and not self.shadowed(name):
            if name == "vars" and len(args) == 1 and self.is_self(args[0].value):
                assert self.family is not None
                self.b.facts.dynamic_holders.add(("attr", self.family))
            else:
                self.everything_escapes()
            for arg in args:
                self.expr(arg.value, C_ESCAPE, env)
            self.sole_input_other(ctx)
            return True
        if name in ("setattr", "getattr", "delattr", "hasattr") and not self.shadowed(name):
            self.attr_builtin(node, name, ctx, env)
            self.sole_input_other(ctx)
            return True
        if name in HARMLESS_BUILTINS and not self.shadowed(name):
            for arg in args:
                value = arg.value
                if self.refs_of(value, env) and not arg.star:
                    self.expr(value, C_HARMLESS, env)
                elif name == "isinstance" and arg is not args[0]:
                    self.expr(value, C_HARMLESS, env)
                else:
                    self.expr(value, C_ESCAPE, env)
            self.sole_input_other(ctx)
            return True
        if name == "super" and not self.shadowed(name) and self.family is not None:
            for arg in args:
                self.expr(arg.value, C_HARMLESS, env)
            return True
        target = self.callee_target(node)
        if target is None:
            return False
        self.mention(name)
        self.record_ref(target, ctx)
        if isinstance(target, FamilyRef) and self.b.family_facts(target.family).ghost:
            # A class blanked out by the blocks stage: what it does with its
            # arguments is not known here; the engine checks a finding on the
            # whole text when a module object is passed (``ghost_refs``).
            for arg in args:
                refs = self.refs_of(arg.value, env)
                self.b.facts.ghost_refs.setdefault(name, set()).update(refs)
                self.expr(arg.value, C_HARMLESS if refs else C_ESCAPE, env)
            return True
        key = (target.family, "__init__") if isinstance(target, FamilyRef) else target.holder[1]
        self.bind_arguments(key, args, env, method=isinstance(target, FamilyRef))
        return True

    def callee_target(self, node: cst.Call) -> Ref | None:
        """The reference a call of the module's own class or function gives:
        ``Net(...)`` an instance, ``helper(...)``/``self.helper(...)`` its return."""
        func = node.func
        if isinstance(func, cst.Name):
            name = func.value
            if name in self.local_bound or name in self.info.simple_rhs:
                return None
            family = self.b.class_families.get(name)
            if family is not None:
                return FamilyRef(family)
            if (None, name) in self.b.functions:
                return HolderRef(("return", (None, name)))
            return None
        if (
            isinstance(func, cst.Attribute)
            and self.family is not None
            and (self.is_self(func.value) or self.is_super(func.value))
            and (self.family, func.attr.value) in self.b.functions
            # ``super().m()`` past bases we do not see may run their ``m``.
            and not (self.is_super(func.value) and self.b.family_facts(self.family).unknown_bases)
        ):
            return HolderRef(("return", (self.family, func.attr.value)))
        return None

    def ghost_name(self, name: str) -> bool:
        """``name`` means a class or function the blocks stage blanked out."""
        if name in self.local_bound or name in self.info.simple_rhs:
            return False
        family = self.b.class_families.get(name)
        return family is not None and self.b.family_facts(family).ghost

    def function_key(self, name: str) -> tuple | None:
        if name in self.local_bound or name in self.info.simple_rhs:
            return None
        key = (None, name)
        return key if key in self.b.functions else None

    def bind_arguments(
        self, key: tuple, args: Sequence[cst.Arg], env: Env, method: bool = False
    ) -> None:
        """Arguments of a call of the module's own function (or class) bound to the
        parameters of every definition of it; arguments we cannot place escape."""
        defs = self.b.functions.get(key, [])
        placed: dict[int, list[tuple]] = {}
        for i, arg in enumerate(args):
            placed[i] = []
        # Positional arguments after a ``*args`` land in unknown positions; a
        # ``**kwargs`` may bind any parameter (all also get unknown values).
        first_star = next((i for i, a in enumerate(args) if a.star == "*"), len(args))
        for sig in defs:
            for i, arg in enumerate(args):
                if arg.star or (i > first_star and arg.keyword is None):
                    continue
                param = sig.place(i, args, skip_self=sig.is_method)
                if param is not None:
                    placed[i].append(("param", sig.scope, param))
        for i, arg in enumerate(args):
            holders = placed[i]
            if not holders:
                self.expr(arg.value, C_ESCAPE, env)
                continue
            refs = self.refs_of(arg.value, env)
            for holder in holders:
                if refs:
                    for ref in refs:
                        self.b.bind(holder, ref)
                else:
                    self.b.bind(holder, UnknownRef())
            self.expr(arg.value, C_BIND if refs and len(refs) == len(set(refs)) else C_ESCAPE, env)

    def attr_builtin(self, node: cst.Call, name: str, ctx: Ctx, env: Env) -> None:
        """``setattr``/``getattr``/``delattr``/``hasattr`` on any object."""
        args = node.args
        if not args or any(a.star or a.keyword for a in args[:2]):
            self.everything_escapes()
            for arg in args:
                self.expr(arg.value, C_ESCAPE, env)
            return
        receiver = args[0].value
        attr = string_value(args[1].value) if len(args) > 1 else None
        if self.is_self(receiver) and self.family is not None:
            if name == "setattr":
                self.self_setattr(args[1:], env)
                return
            if attr is None:
                self.b.facts.dynamic_holders.add(("attr", self.family))
            elif name == "getattr":
                self.record_ref(self.attr(attr), ctx)
            elif name == "delattr":
                self.b.bind(self.attr(attr).holder, UnknownRef())
            for arg in args[1:]:
                self.expr(arg.value, C_ESCAPE, env)
            return
        if name == "hasattr":
            for arg in args:
                self.expr(arg.value, C_HARMLESS, env)
            return
        if attr is None:
            if name == "getattr" and self.b.names(receiver):
                pass  # ``getattr(nn, name)``: a class looked up by name
            elif name == "getattr":
                self.record_ref(ElementRef(None), ctx)
            else:
                self.everything_escapes()
            for arg in args:
                self.expr(arg.value, C_ESCAPE, env)
            return
        if name == "getattr":
            # ``getattr(obj, "name"[, default])`` is ``obj.name``.
            self.attribute(cst.Attribute(receiver, cst.Name(attr)), ctx, env)
            for arg in args[2:]:
                self.expr(arg.value, C_ESCAPE, env)
            return
        value = args[2].value if name == "setattr" and len(args) > 2 else None
        self.attribute_store(receiver, attr, value, env)
        if value is not None:
            self.store_value(receiver, attr, value, env)

    # -- methods of module objects
    def method_call(
        self, node: cst.Call, func: cst.Attribute, ctx: Ctx, env: Env
    ) -> int | None:
        """``obj.method(...)`` where ``obj`` is a module reference.  None: not
        handled here; :data:`HANDLED`, or the invocation id the value is (``def``)."""
        fw = self.b.framework
        method = func.attr.value
        receiver = func.value
        if self.is_bias_chain(receiver, env):
            how = "write" if method.endswith("_") and not method.startswith("_") else None
            if how is None and method in fw.tensor_meta_methods:
                how = "meta"
            self.bias_chain(receiver, how or self.bias_how(ctx), env)
            for arg in node.args:
                self.expr(arg.value, C_ESCAPE, env)
            self.sole_input_other(ctx)
            return HANDLED
        on_self = self.is_self(receiver) or self.is_super(receiver)
        if on_self and self.family is not None and (self.family, method) in self.b.functions:
            return None  # the class's own method: a call by name (``callee_target``)
        if on_self and self.family is not None:
            refs: list[Ref] = [self.self_ref()]
            if method in fw.submodule_registrars and not self.is_super(receiver):
                self.self_setattr(node.args, env)
                return HANDLED
            if method == "__init__":
                for arg in node.args:
                    self.expr(arg.value, C_ESCAPE, env)
                return HANDLED
            if method not in self.method_vocabulary():
                self.b.family_facts(self.family).self_calls.add(method)
                return None  # ``self.conv(x)`` and the like: an invocation
        else:
            refs = self.refs_of(receiver, env)
            if not refs:
                return HANDLED if self.untracked_method(node, receiver, method, ctx, env) else None
            if isinstance(receiver, cst.Name) and receiver.value in env:
                self.consume_outputs(receiver.value, C_ESCAPE, env)
        guard = receiver.value if isinstance(receiver, cst.Name) else None
        arg = "none"
        if method in fw.train_methods and node.args:
            arg = self.mode_argument(node.args[0], on_self)
        if not on_self and self.builder_append(node, receiver, method, env):
            return HANDLED
        if method in fw.output_attrs:
            kind: tuple = ESCAPED
        elif method in self.b.module_enumerators:
            kind = method_use(method, "none", self.scope_id)
            for ref in refs:
                self.record_ref(self.enumerated(method, ref), C_DISCARD if ctx.kind == "discard" else C_ESCAPE)
        else:
            kind = method_use(method, arg, self.scope_id)
        for ref in refs:
            self.use(ref, kind, guard)
        if method in fw.state_loaders:
            for ref in refs:  # every submodule's running statistics written
                self.use(ref, stat_use(self.scope_id), guard)
                self.use(ElementRef(ref), stat_use(self.scope_id), guard)
        if method in fw.parameter_enumerators:
            # ``self.parameters()``: every bias of every submodule read.
            how = self.bias_how(ctx)
            for ref in refs:
                self.use(ElementRef(ref), bias_use(how, self.scope_id), guard)
                # (and the buffers: a norm's running statistics)
                self.use(ref, stat_use(self.scope_id), guard)
                self.use(ElementRef(ref), stat_use(self.scope_id), guard)
        if method in fw.callback_appliers:
            self.apply_callback(node.args, refs, env)
        elif method in fw.submodule_registrars and not on_self:
            self.registration(node.args, refs, env)
        elif method in fw.collection_adders and not on_self:
            self.collection_add(node.args, refs, env)
        elif method in fw.collection_values or method in fw.collection_pairs:
            for ref in refs:  # ``d.values()`` outside a loop: the items escape
                self.record_ref(ItemRef(ref), C_DISCARD if ctx.kind == "discard" else C_ESCAPE)
            for a in node.args:
                self.expr(a.value, C_ESCAPE, env)
        elif method not in self.method_vocabulary():
            # ``net.conv(x)``, ``self.block.helper()``: the object may be an
            # instance whose submodule (or method) this is.
            if len(refs) != 1:
                for ref in refs:
                    self.record_ref(AttrNameRef(method, ref), C_ESCAPE)
                for a in node.args:
                    self.expr(a.value, C_ESCAPE, env)
                self.sole_input_other(ctx)
                return HANDLED
            callee = AttrNameRef(method, refs[0])
            inv = self.b.inv_for(node, callee)
            inv.scope = self.scope_id
            self.b.use(callee, ("call", inv.id))
            self.invocation_args(node, inv.id, env)
            self.inference_call(node, callee, ctx)
            if not on_self:
                self.walk_receiver(receiver, env)
            if ctx.kind == "def":
                return inv.id
            self.consume(inv.id, ctx)
            return HANDLED
        else:
            for a in node.args:
                self.expr(a.value, C_ESCAPE, env)
        if method in self.b.self_returning_any:
            for ref in refs:
                self.record_ref(ResultRef(ref, method), ctx, guard)
        else:
            self.sole_input_other(ctx)
        if not on_self:
            self.walk_receiver(receiver, env)
        return HANDLED

    def untracked_method(
        self, node: cst.Call, receiver: cst.BaseExpression, method: str, ctx: Ctx, env: Env
    ) -> bool:
        """A method of an object we do not follow (it may be any module)."""
        fw = self.b.framework
        if method in self.b.module_enumerators:
            if not self.b.names(receiver):
                self.record_ref(ElementRef(None), C_ESCAPE)
            self.expr(receiver, C_ESCAPE, env)
            for a in node.args:
                self.expr(a.value, C_ESCAPE, env)
            return True
        if method in fw.callback_appliers and not self.b.names(receiver):
            self.expr(receiver, C_ESCAPE, env)
            self.apply_callback(node.args, [None], env)  # type: ignore[list-item]
            return True
        return False

    def enumerated(self, method: str, ref: Ref | None) -> Ref:
        """What an enumerator of ``ref`` yields: its direct children, or every
        submodule at any depth (itself included)."""
        if method in self.b.framework.child_enumerators and ref is not None:
            return ItemRef(ref)
        return ElementRef(ref)

    def collection(self, sid: int, args: Sequence[cst.Arg], env: Env) -> None:
        """``nn.ModuleList([...])`` / ``nn.ModuleDict({...})``: what it holds."""
        site = self.b.facts.sites[sid]
        site.items = None
        ctx = Ctx("item", seq=sid)
        if not args:
            site.items = Graph()
            return
        if len(args) != 1 or args[0].star or args[0].keyword is not None:
            for arg in args:
                self.expr(arg.value, C_ESCAPE, env)
            return
        value = args[0].value
        refs: list[Ref] = []
        known = True
        if isinstance(value, (cst.List, cst.Tuple)):
            for el in value.elements:
                if isinstance(el, cst.StarredElement):
                    known = False
                    self.expr(el.value, C_ESCAPE, env)
                    continue
                got = self.refs_of(el.value, env)
                refs.extend(got)
                self.expr(el.value, ctx if got else C_ESCAPE, env)
        elif isinstance(value, cst.Dict):
            names: set[str] = set()
            for el in value.elements:
                if not isinstance(el, cst.DictElement):
                    known = False
                    self.expr(el.value, C_ESCAPE, env)
                    continue
                key = string_value(el.key)
                if key is None:
                    site.item_names = None
                    self.expr(el.key, C_ESCAPE, env)
                elif site.item_names is not None:
                    names.add(key)
                got = self.refs_of(el.value, env)
                refs.extend(got)
                self.expr(el.value, ctx if got else C_ESCAPE, env)
            if site.item_names is not None:
                site.item_names = frozenset(names)
        elif isinstance(value, (cst.ListComp, cst.GeneratorExp)):
            refs = self.comprehension(value, env, ctx)
        elif isinstance(value, cst.Name) and isinstance(env.get(LIST + value.value), ListState):
            state = env[LIST + value.value]
            if state.clean:
                for ref in state.graph.nodes():
                    if not isinstance(ref, UnknownRef):
                        refs.append(ref)
                        self.b.use(ref, ("item", sid))
                if UNKNOWN in state.graph.nodes():
                    known = False
            else:
                known = False
                self.escape_list(state)
        else:
            known = False
            self.expr(value, C_ESCAPE, env)
        graph = Graph()
        for ref in refs:
            graph = graph.union(Graph.single(ref))
        site.items = graph if known else None

    def collection_add(self, args: Sequence[cst.Arg], receivers: list[Ref], env: Env) -> None:
        """``coll.append(m)``, ``coll.extend([...])``, ``coll.update({...})``: items added."""
        values: list[cst.BaseExpression] = []
        for arg in args:
            value = arg.value
            if arg.star or arg.keyword is not None:
                self.expr(value, C_ESCAPE, env)
            elif isinstance(value, (cst.List, cst.Tuple)):
                values.extend(e.value for e in value.elements)
            elif isinstance(value, cst.Dict):
                values.extend(e.value for e in value.elements)
            else:
                values.append(value)
        for value in values:
            refs = self.refs_of(value, env)
            if not refs:
                self.expr(value, C_ESCAPE, env)
                continue
            for receiver in receivers:
                for ref in refs:
                    self.b.bind(("items", receiver), ref)
                self.expr(value, Ctx("item", ref=receiver), env)

    def builder_append(
        self, node: cst.Call, receiver: cst.BaseExpression, method: str, env: Env
    ) -> bool:
        """``seq.append(m)`` / ``seq.add_module(name, m)`` while the Sequential built
        in this function is being filled: its next item."""
        fw = self.b.framework
        if method not in fw.container_appenders and method not in fw.submodule_registrars:
            return False
        key = self.builder_key(receiver)
        state = env.get(key) if key is not None else None
        if state is None or len(state.lids) != 1:
            # (None, or one of several containers built on different paths: the
            # append is then a use of each, which makes it unknown.)
            return False
        args = node.args
        if any(a.star or a.keyword for a in args):
            return False
        if method == "append" and len(args) == 1:
            value = args[0].value
        elif method != "append" and len(args) == 2:
            value = args[1].value
        else:
            return False
        (sid,) = state.lids
        site = self.b.facts.sites[sid]
        # ``add_module("bn", other)`` with a name it may hold replaces that item in
        # place; ``append`` names its item ``str(len(seq))``, which an earlier
        # ``add_module("1", ...)`` may hold: not an append (an unknown use of it).
        names = site.item_names
        if method != "append":
            name = string_value(args[0].value)
            if name is None or names is None or name in names or name.isdigit():
                return False
            self.expr(args[0].value, C_ESCAPE, env)
        elif names is None or any(n.isdigit() for n in names):
            return False
        if method != "append":
            name = string_value(args[0].value)
            if name is None or site.item_names is None:
                site.item_names = None
            else:
                site.item_names = site.item_names | {name}
        ref = self.ref_of(value, env)
        self.expr(value, Ctx("member", seq=sid) if not isinstance(ref, UnknownRef) else C_ESCAPE, env)
        env[key] = ListState(state.lids, state.graph.then(Graph.single(ref), self.conds), state.partial)
        self.builder_keys.setdefault(key, set()).add(sid)
        return True

    def builder_key(self, receiver: cst.BaseExpression) -> str | None:
        """(Local names holding a container: ``container_method``.)"""
        name = self.self_attr(receiver)
        if name is not None:
            return LIST + "\0seq:" + name
        return None

    def mode_argument(self, first: cst.Arg, on_self: bool = True) -> str:
        """The truth of ``train(...)``'s argument (see ``method_use``)."""
        if first.star:
            return "unknown"
        if self.is_mode_parameter(first.value) and on_self:
            return "propagate"
        state = constant_truth(first.value)
        return {Bias.TRUE: "true", Bias.FALSE: "false"}.get(state, "unknown")

    def is_mode_parameter(self, node: cst.BaseExpression) -> bool:
        """The ``mode`` parameter of a ``train(self, mode)`` override, passed on."""
        return (
            isinstance(node, cst.Name)
            and self.mode_param is not None
            and node.value == self.mode_param
        )

    def apply_callback(self, args: Sequence[cst.Arg], targets: list, env: Env) -> None:
        """``obj.apply(fn)``: ``fn``'s first parameter is any submodule of ``obj``."""
        elements = [ElementRef(t) for t in targets]
        if len(args) != 1 or args[0].star or args[0].keyword is not None:
            for e in elements:
                self.b.use(e, ESCAPED)
            for a in args:
                self.expr(a.value, C_ESCAPE, env)
            return
        fn = args[0].value
        if isinstance(fn, cst.Lambda):
            params = fn.params
            names = [p.name.value for p in (*params.posonly_params, *params.params)]
            nested = self.nested_scope(fn)
            inner: Env = {}
            if names:
                inner[names[0]] = frozenset(elements)
            nested.expr(fn.body, C_DISCARD, inner)
            return
        key: tuple | None = None
        if isinstance(fn, cst.Name) and self.ghost_name(fn.value):
            # What a blanked function does with them: unknown.
            self.b.facts.ghost_refs.setdefault(fn.value, set()).update(elements)
            return
        if isinstance(fn, cst.Name):
            key = self.function_key(fn.value)
            if key is None and (None, fn.value) in self.b.nested_functions:
                key = (None, fn.value)
        elif self.self_attr(fn) is not None and self.family is not None:
            key = (self.family, fn.attr.value)  # type: ignore[attr-defined]
            if key not in self.b.functions:
                key = None
        if key is None:
            for e in elements:
                self.b.use(e, ESCAPED)
            self.expr(fn, C_ESCAPE, env)
            return
        self.mention(key[1])
        for sig in self.b.functions.get(key, []):
            first = sig.first_param()
            if first is not None:
                for e in elements:
                    self.b.bind(("param", sig.scope, first), e)

    def registration(self, args: Sequence[cst.Arg], receivers: list[Ref], env: Env) -> None:
        """``obj.add_module(name, module)`` on an object other than ``self``."""
        name = string_value(args[0].value) if args and not args[0].star else None
        for receiver in receivers:
            if name is not None:
                self.b.use(AttrNameRef(name, receiver), REPLACED)
            else:
                self.b.use(ItemRef(receiver), REPLACED)
        for a in args:
            self.expr(a.value, C_ESCAPE, env)

    def everything_escapes(self) -> None:
        """Code the analysis cannot see may reach any module object."""
        self.b.use(ElementRef(None), ESCAPED)

    # -- attribute stores on objects other than ``self``
    def attribute_store(
        self, receiver: cst.BaseExpression, attr: str, value: cst.BaseExpression | None, env: Env
    ) -> None:
        """``receiver.attr = value`` (``value`` None: ``del`` or unknown)."""
        fw = self.b.framework
        const = constant_value(value) if value is not None else NOT_CONSTANT
        if self.is_super(receiver):
            self.b.bind(self.attr(attr).holder, UnknownRef())
            return
        if isinstance(receiver, cst.Name) and receiver.value in self.b.class_families:
            if not self.shadowed(receiver.value):
                # ``Net.forward = f``: a class of the module changed from outside.
                self.b.use(FamilyRef(self.b.class_families[receiver.value]), CLASS_PATCHED)
                return
        refs = self.refs_of(receiver, env)
        guard = receiver.value if isinstance(receiver, cst.Name) else None
        if refs:
            for ref in refs:
                if attr == "bias":
                    self.use(ref, bias_use("write", self.scope_id), guard)
                else:
                    self.use(ref, store_use(attr, const), guard)
                if attr in fw.norm_statistics:
                    self.use(ref, stat_use(self.scope_id), guard)
            # The object may be an instance: its holder ``attr`` may now hold anything.
            for ref in refs:
                self.b.use(AttrNameRef(attr, ref), REPLACED)
            self.walk_receiver(receiver, env)
            return
        names = self.b.names(receiver)
        if names:
            self.patch(names, attr)
            return
        self.b.use(AttrNameRef(attr), REPLACED)
        if attr in fw.forward_methods or attr in fw.output_attrs:
            self.everything_escapes()  # some module's forward replaced
        specs = self.b.specs_named(attr)
        if specs:
            self.b.use(ElementRef(None), ("guarded", specs, ESCAPED))
        self.expr(receiver, C_ESCAPE, env)

    def patch(self, names: frozenset[str] | list[str], attr: str) -> None:
        """An attribute of an imported object assigned: a monkeypatch."""
        fw = self.b.framework
        for base in names:
            full = f"{base}.{attr}"
            specs = set()
            for qual in (full, base):
                spec = self.b.catalog.lookup(qual)
                if spec is not None:
                    specs.add(spec.qualname)
            if specs:
                self.b.use(ElementRef(None), ("guarded", frozenset(specs), ESCAPED))
            elif full.startswith(fw.patch_prefixes) and not full.startswith(fw.config_prefixes):
                self.everything_escapes()
            elif not base.startswith(fw.patch_prefixes):
                # An object reached through another package (``sys.modules[...]``,
                # ``importlib.import_module(...)``: any module or class, the
                # framework's too): as for an object we do not follow.
                if attr in fw.forward_methods or attr in fw.output_attrs:
                    self.everything_escapes()
                named = self.b.specs_named(attr)
                if named:
                    self.b.use(ElementRef(None), ("guarded", named, ESCAPED))

    def store_value(
        self, receiver: cst.BaseExpression, attr: str, value: cst.BaseExpression, env: Env
    ) -> None:
        """The value stored into ``receiver.attr`` escapes (a bias read in it is stored)."""
        self.storing, old = True, self.storing
        self.expr(value, C_ESCAPE, env)
        self.storing = old

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
        refs = self.refs_of(value, env)
        holder = self.attr(name).holder
        for ref in refs or [UnknownRef()]:
            self.b.bind(holder, ref)
        self.seq_append(name, value, env)
        self.expr(value, C_BIND if refs else C_ESCAPE, env)

    # -- bias reads
    def is_bias_chain(self, node: cst.BaseExpression, env: Env) -> bool:
        """``r.bias`` or ``r.bias.data`` / ``r.bias.detach()`` ... on a module reference."""
        while True:
            if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
                if node.func.attr.value not in _PASS_THROUGH_METHODS:
                    return False
                node = node.func.value
            elif isinstance(node, cst.Attribute) and node.attr.value == "bias":
                return bool(self.refs_of(node.value, env)) or self.self_attr(node) is not None
            elif isinstance(node, cst.Attribute) and node.attr.value == "data":
                node = node.value
            else:
                return False

    def bias_chain(self, node: cst.BaseExpression, how: str, env: Env) -> None:
        while not (isinstance(node, cst.Attribute) and node.attr.value == "bias"):
            if isinstance(node, cst.Call):
                for arg in node.args:
                    self.expr(arg.value, C_ESCAPE, env)
                node = node.func.value  # type: ignore[attr-defined]
            else:
                node = node.value  # type: ignore[attr-defined]
        base = node.value
        if self.self_attr(node) is not None:
            self.record_ref(self.attr("bias"), C_ESCAPE)  # ``self.bias``: a holder name
            return
        guard = base.value if isinstance(base, cst.Name) else None
        for ref in self.refs_of(base, env):
            self.use(ref, bias_use(how, self.scope_id), guard)
        self.walk_receiver(base, env)

    def is_bias_of_ref(self, node: cst.BaseExpression, env: Env) -> bool:
        return self.is_bias_chain(node, env)

    def bias_write(self, node: cst.BaseExpression, env: Env) -> None:
        self.bias_chain(node, "write", env)

    def is_param_init(self, func: cst.BaseExpression) -> bool:
        names = self.b.names(func)
        return bool(names) and all(
            n.startswith(self.b.framework.param_init_prefixes) for n in names
        )

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


_PASS_THROUGH_METHODS = frozenset({"detach", "clone", "view", "view_as", "reshape", "flatten"})

