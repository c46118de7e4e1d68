"""A fast, sound :class:`~convbnlint.facts.NameResolver` from a module's own imports.

libcst's ``QualifiedNameProvider`` builds a full scope analysis of the module
(several times the cost of parsing it).  The analysis only asks one question of
it: *which imported dotted names can this callee expression denote?*  This module
answers it from an :class:`ImportTable`, built by one pass over Python's own
(C-implemented) ``ast`` of the same text, or, when ``ast`` cannot parse the text,
by one pass over the libcst tree.

Soundness (the resolver may say "unknown" more often than libcst, never a wrong
name):

* a name resolves only when every binding of it anywhere in the module, in any
  scope, is an import, and all those imports give the same dotted name;
* a name bound in any other way anywhere (assignment, annotated or augmented
  assignment, ``for``/``with``/``except``/``match``/comprehension/walrus target,
  ``del``, parameter, ``def``/``class`` name, ``global``/``nonlocal``, type
  parameter) resolves to nothing;
* a ``from m import *`` anywhere makes every name unknown.

Dotted names follow libcst's conventions exactly (``get_full_name_for_node``):
``import a.b`` binds ``a`` to ``a``; ``import a.b as c`` binds ``c`` to ``a.b``;
``from .m import x`` binds ``x`` to ``.m.x``; a call or subscript stands for its
callee/value (``nn.Conv2d(1, 2, 3)(x)`` has callee name ``torch.nn.Conv2d``).
``tests/test_stages.py`` and ``bench/run.py --equivalence`` check that findings
are identical to those made with :class:`~convbnlint.facts.LibcstNames`.
"""

from __future__ import annotations

import ast
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import libcst as cst


@dataclass
class ImportTable:
    """Root name -> the dotted name its imports give; ``None`` marks a poisoned name."""

    names: dict[str, str | None] = field(default_factory=dict)
    star: bool = False  # a ``from m import *`` somewhere: nothing resolves

    def add_import(self, name: str, target: str) -> None:
        old = self.names.get(name, target)
        self.names[name] = target if old == target else None

    def poison(self, name: str) -> None:
        self.names[name] = None

    def resolve(self, dotted: str | None) -> frozenset[str] | None:
        if dotted is None or self.star:
            return None
        root, dot, rest = dotted.partition(".")
        target = self.names.get(root)
        if target is None:
            return None
        return frozenset({f"{target}.{rest}" if dot else target})


# --------------------------------------------------------------------------- ast


