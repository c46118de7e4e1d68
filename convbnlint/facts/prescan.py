"""What each scope binds, read before the scope is walked (pyflakes-style deferral).

:func:`prescan` classifies the names one scope binds (simple ``name = expr``
assignments, anything else, names nested scopes read); :func:`names_in` gives
every identifier below a node, memoised per module in :data:`NAMES_MEMO`
(``collect`` clears it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import libcst as cst

from convbnlint.cstwalk import walk


@dataclass
class ScopeInfo:
    simple_rhs: dict[str, list[cst.BaseExpression]] = field(default_factory=dict)
    complex_bound: set[str] = field(default_factory=set)
    closure_names: set[str] = field(default_factory=set)
    declared: set[str] = field(default_factory=set)  # ``global``/``nonlocal`` names
    # Every identifier read anywhere in the scanned statements (nested scopes
    # included, attribute names excluded): what :func:`names_in` gives for them.
    names: set[str] = field(default_factory=set)


def target_names(target: cst.BaseExpression) -> Iterator[str]:
    if isinstance(target, cst.Name):
        yield target.value
    elif isinstance(target, (cst.Tuple, cst.List)):
        for el in target.elements:
            yield from target_names(el.value)
    elif isinstance(target, cst.StarredElement):
        yield from target_names(target.value)


class NamesIn(cst.CSTVisitor):
    """Collects the identifiers below one node; nested scopes come from the memo."""

    def __init__(self, root: cst.CSTNode) -> None:
        self.root = root
        self.found: set[str] = set()

    def visit_Attribute(self, n: cst.Attribute) -> bool:
        walk(n.value, self)
        return False

    def visit_Arg(self, n: cst.Arg) -> bool:
        walk(n.value, self)
        return False

    def visit_Name(self, n: cst.Name) -> None:
        self.found.add(n.value)

    def _scope(self, n: cst.CSTNode) -> bool:
        if n is self.root:
            return True
        self.found.update(names_in(n))
        return False

    visit_FunctionDef = visit_ClassDef = visit_Lambda = _scope
    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _scope


# ``_names_in`` of every nested scope, computed once per module (``collect`` clears
# it): prescans at each level of nesting would otherwise walk inner scopes again.
NAMES_MEMO: dict[cst.CSTNode, frozenset[str]] = {}


def names_in(node: cst.CSTNode) -> frozenset[str]:
    """Every identifier read anywhere below ``node`` (attribute names excluded)."""
    hit = NAMES_MEMO.get(node)
    if hit is None:
        if isinstance(node, cst.FunctionDef):
            # The body's names come with its prescan (one walk for both); the
            # header's (decorators, parameters, annotations) from a walk of them.
            found = set(function_info(node).names)
            visitor = NamesIn(node)
            for part in (*node.decorators, node.params, node.returns, node.name):
                if part is not None:
                    walk(part, visitor)
            found |= visitor.found
            hit = NAMES_MEMO[node] = frozenset(found)
        else:
            visitor = NamesIn(node)
            walk(node, visitor)
            hit = NAMES_MEMO[node] = frozenset(visitor.found)
    return hit


def nested_bound(node: cst.CSTNode) -> set[str]:
    """Names a nested scope binds itself (parameters, comprehension targets)."""
    bound: set[str] = set()
    if isinstance(node, (cst.FunctionDef, cst.Lambda)):
        params = node.params
        for p in (*params.posonly_params, *params.params, *params.kwonly_params):
            bound.add(p.name.value)
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                bound.add(star.name.value)
    if isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
        comp: cst.CompFor | None = node.for_in
        while comp is not None:
            bound.update(target_names(comp.target))
            comp = comp.inner_for_in
    return bound


# Names a function binds in its own body (its locals), per function node; ``collect``
# clears it with NAMES_MEMO.
LOCALS_MEMO: dict[cst.CSTNode, frozenset[str]] = {}


def own_locals(node: cst.CSTNode) -> frozenset[str]:
    """Names a function binds in its own body and does not declare ``global`` or
    ``nonlocal``: they are its locals, so reads of them in it (and in scopes nested
    in it) are not reads of the enclosing scope's names."""
    if not isinstance(node, cst.FunctionDef):
        return frozenset()
    hit = LOCALS_MEMO.get(node)
    if hit is None:
        info = function_info(node)
        bound = info.complex_bound | set(info.simple_rhs)
        hit = LOCALS_MEMO[node] = frozenset(bound - info.declared)
    return hit


def free_names(node: cst.CSTNode) -> set[str]:
    """Names a nested scope may read from the scope around it: what it reads less
    what it binds itself.  A class's methods are scopes of their own: their locals
    are theirs, not the class body's or the enclosing function's."""
    if isinstance(node, cst.ClassDef):
        out: set[str] = set()
        for part in (*node.decorators, *node.bases, *node.keywords):
            out |= names_in(part)
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else node.body.body
        for stmt in body:
            out |= free_names(stmt) if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)) else names_in(stmt)
        return out
    return set(names_in(node) - nested_bound(node) - own_locals(node))


