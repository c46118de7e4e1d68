"""Can code anywhere in a project reach into an object built by a call?

A call judged by :mod:`convbnlint.project.judge` builds an object (a ``ConvBlock``)
whose wiring the single-file analysis of its class has proved.  The object itself
may go anywhere -- called as a whole, stored, handed on -- but code that reaches
*into* it can break that proof: ``block.conv(x)`` runs the convolution alone,
``block.bn = nn.Identity()`` removes the norm, ``block.bn.eval()`` freezes it.  In
Python each of these names the attribute (``.conv``, ``"bn"`` given to
``getattr``), or goes through machinery that reaches every submodule
(``named_modules()``, ``children()``, ``apply(fn)``, ``_modules``, a computed
``getattr``).

So the scan is by name, as the single-file analysis reads attributes of objects
it does not follow, over the files of the project (:meth:`Reach.scope`), with one
refinement an object-level reader makes: what a receiver may denote.

* A receiver rooted at a method's ``self`` (``self.body.conv2``), at a local bound
  only to such expressions or to objects the method builds (``unit =
  ShaResUnit(...)``; ``for m in self.modules()``), denotes objects *created by its
  class's code* -- unless the attribute it goes through may hold something from
  outside (``self.backbone = backbone``: a parameter), or a call mixes in such a
  value.  The same for a top-level function's locals and for module-level code.
  Such a reach can touch the judged object only when that code (transitively, by
  name) builds the class holding the judged call: :meth:`Reach.containers`.
* Any other receiver (a parameter, a global, an unknown call's result) may denote
  anything.
* Reaches by computed name (``getattr(m, name)`` on something but ``self`` or an
  imported module, ``_modules``, ``__dict__``, ``vars(...)``), a loop over
  ``modules()``/``named_modules()``/``children()``/``named_children()`` or an
  ``apply(fn)`` callback that does more with each module than test its class,
  read attributes and initialise parameters, and ``x.forward = ...`` reach every
  attribute of what their receiver may denote.
* 
A cheap text scan (:func:`scan_text`) picks the files worth parsing: a file whose
text never shows ``.name`` (outside ``self.name``) for any attribute of the
object, nor any of the dynamic forms above, cannot reach it.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache

from convbnlint.project.graph import Project

_ATTR = re.compile(r"\.[ \t]*([A-Za-z_]\w*)")
_NAMED = re.compile(
    r"(?:\bgetattr|\bsetattr|\bdelattr|\bhasattr|get_submodule|get_parameter|register_module)"
    r"[ \t]*\([^)\n]*?['\"]([A-Za-z_][\w.]*)['\"]"
)
_DYNAMIC_TEXT = re.compile(
    r"\._modules\b|\.__dict__|\bvars\(|__setattr__|\bgetattr\(|\bsetattr\(|\bdelattr\(|"
    r"\.(?:modules|named_modules|children|named_children)[ \t]*\(|\.apply[ \t]*\(|"
    r"\.(?:forward|__call__|_conv_forward)[ \t]*=(?!=)|fuse|get_submodule"
)
_ENUMERATORS = frozenset({"modules", "named_modules", "children", "named_children"})
# Methods of a module reached through an enumeration that only read it.
_SAFE_ON_PARAMS = re.compile(r"(?:^|\.)init\.|^init$")


@lru_cache(maxsize=1)
def biased_tokens() -> tuple[str, ...]:
    """The names of every biased layer class of every catalogued framework."""
    from convbnlint.catalog import Role, default_catalog

    names = {spec.name for spec in default_catalog().specs if spec.role is Role.BIASED}
    return tuple(sorted(names))


# --------------------------------------------------------------------------- text


@dataclass(frozen=True)
class TextReach:
    """What a file's text may reach, by the cheapest reading."""

    attrs: frozenset[str]  # names after a ``.`` whose receiver is not the bare ``self``
    dynamic: bool  # shows one of the dynamic forms (or an enumeration)


def scan_text(text: str) -> TextReach:
    attrs: set[str] = set()
    for match in _ATTR.finditer(text):
        start = match.start()
        if text[max(0, start - 4) : start] == "self" and (start < 5 or not _ident(text[start - 5])):
            continue
        line_start = text.rfind("\n", 0, start) + 1
        if text[line_start : line_start + 12].lstrip().startswith(("from ", "import ")):
            continue  # a module path
        attrs.add(match.group(1))
    for match in _NAMED.finditer(text):
        attrs.update(match.group(1).split("."))
    return TextReach(frozenset(attrs), _DYNAMIC_TEXT.search(text) is not None)


def _ident(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


# --------------------------------------------------------------------------- ast

ANY = "*"  # a receiver that may denote anything
ANYK = frozenset({ANY})


def param_kind(key: object) -> tuple:
    """The objects the callers of definition ``key`` pass it."""
    return ("param", key)


@dataclass
class FileFacts:
    """What one file reaches, by what the receiver may denote: :data:`ANY`, a
    definition's key (``(path, top-level name)``, ``(path, "<module>")``) for the
    objects that definition's code builds, or :func:`param_kind` of a key for
    what its callers pass it."""

    attrs: dict[object, set[str]] = field(default_factory=dict)
    dynamic: set[object] = field(default_factory=set)
    mentions: dict[object, set[str]] = field(default_factory=dict)  # key -> global names its code loads
    values: dict[object, set[str]] = field(default_factory=dict)  # key -> names loaded not to be called
    binds: dict[object, set[str]] = field(default_factory=dict)  # key -> module names it binds
    # Calls: (caller key, name chain of a global callee or None, kinds of each
    # argument, global names the callee expression loads).
    calls: list[tuple[object, tuple[str, ...] | None, tuple[frozenset, ...], frozenset]] = field(default_factory=list)
    classes: list[ast.ClassDef] = field(default_factory=list)
    tree: ast.Module | None = None

    def reach(self, kinds: frozenset, name: str) -> None:
        for kind in kinds:
            self.attrs.setdefault(kind, set()).add(name)


def file_facts(path: str, tree: ast.Module, imported: set[str]) -> FileFacts:
    facts = FileFacts(tree=tree)
    module_key = (path, "<module>")
    module_level: list[ast.stmt] = []
    for stmt in tree.body:
        if isinstance(stmt, ast.ClassDef):
            key = (path, stmt.name)
            facts.classes.append(stmt)
            facts.binds[key] = {stmt.name}
            facts.mentions[key], facts.values[key] = _mentions(stmt)
            _Class(facts, key, stmt, imported).run()
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            key = (path, stmt.name)
            facts.binds[key] = {stmt.name}
            facts.mentions[key], facts.values[key] = _mentions(stmt)
            _Function(facts, key, stmt, imported, None, params_are=frozenset({param_kind(key)})).run()
        else:
            module_level.append(stmt)
    body = ast.Module(module_level, [])
    facts.mentions[module_key], facts.values[module_key] = _mentions(body)
    facts.binds[module_key] = {
        n.id
        for s in module_level
        for n in ast.walk(s)
        if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load) and not n.id.startswith("__")
    }
    _Function(facts, module_key, body, imported, None, module=True).run()
    return facts