def ast_full_name(node: ast.AST) -> str | None:
    """libcst's ``get_full_name_for_node`` on an ``ast`` expression."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{ast_full_name(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return ast_full_name(node.func)
    if isinstance(node, ast.Subscript):
        return ast_full_name(node.value)
    return None


def _module_prefix(level: int, module: str | None) -> str:
    return "." * level + (module or "")


def from_target(level: int, module: str | None, name: str) -> str:
    prefix = _module_prefix(level, module)
    if not prefix:
        return name
    return f"{prefix}{name}" if prefix.endswith(".") else f"{prefix}.{name}"


def table_from_ast(tree: ast.AST) -> ImportTable:
    """One walk over every node of ``tree``."""
    table = ImportTable()
    add, poison = table.add_import, table.poison
    for node in ast.walk(tree):
        kind = type(node)
        if kind is ast.Name:
            if type(node.ctx) is not ast.Load:  # type: ignore[attr-defined]
                poison(node.id)  # type: ignore[attr-defined]
        elif kind is ast.Import:
            for alias in node.names:  # type: ignore[attr-defined]
                if alias.asname:
                    add(alias.asname, alias.name)
                else:
                    root = alias.name.partition(".")[0]
                    add(root, root)
        elif kind is ast.ImportFrom:
            for alias in node.names:  # type: ignore[attr-defined]
                if alias.name == "*":
                    table.star = True
                    continue
                target = from_target(node.level or 0, node.module, alias.name)  # type: ignore[attr-defined]
                add(alias.asname or alias.name, target)
        elif kind is ast.arg:
            poison(node.arg)  # type: ignore[attr-defined]
        elif kind in NAMED_BINDERS:
            name = getattr(node, "name", None)
            if name:
                poison(name)
            if kind is ast.MatchMapping and node.rest:  # type: ignore[attr-defined]
                poison(node.rest)  # type: ignore[attr-defined]
        elif kind is ast.Global or kind is ast.Nonlocal:
            for name in node.names:  # type: ignore[attr-defined]
                poison(name)
    return table


NAMED_BINDERS: frozenset[type] = frozenset(
    t
    for t in (
        ast.FunctionDef,
        ast.AsyncFunctionDef,
        ast.ClassDef,
        ast.ExceptHandler,
        getattr(ast, "MatchAs", None),
        getattr(ast, "MatchStar", None),
        getattr(ast, "MatchMapping", None),
        getattr(ast, "TypeVar", None),
        getattr(ast, "ParamSpec", None),
        getattr(ast, "TypeVarTuple", None),
    )
    if t is not None
)


# --------------------------------------------------------------------------- libcst


def cst_receiver(node: Any) -> Any:
    """The expression a name is looked up on: ``a.b`` of ``a.b.c``, ``a.b(...)`` and
    ``a.b[...]``; None for anything else (a name included)."""
    import libcst as cst

    if isinstance(node, (cst.Attribute, cst.Subscript)):
        return node.value
    if isinstance(node, cst.Call):
        return node.func
    return None


def cst_full_name(node: Any) -> str | None:
    """``libcst.helpers.get_full_name_for_node`` for expressions (no import needed).

    Iterative, one join: linear in the length of an attribute chain (a recursive
    f-string per level made a 3,000-level chain quadratic per call)."""
    import libcst as cst

    parts: list[str] = []
    while not isinstance(node, cst.Name):
        if isinstance(node, cst.Attribute):
            parts.append(node.attr.value)
        node = cst_receiver(node)
        if node is None:
            if not parts:
                return None
            parts.append("None")  # (as libcst's helper: ``f"{None}.attr"``)
            break
    else:
        parts.append(node.value)
    parts.reverse()
    return ".".join(parts)


def table_from_cst(module: cst.Module) -> ImportTable:
    """The same table from a libcst tree (used when ``ast`` rejects the text)."""
    import libcst as cst

    table = ImportTable()

    def dotted(node: cst.BaseExpression) -> str:
        name = cst_full_name(node)
        assert name is not None
        return name

    def poison_target(node: cst.CSTNode) -> None:
        if isinstance(node, cst.Name):
            table.poison(node.value)
        elif isinstance(node, (cst.Tuple, cst.List)):
            for el in node.elements:
                poison_target(el.value)
        elif isinstance(node, cst.StarredElement):
            poison_target(node.value)

    class _V(cst.CSTVisitor):
        def visit_Import(self, node: cst.Import) -> None:
            for alias in node.names:
                name = dotted(alias.name)
                if alias.asname is not None:
                    poison_or_add(alias.asname.name, name)
                else:
                    root = name.partition(".")[0]
                    table.add_import(root, root)

        def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
            if isinstance(node.names, cst.ImportStar):
                table.star = True
                return
            module_name = dotted(node.module) if node.module is not None else None
            for alias in node.names:
                target = from_target(len(node.relative), module_name, dotted(alias.name))
                if alias.asname is not None:
                    poison_or_add(alias.asname.name, target)
                else:
                    table.add_import(dotted(alias.name), target)

        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            poison_target(node.target)

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            poison_target(node.target)

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            poison_target(node.target)

        def visit_For(self, node: cst.For) -> None:
            poison_target(node.target)

        def visit_CompFor(self, node: cst.CompFor) -> None:
            poison_target(node.target)

        def visit_WithItem(self, node: cst.WithItem) -> None:
            if node.asname is not None:
                poison_target(node.asname.name)

        def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
            if node.name is not None:
                poison_target(node.name.name)

        def visit_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> None:
            if node.name is not None:
                poison_target(node.name.name)

        def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
            poison_target(node.target)

        def visit_Del(self, node: cst.Del) -> None:
            poison_target(node.target)

        def visit_Param(self, node: cst.Param) -> None:
            table.poison(node.name.value)

        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            table.poison(node.name.value)

        def visit_ClassDef(self, node: cst.ClassDef) -> None:
            table.poison(node.name.value)

        def visit_Global(self, node: cst.Global) -> None:
            for item in node.names:
                table.poison(item.name.value)

        def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
            for item in node.names:
                table.poison(item.name.value)

        def visit_MatchAs(self, node: cst.MatchAs) -> None:
            if node.name is not None:
                table.poison(node.name.value)

        def visit_MatchStar(self, node: cst.MatchStar) -> None:
            if node.name is not None:
                table.poison(node.name.value)

        def visit_MatchMapping(self, node: cst.MatchMapping) -> None:
            if node.rest is not None:
                table.poison(node.rest.value)

        def visit_TypeParam(self, node: cst.CSTNode) -> None:
            param = getattr(node, "param", None)
            name = getattr(param, "name", None)
            if isinstance(name, cst.Name):
                table.poison(name.value)

    def poison_or_add(name_node: cst.CSTNode, target: str) -> None:
        if isinstance(name_node, cst.Name):
            table.add_import(name_node.value, target)
        else:  # pragma: no cover - ``as`` always names a plain identifier
            poison_target(name_node)

    from convbnlint.cstwalk import walk

    walk(module, _V())
    return table


# --------------------------------------------------------------------------- resolver


class FastNames:
    """Drop-in :class:`~convbnlint.facts.NameResolver` backed by an :class:`ImportTable`.

    ``FastNames(module)`` builds the table itself (from ``ast`` of the module's
    code when possible); the engine passes a table it already built from the text.
    """

    def __init__(self, module: cst.Module | None = None, *, table: ImportTable | None = None):
        if table is None:
            if module is None:
                raise TypeError("FastNames needs a module or a table")
            table = table_for(module.code, module)
        self.table = table
        self._roots: dict[int, tuple[Any, str | None]] = {}

    def __call__(self, node: cst.BaseExpression) -> Collection[str] | None:
        table = self.table
        if table.star or table.names.get(self._root(node) or "") is None:
            return None  # (what resolve() says; cheap on long attribute chains)
        return table.resolve(cst_full_name(node))

    def _root(self, node: Any) -> str | None:
        """The name ``node``'s full name starts with (``a`` of ``a.b(c)[d].e``),
        remembered per node: the analysis asks for every prefix of an attribute
        chain, which walking each to its root made cubic."""
        import libcst as cst

        memo = self._roots
        path = []
        while True:
            hit = memo.get(id(node))
            if hit is not None and hit[0] is node:
                root = hit[1]
                break
            path.append(node)
            if isinstance(node, cst.Name):
                root = node.value
                break
            node = cst_receiver(node)
            if node is None:
                root = None
                break
        for n in path:
            memo[id(n)] = (n, root)  # (the node kept: its id is not reused meanwhile)
        return root


def parse_ast(text: str) -> ast.Module | None:
    """``ast`` of ``text``, or None when CPython's parser rejects it (warnings silenced)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
            return None


