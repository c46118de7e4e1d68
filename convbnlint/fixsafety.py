"""Fix safety: may code in the checked files read the bias a fix removes?

A fix turns ``nn.Conv2d(...)`` into ``nn.Conv2d(..., bias=False)``: the layer's
``bias`` attribute becomes ``None`` and ``<path>.bias`` leaves its ``state_dict``.
The forward pass is unchanged (the norm cancelled the bias), so the fix is
*safe* (Ruff's word: applied by ``--fix``) unless other code reads that bias:
``nn.init.constant_(m.bias, 0)``, ``m.bias.data.zero_()``, an optimizer built
from ``[conv.weight, conv.bias]``, ``state_dict()["conv.bias"]``, a ``fuse()``
computing with ``self.conv.bias``... each raises, or computes something else,
after the fix.  Such a fix is *unsafe* (applied only with ``--unsafe-fixes``)
and the diagnostic names the line that reads.  The saved checkpoints are not
a reason: ``convbnlint migrate`` carries them over exactly.

Over-approximation is the rule: a read that *may* denote the fixed layer makes
the fix unsafe.  Per file, :func:`scan` (CPython's ``ast``, no libcst) lists
every unguarded read of a ``bias`` attribute with a *selector* saying what the
read object may be:

* ``attr:NAME`` -- ``<anything>.NAME.bias`` (``self.conv.bias``, ``net.conv.bias``
  in a training script): any layer ever held by an attribute called ``NAME``;
* ``name:NAME`` -- ``NAME.bias`` where every binding of ``NAME`` in its scope is a
  layer constructor: the layers bound to a variable called ``NAME``;
* ``index`` -- ``<container>[k].bias``: any layer that is an item of a container;
* ``any`` -- ``m.bias`` for a loop variable, a parameter (``apply(fn)``,
  ``for m in self.modules()``), the result of an unknown call...: any layer,
  narrowed by ``isinstance``/``type(...) is`` tests around the read
  (``isinstance(m, nn.Linear)`` excludes a ``Conv2d``);
* ``key:TEXT`` -- a string subscript, ``pop``/``get`` argument or comparison
  operand naming a state entry (``sd["features.0.bias"]``, ``f"{name}.bias"``);
* ``alias:NAME<-SELECTOR`` -- an assignment ``x.NAME = <expr>`` whose value may
  be a layer (``self.conv = self.features[0]``): attribute ``NAME`` may then hold it.

A read is *guarded*, and safe, when it only compares the bias with ``None``, tests
it (``if m.bias:``), or sits where a test proves it is not ``None``
(``if m.bias is not None:``, ``getattr(m, "bias", None) is not None and ...``, an
earlier ``if m.bias is None: continue``); ``b = m.bias`` is followed to the uses of
``b``.  A ``self.bias`` read inside a class reads that class's own bias, never a
``torch.nn`` layer's.

What the fixed layer may be reached by (:class:`Target`) comes from the facts:
every holder the analysis binds it to (attribute and variable names), whether it
is an item of a ``Sequential`` or a list, its class, and its ``state_dict`` keys
relative to the class that owns it (``conv.bias``, ``features.0.bias``) where the
source makes them static.  The engine matches the reads of the file itself; the
runner (:func:`tree_reads`) gives every file the reads of the *other* files of the
checked tree, so a training script's ``SGD([net.conv.bias])`` makes the fix in the
model file unsafe.  What no file shows (code outside the checked tree, reads
through ``getattr(m, name)`` with a computed name) is not seen.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from convbnlint.types import Applicability, Diagnostic, Span

if TYPE_CHECKING:
    from convbnlint.analysis import Analysis
    from convbnlint.facts import FactBuilder
    from convbnlint.syntax.names import ImportTable


@dataclass(frozen=True)
class Read:
    """One unguarded read that may denote a layer's removed bias."""

    line: int
    selector: str  # attr:NAME | name:NAME | index | any | key:TEXT | alias:NAME<-SELECTOR
    # ``isinstance`` narrowing of an ``any`` read: a conjunction of alternatives,
    # each a tuple of catalog qualnames ("?" for a class that is not one).
    narrow: tuple[tuple[str, ...], ...] = ()
    text: str = ""  # the line, stripped (for messages)
    path: str = ""  # the file, when the read is in another one


@dataclass(frozen=True)
class Target:
    """How code can reach the layer a fix changes."""

    qualname: str  # its class (``torch.nn.Conv2d``)
    attrs: frozenset[str]
    names: frozenset[str]
    in_container: bool
    state_keys: tuple[str, ...]


# ------------------------------------------------------------------ reading a file


_READ_TEXT = re.compile(r"\.bias\b|[\"']bias[\"']|\.bias[\"']")
# ``x.a = y.b.c`` / ``x = y[k]``: may alias a layer (``self.first = self.body[0]``).
_ALIAS_TEXT = re.compile(
    r"^[ \t]*[A-Za-z_][\w.]*[ \t]*=[ \t]*[A-Za-z_]\w*"
    r"(\.(?!(shape|dtype|device|data|weight|size|ndim|T)\b)\w+)*(\.\w+|\[[^\]\n]*\])[ \t]*(#.*)?$",
    re.M,
)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# A line at column 0 starts a top-level statement, unless it continues one.
_CONTINUES = re.compile(r"[)\]}]|(else|elif|except|finally)\b|#|$")


