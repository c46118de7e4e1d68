"""Expressions: what an expression denotes (module references) and where its value goes.

Part of :class:`~convbnlint.facts.scope.Scope` (a mixin: ``self`` is the scope).

Every way a module object can be reached is a *reference* (:mod:`convbnlint.ir`):
its constructor call, a holder (``self.x``, a local, a parameter, a function's
return value), an instance of a class of the module (``self`` bare, ``Net()``),
``obj.name`` on an object the walker does not follow (name-based), or "any module
reachable from X" (a loop over ``modules()``, ``self.features[0]``).  Each
occurrence of a reference records one *use* (``ModuleFacts.uses``): the context
it occurs in.  Anything not modelled here is walked as an escape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from convbnlint.cstwalk import children
from convbnlint.facts.arguments import string_value
from convbnlint.facts.env import C_ESCAPE, C_HARMLESS, C_TEST, Ctx, Env
from convbnlint.facts.prescan import NESTED, ScopeInfo, nested_bound
from convbnlint.catalog import Apply
from convbnlint.syntax.names import cst_receiver
from convbnlint.ir import (
    ContainerState,
    ListState,
    BIND,
    ESCAPE,
    ESCAPED,
    HARMLESS,
    LIST,
    NOT_2D,
    NOT_CONSTANT,
    OTHER,
    HANDED,
    REGISTRY,
    SELF_ESCAPED,
    AttrNameRef,
    ElementRef,
    GIVEN_BACK,
    OUTPUT,
    FamilyRef,
    ItemRef,
    ResultRef,
    SliceRef,
    HolderRef,
    Ref,
    ScopeFacts,
    SiteRef,
    UNKNOWN,
    UnknownRef,
    bias_use,
    stat_use,
    call_use,
    list_use,
    member_use,
)

if TYPE_CHECKING:
    pass

# Builtins that only look at a module object (type and identity tests, printing).
HARMLESS_BUILTINS = frozenset(
    {"isinstance", "issubclass", "type", "id", "hash", "callable", "print", "repr", "str",
     "format", "len", "bool"}
)
# Builtins that run or expose code and names the analysis cannot see.
OPAQUE_BUILTINS = frozenset({"exec", "eval", "compile", "globals", "locals", "vars", "__import__"})
# ``obj.attr`` reads that are about the object's class, not its state.
HARMLESS_DUNDERS = frozenset({"__class__", "__name__", "__qualname__", "__module__", "__doc__"})
# Tensor attributes and methods that keep a parameter's values out of the result
# (``m.bias.data.zero_()`` writes it; ``m.bias.shape`` reads its shape).
_PASS_THROUGH = frozenset({"data", "detach", "clone", "view", "view_as", "reshape", "flatten"})


class Expressions:
    # -- refs
    def refs_of(self, node: cst.BaseExpression, env: Env | None = None) -> list[Ref]:
        """The module references an expression may denote (empty: none we track)."""
        if isinstance(node, cst.Call):
            inner = self.returns_self(node)
            if inner is not None:
                return self.refs_of(inner, env)
            spec = self.b.spec_of(node.func)
            if spec is not None:
                if spec.apply is not Apply.OBJECT:
                    return []  # its value is the output, not a module
                return [SiteRef(self.b.site_for(node, spec))]
            found = self.partial_spec(node.func)
            if found is not None:
                return [SiteRef(self.b.site_for(node, found[0], partial=found[1]))]
            helper = self.helper_site(node)
            if helper is not None:
                return [SiteRef(helper)]
            target = self.callee_target(node)
            if target is not None:
                return [target]
            func = node.func
            if isinstance(func, cst.Attribute):
                method = func.attr.value
                if method in self.b.self_returning_any:
                    # ``self.conv.cuda()``: the object itself, where its framework says so.
                    return [ResultRef(r, method) for r in self.refs_of(func.value, env)]
                if method == "get_submodule":
                    return [ElementRef(r) for r in self.receiver_refs(func.value, env)]
            if self.b.outside(node.func):
                # Code outside the file may hand back what it was given.
                return [
                    ResultRef(r, GIVEN_BACK)
                    for arg in node.args
                    for r in self.refs_of(arg.value, env)
                    if not isinstance(r, UnknownRef)
                ]
            if self.dynamic_getattr(node):
                receiver = node.args[0].value if node.args else None
                if receiver is not None and (self.is_self(receiver) or self.refs_of(receiver, env)):
                    return [ItemRef(r) for r in self.refs_of(receiver, env)]
                return [ElementRef(None)]
            return []
        if isinstance(node, cst.Name):
            if self.is_self(node):
                return [self.self_ref()]
            if node.value in self.holder_names:
                return [self.local(node.value)]
            if env is not None:
                value = env.get(node.value)
                if value:
                    return [v for v in value if not isinstance(v, int)]
            return []
        if isinstance(node, cst.Attribute):
            name = self.self_attr(node)
            if name is not None:
                return [self.attr(name)]
            base = node.value
            if self.is_super(base):
                return [self.attr(node.attr.value)] if self.family is not None else []
            if isinstance(base, cst.Name) and env is not None and self.holds_outputs(base.value, env):
                return []  # an attribute of a tensor
            if self.b.names(base):
                return []  # an attribute of an imported module or class
            if _chain_longer_than(base, MAX_CHAIN):
                # A receiver this deep is followed no further: an object of any
                # class (a superset, so sound; and linear in the chain, which the
                # walk asks about at every prefix).
                return [AttrNameRef(node.attr.value)]
            receivers = self.refs_of(base, env)
            if receivers:
                return [AttrNameRef(node.attr.value, r) for r in receivers]
            if isinstance(base, cst.Name) and env is not None and base.value in env:
                return []  # a local holding values we follow, none a module
            return [AttrNameRef(node.attr.value)]
        if isinstance(node, cst.Subscript):
            base = node.value
            if isinstance(base, cst.Name) and env is not None and isinstance(
                env.get(LIST + base.value), ListState
            ):
                state = env[LIST + base.value]
                if state.clean and not _is_slice(node):
                    return [HolderRef(("list", lid)) for lid in state.lids]
                return []
            make = SliceRef if _is_slice(node) else ItemRef
            return [make(r) for r in self.refs_of(base, env)]
        if isinstance(node, cst.IfExp):
            return self._either(node.body, node.orelse, env)
        if isinstance(node, cst.BooleanOperation):
            return self._either(node.left, node.right, env)
        return []

    def _either(
        self, a: cst.BaseExpression, b: cst.BaseExpression, env: Env | None
    ) -> list[Ref]:
        """The references of a value that is one of two expressions: when only one
        side denotes module objects, the other may be a module we do not follow
        (``nn.PixelShuffle(2) if shuffle else nn.Identity()``), unless it is a
        constant (``None``, a number)."""
        left, right = self.refs_of(a, env), self.refs_of(b, env)
        if not left and not right:
            return []
        if not left and not _surely_no_module(a):
            left = [UNKNOWN]
        if not right and not _surely_no_module(b):
            right = [UNKNOWN]
        return left + right

    def holds_outputs(self, name: str, env: Env) -> bool:
        """The local name holds invocation outputs only (tensors, not modules)."""
        value = env.get(name)
        return bool(value) and all(isinstance(v, int) and v != OTHER for v in value)

    def receiver_refs(self, node: cst.BaseExpression, env: Env | None) -> list[Ref]:
        """References of an object whose items/submodules are taken (never empty:
        an object we do not follow stands for any module)."""
        refs = self.refs_of(node, env)
        return refs or [None]  # type: ignore[list-item]

    def ref_of(self, node: cst.BaseExpression, env: Env | None = None) -> Ref:
        refs = self.refs_of(node, env)
        return refs[0] if len(refs) == 1 else UNKNOWN

    def self_ref(self) -> Ref:
        assert self.family is not None
        return FamilyRef(self.family)

    def is_super(self, node: cst.BaseExpression) -> bool:
        """``super()`` or ``super(Cls, self)`` in a method."""
        return (
            self.family is not None
            and isinstance(node, cst.Call)
            and isinstance(node.func, cst.Name)
            and node.func.value == "super"
            and not self.shadowed("super")
        )

    def dynamic_getattr(self, node: cst.Call) -> bool:
        """``getattr(obj, name)`` with a name that is not a literal, on an object
        that is not an imported module: it may be any module object."""
        func = node.func
        if not (isinstance(func, cst.Name) and func.value == "getattr") or self.shadowed("getattr"):
            return False
        args = node.args
        if len(args) < 2 or any(a.star for a in args):
            return True
        if string_value(args[1].value) is not None:
            return False
        return not self.b.names(args[0].value)

    def shadowed(self, name: str) -> bool:
        """A builtin's name bound in this scope or at module level."""
        return name in self.local_bound or name in self.b.module_bound

    # -- uses
    def record_ref(self, ref: Ref, ctx: Ctx, guard: str | None = None) -> None:
        if isinstance(ref, UnknownRef):
            return
        kind = ctx.kind
        if kind == "bind":
            self.b.use(ref, BIND)
            return
        if kind in ("harmless", "discard", "test"):
            self.b.use(ref, HARMLESS)
            return
        if kind == "member":
            use: tuple = member_use(ctx.seq)
        elif kind == "list":
            use = list_use(ctx.seq)
        elif kind == "item":
            use = ("item", ctx.ref if ctx.ref is not None else ctx.seq)
        elif kind == "callee":
            use = call_use(ctx.inv)
        elif kind == "return" and self.fn_key is not None:
            self.b.bind(("return", self.fn_key), ref)
            self.b.use(ref, BIND)
            return
        elif kind == "given":
            self.b.use(ref, OUTPUT)  # run as a whole by code outside the file
            return
        elif kind == "handed":
            use = HANDED
        elif kind == "return" and isinstance(ref, FamilyRef):
            self.b.use(ref, HARMLESS)  # a factory handing its instance to its caller
            return
        else:
            use = ESCAPED
            if kind == "sole_input" and ctx.inv >= 0:
                self.b.facts.invocations[ctx.inv].inputs.add(OTHER)
        self.use(ref, use, guard)

    def use(self, ref: Ref, kind: tuple, guard: str | None = None) -> None:
        """Record a use, narrowed by the ``isinstance`` tests the name is under."""
        classes = self.guards.get(guard) if guard is not None else None
        if classes is not None:
            kind = ("guarded", classes, kind)
        self.b.use(ref, kind)

    def read_value(self, name: str, ctx: Ctx, env: Env) -> None:
        """A read of a local name: invocation outputs go to ``ctx``, references are used."""
        value = env.get(name)
        if value is None:
            if ctx.kind == "sole_input" and ctx.inv >= 0:
                self.b.facts.invocations[ctx.inv].inputs.add(OTHER)
            return
        for item in value:
            if isinstance(item, int):
                if item == OTHER:
                    if ctx.kind == "sole_input" and ctx.inv >= 0:
                        self.b.facts.invocations[ctx.inv].inputs.add(OTHER)
                else:
                    self.consume(item, ctx)
            else:
                self.record_ref(item, ctx, name)

    def consume(self, inv: int, ctx: Ctx) -> None:
        consumers = self.b.facts.invocations[inv].consumers
        if ctx.kind == "sole_input" and ctx.inv >= 0:
            consumers.add(ctx.inv)
            self.b.facts.invocations[ctx.inv].inputs.add(inv)
        elif ctx.kind in ("discard", "harmless", "test"):
            return
        else:
            consumers.add(ESCAPE)

    def self_use(self, ctx: Ctx) -> None:
        """``self`` used bare: handed to code we do not model, its family's holders
        may be reached from there (``f(self)``, ``m = self`` stored, ...)."""
        if self.family is None:
            return
        if ctx.kind in ("escape", "sole_input", "def"):
            self.b.use(self.self_ref(), SELF_ESCAPED)
            self.sole_input_other(ctx)
            return
        self.record_ref(self.self_ref(), ctx)

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

    def expr(self, node: cst.BaseExpression, ctx: Ctx, env: Env) -> int | None:
        """Walk an expression whose value goes to ``ctx``.

        Returns the invocation id when the expression is a module call (used by
        ``name = module(x)`` assignments), else None.
        """
        if isinstance(node, cst.Call):
            return self.call(node, ctx, env)
        if isinstance(node, cst.Name):
            self.name_read(node, ctx, env)
            return None
        if isinstance(node, cst.Attribute):
            self.attribute(node, ctx, env)
            return None
        if isinstance(node, cst.Subscript):
            self.subscript(node, ctx, env)
            return None
        if isinstance(node, cst.Comparison) and ctx.kind != "sole_input":
            identity = all(
                isinstance(c.operator, (cst.Is, cst.IsNot, cst.Equal, cst.NotEqual))
                for c in node.comparisons
            )
            sub = C_TEST if identity else C_ESCAPE
            self.expr(node.left, sub, env)
            for comp in node.comparisons:
                self.expr(comp.comparator, sub, env)
            return None
        if isinstance(node, cst.BooleanOperation) and ctx.kind == "test":
            self.expr(node.left, C_TEST, env)
            self.expr(node.right, C_TEST, env)
            return None
        if isinstance(node, cst.IfExp) and ctx.kind != "sole_input":
            # ``A(...) if flag else nn.Identity()``: either value goes where it goes.
            self.expr(node.test, C_TEST, env)
            self.expr(node.body, ctx if ctx.kind != "def" else C_ESCAPE, env)
            self.expr(node.orelse, ctx if ctx.kind != "def" else C_ESCAPE, env)
            return None
        if (
            isinstance(node, cst.UnaryOperation)
            and isinstance(node.operator, cst.Not)
            and ctx.kind != "sole_input"
        ):
            self.expr(node.expression, C_TEST, env)
            return None
        if isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
            self.comprehension(node, env)
            return None
        if isinstance(node, NESTED):
            # Nested scopes: closure reads were made escapes by the pre-scan; walk
            # for layer sites and their contexts (all escapes here).
            nested = self.nested_scope(node)
            nested.generic_children(node, {})
            return None
        if ctx.kind == "sole_input" and ctx.inv >= 0:
            self.b.facts.invocations[ctx.inv].inputs.add(OTHER)
        self.generic_children(node, env)
        return None

    def nested_scope(self, node: cst.CSTNode, params: tuple[str, ...] = ()) -> Expressions:
        sid = self.b._scope_id(node)
        self.b.facts.scopes.setdefault(sid, ScopeFacts(None, self.scope_id, self.family))
        nested = type(self)(
            self.b,
            sid,
            ScopeInfo(),
            self.self_name,
            self.family,
            outer=self.nested_visible(),
            bound=frozenset(nested_bound(node)),
        )
        nested.guards = dict(self.guards)
        nested.module_visible = False
        nested.is_function = True
        return nested

    def name_read(self, node: cst.Name, ctx: Ctx, env: Env) -> None:
        name = node.value
        if self.is_self(node):
            self.self_use(ctx)
            return
        if name in self.holder_names:
            state = env.get(LIST + name)
            if isinstance(state, ContainerState) and not state.used:
                env[LIST + name] = ContainerState(state.sid, state.graph, True)
            self.record_ref(self.local(name), ctx, name)
            return
        if name in env:
            self.read_value(name, ctx, env)
        elif ctx.kind == "sole_input" and ctx.inv >= 0:
            self.b.facts.invocations[ctx.inv].inputs.add(OTHER)
        state = env.get(LIST + name)
        if state is not None and ctx.kind not in ("harmless", "discard", "test"):
            self.escape_list(state)
        factory = self.factory(name)
        if factory is not None and ctx.kind != "callee":
            self.b.facts.escaped_factories.add(factory)
        key = self.function_key(name)
        if key is not None and ctx.kind not in ("callee", "harmless", "discard", "test"):
            # A function of the module used as a value: its parameters may get
            # anything, its result goes anywhere.
            self.b.facts.passed_functions.add(key)

    # -- attributes
    def attribute(self, node: cst.Attribute, ctx: Ctx, env: Env) -> None:
        attr = node.attr.value
        name = self.self_attr(node)
        if name is not None:
            self.mention(name)
            self.record_ref(self.attr(name), ctx)
            return
        if ctx.kind == "sole_input" and ctx.inv >= 0:
            self.b.facts.invocations[ctx.inv].inputs.add(OTHER)
        base = node.value
        if self.is_super(base):
            self.record_ref(self.attr(attr), ctx)
            return
        if isinstance(base, cst.Name) and base.value in env:
            meta = attr in self.b.framework.tensor_meta_attrs
            self.consume_outputs(base.value, C_HARMLESS if meta else C_ESCAPE, env)
        refs = self.refs_of(base, env)
        if not refs:
            if isinstance(base, cst.Name) and base.value in env:
                return
            if not isinstance(base, cst.Call) and self.b.names(base):
                return  # ``nn.Conv2d``, ``torch.float32``: an imported name
            if not (isinstance(base, cst.Call) and self.refs_of(base.func, env)):
                self.record_ref(AttrNameRef(attr), ctx)  # (not a module call's output)
                if attr in self.b.framework.dynamic_attrs:
                    # The registry of an object we do not follow: it may be any
                    # instance or container of the module.
                    self.everything_escapes()
            self.expr(base, C_ESCAPE, env)
            return
        guard = _guard_name(base)
        if attr == "bias":
            how = self.bias_how(ctx)
            for ref in refs:
                self.use(ref, bias_use(how, self.scope_id), guard)
            self.walk_receiver(base, env)
            return
        if attr in self.b.framework.norm_statistics:
            for ref in refs:
                self.use(ref, stat_use(self.scope_id), guard)
        if attr in HARMLESS_DUNDERS:
            kind: tuple = HARMLESS
        elif attr in self.b.framework.dynamic_attrs:
            kind = REGISTRY  # every holder or item of the object reached
        elif attr.startswith("_") or attr in (
            self.method_vocabulary()
        ):
            kind = ESCAPED  # internals, or a method taken as a value
        else:
            kind = ("attr", attr)
        for ref in refs:
            if isinstance(ref, FamilyRef) and kind == ESCAPED:
                # ``net.__dict__`` and the like: any holder of the family.
                self.b.facts.dynamic_holders.add(("attr", ref.family))
            self.use(ref, kind, guard)
        if kind[0] == "attr" and attr not in self.b.framework.tensor_meta_attrs:
            for ref in refs:  # the object may be an instance: ``attr`` its holder
                self.record_ref(AttrNameRef(attr, ref), ctx)
        self.walk_receiver(base, env)

    def consume_outputs(self, name: str, ctx: Ctx, env: Env) -> None:
        """The invocation outputs a local name may hold go to ``ctx``."""
        for item in env.get(name, ()):
            if isinstance(item, int) and item != OTHER:
                self.consume(item, ctx)

    def walk_receiver(self, base: cst.BaseExpression, env: Env) -> None:
        """Walk the receiver of a recorded attribute use for what it contains
        (its own reference use is already recorded)."""
        if isinstance(base, cst.Call):
            # ``Net().conv`` / ``self.conv.cuda().weight``: the call's own parts.
            self.call(base, C_HARMLESS, env)
        elif isinstance(base, cst.Attribute):
            if self.self_attr(base) is not None:
                self.mention(base.attr.value)
            elif not self.is_super(base.value):
                self.attribute(base, C_HARMLESS, env)
        elif isinstance(base, cst.Subscript):
            self.subscript(base, C_HARMLESS, env)

    def method_vocabulary(self) -> frozenset[str]:
        fw = self.b.framework
        return (
            fw.harmless_methods
            | self.b.self_returning_any
            | fw.eval_methods
            | fw.train_methods
            | fw.submodule_enumerators
            | fw.parameter_enumerators
            | fw.callback_appliers
            | fw.submodule_registrars
            | fw.output_attrs
            | fw.forward_methods
        )

    def bias_how(self, ctx: Ctx) -> str:
        """What a read of ``x.bias`` (in context ``ctx``) does with its values."""
        if ctx.kind in ("test", "harmless", "discard"):
            return "test"
        if self.storing or ctx.kind == "bind":
            return "stored"
        return "value"

    # -- subscripts
    def subscript(self, node: cst.Subscript, ctx: Ctx, env: Env) -> None:
        if ctx.kind == "sole_input" and ctx.inv >= 0:
            self.b.facts.invocations[ctx.inv].inputs.add(OTHER)
        base = node.value
        if isinstance(base, cst.Name) and base.value in env:
            self.consume_outputs(base.value, C_ESCAPE, env)
        items = self.refs_of(node, env)
        if not items:
            self.generic_children(node, env)
            return
        guard = _guard_name(base)
        for ref in self.refs_of(base, env):
            self.use(ref, HARMLESS, guard)
        for item in items:
            self.record_ref(item, ctx, guard)
        if not (isinstance(base, cst.Name) and isinstance(env.get(LIST + base.value), ListState)):
            self.walk_receiver(base, env)
        for element in node.slice:
            self.generic_children(element, env)

    # -- comprehensions
    def comprehension(
        self,
        node: cst.ListComp | cst.SetComp | cst.GeneratorExp | cst.DictComp,
        env: Env,
        elt_ctx: Ctx = C_ESCAPE,
    ) -> list:
        """A comprehension: its first iterable is evaluated here; over an
        enumeration of submodules, its target is "any submodule".  Its values go
        to ``elt_ctx``; returns the references they may be."""
        nested = self.nested_scope(node)
        inner: Env = {}
        comp: cst.CompFor | None = node.for_in
        first = True
        while comp is not None:
            if first:
                elements = self.iteration(comp.iter, env)
            else:
                elements = nested.iteration(comp.iter, inner)
            first = False
            nested.bind_loop_target(comp.target, elements, inner)
            for cond in comp.ifs:
                nested.expr(cond.test, C_TEST, inner)
                nested.guards.update(nested.narrowing(cond.test))
            comp = comp.inner_for_in
        if isinstance(node, cst.DictComp):
            nested.expr(node.key, C_ESCAPE, inner)
            value = node.value
        else:
            value = node.elt
        refs = nested.refs_of(value, inner)
        nested.expr(value, elt_ctx if refs else C_ESCAPE, inner)
        return refs

    # -- shapes (CBL002: a Linear's input shown not to be 2-D)
    def not_2d(self, node: cst.BaseExpression, env: Env) -> bool:
        """The code shows this tensor may have other than two dimensions."""
        fw = self.b.framework
        if isinstance(node, cst.Name):
            return NOT_2D + node.value in env
        if isinstance(node, cst.Subscript):
            return any(
                isinstance(e.slice, cst.Index)
                and isinstance(e.slice.value, (cst.Name, cst.Ellipsis))
                and (isinstance(e.slice.value, cst.Ellipsis) or e.slice.value.value == "None")
                for e in node.slice
            ) or self.not_2d(node.value, env)
        if not isinstance(node, cst.Call):
            return False
        func = node.func
        inv = self.b._inv_ids.get(node)
        if inv is not None and self.b.facts.invocations[inv].not_2d:
            return True
        if self.makes_not_2d(node):
            return True
        method = None
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if self.b.names(func.value):
                names = self.b.names(func)
                method = func.attr.value if names else None
        if method is None:
            return False
        if method in fw.axis_methods:
            return True
        args = [a for a in node.args if a.keyword is None]
        if any(a.star for a in node.args):
            return False
        if method == "flatten":
            start = args[0].value if args else None
            if isinstance(func, cst.Attribute) and self.b.names(func.value):
                start = args[1].value if len(args) > 1 else None  # torch.flatten(x, start)
            return not (isinstance(start, cst.Integer) and start.value == "1")
        if method in fw.reshape_methods:
            if isinstance(func, cst.Attribute) and self.b.names(func.value):
                args = args[1:]  # torch.reshape(x, shape)
            if len(args) == 1 and isinstance(args[0].value, (cst.Tuple, cst.List)):
                sizes = args[0].value.elements
                if any(isinstance(e, cst.StarredElement) for e in sizes):
                    return False
                return len(sizes) != 2
            return len(args) != 2
        return False

    def makes_not_2d(self, node: cst.Call) -> bool:
        """A call of a module whose output is not 2-D (a sequence model, an embedding)."""
        func = node.func
        holder = None
        name = self.self_attr(func)
        if name is not None:
            holder = self.attr(name).holder
        elif isinstance(func, cst.Name) and func.value in self.holder_names:
            holder = self.local(func.value).holder
        if holder is not None and holder in self.b.not_2d_holders:
            return True
        names = self.b.names(func)
        if names and all(n in self.b.not_2d_classes for n in names):
            return True  # ``nn.LSTM(...)(x)``
        return False

    def note_not_2d_holder(self, holder: tuple, value: cst.BaseExpression) -> None:
        if isinstance(value, cst.Call):
            names = self.b.names(value.func)
            if names and all(n in self.b.not_2d_classes for n in names):
                self.b.not_2d_holders.add(holder)

    def inspecting(self, func: cst.BaseExpression) -> bool:
        """A framework function known only to look at the module it gets."""
        names = self.b.names(func)
        return bool(names) and all(
            n.rsplit(".", 1)[-1] in self.b.framework.inspecting_functions for n in names
        )

    def mention(self, name: str) -> None:
        scope = self.b.facts.scopes.get(self.scope_id)
        if scope is not None:
            scope.mentions.add(name)


