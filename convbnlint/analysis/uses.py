"""What each recorded use does to an object of a given kind.

A use (:mod:`convbnlint.ir`, "Use kinds") is classified per object:

* ``entry``: the object is invoked as part of the wiring (a call, a container
  item), followed by :mod:`.flow`;
* ``output``: used as a whole by code not modelled (its output goes there);
* ``harmless``: no effect on its wiring or outputs;
* ``mode``: switched to eval (or an unknown) mode, or given a momentum that
  stops its running mean from learning: a norm so treated no longer cancels;
* ``escape``: the object may reach code not modelled, or its forward, hooks or
  items may change.

The framework vocabulary (which methods are harmless, which switch modes) comes
from the catalog's :class:`~convbnlint.catalog.Framework`.
"""

from __future__ import annotations

from convbnlint.catalog import Framework, Role
from convbnlint.ir import CLASS_PATCHED, HANDED, NOT_CONSTANT, REGISTRY, SELF_ESCAPED, FamilyRef, HolderRef, ModuleFacts

ENTRY, OUTPUT, HARMLESS, MODE, ESCAPE = "entry", "output", "harmless", "mode", "escape"


class Uses:
    facts: ModuleFacts
    framework: Framework
    catalog: object

    def vocab(self, obj: object) -> Framework:
        """The framework vocabulary that applies to an object: its spec's framework,
        or (an instance of a class of the module) the framework of its base."""
        name = ""
        if isinstance(obj, int):
            name = self.facts.sites[obj].spec.framework
        elif isinstance(obj, FamilyRef):
            facts = self.facts.families.get(obj.family)
            name = facts.framework if facts is not None else ""
        if not name:
            return self.framework
        return self.catalog.vocabulary(name)  # type: ignore[attr-defined,no-any-return]

    def _init_uses(self) -> None:
        self._forward: set[int] | None = None
        self._runtime: set[int] | None = None

    # -- code that computes outputs
    def forward_scopes(self) -> set[int]:
        """Function scopes that may run while a module computes its output: the
        forward methods (and what a class body assigns to them), everything they
        mention by name (functions, methods, properties), and scopes nested in them."""
        if self._forward is None:
            self._forward = self._reached(self.facts.roots)
        return self._forward

    def runtime_scopes(self) -> set[int]:
        """The forward scopes and the overrides of the mode switches (``train``,
        ``eval``) with what they reach: code that may run after training, when
        a norm's running statistics already hold what it learned."""
        if self._runtime is None:
            fw = self.framework
            self._runtime = self._reached(
                self.facts.roots | fw.train_methods | fw.eval_methods
            )
        return self._runtime

    def _reached(self, roots: set[str] | frozenset[str]) -> set[int]:
        scopes = self.facts.scopes
        by_name: dict[str, list[int]] = {}
        for sid, scope in scopes.items():
            if scope.name is not None:
                by_name.setdefault(scope.name, []).append(sid)
        reached: set[int] = set()
        todo = [sid for name in roots for sid in by_name.get(name, ())]
        while todo:
            sid = todo.pop()
            if sid in reached:
                continue
            reached.add(sid)
            for name in scopes[sid].mentions:
                todo.extend(by_name.get(name, ()))
        changed = True
        while changed:  # lambdas and nested functions inside reached scopes
            changed = False
            for sid, scope in scopes.items():
                if sid not in reached and scope.parent in reached:
                    reached.add(sid)
                    for name in scope.mentions:
                        for other in by_name.get(name, ()):
                            if other not in reached:
                                todo.append(other)
                    changed = True
            while todo:
                sid = todo.pop()
                if sid in reached:
                    continue
                reached.add(sid)
                changed = True
                for name in scopes[sid].mentions:
                    todo.extend(by_name.get(name, ()))
        return reached

    # -- classification
    def effect(self, kind: tuple, obj: object) -> str:
        """What a use of kind ``kind`` does to object ``obj`` (a site id or FamilyRef)."""
        head = kind[0]
        if head == "guarded":
            if isinstance(obj, int) and self.facts.sites[obj].spec.qualname in kind[1]:
                return self.effect(kind[2], obj)
            return HARMLESS
        if head in ("bind", "harmless", "list", "iter", "item", "replaced"):
            return HARMLESS  # (a replaced holder's value is unknown: see ``objects``)
        if head == "escape":
            if isinstance(obj, FamilyRef) and kind not in (SELF_ESCAPED, CLASS_PATCHED, REGISTRY, HANDED):
                # An instance handed on by code using the class (not by the class
                # itself): like any user of the module, it uses it as a whole.
                return HARMLESS
            return ESCAPE
        if head == "output":
            return OUTPUT
        if head in ("member", "call"):
            return ENTRY
        if head == "exported":
            if isinstance(obj, FamilyRef) or self.facts.sites[obj].spec.role is Role.SEQUENTIAL:  # type: ignore[index]
                return OUTPUT
            return HARMLESS
        if head == "inference":
            # Inside a forward, or feeding another layer (a functional graph being
            # built): the model around the call trains while these layers run in
            # inference mode.  Elsewhere, a call for predictions.
            if kind[2] or kind[1] in self.forward_scopes():
                return MODE
            return HARMLESS
        fw = self.vocab(obj)
        if isinstance(obj, FamilyRef):
            return self._family_effect(kind, obj.family)
        site = self.facts.sites[obj]  # type: ignore[index]
        role = site.spec.role
        if head == "attr":
            if role in (Role.SEQUENTIAL, Role.COLLECTION):
                names = site.item_names
                if kind[1] in fw.container_mutators:
                    return ESCAPE  # ``model.layers``: its items reached
                return ESCAPE if names is None or kind[1] in names else HARMLESS
            return HARMLESS
        if head == "bias":
            how, scope = kind[1], kind[2]
            if role is not Role.BIASED:
                return HARMLESS
            if how == "stored" or (how == "value" and scope in self.forward_scopes()):
                return ESCAPE
            return HARMLESS
        if head == "stat":
            # What a norm learned of its input's mean (its running mean), read or
            # written while outputs are computed (or on a mode switch): the bias
            # reaches the output through it, or what it learned is undone.
            if role is Role.CANCELLING_NORM and kind[1] in self.runtime_scopes():
                return ESCAPE
            return HARMLESS
        if head == "method":
            method, arg = kind[1], kind[2]
            if method in fw.output_attrs:
                return ESCAPE
            if method in fw.eval_methods:
                return MODE
            if method in fw.train_methods:
                return HARMLESS if arg in ("none", "true", "propagate") else MODE
            if role is Role.CANCELLING_NORM and method in fw.norm_resetters and (
                kind[3] in self.runtime_scopes()
            ):
                return MODE  # its running statistics reset where no training follows
            if method in fw.harmless_methods:
                return HARMLESS  # (``parameters()``: its bias read is recorded as such)
            if method in fw.submodule_enumerators or method in fw.callback_appliers:
                return HARMLESS  # what happens to the submodules is recorded on them
            if role is Role.COLLECTION and (
                method in fw.collection_adders
                or method in fw.collection_values
                or method in fw.collection_pairs
            ):
                return HARMLESS  # items added are recorded as its contents
            return ESCAPE
        if head == "store":
            attr, value = kind[1], kind[2]
            if attr in fw.forward_methods or attr in fw.output_attrs:
                return ESCAPE
            if role is Role.BIASED:
                return ESCAPE if attr.startswith("_") else HARMLESS
            if role is Role.CANCELLING_NORM:
                if attr in fw.norm_harmless_stores:
                    return HARMLESS
                if attr in fw.mode_attrs:
                    return MODE
                conds = [c for alt in site.spec.cancels_when for c in alt if c.param == attr]
                if conds:
                    known = value != NOT_CONSTANT
                    return HARMLESS if known and all(c.accepts(value) for c in conds) else MODE
                return ESCAPE
            return ESCAPE
        return ESCAPE  # a use kind this analysis does not know

    def _family_effect(self, kind: tuple, family: int) -> str:
        """Uses of an instance of a class of the module (``self``, ``Net()``)."""
        fw = self.vocab(FamilyRef(family))
        head = kind[0]
        facts = self.facts.families.get(family)
        methods = facts.methods if facts is not None else set()
        if head in ("attr", "bias", "stat"):
            return HARMLESS  # name-based: recorded on the holder as well
        if head == "method":
            method, arg = kind[1], kind[2]
            if method in fw.output_attrs:
                return ESCAPE
            if method in fw.eval_methods:
                return MODE
            if method in fw.train_methods:
                return HARMLESS if arg in ("none", "true", "propagate") else MODE
            if (
                (facts is not None and facts.unknown_bases)  # a base class's method
                or method in fw.harmless_methods
                or method in fw.submodule_enumerators
                or method in fw.callback_appliers
                or method in fw.submodule_registrars
                or method in methods
                or ("attr", family, method) in self.facts.bindings
            ):
                return HARMLESS
            return ESCAPE  # a method not defined here: code we do not see gets it
        if head == "store":
            attr = kind[1]
            if attr in fw.forward_methods or attr in fw.output_attrs or attr.startswith("__"):
                return ESCAPE
            return HARMLESS  # a holder of the instance (name-based, recorded there)
        return ESCAPE

    def family_self_calls_escape(self, family: int) -> bool:
        """``self.name(...)`` for a name neither a method nor a holder of the family,
        in a family whose bases are all this module's or the framework's: code we
        cannot see (a ``__getattr__``, an attribute set elsewhere).  With a base
        class from another file, the name is that class's method: out-of-file code,
        which like any user of the module is assumed to use it through the module
        protocol (the whole-project analysis can see that class)."""
        facts = self.facts.families.get(family)
        if facts is None or facts.unknown_bases:
            return False
        for name in facts.self_calls:
            holder = HolderRef(("attr", family, name))
            if name not in facts.methods and holder.holder not in self.facts.bindings:
                return True
        return False
