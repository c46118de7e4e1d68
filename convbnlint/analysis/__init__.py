"""Pure functions over :class:`~convbnlint.ir.ModuleFacts` (no libcst here).

The question for a biased layer ``C``: where can the output of the module object
created at ``C`` go, and does everything that receives it subtract a mean that
has learnt ``C``'s bias?  An object is reached through references
(:mod:`.pointsto`); each recorded use of a reference is classified per object
(:mod:`.uses`); the runs of an object (its *entries*) carry outputs forward and
inputs backward (:mod:`.flow`).

``C`` is redundant-biased when

* nothing the code shows can reach ``C`` other than as wiring (no escape of
  ``C``, of a container it is in, or of an instance holding it);
* every run of ``C`` is known, its output goes only (through bias-transparent
  layers and containers) into cancelling norms, and there is at least one;
* every such norm ``N`` cancels ``C``'s family (and agrees on the channel count
  where the catalog asks), keeps learning its running mean (its arguments, no
  eval switch of ``N`` or of a part of the model holding ``N`` but not ``C``),
  does not escape (no hook, replacement, other caller), and is *exclusive*:
  every run of ``N`` gets its input only from ``C`` (else its running mean mixes
  other inputs and eval mode after training is not exactly cancelled).

Unknown anywhere means no finding.
"""

from __future__ import annotations

from dataclasses import dataclass

from convbnlint.analysis.flow import OUT, Flow
from convbnlint.analysis.pointsto import PointsTo
from convbnlint.analysis.uses import ESCAPE as ESCAPES
from convbnlint.analysis.uses import MODE, Uses
from convbnlint.catalog import Catalog, Framework, Role
from convbnlint.ir import ESCAPE, Escape, FamilyRef, HolderRef, ModuleFacts

__all__ = ["OUT", "Analysis", "Finding"]


@dataclass(frozen=True)
class Finding:
    site: int
    norms: tuple[int, ...]  # the cancelling norm sites that receive the output
    # Set when the bias is cancelled only on paths where this literal holds
    # (scope, name, kind, positive); see :func:`convbnlint.ir.bias_for`.
    literal: tuple | None = None
    fused: bool = False  # the layer's own norm (``LayerSpec.fused_norm``) cancels it


