"""Judging a call of the project's own definitions where it is made.

``conv1x1_block(in_channels=c, out_channels=c, bias=True)`` in one module, with
``conv1x1_block`` and ``ConvBlock`` in another: :func:`judge_calls` finds such
calls in a module (Python's ``ast``), evaluates the callee with the call's
arguments (:mod:`convbnlint.project.evaluate`), specialises the class it builds
(:mod:`convbnlint.project.specialise`) and reports the call when a layer built for
it has a bias the analysis proves cancelled.

Sound, as the rest of convbnlint:

* the finding is for this call only, never assumed for callers not seen: it is
  reported at the call;
* its fix changes an argument of the call (``bias=True`` -> ``bias=False``, or
  adds ``bias=False``) only when that argument feeds nothing but cancelled
  biases; otherwise the finding is shown without a fix;
* the object the call builds can be reached by code in any file of its project:
  a name-based scan (:mod:`convbnlint.project.reach`) must show that none reads or
  changes its attributes from outside its class, and nothing reaches its
  submodules in a way not modelled.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from convbnlint.project.evaluate import Abort, Evaluator, Frame, Names, _assigned_names
from convbnlint.project.graph import ModuleInfo, Project
from convbnlint.project.specialise import Residual, judge, specialise_class, specialise_function
from convbnlint.project.values import (
    OPAQUE,
    Const,
    Dyn,
    Ext,
    Instance,
    PClass,
    PFunc,
    Value,
)


@dataclass(frozen=True)
class CallFinding:
    """A call whose result has a cancelled bias."""

    line: int  # the call's start (1-based line and column)
    column: int
    code: str  # CBL001 / CBL002
    layer: str  # the biased class's name (``Conv2d``)
    qualname: str  # ... and its catalogued name (``torch.nn.Conv2d``)
    callee: str  # the name called (``conv1x1_block``)
    norms: str  # the cancelling norms (``BatchNorm2d``)
    # The fix: ("keyword", name) replaces a keyword argument's value, ("position", i)
    # a positional one, ("add", name) adds a keyword; None: no fix at this call.
    fix: tuple | None
    bias_param: str  # the argument the fix writes
    bias_off: str  # its value (``False``)
    why_not: str | None = None  # why there is no fix
    attrs: tuple[str, ...] = ()  # how the built object's layers are reached (fix safety)
    where: str = ""  # the residual layer's defining module and class (messages)
    # The bias's state_dict key inside the object the call builds (``conv.bias``),
    # when its defining module makes it static (fix safety, reported keys).
    inner_key: str | None = None


class Judge:
    """Call-site judgements for one run (memoised by callee and arguments)."""

    def __init__(self, project: Project, names: Names | None = None) -> None:
        self.project = project
        self.names = names or Names(project)
        self._memo: dict[tuple, list] = {}
        self._infile_memo: dict[str, set[tuple[int, int]]] = {}
        self._interesting: dict[int, bool] = {}
        from convbnlint.project.reach import Reach

        self.reach = Reach(project)

    # -- which definitions can matter
    def interesting(self, value: Value, depth: int = 0) -> bool:
        """A definition that may build a biased layer (it names one, or calls a
        definition of the project that may)."""
        if not isinstance(value, (PClass, PFunc)) or depth > 8:
            return False
        key = id(value.node)
        if key in self._interesting:
            return self._interesting[key]
        self._interesting[key] = False
        found = _names_biased(value.info, value.node)
        if not found:
            for sub in ast.walk(value.node):
                if isinstance(sub, ast.Call):
                    callee = _resolve(self.names, value.info, sub.func)
                    if callee is not None and callee is not value and self.interesting(callee, depth + 1):
                        found = True
                        break
            if not found and isinstance(value, PClass):
                for base in value.node.bases:
                    callee = _resolve(self.names, value.info, base)
                    if callee is not None and self.interesting(callee, depth + 1):
                        found = True
                        break
        self._interesting[key] = found
        return found

    # -- a module's calls
    def judge_calls(
        self, info: ModuleInfo, names: frozenset[str] | None = None, only: set[int] | None = None
    ) -> list[CallFinding]:
        """Findings at calls of ``info``'s module (``names``: the only callee names
        that can matter, by their last part; ``only``: the lines to look at)."""
        if info.tree is None:
            return []
        if names is not None and not any(
            isinstance(n, ast.Call) and _callee_name(n.func) in names for n in ast.walk(info.tree)
        ):
            return []
        out: list[CallFinding] = []
        for call, scope_locals, top in _calls(info.tree):
            if names is not None and _callee_name(call.func) not in names:
                continue
            if only is not None and call.lineno not in only:
                continue
            if isinstance(call.func, ast.Name) and call.func.id in scope_locals:
                continue
            callee = _resolve(self.names, info, call.func, scope_locals)
            if callee is None or not self.interesting(callee):
                continue
            try:
                out.extend(self.judge_call(info, call, callee, scope_locals, (info.path, top)))
            except (Abort, RecursionError):
                continue
        return out

    def judge_call(
        self,
        info: ModuleInfo,
        call: ast.Call,
        callee: PClass | PFunc,
        scope_locals: set[str],
        site: tuple,
    ) -> list[CallFinding]:
        args, kwargs, key = _call_arguments(self.names, info, call, scope_locals)
        memo_key = (id(callee.node), key)
        if memo_key not in self._memo:
            try:
                self._memo[memo_key] = self._evaluate(callee, args, kwargs)
            except (Abort, RecursionError):
                self._memo[memo_key] = []
        out = []
        name = _callee_name(call.func)
        for found in self._memo[memo_key]:
            home, attrs = found["reach"]
            if not self.reach.unreached(home, attrs, site):
                continue
            route, why = found["route"], found["why"]
            fix = None
            if route is not None:
                fix = _fix_at(call, route, callee)
                if fix is None and why is None:
                    why = "the call cannot pass the argument"
            out.append(
                CallFinding(
                    call.lineno,
                    call.col_offset + 1,
                    found["code"],
                    found["layer"],
                    found["qualname"],
                    name,
                    found["norms"],
                    fix,
                    found["param"],
                    found["off"],
                    why if fix is None else None,
                    found["attrs"],
                    found["where"],
                    found["key"],
                )
            )
        return out

    def _evaluate(self, callee: PClass | PFunc, args: list[Value], kwargs: dict[str, Value]) -> list[dict]:
        """What calling ``callee`` with these arguments builds, judged."""
        if isinstance(callee, PFunc):
            ev = Evaluator(self.names)
            ev.root = callee.node
            frame = Frame(callee.info, {}, "_e_", frozenset(), [])
            result = ev.inline(callee, args, kwargs, frame)
            if isinstance(result, Instance) and not frame.out:
                return self._evaluate_class(result.cls, result.args, result.kwargs)
            if isinstance(result, Dyn) and frame.out:
                residual = specialise_function(self.names, callee, args, kwargs)
                return self._findings(residual, instance=False)
            return []
        return self._evaluate_class(callee, args, kwargs)

    def _evaluate_class(self, cls: PClass, args: list[Value], kwargs: dict[str, Value]) -> list[dict]:
        residual = specialise_class(self.names, cls, args, kwargs)
        if residual.container:
            return []  # items reachable by index from wherever the object goes: not judged yet
        return self._findings(residual, instance=True, cls_name=cls.node.name)

    def _findings(self, residual: Residual, instance: bool, cls_name: str = "") -> list[dict]:
        if not instance:
            return []  # a container a function returns: its items are reachable by index
        judged = judge(residual)
        if not judged:
            return []
        from convbnlint.catalog import default_catalog

        catalog = default_catalog()
        found_calls = {j.call_id for j in judged}
        ev = residual.evaluator
        out = []
        for j in judged:
            spec = catalog.lookup(j.tracked.qualname)
            if spec is None:
                continue
            bias = _bias_value(j.tracked, spec)
            route, why = None, None
            if bias is not None and bias.origin is not None:
                uses = ev.origin_uses.get(bias.origin, [])
                ok = uses and all(
                    u[0] == "arg" and u[1] in found_calls and _is_bias_slot(ev.tracked[u[1]], u[2], u[3], catalog)
                    for u in uses
                )
                if ok:
                    route = bias.origin
                else:
                    why = "the argument is used for more than this bias"
            else:
                why = "the bias is not an argument of this call"
            if route is None and self._infile(j.tracked.where):
                continue  # a finding of its own module, whatever the call: reported there
            out.append(
                {
                    "code": j.code,
                    "layer": spec.name,
                    "qualname": spec.qualname,
                    "norms": j.norms,
                    "route": route,
                    "why": why,
                    "param": route[1] if route is not None and route[0] != "pos" else spec.bias_param,
                    "off": spec.bias_off,
                    "attrs": tuple(sorted(residual.attrs)),
                    "where": f"{residual.info.name}",
                    "reach": (residual.info.path, residual.attrs),
                    "key": self._inner_key(j.tracked.where),
                }
            )
        return out


    def _infile_findings(self, path: str) -> set[tuple[int, int]]:
        hit = self._infile_memo.get(path)
        if hit is None:
            from convbnlint.engine import ParseError, check

            info = self.project.info(path)
            hit = set()
            if info is not None:
                try:
                    checked = check(info.text, fixable=False)
                    hit = {(d.span.line, d.span.column) for d in [*checked.diagnostics, *checked.suppressed]}
                except (ParseError, RecursionError):
                    pass
            self._infile_memo[path] = hit
        return hit

    def _inner_key(self, where: tuple) -> str | None:
        """The state_dict key of the original layer's bias in its class."""
        if not where:
            return None
        from convbnlint import fixsafety
        from convbnlint.project.sites import char_column
        from convbnlint.types import Span

        path, line, col = where
        info = self.project.info(path)
        if info is None or info.tree is None:
            return None
        lines = info.text.splitlines()
        text = lines[line - 1] if line - 1 < len(lines) else ""
        try:
            scanner = fixsafety._Scanner(info.tree, lines)
            column = char_column(text, col + 1)
            keys = fixsafety._state_keys(scanner, Span(line, column, line, column))
        except (RecursionError, ValueError, TypeError):
            return None
        return keys[0] if keys else None

    def _infile(self, where: tuple) -> bool:
        """The original layer call is a finding of its own module's analysis."""
        if not where:
            return False
        from convbnlint.project.sites import char_column

        path, line, col = where
        info = self.project.info(path)
        if info is None:
            return False
        lines = info.text.splitlines()
        text = lines[line - 1] if line - 1 < len(lines) else ""
        return (line, char_column(text, col + 1)) in self._infile_findings(path)