def _surely_no_module(node: cst.BaseExpression) -> bool:
    """A literal (``None``, a number, a string, ``True``): no module object."""
    if isinstance(node, cst.Name):
        return node.value in ("None", "True", "False")
    return isinstance(
        node,
        (cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString, cst.ConcatenatedString,
         cst.FormattedString, cst.Ellipsis),
    )


def _is_slice(node: cst.Subscript) -> bool:
    return any(isinstance(e.slice, cst.Slice) for e in node.slice)


def _guard_name(node: cst.BaseExpression) -> str | None:
    return node.value if isinstance(node, cst.Name) else None


def constant_value(node: cst.BaseExpression) -> object:
    """A literal's value (numbers, strings, True/False/None), else NOT_CONSTANT."""
    from convbnlint.facts.arguments import NOT_CONST, constant, string_value

    text = string_value(node)
    if text is not None:
        return text
    value = constant(node)
    return NOT_CONSTANT if value is NOT_CONST else value


__all__ = ["Expressions", "HARMLESS_BUILTINS", "OPAQUE_BUILTINS", "HolderRef", "constant_value"]


def _self_returning(framework: str) -> frozenset[str]:
    """The methods of ``framework``'s modules that return the module itself."""
    from convbnlint.catalog import framework_catalog

    try:
        return framework_catalog(framework).framework.self_returning_methods
    except KeyError:
        return frozenset()


# Attribute chains followed through their receivers up to this many levels.
MAX_CHAIN = 32


def _chain_longer_than(node: cst.BaseExpression, limit: int) -> bool:
    """Whether ``node`` has more than ``limit`` attribute, call or subscript levels."""
    for _ in range(limit + 1):
        node = cst_receiver(node)
        if node is None:
            return False
    return True
