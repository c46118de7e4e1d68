"""The checked tree as a project: module names, imports and top-level definitions.

A file's module name comes from its package chain (folders holding
``__init__.py``): ``src/pkg/models/common/conv.py`` is ``pkg.models.common.conv``
with source root ``src``.  A file outside any package is a top-level module named
after itself (a script), rooted at its folder.

:class:`ModuleInfo` reads one module (CPython's ``ast``): what each top-level name
is bound to (an import, a ``def``, a ``class``, an assignment), its star imports
and ``__all__``.  :meth:`Project.lookup` resolves a name of a module to a
definition of the project (following re-exports through ``__init__`` files, star
imports and aliases) or to the dotted name of something outside it
(``torch.nn.BatchNorm2d``).  It is sound in the way the rest of convbnlint is: a
name bound more than once, or in a way not modelled, resolves to nothing, and
nothing means no finding.

Absolute imports resolve to the project's modules by package name (the importer's
own source root first), then, as ``python script.py`` does, by path from the
importer's folder and source root (namespace packages, sibling scripts).  Two
different files for one name is ambiguity: unresolved.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Union

from convbnlint.syntax.names import from_target

# --------------------------------------------------------------------------- bindings


@dataclass(frozen=True)
class Imported:
    target: str  # absolute dotted name (relative imports made absolute)


@dataclass(frozen=True)
class Defined:
    node: ast.FunctionDef | ast.ClassDef


@dataclass(frozen=True)
class Assigned:
    value: ast.expr


@dataclass(frozen=True)
class Other:
    """Bound in a way not modelled (a loop target, a tuple unpacking, ``global``...)."""


Binding = Union[Imported, Defined, Assigned, Other]
OTHER = Other()


@dataclass
class ModuleInfo:
    path: str
    name: str  # dotted module name
    is_package: bool
    tree: ast.Module | None = field(repr=False)
    text: str = field(default="", repr=False)
    bindings: dict[str, list[Binding]] = field(default_factory=dict, repr=False)
    star_imports: list[str] = field(default_factory=list, repr=False)
    all_names: tuple[str, ...] | None = field(default=None, repr=False)
    # Names a function rebinds with ``global``: unknown at module level.
    poisoned: set[str] = field(default_factory=set, repr=False)

    def binding(self, name: str) -> Binding | None:
        """The one binding of ``name`` at module level, or None (unbound, bound twice
        differently, or poisoned)."""
        if name in self.poisoned:
            return OTHER
        found = self.bindings.get(name)
        if not found:
            return None
        first = found[0]
        if any(b != first for b in found[1:]):
            return OTHER
        return first

    @property
    def package(self) -> str:
        """The package relative imports start from."""
        if self.is_package:
            return self.name
        return self.name.rpartition(".")[0]

    def absolute(self, level: int, module: str | None) -> str | None:
        """``from <level dots><module> import ...`` as an absolute module name."""
        if level == 0:
            return module or ""
        base = self.package.split(".") if self.package else []
        if level - 1 > len(base):
            return None
        if level > 1:
            base = base[: len(base) - (level - 1)]
        parts = [*base, *(module.split(".") if module else [])]
        return ".".join(p for p in parts if p)


def read_module(path: str, name: str, is_package: bool, text: str) -> ModuleInfo:
    """A module's top-level bindings (an empty table when it does not parse)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ModuleInfo(path, name, is_package, None, text)
    info = ModuleInfo(path, name, is_package, tree, text)
    _Top(info).body(tree.body)
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            info.poisoned.update(node.names)
    return info