def _bias_value(tracked, spec) -> Value | None:  # type: ignore[no-untyped-def]
    positional = [v for k, v in tracked.args if k is None]
    for key, value in tracked.args:
        if key == spec.bias_param:
            return value
    if spec.bias_index is not None and spec.bias_index < len(positional):
        return positional[spec.bias_index]
    return None


def _is_bias_slot(tracked, keyword, position, catalog) -> bool:  # type: ignore[no-untyped-def]
    spec = catalog.lookup(tracked.qualname)
    if spec is None:
        return False
    if keyword is not None:
        return keyword == spec.bias_param
    return position is not None and position == spec.bias_index


def _fix_at(call: ast.Call, route: tuple, callee: PClass | PFunc) -> tuple | None:
    kind, name = route[0], route[1]
    if kind == "kw":
        return ("keyword", name)
    if kind == "pos":
        return ("position", name)
    if kind == "default":
        if any(kw.arg is None for kw in call.keywords) or any(isinstance(a, ast.Starred) for a in call.args):
            return None
        return ("add", name)
    return None


# --------------------------------------------------------------------------- the call site


def _callee_name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return "?"


def _resolve(names: Names, info: ModuleInfo, func: ast.expr, scope_locals: set[str] | None = None) -> PClass | PFunc | None:
    if isinstance(func, ast.Name):
        if scope_locals and func.id in scope_locals:
            return None
        value = names.global_value(info, func.id)
    elif isinstance(func, ast.Attribute):
        base = _resolve_static(names, info, func.value, scope_locals)
        value = names.attribute(base, func.attr) if base is not None else None
    else:
        return None
    return value if isinstance(value, (PClass, PFunc)) else None


