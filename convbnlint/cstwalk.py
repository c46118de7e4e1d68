"""Read-only libcst traversal without libcst's per-node rebuilding.

``CSTNode.visit`` (even with a read-only :class:`libcst.CSTVisitor`) and
``CSTNode.children`` both go through ``_visit_and_replace_children``, which
constructs a new copy of every node it passes; that makes one visitor pass cost
about as much as parsing the module.  The two functions here give the same nodes
in the same order by reading the fields directly:

* :func:`children` is ``node.children``;
* :func:`walk` is ``node.visit(visitor)`` for a visitor that only reads: the same
  ``visit_<Node>``/``leave_<Node>`` calls in the same order, children skipped when
  ``visit_<Node>`` returns False.  (It does not call the rarely used
  ``visit_<Node>_<field>`` attribute hooks.)

The field order of each node type is recorded once, from libcst's own
``_visit_and_replace_children``; ``tests/test_perf_cstwalk.py`` checks both
functions against libcst on real code.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import libcst as cst

# Per node type: the fields libcst visits, in order, and the other dataclass
# fields (checked on every instance: libcst skips some fields when they are None,
# e.g. ``FormattedStringExpression.format_spec``, so one instance may not show all).
_ORDER: dict[type, tuple[tuple[str, ...], tuple[str, ...]]] = {}


class _Recorder(cst.CSTVisitor):
    def __init__(self) -> None:
        self.fields: list[str] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        return False

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        self.fields.append(attribute)


def _record(node: cst.CSTNode) -> list[str]:
    recorder = _Recorder()
    node._visit_and_replace_children(recorder)
    return list(dict.fromkeys(recorder.fields))


def _learn(node: cst.CSTNode) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Merge this instance's field order into what is known for its type."""
    from dataclasses import fields

    kind = type(node)
    seen = _record(node)
    known = _ORDER.get(kind)
    order = list(known[0]) if known else []
    for i, name in enumerate(seen):
        if name not in order:
            before = next((seen[j] for j in range(i - 1, -1, -1) if seen[j] in order), None)
            order.insert(order.index(before) + 1 if before is not None else 0, name)
    # Fields still unvisited although they hold something are plain data (libcst
    # never visits them); the empty ones may hold nodes in another instance.
    rest = tuple(
        f.name for f in fields(kind) if f.name not in order and not _holds(getattr(node, f.name))
    )
    entry = _ORDER[kind] = (tuple(order), rest)
    return entry


_Node = cst.CSTNode
_IS_NODE: dict[type, bool] = {}


def _is_node_type(kind: type) -> bool:
    hit = _IS_NODE.get(kind)
    if hit is None:
        hit = _IS_NODE[kind] = issubclass(kind, _Node)
    return hit


def _holds(value: object) -> bool:
    kind = type(value)
    if kind is tuple or kind is list:
        return bool(value)
    return _is_node_type(kind)


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """``node.children``, without rebuilding ``node``."""
    entry = _ORDER.get(type(node)) or _learn(node)
    if entry[1]:
        for name in entry[1]:  # a field this type's known order lacks holds nodes?
            if _holds(getattr(node, name)):
                entry = _learn(node)
                break
    out: list[cst.CSTNode] = []
    is_node = _IS_NODE
    for name in entry[0]:
        value = getattr(node, name)
        kind = type(value)
        if kind is tuple or kind is list:
            for item in value:
                flag = is_node.get(type(item))
                if flag is None:
                    flag = _is_node_type(type(item))
                if flag:
                    out.append(item)
        elif value is not None:
            flag = is_node.get(kind)
            if flag is None:
                flag = _is_node_type(kind)
            if flag:
                out.append(value)
    return out


# Per visitor class, per node type: its ``visit_``/``leave_`` methods.  Weak keys: a
# visitor class made inside a function (one per call) must not live on here.
_HOOKS: weakref.WeakKeyDictionary[
    type, dict[type, tuple[Callable[..., Any] | None, Callable[..., Any] | None]]
] = weakref.WeakKeyDictionary()


def walk(node: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    """``node.visit(visitor)`` for a read-only visitor, without rebuilding nodes."""
    vtype = type(visitor)
    generic = vtype.on_visit is cst.CSTVisitor.on_visit and (
        vtype.on_leave is cst.CSTVisitor.on_leave
    )
    if generic:
        hooks = _HOOKS.get(vtype)
        if hooks is None:
            hooks = _HOOKS[vtype] = {}
        _walk_fast(node, visitor, vtype, hooks)
    else:
        _walk_generic(node, visitor)


def _walk_fast(node: cst.CSTNode, visitor: cst.CSTVisitor, vtype: type, table: dict) -> None:  # type: ignore[type-arg]
    ntype = type(node)
    hooks = table.get(ntype)
    if hooks is None:
        name = ntype.__name__
        hooks = table[ntype] = (_hook(vtype, f"visit_{name}"), _hook(vtype, f"leave_{name}"))
    visit, leave = hooks
    if visit is None or visit(visitor, node) is not False:
        for child in children(node):
            _walk_fast(child, visitor, vtype, table)
    if leave is not None:
        leave(visitor, node)


def _hook(vtype: type, name: str) -> Callable[..., Any] | None:
    """The visitor's own method, or None when it is libcst's no-op default."""
    method = getattr(vtype, name, None)
    if method is None or method is getattr(cst.CSTVisitor, name, None):
        return None
    return method


def _walk_generic(node: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    if visitor.on_visit(node):
        for child in children(node):
            _walk_generic(child, visitor)
    visitor.on_leave(node)
