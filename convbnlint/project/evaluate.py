"""Partial evaluation of calls of the project's own definitions.

``conv1x1_block(in_channels=c, out_channels=c, bias=True)`` builds whatever
``ConvBlock.__init__`` builds with those arguments and its defaults
(``normalization=lambda_batchnorm2d()``, defined in a third module).  To judge
such a call, the :class:`Evaluator` runs the callee's code over abstract values
(:mod:`convbnlint.project.values`): what is known is computed (constants, classes
outside the project, the project's functions and closures, lists being built,
``if`` tests on them, calls of helpers, which are inlined), and what is not is
emitted as *residual* code: a smaller program that builds the same objects, with
the same effects, in the same order.  :mod:`convbnlint.project.specialise` hands
the residual class to the ordinary single-file analysis.

Anything the evaluator does not model raises :class:`Abort`: no residual, no
finding.  Every call of something outside the project (a layer's constructor, an
unknown function) is emitted as it is, with its arguments, in order; an inlined
helper's statements are emitted too, its locals renamed; a value the residual
cannot spell (a closure handed to unknown code) becomes an unbound name, which
the analysis treats as unknown.

Values that come from an argument of the call being judged carry an *origin*;
:attr:`Evaluator.origin_uses` records every place such a value went (the
argument of a residual call, or anywhere else: a test, an attribute, arithmetic),
so that a fix at the call site is offered only when the argument feeds nothing
but the biases the analysis found cancelled.
"""

from __future__ import annotations

import ast
import builtins
import copy
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field

from convbnlint.project.graph import Assigned, Defined, FileModule, Imported, ModuleInfo, Project
from convbnlint.project.values import (
    OPAQUE,
    Closure,
    Const,
    DictV,
    Dyn,
    Ext,
    Instance,
    ListV,
    Method,
    Opaque,
    Partial,
    PClass,
    PFunc,
    PModule,
    SelfObj,
    TupleV,
    Value,
)


class Abort(Exception):
    """Something the evaluator does not model: give up on this call (no finding)."""


MAX_DEPTH = 12  # nested inlined calls
MAX_STEPS = 6000  # statements and expressions evaluated per judgement
MAX_UNROLL = 64  # iterations of a loop over a known sequence

_BUILTIN_NAMES = frozenset(dir(builtins))
_LITERAL_TYPES = (type(None), bool, int, float, str, bytes)


def _literal(value: object) -> bool:
    if isinstance(value, tuple):
        return all(_literal(v) for v in value)
    return isinstance(value, _LITERAL_TYPES)


# --------------------------------------------------------------------------- lookup


