"""A class (or function) of the project specialised for one call's arguments, and
judged by the ordinary single-file analysis.

:func:`specialise_class` runs ``__init__`` (its project bases' too, through
``super().__init__``) with the call's abstract arguments
(:class:`~convbnlint.project.evaluate.Evaluator`) and builds a *residual* class:
the residual ``__init__``, the class's other methods as they are, with the flags
``__init__`` set to constants folded (``self.normalize = True`` ...
``if self.normalize: x = self.bn(x)``), and the bases outside the project.  The
residual class takes the original's place in its module's text, so that
everything the single-file analysis knows about the class from the rest of the
module still holds; :func:`judge` runs that analysis and reports which residual
layer constructions are findings.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass, field

from convbnlint.project.evaluate import (
    Abort,
    Evaluator,
    Frame,
    Names,
    Tracked,
    _assigned_names,
    _assigned_once,
    _member,
    bind,
)
from convbnlint.project.graph import ModuleInfo
from convbnlint.project.values import Const, Ext, PClass, PFunc, SelfObj, Value


@dataclass
class Residual:
    """A residual definition in place of the original, ready to be checked."""

    info: ModuleInfo  # the module it replaces a definition of
    text: str  # the module's whole text with the residual in place
    evaluator: Evaluator
    # id(residual Call) -> (line, column) in ``text`` (1-based, as findings are)
    positions: dict[int, tuple[int, int]] = field(default_factory=dict)
    attrs: frozenset[str] = frozenset()  # the instance's attributes (classes)
    container: bool = False  # the class is a container subclass (items by index)


@dataclass
class Judged:
    """A residual layer construction the single-file analysis reports."""

    tracked: Tracked
    call_id: int
    code: str
    message: str
    norms: str  # the cancelling norms' names, as the message gives them


def class_chain(names: Names, cls: PClass) -> tuple[list[PClass], list[Ext]]:
    """The class and its project bases (single inheritance), and the bases
    outside the project of the last one."""
    chain: list[PClass] = []
    current: PClass | None = cls
    ext: list[Ext] = []
    while current is not None:
        if any(c.node is current.node for c in chain):
            raise Abort("inheritance cycle")
        chain.append(current)
        node = current.node
        if node.keywords or node.decorator_list:
            raise Abort("class keywords or decorators")
        nxt = None
        for base in node.bases:
            value = _static(names, current.info, base)
            if isinstance(value, PClass):
                if nxt is not None or ext:
                    raise Abort("several project bases")
                nxt = value
            elif isinstance(value, Ext):
                if nxt is not None:
                    raise Abort("mixed bases")
                ext.append(value)
            else:
                raise Abort("unknown base")
        if nxt is not None and ext:
            raise Abort("mixed bases")
        current = nxt
    return chain, ext


def _static(names: Names, info: ModuleInfo, node: ast.expr) -> Value | None:
    if isinstance(node, ast.Name):
        return names.global_value(info, node.id)
    if isinstance(node, ast.Attribute):
        base = _static(names, info, node.value)
        return names.attribute(base, node.attr) if base is not None else None
    return None


def specialise_class(names: Names, cls: PClass, args: list[Value], kwargs: dict[str, Value]) -> Residual:
    """The residual of ``cls(*args, **kwargs)`` in ``cls``'s module."""
    chain, ext = class_chain(names, cls)
    home = cls.info
    ev = Evaluator(names, home)
    self_obj = SelfObj()
    top = next(((c, m) for c in chain if (m := _member(c.node, "__init__")) is not None), None)
    params: ast.arguments
    if top is None:
        params = ast.arguments([], [ast.arg("self")], ast.arg("args"), [], [], ast.arg("kwargs"), [])
        frame = Frame(home, {"self": self_obj}, "", frozenset({"self"}), [], self_obj, tuple(chain), home=True, cls=chain[-1])
        ev.top_locals = frozenset({"self", "args", "kwargs"})
        for value in [*args, *kwargs.values()]:
            ev.use(value)
        frame.out.append(
            ast.Expr(
                ast.Call(
                    ast.Attribute(ast.Call(ast.Name("super", ast.Load()), [], []), "__init__", ast.Load()),
                    [ev.to_expr(a, frame) for a in args],
                    [ast.keyword(k, ev.to_expr(v, frame)) for k, v in kwargs.items()],
                )
            )
        )
    else:
        owner, init = top
        ev.root = init
        defaults = ev.root_defaults(init, ev.defaults(_as_func(owner, init)))
        bound = bind(init.args, args, kwargs, defaults, skip_self=True)
        first = (init.args.posonlyargs or init.args.args)[0].arg
        if first in bound:
            raise Abort("self bound twice")
        bound[first] = self_obj
        body = init.body
        local_names = frozenset(_assigned_names(body)) | frozenset(bound)
        if "self" in local_names and first != "self":
            raise Abort("a local named self")
        ev.top_locals = local_names
        frame = Frame(
            owner.info, bound, "", local_names, [], self_obj, tuple(chain),
            home=owner.info is home, assigned_once=frozenset(_assigned_once(body, bound)), cls=owner,
        )
        live = ev.run(body, frame)
        del live  # (a return ends __init__ too)
        params = _plain_params(init.args, first)
    init_def = ast.FunctionDef("__init__", params, frame.out or [ast.Pass()], [], None, None)
    # The other methods, as they are, with constant flags folded.
    methods: list[ast.stmt] = [init_def]
    seen = {"__init__"}
    others: list[ast.FunctionDef] = []
    for c in chain:
        for stmt in c.node.body:
            if isinstance(stmt, ast.FunctionDef):
                if stmt.name in seen:
                    continue
                seen.add(stmt.name)
                if c.info is not home:
                    raise Abort("a method from another module")
                others.append(stmt)
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) or isinstance(stmt, ast.Pass):
                continue
            else:
                if c.info is not home:
                    raise Abort("a class attribute from another module")
                if _assigned_names([stmt]) & seen:
                    raise Abort("a class attribute shadows a method")
                methods.append(copy.deepcopy(stmt))
                seen |= _assigned_names([stmt])
    flags = _flags(self_obj, others)
    for method in others:
        if _uses_super(method):
            raise Abort("super() in a method")
        methods.append(_fold_flags(copy.deepcopy(method), flags))
    bases = [ev.to_expr(b, frame) for b in ext]
    residual = ast.ClassDef(cls.node.name, bases, [], methods, [])
    container = any(_is_container(b.qualname) for b in ext)
    out = _place(home, cls.node, residual, ev)
    out.attrs = frozenset(self_obj.attrs) | _registered(frame.out)
    out.container = container
    return out


