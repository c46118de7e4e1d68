"""Where outputs go and where inputs come from, per *entry*.

An entry is one way an object is run: ``("inv", i)`` (invocation ``i`` of the
walker's facts), ``("member", S, ref)`` (the item ``ref`` of container site
``S``, run whenever ``S`` runs) or :data:`OUT` (run by code not modelled).
Forward: :meth:`Flow.consumers` (the entries an entry's output goes to, with the
path condition, or :data:`~convbnlint.ir.ESCAPE`).  Backward:
:meth:`Flow.in_origins` (the biased sites whose outputs an entry's input can
carry, through bias-transparent layers and containers; None when anything else
may reach it).
"""

from __future__ import annotations

from convbnlint.catalog import Role
from convbnlint.ir import ESCAPE, OTHER, FamilyRef, ModuleFacts

OUT = ("out",)


class Flow:
    facts: ModuleFacts

    def _init_flow(self) -> None:
        self._entries: dict[object, list[tuple] | None] = {}
        self._in: dict[tuple, frozenset | None] = {}

    def entries(self, obj: object) -> list[tuple]:
        """Every way ``obj`` is run (empty when it is never run where we see)."""
        hit = self._entries.get(obj)
        if hit is not None:
            return hit
        out: list[tuple] = []
        for ref in self.aliases(obj):  # type: ignore[attr-defined]
            for use in self.facts.uses.get(ref, ()):
                kind = use
                if kind[0] == "guarded":
                    if not (isinstance(obj, int) and self.facts.sites[obj].spec.qualname in kind[1]):
                        continue
                    kind = kind[2]
                if kind[0] == "call":
                    out.append(("inv", kind[1]))
                elif kind[0] == "member":
                    out.append(("member", kind[1], ref))
                elif kind[0] == "output" or (
                    kind[0] == "exported" and self.effect(kind, obj) == "output"  # type: ignore[attr-defined]
                ):
                    out.append(OUT)
        out = list(dict.fromkeys(out))
        self._entries[obj] = out
        return out

    def entry_ref(self, entry: tuple) -> object | None:
        """The reference an entry runs, when it holds a single object per instance
        of its class (an attribute holder, a constructor call, a local)."""
        from convbnlint.ir import HolderRef, SiteRef

        ref = self.facts.invocations[entry[1]].callee if entry[0] == "inv" else entry[2]
        if isinstance(ref, SiteRef) or (
            isinstance(ref, HolderRef) and ref.holder[0] in ("attr", "local")
        ):
            return ref
        return None

    def entry_objects(self, entry: tuple) -> frozenset | None:
        if entry[0] == "inv":
            return self.objects(self.facts.invocations[entry[1]].callee)  # type: ignore[attr-defined]
        if entry[0] == "member":
            return self.objects(entry[2])  # type: ignore[attr-defined]
        return None

    # -- forward
    def consumers(
        self, entry: tuple, _active: frozenset = frozenset()
    ) -> set[tuple[object, frozenset]] | None:
        """Where the output of ``entry`` goes: (entry or ESCAPE, path condition)."""
        none: frozenset = frozenset()
        if entry == OUT:
            return {(ESCAPE, none)}
        if entry[0] == "inv":
            out: set[tuple[object, frozenset]] = set()
            for c in self.facts.invocations[entry[1]].consumers:
                out.add((ESCAPE, none) if c is ESCAPE else (("inv", c), none))
            return out
        _, seq, ref = entry
        if entry in _active:
            return None
        items = self.facts.sites[seq].items
        if items is None:
            return None
        out = {(("member", seq, b), cond) for b, cond in items.successors(ref)}
        if ref in items.lasts:
            for outer in self.entries(seq):
                inner = self.consumers(outer, _active | {entry})
                if inner is None:
                    return None
                out |= inner
        return out

    # -- backward
    def feeders(self, entry: tuple) -> list[tuple] | None:
        """The entries whose output ``entry``'s input may be; None: something else."""
        if entry == OUT:
            return None
        if entry[0] == "inv":
            inputs = self.facts.invocations[entry[1]].inputs
            if not inputs or OTHER in inputs:
                return None
            return [("inv", p) for p in inputs]
        _, seq, ref = entry
        items = self.facts.sites[seq].items
        if items is None:
            return None
        out = [("member", seq, a) for a, b, _ in items.edges if b == ref]
        if ref in items.firsts:
            outer = self.entries(seq)
            if not outer:
                return None
            for e in outer:
                inner = self.feeders(e)
                if inner is None:
                    return None
                out.extend(inner)
        return out

    def in_origins(self, entry: tuple, _active: frozenset = frozenset()) -> frozenset | None:
        """The biased sites whose output the input of ``entry`` may carry."""
        if entry in self._in:
            return self._in[entry]
        if entry in _active:
            return frozenset()  # a cycle adds nothing new
        feeders = self.feeders(entry)
        result: frozenset | None
        if feeders is None or not feeders:
            result = None
        else:
            acc: frozenset = frozenset()
            result = acc
            for f in feeders:
                got = self.out_origins(f, _active | {entry})
                if got is None:
                    result = None
                    break
                acc = acc | got
                result = acc
        if not _active:
            self._in[entry] = result
        return result

    def out_origins(self, entry: tuple, _active: frozenset) -> frozenset | None:
        """The biased layers whose output the output of ``entry`` may carry: a site
        id, or ``("ref", R)`` for a reference that holds one object per instance
        (``self.conv`` assigned one of several layers in different branches)."""
        objs = self.entry_objects(entry)
        if not objs:
            return None
        if all(
            not isinstance(o, FamilyRef) and self.facts.sites[o].spec.role is Role.BIASED
            for o in objs
        ):
            ref = self.entry_ref(entry)
            if len(objs) > 1 and ref is not None:
                return frozenset({("ref", ref)})
            return frozenset(objs)
        out: frozenset = frozenset()
        for obj in objs:
            if isinstance(obj, FamilyRef):
                return None
            site = self.facts.sites[obj]
            role = site.spec.role
            if role is Role.BIASED:
                out |= {obj}
            elif role is Role.TRANSPARENT and site.transparent and not self.escapes(obj):  # type: ignore[attr-defined]
                got = self.in_origins(entry, _active)
                if got is None:
                    return None
                out |= got
            elif role is Role.SEQUENTIAL and site.items is not None and site.items.lasts:
                for last in site.items.lasts:
                    got = self.out_origins(("member", obj, last), _active)
                    if got is None:
                        return None
                    out |= got
                if site.items.may_empty:
                    got = self.in_origins(entry, _active)
                    if got is None:
                        return None
                    out |= got
            else:
                return None
        return out