class Names:
    """Module-level name resolution over a :class:`Project` (memoised for a run)."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._memo: dict[tuple[str, str], Value | None] = {}
        self._active: set[tuple[str, str]] = set()
        self.consts: dict[int, Value | None] = {}  # module-level assignments, by node
        self.defaults: dict[int, dict[str, Value]] = {}  # function defaults, by node

    def global_value(self, info: ModuleInfo, name: str) -> Value | None:
        """What module-level ``name`` of ``info`` is; None: not known."""
        key = (info.path, name)
        if key in self._memo:
            return self._memo[key]
        if key in self._active:
            return None
        self._active.add(key)
        try:
            value = self._global_value(info, name)
        finally:
            self._active.discard(key)
        self._memo[key] = value
        return value

    def _global_value(self, info: ModuleInfo, name: str) -> Value | None:
        binding = info.binding(name)
        if binding is None:
            for star in info.star_imports:
                found = self.attribute_of_module(star, name, info)
                if found is not None:
                    return found
            if info.star_imports:
                return None
            if name in _BUILTIN_NAMES and name not in ("__import__", "eval", "exec"):
                return Ext(f"builtins.{name}")
            return None
        if isinstance(binding, Imported):
            return self.dotted(binding.target, info)
        if isinstance(binding, Defined):
            node = binding.node
            if node.decorator_list:
                return None
            return PClass(info, node) if isinstance(node, ast.ClassDef) else PFunc(info, node)
        if isinstance(binding, Assigned):
            return module_constant(self, info, binding.value)
        return None

    def importer(self, info: ModuleInfo) -> FileModule | None:
        return self.project.module_of(info.path)

    def dotted(self, target: str, info: ModuleInfo) -> Value | None:
        """An absolute dotted name as ``info`` imports it."""
        split = self.project.split(target, self.importer(info))
        if split is None:
            return Ext(target)
        fm, rest = split
        value: Value | None = PModule(fm.path)
        for part in rest.split(".") if rest else ():
            value = self.attribute(value, part)
            if value is None:
                return None
        return value

    def attribute_of_module(self, module: str, name: str, info: ModuleInfo) -> Value | None:
        split = self.project.split(module, self.importer(info))
        if split is None or split[1]:
            return None
        target = self.project.info(split[0].path)
        if target is None:
            return None
        if target.all_names is not None and name not in target.all_names:
            return None
        if name.startswith("_") and target.all_names is None:
            return None
        return self.global_value(target, name)

    def attribute(self, value: Value | None, name: str) -> Value | None:
        if isinstance(value, Ext):
            return Ext(f"{value.qualname}.{name}")
        if isinstance(value, PModule):
            target = self.project.info(value.path)
            if target is None:
                return None
            found = self.global_value(target, name)
            if found is None and target.is_package and target.binding(name) is None:
                # ``import pkg`` then ``pkg.sub``: a submodule.
                fm = self.project.module_of(target.path)
                sub = self.project.find_module(f"{target.name}.{name}", fm)
                if sub is not None:
                    return PModule(sub.path)
            return found
        return None


def module_constant(names: Names, info: ModuleInfo, node: ast.expr) -> Value | None:
    """A module-level assignment's value, when it is immutable and evaluating it
    emits nothing (a constant, a class alias, ``lambda_bn()``, ``partial(...)``)."""
    key = id(node)
    if key in names.consts:
        return names.consts[key]
    names.consts[key] = None
    ev = Evaluator(names)
    frame = Frame(info, {}, "_m_", frozenset(), [])
    try:
        value: Value | None = ev.expr(node, frame)
    except Abort:
        value = None
    if frame.out or isinstance(value, (ListV, DictV, Dyn, Opaque, Instance, SelfObj)):
        value = None
    names.consts[key] = value
    return value


# --------------------------------------------------------------------------- frames


@dataclass
class Tracked:
    """A residual call of something outside the project (a layer's constructor):
    its arguments as (keyword or None, value), in order, and where the original
    call is (file, line, ``ast`` column)."""

    qualname: str
    args: list
    where: tuple = ()


@dataclass
class Frame:
    info: ModuleInfo  # the module whose globals the code sees
    env: dict  # local name -> Value
    prefix: str  # residual names of this frame's locals
    locals: frozenset  # names the function binds anywhere (local by Python's rules)
    out: list  # residual statements being emitted
    self_obj: SelfObj | None = None
    chain: tuple = ()  # the class chain of the object being built (methods)
    closure: dict = field(default_factory=dict)  # captured values (closures)
    returns: list = field(default_factory=list)  # (Value, out list) per executed return
    home: bool = False  # the original scope of the residual code (its names are valid)
    depth: int = 0
    assigned_once: frozenset = frozenset()  # locals bound exactly once
    cls: object = None  # the class whose method this frame runs (super())


UNBOUND = object()  # a local bound on some paths only


class Evaluator:
    """Evaluates calls for one judgement; ``home`` is the module the residual
    code will live in (its top frame may name that module's globals)."""

    def __init__(self, names: Names, home: ModuleInfo | None = None) -> None:
        self.names = names
        self.home = home
        self.steps = 0
        self.counter = 0
        self.tracked: dict[int, Tracked] = {}  # id(residual Call node) -> Tracked
        self.imports: set[str] = set()
        # origin -> where values carrying it went:
        # ("arg", id(call), keyword or None, position or None) or ("other",)
        self.origin_uses: dict[tuple, list[tuple]] = {}
        self.top_locals: frozenset = frozenset()
        # The function called at the judged site: its defaults are that call's
        # arguments too (origin ("default", name): a fix can pass them).
        self.root: ast.AST | None = None

    def root_defaults(self, node: ast.AST, defaults: dict[str, Value]) -> dict[str, Value]:
        """``defaults`` with an origin when ``node`` is the judged call's callee."""
        if node is not self.root:
            return defaults
        return {
            k: Const(v.value, ("default", k)) if isinstance(v, Const) and v.origin is None else v
            for k, v in defaults.items()
        }

    # -- helpers
    def step(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise Abort("too long")

    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"_cbl_{stem}{self.counter}"

    def use(self, value: Value, how: tuple = ("other",)) -> None:
        """``value`` went somewhere (recorded for the origins it carries)."""
        if value.origin is not None:
            self.origin_uses.setdefault(value.origin, []).append(how)
        if isinstance(value, (TupleV, ListV)) and value.items is not None:
            for item in value.items:
                self.use(item, how)
        elif isinstance(value, DictV) and value.items is not None:
            for item in value.items.values():
                self.use(item, how)

    # -- residual expressions
    def to_expr(self, value: Value, frame: Frame) -> ast.expr:
        """The residual expression for ``value`` (emitting what it needs first)."""
        if isinstance(value, Const):
            if not _literal(value.value):
                raise Abort("constant not expressible")
            if isinstance(value.value, tuple):
                return ast.parse(repr(value.value), mode="eval").body
            return ast.Constant(value.value)
        if isinstance(value, Dyn):
            return copy.deepcopy(value.expr)
        if isinstance(value, Ext):
            if value.qualname.startswith("builtins."):
                name = value.qualname[len("builtins.") :]
                if name in self.top_locals or "." in name:
                    raise Abort("shadowed builtin")
                return ast.Name(name, ast.Load())
            top = value.qualname.partition(".")[0]
            if top in self.top_locals:
                raise Abort("shadowed import")
            self.imports.add(top)
            return _dotted_expr(value.qualname)
        if isinstance(value, SelfObj):
            return ast.Name("self", ast.Load())
        if isinstance(value, TupleV):
            return ast.Tuple([self.to_expr(v, frame) for v in value.items], ast.Load())
        if isinstance(value, ListV):
            if value.name is None:
                items = [self.to_expr(v, frame) for v in value.items]
                value.name = self.fresh("l")
                value.items = None  # from now on the list may change out of sight
                frame.out.append(_assign(value.name, ast.List(items, ast.Load())))
            return ast.Name(value.name, ast.Load())
        if isinstance(value, DictV):
            if value.name is None:
                keywords = [ast.keyword(k, self.to_expr(v, frame)) for k, v in value.items.items()]
                value.name = self.fresh("d")
                value.items = None
                frame.out.append(_assign(value.name, ast.Call(ast.Name("dict", ast.Load()), [], keywords)))
            return ast.Name(value.name, ast.Load())
        if isinstance(value, Instance):
            args = [self.to_expr(a, frame) for a in value.args]
            kwargs = [ast.keyword(k, self.to_expr(v, frame)) for k, v in value.kwargs.items()]
            name = self.fresh("t")
            frame.out.append(_assign(name, ast.Call(self._opaque(value.cls), args, kwargs)))
            return ast.Name(name, ast.Load())
        return self._opaque(value)

    def _opaque(self, value: Value) -> ast.expr:
        """A definition of the home module keeps its name (the analysis sees what it
        sees in the original); anything else is an unbound name: unknown."""
        if isinstance(value, (PFunc, PClass)) and value.info is self.home and self.home is not None:
            name = value.node.name
            if name not in self.top_locals and self.names.global_value(self.home, name) is value:
                return ast.Name(name, ast.Load())
        return ast.Name(self.fresh("opaque"), ast.Load())

    # -- statements
    def run(self, body: list[ast.stmt], frame: Frame) -> bool:
        """Run statements; False when every path left the block (return, raise)."""
        for stmt in body:
            if not self.stmt(stmt, frame):
                return False
        return True

    def stmt(self, node: ast.stmt, frame: Frame) -> bool:
        self.step()
        if isinstance(node, ast.Expr):
            if isinstance(node.value, ast.Constant):
                return True  # a docstring
            if isinstance(node.value, ast.Call):
                self.call(node.value, frame, want=False)
            else:
                value = self.expr(node.value, frame)
                self.use(value)
                if isinstance(value, Dyn):
                    frame.out.append(ast.Expr(value.expr))
            return True
        if isinstance(node, ast.Assign):
            value = self.expr(node.value, frame)
            for target in node.targets:
                self.assign(target, value, frame)
            return True
        if isinstance(node, ast.AnnAssign):
            if node.value is None:
                return True
            value = self.expr(node.value, frame)
            self.assign(node.target, value, frame)
            return True
        if isinstance(node, ast.AugAssign):
            return self.aug_assign(node, frame)
        if isinstance(node, ast.If):
            return self.if_(node, frame)
        if isinstance(node, ast.For):
            return self.for_(node, frame)
        if isinstance(node, ast.Return):
            value = Const(None) if node.value is None else self.expr(node.value, frame)
            frame.returns.append((value, frame.out))
            return False
        if isinstance(node, ast.Assert):
            test = self.expr(node.test, frame)
            truth = self.truth(test)
            if truth is True:
                return True
            if truth is False:
                frame.out.append(_raise())
                return False
            frame.out.append(ast.Assert(self.to_expr(test, frame), None))
            return True
        if isinstance(node, ast.Pass):
            return True
        if isinstance(node, ast.Raise):
            frame.out.append(_raise())
            return False
        if isinstance(node, ast.FunctionDef):
            if node.decorator_list:
                raise Abort("decorated nested function")
            frame.env[node.name] = self.closure(node, frame)
            return True
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if isinstance(node, ast.ImportFrom):
                    base = frame.info.absolute(node.level or 0, node.module)
                    if base is None or alias.name == "*":
                        raise Abort("import")
                    value = self.names.dotted(f"{base}.{alias.name}", frame.info)
                    name = alias.asname or alias.name
                elif alias.asname:
                    value, name = self.names.dotted(alias.name, frame.info), alias.asname
                else:
                    name = alias.name.partition(".")[0]
                    value = self.names.dotted(name, frame.info)
                if not isinstance(value, (Ext, PModule, PFunc, PClass, Const)):
                    raise Abort("local import")
                frame.env[name] = value
            return True
        raise Abort(f"statement {type(node).__name__}")

    def assign(self, target: ast.expr, value: Value, frame: Frame) -> None:
        if isinstance(target, ast.Name):
            name = target.id
            if isinstance(value, (Dyn, Opaque, Instance)):
                # Keep it in a residual local of this frame.
                self.use(value)
                expr = self.to_expr(value, frame)
                residual = frame.prefix + name
                frame.out.append(_assign(residual, expr))
                instance_of = value.instance_of if isinstance(value, Dyn) else None
                frame.env[name] = Dyn(ast.Name(residual, ast.Load()), instance_of, value.origin)
            else:
                frame.env[name] = value
            return
        if isinstance(target, ast.Attribute) and self.is_self(target.value, frame):
            self.use(value)
            expr = self.to_expr(value, frame)
            frame.out.append(
                ast.Assign([ast.Attribute(ast.Name("self", ast.Load()), target.attr, ast.Store())], expr)
            )
            assert frame.self_obj is not None
            stored: Value = value
            if not isinstance(value, (Const, Ext, Dyn, PFunc, PClass, Closure, Partial)):
                stored = Dyn(ast.Attribute(ast.Name("self", ast.Load()), target.attr, ast.Load()))
            frame.self_obj.attrs[target.attr] = stored
            return
        if isinstance(target, (ast.Tuple, ast.List)):
            items = self.unpack(value, len(target.elts))
            for el, item in zip(target.elts, items):
                if isinstance(el, ast.Starred):
                    raise Abort("starred target")
                self.assign(el, item, frame)
            return
        if isinstance(target, (ast.Subscript, ast.Attribute)):
            base = self.expr(target.value, frame)
            if isinstance(base, (ListV, DictV)) and base.items is not None:
                raise Abort("item assignment into a tracked container")
            if isinstance(base, SelfObj):
                raise Abort("self item assignment")
            self.use(base)
            self.use(value)
            expr = self.to_expr(value, frame)
            if isinstance(target, ast.Subscript):
                index = self.expr(target.slice, frame)
                self.use(index)
                new: ast.expr = ast.Subscript(self.to_expr(base, frame), self.to_expr(index, frame), ast.Store())
            else:
                new = ast.Attribute(self.to_expr(base, frame), target.attr, ast.Store())
            frame.out.append(ast.Assign([new], expr))
            return
        raise Abort("assignment target")

    def unpack(self, value: Value, n: int) -> list[Value]:
        if isinstance(value, Const) and isinstance(value.value, tuple) and len(value.value) == n:
            return [Const(v) for v in value.value]
        if isinstance(value, (TupleV, ListV)) and value.items is not None and len(value.items) == n:
            return list(value.items)
        raise Abort("unpacking")

    def aug_assign(self, node: ast.AugAssign, frame: Frame) -> bool:
        target = node.target
        if not isinstance(target, ast.Name):
            raise Abort("augmented assignment target")
        old = self.name(target.id, frame)
        rhs = self.expr(node.value, frame)
        if (
            isinstance(old, ListV)
            and old.items is not None
            and isinstance(node.op, ast.Add)
            and isinstance(rhs, (ListV, TupleV))
            and rhs.items is not None
        ):
            old.items.extend(rhs.items)
            return True
        self.assign(target, self.binop(node.op, old, rhs, frame), frame)
        return True

    def if_(self, node: ast.If, frame: Frame) -> bool:
        test = self.expr(node.test, frame)
        truth = self.truth(test)
        if truth is True:
            return self.run(node.body, frame)
        if truth is False:
            return self.run(node.orelse, frame)
        test_expr = self.to_expr(test, frame)
        branches = []
        for body in (node.body, node.orelse):
            sub = self.fork(frame)
            live = self.run(body, sub)
            branches.append((sub, live))
        live_subs = [sub for sub, live in branches if live]
        result = self.join(frame, live_subs)
        frame.out.append(ast.If(test_expr, branches[0][0].out or [ast.Pass()], branches[1][0].out or [ast.Pass()]))
        for sub, _ in branches:
            frame.returns.extend(sub.returns)
        return result

    def fork(self, frame: Frame) -> Frame:
        """A copy of ``frame``'s state for one branch (its own residual list)."""
        memo: dict[int, object] = {}
        self_obj = None
        if frame.self_obj is not None:
            self_obj = SelfObj()
            memo[id(frame.self_obj)] = self_obj
        env = {k: _copy_value(v, memo) for k, v in frame.env.items()}
        if self_obj is not None:
            self_obj.attrs = {k: _copy_value(v, memo) for k, v in frame.self_obj.attrs.items()}  # type: ignore[union-attr]
        return Frame(
            frame.info, env, frame.prefix, frame.locals, [], self_obj, frame.chain,
            frame.closure, [], frame.home, frame.depth, frame.assigned_once, frame.cls,
        )

    def join(self, frame: Frame, live: list[Frame]) -> bool:
        """Merge the states of the live branches back into ``frame`` (emitting, at
        the end of each branch, what a residual variable needs)."""
        if not live:
            return False
        names = set().union(*(sub.env for sub in live))
        for name in names:
            values = [sub.env.get(name, UNBOUND) for sub in live]
            first = values[0]
            if all(_same(first, v) for v in values[1:]):
                if isinstance(first, (ListV, DictV)) and len(live) > 1:
                    raise Abort("container changed in a branch")
                frame.env[name] = first if first is not UNBOUND else UNBOUND
                continue
            if any(v is UNBOUND for v in values):
                frame.env[name] = UNBOUND
                continue
            if any(isinstance(v, (ListV, DictV)) for v in values):
                raise Abort("container changed in a branch")
            residual = frame.prefix + name
            for sub, value in zip(live, values):
                if not (isinstance(value, Dyn) and isinstance(value.expr, ast.Name) and value.expr.id == residual):
                    self.use(value)
                    sub.out.append(_assign(residual, self.to_expr(value, sub)))
            kinds = {v.instance_of if isinstance(v, Dyn) else None for v in values}
            frame.env[name] = Dyn(ast.Name(residual, ast.Load()), kinds.pop() if len(kinds) == 1 else None)
        if frame.self_obj is not None:
            subs = [sub.self_obj for sub in live if sub.self_obj is not None]
            for attr in set().union(*(s.attrs for s in subs)):
                values = [s.attrs.get(attr, UNBOUND) for s in subs]
                first = values[0]
                if first is not UNBOUND and all(_same(first, v) for v in values[1:]):
                    frame.self_obj.attrs[attr] = first
                else:
                    frame.self_obj.attrs[attr] = Dyn(_self_attr(attr))
        return True

    def for_(self, node: ast.For, frame: Frame) -> bool:
        iterable = self.expr(node.iter, frame)
        items = self.static_items(iterable)
        if node.orelse:
            raise Abort("for-else")
        if items is not None and len(items) <= MAX_UNROLL and not _has_jump(node.body):
            for item in items:
                self.assign(node.target, item, frame)
                if not self.run(node.body, frame):
                    return False
            return True
        # A residual loop: whatever the body binds is dynamic from here on.
        self.use(iterable)
        iter_expr = self.to_expr(iterable, frame)
        assigned = _assigned_names(node.body) | set(_target_ids(node.target))
        for name in assigned:
            value = frame.env.get(name)
            if value is not None and value is not UNBOUND and not (
                isinstance(value, Dyn) and isinstance(value.expr, ast.Name) and value.expr.id == frame.prefix + name
            ):
                self.use(value)
                frame.out.append(_assign(frame.prefix + name, self.to_expr(value, frame)))
            frame.env[name] = Dyn(ast.Name(frame.prefix + name, ast.Load()))
        for value in frame.env.values():
            if isinstance(value, (ListV, DictV)) and value.items is not None:
                raise Abort("container live across a loop")
        sub = self.fork(frame)
        before = dict(frame.self_obj.attrs) if frame.self_obj is not None else {}
        self.run(node.body, sub)
        if sub.returns:
            raise Abort("return in a loop")
        frame.out.append(ast.For(_residual_target(node.target, frame.prefix), iter_expr, sub.out or [ast.Pass()], []))
        for name in assigned:
            frame.env[name] = Dyn(ast.Name(frame.prefix + name, ast.Load()))
        if frame.self_obj is not None and sub.self_obj is not None:
            for attr, value in sub.self_obj.attrs.items():
                if attr not in before or not _same(before[attr], value):
                    frame.self_obj.attrs[attr] = Dyn(_self_attr(attr))
        return True

    def static_items(self, value: Value) -> list[Value] | None:
        if isinstance(value, Const) and isinstance(value.value, (tuple, str)):
            self.use(value)
            return [Const(v) for v in value.value]
        if isinstance(value, (TupleV, ListV)) and value.items is not None:
            return list(value.items)
        if isinstance(value, _RangeV):
            return [Const(i) for i in range(*value.args)]
        return None

    # -- truth
    def truth(self, value: Value) -> bool | None:
        self.use(value)
        if isinstance(value, Const):
            try:
                return bool(value.value)
            except Exception:
                return None
        if isinstance(value, (Ext, PFunc, PClass, Closure, Method, Partial, PModule, Instance)):
            return True
        if isinstance(value, (ListV, TupleV, DictV)) and value.items is not None:
            return bool(value.items)
        if isinstance(value, Dyn) and value.instance_of is not None and _is_module_class(value.instance_of, leaf=True):
            return True
        return None

    def is_none(self, value: Value) -> bool | None:
        if isinstance(value, Const):
            return value.value is None
        if isinstance(value, (PFunc, PClass, Closure, Method, Partial, PModule, Instance, ListV, TupleV, DictV, SelfObj)):
            return False
        if isinstance(value, Ext) and not value.qualname.startswith("builtins."):
            return False
        if isinstance(value, Dyn) and value.instance_of is not None:
            return False
        return None

    # -- expressions
    def expr(self, node: ast.expr, frame: Frame) -> Value:
        self.step()
        if isinstance(node, ast.Constant):
            return Const(node.value)
        if isinstance(node, ast.Name):
            return self.name(node.id, frame)
        if isinstance(node, ast.Attribute):
            return self.attribute(node, frame)
        if isinstance(node, ast.Call):
            return self.call(node, frame, want=True)
        if isinstance(node, ast.Tuple):
            items = self.elements(node.elts, frame)
            if all(isinstance(i, Const) and _literal(i.value) and i.origin is None for i in items):
                return Const(tuple(i.value for i in items))  # type: ignore[attr-defined]
            return TupleV(tuple(items))
        if isinstance(node, ast.List):
            return ListV(self.elements(node.elts, frame))
        if isinstance(node, ast.Dict):
            items: dict[str, Value] = {}
            for key, val in zip(node.keys, node.values):
                if key is None:
                    more = self.expr(val, frame)
                    if not isinstance(more, DictV) or more.items is None:
                        raise Abort("** in a dict")
                    items.update(more.items)
                    continue
                k = self.expr(key, frame)
                if not isinstance(k, Const) or not isinstance(k.value, str):
                    raise Abort("dict key")
                self.use(k)
                items[k.value] = self.expr(val, frame)
            return DictV(items)
        if isinstance(node, ast.BinOp):
            left = self.expr(node.left, frame)
            right = self.expr(node.right, frame)
            return self.binop(node.op, left, right, frame)
        if isinstance(node, ast.UnaryOp):
            operand = self.expr(node.operand, frame)
            if isinstance(node.op, ast.Not):
                truth = self.truth(operand)
                if truth is not None:
                    return Const(not truth)
                return Dyn(ast.UnaryOp(ast.Not(), self.to_expr(operand, frame)))
            self.use(operand)
            if isinstance(operand, Const):
                return _fold(lambda: _UNARY[type(node.op)](operand.value))
            return Dyn(ast.UnaryOp(node.op, self.to_expr(operand, frame)))
        if isinstance(node, ast.BoolOp):
            return self.boolop(node, frame)
        if isinstance(node, ast.Compare):
            return self.compare(node, frame)
        if isinstance(node, ast.IfExp):
            return self.ifexp(node, frame)
        if isinstance(node, ast.Lambda):
            return self.closure(node, frame)
        if isinstance(node, ast.JoinedStr):
            parts = []
            for value in node.values:
                if isinstance(value, ast.Constant):
                    parts.append(str(value.value))
                    continue
                assert isinstance(value, ast.FormattedValue)
                inner = self.expr(value.value, frame)
                self.use(inner)
                if not isinstance(inner, Const) or value.format_spec is not None or value.conversion not in (-1, 115):
                    raise Abort("f-string")
                parts.append(str(inner.value))
            return Const("".join(parts))
        if isinstance(node, ast.Subscript):
            base = self.expr(node.value, frame)
            index = self.expr(node.slice, frame)
            self.use(index)
            if isinstance(base, (ListV, TupleV)) and base.items is not None and isinstance(index, Const) and type(index.value) is int:
                try:
                    return base.items[index.value]
                except IndexError:
                    raise Abort("index") from None
            if isinstance(base, DictV) and base.items is not None and isinstance(index, Const) and index.value in base.items:
                return base.items[index.value]  # type: ignore[index]
            self.use(base)
            if isinstance(base, Const) and isinstance(index, Const):
                return _fold(lambda: base.value[index.value])  # type: ignore[index]
            return Dyn(ast.Subscript(self.to_expr(base, frame), self.to_expr(index, frame), ast.Load()))
        raise Abort(f"expression {type(node).__name__}")

    def elements(self, elts: list[ast.expr], frame: Frame) -> list[Value]:
        out: list[Value] = []
        for el in elts:
            if isinstance(el, ast.Starred):
                items = self.static_items(self.expr(el.value, frame))
                if items is None:
                    raise Abort("starred element")
                out.extend(items)
            else:
                out.append(self.expr(el, frame))
        return out

    def name(self, name: str, frame: Frame) -> Value:
        if name in frame.env:
            value = frame.env[name]
            if value is UNBOUND:
                raise Abort(f"{name} may be unbound")
            return value
        if name in frame.locals:
            raise Abort(f"{name} read before assignment")
        if name in frame.closure:
            return frame.closure[name]
        value = self.names.global_value(frame.info, name)
        if value is None:
            if frame.home and name not in self.top_locals:
                return Dyn(ast.Name(name, ast.Load()))
            return OPAQUE
        return value

    def is_self(self, node: ast.expr, frame: Frame) -> bool:
        return (
            frame.self_obj is not None
            and isinstance(node, ast.Name)
            and frame.env.get(node.id) is frame.self_obj
        )

    def attribute(self, node: ast.Attribute, frame: Frame) -> Value:
        if self.is_self(node.value, frame):
            obj = frame.self_obj
            assert obj is not None
            if node.attr in obj.attrs:
                return obj.attrs[node.attr]
            for cls in frame.chain:
                method = _member(cls.node, node.attr)
                if method is not None:
                    return Method(method, cls.info, cls)  # type: ignore[call-arg]
            return Dyn(_self_attr(node.attr))
        base = self.expr(node.value, frame)
        if isinstance(base, (Ext, PModule)):
            found = self.names.attribute(base, node.attr)
            return found if found is not None else OPAQUE
        if isinstance(base, Const) and isinstance(base.value, str) and node.attr in _STR_METHODS:
            return _BoundConst(base, node.attr)
        if isinstance(base, ListV) and base.items is not None and node.attr in ("append", "extend", "insert"):
            return _ListMethod(base, node.attr)
        self.use(base)
        if isinstance(base, Const):
            raise Abort("constant attribute")
        return Dyn(ast.Attribute(self.to_expr(base, frame), node.attr, ast.Load()))

    def binop(self, op: ast.operator, left: Value, right: Value, frame: Frame) -> Value:
        if (
            isinstance(op, ast.Add)
            and isinstance(left, (ListV, TupleV))
            and isinstance(right, (ListV, TupleV))
            and left.items is not None
            and right.items is not None
        ):
            if isinstance(left, ListV):
                return ListV([*left.items, *right.items])
            return TupleV((*left.items, *right.items))
        self.use(left)
        self.use(right)
        if isinstance(left, Const) and isinstance(right, Const) and type(op) in _BINARY:
            if isinstance(op, ast.Mult) and any(isinstance(v.value, (str, tuple, bytes)) for v in (left, right)):
                raise Abort("repeated sequence")
            return _fold(lambda: _BINARY[type(op)](left.value, right.value))
        return Dyn(ast.BinOp(self.to_expr(left, frame), op, self.to_expr(right, frame)))

    def boolop(self, node: ast.BoolOp, frame: Frame) -> Value:
        """``a and b`` / ``a or b``: known operands short-circuit; the first unknown
        one starts a residual expression (later operands must emit nothing)."""
        is_and = isinstance(node.op, ast.And)
        residual: list[ast.expr] = []
        value: Value = Const(None)
        for operand in node.values:
            if residual:
                scratch = self.fork(frame)
                value = self.expr(operand, scratch)
                if scratch.out:
                    raise Abort("effects in a boolean operand")
                self.use(value)
                residual.append(self.to_expr(value, frame))
                continue
            value = self.expr(operand, frame)
            truth = self.truth(value)
            if truth is None:
                residual.append(self.to_expr(value, frame))
            elif truth != is_and:
                return value  # decided here
        if len(residual) <= 1:
            return value if not residual else Dyn(residual[0])
        return Dyn(ast.BoolOp(node.op, residual))

    def compare(self, node: ast.Compare, frame: Frame) -> Value:
        if len(node.ops) != 1:
            raise Abort("chained comparison")
        left = self.expr(node.left, frame)
        right = self.expr(node.comparators[0], frame)
        op = node.ops[0]
        self.use(left)
        self.use(right)
        if isinstance(op, (ast.Is, ast.IsNot)):
            for a, b in ((left, right), (right, left)):
                if isinstance(b, Const) and b.value is None:
                    known = self.is_none(a)
                    if known is not None:
                        return Const(known if isinstance(op, ast.Is) else not known)
        if isinstance(left, Const) and isinstance(right, Const) and type(op) in _COMPARE:
            return _fold(lambda: _COMPARE[type(op)](left.value, right.value))
        if (
            isinstance(op, (ast.In, ast.NotIn))
            and isinstance(left, Const)
            and isinstance(right, (TupleV, ListV))
            and right.items is not None
            and all(isinstance(i, Const) for i in right.items)
        ):
            hit = any(left == i for i in right.items)
            return Const(hit if isinstance(op, ast.In) else not hit)
        if isinstance(op, (ast.Eq, ast.NotEq, ast.Is, ast.IsNot)) and isinstance(left, Ext) and isinstance(right, Ext):
            if left.qualname == right.qualname:
                return Const(isinstance(op, (ast.Eq, ast.Is)))
        return Dyn(ast.Compare(self.to_expr(left, frame), [op], [self.to_expr(right, frame)]))

    def ifexp(self, node: ast.IfExp, frame: Frame) -> Value:
        test = self.expr(node.test, frame)
        truth = self.truth(test)
        if truth is True:
            return self.expr(node.body, frame)
        if truth is False:
            return self.expr(node.orelse, frame)
        test_expr = self.to_expr(test, frame)
        branches = []
        residual = self.fresh("v")
        for branch in (node.body, node.orelse):
            sub = self.fork(frame)
            value = self.expr(branch, sub)
            self.use(value)
            sub.out.append(_assign(residual, self.to_expr(value, sub)))
            branches.append((sub, value))
        frame.out.append(ast.If(test_expr, branches[0][0].out, branches[1][0].out))
        kinds = {v.instance_of if isinstance(v, Dyn) else None for _, v in branches}
        return Dyn(ast.Name(residual, ast.Load()), kinds.pop() if len(kinds) == 1 else None)

    # -- closures
    def closure(self, node: ast.Lambda | ast.FunctionDef, frame: Frame) -> Closure:
        """A lambda or nested function: the values of the names it reads from the
        enclosing function (which must never rebind them), and its defaults."""
        captured = {}
        for name in _free_names(node):
            if name in frame.env:
                if name in frame.locals and name not in frame.assigned_once:
                    raise Abort("closure over a rebound name")
                captured[name] = frame.env[name]
            elif name in frame.closure:
                captured[name] = frame.closure[name]
            elif name in frame.locals:
                raise Abort("closure over a later binding")
        defaults: dict[str, Value] = {}
        args = node.args
        positional = [*args.posonlyargs, *args.args]
        for arg, default in zip(positional[len(positional) - len(args.defaults) :], args.defaults):
            defaults[arg.arg] = self.expr(default, frame)
        for arg, default in zip(args.kwonlyargs, args.kw_defaults):
            if default is not None:
                defaults[arg.arg] = self.expr(default, frame)
        return Closure(node, captured, frame.info, defaults)

    # -- calls
    def arguments(self, node: ast.Call, frame: Frame) -> tuple[list[Value], dict[str, Value]]:
        args: list[Value] = []
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                items = self.static_items(self.expr(arg.value, frame))
                if items is None:
                    raise Abort("*args")
                args.extend(items)
            else:
                args.append(self.expr(arg, frame))
        kwargs: dict[str, Value] = {}
        for kw in node.keywords:
            if kw.arg is None:
                inner = self.expr(kw.value, frame)
                if not isinstance(inner, DictV) or inner.items is None:
                    raise Abort("**kwargs")
                for key, value in inner.items.items():
                    if key in kwargs:
                        raise Abort("repeated keyword")
                    kwargs[key] = value
            else:
                if kw.arg in kwargs:
                    raise Abort("repeated keyword")
                kwargs[kw.arg] = self.expr(kw.value, frame)
        return args, kwargs

    def call(self, node: ast.Call, frame: Frame, want: bool) -> Value:
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Call)
            and isinstance(func.value.func, ast.Name)
            and func.value.func.id == "super"
            and frame.self_obj is not None
        ):
            return self.super_call(node, frame)
        callee = self.expr(func, frame)
        args, kwargs = self.arguments(node, frame)
        return self.apply(callee, args, kwargs, frame, want, (frame.info.path, node.lineno, node.col_offset))

    def apply(
        self,
        callee: Value,
        args: list[Value],
        kwargs: dict[str, Value],
        frame: Frame,
        want: bool = True,
        where: tuple = (),
    ) -> Value:
        if isinstance(callee, Partial):
            return self.apply(callee.func, [*callee.args, *args], {**callee.kwargs, **kwargs}, frame, want, where)
        if isinstance(callee, (PFunc, Closure, Method)):
            return self.inline(callee, args, kwargs, frame)
        if isinstance(callee, PClass):
            return Instance(callee, args, kwargs)
        if isinstance(callee, _BoundConst):
            return self.const_method(callee, args, kwargs)
        if isinstance(callee, _ListMethod):
            return self.list_method(callee, args, kwargs)
        if isinstance(callee, Ext):
            special = _SPECIAL.get(callee.qualname)
            if special is not None:
                result = special(self, args, kwargs, frame)
                if result is not None:
                    return result
        if isinstance(callee, Ext) and callee.qualname in _PURE_CALLS:
            # A builtin without effects: an expression, not a statement.
            for value in [*args, *kwargs.values()]:
                self.use(value)
            return Dyn(
                ast.Call(
                    self.to_expr(callee, frame),
                    [self.to_expr(a, frame) for a in args],
                    [ast.keyword(k, self.to_expr(v, frame)) for k, v in kwargs.items()],
                )
            )
        # A call the evaluator does not enter: emitted as it is.
        self.use(callee)
        tracked = isinstance(callee, Ext)
        arg_exprs = []
        for i, value in enumerate(args):
            if not tracked:
                self.use(value)
            arg_exprs.append(self.to_expr(value, frame))
        kw_exprs = []
        for key, value in kwargs.items():
            if not tracked:
                self.use(value)
            kw_exprs.append(ast.keyword(key, self.to_expr(value, frame)))
        call = ast.Call(self.to_expr(callee, frame), arg_exprs, kw_exprs)
        instance_of = None
        if isinstance(callee, Ext):
            if _is_module_class(callee.qualname):
                instance_of = callee.qualname
            self.tracked[id(call)] = Tracked(callee.qualname, [(None, a) for a in args] + list(kwargs.items()), where)
            for i, value in enumerate(args):
                self._arg_use(value, ("arg", id(call), None, i))
            for key, value in kwargs.items():
                self._arg_use(value, ("arg", id(call), key, None))
        if not want:
            frame.out.append(ast.Expr(call))
            return Const(None)
        name = self.fresh("t")
        frame.out.append(_assign(name, call))
        return Dyn(ast.Name(name, ast.Load()), instance_of)

    def _arg_use(self, value: Value, how: tuple) -> None:
        """``value`` is an argument of a residual call (inner values of a tuple or
        dict argument count as used otherwise)."""
        if value.origin is not None:
            self.origin_uses.setdefault(value.origin, []).append(how)
        if isinstance(value, (TupleV, ListV, DictV)):
            self.use(value)

    def const_method(self, callee: _BoundConst, args: list[Value], kwargs: dict[str, Value]) -> Value:
        values = [*args, *kwargs.values()]
        for v in values:
            self.use(v)
        self.use(callee.base)
        if not all(isinstance(v, Const) for v in values):
            if callee.method == "join" and len(args) == 1 and not kwargs:
                items = self.static_items(args[0])
                if items is not None and all(isinstance(i, Const) for i in items):
                    return _fold(lambda: callee.base.value.join(i.value for i in items))  # type: ignore[attr-defined]
            raise Abort("string method")
        return _fold(
            lambda: getattr(callee.base.value, callee.method)(
                *[a.value for a in args], **{k: v.value for k, v in kwargs.items()}  # type: ignore[attr-defined]
            )
        )

    def list_method(self, callee: _ListMethod, args: list[Value], kwargs: dict[str, Value]) -> Value:
        items = callee.target.items
        if kwargs or items is None:
            raise Abort("list method")
        if callee.method == "append" and len(args) == 1:
            items.append(args[0])
        elif callee.method == "extend" and len(args) == 1:
            more = self.static_items(args[0])
            if more is None:
                raise Abort("extend")
            items.extend(more)
        elif (
            callee.method == "insert"
            and len(args) == 2
            and isinstance(args[0], Const)
            and type(args[0].value) is int
        ):
            self.use(args[0])
            items.insert(args[0].value, args[1])
        else:
            raise Abort("list method")
        return Const(None)

    def super_call(self, node: ast.Call, frame: Frame) -> Value:
        """``super().__init__(...)`` (or ``super(C, self)``): a project base's
        ``__init__`` is inlined; a class outside the project gets the call."""
        func = node.func
        assert isinstance(func, ast.Attribute)
        sup = func.value
        assert isinstance(sup, ast.Call)
        if sup.args and not (
            len(sup.args) == 2 and isinstance(sup.args[1], ast.Name) and self.is_self(sup.args[1], frame)
        ):
            raise Abort("super() arguments")
        args, kwargs = self.arguments(node, frame)
        chain = frame.chain
        index = next((i for i, c in enumerate(chain) if c is frame.cls), None)
        if index is None:
            raise Abort("super() outside the class chain")
        if func.attr != "__init__":
            raise Abort("super() method")
        for cls in chain[index + 1 :]:
            init = _member(cls.node, "__init__")
            if init is not None:
                return self.inline(Method(init, cls.info, cls), args, kwargs, frame)  # type: ignore[call-arg]
        for value in [*args, *kwargs.values()]:
            self.use(value)
        call = ast.Call(
            ast.Attribute(ast.Call(ast.Name("super", ast.Load()), [], []), "__init__", ast.Load()),
            [self.to_expr(a, frame) for a in args],
            [ast.keyword(k, self.to_expr(v, frame)) for k, v in kwargs.items()],
        )
        frame.out.append(ast.Expr(call))
        return Const(None)

    def inline(
        self,
        callee: PFunc | Closure | Method,
        args: list[Value],
        kwargs: dict[str, Value],
        frame: Frame,
    ) -> Value:
        """Run a function's body with these arguments; its residual goes to
        ``frame``'s, its locals renamed."""
        if frame.depth >= MAX_DEPTH:
            raise Abort("too deep")
        node = callee.node
        if isinstance(node, ast.FunctionDef):
            if node.decorator_list:
                raise Abort("decorated function")
            if _is_generator(node):
                raise Abort("generator")
        defaults = callee.defaults if isinstance(callee, Closure) else self.defaults(callee)
        defaults = self.root_defaults(node, defaults)
        is_method = isinstance(callee, Method)
        bound = bind(node.args, args, kwargs, defaults, skip_self=is_method)
        if is_method:
            if frame.self_obj is None:
                raise Abort("method without an object")
            bound[node.args.posonlyargs[0].arg if node.args.posonlyargs else node.args.args[0].arg] = frame.self_obj
        body = node.body if isinstance(node, ast.FunctionDef) else [ast.Return(node.body)]
        local_names = frozenset(_assigned_names(body)) | frozenset(bound)
        new = Frame(
            callee.info,
            bound,
            self.fresh("f") + "_",
            local_names,
            frame.out,
            frame.self_obj if is_method else None,
            frame.chain if is_method else (),
            callee.env if isinstance(callee, Closure) else {},
            [],
            False,
            frame.depth + 1,
            frozenset(_assigned_once(body, bound)),
            getattr(callee, "cls", None) if is_method else None,
        )
        live = self.run(body, new)
        returns = list(new.returns)
        if live:
            returns.append((Const(None), new.out))
        if not returns:
            # Every path raises: so does the call.
            return Const(None)
        first = returns[0][0]
        if all(_same(first, v) for v, _ in returns[1:]):
            return first
        residual = self.fresh("r")
        for value, out in returns:
            self.use(value)
            out.append(_assign(residual, self.to_expr(value, new)))
        kinds = {v.instance_of if isinstance(v, Dyn) else None for v, _ in returns}
        return Dyn(ast.Name(residual, ast.Load()), kinds.pop() if len(kinds) == 1 else None)

    def defaults(self, callee: PFunc | Method) -> dict[str, Value]:
        """A function's defaults, evaluated in its module (once per definition);
        a default the evaluator cannot follow, or a mutable one, is unknown."""
        key = id(callee.node)
        cache = self.names.defaults
        if key in cache:
            return cache[key]
        args = callee.node.args
        out: dict[str, Value] = {}
        positional = [*args.posonlyargs, *args.args]
        pairs = list(zip(positional[len(positional) - len(args.defaults) :], args.defaults))
        pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
        for arg, default in pairs:
            scratch = Frame(callee.info, {}, "_d_", frozenset(), [])
            ev = Evaluator(self.names)
            try:
                value: Value = ev.expr(default, scratch)
            except Abort:
                value = OPAQUE
            if scratch.out or isinstance(value, (ListV, DictV, Dyn, Instance)):
                value = OPAQUE  # a mutable default, or one with effects: not followed
            out[arg.arg] = value
        cache[key] = out
        return out


def bind(
    args: ast.arguments,
    positional: list[Value],
    keywords: dict[str, Value],
    defaults: dict[str, Value],
    skip_self: bool = False,
) -> dict[str, Value]:
    """Python's argument binding (raises :class:`Abort` where a call would fail)."""
    params = [*args.posonlyargs, *args.args]
    if skip_self:
        if not params:
            raise Abort("method without self")
        params = params[1:]
    out: dict[str, Value] = {}
    posonly = {a.arg for a in args.posonlyargs}
    extra: list[Value] = []
    for i, value in enumerate(positional):
        if i < len(params):
            out[params[i].arg] = value
        else:
            extra.append(value)
    if extra and args.vararg is None:
        raise Abort("too many arguments")
    if args.vararg is not None:
        out[args.vararg.arg] = TupleV(tuple(extra))
    rest: dict[str, Value] = {}
    names = {p.arg for p in params} | {a.arg for a in args.kwonlyargs}
    for key, value in keywords.items():
        if key in names and key not in posonly:
            if key in out:
                raise Abort("argument given twice")
            out[key] = value
        elif args.kwarg is not None:
            rest[key] = value
        else:
            raise Abort(f"unexpected keyword {key}")
    if args.kwarg is not None:
        out[args.kwarg.arg] = DictV(rest)
    for p in [*params, *args.kwonlyargs]:
        if p.arg not in out:
            if p.arg not in defaults:
                raise Abort(f"missing argument {p.arg}")
            out[p.arg] = defaults[p.arg]
    return out


# --------------------------------------------------------------------------- specials


class _RangeV(Value):
    def __init__(self, args: tuple) -> None:
        self.args = args


class _BoundConst(Value):
    def __init__(self, base: Const, method: str) -> None:
        self.base = base
        self.method = method


class _ListMethod(Value):
    def __init__(self, target: ListV, method: str) -> None:
        self.target = target
        self.method = method


_STR_METHODS = frozenset({"format", "lower", "upper", "startswith", "endswith", "replace", "join", "strip", "split"})


def _is_module_class(qualname: str, leaf: bool = False) -> bool:
    """A class whose instances are ``torch.nn.Module`` objects (catalogued, or a
    class of ``torch.nn``).  ``leaf``: not a container (an empty one is falsy)."""
    from convbnlint.catalog import Role, default_catalog

    spec = default_catalog().lookup(qualname)
    if spec is not None:
        return spec.framework == "torch" and not (leaf and spec.role is Role.SEQUENTIAL)
    parts = qualname.split(".")
    if len(parts) == 3 and parts[0] == "torch" and parts[1] == "nn" and parts[2][:1].isupper():
        if "Parameter" in parts[2] or parts[2] in ("Module",):
            return False
        return not (leaf and parts[2] in ("Sequential", "ModuleList", "ModuleDict"))
    return False


_PLAIN_TYPES = {
    "builtins.bool": bool, "builtins.int": int, "builtins.float": float,
    "builtins.str": str, "builtins.tuple": tuple, "builtins.list": list,
    "builtins.dict": dict, "builtins.bytes": bytes,
}


def _isinstance(ev: Evaluator, args: list[Value], kwargs: dict, frame: Frame) -> Value | None:
    if kwargs or len(args) != 2:
        return None
    obj, cls = args
    classes = [cls] if isinstance(cls, Ext) else ev.static_items(cls) if isinstance(cls, TupleV) else None
    if classes is None or not all(isinstance(c, Ext) for c in classes):
        return None
    names = {c.qualname for c in classes}  # type: ignore[attr-defined]
    ev.use(obj)
    plain = names <= set(_PLAIN_TYPES)
    if isinstance(obj, Const):
        if not plain:
            return Const(False) if names == {"torch.nn.Module"} else None
        return Const(isinstance(obj.value, tuple(_PLAIN_TYPES[n] for n in names)))
    if isinstance(obj, (ListV, TupleV, DictV)):
        kind = {ListV: "builtins.list", TupleV: "builtins.tuple", DictV: "builtins.dict"}[type(obj)]
        if plain or names == {"torch.nn.Module"}:
            return Const(kind in names)
        return None
    if isinstance(obj, (Closure, PFunc)):
        if plain or names == {"torch.nn.Module"}:
            return Const(False)
        return None
    if isinstance(obj, Dyn) and obj.instance_of is not None and _is_module_class(obj.instance_of):
        if "torch.nn.Module" in names or obj.instance_of in names:
            return Const(True)
        if plain:
            return Const(False)
    return None


def _isfunction(ev: Evaluator, args: list[Value], kwargs: dict, frame: Frame) -> Value | None:
    if kwargs or len(args) != 1:
        return None
    obj = args[0]
    ev.use(obj)
    if isinstance(obj, (Closure, PFunc)):
        return Const(True)
    if isinstance(obj, (Const, PClass, ListV, TupleV, DictV, Partial, Instance)):
        return Const(False)
    if isinstance(obj, Ext) and _is_module_class(obj.qualname):
        return Const(False)
    if isinstance(obj, Dyn) and obj.instance_of is not None and _is_module_class(obj.instance_of):
        return Const(False)
    return None


def _callable(ev: Evaluator, args: list[Value], kwargs: dict, frame: Frame) -> Value | None:
    if kwargs or len(args) != 1:
        return None
    obj = args[0]
    ev.use(obj)
    if isinstance(obj, (Closure, PFunc, PClass, Partial)):
        return Const(True)
    if isinstance(obj, Ext) and _is_module_class(obj.qualname):
        return Const(True)
    if isinstance(obj, (Const, ListV, TupleV, DictV)):
        return Const(False)
    if isinstance(obj, Dyn) and obj.instance_of is not None and _is_module_class(obj.instance_of):
        return Const(True)
    return None


def _partial(ev: Evaluator, args: list[Value], kwargs: dict, frame: Frame) -> Value | None:
    if not args:
        return None
    return Partial(args[0], list(args[1:]), dict(kwargs))


def _range(ev: Evaluator, args: list[Value], kwargs: dict, frame: Frame) -> Value | None:
    if kwargs or not 1 <= len(args) <= 3 or not all(isinstance(a, Const) and type(a.value) is int for a in args):
        return None
    for a in args:
        ev.use(a)
    return _RangeV(tuple(a.value for a in args))  # type: ignore[attr-defined]


def _pure(fn: Callable) -> Callable:
    def special(ev: Evaluator, args: list[Value], kwargs: dict, frame: Frame) -> Value | None:
        if not all(isinstance(a, Const) for a in [*args, *kwargs.values()]):
            return None
        for a in [*args, *kwargs.values()]:
            ev.use(a)
        return _fold(lambda: fn(*[a.value for a in args], **{k: v.value for k, v in kwargs.items()}))

    return special


def _dict(ev: Evaluator, args: list[Value], kwargs: dict, frame: Frame) -> Value | None:
    if args:
        return None
    return DictV(dict(kwargs))


def _sequence(kind: type) -> Callable:
    def special(ev: Evaluator, args: list[Value], kwargs: dict, frame: Frame) -> Value | None:
        if kwargs or len(args) > 1:
            return None
        if not args:
            return ListV([]) if kind is list else Const(())
        items = ev.static_items(args[0])
        if items is None:
            return None
        if kind is list:
            return ListV(list(items))
        if all(isinstance(i, Const) and _literal(i.value) and i.origin is None for i in items):
            return Const(tuple(i.value for i in items))  # type: ignore[attr-defined]
        return TupleV(tuple(items))

    return special


def _len(ev: Evaluator, args: list[Value], kwargs: dict, frame: Frame) -> Value | None:
    if kwargs or len(args) != 1:
        return None
    items = ev.static_items(args[0])
    return None if items is None else Const(len(items))


# Builtins without effects on their arguments (a call with unknown arguments stays
# an expression of the residual).
_PURE_CALLS = frozenset(
    f"builtins.{n}"
    for n in (
        "len", "isinstance", "issubclass", "int", "float", "str", "bool", "abs", "min", "max",
        "round", "sum", "tuple", "callable", "divmod", "pow", "any", "all", "type", "repr",
    )
)

_SPECIAL: dict[str, Callable] = {
    "builtins.isinstance": _isinstance,
    "inspect.isfunction": _isfunction,
    "builtins.callable": _callable,
    "functools.partial": _partial,
    "builtins.range": _range,
    "builtins.dict": _dict,
    "builtins.list": _sequence(list),
    "builtins.tuple": _sequence(tuple),
    "builtins.len": _len,
    "builtins.int": _pure(int),
    "builtins.float": _pure(float),
    "builtins.str": _pure(str),
    "builtins.bool": _pure(bool),
    "builtins.abs": _pure(abs),
    "builtins.max": _pure(max),
    "builtins.min": _pure(min),
    "builtins.round": _pure(round),
    "math.floor": _pure(math.floor),
    "math.ceil": _pure(math.ceil),
}


def _guarded_pow(a: object, b: object) -> object:
    if not isinstance(b, (int, float)) or abs(b) > 64:
        raise ValueError("exponent")
    return a**b  # type: ignore[operator]


_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: _guarded_pow,
    ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_,
}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert}
_COMPARE = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}


