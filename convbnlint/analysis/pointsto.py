"""What a reference may denote, and every reference that may denote an object.

Objects are catalogued layer sites (``int``) and instances of the module's class
families (:class:`~convbnlint.ir.FamilyRef`; a container subclass's instances are
its ``super().__init__`` container sites).  :meth:`PointsTo.objects` is the
*must* view (None when anything unknown may be there: a callee or a consumer
must be known exactly); :meth:`PointsTo.may_objects` the *may* view used to find
every alias of an object (unknown parts are ignored: they cannot be our objects,
whose every way out is itself a recorded use).

The may view is solved once for every reference of the module, as a fixpoint of
monotone equations (a reference may denote what anything bound to it may; an
item reference what its container's items may...), together with
:meth:`PointsTo.may_be_foreign` (a reference may hold an object the walker does
not follow).
"""

from __future__ import annotations

from collections.abc import Iterable

from convbnlint.catalog import Role
from convbnlint.ir import (
    AttrNameRef,
    GIVEN_BACK,
    ElementRef,
    FamilyRef,
    HolderRef,
    ItemRef,
    ModuleFacts,
    Ref,
    ResultRef,
    SiteRef,
    SliceRef,
    UnknownRef,
)

Obj = object  # int (a site) or FamilyRef
_EMPTY: frozenset = frozenset()