def table_for(text: str, module: cst.Module | None = None, tree: ast.AST | None = None) -> ImportTable:
    if tree is None:
        tree = parse_ast(text)
    if tree is not None:
        return table_from_ast(tree)
    if module is None:
        from convbnlint.syntax.parse import parse

        module = parse(text)
    return table_from_cst(module)


class NameResolver(Protocol):
    """What a callee expression refers to: the set of dotted names it may denote
    through imports, or None/empty when it is not (only) an imported name."""

    def __call__(self, node: cst.BaseExpression) -> Collection[str] | None: ...


class LibcstNames:
    """:class:`NameResolver` backed by libcst's ``QualifiedNameProvider``."""

    def __init__(self, module: cst.Module) -> None:
        from libcst.metadata import MetadataWrapper, QualifiedNameProvider

        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        self._table = wrapper.resolve(QualifiedNameProvider)

    def __call__(self, node: cst.BaseExpression) -> Collection[str] | None:
        from libcst.metadata import QualifiedNameSource
        from libcst.metadata.base_provider import LazyValue

        names = self._table.get(node)
        if isinstance(names, LazyValue):
            names = names()
        if not names:
            return None
        if any(qn.source is not QualifiedNameSource.IMPORT for qn in names):
            return None
        return {qn.name for qn in names}

