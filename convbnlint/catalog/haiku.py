"""Haiku (``haiku``) layer catalog.  Channels last unless ``data_format`` says first.

Read from the real signatures (the dm-haiku 0.0.17 wheel; rechecked in
``tests/test_catalog_frameworks.py``): ``Conv{1,2,3}D(output_channels,
kernel_shape, stride, rate, padding, with_bias=True (5), w_init, b_init,
data_format (8), ...)``, ``Conv{1,2,3}DTranspose(output_channels, kernel_shape,
stride, output_shape, padding, with_bias (5), w_init, b_init, data_format (8))``,
``Linear(output_size, with_bias (1), ...)``; ``BatchNorm(create_scale,
create_offset, decay_rate, eps, scale_init, offset_init, axis (6), ...,
data_format (9))`` called as ``bn(x, is_training, test_local_stats=False)``;
``InstanceNorm(create_scale, create_offset, eps, scale_init, offset_init,
data_format (5))``.  ``is_training=False`` uses the moving statistics: not trusted.
"""

from __future__ import annotations

from convbnlint.catalog import ArgIs, Catalog, Framework, LayerSpec, Layout, Role

P = ("haiku", "haiku.nets", "haiku._src.conv", "haiku._src.basic", "haiku._src.batch_norm",
     "haiku._src.layer_norm")
_AXES = tuple((f, (-1,)) for f in ("NWC", "NHWC", "NDHWC", "channels_last")) + tuple(
    (f, (1,)) for f in ("NCW", "NCHW", "NCDHW", "channels_first")
)


def _n(cls: str) -> dict[str, object]:
    full = [f"{p}.{cls}" for p in P]
    return {"qualname": full[0], "aliases": tuple(full[1:])}


def _build() -> tuple[LayerSpec, ...]:
    specs: list[LayerSpec] = []
    fmt = {1: "NWC", 2: "NHWC", 3: "NDHWC"}
    for d in (1, 2, 3):
        for cls in (f"Conv{d}D", f"Conv{d}DTranspose"):
            specs.append(LayerSpec(role=Role.BIASED, family="conv", bias_param="with_bias",
                                   bias_index=5, layout=Layout("data_format", 8, fmt[d], _AXES),
                                   **_n(cls)))  # type: ignore[arg-type]
    specs.append(LayerSpec(role=Role.BIASED, family="linear", bias_param="with_bias",
                           bias_index=1, layout=Layout(None, None, "NHWC", _AXES),
                           **_n("Linear")))  # type: ignore[arg-type]
    specs.append(
        LayerSpec(
            role=Role.CANCELLING_NORM,
            cancels=("conv", "linear"),
            when=((ArgIs("axis", 6, (None,)),
                   ArgIs("decay_rate", 2, (1, 1.0), negate=True, unknown_ok=True)),),
            call_params=frozenset({"is_training", "#1", "test_local_stats"}),
            call_when=((ArgIs("is_training", 1, (False, 0), absent_ok=False, negate=True,
                              unknown_ok=True),),),
            layout=Layout("data_format", 9, "channels_last", _AXES),
            **_n("BatchNorm"),  # type: ignore[arg-type]
        )
    )
    specs.append(LayerSpec(role=Role.CANCELLING_NORM,
                           layout=Layout("data_format", 5, "channels_last", _AXES),
                           **_n("InstanceNorm")))  # type: ignore[arg-type]
    specs.append(LayerSpec(role=Role.SEQUENTIAL, items_from="list", items_param="layers",
                           items_index=0, **_n("Sequential")))  # type: ignore[arg-type]
    return tuple(specs)


FRAMEWORK = Framework(
    name="haiku",
    forward_methods=frozenset({"__call__"}),
    partial_makers=frozenset({"functools.partial"}),
)

CATALOG = Catalog(FRAMEWORK, _build(), (b"BatchNorm", b"InstanceNorm"))
