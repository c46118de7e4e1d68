"""The walker's abstract state: contexts (where a value goes) and environments.

An :data:`Env` maps a local name to the invocations whose output it may hold (or,
under a :data:`~convbnlint.ir.LIST` key, the :class:`~convbnlint.ir.ListState` of a
list of layers being built); :func:`merge_envs` joins the states of two paths.
"""

from __future__ import annotations

from dataclasses import dataclass

from convbnlint.ir import LIST, Ref

# --------------------------------------------------------------------------- contexts
# A context says where an expression's value goes.


@dataclass(frozen=True)
class Ctx:
    kind: str  # escape | discard | bind | item | sole_input | callee | def | harmless
    ref: Ref | None = None  # sole_input: the consuming module
    seq: int = -1  # item
    index: int = -1  # item
    inv: int = -1  # callee
    # sole_input: the call's other arguments, as (keyword, constant) pairs.
    keywords: tuple[tuple[str, object], ...] = ()


C_ESCAPE = Ctx("escape")

C_DISCARD = Ctx("discard")
C_BIND = Ctx("bind")
C_DEF = Ctx("def")
C_HARMLESS = Ctx("harmless")

# Passes over a loop body before giving up on a fixpoint (then everything live is forgotten).
LOOP_PASSES = 8

Env = dict[str, frozenset[int]]


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
            acc: frozenset[int] = frozenset()
            for v in present:
                acc = acc | v
            out[key] = acc
    return out