def scan(source: str, whole: bool = True) -> list[Read]:
    """Every unguarded read of a ``bias`` in ``source`` (nothing if it does not parse).

    ``whole=False`` (the checked tree's other files) is cheap on large files:
    only the top-level statements whose text can hold a read (or an alias) are
    parsed, each on its own with its line numbers kept,
    and only the parts of them around those lines are walked; if one does not
    parse on its own, the whole file is parsed.  Names resolve through the
    file's top-level imports.
    """
    if not _READ_TEXT.search(source):
        return []
    lines = _LINE_BREAK.split(source)
    if whole:
        return _scan_whole(source, lines)
    import bisect

    if "\r" in source:
        offsets = [0]
        offsets.extend(m.end() for m in _LINE_BREAK.finditer(source))
    else:
        import itertools

        offsets = [0, *itertools.accumulate(len(line) + 1 for line in lines[:-1])]
    hot_lines = sorted({bisect.bisect_right(offsets, m.start()) for m in _READ_TEXT.finditer(source)})
    def is_hot(a: int, b: int) -> bool:  # a hot line among lines a+1..b (1-based)
        i = bisect.bisect_left(hot_lines, a + 1)
        return i < len(hot_lines) and hot_lines[i] <= b

    hot: list[tuple[ast.Module, int]] = []  # (tree, line offset)
    import_text: list[str] = []
    for a, b in _segments(lines, 0, len(lines), ""):
        head = lines[a]
        if head.startswith(("import ", "from ")) and not is_hot(a, b):
            import_text.extend(lines[a:b])
            continue
        if not is_hot(a, b):
            continue
        parts = _class_parts(lines, a, b) if head.startswith("class ") and b - a > 40 else None
        if parts is not None:  # a large class: only its hot members
            trees = []
            for c, d in parts:
                if is_hot(c, d):
                    tree = _parse("class _:\n" + "\n".join(lines[c:d]))
                    if tree is None:
                        break
                    trees.append((tree, c - 1))
            else:
                hot.extend(trees)
                continue
        tree = _parse("\n".join(lines[a:b]))
        if tree is None:
            return _scan_whole(source, lines)
        hot.append((tree, a))
    if not hot:
        return []
    from convbnlint.syntax.names import table_from_ast

    imports = _parse("\n".join(import_text))
    if imports is None:
        return _scan_whole(source, lines)
    table = table_from_ast(imports)
    out: list[Read] = []
    try:
        for tree, offset in hot:
            out.extend(_Scanner(tree, lines, table, hot_lines, offset).run())
    except RecursionError:
        return [Read(0, "any", (), "(too deeply nested to scan for reads)")]
    out.extend(_regex_aliases(source, offsets))
    return sorted(set(out), key=lambda r: (r.line, r.selector))


def _regex_aliases(source: str, offsets: list[int]) -> Iterator[Read]:
    """``x.a = y.b`` / ``x = y[k]`` lines, by text (an over-approximation)."""
    import bisect

    for m in _ALIAS_TEXT.finditer(source):
        line = m.group(0).strip()
        target, _, value = line.partition("=")
        target, value = target.strip(), value.split("#", 1)[0].strip()
        to = f"attr:{target.rsplit('.', 1)[1]}" if "." in target else f"name:{target}"
        if value.endswith("]"):
            via = "index"
        elif value.startswith("self.") and value.count(".") == 1:
            via = f"attr:{value[5:]}"
        else:
            via = f"attr:{value.rsplit('.', 1)[1]}"
        yield Read(bisect.bisect_right(offsets, m.start()), f"alias:{to}<-{via}", (), line[:100])


def _segments(lines: list[str], lo: int, hi: int, indent: str) -> list[tuple[int, int]]:
    """Line ranges [a, b) of the statements at ``indent`` between lines lo and hi
    (0-based), by text: a line at exactly that indentation starts one, unless it
    continues the previous (a closing bracket, ``else``..., a comment, or the
    ``def``/``class`` after a decorator).  A wrong cut shows as a parse error."""
    starts = [lo]
    after_decorator = False
    width = len(indent)
    for i in range(lo, hi):
        line = lines[i]
        if not line.startswith(indent) or line[width : width + 1] in ("", " ", "\t", "\f"):
            continue
        body = line[width:]
        if _CONTINUES.match(body):
            continue
        if not after_decorator and i != lo:
            starts.append(i)
        after_decorator = body.startswith("@")
    return list(zip(starts, [*starts[1:], hi]))


def _class_parts(lines: list[str], a: int, b: int) -> list[tuple[int, int]] | None:
    """The members of the class at lines [a, b): line ranges of its body's
    statements; None when its header is not one line."""
    header = lines[a].split("#", 1)[0].rstrip()
    if not header.endswith(":"):
        return None
    for i in range(a + 1, b):
        stripped = lines[i].lstrip(" \t")
        if stripped and not stripped.startswith("#"):
            indent = lines[i][: len(lines[i]) - len(stripped)]
            if not indent:
                return None
            return _segments(lines, a + 1, b, indent)
    return None


def _scan_whole(source: str, lines: list[str]) -> list[Read]:
    tree = _parse(source)
    if tree is None:
        return []
    try:
        return _Scanner(tree, lines).run()
    except RecursionError:
        return [Read(0, "any", (), "(too deeply nested to scan for reads)")]


