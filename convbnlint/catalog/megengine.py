"""MegEngine (``megengine.module``) layer catalog: torch-like, plus the fused
``ConvBn2d``/``ConvBnRelu2d`` whose own bias is dead.

MegEngine publishes no wheel for this Python, so the signatures were read from
its source (``megengine/module/conv.py``, ``conv_bn.py``, ``batchnorm.py``):
``Conv2d(in, out, kernel, stride, padding, dilation, groups, bias=True,
conv_mode, compute_mode, padding_mode)``: bias 7; ``Linear(in, out, bias)``: 2;
``BatchNorm2d(num_features, eps, momentum, affine, track_running_stats,
freeze=False)`` (``freeze=True`` keeps the running statistics: not trusted);
``ConvBn2d``/``ConvBnRelu2d(in, out, kernel, stride, padding, dilation, groups,
bias=True, ...)`` compute ``bn(conv(x))`` inside one module, so their ``bias=True``
is always cancelled (``LayerSpec.fused_norm``).
"""

from __future__ import annotations

from convbnlint.catalog import Catalog, Framework, LayerSpec
from convbnlint.catalog import _torchlike as t

P = ("megengine.module", "megengine.module.conv", "megengine.module.conv_bn",
     "megengine.module.batchnorm", "megengine.module.linear", "megengine.module.normalization",
     "megengine.module.sequential")

# running = momentum * running + (1 - momentum) * batch: momentum 1 (slot 2) keeps them.
_NOT_FROZEN = ((t.not_const("freeze", 5, (True, 1)), t.learns(2, t.EMA_FROZEN_MOMENTUM)),)


def _build() -> tuple[LayerSpec, ...]:
    specs = [t.conv(P, name) for name in ("Conv1d", "Conv2d", "Conv3d", "ConvTranspose2d",
                                          "ConvTranspose3d")]
    specs += [t.conv(P, name, fused_norm="BatchNorm2d") for name in ("ConvBn2d", "ConvBnRelu2d")]
    specs.append(t.linear(P, "Linear"))
    specs.append(t.norm(P, "BatchNorm1d", for_linear=True, when=_NOT_FROZEN))
    specs.append(t.norm(P, "BatchNorm2d", when=_NOT_FROZEN))
    specs.append(t.norm(P, "InstanceNorm"))
    specs.append(t.group_norm(P))
    specs.append(t.sequential(P))
    return tuple(specs)


FRAMEWORK = Framework(
    name="megengine",
    forward_methods=frozenset({"forward", "__call__"}),
    output_attrs=frozenset({"forward", "__call__", "register_forward_hook"}),
    submodule_enumerators=frozenset({"modules", "named_modules", "children",
                                     "named_children", "parameters", "named_parameters"}),
    dynamic_attrs=frozenset({"__dict__"}),
    container_mutators=frozenset({"insert", "append", "extend", "pop", "__setitem__",
                                  "__delitem__", "layer_values"}),
    norm_statistics=frozenset({"running_mean"}),
    partial_makers=frozenset({"functools.partial"}),
    state_attrs=frozenset({"training"}),
)

CATALOG = Catalog(FRAMEWORK, _build(), (b"BatchNorm", b"InstanceNorm", b"GroupNorm", b"ConvBn"))