def _fold(fn: Callable[[], object]) -> Value:
    try:
        value = fn()
    except Exception:
        raise Abort("constant folding") from None
    if not _literal(value):
        raise Abort("folded value")
    if isinstance(value, (str, bytes, tuple)) and len(value) > 10_000:
        raise Abort("large constant")
    return Const(value)


# --------------------------------------------------------------------------- small helpers


def _dotted_expr(qualname: str) -> ast.expr:
    parts = qualname.split(".")
    node: ast.expr = ast.Name(parts[0], ast.Load())
    for part in parts[1:]:
        node = ast.Attribute(node, part, ast.Load())
    return node


def _self_attr(attr: str) -> ast.expr:
    return ast.Attribute(ast.Name("self", ast.Load()), attr, ast.Load())


def _assign(name: str, value: ast.expr) -> ast.Assign:
    return ast.Assign([ast.Name(name, ast.Store())], value)


def _raise() -> ast.Raise:
    return ast.Raise(ast.Call(ast.Name("RuntimeError", ast.Load()), [], []), None)


def _same(a: object, b: object) -> bool:
    if a is b:
        return True
    if isinstance(a, Const) and isinstance(b, Const):
        return a == b
    if isinstance(a, Ext) and isinstance(b, Ext):
        return a == b
    if isinstance(a, Dyn) and isinstance(b, Dyn):
        return ast.dump(a.expr) == ast.dump(b.expr) and a.instance_of == b.instance_of
    if isinstance(a, (PFunc, PClass)) and type(a) is type(b):
        return a.node is b.node  # type: ignore[attr-defined]
    return False