class _Scanner:
    def __init__(
        self,
        tree: ast.Module,
        lines: list[str],
        table: ImportTable | None = None,
        hot: list[int] | None = None,
        offset: int = 0,
    ) -> None:
        """``tree``: what to scan; ``lines``: the file's lines (for messages);
        ``table``: how names resolve (default: ``tree``'s imports); ``hot``: the
        only lines a read can be on (sorted; None: any line); ``offset``: what
        to add to ``tree``'s line numbers (a part of the file parsed alone)."""
        from convbnlint.catalog import default_catalog
        from convbnlint.syntax.names import table_from_ast

        self.tree = tree
        self.lines = lines
        self.hot = hot
        self.offset = offset
        self.parents: dict[ast.AST, ast.AST] = {}
        self.calls: dict[tuple[int, int], list[ast.Call]] = {}
        self.nodes: list[ast.AST] = []
        self._walked: set[ast.AST] = set()
        self._full: set[ast.AST] = set()
        self._walk(tree, pruned=hot is not None)
        self._scopes: dict[ast.AST, ast.AST] = {}
        self._selfs: dict[tuple[ast.AST, str], bool] = {}
        self._layers: dict[tuple[ast.AST, str], bool] = {}
        self.table = table if table is not None else table_from_ast(tree)
        self.catalog = default_catalog()
        self.out: list[Read] = []

    def _walk(self, root: ast.AST, pruned: bool) -> None:
        """Record parents below ``root``; pruned: skip subtrees without a hot line."""
        import bisect

        hot = [h - self.offset for h in self.hot or []]
        stack = [root]
        while stack:
            node = stack.pop()
            if node in self._walked:
                continue
            self._walked.add(node)
            self.nodes.append(node)
            if type(node) is ast.Call:
                self.calls.setdefault((node.lineno + self.offset, node.col_offset), []).append(node)  # type: ignore[attr-defined]
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
                if pruned:
                    lo = getattr(child, "lineno", None)
                    if lo is not None:
                        i = bisect.bisect_left(hot, lo)
                        if i == len(hot) or hot[i] > child.end_lineno:  # type: ignore[attr-defined]
                            continue
                stack.append(child)

    def ensure(self, scope: ast.AST) -> None:
        """Every node of ``scope`` has its parent recorded (for name tracking)."""
        if self.hot is not None and scope not in self._full:
            self._full.add(scope)
            for node in ast.walk(scope):
                for child in ast.iter_child_nodes(node):
                    self.parents.setdefault(child, node)

    # -- helpers
    def at(self, node: ast.AST) -> int:
        return node.lineno + self.offset  # type: ignore[attr-defined]

    def text(self, line: int) -> str:
        text = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        return text if len(text) <= 100 else text[:97] + "..."

    def qualname(self, node: ast.AST) -> str | None:
        """The catalog class an expression names, or None."""
        from convbnlint.syntax.names import ast_full_name

        if not isinstance(node, (ast.Name, ast.Attribute)):
            return None
        names = self.table.resolve(ast_full_name(node))
        if not names:
            return None
        specs = {self.catalog.lookup(n) for n in names}
        if len(specs) != 1 or None in specs:
            return None
        spec = specs.pop()
        assert spec is not None
        return spec.qualname

    def scope_of(self, node: ast.AST) -> ast.AST:
        hit = self._scopes.get(node)
        if hit is not None:
            return hit
        cur = self.parents.get(node)
        while cur is not None and not isinstance(
            cur, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.Module)
        ):
            cur = self.parents.get(cur)
        scope = self._scopes[node] = cur if cur is not None else self.tree
        return scope

    def is_self(self, name: ast.Name) -> bool:
        """``name`` is the first parameter of a method (the instance of a user class)."""
        key = (self.scope_of(name), name.id)
        if key not in self._selfs:
            self._selfs[key] = self._is_self(name)
        return self._selfs[key]

    def _is_self(self, name: ast.Name) -> bool:
        scope = self.scope_of(name)
        if not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return False
        if not isinstance(self.parents.get(scope), ast.ClassDef):
            return False
        for dec in scope.decorator_list:
            if isinstance(dec, ast.Name) and dec.id in ("staticmethod", "classmethod"):
                return False
        args = [*scope.args.posonlyargs, *scope.args.args]
        if not args or args[0].arg != name.id:
            return False
        return not any(
            isinstance(n, ast.Name) and n.id == name.id and not isinstance(n.ctx, ast.Load)
            for n in ast.walk(scope)
        )

    def bound_to_layers(self, name: ast.Name) -> bool:
        """Every binding of ``name`` in its scope is a constructor of a catalog class."""
        key = (self.scope_of(name), name.id)
        if key not in self._layers:
            self._layers[key] = self._bound_to_layers(name)
        return self._layers[key]

    def _bound_to_layers(self, name: ast.Name) -> bool:
        scope = self.scope_of(name)
        self.ensure(scope)
        found = False
        nodes = scope.body if isinstance(scope, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef)) else []
        if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            params = scope.args
            every = [*params.posonlyargs, *params.args, *params.kwonlyargs, params.vararg, params.kwarg]
            if any(a is not None and a.arg == name.id for a in every):
                return False
        for stmt in nodes:
            for node in ast.walk(stmt):
                if isinstance(node, ast.Name) and node.id == name.id and not isinstance(node.ctx, ast.Load):
                    parent = self.parents.get(node)
                    if (
                        isinstance(parent, ast.Assign)
                        and len(parent.targets) == 1
                        and parent.targets[0] is node
                        and isinstance(parent.value, ast.Call)
                        and self.qualname(parent.value.func) is not None
                    ):
                        found = True
                        continue
                    return False
                if isinstance(node, (ast.Global, ast.Nonlocal)) and name.id in node.names:
                    return False
        return found

    # -- the scan
    def run(self) -> list[Read]:
        for node in list(self.nodes):
            if isinstance(node, ast.Attribute) and node.attr == "bias" and isinstance(node.ctx, ast.Load):
                self.read(node, node.value)
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "getattr"
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
                and node.args[1].value == "bias"
            ):
                self.read(node, node.args[0])
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                self.key(node, node.value)
            elif isinstance(node, ast.JoinedStr) and node.values:
                last = node.values[-1]
                if isinstance(last, ast.Constant) and isinstance(last.value, str):
                    if last.value == "bias" or last.value.endswith(".bias"):
                        self.key(node, "*.bias")
            elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                self.alias(node)
        return sorted(set(self.out), key=lambda r: (r.line, r.selector))

    def read(self, node: ast.expr, base: ast.expr) -> None:
        selector = self.selector(base)
        if selector is None:
            return
        for use in self.uses(node):
            if not self.guarded(use, node):
                narrow = self.narrowing(use, base) if selector == "any" else ()
                self.out.append(Read(self.at(use), selector, narrow, self.text(self.at(use))))
                return

    def selector(self, base: ast.expr) -> str | None:
        """What ``base`` (whose ``.bias`` is read) may be; None: never a catalog layer."""
        if isinstance(base, ast.Name):
            if self.is_self(base):
                return None  # an instance of a user class: its own bias
            if self.bound_to_layers(base):
                return f"name:{base.id}"
            return "any"
        if isinstance(base, ast.Attribute):
            return f"attr:{base.attr}"
        if isinstance(base, ast.Subscript):
            return "index"
        if isinstance(base, ast.Call) and self.qualname(base.func) is not None:
            return None  # a new layer, not one the program already holds
        return "any"

    def uses(self, read: ast.expr) -> Iterator[ast.expr]:
        """Where the read value goes: itself, or the loads of the name it is stored in."""
        parent = self.parents.get(read)
        target = None
        if isinstance(parent, ast.Assign) and len(parent.targets) == 1 and parent.value is read:
            target = parent.targets[0]
        elif isinstance(parent, (ast.AnnAssign, ast.NamedExpr)) and parent.value is read:
            target = parent.target
        if not isinstance(target, ast.Name):
            yield read
            return
        if isinstance(parent, ast.NamedExpr):
            yield read  # (the walrus's own value is used where it stands)
        scope = self.scope_of(read)
        self.ensure(scope)
        for node in ast.walk(scope):
            if isinstance(node, ast.Name) and node.id == target.id and isinstance(node.ctx, ast.Load):
                if self.scope_of(node) is scope:
                    yield node

    # -- guards
    def guarded(self, use: ast.expr, read: ast.expr) -> bool:
        key = _key(use if isinstance(use, ast.Name) else read)
        parent = self.parents.get(use)
        # Compared with None, or tested for truth: works on None.
        if isinstance(parent, ast.Compare) and all(
            isinstance(op, (ast.Is, ast.IsNot, ast.Eq, ast.NotEq)) for op in parent.ops
        ) and any(_is_none(e) for e in (parent.left, *parent.comparators)):
            return True
        if (
            isinstance(parent, ast.Call)
            and isinstance(parent.func, ast.Name)
            and parent.func.id in ("isinstance", "callable")
            and parent.args
            and parent.args[0] is use
        ):
            return True
        if self.in_test(use):
            return True
        for cond, positive in self.conditions(use):
            if _not_none(cond, key, positive):
                return True
        return False

    def in_test(self, node: ast.expr) -> bool:
        cur: ast.AST = node
        parent = self.parents.get(cur)
        while isinstance(parent, (ast.BoolOp, ast.UnaryOp)) and (
            not isinstance(parent, ast.UnaryOp) or isinstance(parent.op, ast.Not)
        ):
            cur, parent = parent, self.parents.get(parent)
        if isinstance(parent, (ast.If, ast.While, ast.IfExp, ast.Assert)) and parent.test is cur:
            return True
        return isinstance(parent, ast.comprehension) and cur in parent.ifs

    def conditions(self, node: ast.AST) -> Iterator[tuple[ast.expr, bool]]:
        """Tests known to be true (``True``) or false (``False``) where ``node`` runs."""
        cur = node
        parent = self.parents.get(cur)
        while parent is not None:
            if isinstance(parent, (ast.If, ast.While)) and cur in parent.body:
                yield parent.test, True
            elif isinstance(parent, ast.If) and cur in parent.orelse:
                yield parent.test, False
            elif isinstance(parent, ast.IfExp):
                if cur is parent.body:
                    yield parent.test, True
                elif cur is parent.orelse:
                    yield parent.test, False
            elif isinstance(parent, ast.BoolOp) and cur in parent.values:
                for earlier in parent.values[: parent.values.index(cur)]:
                    yield earlier, isinstance(parent.op, ast.And)
            elif isinstance(parent, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
                for gen in parent.generators:
                    for test in gen.ifs:
                        yield test, True
            elif isinstance(parent, ast.comprehension) and cur in parent.ifs:
                for test in parent.ifs[: parent.ifs.index(cur)]:
                    yield test, True
            # Earlier statements of the same block that leave when a test holds.
            for field in ("body", "orelse", "finalbody"):
                block = getattr(parent, field, None)
                if isinstance(block, list) and cur in block:
                    for stmt in block[: block.index(cur)]:
                        if (
                            isinstance(stmt, ast.If)
                            and not stmt.orelse
                            and stmt.body
                            and isinstance(stmt.body[-1], (ast.Continue, ast.Return, ast.Break, ast.Raise))
                        ):
                            yield stmt.test, False
            if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                return
            cur, parent = parent, self.parents.get(parent)

    def narrowing(self, use: ast.expr, base: ast.expr) -> tuple[tuple[str, ...], ...]:
        if not isinstance(base, ast.Name):
            return ()
        out = []
        for cond, positive in self.conditions(use):
            for conjunct in _conjuncts(cond, positive):
                classes = self.isinstance_of(conjunct, base.id)
                if classes is not None:
                    out.append(classes)
        return tuple(out)

    def isinstance_of(self, test: ast.expr, name: str) -> tuple[str, ...] | None:
        """``isinstance(name, C)`` / ``type(name) is C``: the classes (qualnames or "?")."""
        classes: list[ast.expr] | None = None
        if (
            isinstance(test, ast.Call)
            and isinstance(test.func, ast.Name)
            and test.func.id == "isinstance"
            and len(test.args) == 2
            and isinstance(test.args[0], ast.Name)
            and test.args[0].id == name
        ):
            spec = test.args[1]
            classes = list(spec.elts) if isinstance(spec, ast.Tuple) else [spec]
        elif (
            isinstance(test, ast.Compare)
            and len(test.ops) == 1
            and isinstance(test.ops[0], (ast.Is, ast.Eq))
            and isinstance(test.left, ast.Call)
            and isinstance(test.left.func, ast.Name)
            and test.left.func.id == "type"
            and len(test.left.args) == 1
            and isinstance(test.left.args[0], ast.Name)
            and test.left.args[0].id == name
        ):
            classes = [test.comparators[0]]
        if classes is None:
            return None
        return tuple(self.qualname(c) or "?" for c in classes)

    # -- state keys and aliases
    def key(self, node: ast.expr, value: str) -> None:
        if not (value == "bias" or value.endswith(".bias")) or len(value) > 300:
            return
        parent = self.parents.get(node)
        if value == "bias":  # only ``m._parameters["bias"]``-style lookups, not ``"bias" in name``
            if isinstance(parent, ast.Subscript) and parent.slice is node:
                self.out.append(Read(self.at(node), "any", (), self.text(self.at(node))))
            return
        used = (
            (isinstance(parent, ast.Subscript) and parent.slice is node)
            or isinstance(parent, ast.Compare)
            or (
                isinstance(parent, ast.Call)
                and isinstance(parent.func, ast.Attribute)
                and parent.func.attr in ("pop", "get", "__getitem__", "get_parameter", "setdefault")
                and parent.args
                and parent.args[0] is node
            )
        )
        if used:
            self.out.append(Read(self.at(node), f"key:{value}", (), self.text(self.at(node))))

    def alias(self, node: ast.Assign | ast.AnnAssign) -> None:
        value = node.value
        assert value is not None
        if not isinstance(value, (ast.Name, ast.Attribute, ast.Subscript)):
            return
        if isinstance(value, ast.Name) and self.is_self(value):
            return
        via = self.selector(value)
        if via is None:
            return
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            if isinstance(target, ast.Attribute):
                self.out.append(Read(self.at(node), f"alias:attr:{target.attr}<-{via}", (), self.text(self.at(node))))
            elif isinstance(target, ast.Name):
                self.out.append(Read(self.at(node), f"alias:name:{target.id}<-{via}", (), self.text(self.at(node))))


def _key(node: ast.expr) -> str:
    """A comparable form of a bias read (``m.bias`` and ``getattr(m, "bias", ...)`` alike)."""
    if isinstance(node, ast.Call):  # getattr(E, "bias"[, default])
        return "bias-of:" + ast.dump(node.args[0])
    if isinstance(node, ast.Attribute):
        return "bias-of:" + ast.dump(node.value)
    return ast.dump(node)


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _conjuncts(test: ast.expr, positive: bool) -> Iterator[ast.expr]:
    """The tests that certainly hold when ``test`` is ``positive``."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        yield from _negated(test.operand, positive)
        return
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And) and positive:
        for value in test.values:
            yield from _conjuncts(value, True)
        return
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or) and not positive:
        for value in test.values:
            yield from _conjuncts(value, False)
        return
    if positive:
        yield test


def _negated(test: ast.expr, positive: bool) -> Iterator[ast.expr]:
    yield from _conjuncts(test, not positive)


def _not_none(cond: ast.expr, key: str, positive: bool) -> bool:
    """Whether ``cond`` being ``positive`` proves the read ``key`` is not None."""
    if isinstance(cond, ast.UnaryOp) and isinstance(cond.op, ast.Not):
        return _not_none(cond.operand, key, not positive)
    if isinstance(cond, ast.BoolOp):
        if isinstance(cond.op, ast.And) == positive:  # and-true / or-false: every part
            return any(_not_none(v, key, positive) for v in cond.values)
        return all(_not_none(v, key, positive) for v in cond.values)
    if _matches(cond, key):  # truthy
        return positive
    if isinstance(cond, ast.Compare) and len(cond.ops) == 1:
        left, op, right = cond.left, cond.ops[0], cond.comparators[0]
        subject = left if _is_none(right) else right if _is_none(left) else None
        if subject is not None and _matches(subject, key):
            if isinstance(op, (ast.IsNot, ast.NotEq)):
                return positive
            if isinstance(op, (ast.Is, ast.Eq)):
                return not positive
    if (
        positive
        and isinstance(cond, ast.Call)
        and isinstance(cond.func, ast.Name)
        and cond.func.id == "isinstance"
        and cond.args
        and _matches(cond.args[0], key)
    ):
        return True
    return False


def _matches(node: ast.expr, key: str) -> bool:
    if key.startswith("bias-of:"):
        if isinstance(node, ast.Attribute) and node.attr == "bias":
            return "bias-of:" + ast.dump(node.value) == key
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value == "bias"
        ):
            return "bias-of:" + ast.dump(node.args[0]) == key
        return False
    return ast.dump(node) == key


# ------------------------------------------------------------------ what a fix removes


def targets(
    source: str, builder: FactBuilder, analysis: Analysis, sites: dict[int, Span]
) -> dict[int, Target]:
    """For each site (with the span of its call), how code can reach the layer built there."""
    from convbnlint.ir import HolderRef

    tree = _parse(source)
    scanner = _Scanner(tree, _LINE_BREAK.split(source)) if tree is not None else None
    out: dict[int, Target] = {}
    for site, span in sites.items():
        related = [site, *builder.facts.factory_calls.get(site, [])]
        attrs: set[str] = set()
        names: set[str] = set()
        container = False
        for sid in related:
            for ref in analysis.aliases(sid):
                if isinstance(ref, HolderRef):
                    kind, _, name = ref.holder
                    (attrs if kind == "attr" else names).add(name)
                for use in builder.facts.uses.get(ref, ()):
                    if use[0] in ("member", "list"):
                        container = True
        qualname = builder.facts.sites[site].spec.qualname
        # state_dict keys: PyTorch's naming (other frameworks name weights otherwise).
        torch_layer = qualname.startswith("torch.")
        keys = _state_keys(scanner, span) if scanner is not None and torch_layer else None
        called = getattr(builder, "project_sites", {}).get(site)
        if called is not None:  # a call of a wrapper in another file (issue 12)
            keys, attrs = _through_call(called, keys, attrs)
        out[site] = Target(
            qualname,
            frozenset(attrs),
            frozenset(names),
            container,
            keys or (),
        )
    return out


def _through_call(called, keys, attrs):  # type: ignore[no-untyped-def]
    """A layer built inside the object a call of another file's wrapper makes
    (:mod:`convbnlint.project`): its key is the call's path then the layer's
    own (``a`` + ``conv.bias``), and a read of any attribute of that object that
    may hold it denotes it."""
    inner = called.inner_key
    if inner is None:
        return (), attrs | set(called.attrs)
    owner = inner.split(".")[-2:-1]
    attrs = attrs | set(owner or called.attrs)
    if keys:
        return tuple(f"{k[: -len('bias')]}{inner}" for k in keys), attrs
    return (inner,), attrs


def _parse(source: str) -> ast.Module | None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None


def _state_keys(scanner: _Scanner, span: Span) -> tuple[str, ...] | None:
    """``state_dict`` keys of the bias of the layer built by the call at ``span``,
    relative to the class (or container) that owns it, when the source makes them
    static; None otherwise."""
    if not 0 < span.line <= len(scanner.lines):
        return None
    col = len(scanner.lines[span.line - 1][: span.column - 1].encode("utf-8"))
    for node in scanner.calls.get((span.line, col), ()):
        path = _path_of(node, scanner)
        return None if path is None else (f"{path}.bias" if path else "bias",)
    return None


def _path_of(node: ast.expr, scanner: _Scanner, container: bool = False) -> str | None:
    """Where ``node``'s module sits in the ``state_dict`` of the class that owns it
    (or of the ``Sequential`` a script assigns to a name, when ``container``)."""
    parent = scanner.parents.get(node)
    if isinstance(parent, ast.Assign) and parent.value is node and len(parent.targets) == 1:
        target = parent.targets[0]
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and scanner.is_self(target.value):
            return target.attr
        if container and isinstance(target, ast.Name):
            return ""  # model = nn.Sequential(...): keys relative to it
        return None
    if isinstance(parent, ast.Call):
        func = parent.func
        # self.add_module("name", layer)
        if (
            isinstance(func, ast.Attribute)
            and func.attr in ("add_module", "register_module")
            and isinstance(func.value, ast.Name)
            and scanner.is_self(func.value)
            and len(parent.args) == 2
            and parent.args[1] is node
            and isinstance(parent.args[0], ast.Constant)
            and isinstance(parent.args[0].value, str)
        ):
            return parent.args[0].value
        if node not in parent.args or parent.keywords:
            return None
        index = parent.args.index(node)
        if any(isinstance(a, ast.Starred) for a in parent.args[: index + 1]):
            return None
        if scanner.qualname(func) == "torch.nn.Sequential":
            outer = _path_of(parent, scanner, container=True)
            return None if outer is None else (f"{outer}.{index}" if outer else str(index))
        # super().__init__(...) of a Sequential subclass: relative to the class.
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "__init__"
            and isinstance(func.value, ast.Call)
            and isinstance(func.value.func, ast.Name)
            and func.value.func.id == "super"
        ):
            cls = scanner.parents.get(scanner.scope_of(parent))
            if isinstance(cls, ast.ClassDef) and any(
                scanner.qualname(b) == "torch.nn.Sequential" for b in cls.bases
            ):
                return str(index)
        return None
    # nn.Sequential(OrderedDict([("name", layer), ...])) / OrderedDict(name=layer)
    if isinstance(parent, ast.Tuple) and len(parent.elts) == 2 and parent.elts[1] is node:
        name = parent.elts[0]
        holder = scanner.parents.get(parent)
        call = scanner.parents.get(holder) if isinstance(holder, (ast.List, ast.Tuple)) else None
        if isinstance(name, ast.Constant) and isinstance(name.value, str) and isinstance(call, ast.Call):
            return _ordered_dict_item(call, name.value, scanner)
        return None
    if isinstance(parent, ast.keyword) and parent.arg is not None:
        call = scanner.parents.get(parent)
        if isinstance(call, ast.Call):
            return _ordered_dict_item(call, parent.arg, scanner)
    if isinstance(parent, ast.Assign) or parent is None:
        return None
    # A Sequential assigned to a plain name in a script: keys relative to it.
    return None


def _ordered_dict_item(call: ast.Call, name: str, scanner: _Scanner) -> str | None:
    from convbnlint.syntax.names import ast_full_name

    resolved = scanner.table.resolve(ast_full_name(call.func)) or frozenset()
    if not resolved or not resolved <= {"collections.OrderedDict", "typing.OrderedDict"}:
        return None
    seq = scanner.parents.get(call)
    if not (isinstance(seq, ast.Call) and seq.args == [call] and not seq.keywords):
        return None
    if scanner.qualname(seq.func) != "torch.nn.Sequential":
        return None
    outer = _path_of(seq, scanner, container=True)
    return None if outer is None else (f"{outer}.{name}" if outer else name)


# ------------------------------------------------------------------ matching


def _is_instance(qualname: str, cls: str) -> bool:
    """Whether an instance of catalog class ``qualname`` may pass ``isinstance(x, cls)``."""
    if cls == "?" or cls == qualname:
        return True
    lazy = "torch.nn.Lazy"
    return qualname.startswith(lazy) and cls == "torch.nn." + qualname[len(lazy) :]


def alias_edges(reads: Sequence[Read]) -> dict[str, list[str]]:
    """The aliases among ``reads``: selector of a value -> holders it is stored in
    (``attr:first`` <- ``index``...).  ``any``/``index`` values are keyed as such."""
    edges: dict[str, list[str]] = {}
    for read in reads:
        if read.selector.startswith("alias:"):
            to, _, via = read.selector[len("alias:") :].partition("<-")
            edges.setdefault(via, []).append(to)
    return edges


def expand(target: Target, reads: Sequence[Read], edges: dict[str, list[str]] | None = None) -> Target:
    """``target`` with every attribute/variable name an alias may also give it."""
    if edges is None:
        edges = alias_edges(reads)
    if not edges:
        return target
    attrs, names = set(target.attrs), set(target.names)
    todo = [f"attr:{a}" for a in attrs] + [f"name:{n}" for n in names] + ["any"]
    if target.in_container:
        todo.append("index")
    seen = set(todo)
    while todo:
        for to in edges.get(todo.pop(), ()):
            if to in seen:
                continue
            seen.add(to)
            kind, _, name = to.partition(":")
            (attrs if kind == "attr" else names).add(name)
            todo.append(to)
    return replace(target, attrs=frozenset(attrs), names=frozenset(names))


def _denotes(target: Target, read: Read) -> bool:
    selector = read.selector
    kind, _, name = selector.partition(":")
    if kind == "attr":
        return name in target.attrs
    if kind == "name":
        return name in target.names
    if kind == "index":
        return target.in_container
    if kind == "any":
        return all(any(_is_instance(target.qualname, c) for c in alt) for alt in read.narrow)
    if kind == "key":
        if name in ("*.bias", "bias"):
            return True
        if target.state_keys:
            return any(name == k or name.endswith("." + k) for k in target.state_keys)
        parts = name.split(".")
        owner = parts[-2] if len(parts) >= 2 else ""
        return owner in target.attrs or (owner.isdigit() and target.in_container)
    return False


def first_read(target: Target, reads: Sequence[Read]) -> Read | None:
    """The first read that may denote ``target``'s bias, or None."""
    for read in reads:
        if not read.selector.startswith("alias:") and _denotes(target, read):
            return read
    return None


def reason(read: Read) -> str:
    where = f"{read.path}:{read.line}" if read.path else f"line {read.line}"
    if read.selector.startswith("key:"):
        what = f"names the state_dict entry {read.selector[4:]!r}"
    else:
        what = "reads the bias"
    return f"{where} {what}: `{read.text}`"


def decide(
    source: str,
    builder: FactBuilder,
    analysis: Analysis,
    diagnostics: list[Diagnostic],
    other_reads: Sequence[Read] = (),
) -> list[Diagnostic]:
    """The diagnostics with their fixes' applicability, reason and state keys."""
    fixable = [d for d in diagnostics if d.fixable]
    if not fixable:
        return diagnostics
    reads = [*scan(source), *other_reads]
    found = targets(source, builder, analysis, {d.site: d.span for d in fixable})
    edges = alias_edges(reads)
    out = []
    for d in diagnostics:
        if not d.fixable:
            out.append(d)
            continue
        target = expand(found[d.site], reads, edges)
        hit = first_read(target, reads)
        reach = encode_target(target)
        if hit is None:
            out.append(replace(d, state_keys=target.state_keys, reach=reach))
        else:
            out.append(
                replace(
                    d,
                    applicability=Applicability.UNSAFE,
                    unsafe_reason=reason(hit),
                    state_keys=target.state_keys,
                    reach=reach,
                )
            )
    return out


# ------------------------------------------------------------------ across files


def encode_target(target: Target) -> tuple[str, ...]:
    """A :class:`Target` as plain strings (kept on the diagnostic, cached as JSON)."""
    return (
        target.qualname,
        ",".join(sorted(target.attrs)),
        ",".join(sorted(target.names)),
        "1" if target.in_container else "0",
        "\n".join(target.state_keys),
    )


def decode_target(reach: Sequence[str]) -> Target | None:
    if len(reach) != 5:
        return None
    qualname, attrs, names, container, keys = reach
    return Target(
        qualname,
        frozenset(a for a in attrs.split(",") if a),
        frozenset(n for n in names.split(",") if n),
        container == "1",
        tuple(k for k in keys.split("\n") if k),
    )


def lower(
    diagnostic: Diagnostic, reads: Sequence[Read], edges: dict[str, list[str]] | None = None
) -> Diagnostic:
    """A safe fix made unsafe by a read in another file (``reads`` carry their path)."""
    if not diagnostic.fixable or diagnostic.applicability is not Applicability.SAFE:
        return diagnostic
    target = decode_target(diagnostic.reach)
    if target is None:
        return diagnostic
    target = expand(target, reads, edges)
    hit = first_read(target, reads)
    if hit is None:
        return diagnostic
    return replace(diagnostic, applicability=Applicability.UNSAFE, unsafe_reason=reason(hit))


# ------------------------------------------------------------------ the checked tree

_CANDIDATE = re.compile(rb"\.bias\b|[\"']bias[\"']")
_READS_FORMAT = "reads-v1"


def compact(reads: Iterable[Read]) -> list[Read]:
    """One witness per distinct selector and narrowing (enough to decide any fix)."""
    seen: set[tuple[str, tuple[tuple[str, ...], ...]]] = set()
    out = []
    for read in reads:
        key = (read.selector, read.narrow)
        if key not in seen:
            seen.add(key)
            out.append(read)
    return out


def file_reads(raw: bytes) -> list[Read]:
    """The compacted reads of one file's bytes ([] when it cannot hold any)."""
    if b"bias" not in raw or not _CANDIDATE.search(raw):
        return []
    from convbnlint import sourcefile

    try:
        text = sourcefile.decode(raw).text
    except sourcefile.SourceError:
        return []
    return compact(scan(text, whole=False))


def tree_reads(paths: Sequence[str], cache_dir: str | None = None) -> tuple[Read, ...]:
    """Every file's reads, each with its path (the runner's view of the checked tree).

    With a cache folder, a file's reads are kept by its stat signature
    (``v1/reads-v1/*.json`` beside the results cache), so a warm run reads no file.
    """
    import os
    import stat as stat_module

    store = _ReadsCache(cache_dir) if cache_dir else None
    out: list[Read] = []
    for name in paths:
        try:
            st = os.stat(name)
        except OSError:
            continue
        if not stat_module.S_ISREG(st.st_mode):
            continue
        reads = store.get(name, st) if store is not None else None
        if reads is None:
            try:
                with open(name, "rb") as fh:
                    raw = fh.read()
            except OSError:
                continue
            reads = file_reads(raw)
            if store is not None:
                store.put(name, st, reads)
        out.extend(replace(r, path=name) for r in reads)
    if store is not None:
        store.save()
    return tuple(out)


def lower_results(results: Sequence, paths: Sequence[str], cache_dir: str | None = None) -> None:
    """Make safe fixes unsafe where another file of ``paths`` may read their bias
    (in place; nothing is read when no result has a safe fix)."""
    if not any(
        d.fixable and d.applicability is Applicability.SAFE and d.reach
        for r in results
        for d in r.diagnostics
    ):
        return
    reads = tree_reads(paths, cache_dir)
    if not reads:
        return
    edges = alias_edges(reads)
    for result in results:
        if any(d.fixable for d in result.diagnostics):
            others = [r for r in reads if r.path != result.path]
            result.diagnostics = [lower(d, others, edges) for d in result.diagnostics]


class _ReadsCache:
    def __init__(self, folder: str) -> None:
        import json
        import time

        from convbnlint.cache import FORMAT, fingerprint

        self.path = Path(folder) / FORMAT / _READS_FORMAT / f"{fingerprint(['reads'])}.json"
        self.started = time.time()
        self.entries: dict[str, list] = {}
        self.dirty = False
        try:
            data = json.loads(self.path.read_bytes())
            if isinstance(data, dict):
                self.entries = data
        except (OSError, ValueError):
            pass

    def get(self, name: str, st: object) -> list[Read] | None:
        from convbnlint.cache import stat_key

        entry = self.entries.get(_absolute(name))
        if not isinstance(entry, list) or len(entry) != 2 or entry[0] != stat_key(st):  # type: ignore[arg-type]
            return None
        try:
            return [Read(r[0], r[1], tuple(tuple(a) for a in r[2]), r[3]) for r in entry[1]]
        except (TypeError, IndexError, ValueError):
            return None

    def put(self, name: str, st: object, reads: list[Read]) -> None:
        from convbnlint.cache import RACY_SECONDS, stat_key

        if st.st_mtime > self.started - RACY_SECONDS:  # type: ignore[attr-defined]
            return  # written in this clock tick: read it again next time
        self.entries[_absolute(name)] = [
            stat_key(st),  # type: ignore[arg-type]
            [[r.line, r.selector, [list(a) for a in r.narrow], r.text] for r in reads],
        ]
        self.dirty = True

    def save(self) -> None:
        import json
        import os
        import tempfile

        if not self.dirty:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".reads.", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(self.entries, fh)
            os.replace(tmp, self.path)
        except OSError:
            pass  # a cache that cannot be written only costs time


def _absolute(name: str) -> str:
    import os

    return name if os.path.isabs(name) else os.path.join(os.getcwd(), name)