def specialise_function(names: Names, func: PFunc, args: list[Value], kwargs: dict[str, Value]) -> Residual:
    """The residual of ``func(*args, **kwargs)`` as a function of its module."""
    home = func.info
    ev = Evaluator(names, home)
    node = func.node
    ev.root = node
    bound = bind(node.args, args, kwargs, ev.root_defaults(node, ev.defaults(func)))
    body = node.body
    local_names = frozenset(_assigned_names(body)) | frozenset(bound)
    ev.top_locals = local_names
    frame = Frame(home, bound, "", local_names, [], home=True, assigned_once=frozenset(_assigned_once(body, bound)))
    live = ev.run(body, frame)
    returns = list(frame.returns)
    if live:
        returns.append((Const(None), frame.out))
    for value, out in returns:
        ev.use(value)
        out.append(ast.Return(ev.to_expr(value, frame)))
    params = _plain_params(node.args, None)
    residual = ast.FunctionDef(node.name, params, frame.out or [ast.Pass()], [], None, None)
    return _place(home, node, residual, ev)


def _as_func(owner: PClass, init: ast.FunctionDef) -> PFunc:
    return PFunc(owner.info, init)


def _plain_params(args: ast.arguments, first: str | None) -> ast.arguments:
    """The parameters without defaults or annotations (``self`` first)."""
    names = [a.arg for a in (*args.posonlyargs, *args.args)]
    if first is not None:
        names = ["self", *names[1:]]
    return ast.arguments(
        [],
        [ast.arg(n) for n in names],
        ast.arg(args.vararg.arg) if args.vararg else None,
        [ast.arg(a.arg) for a in args.kwonlyargs],
        [None] * len(args.kwonlyargs),
        ast.arg(args.kwarg.arg) if args.kwarg else None,
        [],
    )


def _flags(self_obj: SelfObj, methods: list[ast.FunctionDef]) -> dict[str, object]:
    """Attributes ``__init__`` leaves constant and no other method changes."""
    changed: set[str] = set()
    for method in methods:
        for node in ast.walk(method):
            if isinstance(node, ast.Attribute) and not isinstance(node.ctx, ast.Load):
                changed.add(node.attr)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in (
                "setattr", "delattr", "vars",
            ) or isinstance(node, ast.Attribute) and node.attr in ("__dict__", "__setattr__"):
                return {}
    out: dict[str, object] = {}
    for name, value in self_obj.attrs.items():
        if isinstance(value, Const) and name not in changed and isinstance(value.value, (bool, int, str, type(None))):
            out[name] = value.value
    return out


class _Folder(ast.NodeTransformer):
    def __init__(self, flags: dict[str, object], self_name: str) -> None:
        self.flags = flags
        self.self_name = self_name

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        if (
            isinstance(node.ctx, ast.Load)
            and isinstance(node.value, ast.Name)
            and node.value.id == self.self_name
            and node.attr in self.flags
        ):
            return ast.copy_location(ast.Constant(self.flags[node.attr]), node)
        return self.generic_visit(node)

    def visit_If(self, node: ast.If) -> ast.AST | list[ast.stmt]:
        self.generic_visit(node)
        truth = _const_truth(node.test)
        if truth is None:
            return node
        chosen = node.body if truth else node.orelse
        return chosen or [ast.Pass()]

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        self.generic_visit(node)
        truth = _const_truth(node.test)
        if truth is None:
            return node
        return node.body if truth else node.orelse