class Analysis(PointsTo, Uses, Flow):
    def __init__(
        self,
        facts: ModuleFacts,
        framework: Framework | None = None,
        catalog: Catalog | None = None,
    ) -> None:
        if framework is None or catalog is None:
            from convbnlint.catalog import default_catalog

            catalog = catalog or default_catalog()
            framework = framework or catalog.framework
        self.facts = facts
        self.framework = framework
        self.catalog = catalog
        self._init_pointsto()
        self._init_uses()
        self._init_flow()
        self._escapes: dict[object, bool] = {}

    # -- escapes and modes
    def escapes(self, obj: object, _active: frozenset = frozenset()) -> bool:
        """Code the analysis does not model may reach ``obj`` (or change it)."""
        hit = self._escapes.get(obj)
        if hit is not None:
            return hit
        if obj in _active:
            return False
        result = self._escapes_now(obj, _active | {obj})
        if not _active:
            self._escapes[obj] = result
        return result

    def _escapes_now(self, obj: object, active: frozenset) -> bool:
        if isinstance(obj, FamilyRef) and self.family_self_calls_escape(obj.family):
            return True
        for ref in self.aliases(obj):
            if isinstance(ref, HolderRef) and self.is_dynamic(ref.holder):
                return True
            for use in self.facts.uses.get(ref, ()):
                if self.effect(use, obj) == ESCAPES:
                    return True
        for owner in self.owners(obj):
            if isinstance(obj, FamilyRef) and not isinstance(owner, FamilyRef):
                # An instance that is an item of a container reached by code we do
                # not model is used by it as a whole (like any user of the class);
                # an instance held by one whose internals escape is reached too.
                continue
            if self.escapes(owner, active):
                return True
        return False

    def switched(self, obj: object) -> bool:
        """Some use switches ``obj`` itself to eval (or an unknown) mode."""
        for ref in self.aliases(obj):
            for use in self.facts.uses.get(ref, ()):
                if self.effect(use, obj) == MODE:
                    return True
        return False

    def frozen(self, norm: int, layer: int) -> bool:
        """``norm`` may run in eval mode while ``layer`` trains: switched itself, or
        a container/instance holding it but not ``layer`` is."""
        if self.switched(norm):
            return True
        todo, seen = list(self.owners(norm)), set()
        while todo:
            owner = todo.pop()
            if owner in seen:
                continue
            seen.add(owner)
            if self.switched(owner) and layer not in self.reach(
                owner if isinstance(owner, FamilyRef) else _site_ref(owner)
            ):
                return True
            todo.extend(self.owners(owner))
        return False

    # -- what receives an output
    def norm_entries(
        self, consumer: object, _depth: int = 0, _into: frozenset[str] | None = None
    ) -> list[tuple[int, tuple]] | None:
        """The (norm site, entry) pairs ``consumer`` starts with, or None if it does
        not always start with a cancelling norm.

        A bias-transparent layer (pooling, upsampling, ``Identity``...) passes the
        question on to wherever its own output (from this run) goes.
        """
        if isinstance(consumer, Escape) or _depth > 20:
            return None
        assert isinstance(consumer, tuple)
        objs = self.entry_objects(consumer)
        if not objs:
            return None
        keywords = self.facts.invocations[consumer[1]].keywords if consumer[0] == "inv" else ()
        found: list[tuple[int, tuple]] = []
        for obj in sorted(objs, key=repr):
            if isinstance(obj, FamilyRef):
                return None
            site = self.facts.sites[obj]
            role = site.spec.role
            if keywords and role is not Role.CANCELLING_NORM:
                return None  # more than the input: where its output goes is unknown
            if role is Role.CANCELLING_NORM:
                if _into is not None and site.spec.qualname not in _into:
                    return None
                if not _call_ok(site.spec, keywords):
                    return None
                found.append((obj, consumer))
            elif role is Role.SEQUENTIAL and self.items(obj) is not None:
                graph = self.items(obj)
                if graph.may_empty or not graph.firsts or self.escapes(obj):
                    return None
                for first in graph.firsts:
                    inner = self.norm_entries(("member", obj, first), _depth + 1, _into)
                    if inner is None:
                        return None
                    found.extend(inner)
            elif role is Role.TRANSPARENT and site.transparent and not self.escapes(obj):
                into = site.spec.transparent_into or None
                if _into is not None:
                    into = _into if into is None else frozenset(into) & _into
                consumers = self.consumers(consumer)
                if not consumers:
                    return None
                for nxt, _ in consumers:
                    inner = self.norm_entries(
                        nxt, _depth + 1, frozenset(into) if into is not None else None
                    )
                    if inner is None:
                        return None
                    found.extend(inner)
            else:
                return None
        return found

    def items(self, seq: int):  # type: ignore[no-untyped-def]
        """A container site's item graph; None when not known (or its own
        arguments fail the catalog's conditions: ``Sequential(..., trainable=False)``)."""
        site = self.facts.sites[seq]
        if site.items is None or not site.when_ok:
            return None
        return site.items

    def exclusive(self, norm: int, layer: int) -> bool:
        """Every run of ``norm`` gets its input from ``layer`` only."""
        entries = self.entries(norm)
        if not entries:
            return False
        origins: set = set()
        for e in entries:
            got = self.in_origins(e)
            if got is None:
                return False
            origins |= got
        if origins == {layer}:
            return True
        if len(origins) != 1:
            return False
        (origin,) = origins
        if not (isinstance(origin, tuple) and origin[0] == "ref"):
            return False
        objs = self.objects(origin[1])
        return objs is not None and layer in objs

    def cancels(self, layer: int, found: list[tuple[int, tuple]]) -> bool:
        """Every norm cancels this layer's bias, in train mode and in eval mode
        after training (see the module docstring)."""
        site = self.facts.sites[layer]
        family = site.spec.family
        for n in dict.fromkeys(obj for obj, _ in found):
            norm = self.facts.sites[n]
            if family not in norm.spec.cancels:
                return False
            if site.spec.framework != norm.spec.framework:
                return False  # (a torch conv cannot feed a Keras norm)
            if not layouts_agree(site, norm):
                return False
            if (
                family != "conv"
                and norm.spec.channels_param is not None
                and (norm.channels is None or norm.channels != site.channels)
            ):
                return False
            if not norm.when_ok or self.escapes(n) or self.frozen(n, layer):
                return False
            if not self.exclusive(n, layer):
                return False
        return True

    def layer_consumers(self, site: int) -> set[tuple[object, frozenset]] | None:
        """Where the outputs of every run of ``site`` go; None when anything escapes."""
        if self.escapes(site):
            return None
        entries = self.entries(site)
        if not entries:
            return None
        spec = self.facts.sites[site].spec
        out: set[tuple[object, frozenset]] = set()
        for entry in entries:
            if spec.family == "linear" and self.shown_not_2d(entry):
                return None
            got = self.consumers(entry)
            if got is None:
                return None
            out |= got
        return out

    def shown_not_2d(self, entry: tuple) -> bool:
        """The code shows this run's input may not be 2-D (Linear -> BatchNorm1d)."""
        if entry[0] == "inv":
            return self.facts.invocations[entry[1]].not_2d
        if entry[0] == "member":
            return entry[2] in self.facts.sites[entry[1]].after_not_2d
        return True

    # -- the question
    def redundant_bias(self, site: int) -> Finding | None:
        spec_site = self.facts.sites[site]
        if spec_site.spec.role is not Role.BIASED or not spec_site.bias.enabled:
            return None
        if not spec_site.when_ok:
            return None
        if spec_site.spec.fused_norm is not None:
            return Finding(site, (), fused=True)  # normalized inside the same module
        consumers = self.layer_consumers(site)
        if not consumers:
            return None
        norms: list[int] = []
        for consumer, _ in consumers:
            found = self.norm_entries(consumer)
            if found is None or not self.cancels(site, found):
                return self.conditional(site, consumers)
            norms.extend(n for n, _ in found)
        return Finding(site, tuple(sorted(set(norms))))

    def conditional(
        self, site: int, consumers: set[tuple[object, frozenset]]
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
                found = self.norm_entries(consumer)
                if found is None or not self.cancels(site, found):
                    break
                norms.extend(n for n, _ in found)
            else:
                return Finding(site, tuple(sorted(set(norms))), literal=lit)
        return None

    def relevant_names(
        self, findings: list[Finding]
    ) -> tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]:
        """What code not analysed (blocks the stages blanked) could take these
        findings away through: the attribute names of the holders and items of the
        objects involved and of what holds them, and the names of the functions
        whose reads of those layers' biases count only if something computing an
        output calls them; the blanked classes and functions an object involved
        was handed to; and the names of the classes of the instances involved
        (code making one may use it in any way).  See
        ``syntax.stages.Plan.widened``."""
        objs: set = set()
        for f in findings:
            objs.add(f.site)
            objs.update(f.norms)
        todo = list(objs)
        while todo:  # what holds them
            obj = todo.pop()
            for owner in self.owners(obj):
                if owner not in objs:
                    objs.add(owner)
                    todo.append(owner)
        for o in list(objs):  # and what those hold
            objs |= self.reach(o if isinstance(o, FamilyRef) else _site_ref(o))
        attrs: set[str] = set()
        scopes: set[str] = set()
        for holder in self.facts.bindings:
            if holder[0] == "attr" and self.may_objects(HolderRef(holder)) & objs:
                attrs.add(holder[2])
        for o in objs:
            if isinstance(o, int):
                item_names = self.facts.sites[o].item_names
                if item_names:
                    attrs |= item_names
                for ref in self.aliases(o):
                    for use in self.facts.uses.get(ref, ()):
                        kind = use[2] if use[0] == "guarded" else use
                        if kind[0] == "bias" and kind[2] in self.facts.scopes:
                            name = self.facts.scopes[kind[2]].name
                            if name is not None:
                                scopes.add(name)  # (reached by a call by that name)
        ghosts = frozenset(
            name
            for name, refs in self.facts.ghost_refs.items()
            if any(self.may_objects(ref) & objs for ref in refs)
        )
        classes: set[str] = set()
        for o in objs:
            family = o.family if isinstance(o, FamilyRef) else self.facts.sites[o].family
            if family is not None and family in self.facts.families:
                classes |= self.facts.families[family].names
        return frozenset(attrs), frozenset(scopes), ghosts, frozenset(classes)

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


def layouts_agree(layer, norm) -> bool:  # type: ignore[no-untyped-def]
    """The norm normalizes the axis the layer's channels are on."""
    if layer.spec.layout is None and norm.spec.layout is None:
        return True  # channels first on both sides (torch and its kin)
    if layer.spec.layout is None or norm.spec.layout is None:
        return False
    if layer.axes is None or norm.axes is None or len(norm.axes) != 1:
        return False
    return norm.axes[0] in layer.axes


def _call_ok(spec, keywords: tuple) -> bool:  # type: ignore[no-untyped-def]
    """A norm applied with more than its input: the catalog allows these arguments."""
    if not keywords and not spec.call_when:
        return True
    from convbnlint.facts.arguments import keywords_hold  # (pure; its module imports libcst)

    if any(name not in spec.call_params for name, _ in keywords):
        return False
    return keywords_hold(keywords, spec.call_when)


def _site_ref(site: object) -> object:
    from convbnlint.ir import SiteRef

    return SiteRef(site)  # type: ignore[arg-type]


# Re-exported for callers that name the sentinel through the analysis.
_ = ESCAPE