def _mentions(node: ast.AST) -> tuple[set[str], set[str]]:
    """The names a definition loads (attribute names too: ``mod.Name``), and those
    it loads other than to call them (passed, stored: their calls are not seen)."""
    called: set[int] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            called.add(id(sub.func))
    out, values = set(), set()
    for sub in ast.walk(node):
        if (
            isinstance(sub, ast.Call)
            and isinstance(sub.func, ast.Name)
            and sub.func.id == "getattr"
            and len(sub.args) > 1
            and isinstance(sub.args[1], ast.Constant)
            and isinstance(sub.args[1].value, str)
        ):
            out.add(sub.args[1].value)  # ``getattr(hooks, "add")``: loaded as a value
            values.add(sub.args[1].value)
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load):
            out.add(sub.id)
            if id(sub) not in called:
                values.add(sub.id)
        elif isinstance(sub, ast.Attribute):
            out.add(sub.attr)
            if id(sub) not in called:
                values.add(sub.attr)
    return out, values


class _Class:
    """A top-level class: which ``self`` attributes may hold objects from outside
    (a fixpoint), then each method's reaches."""

    def __init__(self, facts: FileFacts, key: object, node: ast.ClassDef, imported: set[str]) -> None:
        self.facts = facts
        self.key = key
        self.node = node
        self.imported = imported

    def _function(self, method: ast.AST, tainted: dict, items: dict, record: bool) -> _Function:
        self_name = _self_name(method) if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) else None
        init = isinstance(method, ast.FunctionDef) and method.name == "__init__"
        fn = _Function(
            self.facts, self.key, method, self.imported, self_name,
            params_are=frozenset({param_kind(self.key)}) if init else ANYK,
            module=not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)),
            record=record,
        )
        fn.tainted = tainted
        fn.items_tainted = items
        return fn

    def run(self) -> None:
        members = [
            s if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) else ast.Module([s], [])
            for s in self.node.body
        ]
        tainted: dict[str, frozenset] = {}
        items: dict[str, frozenset] = {}
        for _ in range(5):  # a small fixpoint: an attribute tainted through another
            before = (dict(tainted), dict(items))
            for member in members:
                fn = self._function(member, dict(tainted), dict(items), record=False)
                fn.run()
                for name, kinds in fn.taints.items():
                    tainted[name] = tainted.get(name, frozenset()) | kinds
                for name, kinds in fn.item_taints.items():
                    items[name] = items.get(name, frozenset()) | kinds
            if (tainted, items) == before:
                break
        for member in members:
            self._function(member, tainted, items, record=True).run()


