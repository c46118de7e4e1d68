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
    """A place that holds module objects, with everything bound to it
    (``ModuleFacts.bindings``): ``("attr", family, name)`` is ``self.name`` of a
    class family, ``("local", scope, name)`` a local name, ``("param", scope,
    name)`` a function's parameter (bound at the module's own call sites; callers
    elsewhere may pass anything), ``("return", key)`` what a function returns
    (``key`` is ``(family or None, name)``)."""

    holder: tuple


@dataclass(frozen=True)
class AttrNameRef:
    """Attribute ``name`` of another object than ``self`` (``net.bn`` at module
    level, ``self.block.conv``, ``m.conv`` in a helper): the holder ``name`` of
    every class family the receiver may be an instance of.  ``receiver`` is the
    receiver's reference, or None for an object the walker does not follow,
    which may be an instance of any class of the module (name-based).
    """

    name: str
    receiver: object = None  # Ref | None


@dataclass(frozen=True)
class FamilyRef:
    """An instance of a class family of this module: ``self`` used bare, or a value
    of ``Net(...)`` for a class ``Net`` of the module."""

    family: int


@dataclass(frozen=True)
class ElementRef:
    """Any module object reachable from ``target`` (its items, holders and their
    items, at any depth, and itself); ``target`` None: any module object of the
    module.  A loop variable over ``modules()``, an item taken out of a container
    (``self.features[0]``), an ``apply`` callback's parameter."""

    target: object  # Ref | None


@dataclass(frozen=True)
class ItemRef:
    """Any direct item of ``target``: of a container (``self.features[0]``, a loop
    over a ``ModuleList``), or a direct submodule (``children()``)."""

    target: object  # Ref


@dataclass(frozen=True)
class SliceRef:
    """``x[a:b]``: a new container of some of ``target``'s items; its uses are
    uses of each of them (called, it runs them in an order we do not follow)."""

    target: object  # Ref


@dataclass(frozen=True)
class ResultRef:
    """What ``target.method()`` returns: the object itself where its framework
    documents ``method`` as returning it (``self.conv.cuda()``), else unknown."""

    target: object  # Ref
    method: str


# ``ResultRef.method`` of what a call of code outside the file returns: any module
# object it was given, or anything else.
GIVEN_BACK = "\0given"


@dataclass(frozen=True)
class UnknownRef:
    pass


UNKNOWN = UnknownRef()
Ref = Union[
    SiteRef, HolderRef, AttrNameRef, FamilyRef, ElementRef, ItemRef, SliceRef, ResultRef,
    UnknownRef,
]

# In an invocation's ``inputs`` and in the walker's environments: a value that is
# not the output of a tracked invocation (a parameter, a constant, an expression).
OTHER = -1


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
# Where an invocation's output goes: a consuming invocation's id, or ESCAPE.
Consumer = Union[int, Escape]

# Use kinds: what one occurrence of a reference to a module object does with it.
# The walker records them (``ModuleFacts.uses``); the analysis gives them meaning
# per kind of object (a mode switch freezes a norm but not a conv, say).
#
#   ("bind",)              bound to a holder (aliasing; the holder's uses count)
#   ("harmless",)          no effect on wiring or outputs: a type or truth test, a
#                          discarded value, a read of a data attribute (``.weight``,
#                          ``.out_channels``)
#   ("escape",)            the object may reach code the analysis does not model
#   ("output",)            used as a whole by code not modelled (its output goes
#                          there, nothing else: a container subclass's instances)
#   ("replaced",)          (on an attribute reference) assigned or deleted: the
#                          holders it may be may now hold anything
#   ("exported",)          held by a module-level name at the end of the module: a
#                          model there (a container, an instance) is run as a whole
#                          by whatever drives the program
#   ("member", seq)        an item of the container site ``seq``
#   ("list", lid)          an element of the local list ``lid`` being built
#   ("item", ref)          put into the collection(s) ``ref`` denotes (``ModuleList``)
#   ("call", inv)          called as a whole: invocation ``inv``
#   ("method", name, arg, scope)  method ``name`` called on it in function scope
#                          ``scope``; ``arg`` is the truth of its first argument:
#                          "none" (absent), "true", "false", "unknown" or "propagate"
#                          (a ``train(mode)`` override passing its own ``mode`` on)
#   ("attr", name)         a data attribute read (``.weight``, ``.out_channels``;
#                          for a container, maybe an item by name)
#   ("iter",)              iterated (what its items do is recorded on them)
#   ("guarded", classes, kind)  ``kind``, only for objects of these catalogued
#                          classes (under an ``isinstance`` test)
#   ("store", attr, value) ``obj.attr = value``; ``value`` a constant, or
#                          :data:`NOT_CONSTANT`
#   ("bias", how, scope)   its ``bias`` attribute read in function scope ``scope``:
#                          how is "value" (the tensor's values are used), "stored"
#                          (the values go into an attribute or a container), "test"
#                          (``is None``), "meta" (shape, dtype, ...) or "write"
#                          (initialised in place, ``nn.init.*_``, assigned)
#   ("stat", scope)        a norm's running statistics (``running_mean``) read or
#                          written in function scope ``scope`` (through the attribute,
#                          or an enumeration of its buffers)
#   ("inference", scope, fed)  run in inference mode by a call in function scope
#                          ``scope`` (``block(x, training=False)``); ``fed``: the
#                          call's output is the input of another module call
BIND = ("bind",)
HARMLESS = ("harmless",)
ESCAPED = ("escape",)
# A container whose items become reachable or change in a way not modelled
# (``seq.insert(...)``, ``model.pop()``, ``model.layers``): its items are unknown.
ITEMS_ESCAPED = ("items",)
SELF_ESCAPED = ("escape", "self")  # ``self`` handed to code not modelled by its class
CLASS_PATCHED = ("escape", "class")  # ``Net.forward = f``: the class itself changed
# ``net._modules``, ``net.__dict__``: the registries through which every holder of an
# instance (or every item of a container) is reached.
REGISTRY = ("escape", "registry")
# Handed to a function of the framework that may reach its submodules by name
# (``torch.ao.quantization.fuse_modules(net, [["conv", "bn"]])``).
HANDED = ("escape", "handed")
OUTPUT = ("output",)
EXPORTED = ("exported",)
REPLACED = ("replaced",)