class _Top:
    """Collects the bindings of top-level statements (and of those nested in
    module-level ``if``/``try``/``with``/loops: they bind module names too)."""

    def __init__(self, info: ModuleInfo) -> None:
        self.info = info

    def add(self, name: str, binding: Binding) -> None:
        self.info.bindings.setdefault(name, []).append(binding)

    def body(self, stmts: list[ast.stmt]) -> None:
        for stmt in stmts:
            self.stmt(stmt)

    def stmt(self, node: ast.stmt) -> None:
        info = self.info
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    self.add(alias.asname, Imported(alias.name))
                else:
                    root = alias.name.partition(".")[0]
                    self.add(root, Imported(root))
        elif isinstance(node, ast.ImportFrom):
            base = info.absolute(node.level or 0, node.module)
            for alias in node.names:
                if alias.name == "*":
                    if base is not None:
                        info.star_imports.append(base)
                    continue
                name = alias.asname or alias.name
                if base is None:
                    self.add(name, OTHER)
                else:
                    self.add(name, Imported(from_target(0, base, alias.name)))
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            self.add(node.name, Defined(node))
        elif isinstance(node, ast.AsyncFunctionDef):
            self.add(node.name, OTHER)
        elif isinstance(node, ast.Assign):
            simple = len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
            for target in node.targets:
                for name in _target_names(target):
                    self.add(name, Assigned(node.value) if simple else OTHER)
            if simple and node.targets[0].id == "__all__":  # type: ignore[attr-defined]
                info.all_names = _string_list(node.value)
        elif isinstance(node, ast.AnnAssign):
            if isinstance(node.target, ast.Name):
                self.add(node.target.id, Assigned(node.value) if node.value is not None else OTHER)
        elif isinstance(node, ast.AugAssign):
            for name in _target_names(node.target):
                self.add(name, OTHER)
                if name == "__all__":
                    info.all_names = None
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            for name in _target_names(node.target):
                self.add(name, OTHER)
            self.body(node.body)
            self.body(node.orelse)
        elif isinstance(node, (ast.If, ast.While)):
            self.body(node.body)
            self.body(node.orelse)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    for name in _target_names(item.optional_vars):
                        self.add(name, OTHER)
            self.body(node.body)
        elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            self.body(node.body)  # type: ignore[attr-defined]
            for handler in node.handlers:  # type: ignore[attr-defined]
                if handler.name:
                    self.add(handler.name, OTHER)
                self.body(handler.body)
            self.body(node.orelse)  # type: ignore[attr-defined]
            self.body(node.finalbody)  # type: ignore[attr-defined]
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                for name in _target_names(target):
                    self.add(name, OTHER)
        elif isinstance(node, ast.Match):
            for case in node.cases:
                for sub in ast.walk(case.pattern):
                    name = getattr(sub, "name", None) or getattr(sub, "rest", None)
                    if isinstance(name, str):
                        self.add(name, OTHER)
                self.body(case.body)
        for sub in ast.walk(node) if isinstance(node, (ast.Expr, ast.Assign, ast.If, ast.While)) else ():
            if isinstance(sub, ast.NamedExpr) and isinstance(sub.target, ast.Name):
                self.add(sub.target.id, OTHER)


def _target_names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        out = []
        for el in target.elts:
            out.extend(_target_names(el))
        return out
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    return []


def _string_list(node: ast.expr) -> tuple[str, ...] | None:
    if isinstance(node, (ast.List, ast.Tuple)) and all(
        isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts
    ):
        return tuple(e.value for e in node.elts)  # type: ignore[attr-defined]
    return None


# --------------------------------------------------------------------------- the project


@dataclass(frozen=True)
class FileModule:
    path: str  # absolute
    name: str
    root: str  # the source root folder (absolute)
    is_package: bool


