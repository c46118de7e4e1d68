"""Pure functions over :class:`~convbnlint.ir.ModuleFacts` (no libcst here).

The question for a biased layer ``S``: where can the output of the module object
created at ``S`` go?  Its object may be referred to directly (the constructor
call) or through holders bound to it.  Each occurrence of such a reference is
either harmless, a binding (aliasing), an item of a container (its output goes to
the next item, or for the last item to wherever the container's output goes), a
call (its output goes to that invocation's consumers) or an escape.

``S`` is redundant-biased when every possible consumer of every output is known,
there is at least one, and each consumer is definitely a cancelling norm (or a
container whose first item is one).  Unknown anywhere means no finding.
"""

from __future__ import annotations

from dataclasses import dataclass

from convbnlint.catalog import Role
from convbnlint.ir import (
    ESCAPE,
    ITEMS_ESCAPED,
    CallInput,
    Consumer,
    Escape,
    HolderRef,
    ModuleFacts,
    Ref,
    SiteRef,
    UnknownRef,
)


@dataclass(frozen=True)
class Finding:
    site: int
    norms: tuple[int, ...]  # the cancelling norm sites that receive the output
    # Set when the bias is cancelled only on paths where this literal holds
    # (scope, name, kind, positive); see :func:`convbnlint.ir.bias_for`.
    literal: tuple | None = None
    fused: bool = False  # the layer's own norm (``LayerSpec.fused_norm``) cancels it


