"""One pass over a parsed module that records *facts*, not diagnostics.

The walker records:

* every call of a catalogued class as a :class:`~convbnlint.ir.Site` (its spec,
  bias state and, for containers, its ordered items);
* *holders*: places that hold a module object -- ``self.<attr>`` of a class (per
  family of classes related by inheritance inside the module) and local names
  assigned a layer -- with everything ever bound to them;
* every occurrence of a site or holder with the context it occurs in (bound to a
  holder, an item of a container, called, a harmless attribute read, or anything
  else, which is an *escape*);
* *invocations* (calls of a module object) and, through a small flow-sensitive
  reaching-definitions pass over each function body, where their output goes:
  the sole input of another module call, or anywhere else (escape).

Anything the walker does not model is an escape, so the analysis stays sound:
unknown means no finding.  The analysis over these facts lives in
:mod:`convbnlint.analysis` and never touches libcst.

Layout (one module per concern): :mod:`.builder` (identities, families,
factories), :mod:`.prescan` (what each scope binds), :mod:`.env` (contexts and
abstract environments), :mod:`.scope` (the walker) with its parts
:mod:`.statements`, :mod:`.expressions`, :mod:`.calls` and :mod:`.containers`,
and :mod:`.arguments` (bias states and argument conditions).  Framework names
come from the catalog's :class:`~convbnlint.catalog.Framework`, never from here.
"""

from __future__ import annotations

import libcst as cst

from convbnlint.catalog import Catalog
from convbnlint.facts import prescan as _prescan
from convbnlint.facts.arguments import bias_state, constant_truth, helper_bias, is_transparent
from convbnlint.facts.builder import FactBuilder
from convbnlint.syntax.names import LibcstNames, NameResolver

__all__ = [
    "FactBuilder",
    "LibcstNames",
    "NameResolver",
    "bias_state",
    "collect",
    "constant_truth",
    "helper_bias",
    "is_transparent",
]


def collect(
    module: cst.Module,
    catalog: Catalog,
    names: NameResolver | None = None,
    ghosts: frozenset[str] = frozenset(),
) -> FactBuilder:
    """Walk ``module`` and return the builder holding its facts and node table.

    ``ghosts``: classes of the module blanked out of ``module`` by the blocks stage
    (:class:`convbnlint.syntax.stages.Plan`)."""
    builder = FactBuilder(module, catalog, names or LibcstNames(module))
    builder.ghosts = ghosts
    _prescan.clear_memos()
    try:
        builder.build()
    finally:
        _prescan.clear_memos()
    return builder