def _resolve_static(names: Names, info: ModuleInfo, node: ast.expr, scope_locals: set[str] | None) -> Value | None:
    if isinstance(node, ast.Name):
        if scope_locals and node.id in scope_locals:
            return None
        return names.global_value(info, node.id)
    if isinstance(node, ast.Attribute):
        base = _resolve_static(names, info, node.value, scope_locals)
        return names.attribute(base, node.attr) if base is not None else None
    return None


def _call_arguments(
    names: Names, info: ModuleInfo, call: ast.Call, scope_locals: set[str]
) -> tuple[list[Value], dict[str, Value], tuple]:
    """The call's arguments as abstract values of the caller's module (its locals
    are unknown: a stable unbound name each), and a memo key."""
    if any(isinstance(a, ast.Starred) for a in call.args) or any(kw.arg is None for kw in call.keywords):
        raise Abort("*args or **kwargs at the call")
    ev = Evaluator(names)
    env = {name: OPAQUE for name in scope_locals}
    frame = Frame(info, env, "_c_", frozenset(scope_locals), [])
    args: list[Value] = []
    key: list = []
    for i, arg in enumerate(call.args):
        value = _argument(ev, frame, arg, f"_cbl_arg{i}", ("pos", i))
        args.append(value)
        key.append((i, _key(value)))
    kwargs: dict[str, Value] = {}
    for kw in call.keywords:
        assert kw.arg is not None
        value = _argument(ev, frame, kw.value, f"_cbl_kw_{kw.arg}", ("kw", kw.arg))
        kwargs[kw.arg] = value
        key.append((kw.arg, _key(value)))
    return args, kwargs, tuple(key)


