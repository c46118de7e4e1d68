"""Abstract values of the partial evaluator (:mod:`convbnlint.project.evaluate`).

A value is either *static* (known while evaluating: a constant, a name outside the
project, a definition of the project, a closure, a list being built) or *dynamic*
(:class:`Dyn`: known only as an expression of the residual program).  Values that
come from an argument of the call being judged carry an ``origin`` so that a
finding can say which argument of that call to change.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from convbnlint.project.graph import ModuleInfo


class Value:
    """Base of every abstract value."""

    origin: tuple | None = None


class Const(Value):
    """A Python constant (None, bool, int, float, str, bytes, tuples of them)."""

    __slots__ = ("origin", "value")

    def __init__(self, value: object, origin: tuple | None = None) -> None:
        self.value = value
        self.origin = origin

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Const)
            and type(other.value) is type(self.value)
            and other.value == self.value
        )

    def __hash__(self) -> int:
        return hash((type(self.value), repr(self.value)))

    def __repr__(self) -> str:
        return f"Const({self.value!r})"


@dataclass(frozen=True, eq=True)
class Ext(Value):
    """Something outside the project, by dotted name (``torch.nn.BatchNorm2d``)."""

    qualname: str


@dataclass(frozen=True, eq=True)
class PModule(Value):
    """A module of the project (``import pkg.common as common``)."""

    path: str


@dataclass(eq=False)
class PFunc(Value):
    """A top-level function of the project."""

    info: ModuleInfo
    node: ast.FunctionDef


@dataclass(eq=False)
class PClass(Value):
    """A top-level class of the project."""

    info: ModuleInfo
    node: ast.ClassDef


@dataclass(eq=False)
class Closure(Value):
    """A lambda or a nested function, with the values of the names it captured."""

    node: ast.Lambda | ast.FunctionDef
    env: dict
    info: ModuleInfo
    defaults: dict = field(default_factory=dict)  # param -> Value (evaluated when created)


@dataclass(eq=False)
class Method(Value):
    """A method of the class being built, bound to ``self``; ``cls`` the class
    (a :class:`PClass`) that defines it (for ``super()``)."""

    node: ast.FunctionDef
    info: ModuleInfo
    cls: object = None


@dataclass(eq=False)
class Partial(Value):
    """``functools.partial(func, *args, **kwargs)``."""

    func: Value
    args: list
    kwargs: dict


@dataclass(eq=False)
class Instance(Value):
    """A project class called with these arguments (built only if needed)."""

    cls: PClass
    args: list
    kwargs: dict


class SelfObj(Value):
    """``self`` of the object being built; ``attrs`` what ``__init__`` stored."""

    def __init__(self) -> None:
        self.attrs: dict[str, Value] = {}


class Dyn(Value):
    """A value known only as a pure expression of the residual program.
    ``instance_of``: the dotted name of its class, when it is an object built by
    a call of a class outside the project."""

    __slots__ = ("expr", "instance_of", "origin")

    def __init__(self, expr: ast.expr, instance_of: str | None = None, origin: tuple | None = None) -> None:
        self.expr = expr
        self.instance_of = instance_of
        self.origin = origin

    def __repr__(self) -> str:
        return f"Dyn({ast.unparse(self.expr)})"


class ListV(Value):
    """A list built by the code being evaluated (``layers = []; layers.append(...)``).
    Once handed to residual code it is a residual local ``name`` and its items
    are no longer known (``items`` None)."""

    def __init__(self, items: list[Value]) -> None:
        self.items: list[Value] | None = items
        self.name: str | None = None


class DictV(Value):
    """A dict with string keys (``**kwargs``, ``dict(a=1)``, ``{"a": 1}``); as
    :class:`ListV` once residual code has it."""

    def __init__(self, items: dict[str, Value]) -> None:
        self.items: dict[str, Value] | None = items
        self.name: str | None = None


class TupleV(Value):
    """A tuple of values that are not all constants."""

    def __init__(self, items: tuple[Value, ...]) -> None:
        self.items: tuple[Value, ...] = items


class Opaque(Value):
    """Anything else: a value the evaluator does not follow."""


OPAQUE = Opaque()


def is_static(value: Value) -> bool:
    return not isinstance(value, (Dyn, Opaque))