# ``prescan`` of each function's body (without its parameters), per function node.
INFO_MEMO: dict[cst.CSTNode, ScopeInfo] = {}


def clear_memos() -> None:
    NAMES_MEMO.clear()
    LOCALS_MEMO.clear()
    INFO_MEMO.clear()


def function_info(node: cst.FunctionDef, params: Iterable[str] = ()) -> ScopeInfo:
    """``prescan`` of a function's body, computed once per node; ``params`` are added
    to a copy (they are bound in the function too)."""
    info = INFO_MEMO.get(node)
    if info is None:
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else node.body.body
        info = INFO_MEMO[node] = prescan(body)
    params = set(params)
    if not params:
        return info
    return ScopeInfo(
        {k: list(v) for k, v in info.simple_rhs.items()},
        info.complex_bound | params,
        set(info.closure_names),
        set(info.declared),
        info.names,
    )


NESTED = (
    cst.FunctionDef,
    cst.ClassDef,
    cst.Lambda,
    cst.ListComp,
    cst.SetComp,
    cst.GeneratorExp,
    cst.DictComp,
)


class _Binds(cst.CSTVisitor):
    """What one scope binds (:func:`prescan`).  One class for every call: a class
    made per call costs ~10 KB that only the cyclic collector frees, and it is
    paused while a module is analysed (+430 MB on a 3.3 MB file)."""

    def __init__(self, info: ScopeInfo) -> None:
        self.info = info
        self.names = info.names

    def _nested(self, node: cst.CSTNode) -> bool:
        inner = names_in(node)
        self.names.update(inner)
        self.info.closure_names.update(free_names(node))
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        walk(node.value, self)  # (the attribute's own name is not an identifier)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        walk(node.value, self)  # (nor is a keyword's)
        return False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.info.complex_bound.add(node.name.value)
        for dec in node.decorators:
            walk(dec, self)
        return self._nested(node)

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.info.complex_bound.add(node.name.value)
        return self._nested(node)

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return self._nested(node)

    def visit_ListComp(self, node: cst.ListComp) -> bool:
        return self._nested(node)

    def visit_SetComp(self, node: cst.SetComp) -> bool:
        return self._nested(node)

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> bool:
        return self._nested(node)

    def visit_DictComp(self, node: cst.DictComp) -> bool:
        return self._nested(node)

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            if isinstance(t.target, cst.Name):
                self.info.simple_rhs.setdefault(t.target.value, []).append(node.value)
            else:
                self.info.complex_bound.update(target_names(t.target))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if isinstance(node.target, cst.Name) and node.value is not None:
            self.info.simple_rhs.setdefault(node.target.value, []).append(node.value)
        else:
            self.info.complex_bound.update(target_names(node.target))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self.info.complex_bound.update(target_names(node.target))

    def visit_For(self, node: cst.For) -> None:
        self.info.complex_bound.update(target_names(node.target))

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self.info.complex_bound.update(target_names(node.asname.name))

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self.info.complex_bound.update(target_names(node.name.name))

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self.info.complex_bound.update(target_names(node.target))

    def visit_Del(self, node: cst.Del) -> None:
        self.info.complex_bound.update(target_names(node.target))

    def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
        name = node.asname.name if node.asname else node.name
        if isinstance(name, cst.Name):
            self.info.complex_bound.add(name.value)
        elif isinstance(name, cst.Attribute):
            root: cst.BaseExpression = name
            while isinstance(root, cst.Attribute):
                root = root.value
            if isinstance(root, cst.Name):
                self.info.complex_bound.add(root.value)

    def visit_Global(self, node: cst.Global) -> None:
        for n in node.names:
            self.info.complex_bound.add(n.name.value)
            self.info.closure_names.add(n.name.value)
            self.info.declared.add(n.name.value)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        for n in node.names:
            self.info.complex_bound.add(n.name.value)
            self.info.closure_names.add(n.name.value)
            self.info.declared.add(n.name.value)

    def visit_MatchAs(self, node: cst.MatchAs) -> None:
        if node.name is not None:
            self.info.complex_bound.add(node.name.value)

    def visit_MatchStar(self, node: cst.MatchStar) -> None:
        if node.name is not None:
            self.info.complex_bound.add(node.name.value)


def prescan(body: Sequence[cst.CSTNode], params: Iterable[str] = ()) -> ScopeInfo:
    """Classify the names bound in one scope (not descending into nested scopes)."""
    info = ScopeInfo()
    info.complex_bound.update(params)
    visitor = _Binds(info)
    for stmt in body:
        walk(stmt, visitor)
    return info


def returns(func: cst.FunctionDef) -> list[cst.Return]:
    """The return statements of a function, not of the scopes nested in it."""
    visitor = _Returns(func)
    walk(func, visitor)
    return visitor.found


class _Returns(cst.CSTVisitor):
    def __init__(self, func: cst.FunctionDef) -> None:
        self.func = func
        self.found: list[cst.Return] = []

    def visit_Return(self, node: cst.Return) -> None:
        self.found.append(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return node is self.func

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False
