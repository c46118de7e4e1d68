"""The fact builder: identities of sites, invocations and scopes; class families;
helper functions that return a layer.  One :class:`FactBuilder` per module; the
statement and expression walkers (:mod:`convbnlint.facts.scope`) fill its
:class:`~convbnlint.ir.ModuleFacts`.
"""

from __future__ import annotations

import builtins
import sys
from collections.abc import Sequence

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from convbnlint.catalog import Apply, Catalog, LayerSpec, Role, root_package
from convbnlint.facts.arguments import (
    argument,
    bias_state,
    helper_bias,
    holds,
    is_transparent,
    layout_axes,
)
from convbnlint.facts.prescan import prescan, returns
from convbnlint.ir import (
    CLASS_PATCHED,
    ESCAPE,
    OTHER,
    ESCAPED,
    EXPORTED,
    SELF_ESCAPED,
    OUTPUT,
    HolderRef,
    FamilyFacts,
    FamilyRef,
    Invocation,
    ModuleFacts,
    Ref,
    ScopeFacts,
    Site,
    UnknownRef,
)
from convbnlint.syntax.names import ImportTable, NameResolver
from convbnlint.types import Span


class FactBuilder:
    """Walks a module and fills a :class:`ModuleFacts`."""

    def __init__(self, module: cst.Module, catalog: Catalog, names: NameResolver) -> None:
        self.module = module
        self.catalog = catalog
        self.names = names
        self.framework = catalog.framework
        self._positions: dict[cst.CSTNode, CodeRange] | None = None
        self.facts = ModuleFacts()
        self.factories: dict[str, cst.Call] = {}
        self.factory_defs: dict[str, cst.FunctionDef] = {}
        self.factory_calls: set[cst.Call] = set()
        self.site_nodes: dict[int, cst.Call] = {}
        self._site_ids: dict[cst.Call, int] = {}
        self._inv_ids: dict[cst.Call, int] = {}
        self._scope_ids: dict[cst.CSTNode, int] = {}
        self._families: dict[str, int] = {}
        # ``functools.partial(<catalogued class>, ...)`` calls, by id (Site.partial).
        self.partial_nodes: dict[int, cst.Call] = {}
        self._known_kwargs: dict[cst.CSTNode, frozenset[str]] | None = None
        # Top-level classes by name (not otherwise bound at module level).
        self.class_families: dict[str, int] = {}
        # The module's functions and the methods of its top-level classes:
        # (family or None, name) -> one signature per definition.
        self.functions: dict[tuple, list[Signature]] = {}
        # Functions defined inside functions, by (None, name), as they are walked.
        self.nested_functions: dict[tuple, list[Signature]] = {}
        self.module_bound: set[str] = set()
        # The module scope's holders (name -> scope id), for ``global`` declarations.
        self.module_holders: dict[str, int] = {}
        # Classes blanked out by the blocks stage: known by name only (``collect``).
        self.ghosts: frozenset[str] = frozenset()
        # Debugging aid: (ref, use) -> the statements that recorded it.
        self.debug: dict[tuple, list] | None = None
        self.current: cst.CSTNode | None = None
        # Holders of modules whose output is not 2-D (``self.lstm = nn.LSTM(...)``).
        self.not_2d_holders: set[tuple] = set()
        self.not_2d_classes: frozenset[str] = self._with_aliases(self.framework.not_2d_outputs)
        # Methods that return their module in some framework (``ResultRef`` checks which).
        self.self_returning_any: frozenset[str] = frozenset().union(
            *(part.self_returning_methods for part in catalog.parts)
        )
        # Top-level packages whose functions are the framework's (known, or unknown
        # and so escapes); any other import is code outside the file.
        self.library_roots: frozenset[str] = frozenset().union(
            *(part.library_roots for part in catalog.parts),
            {root_package(q) for spec in catalog.specs for q in (spec.qualname, *spec.aliases)},
            {root_package(q) for part in catalog.parts for q in part.module_bases},
        )
        self.whole_users: frozenset[str] = frozenset().union(
            *(part.whole_users for part in catalog.parts)
        )
        self.class_registrars: frozenset[str] = frozenset().union(
            *(part.class_registrars for part in catalog.parts)
        )
        self._table: ImportTable | None = getattr(names, "table", None)
        # Enumerators that yield modules (not parameters).
        self.module_enumerators = (
            self.framework.submodule_enumerators - self.framework.parameter_enumerators
        )

    # -- public
    def build(self) -> ModuleFacts:
        top = prescan(self.module.body)
        self.module_bound = top.complex_bound | set(top.simple_rhs)
        self._assign_families()
        self._find_functions(top)
        self._find_factories()
        self.module_info = top
        from convbnlint.facts.scope import Scope

        self.facts.roots |= self.framework.forward_methods
        module_scope = self._scope_id(self.module)
        self.facts.scopes[module_scope] = ScopeFacts(None, None, None)
        scope = Scope(self, module_scope, top, None, None)
        scope.local_bound = set()
        self.module_holders = {name: module_scope for name in scope.own_holders}
        env = scope.run_body(self.module.body)
        scope.finish_builders(env)
        # The models the module's names hold at its end are run as a whole by
        # whatever drives the program; what its functions return is used by
        # callers elsewhere too.
        for value in (env or {}).values():
            if isinstance(value, frozenset):
                for ref in value:
                    if not isinstance(ref, int):
                        self.use(ref, EXPORTED)
                    elif ref != OTHER:  # an output left in a module-level name
                        self.facts.invocations[ref].consumers.add(ESCAPE)
        for name in scope.holder_names:
            self.use(scope.local(name), EXPORTED)
        for key in self.functions:
            self.use(HolderRef(("return", key)), OUTPUT)
        for family, ff in self.facts.families.items():
            # Attribute access the class overrides, or a holder name that is also a
            # method or class attribute (a property, a method ``bn`` shadowing the
            # submodule ``self.bn``): what ``self.<name>`` gives is not the holder.
            if ff.methods & DYNAMIC_ACCESS:
                self.facts.dynamic_holders.add(("attr", family))
            for name in ff.methods:
                self.facts.dynamic_holders.add(("attr", family, name))
        for lid in self.facts.escaped_lists:
            for ref in self.facts.list_elements.get(lid, ()):
                # (``self`` in the list: handed on by its own class.)
                own = isinstance(ref, FamilyRef) and lid in self.facts.self_lists
                self.use(ref, SELF_ESCAPED if own else ESCAPED)
        return self.facts

    def _find_factories(self) -> None:
        """Module-level ``def f(...): return nn.Conv2d(...)``: a call of ``f`` is that layer."""
        defs: dict[str, list[cst.FunctionDef]] = {}
        other: set[str] = set()
        for stmt in self.module.body:
            if isinstance(stmt, cst.FunctionDef):
                defs.setdefault(stmt.name.value, []).append(stmt)
            else:
                info = prescan([stmt])
                other |= info.complex_bound | set(info.simple_rhs)
        for name, nodes in defs.items():
            if len(nodes) != 1 or name in other or nodes[0].decorators:
                continue
            found = returns(nodes[0])
            if len(found) != 1 or not isinstance(found[0].value, cst.Call):
                continue
            call = found[0].value
            spec = self.spec_of(call.func)
            if spec is not None and spec.role is Role.BIASED and spec.apply is Apply.OBJECT:
                self.factories[name] = call
                self.factory_defs[name] = nodes[0]
                self.factory_calls.add(call)

    def span(self, site: int) -> Span:
        if self._positions is None:
            wrapper = MetadataWrapper(self.module, unsafe_skip_copy=True)
            self._positions = dict(wrapper.resolve(PositionProvider))
        rng = self._positions[self.site_nodes[site]]
        return Span(rng.start.line, rng.start.column + 1, rng.end.line, rng.end.column + 1)

    # -- identities
    def _scope_id(self, node: cst.CSTNode) -> int:
        return self._scope_ids.setdefault(node, len(self._scope_ids))

    @staticmethod
    def _with_aliases(qualnames: frozenset[str]) -> frozenset[str]:
        """``torch.nn.LSTM`` also as ``torch.nn.modules.<module>.LSTM``: any dotted
        name ending in the class name under the same package root."""
        out = set(qualnames)
        for q in qualnames:
            root, _, name = q.rpartition(".")
            for mod in ("rnn", "sparse", "activation", "transformer", "conv", "flatten"):
                out.add(f"{root}.modules.{mod}.{name}")
            out.add(f"{root}.modules.{name}")
        return frozenset(out)

    def own_decorator(self, decorator: cst.BaseExpression) -> bool:
        """A method decorator the file defines itself (not an import, a builtin, or a
        property's ``.setter``): code that may replace the method."""
        func = decorator.func if isinstance(decorator, cst.Call) else decorator
        if isinstance(func, cst.Attribute):
            if func.attr.value in ("setter", "getter", "deleter"):
                return False
        elif not isinstance(func, cst.Name) or func.value in _BUILTINS:
            return False
        return not self.names(func) and not self.outside(func)

    def registrar(self, func: cst.BaseExpression) -> bool:
        """A framework class decorator known to return the class unchanged."""
        names = self.names(func)
        return bool(names) and all(
            n.rsplit(".", 1)[-1] in self.class_registrars for n in names
        )

    def framework_function(self, func: cst.BaseExpression) -> bool:
        """A function of the framework or its companion packages (``F.dropout``)."""
        names = self.names(func)
        return bool(names) and all(n.split(".", 1)[0] in self.library_roots for n in names)

    def reaching_function(self, func: cst.BaseExpression) -> bool:
        """A function of the framework (or its companion packages) not known to use
        the modules it gets only as a whole: it may reach their submodules by name
        (``fuse_modules(net, [["conv", "bn"]])``, ``IntermediateLayerGetter``)."""
        names = self.names(func)
        return bool(names) and all(
            n.split(".", 1)[0] in self.library_roots
            and n.rsplit(".", 1)[-1] not in self.whole_users
            for n in names
        )

    def outside(self, func: cst.BaseExpression) -> bool:
        """A callee that is code outside this file: a function imported from a
        package other than the framework's and Python's own, or a name the file
        never binds (a notebook's earlier session, a test harness).  The analysis
        assumes such code uses the module objects it gets as a whole, the way a
        training loop does (see ``docs``: what convbnlint assumes)."""
        names = self.names(func)
        if names:
            return all(_foreign_root(n, self.library_roots) for n in names)
        if not isinstance(func, cst.Name):
            return False
        if self._table is None:
            from convbnlint.syntax.names import table_for

            self._table = table_for(self.module.code, self.module)
        name = func.value
        return not self._table.star and name not in self._table.names and name not in _BUILTINS

    def family_facts(self, family: int) -> FamilyFacts:
        return self.facts.families.setdefault(family, FamilyFacts())

    def _find_functions(self, top: object) -> None:
        """Signatures of the module's functions and of its top-level classes' methods."""
        defs: dict[str, list[cst.FunctionDef]] = {}
        for stmt in self.module.body:
            if isinstance(stmt, cst.FunctionDef):
                defs.setdefault(stmt.name.value, []).append(stmt)
        for name, nodes in defs.items():
            if len(nodes) == 1 and name not in top.simple_rhs:  # type: ignore[attr-defined]
                self.functions[(None, name)] = [Signature(nodes[0], self._scope_id(nodes[0]), False)]
        for stmt in self.module.body:
            if not isinstance(stmt, cst.ClassDef):
                continue
            family = self._families[stmt.name.value]
            facts = self.family_facts(family)
            facts.names.add(stmt.name.value)
            body = stmt.body.body
            for item in body:
                if isinstance(item, cst.FunctionDef):
                    facts.methods.add(item.name.value)
                    if self.not_2d_classes:
                        self._note_not_2d_holders(item, family)
                    decorators = {
                        d.decorator.value
                        for d in item.decorators
                        if isinstance(d.decorator, cst.Name)
                    }
                    sig = Signature(item, self._scope_id(item), "staticmethod" not in decorators)
                    self.functions.setdefault((family, item.name.value), []).append(sig)
                elif isinstance(item, cst.SimpleStatementLine):
                    for small in item.body:
                        targets: list[cst.BaseExpression] = []
                        if isinstance(small, cst.Assign):
                            targets = [t.target for t in small.targets]
                        elif isinstance(small, (cst.AnnAssign, cst.AugAssign)):
                            targets = [small.target]
                        for t in targets:
                            if isinstance(t, cst.Name):
                                facts.methods.add(t.value)
        bound_elsewhere = self.module_bound - {
            s.name.value for s in self.module.body if isinstance(s, (cst.ClassDef, cst.FunctionDef))
        }
        counts: dict[str, int] = {}
        for stmt in self.module.body:
            if isinstance(stmt, (cst.ClassDef, cst.FunctionDef)):
                counts[stmt.name.value] = counts.get(stmt.name.value, 0) + 1
        for i, name in enumerate(sorted(self.ghosts - set(counts) - self.module_bound)):
            # (The stage cannot tell a blanked class from a blanked function here:
            # a ghost is both; either way its calls are handled as a ghost's.)
            family = 20_000 + i
            self.family_facts(family).names.add(name)
            self.family_facts(family).ghost = True
            self.class_families[name] = family
        for stmt in self.module.body:
            if isinstance(stmt, cst.ClassDef):
                name = stmt.name.value
                family = self._families[name]
                if counts[name] == 1 and name not in bound_elsewhere:
                    self.class_families[name] = family
                else:
                    # The class name may denote something else: its instances
                    # cannot be followed.
                    self.use(FamilyRef(family), CLASS_PATCHED)
                self._check_bases(stmt, family)

    def _note_not_2d_holders(self, method: cst.FunctionDef, family: int) -> None:
        """``self.rnn = nn.LSTM(...)`` among a method's statements: the holder's
        calls give outputs that are not 2-D, wherever they are read (a forward may
        come before ``__init__`` in the class; the walk also notes nested ones)."""
        params = method.params.params
        if not params or not isinstance(method.body, cst.IndentedBlock):
            return
        me = params[0].name.value
        for stmt in method.body.body:
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                if not (isinstance(small, cst.Assign) and isinstance(small.value, cst.Call)):
                    continue
                names = self.names(small.value.func)
                if not names or not all(n in self.not_2d_classes for n in names):
                    continue
                for t in small.targets:
                    target = t.target
                    if (
                        isinstance(target, cst.Attribute)
                        and isinstance(target.value, cst.Name)
                        and target.value.value == me
                    ):
                        self.not_2d_holders.add(("attr", family, target.attr.value))

    def _check_bases(self, cls: cst.ClassDef, family: int) -> None:
        """Bases that are neither classes of the module nor framework module bases,
        a metaclass, or a forward defined: the container's own forward may not run."""
        facts = self.family_facts(family)
        for base in cls.bases:
            value = base.value
            if isinstance(value, cst.Name) and value.value in self._families:
                continue
            names = self.names(value)
            if names and all(
                n in self.framework.module_bases
                or ((spec := self.catalog.lookup(n)) is not None and spec.role is Role.SEQUENTIAL)
                for n in names
            ):
                for n in names:
                    spec = self.catalog.lookup(n)
                    if spec is not None:
                        facts.framework = facts.framework or spec.framework
                    for part in self.catalog.parts:
                        if n in part.module_bases:
                            facts.framework = facts.framework or part.name
                continue
            facts.unknown_bases = True
        if cls.keywords:
            facts.unknown_bases = True

    def seq_forward_kept(self, family: int) -> bool:
        """A container subclass family whose instances run the container's own forward.

        (A forward anywhere in the family counts, even one a mixin placed after the
        container never runs: the family's methods all see ``self`` as any of its
        instances, so its ``self[0](x)`` would be a use of the items anyway.)"""
        facts = self.family_facts(family)
        return not facts.unknown_bases and not (facts.methods & self.framework.forward_methods)

    def specs_named(self, name: str) -> frozenset[str]:
        """Catalogued classes whose class name is ``name`` (name-based patches)."""
        return frozenset(
            spec.qualname for spec in self.catalog.specs if spec.name == name
        )

    def _assign_families(self) -> None:
        """Classes related by inheritance inside this module share ``self`` attributes."""
        classes = [s for s in self.module.body if isinstance(s, cst.ClassDef)]
        parent: dict[str, str] = {c.name.value: c.name.value for c in classes}

        def find(x: str) -> str:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for cls in classes:
            for base in cls.bases:
                if isinstance(base.value, cst.Name) and base.value.value in parent:
                    parent[find(cls.name.value)] = find(base.value.value)
        roots: dict[str, int] = {}
        for name in parent:
            self._families[name] = roots.setdefault(find(name), len(roots))

    def family_of(self, cls: cst.ClassDef, nested_counter: list[int]) -> int:
        if cls.name.value in self._families and cls in self.module.body:
            return self._families[cls.name.value]
        nested_counter[0] += 1
        family = 10_000 + self._scope_id(cls)
        facts = self.family_facts(family)
        facts.names.add(cls.name.value)
        for item in cls.body.body:
            if isinstance(item, cst.FunctionDef):
                facts.methods.add(item.name.value)
            elif isinstance(item, cst.SimpleStatementLine):
                for small in item.body:
                    if isinstance(small, cst.Assign):
                        for t in small.targets:
                            if isinstance(t.target, cst.Name):
                                facts.methods.add(t.target.value)
                    elif isinstance(small, (cst.AnnAssign, cst.AugAssign)):
                        if isinstance(small.target, cst.Name):
                            facts.methods.add(small.target.value)
        self._check_bases(cls, family)
        return family

    # -- resolution
    def partial_of(self, rhss: list[cst.BaseExpression]) -> tuple[LayerSpec, cst.Call] | None:
        """``partial(<catalogued class>, ...)`` as a name's only binding."""
        if len(rhss) != 1 or not isinstance(rhss[0], cst.Call):
            return None
        call = rhss[0]
        makers = self.framework.partial_makers
        if not makers or not call.args or call.args[0].keyword is not None or call.args[0].star:
            return None
        names = self.names(call.func)
        if not names or not set(names) <= makers:
            return None
        spec = self.spec_of(call.args[0].value)
        if spec is None or spec.apply is not Apply.OBJECT or spec.role is Role.SEQUENTIAL:
            return None
        return spec, call

    def spec_of(self, func: cst.BaseExpression) -> LayerSpec | None:
        """The catalogued class (or function) a callee expression names.

        A call as the callee (``Conv2D(...)(x)``) applies an object: not a constructor.
        """
        if isinstance(func, cst.Call):
            return None
        names = self.names(func)
        if not names:
            return None
        specs = set()
        for name in names:
            spec = self.catalog.lookup(name)
            if spec is None:
                return None
            specs.add(spec)
        return specs.pop() if len(specs) == 1 else None

    def site_for(
        self,
        call: cst.Call,
        spec: LayerSpec,
        scope: int = -1,
        partial: cst.Call | None = None,
        branch: int = -1,
    ) -> int:
        """The site of a catalogued call.  ``partial``: the ``functools.partial``
        call whose bound arguments come first (the site's arguments are both).
        ``branch`` >= 0: the site of one of the classes a local alias may name
        (:meth:`convbnlint.facts.containers.Containers.class_choice`)."""
        key: object = call if branch < 0 else (call, branch)
        sid = self._site_ids.get(key)  # type: ignore[call-overload]
        if sid is not None and scope != -1:
            self.facts.sites[sid].scope = scope
        if sid is None:
            sid = len(self._site_ids)
            self._site_ids[key] = sid  # type: ignore[index]
            self.site_nodes[sid] = call
            args = call
            pid = None
            if partial is not None:
                args = _merged(partial, call)
                pid = len(self.partial_nodes)
                self.partial_nodes[pid] = partial
            bias = bias_state(args, spec, self.kwargs_keys)
            fixable, unfixable = True, None
            if partial is not None and spec.role is Role.BIASED:
                spec, fixable, unfixable = _through_partial(partial, spec)
            site = Site(
                sid,
                spec,
                bias=bias,
                transparent=spec.role is Role.TRANSPARENT and is_transparent(args, spec),
                scope=scope,
                channels=self._channels(args, spec),
                when_ok=holds(args, spec.when, self.kwargs_keys),
                partial=pid,
                fixable=fixable,
                unfixable=unfixable,
            )
            if spec.layout is not None:
                site.axes = layout_axes(args, spec.layout)
                site.layout_known = site.axes is not None
            self.facts.sites[sid] = site
        return sid

    def kwargs_keys(self, value: cst.BaseExpression) -> frozenset[str] | None:
        """The keys a ``**value`` argument always carries, if known (:mod:`.kwargs`)."""
        if not isinstance(value, cst.Name):
            return None
        if self._known_kwargs is None:
            from convbnlint.facts.kwargs import known_kwargs

            self._known_kwargs = known_kwargs(self.module)
        return self._known_kwargs.get(value)

    def helper_call_site(self, call: cst.Call, name: str, scope: int) -> int | None:
        """A call of helper ``name`` (which returns a layer) as a site of its own."""
        sid = self._site_ids.get(call)
        if sid is not None:
            return sid
        inner = self.factories[name]
        spec = self.spec_of(inner.func)
        if spec is None:
            return None
        inner_id = self.site_for(inner, spec)
        bias, derived, fixable = helper_bias(
            self.factory_defs[name], inner, spec, call, self.kwargs_keys
        )
        sid = len(self._site_ids)
        self._site_ids[call] = sid
        self.site_nodes[sid] = call
        self.facts.sites[sid] = Site(
            sid,
            derived,
            bias=bias,
            scope=scope,
            channels=self.facts.sites[inner_id].channels,
            factory_of=inner_id,
            helper=name,
            fixable=fixable,
        )
        self.facts.factory_calls.setdefault(inner_id, []).append(sid)
        return sid

    def _channels(self, call: cst.Call, spec: LayerSpec) -> str | None:
        if spec.channels_param is None:
            return None
        value = argument(call, spec.channels_param, spec.channels_index)
        return None if value is None else self.module.code_for_node(value).strip()

    def inv_for(self, call: cst.Call, callee: Ref) -> Invocation:
        iid = self._inv_ids.get(call)
        if iid is None:
            iid = len(self._inv_ids)
            self._inv_ids[call] = iid
            self.facts.invocations[iid] = Invocation(iid, callee)
        return self.facts.invocations[iid]

    def use(self, ref: Ref, kind: tuple) -> None:
        if isinstance(ref, UnknownRef):
            return
        self.facts.uses.setdefault(ref, set()).add(kind)
        if self.debug is not None:  # where each use was recorded (tests, debugging)
            self.debug.setdefault((ref, kind), []).append(self.current)

    def bind(self, holder: tuple, ref: Ref) -> None:
        refs = self.facts.bindings.setdefault(holder, [])
        if ref not in refs:
            refs.append(ref)


