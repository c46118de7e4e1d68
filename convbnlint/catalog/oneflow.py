"""OneFlow (``oneflow.nn``) layer catalog: torch-like.

Read from the real signatures (the oneflow 0.7.0 wheel, the newest on PyPI;
rechecked in ``tests/test_catalog_frameworks.py``): ``Conv{1,2,3}d`` and
``ConvTranspose{1,2,3}d`` put ``bias`` at 7 as torch does, ``Linear(in, out,
bias)`` at 2; ``BatchNorm{1,2,3}d``, ``InstanceNorm{1,2,3}d`` and the fused
``FusedBatchNorm{1,2,3}d`` (``ReLU(BN(x) + addend)``; with the input alone the BN
subtracts the mean first) cancel the bias; ``GroupNorm(c, c)`` too.  Forward:
``forward``.
"""

from __future__ import annotations

from convbnlint.catalog import Catalog, Framework, LayerSpec
from convbnlint.catalog import _torchlike as t

P = ("oneflow.nn", "oneflow.nn.modules.conv", "oneflow.nn.modules.batchnorm",
     "oneflow.nn.modules.batchnorm_fused", "oneflow.nn.modules.instancenorm",
     "oneflow.nn.modules.linear", "oneflow.nn.modules.normalization",
     "oneflow.nn.modules.container")


# torch's convention: momentum 0 (slot 2) keeps the running statistics.
_MOVES = ((t.learns(2),),)


def _build() -> tuple[LayerSpec, ...]:
    specs = []
    for d in (1, 2, 3):
        specs.append(t.conv(P, f"Conv{d}d"))
        specs.append(t.conv(P, f"ConvTranspose{d}d"))
        specs.append(t.norm(P, f"BatchNorm{d}d", for_linear=d == 1, when=_MOVES))
        specs.append(t.norm(P, f"FusedBatchNorm{d}d", for_linear=d == 1, when=_MOVES))
        specs.append(t.norm(P, f"InstanceNorm{d}d", when=_MOVES))
    specs.append(t.linear(P, "Linear"))
    specs.append(t.group_norm(P))
    specs.append(t.sequential(P))
    return tuple(specs)


FRAMEWORK = Framework(
    name="oneflow",
    forward_methods=frozenset({"forward", "__call__"}),
    output_attrs=frozenset({"forward", "__call__", "register_forward_hook"}),
    submodule_enumerators=frozenset(
        {"modules", "named_modules", "children", "named_children", "parameters",
         "named_parameters"}
    ),
    submodule_registrars=frozenset({"add_module", "register_module"}),
    dynamic_attrs=frozenset({"__dict__", "_modules"}),
    container_appenders=frozenset({"append"}),
    container_mutators=frozenset({"insert", "extend", "pop", "__setitem__", "__delitem__"}),
    norm_statistics=frozenset({"running_mean"}),
    norm_resetters=frozenset({"reset_running_stats", "reset_parameters"}),
    partial_makers=frozenset({"functools.partial"}),
    state_attrs=frozenset({"training"}),
)

CATALOG = Catalog(FRAMEWORK, _build(), (b"BatchNorm", b"InstanceNorm", b"GroupNorm"))