def _const_truth(node: ast.expr) -> bool | None:
    if isinstance(node, ast.Constant):
        try:
            return bool(node.value)
        except Exception:
            return None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = _const_truth(node.operand)
        return None if inner is None else not inner
    if isinstance(node, ast.BoolOp):
        values = [_const_truth(v) for v in node.values]
        if isinstance(node.op, ast.And):
            if any(v is False for v in values):
                return False
            return True if all(v is True for v in values) else None
        if any(v is True for v in values):
            return True
        return False if all(v is False for v in values) else None
    if (
        isinstance(node, ast.Compare)
        and len(node.ops) == 1
        and isinstance(node.left, ast.Constant)
        and isinstance(node.comparators[0], ast.Constant)
    ):
        a, b, op = node.left.value, node.comparators[0].value, node.ops[0]
        if isinstance(op, ast.Is) and (a is None or b is None):
            return a is b
        if isinstance(op, ast.IsNot) and (a is None or b is None):
            return a is not b
        if isinstance(op, ast.Eq) and type(a) is type(b):
            return a == b
        if isinstance(op, ast.NotEq) and type(a) is type(b):
            return a != b
    return None


def _fold_flags(method: ast.FunctionDef, flags: dict[str, object]) -> ast.FunctionDef:
    args = method.args
    first = (args.posonlyargs or args.args)
    if not flags or not first or method.decorator_list:
        return method
    folded = _Folder(flags, first[0].arg).visit(method)
    ast.fix_missing_locations(folded)
    return folded  # type: ignore[no-any-return]


def _uses_super(method: ast.FunctionDef) -> bool:
    return any(isinstance(n, ast.Name) and n.id == "super" for n in ast.walk(method))


def _registered(out: list[ast.stmt]) -> frozenset[str]:
    """Names given to ``self.add_module``/``register_module`` in the residual."""
    names = set()
    for stmt in out:
        for node in ast.walk(stmt):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("add_module", "register_module")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                names.add(node.args[0].value)
    return frozenset(names)


def _is_container(qualname: str) -> bool:
    from convbnlint.catalog import Role, default_catalog

    spec = default_catalog().lookup(qualname)
    if spec is not None and spec.role is Role.SEQUENTIAL:
        return True
    return qualname.rsplit(".", 1)[-1] in ("Sequential", "ModuleList", "ModuleDict")


def _place(info: ModuleInfo, original: ast.stmt, residual: ast.stmt, ev: Evaluator) -> Residual:
    """The module's text with ``residual`` in place of ``original`` (a top-level
    definition), the imports it needs after it, and where its tracked calls are."""
    if original not in (info.tree.body if info.tree is not None else ()):
        raise Abort("not a top-level definition")
    ast.fix_missing_locations(residual)
    try:
        text = ast.unparse(residual)
        reparsed = ast.parse(text).body[0]
    except (ValueError, SyntaxError, RecursionError) as exc:
        raise Abort(f"residual: {exc}") from None
    start = original.lineno
    end = original.end_lineno or original.lineno
    from convbnlint.project.sites import char_column

    text_lines = text.splitlines()
    positions: dict[int, tuple[int, int]] = {}
    a_nodes = list(ast.walk(residual))
    b_nodes = list(ast.walk(reparsed))
    if len(a_nodes) != len(b_nodes):
        raise Abort("residual does not round-trip")
    for a, b in zip(a_nodes, b_nodes):
        if type(a) is not type(b):
            raise Abort("residual does not round-trip")
        if id(a) in ev.tracked:
            line = text_lines[b.lineno - 1]  # type: ignore[attr-defined]
            positions[id(a)] = (start + b.lineno - 1, char_column(line, b.col_offset + 1))  # type: ignore[attr-defined]
    lines = info.text.splitlines(keepends=True)
    imports = "".join(f"import {top}\n" for top in sorted(ev.imports))
    new = "".join(lines[: start - 1]) + text + "\n" + imports + "".join(lines[end:])
    return Residual(info, new, ev, positions)


def judge(residual: Residual) -> list[Judged]:
    """The tracked constructions of ``residual`` the single-file analysis reports
    unconditionally (a finding under a parameter test of the residual is not one
    of the call's: the test's value is unknown there)."""
    from convbnlint.engine import ParseError, check

    try:
        checked = check(residual.text, fixable=False)
    except (ParseError, RecursionError):
        return []
    by_position = {pos: cid for cid, pos in residual.positions.items()}
    out = []
    for diag in [*checked.diagnostics, *checked.suppressed]:
        if diag.code not in ("CBL001", "CBL002"):
            continue
        cid = by_position.get((diag.span.line, diag.span.column))
        if cid is None:
            continue
        tracked = residual.evaluator.tracked[cid]
        norms = diag.message.split("by the following ", 1)[-1].split(";", 1)[0]
        out.append(Judged(tracked, cid, diag.code, diag.message, norms))
    return out
