"""``cstwalk`` gives exactly what libcst's own traversal gives, on real code."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import libcst as cst
import pytest

from convbnlint import cstwalk
from tests.cases import CASES

# Real, varied code: the rule cases, this project, and some of the standard library.
STDLIB = [
    inspect.getsourcefile(importlib.import_module(name))
    for name in ("typing", "argparse", "dataclasses", "asyncio.base_events")
]
SOURCES = (
    [c.source for c in CASES]
    + [p.read_text() for p in sorted(Path(cstwalk.__file__).parent.rglob("*.py"))]
    + [Path(p).read_text() for p in STDLIB if p]
    + [
        "x = f'{a!r:>{width}} {b=}'\nmatch p:\n    case {'k': v, **rest}: pass\n"
        "    case Point(x=0, y=[*ys]): pass\n",
        "async def f():\n    async with a as b, c:\n        await d\n    return [x async for x in y]\n",
        "try:\n    pass\nexcept* E as e:\n    pass\ndef g[T](x: T) -> T: ...\n",
    ]
)


class _Events(cst.CSTVisitor):
    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.events.append(("visit", id(node)))
        return not isinstance(node, (cst.Lambda, cst.Attribute))

    def on_leave(self, node: cst.CSTNode) -> None:
        self.events.append(("leave", id(node)))


class _Typed(cst.CSTVisitor):
    def __init__(self, fast: bool) -> None:
        self.fast = fast
        self.seen: list[str] = []

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        self.seen.append("attr")
        (cstwalk.walk(node.value, self) if self.fast else node.value.visit(self))
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.seen.append(node.value)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.seen.append("/def " + node.name.value)


def _parse(text: str) -> cst.Module | None:
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError:
        return None


@pytest.mark.parametrize("index", range(len(SOURCES)))
def test_children_and_walk_match_libcst(index: int) -> None:
    module = _parse(SOURCES[index])
    if module is None:
        pytest.skip("libcst cannot parse this source")
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        theirs = list(node.children)
        mine = cstwalk.children(node)
        assert len(mine) == len(theirs) and all(a is b for a, b in zip(mine, theirs)), type(node)
        stack.extend(theirs)
    a, b = _Events(), _Events()
    module.visit(a)
    cstwalk.walk(module, b)
    assert a.events == b.events
    c, d = _Typed(fast=False), _Typed(fast=True)
    module.visit(c)
    cstwalk.walk(module, d)
    assert c.seen == d.seen