def _copy_value(value: object, memo: dict[int, object]) -> object:
    """A branch's own copy of a mutable value (aliasing kept through ``memo``)."""
    key = id(value)
    if key in memo:
        return memo[key]
    if isinstance(value, ListV) and value.items is not None:
        new_list = ListV([])
        memo[key] = new_list
        new_list.items = [_copy_value(v, memo) for v in value.items]  # type: ignore[misc]
        return new_list
    if isinstance(value, DictV) and value.items is not None:
        new_dict = DictV({})
        memo[key] = new_dict
        new_dict.items = {k: _copy_value(v, memo) for k, v in value.items.items()}  # type: ignore[misc]
        return new_dict
    return value


def _member(cls: ast.ClassDef, name: str) -> ast.FunctionDef | None:
    """The method ``name`` a class body defines (None if it defines none);
    anything else binding that name is not modelled."""
    found = None
    for stmt in cls.body:
        if isinstance(stmt, ast.FunctionDef) and stmt.name == name:
            if found is not None or stmt.decorator_list:
                raise Abort("method defined twice or decorated")
            found = stmt
        elif _binds(stmt, name):
            raise Abort("class attribute")
    return found


def _binds(stmt: ast.stmt, name: str) -> bool:
    if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        return any(name in _target_ids(t) for t in targets)
    if isinstance(stmt, (ast.AsyncFunctionDef, ast.ClassDef)):
        return stmt.name == name
    if isinstance(stmt, (ast.If, ast.Try, ast.For, ast.While, ast.With)):
        return name in _assigned_names([stmt])
    return False


