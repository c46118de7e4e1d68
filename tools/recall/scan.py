#!/usr/bin/env python3
"""Candidate scanner of the recall measure (independent of convbnlint's walker).

It lists, with Python's ``ast`` and no knowledge of how convbnlint works, every
place in a package where a careful reader might find a bias cancelled by a norm:

* ``layer``: a constructor call of a torch conv/linear class (``nn.Conv2d``,
  ``torch.nn.ConvTranspose3d``, ``from torch.nn import Linear`` ...) whose bias is
  not literally off, in a top-level class or function that mentions a norm
  (``BatchNorm``/``InstanceNorm``, ``norm``, ``bn``), or in a helper function
  returning it in a file that does;
* ``wrapper``: a call of a class or function defined in the same package whose
  definition builds such a layer and mentions a norm, not passing ``bias=False``;
  ``same-file`` when the definition is in the calling file, else ``cross-file``.

Every candidate gets a stable id (a hash of package, path, line, column), so a
seeded random sample (``sample.py``) can be read by hand and kept.

    python tools/recall/scan.py ROOT... > candidates.jsonl
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

CONV = re.compile(r"^(Lazy)?Conv(Transpose)?[123]d$")
LINEAR = {"Linear", "LazyLinear"}
NORM_HINT = re.compile(r"BatchNorm|InstanceNorm|norm|\bbn\b|\bBN\b", re.IGNORECASE)
TORCH_PREFIXES = ("torch.nn.", "torch.nn.modules.")


@dataclass
class Candidate:
    id: str
    package: str
    path: str  # relative to the package root
    line: int
    col: int  # 1-based, as convbnlint reports
    kind: str  # layer | wrapper
    scope: str  # same-file | cross-file (wrappers); in-file (layers)
    callee: str
    enclosing: str  # top-level def/class name, or "<module>"
    text: str  # the call's first line
    adjacent: bool = False  # layers: the next sibling is a norm-like constructor call
    bias_on: bool = False  # wrappers: passes a bias-like argument that is not literally off


def imports_of(tree: ast.Module) -> dict[str, str]:
    """local name -> dotted target, from every import in the file (last wins)."""
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    out[a.asname] = a.name
                else:
                    out[a.name.split(".")[0]] = a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            mod = "." * (node.level or 0) + (node.module or "")
            for a in node.names:
                if a.name != "*":
                    sep = "" if mod.endswith(".") or not mod else "."
                    out[a.asname or a.name] = f"{mod}{sep}{a.name}"
    return out


def dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def resolve(name: str | None, table: dict[str, str]) -> str | None:
    if name is None:
        return None
    root, _, rest = name.partition(".")
    target = table.get(root)
    if target is None:
        return None
    return f"{target}.{rest}" if rest else target


def torch_layer(full: str | None) -> str | None:
    if not full:
        return None
    for p in TORCH_PREFIXES:
        if full.startswith(p):
            last = full.rsplit(".", 1)[-1]
            if CONV.match(last) or last in LINEAR:
                return last
    return None


def bias_literally_off(call: ast.Call, last: str) -> bool:
    slot = 7 if last.startswith("Conv") else 6 if last.startswith("LazyConv") else (
        2 if last == "Linear" else 1
    )
    for kw in call.keywords:
        if kw.arg == "bias":
            return isinstance(kw.value, ast.Constant) and not kw.value.value
    if len(call.args) > slot and not any(isinstance(a, ast.Starred) for a in call.args[: slot + 1]):
        v = call.args[slot]
        return isinstance(v, ast.Constant) and not v.value
    return False


def passes_bias_false(call: ast.Call) -> bool:
    for kw in call.keywords:
        if kw.arg is not None and "bias" in kw.arg:
            return isinstance(kw.value, ast.Constant) and not kw.value.value
    return False


def module_name(root: Path, path: Path) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def absolute(target: str, mod: str, is_pkg: bool) -> str:
    if not target.startswith("."):
        return target
    level = len(target) - len(target.lstrip("."))
    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    rest = target[level:]
    return ".".join([*base, rest] if rest else base)


NORM_CALL = re.compile(r"norm|bn", re.IGNORECASE)


def next_siblings(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    """Each node -> the node after it in the same list (call args, list items, statements)."""
    nxt: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for field in ("args", "elts", "body", "orelse"):
            seq = getattr(node, field, None)
            if isinstance(seq, list):
                for a, b in zip(seq, seq[1:]):
                    nxt[a] = b
    return nxt


def norm_like(node: ast.AST | None) -> bool:
    """A call (possibly behind ``x = ``/``self.x = ``/``append(...)``/``add_module``) of a
    callee whose name mentions a norm."""
    if isinstance(node, (ast.Assign, ast.Expr)):
        node = node.value
    if isinstance(node, ast.Starred):
        node = node.value
    if not isinstance(node, ast.Call):
        return False
    name = dotted(node.func) or ""
    last = name.rsplit(".", 1)[-1]
    if last in ("append", "add_module", "insert") and node.args:
        return norm_like(node.args[-1])
    return bool(NORM_CALL.search(last))


def segment(lines: list[str], node: ast.AST) -> str:
    return "\n".join(lines[node.lineno - 1 : node.end_lineno])


def scan_package(root: Path, package: str) -> list[Candidate]:
    files = sorted(p for p in root.rglob("*.py") if p.is_file())
    parsed: dict[Path, tuple[ast.Module, str]] = {}
    for f in files:
        try:
            text = f.read_text(encoding="utf-8", errors="replace")
            parsed[f] = (ast.parse(text), text)
        except (SyntaxError, ValueError):
            continue
    # Definitions that build a torch conv/linear and mention a norm.
    wrappers: dict[str, Path] = {}
    for f, (tree, text) in parsed.items():
        table = imports_of(tree)
        mod = module_name(root, f)
        lines = text.splitlines()
        for node in tree.body:
            if not isinstance(node, (ast.ClassDef, ast.FunctionDef)):
                continue
            seg = segment(lines, node)
            if not NORM_HINT.search(seg):
                continue
            for sub in ast.walk(node):
                if isinstance(sub, ast.Call):
                    last = torch_layer(resolve(dotted(sub.func), table))
                    if last and not bias_literally_off(sub, last):
                        wrappers[f"{mod}.{node.name}"] = f
                        break
    # One more level, to a fixpoint: a definition that mentions a norm and calls a
    # wrapper of the same package (``def conv1x1_block(...): return ConvBlock(...)``).
    changed = True
    while changed:
        changed = False
        tails = {k.rsplit(".", 1)[-1] for k in wrappers}
        for f, (tree, text) in parsed.items():
            mod = module_name(root, f)
            lines = text.splitlines()
            for node in tree.body:
                key = f"{mod}.{getattr(node, 'name', '')}"
                if not isinstance(node, (ast.ClassDef, ast.FunctionDef)) or key in wrappers:
                    continue
                if not NORM_HINT.search(segment(lines, node)):
                    continue
                for sub in ast.walk(node):
                    if isinstance(sub, ast.Call):
                        name = dotted(sub.func)
                        if name and name.rsplit(".", 1)[-1] in tails and name.rsplit(".", 1)[-1] != node.name:
                            wrappers[key] = f
                            changed = True
                            break
    by_tail: dict[str, set[Path]] = {}
    for k, p in wrappers.items():
        by_tail.setdefault(k.rsplit(".", 1)[-1], set()).add(p)
    out: list[Candidate] = []
    for f, (tree, text) in parsed.items():
        table = imports_of(tree)
        mod = module_name(root, f)
        is_pkg = f.name == "__init__.py"
        lines = text.splitlines()
        rel = str(f.relative_to(root))
        file_norm = bool(NORM_HINT.search(text))

        nxt = next_siblings(tree)
        parents: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                parents[child] = node

        def adjacent(call: ast.Call) -> bool:
            node: ast.AST = call
            for _ in range(4):  # the call, its Assign/Expr/append(...)/add_module(...) holder
                if norm_like(nxt.get(node)):
                    return True
                parent = parents.get(node)
                if parent is None or isinstance(parent, (ast.FunctionDef, ast.ClassDef, ast.Module)):
                    break
                node = parent
            return False

        def bias_on(call: ast.Call) -> bool:
            """A bias-like keyword that is literally on (``bias=True``)."""
            return any(
                kw.arg is not None and "bias" in kw.arg
                and isinstance(kw.value, ast.Constant) and kw.value.value is True
                for kw in call.keywords
            )

        def add(call: ast.Call, kind: str, scope: str, callee: str, encl: str) -> None:
            key = f"{package}:{rel}:{call.lineno}:{call.col_offset + 1}"
            out.append(
                Candidate(
                    hashlib.sha1(key.encode()).hexdigest()[:10],
                    package,
                    rel,
                    call.lineno,
                    call.col_offset + 1,
                    kind,
                    scope,
                    callee,
                    encl,
                    lines[call.lineno - 1].strip()[:160],
                    adjacent(call) if kind == "layer" else False,
                    bias_on(call) if kind == "wrapper" else False,
                )
            )

        for node in tree.body:
            encl = getattr(node, "name", "<module>")
            seg = segment(lines, node)
            near = bool(NORM_HINT.search(seg))
            returns_layer = isinstance(node, ast.FunctionDef) and any(
                isinstance(r, ast.Return) and isinstance(r.value, ast.Call)
                for r in ast.walk(node)
            )
            for sub in ast.walk(node):
                if not isinstance(sub, ast.Call):
                    continue
                name = dotted(sub.func)
                full = resolve(name, table)
                last = torch_layer(full)
                if last is not None:
                    if bias_literally_off(sub, last):
                        continue
                    if near or (returns_layer and file_norm):
                        add(sub, "layer", "in-file", last, encl)
                    continue
                if full is None and name is not None and "." not in name:
                    local = f"{mod}.{name}"
                    if local in wrappers and wrappers[local] == f and not passes_bias_false(sub):
                        add(sub, "wrapper", "same-file", name, encl)
                    continue
                if full is None:
                    continue
                target = absolute(full, mod, is_pkg)
                # ``from .common import ConvBN`` or ``import pkg.m as m; m.ConvBN``
                defn = wrappers.get(target)
                if defn is None:
                    # re-exported through a package __init__: look for the last name anywhere
                    tail = target.rsplit(".", 1)[-1]
                    hits = set(by_tail.get(tail, ()))
                    top = target.split(".")[0]
                    if len(hits) == 1 and any(
                        module_name(root, p).split(".")[0] == top for p in hits
                    ):
                        defn = hits.pop()
                if defn is not None and defn != f and not passes_bias_false(sub):
                    add(sub, "wrapper", "cross-file", target, encl)
    return out


def main(argv: list[str]) -> int:
    for arg in argv:
        root = Path(arg)
        for c in scan_package(root, root.name):
            print(json.dumps(asdict(c)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