class Project:
    """The modules of one run.  ``texts`` may give file texts already read (the
    others are read on demand)."""

    def __init__(self, paths: list[str], texts: dict[str, str] | None = None) -> None:
        self._init_dirs: dict[str, bool] = {}
        self.files: dict[str, FileModule] = {}
        self.by_name: dict[str, list[FileModule]] = {}
        self.texts: dict[str, str] = dict(texts or {})
        self._infos: dict[str, ModuleInfo | None] = {}
        for path in paths:
            if not path.endswith(".py"):
                continue
            fm = self._module_of(os.path.abspath(path))
            self.files[fm.path] = fm
            self.by_name.setdefault(fm.name, []).append(fm)

    # -- naming
    def _has_init(self, folder: str) -> bool:
        hit = self._init_dirs.get(folder)
        if hit is None:
            hit = self._init_dirs[folder] = os.path.isfile(os.path.join(folder, "__init__.py"))
        return hit

    def _module_of(self, path: str) -> FileModule:
        folder, base = os.path.split(path)
        stem = base[:-3]
        is_package = stem == "__init__"
        parts = [] if is_package else [stem]
        while self._has_init(folder):
            parent, name = os.path.split(folder)
            if not name.isidentifier() or parent == folder:
                break
            parts.insert(0, name)
            folder = parent
        if not parts:  # an __init__.py outside a package chain
            parts = [os.path.basename(os.path.dirname(path))]
            folder = os.path.dirname(os.path.dirname(path))
        return FileModule(path, ".".join(parts), folder, is_package)

    def module_of(self, path: str) -> FileModule | None:
        return self.files.get(os.path.abspath(path))

    # -- reading
    def text(self, path: str) -> str | None:
        """A project file's text (read once)."""
        path = os.path.abspath(path)
        text = self.texts.get(path)
        if text is None and path in self.files:
            text = _read_text(path)
            if text is not None:
                self.texts[path] = text
        return text

    def info(self, path: str) -> ModuleInfo | None:
        path = os.path.abspath(path)
        if path in self._infos:
            return self._infos[path]
        fm = self.files.get(path)
        info = None
        if fm is not None:
            text = self.texts.get(path)
            if text is None:
                text = _read_text(path)
            if text is not None:
                self.texts[path] = text
                info = read_module(path, fm.name, fm.is_package, text)
        self._infos[path] = info
        return info

    # -- resolution of module names
    def find_module(self, name: str, importer: FileModule | None) -> FileModule | None:
        """The project file for module ``name`` as ``importer`` would import it."""
        found = self.by_name.get(name, [])
        if importer is not None:
            same_root = [f for f in found if f.root == importer.root]
            if len(same_root) == 1:
                return same_root[0]
            if len(same_root) > 1:
                return None
            # ``python script.py`` puts the script's folder first on the path:
            # namespace packages and sibling modules.
            hits = set()
            for base in {os.path.dirname(importer.path), importer.root}:
                rel = os.path.join(base, *name.split("."))
                for candidate in (rel + ".py", os.path.join(rel, "__init__.py")):
                    fm = self.files.get(candidate)
                    if fm is not None:
                        hits.add(fm)
            if len(hits) == 1:
                return hits.pop()
            if hits:
                return None
        if len({f.path for f in found}) == 1:
            return found[0]
        return None

    def split(self, dotted: str, importer: FileModule | None) -> tuple[FileModule, str] | None:
        """``pkg.mod.Name.attr`` -> (the file of the longest project module prefix,
        the rest ``Name.attr``), or None when no prefix is a project module."""
        parts = dotted.split(".")
        if parts[0] in framework_roots():
            return None  # the catalogued frameworks are theirs, even when checked too
        for cut in range(len(parts), 0, -1):
            fm = self.find_module(".".join(parts[:cut]), importer)
            if fm is not None:
                return fm, ".".join(parts[cut:])
        return None


@lru_cache(maxsize=1)
def framework_roots() -> frozenset[str]:
    """Top packages of the catalogued frameworks (``torch``, ``keras``...): a run
    that checks their sources too (a corpus) still reads their names as the
    catalog does, never as definitions of the project."""
    from convbnlint.catalog import default_catalog

    return frozenset(spec.qualname.partition(".")[0] for spec in default_catalog().specs)


def _read_text(path: str) -> str | None:
    from pathlib import Path

    from convbnlint import sourcefile

    try:
        return sourcefile.read(Path(path)).text
    except sourcefile.SourceError:
        return None
