"""The scope walker: one :class:`Scope` per module, class body and function.

It walks statements in order with an abstract environment (a small, flow-sensitive
reaching-definitions pass) and records facts through its
:class:`~convbnlint.facts.builder.FactBuilder`.  Its methods live by kind of node,
as pyflakes' and Ruff's checkers do: statements (:mod:`.statements`), expressions
(:mod:`.expressions`), calls (:mod:`.calls`) and containers and lists of layers
(:mod:`.containers`); ``c_<Node>`` handles a compound statement of that type.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import libcst as cst

from convbnlint.catalog import Apply, Framework, LayerSpec
from convbnlint.facts.calls import Calls
from convbnlint.facts.containers import Containers
from convbnlint.facts.env import Env
from convbnlint.facts.expressions import Expressions
from convbnlint.facts.prescan import ScopeInfo
from convbnlint.facts.statements import Statements
from convbnlint.ir import ESCAPED, UNKNOWN, HolderRef

if TYPE_CHECKING:
    from convbnlint.facts.builder import FactBuilder


class Scope(Statements, Expressions, Calls, Containers):
    """Walks the statements of one scope (module, class body or function)."""

    def __init__(
        self,
        builder: FactBuilder,
        scope_id: int,
        info: ScopeInfo,
        self_name: str | None,
        family: int | None,
        outer: dict[str, int] | None = None,
        bound: frozenset[str] = frozenset(),
    ) -> None:
        self.b = builder
        self.scope_id = scope_id
        self.info = info
        self.self_name = self_name
        self.family = family
        # Names this scope does not bind resolve to the module's globals (a module,
        # a class or function at module level; not a scope nested in a function).
        self.module_visible = True
        self.is_function = False
        self.is_class_body = False
        self.local_bound: set[str] = info.complex_bound | set(info.simple_rhs)
        # Holders visible here: this scope's own (names bound only to module
        # objects), and the enclosing scopes' that this one does not bind itself
        # (``outer``: name -> the scope owning the holder; a nested function or a
        # comprehension reads the enclosing holder, whose bindings are all known).
        own = self._holder_names()
        self.holder_scope: dict[str, int] = {}
        shadowed = self.local_bound | bound
        for name, owner in (outer or {}).items():
            if name not in shadowed:
                self.holder_scope[name] = owner
        for name in own:
            self.holder_scope[name] = scope_id
        self.own_holders = own
        self.holder_names = set(self.holder_scope)
        self.seq_site: int | None = None  # its super().__init__ container site
        # In ``__init__`` of a Sequential subclass that keeps the container's forward:
        # the catalogued container class it extends.
        self.seq_spec: LayerSpec | None = None
        self.seq_names: set[str] = set()
        self.seq_broken = False
        # Path condition: literals (scope, name, kind, positive) of enclosing ``if``s
        # whose test is a parameter never rebound (``if batch_norm:``).
        self.conds: frozenset = frozenset()
        self.params: set[str] = set()
        self.body: Sequence[cst.CSTNode] = ()
        self._rebound: set[str] | None = None
        self.fn_node: cst.FunctionDef | None = None
        self.loops: list[tuple[list[Env | None], list[Env | None]]] = []
        self.nested_counter = [0]
        # Names an enclosing ``isinstance`` test narrows to catalogued classes: uses
        # through them concern only objects of those classes.
        self.guards: dict[str, frozenset[str]] = {}
        # The function's key for its parameters and return value, if callers of the
        # module can reach it by name; the ``mode`` parameter of a ``train`` override.
        self.fn_key: tuple | None = None
        self.mode_param: str | None = None
        # Walking a value that goes into an object (a bias read in it is stored).
        self.storing = False
        # Containers filled by ``append``/``add_module`` in this scope: env key -> sites.
        self.builder_keys: dict[str, set[int]] = {}

    def _holder_names(self) -> set[str]:
        names = set()
        for name, rhss in self.info.simple_rhs.items():
            if name in self.info.complex_bound:
                continue
            if any(self._is_catalog_call(r) for r in rhss):
                names.add(name)
        return names

    def _is_catalog_call(self, node: cst.BaseExpression) -> bool:
        """A call that builds a module object (not one that applies a layer to an
        input and returns its output: ``Apply.INPUT_ARG``)."""
        if not isinstance(node, cst.Call):
            return False
        if self.returns_self(node) is not None:  # ``nn.Conv2d(...).to(dtype)``
            return True
        spec = self.b.spec_of(node.func)
        if spec is None:
            return self.partial_spec(node.func) is not None
        return spec.apply is Apply.OBJECT

    def partial_spec(self, func: cst.BaseExpression) -> tuple[LayerSpec, cst.Call] | None:
        """``name`` bound only to ``functools.partial(<catalogued class>, ...)``."""
        if not isinstance(func, cst.Name) or not self.b.framework.partial_makers:
            return None
        name = func.value
        if name in self.info.complex_bound or name in self.info.closure_names:
            return None
        rhss = self.info.simple_rhs.get(name)
        if rhss is None:
            info = self.b.module_info
            if not self.module_visible or name in info.complex_bound:
                return None
            rhss = info.simple_rhs.get(name)
            if rhss is None:
                return None
        return self.b.partial_of(rhss)

    def family_vocab(self, family: int) -> Framework:
        """The vocabulary of the framework a class family derives from (the merged
        one when not known): a ``self.phase`` is MindSpore's state, not torch's."""
        facts = self.b.facts.families.get(family)
        name = facts.framework if facts is not None else ""
        return self.b.catalog.vocabulary(name) if name else self.b.framework

    def local(self, name: str) -> HolderRef:
        return HolderRef(("local", self.holder_scope.get(name, self.scope_id), name))

    def nested_visible(self) -> dict[str, int]:
        """The holders a scope nested here sees (a class body's own names are not
        visible in its methods)."""
        if self.is_class_body:
            return {n: s for n, s in self.holder_scope.items() if n not in self.own_holders}
        return dict(self.holder_scope)

    def rebound_elsewhere(self, declared: set[str]) -> None:
        """A nested function declares ``global``/``nonlocal`` names: where they are
        holders here (or at module level), they may be rebound to anything, and
        what they held is reached there."""
        for name in declared:
            for owner in {self.nested_visible().get(name), self.b.module_holders.get(name)}:
                if owner is not None:
                    holder = ("local", owner, name)
                    self.b.bind(holder, UNKNOWN)
                    self.b.use(HolderRef(holder), ESCAPED)

    def attr(self, name: str) -> HolderRef:
        assert self.family is not None
        if name in self.family_vocab(self.family).dynamic_attrs:
            # ``self._modules``, ``self.__dict__``: every holder of the class is
            # reached through it (however the expression goes on).
            self.b.facts.dynamic_holders.add(("attr", self.family))
        return HolderRef(("attr", self.family, name))

    def is_self(self, node: cst.BaseExpression) -> bool:
        return (
            self.self_name is not None
            and isinstance(node, cst.Name)
            and node.value == self.self_name
        )

    def self_attr(self, node: cst.BaseExpression) -> str | None:
        if isinstance(node, cst.Attribute) and self.is_self(node.value):
            return node.attr.value
        return None