def _target_ids(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for el in target.elts for n in _target_ids(el)]
    if isinstance(target, ast.Starred):
        return _target_ids(target.value)
    return []


def _residual_target(target: ast.expr, prefix: str) -> ast.expr:
    if isinstance(target, ast.Name):
        return ast.Name(prefix + target.id, ast.Store())
    if isinstance(target, (ast.Tuple, ast.List)):
        return ast.Tuple([_residual_target(e, prefix) for e in target.elts], ast.Store())
    raise Abort("loop target")


class _Binds(ast.NodeVisitor):
    """How often each name is bound in a function body (nested scopes excluded)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def _add(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    def visit_Name(self, node: ast.Name) -> None:
        if not isinstance(node.ctx, ast.Load):
            self._add(node.id)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._add(node.name)
        for dec in node.decorator_list:
            self.visit(dec)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._add(node.name)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        pass

    def _comp(self, node: ast.AST) -> None:
        pass

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comp  # type: ignore[assignment]

    def visit_Global(self, node: ast.Global) -> None:
        raise Abort("global")

    visit_Nonlocal = visit_Global  # type: ignore[assignment]

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add((alias.asname or alias.name).partition(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            self._add(alias.asname or alias.name)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self._add(node.name)
        self.generic_visit(node)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        raise Abort("assignment expression")


def _binding_counts(body: list[ast.stmt]) -> dict[str, int]:
    v = _Binds()
    for stmt in body:
        v.visit(stmt)
    return v.counts


def _assigned_names(body: list[ast.stmt]) -> set[str]:
    return set(_binding_counts(body))


def _assigned_once(body: list[ast.stmt], params: dict) -> set[str]:
    counts = _binding_counts(body)
    once = {n for n, c in counts.items() if c == 1 and n not in params}
    once |= {p for p in params if p not in counts}
    return once


def _free_names(node: ast.Lambda | ast.FunctionDef) -> set[str]:
    args = node.args
    bound = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
    if args.vararg:
        bound.add(args.vararg.arg)
    if args.kwarg:
        bound.add(args.kwarg.arg)
    body: list[ast.stmt] = node.body if isinstance(node, ast.FunctionDef) else [ast.Expr(node.body)]
    bound |= _assigned_names(body)
    used = {n.id for stmt in body for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return used - bound


def _is_generator(node: ast.FunctionDef) -> bool:
    stack: list[ast.AST] = list(node.body)
    while stack:
        sub = stack.pop()
        if isinstance(sub, (ast.Yield, ast.YieldFrom)):
            return True
        if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        stack.extend(ast.iter_child_nodes(sub))
    return False


def _has_jump(body: list[ast.stmt]) -> bool:
    for stmt in body:
        for sub in ast.walk(stmt):
            if isinstance(sub, (ast.Break, ast.Continue)):
                return True
    return False
