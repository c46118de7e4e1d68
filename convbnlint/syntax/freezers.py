"""Which framework norms a text may freeze in ways the walker does not follow.

A Keras norm stops cancelling a bias when its statistics freeze: ``trainable`` set
to False on it *or on any layer or model that contains it* (Keras propagates the
flag down; a model built from tensors, ``keras.Model(inputs, outputs,
trainable=False)``, holds every layer between them), ``_trainable`` written
directly, a global inference phase (``set_learning_phase``,
``learning_phase_scope``), or a subclass overriding the ``trainable`` property.
Which layers such a write reaches is not modelled; what is modelled is whether a
text contains one at all.  A framework's ``Framework.freezers`` lists the
identifiers (``trainable``, ...); an occurrence of one *may freeze* unless it is

* read (an attribute or a name loaded, not called: ``model.trainable_weights`` is
  another identifier, ``if layer.trainable:`` only reads), or
* a write of the constant ``True`` (``layer.trainable = True``, ``trainable=True``).

Everything else may freeze: any other store (``x.trainable = flag``, ``a.trainable,
b = ...``, ``del x.trainable``, a variable or class attribute named so), any other
keyword value (``trainable=False``, ``trainable=not tune``), a call of it
(``set_learning_phase(0)``), a definition or import of that name, a string equal
to it (``setattr(m, "trainable", False)``, a config dict), and a ``setattr`` (or
``__setattr__``) whose attribute name is not a constant that differs from every
freezer.  Comments, docstrings and longer identifiers never count.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable


def may_freeze(source: str, names: Iterable[str], tree: ast.AST | None = None) -> set[str]:
    """The identifiers of ``names`` that ``source`` uses in a way that may freeze."""
    wanted = set(names)
    if not any(n in source for n in wanted) and "setattr" not in source:
        return set()
    if tree is None:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            return wanted  # (no tree: every mention counts)
    found: set[str] = set()
    true_writes: set[int] = set()  # ``x.trainable = True`` targets
    called: set[int] = set()  # the function expressions of calls
    nodes = list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.Assign) and _is_true(node.value):
            true_writes.update(id(t) for t in node.targets)
        elif isinstance(node, ast.Call):
            called.add(id(node.func))
            found.update(_dynamic_setattr(node, wanted))
            found.update(kw.arg for kw in node.keywords
                         if kw.arg in wanted and not _is_true(kw.value))
    for node in nodes:
        if isinstance(node, (ast.Attribute, ast.Name)):
            name = node.attr if isinstance(node, ast.Attribute) else node.id
            if name not in wanted:
                continue
            if isinstance(node.ctx, ast.Load):
                if id(node) in called:
                    found.add(name)
            elif id(node) not in true_writes:
                found.add(name)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.name in wanted:
                found.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                found.update(n for n in (alias.name.rsplit(".", 1)[-1], alias.asname)
                             if n in wanted)
        elif isinstance(node, ast.Constant) and node.value in wanted:
            found.add(node.value)
    return found


def _is_true(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _dynamic_setattr(call: ast.Call, wanted: set[str]) -> set[str]:
    """The freezers a ``setattr``/``__setattr__`` call may write: those its constant
    attribute name equals (the string itself is counted anyway), all of them when
    the name is not a constant (an f-string whose leading text rules them out
    excepted)."""
    func = call.func
    if isinstance(func, ast.Name) and func.id == "setattr":
        names = call.args[1:2]
    elif isinstance(func, ast.Attribute) and func.attr == "__setattr__":
        names = call.args[:2]  # obj.__setattr__(name, v) or object.__setattr__(obj, name, v)
    else:
        return set()
    if any(isinstance(n, ast.Constant) and isinstance(n.value, str) for n in names):
        return set()
    out: set[str] = set()
    for n in names or [None]:
        if isinstance(n, ast.JoinedStr) and n.values and isinstance(n.values[0], ast.Constant):
            head = str(n.values[0].value)
            out.update(w for w in wanted if w.startswith(head) or head.startswith(w))
        else:
            out.update(wanted)
    return out