class Analysis:
    def __init__(self, facts: ModuleFacts) -> None:
        self.facts = facts
        self._objects: dict[Ref, frozenset[int] | None] = {}
        self._aliases: dict[int, list[Ref]] | None = None

    # -- what a reference may denote
    def objects(self, ref: Ref, _active: frozenset[Ref] = frozenset()) -> frozenset[int] | None:
        """The sites whose objects ``ref`` may denote; None when not fully known."""
        if isinstance(ref, SiteRef):
            return frozenset({ref.site})
        if isinstance(ref, UnknownRef):
            return None
        if ref in self._objects:
            return self._objects[ref]
        if ref in _active:
            return None
        holder = ref.holder
        result: frozenset[int] | None = frozenset()
        if self._is_dynamic(holder):
            result = None
        bindings = self.facts.bindings.get(holder, [])
        if not bindings:
            result = None
        for bound in bindings:
            if result is None:
                break
            objs = self.objects(bound, _active | {ref})
            result = None if objs is None else result | objs
        if not _active:
            self._objects[ref] = result
        return result

    def _is_dynamic(self, holder: tuple) -> bool:
        return holder[0] == "attr" and ("attr", holder[1]) in self.facts.dynamic_holders

    def aliases(self, site: int) -> list[Ref]:
        """Every reference that may denote the object created at ``site``."""
        if self._aliases is None:
            table: dict[int, list[Ref]] = {}
            for holder in self.facts.bindings:
                ref = HolderRef(holder)
                for obj in self._may_objects(ref):
                    table.setdefault(obj, []).append(ref)
            self._aliases = table
        return [SiteRef(site), *self._aliases.get(site, [])]

    def _may_objects(self, ref: Ref, _seen: frozenset[Ref] = frozenset()) -> set[int]:
        """Sites a reference may denote, ignoring unknown parts (over-approximation)."""
        if isinstance(ref, SiteRef):
            return {ref.site}
        if isinstance(ref, UnknownRef) or ref in _seen:
            return set()
        out: set[int] = set()
        for bound in self.facts.bindings.get(ref.holder, []):
            out |= self._may_objects(bound, _seen | {ref})
        return out

    # -- where outputs go
    def output_consumers(
        self, site: int, _active: frozenset[int] = frozenset()
    ) -> set[Consumer] | None:
        found = self.conditioned_consumers(site, _active)
        return None if found is None else {c for c, _ in found}

    def conditioned_consumers(
        self, site: int, _active: frozenset[int] = frozenset()
    ) -> set[tuple[Consumer, frozenset]] | None:
        """Consumers of the outputs, each with the path condition it holds under."""
        """Consumers of the outputs of ``site``'s object; None when any escapes."""
        if site in _active:
            return None
        active = _active | {site}
        consumers: set[tuple[Consumer, frozenset]] = set()
        none: frozenset = frozenset()
        for ref in self.aliases(site):
            if isinstance(ref, HolderRef) and self._is_dynamic(ref.holder):
                return None
            for use in self.facts.uses.get(ref, ()):
                kind = use[0]
                if kind in ("bind", "harmless"):
                    continue
                if kind == "escape":
                    return None
                if kind == "list":
                    continue  # escapes of lists were turned into escapes of their items
                if kind == "items":
                    continue  # (its container's items are unknown: see items())
                if kind == "member":
                    seq = use[1]
                    items = self.items(seq)
                    if items is None:
                        return None
                    consumers |= items.successors(ref)
                    if ref in items.lasts:
                        inner = self.conditioned_consumers(seq, active)
                        if inner is None:
                            return None
                        consumers |= inner
                elif kind == "call":
                    inv = self.facts.invocations[use[1]]
                    if ESCAPE in inv.consumers:
                        return None
                    consumers |= {(c, none) for c in inv.consumers}
                else:  # pragma: no cover - defensive
                    return None
        return consumers

    def items(self, seq: int):  # type: ignore[no-untyped-def]
        """A container site's item graph; None when not known (built in a way not
        modelled, its items reached or changed elsewhere, or its own arguments
        fail the catalog's conditions: ``Sequential(..., trainable=False)``)."""
        site = self.facts.sites[seq]
        if site.items is None or not site.when_ok:
            return None
        for ref in self.aliases(seq):
            if ITEMS_ESCAPED in self.facts.uses.get(ref, ()):
                return None
        return site.items

    def changed(self, site: int) -> bool:
        """The object was changed in place somewhere (``bn.trainable = False``)."""
        return any(ITEMS_ESCAPED in self.facts.uses.get(ref, ()) for ref in self.aliases(site))

    # -- what a consumer is
    def first_norms(
        self, ref: Consumer, _depth: int = 0, _into: frozenset[str] | None = None
    ) -> tuple[int, ...] | None:
        """The cancelling-norm sites ``ref`` starts with, or None if not always one.

        A bias-transparent layer (pooling, upsampling, ``Identity``...) passes the
        question on to wherever its own output goes.  A call that passes more than
        the input (:class:`CallInput`) reaches a norm only when the norm's catalog
        entry allows those arguments (``call_params``, ``call_when``).
        """
        if isinstance(ref, (Escape, UnknownRef)) or _depth > 20:
            return None
        keywords = None
        if isinstance(ref, CallInput):
            keywords = ref.keywords
            ref = ref.ref
        objs = self.objects(ref)
        if not objs:
            return None
        norms: list[int] = []
        for obj in sorted(objs):
            site = self.facts.sites[obj]
            role = site.spec.role
            if keywords is not None and role is not Role.CANCELLING_NORM:
                return None
            if role is Role.CANCELLING_NORM:
                if _into is not None and site.spec.qualname not in _into:
                    return None
                if not site.when_ok or self.changed(obj):
                    return None
                if keywords is not None and not self._call_ok(site.spec, keywords):
                    return None
                if keywords is None and site.spec.call_when and not self._call_ok(site.spec, ()):
                    return None
                norms.append(obj)
            elif role is Role.SEQUENTIAL and self.items(obj) is not None:
                graph = self.items(obj)
                if graph.may_empty or not graph.firsts:
                    return None
                for first in graph.firsts:
                    inner = self.first_norms(first, _depth + 1, _into)
                    if inner is None:
                        return None
                    norms.extend(inner)
            elif role is Role.TRANSPARENT and site.transparent:
                into = site.spec.transparent_into or None
                if _into is not None:
                    into = _into if into is None else frozenset(into) & _into
                consumers = self.output_consumers(obj)
                if not consumers:
                    return None
                for consumer in consumers:
                    inner = self.first_norms(
                        consumer, _depth + 1, frozenset(into) if into is not None else None
                    )
                    if inner is None:
                        return None
                    norms.extend(inner)
            else:
                return None
        return tuple(norms)

    @staticmethod
    def _call_ok(spec, keywords: tuple) -> bool:  # type: ignore[no-untyped-def]
        from convbnlint.facts.arguments import keywords_hold

        if any(name not in spec.call_params for name, _ in keywords):
            return False
        return keywords_hold(keywords, spec.call_when)

    # -- the question
    def redundant_bias(self, site: int) -> Finding | None:
        spec_site = self.facts.sites[site]
        if spec_site.spec.role is not Role.BIASED or not spec_site.bias.enabled:
            return None
        if not spec_site.when_ok:
            return None
        if spec_site.spec.fused_norm is not None:
            return Finding(site, (), fused=True)  # normalized inside the same module
        consumers = self.conditioned_consumers(site)
        if not consumers:
            return None
        norms: list[int] = []
        for consumer, _ in consumers:
            found = self.first_norms(consumer)
            if found is None or not self.cancels(site, found):
                return self.conditional(site, consumers)
            norms.extend(found)
        return Finding(site, tuple(sorted(set(norms))))

    def cancels(self, site: int, norms: tuple[int, ...]) -> bool:
        """Every norm cancels this layer family's bias (and agrees on channels
        where the catalog asks: a Linear's out_features is BatchNorm1d's features)."""
        layer = self.facts.sites[site]
        family = layer.spec.family
        for n in norms:
            norm = self.facts.sites[n]
            if family not in norm.spec.cancels:
                return False
            if layer.spec.framework != norm.spec.framework:
                return False  # (a torch conv cannot feed a Keras norm)
            if not self.layouts_agree(layer, norm):
                return False
            if (
                family != "conv"
                and norm.spec.channels_param is not None
                and (norm.channels is None or norm.channels != layer.channels)
            ):
                return False
        return True

    @staticmethod
    def layouts_agree(layer, norm) -> bool:  # type: ignore[no-untyped-def]
        """The norm normalizes the axis the layer's channels are on."""
        if layer.spec.layout is None and norm.spec.layout is None:
            return True  # channels first on both sides (torch and its kin)
        if layer.spec.layout is None or norm.spec.layout is None:
            return False
        if layer.axes is None or norm.axes is None or len(norm.axes) != 1:
            return False
        return norm.axes[0] in layer.axes

    def conditional(
        self, site: int, consumers: set[tuple[Consumer, frozenset]]
    ) -> Finding | None:
        """A norm follows exactly on the paths where one parameter test holds."""
        literals = sorted({lit for _, cond in consumers for lit in cond}, key=repr)
        for lit in literals:
            if lit[0] != self.facts.sites[site].scope:
                continue
            neg = (lit[0], lit[1], lit[2], not lit[3])
            under = [c for c, cond in consumers if lit in cond]
            if not under or any(lit not in cond and neg not in cond for _, cond in consumers):
                continue
            norms: list[int] = []
            for consumer in under:
                found = self.first_norms(consumer)
                if found is None or not self.cancels(site, found):
                    break
                norms.extend(found)
            else:
                return Finding(site, tuple(sorted(set(norms))), literal=lit)
        return None

    def findings(self) -> list[Finding]:
        """Findings in site order.

        A helper function that returns a layer (``def conv3x3(...): return
        nn.Conv2d(...)``) is reported once, inside the helper, when every call of it
        is a finding; otherwise each call that is a finding is reported where it is.
        """
        found: dict[int, Finding] = {}
        for sid in sorted(self.facts.sites):
            finding = self.redundant_bias(sid)
            if finding is not None:
                found[sid] = finding
        for inner, calls in self.facts.factory_calls.items():
            site = self.facts.sites[inner]
            all_calls = all(c in found and found[c].literal is None for c in calls)
            if (
                calls
                and all_calls
                and inner not in self.facts.escaped_factories
                and site.bias.enabled
            ):
                norms = tuple(sorted({n for c in calls for n in found[c].norms}))
                for c in calls:
                    del found[c]
                found[inner] = Finding(inner, norms)
        return [found[sid] for sid in sorted(found)]