def _self_name(method: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    names = {d.id for d in method.decorator_list if isinstance(d, ast.Name)}
    if names & {"staticmethod", "classmethod"}:
        return None
    args = [*method.args.posonlyargs, *method.args.args]
    return args[0].arg if args else None


class _Function:
    """One function (or module-level code): what each receiver may denote, and
    what it reaches."""

    def __init__(
        self,
        facts: FileFacts,
        key: object,
        node: ast.AST,
        imported: set[str],
        self_name: str | None,
        params_are: frozenset = ANYK,
        module: bool = False,
        record: bool = True,
    ) -> None:
        self.facts = facts
        self.key = key
        self.own = frozenset({key})
        self.node = node
        self.imported = imported
        self.self_name = self_name
        self.params_are = params_are
        self.module = module
        self.record = record
        self.tainted: dict[str, frozenset] = {}  # self attribute -> what else it may be
        self.items_tainted: dict[str, frozenset] = {}  # ... what else its items may be
        self.taints: dict[str, frozenset] = {}
        self.item_taints: dict[str, frozenset] = {}
        self.params: set[str] = set()
        self.locals: dict[str, list] = {}
        self.kind: dict[str, frozenset] = {}
        self.outer: dict[str, frozenset] = {}  # names a nested scope sees from outside
        # Names this scope binds by an import: name -> (level, module, imported name
        # or None), and those a nested scope sees from outside.
        self.imports: dict[str, list[tuple[int, str, str | None]]] = {}
        self.outer_imports: dict[str, tuple[int, str, str | None]] = {}

    # -- bindings
    def run(self) -> None:
        node = self.node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            args = node.args
            for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
                if a is not None and a.arg != self.self_name:
                    if a.annotation is not None and _plain_annotation(a.annotation):
                        self.locals.setdefault(a.arg, []).append(frozenset())
                    else:
                        self.params.add(a.arg)
        body = node.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)) else [ast.Expr(node.body)]  # type: ignore[attr-defined]
        for stmt in body:
            self._collect(stmt)
        for _ in range(6):
            changed = False
            for name, values in self.locals.items():
                kinds = frozenset()
                for value in values:
                    kinds |= value if isinstance(value, frozenset) else self.classify(value)
                if self.kind.get(name) != kinds:
                    self.kind[name] = kinds
                    changed = True
            if not changed:
                break
        for stmt in body:
            self._visit(stmt)

    def _bind(self, target: ast.AST, value: ast.expr | frozenset) -> None:
        if isinstance(target, ast.Name):
            self.locals.setdefault(target.id, []).append(value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for el in target.elts:
                self._bind(el, value if isinstance(value, frozenset) else ast.Subscript(value, ast.Constant(0), ast.Load()))
        elif isinstance(target, ast.Starred):
            self._bind(target.value, value)

    def _collect(self, stmt: ast.AST) -> None:
        for sub in _walk_scope(stmt):
            if isinstance(sub, ast.Assign):
                for t in sub.targets:
                    self._bind(t, sub.value)
            elif isinstance(sub, ast.AnnAssign) and sub.value is not None or isinstance(sub, ast.AugAssign):
                self._bind(sub.target, sub.value)
            elif isinstance(sub, (ast.For, ast.AsyncFor, ast.comprehension)):
                self._bind(sub.target, ast.Subscript(sub.iter, ast.Constant(0), ast.Load()))
            elif isinstance(sub, (ast.With, ast.AsyncWith)):
                for item in sub.items:
                    if item.optional_vars is not None:
                        self._bind(item.optional_vars, item.context_expr)
            elif isinstance(sub, ast.NamedExpr):
                self._bind(sub.target, sub.value)
            elif isinstance(sub, (ast.Global, ast.Nonlocal)):
                for n in sub.names:
                    self.locals.setdefault(n, []).append(ANYK)
            elif isinstance(sub, ast.ExceptHandler) and sub.name:
                self.locals.setdefault(sub.name, []).append(ANYK)
            elif isinstance(sub, (ast.Import, ast.ImportFrom)):
                for alias in sub.names:
                    name = (alias.asname or alias.name).split(".")[0]
                    self.locals.setdefault(name, []).append(ANYK)
                    self.imported = self.imported | {name}
                    if isinstance(sub, ast.Import):
                        target = (0, alias.name if alias.asname else name, None)
                    else:
                        target = (sub.level or 0, sub.module or "", alias.name)
                    self.imports.setdefault(name, []).append(target)
            elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and sub is not stmt:
                self.locals.setdefault(sub.name, []).append(self.own)

    # -- what an expression may denote
    def classify(self, node: ast.expr, depth: int = 0) -> frozenset:
        """The kinds of object ``node`` may evaluate to."""
        if depth > 30:
            return ANYK
        if isinstance(node, ast.Name):
            if node.id == self.self_name:
                return self.own
            if node.id in self.params:
                return self.params_are
            if node.id in self.kind:
                return self.kind[node.id]
            if node.id in self.locals:
                return frozenset()  # (its own bindings are being classified)
            if node.id in self.outer:
                return self.outer[node.id]
            return ANYK  # a global
        if isinstance(node, ast.Attribute):
            if _is_name(node.value, self.self_name):
                return self.own | self.tainted.get(node.attr, frozenset()) | self.tainted.get("*", frozenset())
            return self.classify(node.value, depth + 1)
        if isinstance(node, (ast.Subscript, ast.Starred)):
            return self.items(node.value, depth + 1)
        if isinstance(node, ast.Call):
            return self._call_kinds(node, depth)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return frozenset().union(*(self.classify(e, depth + 1) for e in node.elts))
        if isinstance(node, ast.Dict):
            return frozenset().union(*(self.classify(v, depth + 1) for v in node.values))
        if isinstance(node, ast.IfExp):
            return self.classify(node.body, depth + 1) | self.classify(node.orelse, depth + 1)
        if isinstance(node, ast.BoolOp):
            return frozenset().union(*(self.classify(v, depth + 1) for v in node.values))
        if _plain(node):
            return frozenset()
        if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
            return self.classify(node.elt, depth + 1)
        if isinstance(node, ast.DictComp):
            return self.classify(node.value, depth + 1)
        if isinstance(node, ast.NamedExpr):
            return self.classify(node.value, depth + 1)
        return ANYK

    def _call_kinds(self, node: ast.Call, depth: int) -> frozenset:
        """A call may return what it is given (or what its receiver holds)."""
        func = node.func
        if (
            isinstance(func, ast.Name)
            and func.id in _PLAIN_BUILTINS
            and func.id not in self.locals
            and func.id not in self.params
            and func.id not in self.imported
        ):
            return frozenset()
        kinds = self.own
        for arg in (*node.args, *(k.value for k in node.keywords)):
            if not _plain(arg):
                kinds |= self.classify(arg, depth + 1) - self.own
        if isinstance(func, ast.Name):
            if func.id in self.params or (func.id in self.locals and func.id not in self.kind) or func.id in self.outer:
                kinds |= self.classify(func, depth + 1) - self.own
            elif func.id in self.kind:
                kinds |= self.kind[func.id] - self.own
            return kinds
        if isinstance(func, ast.Attribute):
            root = func.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in self.imported and root.id not in self.locals and root.id not in self.params:
                return kinds  # a function or class of an imported module
            if func.attr in ("values", "items", "children", "named_children", "modules", "named_modules", "get", "pop", "__getitem__"):
                return kinds | self.items(func.value, depth + 1)
            return kinds | self.classify(func.value, depth + 1)
        return kinds | self.classify(func, depth + 1)

    def items(self, node: ast.expr, depth: int) -> frozenset:
        """What the items of ``node`` (a container, a mapping) may be."""
        if isinstance(node, ast.Attribute) and _is_name(node.value, self.self_name):
            return (
                self.own
                | self.tainted.get(node.attr, frozenset())
                | self.tainted.get("*", frozenset())
                | self.items_tainted.get(node.attr, frozenset())
            )
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (
            "values", "items", "children", "named_children", "modules", "named_modules",
        ):
            return self.items(node.func.value, depth + 1)
        if isinstance(node, ast.Attribute) and node.attr == "_modules":
            return self.items(node.value, depth + 1)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in (
            "enumerate", "zip", "list", "tuple", "reversed", "sorted", "iter",
        ):
            return frozenset().union(*(self.items(a, depth + 1) for a in node.args))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range":
            return frozenset()
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return frozenset().union(*(self.classify(e, depth + 1) for e in node.elts))
        return self.classify(node, depth + 1)

    # -- reaches
    def _visit(self, stmt: ast.AST) -> None:
        for sub in _walk_scope(stmt):
            if isinstance(sub, ast.Attribute):
                self._attribute(sub)
            elif isinstance(sub, ast.Call):
                self._call(sub)
            elif isinstance(sub, (ast.For, ast.AsyncFor)):
                self._loop(sub.target, sub.iter, sub.body)
            elif isinstance(sub, ast.comprehension):
                self._loop(sub.target, sub.iter, [])
            elif isinstance(sub, ast.Assign):
                for t in sub.targets:
                    self._taint_target(t, sub.value)
            elif isinstance(sub, (ast.AugAssign, ast.AnnAssign)) and sub.value is not None:
                self._taint_target(sub.target, sub.value)
        for sub in _nested_scopes(stmt):
            # Lambdas and nested functions: their own parameters may be anything.
            nested = _Function(self.facts, self.key, sub, self.imported, self.self_name, ANYK, record=self.record)
            nested.outer = {**self.outer, **{k: self.kind.get(k, self.own) for k in self.locals}}
            nested.outer_imports = {
                **{k: v for k, v in self.outer_imports.items() if k not in self.locals},
                **{k: t for k in self.locals if (t := self.import_target(k)) is not None},
            }
            for p in self.params:
                nested.outer.setdefault(p, self.params_are)
            nested.tainted = self.tainted
            nested.items_tainted = self.items_tainted
            nested.run()
            for name, kinds in nested.taints.items():
                self.taints[name] = self.taints.get(name, frozenset()) | kinds
            for name, kinds in nested.item_taints.items():
                self.item_taints[name] = self.item_taints.get(name, frozenset()) | kinds

    def _reach(self, receiver: ast.expr, name: str) -> None:
        if not self.record:
            return
        if _is_name(receiver, self.self_name):
            return  # the class's own attribute
        if (
            isinstance(receiver, ast.Name)
            and receiver.id in self.imported
            and receiver.id not in self.locals
            and receiver.id not in self.params
        ):
            return  # an attribute of an imported module
        self.facts.reach(self.classify(receiver), name)

    def _dynamic(self, receiver: ast.expr | None) -> None:
        if not self.record:
            return
        self.facts.dynamic.update(ANYK if receiver is None else self.classify(receiver))

    def _attribute(self, node: ast.Attribute) -> None:
        if node.attr in ("_modules", "__dict__"):
            self._dynamic(node.value)
            return
        if node.attr in ("forward", "__call__", "_conv_forward") and not isinstance(node.ctx, ast.Load):
            self._dynamic(node.value)
            return
        self._reach(node.value, node.attr)

    def _call(self, node: ast.Call) -> None:
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if self.record:
            chain = _chain(func) if isinstance(func, (ast.Name, ast.Attribute)) else None
            if chain is not None:
                chain = self.callee_chain(chain)
            if chain is None and isinstance(func, (ast.Name, ast.Attribute)):
                # A callee not resolved by name: only the name it is called by.
                chain = ("<unknown>", name)
            kinds = tuple(self.classify(a) for a in (*node.args, *(k.value for k in node.keywords)) if not _plain(a))
            loads = frozenset(
                n.id for n in ast.walk(func) if isinstance(n, ast.Name) and n.id not in self.locals and n.id not in self.params
            )
            self.facts.calls.append((self.key, chain, kinds, loads))
        if isinstance(func, ast.Name) and name in ("getattr", "setattr", "delattr", "hasattr") and node.args:
            receiver = node.args[0]
            attr = node.args[1] if len(node.args) > 1 else None
            if isinstance(attr, ast.Constant) and isinstance(attr.value, str):
                self._reach(receiver, attr.value)
                if name == "setattr" and _is_name(receiver, self.self_name) and len(node.args) > 2:
                    extra = self.classify(node.args[2]) - self.own
                    if extra and not _plain(node.args[2]):
                        self.taints[attr.value] = self.taints.get(attr.value, frozenset()) | extra
            elif name != "hasattr" and not (
                isinstance(receiver, ast.Name) and receiver.id in self.imported and receiver.id not in self.locals
            ):
                if _is_name(receiver, self.self_name):
                    if name == "setattr" and len(node.args) > 2:
                        extra = self.classify(node.args[2]) - self.own
                        if extra and not _plain(node.args[2]):
                            self.taints["*"] = self.taints.get("*", frozenset()) | extra
                else:
                    self._dynamic(receiver)
            return
        if isinstance(func, ast.Name) and name == "vars":
            self._dynamic(node.args[0] if node.args else None)
            return
        if "fuse" in name or name in ("get_submodule", "get_parameter", "register_module"):
            receiver = func.value if isinstance(func, ast.Attribute) else None
            if isinstance(receiver, ast.Name) and receiver.id in self.imported and receiver.id not in self.locals:
                receiver = None  # ``torch.quantization.fuse_modules(model, ...)``: what it is given
                for arg in node.args[:1]:
                    self._dynamic(arg)
                return
            self._dynamic(receiver)
            return
        if isinstance(func, ast.Attribute) and name == "apply" and node.args:
            receiver = func.value
            if self._is_class_name(receiver):
                return  # ``Function.apply(...)`` of an autograd function
            if not self._safe_callback(node.args[0]):
                self._dynamic(receiver)
            return
        if isinstance(func, ast.Attribute) and _is_name(func.value, self.self_name):
            if name in ("add_module", "register_module", "__setattr__") and len(node.args) == 2:
                extra = self.classify(node.args[1]) - self.own
                if extra and not _plain(node.args[1]):
                    key = str(node.args[0].value) if isinstance(node.args[0], ast.Constant) else "*"
                    self.taints[key] = self.taints.get(key, frozenset()) | extra
        elif isinstance(func, ast.Attribute) and name in (
            "append", "extend", "insert", "add_module", "update", "__setitem__", "setdefault", "register_module",
        ):
            # ``self.layers.append(x)``: the container may now hold an outside object.
            root = func.value
            if isinstance(root, ast.Attribute) and _is_name(root.value, self.self_name):
                extra = frozenset()
                for a in node.args:
                    if not _plain(a):
                        extra |= (self.items(a, 0) if name in ("extend", "update") else self.classify(a)) - self.own
                if extra:
                    self.item_taints[root.attr] = self.item_taints.get(root.attr, frozenset()) | extra

    def import_target(self, name: str) -> tuple[int, str, str | None] | None:
        """What ``name`` denotes when every binding of it in this scope (or, unbound
        here, in an enclosing one) is one import."""
        if name in self.params or name == self.self_name:
            return None
        if name in self.locals:
            targets = self.imports.get(name, [])
            if len(targets) != len(self.locals[name]) or len(set(targets)) != 1:
                return None
            return targets[0]
        return self.outer_imports.get(name)

    def callee_chain(self, chain: tuple[str, ...]) -> tuple[str, ...] | None:
        """The name chain of a callee as :meth:`Reach.resolve_chain` reads it: a
        global name chain as written, one rooted at a name bound by an import in
        this scope (``from utils import freeze_bn`` in a function, or at module
        level) as ``("<import>", "level:module:name", *rest)``; None for a chain
        rooted at a local, a parameter or ``self``."""
        root = chain[0]
        target = self.import_target(root)
        if target is not None:
            level, module, name = target
            return ("<import>", f"{level}:{module}:{name or ''}", *chain[1:])
        if root in self.locals or root in self.params or root == self.self_name or root in self.outer:
            return None
        return chain

    def _is_class_name(self, node: ast.expr) -> bool:
        if not isinstance(node, ast.Name) or node.id in self.locals or node.id in self.params:
            return False
        if node.id in self.imported:
            return True
        tree = self.facts.tree
        return tree is not None and any(isinstance(s, ast.ClassDef) and s.name == node.id for s in tree.body)

    def _taint_target(self, target: ast.AST, value: ast.expr) -> None:
        """``self.x = <outside object>``: ``self.x`` may be it; ``self.x[k] = ...``:
        its items may."""
        if isinstance(target, (ast.Tuple, ast.List)):
            for el in target.elts:
                self._taint_target(el, value if _plain(value) else ast.Subscript(value, ast.Constant(0), ast.Load()))
            return
        if _plain(value):
            return
        extra = self.classify(value) - self.own
        if not extra:
            return
        if isinstance(target, ast.Attribute) and _is_name(target.value, self.self_name):
            self.taints[target.attr] = self.taints.get(target.attr, frozenset()) | extra
        elif isinstance(target, ast.Subscript):
            node = target.value
            while isinstance(node, ast.Subscript):
                node = node.value
            if isinstance(node, ast.Attribute) and _is_name(node.value, self.self_name):
                self.item_taints[node.attr] = self.item_taints.get(node.attr, frozenset()) | extra

    def _loop(self, target: ast.AST, iterable: ast.expr, body: list[ast.stmt]) -> None:
        """``for m in x.modules():``: the body's uses of ``m`` must not change it."""
        call = iterable
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in (
            "enumerate", "zip", "list", "reversed", "sorted",
        ) and call.args:
            call = call.args[0]
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr in _ENUMERATORS):
            return
        names = {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
        if not _harmless_uses(names, body):
            self._dynamic(call.func.value)

    def _safe_callback(self, fn: ast.expr) -> bool:
        if isinstance(fn, ast.Lambda):
            args = fn.args.args
            return bool(args) and _harmless_uses({args[0].arg}, [ast.Expr(fn.body)])
        target = None
        if isinstance(fn, ast.Attribute) and _is_name(fn.value, self.self_name):
            target = fn.attr
        elif isinstance(fn, ast.Name):
            target = fn.id
        if target is None:
            return False
        for node in ast.walk(self.facts.tree or self.node):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == target:
                args = [*node.args.posonlyargs, *node.args.args]
                if args and args[0].arg in ("self", "cls") and len(args) > 1:
                    args = args[1:]
                if not args:
                    return False
                return _harmless_uses({args[0].arg}, node.body)
        return False


_PLAIN_BUILTINS = frozenset(
    {"int", "float", "str", "bool", "len", "round", "abs", "sum", "range", "isinstance", "hasattr",
     "issubclass", "callable", "format", "repr", "hash", "id", "ord", "chr", "divmod", "pow", "any", "all"}
)
_PLAIN_TYPES = frozenset({"int", "float", "bool", "str", "bytes", "complex", "None", "NoneType"})
_PLAIN_GENERICS = frozenset({"list", "tuple", "List", "Tuple", "Sequence", "Optional", "Union", "set", "Set", "Iterable"})


def _plain_annotation(node: ast.expr) -> bool:
    """An annotation that admits only plain values (``int``, ``list[int]``,
    ``tuple[int, int] | None``...): never a module object."""
    if isinstance(node, ast.Constant):
        if node.value is None:
            return True
        if isinstance(node.value, str):
            try:
                return _plain_annotation(ast.parse(node.value, mode="eval").body)
            except SyntaxError:
                return False
        return node.value is Ellipsis
    if isinstance(node, ast.Name):
        return node.id in _PLAIN_TYPES
    if isinstance(node, ast.Attribute):
        return node.attr in _PLAIN_TYPES and isinstance(node.value, ast.Name) and node.value.id in ("builtins", "typing")
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _plain_annotation(node.left) and _plain_annotation(node.right)
    if isinstance(node, ast.Subscript):
        base = node.value
        name = base.id if isinstance(base, ast.Name) else base.attr if isinstance(base, ast.Attribute) else ""
        if name not in _PLAIN_GENERICS:
            return False
        inner = node.slice
        items = inner.elts if isinstance(inner, ast.Tuple) else [inner]
        return all(_plain_annotation(i) for i in items)
    return False


def _chain(node: ast.expr) -> tuple[str, ...] | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return tuple(reversed(parts))


def _is_name(node: ast.expr, name: str | None) -> bool:
    return name is not None and isinstance(node, ast.Name) and node.id == name


def _plain(node: ast.expr) -> bool:
    """A value that cannot be (or hold) a module object: a literal, arithmetic."""
    return isinstance(node, (ast.Constant, ast.JoinedStr, ast.BinOp, ast.UnaryOp, ast.Compare))


def _walk_scope(node: ast.AST):  # type: ignore[no-untyped-def]
    """The nodes of one scope (not inside nested functions, lambdas or classes)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        for child in ast.iter_child_nodes(current):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                continue
            stack.append(child)


def _nested_scopes(node: ast.AST):  # type: ignore[no-untyped-def]
    stack = [node]
    while stack:
        current = stack.pop()
        for child in ast.iter_child_nodes(current):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                yield child
            elif isinstance(child, ast.ClassDef):
                yield ast.FunctionDef(child.name, ast.arguments([], [], None, [], [], None, []), child.body, [], None, None)
            else:
                stack.append(child)


def _harmless_uses(names: set[str], body: list[ast.stmt]) -> bool:
    """Every use of ``names`` in ``body`` only tests the module's class, reads
    its attributes, or initialises its parameters in place."""
    parents: dict[int, ast.AST] = {}
    for stmt in body:
        for node in ast.walk(stmt):
            for child in ast.iter_child_nodes(node):
                parents[id(child)] = node
    for stmt in body:
        for node in ast.walk(stmt):
            if not (isinstance(node, ast.Name) and node.id in names):
                continue
            if not isinstance(node.ctx, ast.Load):
                return False
            parent = parents.get(id(node))
            if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name) and parent.func.id in (
                "isinstance", "type", "id", "str", "repr", "hasattr", "print",
            ):
                continue
            if (
                isinstance(parent, ast.Call)
                and isinstance(parent.func, ast.Name)
                and parent.func.id == "getattr"
                and len(parent.args) > 1
                and isinstance(parent.args[1], ast.Constant)
            ):
                continue
            if isinstance(parent, ast.Compare):
                continue
            if isinstance(parent, ast.Attribute):
                grand = parents.get(id(parent))
                if not isinstance(parent.ctx, ast.Load):
                    if parent.attr in ("weight", "bias"):
                        continue
                    return False
                if isinstance(grand, ast.Call) and grand.func is parent:
                    if parent.attr in (
                        "parameters", "named_parameters", "buffers", "named_buffers", "reset_parameters",
                        "_get_name", "extra_repr",
                    ):
                        continue
                    return False  # ``m.eval()``, ``m.register_forward_hook(...)``...
                if parent.attr in ("training", "momentum", "track_running_stats", "forward", "__class__", "_modules", "__dict__"):
                    if not isinstance(grand, (ast.Compare, ast.If, ast.IfExp, ast.BoolOp, ast.UnaryOp)):
                        return False
                continue  # ``m.weight.data.normal_()``: its parameters only
            if isinstance(parent, ast.Call) and node in parent.args:
                dotted = _dotted(parent.func)
                if dotted is not None and _SAFE_ON_PARAMS.search(dotted):
                    continue
                return False
            if isinstance(parent, (ast.FormattedValue, ast.JoinedStr)):
                continue
            return False
    return True


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def imported_names(tree: ast.Module) -> set[str]:
    """Names the module binds by an import at its top level: modules, mostly."""
    out = set()
    for node in tree.body:
        for sub in ast.walk(node) if isinstance(node, (ast.If, ast.Try)) else (node,):
            if isinstance(sub, ast.Import):
                for alias in sub.names:
                    out.add(alias.asname or alias.name.split(".")[0])
            elif isinstance(sub, ast.ImportFrom):
                for alias in sub.names:
                    out.add(alias.asname or alias.name)
    return out


# --------------------------------------------------------------------------- the project



class Reach:
    """Reaches over the files of a project (memoised per run)."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._text: dict[str, TextReach] = {}
        self._facts: dict[str, FileFacts | None] = {}
        self._scopes: dict[tuple[str, str], list[str]] = {}
        self._containers: dict[tuple, set] = {}
        self._origins: dict[tuple[str, str], tuple[str, str] | None] = {}
        self._passed: dict[tuple, bool] = {}
        self._defs: dict[str, dict | None] = {}
        self._mentions: dict[str, dict] = {}

    # -- per file
    def text(self, path: str) -> str | None:
        text = self.project.texts.get(path)
        if text is None:
            info = self.project.info(path)
            text = info.text if info is not None else None
        return text

    def text_reach(self, path: str) -> TextReach:
        hit = self._text.get(path)
        if hit is None:
            text = self.text(path)
            hit = scan_text(text) if text is not None else TextReach(frozenset(), True)
            self._text[path] = hit
        return hit

    def facts(self, path: str) -> FileFacts | None:
        if path in self._facts:
            return self._facts[path]
        info = self.project.info(path)
        facts = None
        if info is not None and info.tree is not None:
            # Imported names are modules, classes and functions -- except a
            # module-level object of the project (``from .model import net``).
            imported = {
                n for n in imported_names(info.tree) if not self._is_project_object(path, n)
            }
            try:
                facts = file_facts(path, info.tree, imported)
            except RecursionError:
                facts = None
        self._facts[path] = facts
        return facts

    def _is_project_object(self, path: str, name: str) -> bool:
        from convbnlint.project.graph import Assigned

        origin = self.origin(path, name)
        if origin is None:
            return False
        info = self.project.info(origin[0])
        return info is not None and isinstance(info.binding(origin[1]), Assigned)

    def resolve_chain(self, path: str, chain: tuple[str, ...]) -> tuple[str, str] | None:
        """The project definition a dotted name of ``path`` denotes, if any (a
        chain from :meth:`_Function.callee_chain`: rooted at a module-level name,
        or at an import of the calling scope)."""
        from convbnlint.project.graph import Imported

        if chain[0] == "<unknown>":
            return None
        fm = self.project.module_of(path)
        if chain[0] == "<import>":
            level, module, name = chain[1].split(":", 2)
            if int(level):
                info = self.project.info(path)
                if info is None:
                    return None
                base = info.absolute(int(level), module or None)
                if base is None:
                    return None
            else:
                base = module
            dotted = ".".join(p for p in (base, name, *chain[2:]) if p)
        elif len(chain) == 1:
            return self.origin(path, chain[0])
        else:
            info = self.project.info(path)
            if info is None:
                return None
            binding = info.binding(chain[0])
            if not isinstance(binding, Imported):
                return None  # an attribute of a class or of an object
            dotted = ".".join((binding.target, *chain[1:]))
        split = self.project.split(dotted, fm)
        if split is None or not split[1] or "." in split[1]:
            return None
        return self.origin(split[0].path, split[1])

    # -- the project
    def scope(self, path: str) -> list[str]:
        """The files that can reach objects of ``path``'s module: those of its
        source root, and every other file of the run whose text names its top
        package (a script in a sibling folder that imports it).  Code that gets
        the object without naming its package (a utility of another package
        handed the model by a caller) is seen through that caller, which does."""
        fm = self.project.module_of(path)
        root = fm.root if fm is not None else os.path.dirname(path)
        top = (fm.name if fm is not None else "").partition(".")[0]
        key = (root, top)
        hit = self._scopes.get(key)
        if hit is None:
            word = re.compile(rf"\b{re.escape(top)}\b") if top else None
            hit = []
            for p, f in self.project.files.items():
                if f.root == root or word is not None and word.search(self.text(p) or ""):
                    hit.append(p)
            self._scopes[key] = hit
        return hit

    def origin(self, path: str, name: str, depth: int = 0) -> tuple[str, str] | None:
        """Where module-level ``name`` of ``path`` is defined: (file, name) of its
        ``def``/``class``/assignment, following imports between the project's
        modules; None for something outside the project or not known."""
        from convbnlint.project.graph import Assigned, Defined, Imported

        key = (path, name)
        if key in self._origins:
            return self._origins[key]
        self._origins[key] = None
        info = self.project.info(path)
        result = None
        if info is not None and depth < 20:
            binding = info.binding(name)
            if isinstance(binding, (Defined, Assigned)):
                result = key
            elif isinstance(binding, Imported):
                split = self.project.split(binding.target, self.project.module_of(path))
                if split is not None and split[1] and "." not in split[1]:
                    result = self.origin(split[0].path, split[1], depth + 1)
            elif binding is None:
                for star in info.star_imports:
                    split = self.project.split(star, self.project.module_of(path))
                    if split is not None and not split[1]:
                        found = self.origin(split[0].path, name, depth + 1)
                        if found is not None:
                            result = found
                            break
        self._origins[key] = result
        return result

    def defs(self, path: str) -> dict[object, tuple[set[str], set[str], set[str]]] | None:
        """Each definition of a file -> (names it loads, names it loads other than
        to call them, module names it binds): a cheap pass, no reach analysis."""
        if path in self._defs:
            return self._defs[path]
        info = self.project.info(path)
        out = None
        if info is not None and info.tree is not None:
            out = {}
            module_level = []
            for stmt in info.tree.body:
                if isinstance(stmt, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                    loads, values = _mentions(stmt)
                    out[(path, stmt.name)] = (loads, values, {stmt.name})
                else:
                    module_level.append(stmt)
            body = ast.Module(module_level, [])
            loads, values = _mentions(body)
            binds = {
                n.id
                for st in module_level
                for n in ast.walk(st)
                if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load) and not n.id.startswith("__")
            }
            out[(path, "<module>")] = (loads, values, binds)
        self._defs[path] = out
        return out

    def mentions(self, path: str) -> dict[object, set[tuple[str, str]]]:
        """Each definition of a file -> the definitions of the project it names."""
        hit = self._mentions.get(path)
        if hit is None:
            defs = self.defs(path) or {}
            hit = {}
            for key, (names, _, _) in defs.items():
                found = set()
                for name in names:
                    origin = self.origin(path, name)
                    if origin is not None:
                        found.add(origin)
                hit[key] = found
            self._mentions[path] = hit
        return hit

    def users(self, target: tuple[str, str]) -> list[str]:
        """The files that may name ``target``: its own file, and those whose text
        shows its name and the name of its module or of a module re-exporting it."""
        path, name = target
        routes = {self._tail(path)}
        out = [path]
        candidates = [p for p in self.scope(path) if p != path and name in (self.text(p) or "")]
        seen: set[str] = set()
        changed = True
        while changed:
            changed = False
            for other in candidates:
                if other in seen:
                    continue
                text = self.text(other) or ""
                if not any(r in text for r in routes):
                    continue
                seen.add(other)
                out.append(other)
                if self.origin(other, name) == target:
                    tail = self._tail(other)
                    if tail not in routes:
                        routes.add(tail)
                        changed = True
        return out

    def _tail(self, path: str) -> str:
        fm = self.project.module_of(path)
        name = fm.name if fm is not None else os.path.splitext(os.path.basename(path))[0]
        return name.rsplit(".", 1)[-1]

    def containers(self, path: str, key: object) -> set:
        """The definitions of the project whose code may (transitively) build what
        definition ``key`` builds: ``key`` itself, the definitions that name it
        (resolved through imports), and so on.  Module-level code counts as a
        definition binding the module's names."""
        memo_key = (path, key)
        if memo_key in self._containers:
            return self._containers[memo_key]
        out = {key}
        if not isinstance(key, tuple):
            self._containers[memo_key] = out
            return out
        targets: set[tuple[str, str]] = set()
        if key[1] == "<module>":
            facts = self.facts(key[0])
            targets |= {(key[0], n) for n in (facts.binds.get(key, set()) if facts is not None else set())}
        else:
            targets.add(key)  # type: ignore[arg-type]
        done: set[tuple[str, str]] = set()
        while targets - done:
            todo = targets - done
            done |= todo
            for target in todo:
                for other in self.users(target):
                    defs = self.defs(other)
                    if defs is None:
                        out.add(ANY)
                        continue
                    for k, found in self.mentions(other).items():
                        if k in out or target not in found:
                            continue
                        out.add(k)
                        targets |= {(other, n) for n in defs[k][2]}
        self._containers[memo_key] = out
        return out

    def dangerous(self, kind: object, containers: set, site: object, active: frozenset = frozenset()) -> bool:
        """Whether a receiver of this kind may denote the object built at ``site``
        (or something holding it)."""
        if kind == ANY:
            return True
        if isinstance(kind, tuple) and len(kind) == 2 and kind[0] == "param":
            return self.passed(kind[1], containers, site, active)
        return kind in containers

    def passed(self, key: object, containers: set, site: object, active: frozenset = frozenset()) -> bool:
        """Whether the callers of definition ``key`` may pass it the object built
        at ``site``: one of its calls gets such an argument, or it is used other
        than by calling it (its calls are not seen), or a subclass calls it."""
        memo = (key, site)
        if memo in self._passed:
            return self._passed[memo]
        if key in active or not isinstance(key, tuple):
            return True
        active = active | {key}
        path, name = key
        result = False
        for other in self.users(key):  # type: ignore[arg-type]
            defs = self.defs(other)
            facts = self.facts(other) if defs is not None else None
            if defs is None or facts is None:
                result = True
                break
            escaped = [k for k, d in defs.items() if name in d[1] and k != key]  # (``super(Name, self)``)
            origin = self.origin(other, name)
            if escaped and origin == key:
                # Used other than by a call: stored in a module-level table (a model
                # registry) its calls are the table's; anywhere else, not all seen.
                if any(k[1] != "<module>" for k in escaped):
                    result = True
                    break
                if self.table_calls_dangerous(other, escaped, containers, site, active):
                    result = True
                    break
            elif escaped and origin is None:
                # Loaded other than by a call where the name is not a module-level
                # binding (``hooks.add`` handed on, a function-level import): its
                # calls are not all seen.
                result = True
                break
            if any(_names_base(c, name) for c in facts.classes if (other, c.name) != key):
                result = True  # a subclass passes it its own arguments
                break
            for caller, chain, kinds, _ in facts.calls:
                # Every call whose callee resolves to it, by whatever name (``from
                # hooks import add as attach``, ``pkg.hooks.add``, a function-level
                # import), and every call by its name of something not resolved
                # (``importlib.import_module("pkg.hooks").add(model)``).
                if chain is None or not kinds:
                    continue
                resolved = self.resolve_chain(other, chain)
                if resolved != key and not (resolved is None and chain[-1] == name):
                    continue
                if any(self.dangerous(k, containers, site, active) for arg in kinds for k in arg):
                    result = True
                    break
            if result:
                break
        self._passed[memo] = result
        return result

    def table_calls_dangerous(self, path: str, keys: list, containers: set, site: object, active: frozenset) -> bool:
        """A definition stored in module-level names of ``path``: the calls through
        those names (``_models[name](**kwargs)``), wherever they are, must not pass
        it the object."""
        defs = self.defs(path) or {}
        tables = set().union(*(defs[k][2] for k in keys if k in defs))
        if not tables:
            return True
        for table in tables:
            target = (path, table)
            for other in self.users(target):
                facts = self.facts(other)
                defs_other = self.defs(other)
                if facts is None or defs_other is None:
                    return True
                for k, d in defs_other.items():
                    if table in d[1] and self.origin(other, table) == target and k[1] != "<module>" and (other, k[1]) not in active:
                        # The table itself handed on: its calls are not all seen.
                        if any(table in loads for caller, chain, kinds, loads in facts.calls if caller == k) is False:
                            return True
                for caller, chain, kinds, loads in facts.calls:
                    if table not in loads or self.origin(other, table) != target:
                        continue
                    if any(self.dangerous(kind, containers, site, active) for arg in kinds for kind in arg):
                        return True
        return False

    def unreached(self, path: str, attrs: frozenset[str], site: object) -> bool:
        """No code of the project reaches these attributes of the object built at
        ``site`` (the key of the definition holding the call) from outside its
        class, by name or by computed names.  (A subclass's ``self.conv`` touches
        its own instances, not this object: it does not count.)"""
        containers: set | None = None
        for other in self.scope(path):
            text = self.text_reach(other)
            if not (text.attrs & attrs or text.dynamic):
                continue
            facts = self.facts(other)
            if facts is None:
                return False
            touched = {k for k, names in facts.attrs.items() if names & attrs} | facts.dynamic
            if not touched:
                continue
            if ANY in touched:
                return False
            if containers is None:
                containers = self.containers(site[0], site) if isinstance(site, tuple) else {ANY}
                if ANY in containers:
                    return False
            if any(self.dangerous(k, containers, site) for k in touched):
                return False
        return True


def _names_base(cls: ast.ClassDef, name: str) -> bool:
    for base in cls.bases:
        for node in ast.walk(base):
            if (isinstance(node, ast.Name) and node.id == name) or (isinstance(node, ast.Attribute) and node.attr == name):
                return True
    return False