def method_use(name: str, arg: str = "none", scope: int = -1) -> tuple[str, str, str, int]:
    return ("method", name, arg, scope)


def store_use(attr: str, value: object) -> tuple[str, str, object]:
    return ("store", attr, value)


def bias_use(how: str, scope: int) -> tuple[str, str, int]:
    return ("bias", how, scope)


def stat_use(scope: int) -> tuple[str, int]:
    return ("stat", scope)


def inference_use(scope: int, fed: bool) -> tuple[str, int, bool]:
    return ("inference", scope, fed)


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
# Env key prefix: the name may hold a tensor the code shows is not 2-D.
NOT_2D = "\0nd:"
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
    # Containers: the names its items can be reached by as attributes
    # (``OrderedDict`` keys, ``add_module`` names); None when not known.
    item_names: frozenset[str] | None = frozenset()
    # Containers: items that directly follow a layer whose output is not 2-D.
    after_not_2d: set = field(default_factory=set)
    # A container subclass's own items (``super().__init__(...)``): its class family.
    family: int | None = None


@dataclass
class Invocation:
    """One call of a module object (``self.conv(x)``).

    ``consumers``: the invocations whose sole input its output may be, or
    :data:`ESCAPE` (anything else).  ``inputs``: the invocations whose output its
    sole input may be, or :data:`OTHER`.  ``not_2d``: the code shows its input may
    have other than two dimensions (a 3-D ``view``, a ``transpose``...).
    """

    id: int
    callee: Ref
    consumers: set[int | Escape] = field(default_factory=set)
    inputs: set[int] = field(default_factory=set)
    scope: int = -1
    not_2d: bool = False
    # The call's arguments other than the input, as (keyword or ``#slot``,
    # constant or NOT_CONSTANT) pairs; ("*", NOT_CONSTANT): not a plain call.
    keywords: tuple = ()


@dataclass
class ScopeFacts:
    """A function scope: its name, where it sits, and the names it mentions as call
    targets or ``self`` attributes (the analysis follows them from ``forward``)."""

    name: str | None  # None: module level, a lambda or a comprehension
    parent: int | None
    family: int | None  # the class family of a method (with ``self``)
    mentions: set[str] = field(default_factory=set)


@dataclass
class FamilyFacts:
    """A class family: classes of the module related by inheritance."""

    names: set[str] = field(default_factory=set)
    methods: set[str] = field(default_factory=set)
    # Methods called on ``self`` (``self.name(...)``) that may not be holders.
    self_calls: set[str] = field(default_factory=set)
    # The container sites of ``super().__init__(...)`` in a container subclass.
    seq_sites: set[int] = field(default_factory=set)
    # A base class that is neither of this module nor the framework's module
    # base: its code (not in this file) runs with ``self``.
    unknown_bases: bool = False
    # The framework whose module base it derives from ("" when not known).
    framework: str = ""
    # A class the blocks stage blanked out: only its name is known here.
    ghost: bool = False


@dataclass
class ModuleFacts:
    sites: dict[int, Site] = field(default_factory=dict)
    uses: dict[Ref, set[tuple]] = field(default_factory=dict)
    bindings: dict[tuple, list[Ref]] = field(default_factory=dict)
    invocations: dict[int, Invocation] = field(default_factory=dict)
    dynamic_holders: set[tuple] = field(default_factory=set)
    list_elements: dict[int, set[Ref]] = field(default_factory=dict)
    escaped_lists: set[int] = field(default_factory=set)
    # Lists ``self`` was put into (escaping, they hand the instance on from inside
    # its class: its holders escape; another instance is only used as a whole).
    self_lists: set[int] = field(default_factory=set)
    # Helper functions returning a layer: inner site -> its call-site sites.
    factory_calls: dict[int, list[int]] = field(default_factory=dict)
    escaped_factories: set[int] = field(default_factory=set)
    scopes: dict[int, ScopeFacts] = field(default_factory=dict)
    families: dict[int, FamilyFacts] = field(default_factory=dict)
    # Names of functions that compute a module's output (``forward``, and what a
    # class body assigns to it): the analysis follows mentions from them.
    roots: set[str] = field(default_factory=set)
    # Functions of the module used as values (passed, stored): key (None, name).
    passed_functions: set[tuple] = field(default_factory=set)
    # Module objects passed to a class the blocks stage blanked out: a finding
    # involving them may depend on what that class does with them (the engine
    # then analyses the whole text).
    ghost_refs: dict[str, set] = field(default_factory=dict)  # ghost name -> refs



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
