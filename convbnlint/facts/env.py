"""The walker's abstract state: contexts (where a value goes) and environments.

An :data:`Env` maps a local name to what it may hold: ids of invocations whose
output it may be, :data:`~convbnlint.ir.OTHER` (some other value), and module
references (:class:`~convbnlint.ir.ElementRef`, :class:`~convbnlint.ir.FamilyRef`,
parameters, returns); under a :data:`~convbnlint.ir.LIST` key, the
:class:`~convbnlint.ir.ListState` of a list of layers being built.  A name absent
from an env holds :data:`~convbnlint.ir.OTHER`.  :func:`merge_envs` joins the
states of two paths.
"""

from __future__ import annotations

from dataclasses import dataclass

from convbnlint.ir import LIST, OTHER, Ref

# --------------------------------------------------------------------------- contexts
# A context says where an expression's value goes.


@dataclass(frozen=True)
class Ctx:
    # escape | discard | bind | member | list | sole_input | callee | def | harmless
    # | test (a truth or identity test) | return | given (to code outside the file)
    kind: str
    ref: Ref | None = None
    seq: int = -1  # member, list
    index: int = -1
    inv: int = -1  # callee; sole_input: the consuming invocation


C_ESCAPE = Ctx("escape")

C_DISCARD = Ctx("discard")
C_BIND = Ctx("bind")
C_DEF = Ctx("def")
C_HARMLESS = Ctx("harmless")
C_TEST = Ctx("test")
C_RETURN = Ctx("return")
# Handed to code outside the file (``Builder.outside``): used there as a whole.
C_GIVEN = Ctx("given")
# Handed to a function of the framework not known to use it only as a whole
# (``fuse_modules(net, [["conv", "bn"]])``, ``IntermediateLayerGetter(net, ...)``):
# it may reach the instance's submodules by name.
C_HANDED = Ctx("handed")

# Passes over a loop body before giving up on a fixpoint (then everything live is forgotten).
LOOP_PASSES = 8

Env = dict[str, frozenset]


def merge_envs(*envs: Env | None) -> Env | None:
    live = [e for e in envs if e is not None]
    if not live:
        return None
    if len(live) == 1:
        return dict(live[0])
    out: dict = {}
    keys: set[str] = set()
    for env in live:
        keys.update(env)
    for key in keys:
        values = [env.get(key) for env in live]
        present = [v for v in values if v is not None]
        if key.startswith(LIST):
            merged = present[0]
            for v in present[1:]:
                merged = merged.union(v)
            if len(present) < len(values):
                merged = merged.with_partial()
            out[key] = merged
        else:
            acc: frozenset = frozenset()
            for v in present:
                acc = acc | v
            if len(present) < len(values):  # unset on some path
                acc = acc | {OTHER}
            out[key] = acc
    return out
