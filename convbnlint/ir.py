"""The facts the walker records, as plain data (no libcst here).

:mod:`convbnlint.facts` fills these from a parsed module; :mod:`convbnlint.analysis`
reads them.  Keeping them apart means the analysis can be built and tested on
plain data, and only the walker needs libcst.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from convbnlint.catalog import LayerSpec
from convbnlint.types import Bias, Span



@dataclass(frozen=True)
class SiteRef:
    site: int


@dataclass(frozen=True)
class HolderRef:
    holder: tuple[str, int, str]  # ("attr", family, name) or ("local", scope, name)


@dataclass(frozen=True)
class UnknownRef:
    pass


UNKNOWN = UnknownRef()
Ref = Union[SiteRef, HolderRef, UnknownRef]


@dataclass(frozen=True)
class Escape:
    pass


ESCAPE = Escape()


@dataclass(frozen=True)
class CallInput:
    """The input of a module call that passes more than its input
    (``bn(x, training=False)``): the callee and the other arguments, each a
    keyword with its constant value (:data:`NOT_CONSTANT` when not a constant)."""

    ref: Ref
    keywords: tuple[tuple[str, object], ...]


class _NotConstant:
    def __repr__(self) -> str:
        return "NOT_CONSTANT"


NOT_CONSTANT = _NotConstant()
Consumer = Union[SiteRef, HolderRef, UnknownRef, Escape, CallInput]

# Use kinds
BIND = ("bind",)
HARMLESS = ("harmless",)
ESCAPED = ("escape",)
# A container whose items become reachable or change in a way not modelled
# (``seq.insert(...)``, ``model.pop()``, ``model.layers``): its items are unknown.
ITEMS_ESCAPED = ("items",)


def member_use(seq: int) -> tuple[str, int]:
    return ("member", seq)


def list_use(lid: int) -> tuple[str, int]:
    return ("list", lid)


@dataclass(frozen=True)
class Graph:
    """Which item may immediately follow which in an ordered container.

    A sound abstraction of every order a container's items can have on any path
    through the code that built it (branches, loops): ``firsts`` may come first,
    ``lasts`` may come last, ``edges`` holds every possible (item, next item)
    pair, and ``may_empty`` says it may hold nothing.  Items are refs; an
    :class:`UnknownRef` item stands for anything we could not follow.
    """

    firsts: frozenset = frozenset()
    edges: frozenset = frozenset()  # (item, next item, path condition)
    lasts: frozenset = frozenset()
    may_empty: bool = True

    @staticmethod
    def single(ref: Ref) -> Graph:
        return Graph(frozenset({ref}), frozenset(), frozenset({ref}), False)

    def then(self, other: Graph, cond: frozenset = frozenset()) -> Graph:
        """``self`` followed by ``other``; new junctions hold under ``cond``."""
        edges = (
            self.edges | other.edges | {(a, b, cond) for a in self.lasts for b in other.firsts}
        )
        firsts = self.firsts | other.firsts if self.may_empty else self.firsts
        lasts = other.lasts | self.lasts if other.may_empty else other.lasts
        return Graph(firsts, frozenset(edges), lasts, self.may_empty and other.may_empty)

    def union(self, other: Graph) -> Graph:
        return Graph(
            self.firsts | other.firsts,
            self.edges | other.edges,
            self.lasts | other.lasts,
            self.may_empty or other.may_empty,
        )

    def nodes(self) -> set[Ref]:
        out = set(self.firsts) | set(self.lasts)
        for a, b, _ in self.edges:
            out.add(a)
            out.add(b)
        return out

    def successors(self, ref: Ref) -> set[tuple[Ref, frozenset]]:
        return {(b, cond) for a, b, cond in self.edges if a == ref}


EMPTY_GRAPH = Graph()


@dataclass(frozen=True)
class ListState:
    """A local list of layers being built (``layers = []; layers.append(...)``)."""

    lids: frozenset[int]
    graph: Graph
    partial: bool = False  # on some path the name is not this list

    def union(self, other: ListState) -> ListState:
        return ListState(
            self.lids | other.lids, self.graph.union(other.graph), self.partial or other.partial
        )

    @property
    def clean(self) -> bool:
        return not self.partial and len(self.lids) == 1

    def with_partial(self) -> ListState:
        return ListState(self.lids, self.graph, True)


@dataclass(frozen=True)
class ContainerState:
    """A container held in a local name, while ``model.add(layer)`` appends to it
    (under the name's :data:`LIST` key).  ``used``: the name was used otherwise
    since (a later append no longer matches what that use saw); ``broken``: the
    items are no longer known."""

    sid: int
    graph: Graph
    used: bool = False
    broken: bool = False

    lids: frozenset[int] = frozenset()  # (a ListState's field: no lists here)

    def union(self, other: object) -> ContainerState:
        if not isinstance(other, ContainerState) or other.sid != self.sid:
            return ContainerState(self.sid, self.graph, True, True)
        return ContainerState(
            self.sid,
            self.graph.union(other.graph),
            self.used or other.used,
            self.broken or other.broken,
        )

    def with_partial(self) -> ContainerState:
        return ContainerState(self.sid, self.graph, True, True)


LIST = "\0list:"  # env key prefix for list states
SEQ_SELF = LIST + "\0self"  # a Sequential subclass's own items while __init__ runs


def call_use(inv: int) -> tuple[str, int]:
    return ("call", inv)


@dataclass
class Site:
    id: int
    spec: LayerSpec
    bias: Bias = Bias.UNKNOWN
    items: Graph | None = None  # containers only; None when not static
    transparent: bool = False  # TRANSPARENT layers whose arguments keep them so
    scope: int = -1  # the scope (function) the constructor call is in
    channels: str | None = None  # source of the spec's channel argument, if given
    # A call of a helper that returns a layer: the layer's site inside the helper,
    # the helper's name, and whether the call can pass bias=False.
    factory_of: int | None = None
    helper: str | None = None
    fixable: bool = True
    span: Span | None = None
    # The catalog's argument conditions (``LayerSpec.when``) hold for this call.
    when_ok: bool = True
    # BIASED: the axes its output's channels may be on; CANCELLING_NORM: the one
    # axis it normalizes; None: no layout (channels first) or not known.
    axes: tuple[int, ...] | None = None
    layout_known: bool = True  # False: the spec has a layout but its value is unknown
    # Built through ``functools.partial``: the partial's call (an id into
    # ``FactBuilder.partial_nodes``), so a fix can tell where the bias is bound.
    partial: int | None = None
    # Why the fix cannot be written here (shown in the message), when not ``fixable``.
    unfixable: str | None = None


@dataclass
class Invocation:
    id: int
    callee: Ref
    consumers: set[Consumer] = field(default_factory=set)


@dataclass
class ModuleFacts:
    sites: dict[int, Site] = field(default_factory=dict)
    uses: dict[Ref, set[tuple]] = field(default_factory=dict)
    bindings: dict[tuple, list[Ref]] = field(default_factory=dict)
    invocations: dict[int, Invocation] = field(default_factory=dict)
    dynamic_holders: set[tuple] = field(default_factory=set)
    list_elements: dict[int, set[Ref]] = field(default_factory=dict)
    escaped_lists: set[int] = field(default_factory=set)
    # Helper functions returning a layer: inner site -> its call-site sites.
    factory_calls: dict[int, list[int]] = field(default_factory=dict)
    escaped_factories: set[int] = field(default_factory=set)



# --------------------------------------------------------------------------- path conditions


def negate(literal: tuple) -> tuple:
    scope, name, kind, positive = literal
    return (scope, name, kind, not positive)


def literal_source(literal: tuple) -> str:
    """Python source that is true exactly when ``literal`` holds."""
    _, name, kind, positive = literal
    if kind == "isnone":
        return f"{name} is None" if positive else f"{name} is not None"
    return name if positive else f"not {name}"


def describe(literal: tuple) -> str:
    """Words for when ``literal`` holds, for messages."""
    _, name, kind, positive = literal
    if kind == "isnone":
        return f"`{name}` is None" if positive else f"`{name}` is not None"
    return f"`{name}` is true" if positive else f"`{name}` is false"


def bias_for(literal: tuple) -> str:
    """The bias expression that is off exactly when ``literal`` holds."""
    _, name, kind, positive = literal
    if kind == "isnone":
        return f"{name} is not None" if positive else f"{name} is None"
    return f"not {name}" if positive else f"bool({name})"
