"""Equinox (``equinox.nn``) layer catalog.

Read from the real signatures (the equinox 0.13.8 wheel; rechecked in
``tests/test_catalog_frameworks.py``): ``Conv{1,2,3}d(in_channels, out_channels,
kernel_size, stride, padding, dilation, groups, use_bias=True (7), ...)``,
``ConvTranspose{1,2,3}d(in, out, kernel, stride, output_padding, padding,
dilation, groups, use_bias (8), ...)``, ``Linear(in_features, out_features,
use_bias (2), ...)``; ``GroupNorm(groups, channels)`` with one channel per group
is an instance norm.  Layers run on one example, channels first.

``BatchNorm`` is left out: in its default ``mode="ema"`` a bias survives
training, and in any mode it is called as ``bn(x, state)`` and returns
``(y, state)``.
"""

from __future__ import annotations

from convbnlint.catalog import ArgSame, Catalog, Framework, LayerSpec, Role

P = ("equinox.nn", "equinox.nn._conv", "equinox.nn._linear", "equinox.nn._normalisation",
     "equinox.nn._sequential")


def _n(cls: str) -> dict[str, object]:
    full = [f"{p}.{cls}" for p in P]
    return {"qualname": full[0], "aliases": tuple(full[1:])}


def _build() -> tuple[LayerSpec, ...]:
    specs: list[LayerSpec] = []
    for d in (1, 2, 3):
        specs.append(LayerSpec(role=Role.BIASED, family="conv", bias_param="use_bias",
                               bias_index=7, **_n(f"Conv{d}d")))  # type: ignore[arg-type]
        specs.append(LayerSpec(role=Role.BIASED, family="conv", bias_param="use_bias",
                               bias_index=8, **_n(f"ConvTranspose{d}d")))  # type: ignore[arg-type]
    specs.append(LayerSpec(role=Role.BIASED, family="linear", bias_param="use_bias",
                           bias_index=2, **_n("Linear")))  # type: ignore[arg-type]
    specs.append(LayerSpec(role=Role.CANCELLING_NORM,
                           when=((ArgSame("groups", 0, "channels", 1),),),
                           **_n("GroupNorm")))  # type: ignore[arg-type]
    specs.append(LayerSpec(role=Role.SEQUENTIAL, items_from="list", items_param="layers",
                           items_index=0, **_n("Sequential")))  # type: ignore[arg-type]
    return tuple(specs)


FRAMEWORK = Framework(
    name="equinox",
    forward_methods=frozenset({"__call__"}),
    partial_makers=frozenset({"functools.partial"}),
)

CATALOG = Catalog(FRAMEWORK, _build(), (b"GroupNorm",))
