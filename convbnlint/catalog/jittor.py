"""Jittor (``jittor.nn``) layer catalog: torch-like, forward method ``execute``.

Read from the real source (the jittor 1.3.11.0 sdist; rechecked in
``tests/test_catalog_frameworks.py``): ``Conv(in, out, kernel, stride, padding,
dilation, groups, bias=True)`` (``Conv2d = Conv``), ``Conv1d``, ``Conv3d``,
``ConvTranspose``/``ConvTranspose3d`` (``output_padding`` then ``groups``: bias 7),
``Linear(in, out, bias)``; ``BatchNorm(num_features, eps, momentum, affine,
is_train=True, sync)`` (``BatchNorm1d/2d/3d`` are the same class) and
``InstanceNorm`` cancel the bias, ``GroupNorm(c, c)`` too.  ``BatchNorm(...,
is_train=False)`` starts on its running statistics: not trusted.
"""

from __future__ import annotations

from convbnlint.catalog import Catalog, Framework, LayerSpec
from convbnlint.catalog import _torchlike as t

P = ("jittor.nn", "jittor.nn.modules")

# momentum (slot 2) as in torch: 0 keeps the running statistics.
_TRAINS = ((t.not_const("is_train", 4, t.NOT_FALSE), t.learns(2)),)


def _build() -> tuple[LayerSpec, ...]:
    specs = [t.conv(P, name) for name in ("Conv", "Conv1d", "Conv3d", "ConvTranspose",
                                          "ConvTranspose3d")]
    specs.append(t.conv(P, "Conv2d"))
    specs.append(t.conv(P, "ConvTranspose2d"))
    specs.append(t.linear(P, "Linear"))
    specs.append(t.norm(P, "BatchNorm", when=_TRAINS))
    specs.append(t.norm(P, "BatchNorm1d", for_linear=True, when=_TRAINS))
    specs += [t.norm(P, f"BatchNorm{d}d", when=_TRAINS) for d in (2, 3)]
    specs += [t.norm(P, name, when=_TRAINS) for name in
              ("InstanceNorm", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d")]
    specs.append(t.group_norm(P))
    specs.append(t.sequential(P, items_from="either"))
    return tuple(specs)


FRAMEWORK = Framework(
    name="jittor",
    forward_methods=frozenset({"execute", "__call__"}),
    output_attrs=frozenset({"execute", "__call__", "register_forward_hook"}),
    submodule_enumerators=frozenset({"modules", "named_modules", "children", "parameters",
                                     "named_parameters"}),
    submodule_registrars=frozenset({"add_module", "register_module"}),
    dynamic_attrs=frozenset({"__dict__", "_modules"}),
    container_appenders=frozenset({"append"}),
    container_mutators=frozenset({"insert", "extend", "pop", "__setitem__", "__delitem__",
                                  "layers"}),
    norm_statistics=frozenset({"running_mean"}),
    partial_makers=frozenset({"functools.partial"}),
    state_attrs=frozenset({"is_train", "is_training"}),
)

CATALOG = Catalog(FRAMEWORK, _build(), (b"BatchNorm", b"InstanceNorm", b"GroupNorm"))