def _argument(ev: Evaluator, frame: Frame, node: ast.expr, stand_in: str, origin: tuple) -> Value:
    try:
        value = ev.expr(node, frame)
    except Abort:
        value = OPAQUE
    if frame.out:
        frame.out.clear()
        value = OPAQUE  # it does something when evaluated: not followed
    if isinstance(value, Const):
        return Const(value.value, origin)
    if not isinstance(value, (Ext, PClass, PFunc)) and not _closure_like(value):
        return Dyn(ast.Name(stand_in, ast.Load()))
    return value


def _closure_like(value: Value) -> bool:
    from convbnlint.project.values import Closure, Partial

    return isinstance(value, (Closure, Partial))


def _key(value: Value) -> object:
    if isinstance(value, Const):
        return ("c", type(value.value).__name__, repr(value.value))
    if isinstance(value, Ext):
        return ("e", value.qualname)
    if isinstance(value, (PClass, PFunc)):
        return ("d", id(value.node))
    if isinstance(value, Dyn):
        return ("?",)
    return ("v", id(value))


def _calls(tree: ast.Module):  # type: ignore[no-untyped-def]
    """Every call with the names local to its scope (parameters and bindings of
    the enclosing functions, comprehensions and lambdas) and the name of the
    top-level definition holding it ("<module>" for module-level code)."""
    for stmt in tree.body:
        top = stmt.name if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else "<module>"
        stack: list[tuple[ast.AST, frozenset]] = [(stmt, frozenset())]
        while stack:
            node, local = stack.pop()
            if isinstance(node, ast.Call):
                yield node, set(local), top
            for child in ast.iter_child_nodes(node):
                scope = local
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                    scope = local | _function_locals(child)
                elif isinstance(child, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
                    scope = local | {
                        n.id for g in child.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)
                    }
                stack.append((child, scope))


def _function_locals(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> frozenset:
    args = node.args
    names = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
    if args.vararg:
        names.add(args.vararg.arg)
    if args.kwarg:
        names.add(args.kwarg.arg)
    if isinstance(node, ast.Lambda):
        return frozenset(names)
    try:
        names |= _assigned_names(node.body)
    except Abort:
        names |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    for sub in ast.walk(node):
        if isinstance(sub, (ast.Global, ast.Nonlocal)):
            names |= set(sub.names)
    return frozenset(names)


def _names_biased(info: ModuleInfo, node: ast.AST) -> bool:
    """The definition's text names a biased layer class of some framework."""
    from convbnlint.project.reach import biased_tokens

    lines = info.text.splitlines()
    text = "\n".join(lines[node.lineno - 1 : getattr(node, "end_lineno", node.lineno)])  # type: ignore[attr-defined]
    return any(tok in text for tok in biased_tokens())