class PointsTo:
    facts: ModuleFacts

    def _init_pointsto(self) -> None:
        self._must: dict[object, frozenset | None] = {}
        self._aliases: dict[Obj, list[Ref]] | None = None
        # attr holders by name (the name-based ``obj.name`` channel)
        self._by_name: dict[str, list[tuple]] = {}
        self._family_holders: dict[int, list[tuple]] = {}
        for holder in self.facts.bindings:
            if holder[0] == "attr":
                self._by_name.setdefault(holder[2], []).append(holder)
                self._family_holders.setdefault(holder[1], []).append(holder)
        self._may: dict[object, frozenset] = {}
        self._foreign: dict[object, bool] = {}
        self._reach: dict[object, frozenset] = {}
        self._added: dict[object, set] = {}
        self._solved = False
        self._replaced_refs = [
            ref
            for ref, uses in self.facts.uses.items()
            if isinstance(ref, AttrNameRef) and ("replaced",) in uses
        ]

    # -- families
    def seq_sites(self, family: int) -> frozenset[int]:
        facts = self.facts.families.get(family)
        return frozenset(facts.seq_sites) if facts is not None else _EMPTY

    def family_instance(self, family: int) -> frozenset:
        """The objects an instance of ``family`` is: its container sites, or itself."""
        seq = self.seq_sites(family)
        return seq if seq else frozenset({FamilyRef(family)})

    def is_dynamic(self, holder: tuple) -> bool:
        dynamic = self.facts.dynamic_holders
        return holder[0] == "attr" and (("attr", holder[1]) in dynamic or holder in dynamic)

    # -- must
    def objects(self, ref: object, _active: frozenset = frozenset()) -> frozenset | None:
        """The objects ``ref`` may denote; None when not fully known (a cycle of
        holders counts as not known: sound, and cached as such)."""
        if isinstance(ref, SiteRef):
            return frozenset({ref.site})
        if isinstance(ref, FamilyRef):
            return self.family_instance(ref.family)
        if isinstance(ref, ResultRef):
            objs = self.objects(ref.target, _active)
            if objs is None or not all(
                ref.method in self.vocab(o).self_returning_methods for o in objs  # type: ignore[attr-defined]
            ):
                return None
            return objs
        if not isinstance(ref, HolderRef):
            return None  # unknown, name-based, any submodule
        if ref in self._must:
            return self._must[ref]
        if ref in _active:
            return None
        holder = ref.holder
        result: frozenset | None = frozenset()
        bindings = self.facts.bindings.get(holder, [])
        if (
            not bindings
            or holder[0] in ("param", "list")  # callers elsewhere may pass anything
            or self.is_dynamic(holder)
            or (holder[0] == "attr" and self.replaced(holder[1], holder[2]))
            or (holder[0] == "return" and holder[1] in self.facts.passed_functions)
        ):
            result = None
        for bound in bindings:
            if result is None:
                break
            objs = self.objects(bound, _active | {ref})
            result = None if objs is None else result | objs
        self._must[ref] = result
        return result

    # -- may (solved)
    def may_objects(self, ref: object) -> frozenset:
        """Every object ``ref`` may denote (unknown parts ignored)."""
        self._solve()
        hit = self._may.get(ref)
        if hit is None:
            self._solve(extra=[ref])
            hit = self._may.get(ref, _EMPTY)
        return hit

    def may_be_foreign(self, ref: object) -> bool:
        """``ref`` may hold an object the walker does not follow (the result of a
        call it cannot see into, an attribute of such an object).  A parameter
        holds what this module's calls pass (its callers elsewhere are users of the
        module, passing their own values)."""
        if ref is None or isinstance(ref, UnknownRef):
            return True
        self._solve()
        hit = self._foreign.get(ref)
        if hit is None:
            self._solve(extra=[ref])
            hit = self._foreign.get(ref, True)
        return hit

    def reach(self, target: object) -> frozenset:
        """Every object reachable from ``target`` (itself, its items and holders at
        any depth); None: every object of the module."""
        self._solve()
        if target is None:
            return self._all_objects()
        hit = self._reach.get(target)
        if hit is None:
            hit = self._closure(self.may_objects(target))
            self._reach[target] = hit
        return hit

    def receiver_families(self, receiver: object) -> set | None:
        """The class families ``receiver`` may be an instance of; None: any (an
        object we do not follow may be an instance of any class of the module)."""
        if receiver is None or self.may_be_foreign(receiver):
            return None
        return self._families_in(self.may_objects(receiver))

    def _families_in(self, objs: Iterable) -> set:
        out: set = set()
        for obj in objs:
            if isinstance(obj, FamilyRef):
                out.add(obj.family)
            elif isinstance(obj, int) and self.facts.sites[obj].family is not None:
                out.add(self.facts.sites[obj].family)
        return out

    def _all_objects(self) -> frozenset:
        hit = self._reach.get("\0all")
        if hit is None:
            out: set = set(self.facts.sites)
            out |= {FamilyRef(f) for f in self.facts.families}
            hit = self._reach["\0all"] = frozenset(out)
        return hit

    def _universe(self, extra: Iterable = ()) -> list:
        """Every reference the facts mention (and the references inside them)."""
        todo: list = list(extra)
        todo.extend(self.facts.uses)
        for holder, bound in self.facts.bindings.items():
            if holder[0] == "items":
                todo.append(holder[1])
            elif holder[0] != "name":
                todo.append(HolderRef(holder))
            todo.extend(bound)
        for refs in self.facts.list_elements.values():
            todo.extend(refs)
        for inv in self.facts.invocations.values():
            todo.append(inv.callee)
        for site in self.facts.sites.values():
            if site.items is not None:
                todo.extend(site.items.nodes())
        seen: set = set(self._may)
        out: list = []
        while todo:
            ref = todo.pop()
            if ref is None or ref in seen:
                continue
            seen.add(ref)
            out.append(ref)
            if isinstance(ref, ResultRef):
                todo.append(ref.target)
            elif isinstance(ref, (ItemRef, SliceRef)):
                todo.append(ref.target)
                if isinstance(ref, SliceRef):
                    todo.append(ItemRef(ref.target))
                elif isinstance(ref.target, SliceRef):
                    todo.append(ItemRef(ref.target.target))
            elif isinstance(ref, ElementRef):
                todo.append(ref.target)
            elif isinstance(ref, AttrNameRef):
                todo.append(ref.receiver)
                todo.extend(HolderRef(h) for h in self._by_name.get(ref.name, ()))
        return out

    def _solve(self, extra: Iterable = ()) -> None:
        if self._solved and not extra:
            return
        refs = self._universe(extra)
        for ref in refs:
            self._may.setdefault(ref, _EMPTY)
            self._foreign.setdefault(ref, False)
        self._solved = True
        refs = list(self._may)
        changed = True
        while changed:
            changed = False
            self._added = self._added_table()
            self._reach = {}
            for ref in refs:
                new = self._step(ref)
                if new != self._may[ref]:
                    self._may[ref] = new
                    changed = True
                foreign = self._foreign[ref] or self._step_foreign(ref)
                if foreign != self._foreign[ref]:
                    self._foreign[ref] = foreign
                    changed = True
        self._reach = {}
        self._must = {}
        self._aliases = None

    def _get(self, ref: object) -> frozenset:
        return self._may.get(ref, _EMPTY)

    def _step(self, ref: object) -> frozenset:
        if isinstance(ref, SiteRef):
            return frozenset({ref.site})
        if isinstance(ref, FamilyRef):
            return frozenset({ref}) | self.seq_sites(ref.family)
        if isinstance(ref, ElementRef):
            if ref.target is None:
                return self._all_objects()
            return self._closure(self._get(ref.target))
        if isinstance(ref, SliceRef):
            return self._get(ItemRef(ref.target))
        if isinstance(ref, ResultRef):
            return self._get(ref.target)
        if isinstance(ref, ItemRef):
            if isinstance(ref.target, SliceRef):
                return self._get(ItemRef(ref.target.target))
            out: set = set()
            for obj in self._get(ref.target):
                out |= self._contents(obj)
            return frozenset(out)
        if isinstance(ref, AttrNameRef):
            receiver = ref.receiver
            families = (
                None
                if receiver is None or self._foreign.get(receiver, True)
                else self._families_in(self._get(receiver))
            )
            out = set()
            for holder in self._by_name.get(ref.name, ()):
                if families is None or holder[1] in families:
                    out |= self._get(HolderRef(holder))
            return frozenset(out)
        if isinstance(ref, HolderRef):
            holder = ref.holder
            if holder[0] == "list":
                bound: Iterable = self.facts.list_elements.get(holder[1], ())
            else:
                bound = self.facts.bindings.get(holder, ())
            out = set()
            for b in bound:
                out |= self._get(b)
            return frozenset(out)
        return _EMPTY

    def _step_foreign(self, ref: object) -> bool:
        if ref is None or isinstance(ref, UnknownRef):
            return True
        if isinstance(ref, (SiteRef, FamilyRef)):
            return False
        get = self._foreign.get
        if isinstance(ref, SliceRef):
            return get(ItemRef(ref.target), True)
        if isinstance(ref, ResultRef):
            return ref.method == GIVEN_BACK or get(ref.target, True)
        if isinstance(ref, ElementRef):
            return ref.target is None or get(ref.target, True)
        if isinstance(ref, ItemRef):
            if get(ref.target, True):
                return True
            return any(
                isinstance(o, int) and self.facts.sites[o].items is None
                for o in self._get(ref.target)
            )
        if isinstance(ref, AttrNameRef):
            return (ref.receiver is None or get(ref.receiver, True)) or any(
                get(HolderRef(h), True) for h in self._by_name.get(ref.name, ())
            )
        if isinstance(ref, HolderRef):
            holder = ref.holder
            if holder[0] == "list":
                return any(get(b, True) for b in self.facts.list_elements.get(holder[1], ()))
            bindings = self.facts.bindings.get(holder, [])
            if holder[0] == "attr" and (
                self.is_dynamic(holder) or self.replaced(holder[1], holder[2])
            ):
                return True
            if holder[0] in ("attr", "local", "return") and not bindings:
                return True
            return any(get(b, True) for b in bindings)
        return True

    def _contents(self, obj: Obj) -> set:
        """The objects directly inside ``obj``: a container's items, a family's holders."""
        out: set = set()
        if isinstance(obj, int):
            site = self.facts.sites[obj]
            role = site.spec.role
            if role in (Role.SEQUENTIAL, Role.COLLECTION):
                if site.items is not None:
                    for ref in site.items.nodes():
                        out |= self._get(ref)
                for ref in self._added.get(obj, ()):
                    out |= self._get(ref)
        elif isinstance(obj, FamilyRef):
            for holder in self._family_holders.get(obj.family, ()):
                out |= self._get(HolderRef(holder))
            out |= self.seq_sites(obj.family)
        return out

    def contents(self, obj: Obj) -> set:
        self._solve()
        return self._contents(obj)

    def _closure(self, start: Iterable) -> frozenset:
        out: set = set()
        todo = list(start)
        while todo:
            obj = todo.pop()
            if obj in out:
                continue
            out.add(obj)
            todo.extend(self._contents(obj))
        return frozenset(out)

    def _added_table(self) -> dict[object, set]:
        """What ``append``/``update``/``c[k] = m`` put into a collection later."""
        table: dict[object, set] = {}
        for holder, refs in self.facts.bindings.items():
            if holder[0] == "items":
                for o in self._get(holder[1]):
                    table.setdefault(o, set()).update(refs)
        return table

    def replaced(self, family: int, name: str) -> bool:
        """``obj.name = ...`` (or ``del``) on an object that may be of ``family``."""
        for ref in self._replaced_refs:
            if ref.name == name:
                receiver = ref.receiver
                if receiver is None or self._foreign.get(receiver, True):
                    return True
                if family in self._families_in(self._get(receiver)):
                    return True
        return False

    # -- aliases
    def aliases(self, obj: Obj) -> list[Ref]:
        """Every reference that may denote ``obj``."""
        if self._aliases is None:
            self._solve()
            table: dict[Obj, list[Ref]] = {}
            for ref, objs in self._may.items():
                if isinstance(ref, SiteRef) or ref not in self.facts.uses:
                    if not isinstance(ref, HolderRef):
                        continue
                for o in objs:
                    table.setdefault(o, []).append(ref)  # type: ignore[arg-type]
            self._aliases = table
        own: list[Ref] = [SiteRef(obj)] if isinstance(obj, int) else [obj]  # type: ignore[list-item]
        return own + [r for r in self._aliases.get(obj, []) if r != own[0]]

    def owners(self, obj: Obj) -> Iterable[Obj]:
        """Containers ``obj`` is an item of, and families holding it."""
        seen: set = set()
        for ref in self.aliases(obj):
            if isinstance(ref, HolderRef) and ref.holder[0] == "attr":
                owner = FamilyRef(ref.holder[1])
                if owner not in seen:
                    seen.add(owner)
                    yield owner
            for use in self.facts.uses.get(ref, ()):
                kind = use[2] if use[0] == "guarded" else use
                if kind[0] == "member" and kind[1] not in seen:
                    seen.add(kind[1])
                    yield kind[1]
                elif kind[0] == "item":
                    holders = (
                        [kind[1]] if isinstance(kind[1], int) else list(self.may_objects(kind[1]))
                    )
                    for owner in holders:
                        if owner not in seen:
                            seen.add(owner)
                            yield owner
        if isinstance(obj, int) and self.facts.sites[obj].family is not None:
            owner = FamilyRef(self.facts.sites[obj].family)  # a container subclass's self
            if owner not in seen:
                yield owner