def _through_partial(partial: cst.Call, spec: LayerSpec) -> tuple[LayerSpec, bool, str | None]:
    """The spec as seen from a call of ``partial(cls, *bound, **kw)`` (its bias
    slot moves left by the bound positionals), and whether the fix can be written
    at that call (not when the partial binds the bias itself)."""
    from dataclasses import replace

    bound = partial.args[1:]
    if any(a.star for a in bound):
        return spec, False, "functools.partial binds unknown arguments"
    npos = sum(1 for a in bound if a.keyword is None)
    if any(a.keyword is not None and a.keyword.value == spec.bias_param for a in bound):
        return spec, False, f"{spec.bias_param} is bound in functools.partial"
    index = spec.bias_index
    if index is not None:
        if index < npos:
            return spec, False, f"{spec.bias_param} is bound in functools.partial"
        index -= npos
    return replace(spec, bias_index=index), True, None


def _merged(partial: cst.Call, call: cst.Call) -> cst.Call:
    """The call ``partial(cls, *a, **k)(*b, **j)`` amounts to: ``cls(*a, *b, **k, **j)``,
    a keyword of the later call replacing the partial's."""
    bound = partial.args[1:]
    later = {a.keyword.value for a in call.args if a.keyword is not None}
    positional = [a for a in (*bound, *call.args) if a.keyword is None and a.star != "**"]
    keywords = [
        a for a in bound if (a.keyword is not None and a.keyword.value not in later) or a.star == "**"
    ]
    keywords += [a for a in call.args if a.keyword is not None or a.star == "**"]
    args = [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in (*positional, *keywords)]
    return cst.Call(func=call.func, args=args)


