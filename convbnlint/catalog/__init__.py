"""Layer catalogs: pure data describing framework classes.

A catalog says which classes create a layer with a bias (and where that bias
argument sits), which normalizations subtract a per-channel mean (and so cancel
such a bias), and which classes are ordered containers.  The engine never names a
framework; it only asks the catalog.  A new framework (Keras, Flax, Paddle) is a
new module in this package registered in :data:`CATALOGS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import AnyStr
from enum import Enum


class Role(str, Enum):
    """What a catalogued class does, as far as the analysis cares."""

    BIASED = "biased"  # a layer with an optional per-channel bias (conv, linear)
    CANCELLING_NORM = "cancelling_norm"  # subtracts a per-channel mean
    SEQUENTIAL = "sequential"  # calls its positional children in order
    # op(x + b) == op(x) + b for every per-channel constant b (and every input),
    # possibly only under conditions on its arguments (``transparent_when``).
    TRANSPARENT = "transparent"


@dataclass(frozen=True)
class ArgIs:
    """A condition on one constructor argument: its constant value is one of
    ``values``; an absent argument satisfies it when ``absent_ok``."""

    param: str
    index: int | None
    values: tuple[object, ...]
    absent_ok: bool = True


@dataclass(frozen=True)
class LayerSpec:
    """One framework class.

    ``qualname`` is the canonical dotted name; ``aliases`` are other import paths
    of the same class.  For ``Role.BIASED`` layers, ``bias_param`` names the bias
    argument, ``bias_index`` is its 0-based positional slot (``None`` when it is
    keyword-only) and ``bias_default`` whether it is on when absent.  ``family``
    groups layers for rule selection ("conv", "linear").
    """

    qualname: str
    role: Role
    family: str = ""
    bias_param: str = "bias"
    bias_index: int | None = None
    bias_default: bool = True
    aliases: tuple[str, ...] = ()
    # TRANSPARENT only: alternatives (any may hold) of conditions (all must hold);
    # empty means always transparent.
    transparent_when: tuple[tuple[ArgIs, ...], ...] = ()
    # TRANSPARENT only: if set, the norm that follows must be one of these.
    transparent_into: tuple[str, ...] = ()
    # CANCELLING_NORM only: the biased-layer families whose bias it cancels.
    cancels: tuple[str, ...] = ("conv",)
    # BIASED: the output-channel argument; CANCELLING_NORM: the channel argument.
    # Used where the math holds only if they agree (Linear -> BatchNorm1d).
    channels_param: str | None = None
    channels_index: int | None = None

    @property
    def name(self) -> str:
        return self.qualname.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Framework:
    """How a framework's module classes behave, as far as the walker cares.

    The walker names no framework: it asks these sets.  A merged catalog's
    vocabulary is the union of its frameworks' (:func:`merge`), which is sound
    where the sets list what makes a use *known* (a harmless read, a forward
    method) only if every merged framework agrees; keep such sets conservative.
    """

    name: str
    # Methods that are a module's forward computation (what calling it runs).
    forward_methods: frozenset[str] = frozenset()
    # Methods where submodules are created and assigned to attributes.
    init_methods: frozenset[str] = frozenset({"__init__"})
    # Attribute reads on a module object that route its output elsewhere.
    output_attrs: frozenset[str] = frozenset()
    # Methods of a module that enumerate its submodules or parameters.
    submodule_enumerators: frozenset[str] = frozenset()
    # Methods that register a submodule under a name: ``add_module(name, m)``.
    submodule_registrars: frozenset[str] = frozenset()
    # Attributes that expose every submodule by name (``__dict__``, ``_modules``).
    dynamic_attrs: frozenset[str] = frozenset({"__dict__"})
    # Attribute reads and method calls on a tensor that do not depend on its values.
    tensor_meta_attrs: frozenset[str] = frozenset()
    tensor_meta_methods: frozenset[str] = frozenset()

    def union(self, other: Framework) -> Framework:
        return Framework(
            f"{self.name}+{other.name}",
            self.forward_methods | other.forward_methods,
            self.init_methods | other.init_methods,
            self.output_attrs | other.output_attrs,
            self.submodule_enumerators | other.submodule_enumerators,
            self.submodule_registrars | other.submodule_registrars,
            self.dynamic_attrs | other.dynamic_attrs,
            self.tensor_meta_attrs | other.tensor_meta_attrs,
            self.tensor_meta_methods | other.tensor_meta_methods,
        )


@dataclass(frozen=True)
class Catalog:
    """A framework's layer table plus the byte tokens that prefilter files."""

    framework: Framework
    specs: tuple[LayerSpec, ...]
    # A file none of whose bytes contain any of these cannot hold a finding.
    prefilter_tokens: tuple[bytes, ...]
    by_name: dict[str, LayerSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        table: dict[str, LayerSpec] = {}
        for spec in self.specs:
            table[spec.qualname] = spec
            for alias in spec.aliases:
                table[alias] = spec
        object.__setattr__(self, "by_name", table)

    def lookup(self, qualname: str) -> LayerSpec | None:
        return self.by_name.get(qualname)


def common_substring(items: Sequence[AnyStr]) -> AnyStr:
    """The longest substring every item contains (empty if none), for str or bytes.

    Used to scan once for what every token of a stage shares (e.g. ``Norm``).
    """
    shortest = min(items, key=len)
    for size in range(len(shortest), 0, -1):
        for start in range(len(shortest) - size + 1):
            part = shortest[start : start + size]
            if all(part in item for item in items):
                return part
    return shortest[:0]


def merge(*catalogs: Catalog) -> Catalog:
    specs: list[LayerSpec] = []
    tokens: list[bytes] = []
    framework = catalogs[0].framework
    for cat in catalogs:
        specs.extend(cat.specs)
        tokens.extend(t for t in cat.prefilter_tokens if t not in tokens)
        if cat is not catalogs[0]:
            framework = framework.union(cat.framework)
    return Catalog(framework, tuple(specs), tuple(tokens))


def default_catalog() -> Catalog:
    from convbnlint.catalog import torch

    return torch.CATALOG