class Signature:
    """How a call's arguments reach one definition's parameters."""

    def __init__(self, node: cst.FunctionDef, scope: int, is_method: bool) -> None:
        params = node.params
        self.node = node
        self.scope = scope
        self.is_method = is_method
        self.positional = [p.name.value for p in (*params.posonly_params, *params.params)]
        self.keyword = set(self.positional[len(params.posonly_params):]) | {
            p.name.value for p in params.kwonly_params
        }

    def place(self, index: int, args: Sequence[cst.Arg], skip_self: bool) -> str | None:
        """The parameter argument ``index`` of a call binds, or None (``*args``,
        ``**kwargs``, an unknown keyword)."""
        arg = args[index]
        if arg.star:
            return None
        if arg.keyword is not None:
            name = arg.keyword.value
            return name if name in self.keyword else None
        position = sum(1 for a in args[:index] if a.keyword is None and not a.star)
        position += 1 if skip_self else 0
        return self.positional[position] if position < len(self.positional) else None

    def first_param(self) -> str | None:
        """The first parameter after ``self`` (what ``apply`` passes a module to)."""
        start = 1 if self.is_method else 0
        return self.positional[start] if len(self.positional) > start else None


# Methods through which a class changes what its attributes give.
DYNAMIC_ACCESS = frozenset({"__getattr__", "__getattribute__", "__setattr__", "__delattr__"})



_BUILTINS = frozenset(dir(builtins))


def _foreign_root(name: str, library_roots: frozenset[str]) -> bool:
    """``name`` (a dotted import target) comes from a package outside the
    framework's and the standard library (a relative import: the project)."""
    root = name.split(".", 1)[0]
    return root not in library_roots and root not in sys.stdlib_module_names
