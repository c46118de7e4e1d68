"""PaddlePaddle (``paddle.nn``) layer catalog.

Read from the real signatures (the paddlepaddle 3.3.1 wheel; rechecked in
``tests/test_catalog_frameworks.py`` when it is cached):

* ``Conv{1,2,3}D(in, out, kernel, stride, padding, dilation, groups, *, bias=True,
  padding_mode, device, dtype, weight_attr, bias_attr=None, data_format)``: Paddle 3
  made the tail keyword-only; Paddle 2 had ``(..., groups, padding_mode,
  weight_attr, bias_attr, data_format)``, so a positional ``bias_attr`` sits at 9
  and ``data_format`` at 10;
* ``Conv{1,2,3}DTranspose(in, out, kernel, stride, padding, output_padding, ...,
  weight_attr, bias_attr (9), data_format (10))``;
* ``Linear(in_features, out_features, weight_attr, bias_attr (3), name)``;
* ``BatchNorm{1,2,3}D(num_features, momentum, epsilon, weight_attr, bias_attr,
  data_format (5), use_global_stats (6), name)``, ``SyncBatchNorm`` (no
  ``use_global_stats``), the older ``BatchNorm(num_channels, act, is_test (2), ...,
  data_layout (8), ..., use_global_stats (13), trainable_statistics)``,
  ``InstanceNorm{1,2,3}D(..., data_format (5))``, ``GroupNorm(num_groups,
  num_channels, ...)``.

The bias is off when ``bias_attr=False`` (the fix) or, in Paddle 3, ``bias=False``
(``bias is False``); ``bias_attr=None``/``True``/a ``ParamAttr`` keep it.  A norm's
own ``bias_attr=False`` turns off *its* offset; it still subtracts the mean.
``use_global_stats=True`` (or ``is_test=True``) freezes the statistics, and so
does ``momentum=1`` (``running = momentum * running + (1 - momentum) * batch``: the
running mean never learns the bias, which then survives in eval mode): not
trusted.  Layouts: ``NCHW``-style (channel axis 1, the default) or ``NHWC``-style
(last axis), on the conv and on the norm alike.
"""

from __future__ import annotations

from convbnlint.catalog import ArgIs, Catalog, Framework, LayerSpec, Layout, Role

P = ("paddle.nn", "paddle.nn.layer", "paddle.nn.layer.conv", "paddle.nn.layer.common",
     "paddle.nn.layer.norm", "paddle.nn.layer.container")

_AXES = tuple((f, (1,)) for f in ("NCL", "NCHW", "NCDHW", "NC")) + tuple(
    (f, (-1,)) for f in ("NLC", "NHWC", "NDHWC")
)
_BIAS_ATTR = ((False, False), (True, True), (None, True))
_PADDLE3_BIAS = (ArgIs("bias", None, (False,)),)


def _n(cls: str) -> dict[str, object]:
    full = [f"{p}.{cls}" for p in P]
    return {"qualname": full[0], "aliases": tuple(full[1:])}


def _layout(index: int | None, default: str) -> Layout:
    return Layout("data_format", index, default, _AXES)


def _build() -> tuple[LayerSpec, ...]:
    specs: list[LayerSpec] = []
    fmt = {1: "NCL", 2: "NCHW", 3: "NCDHW"}
    for d in (1, 2, 3):
        for cls, also in ((f"Conv{d}D", _PADDLE3_BIAS), (f"Conv{d}DTranspose", ())):
            specs.append(
                LayerSpec(role=Role.BIASED, family="conv", bias_param="bias_attr",
                          bias_index=9, bias_values=_BIAS_ATTR, bias_also=also,
                          layout=_layout(10, fmt[d]), **_n(cls))  # type: ignore[arg-type]
            )
    specs.append(
        LayerSpec(role=Role.BIASED, family="linear", bias_param="bias_attr", bias_index=3,
                  bias_values=_BIAS_ATTR, channels_param="out_features", channels_index=1,
                  layout=Layout(None, None, "N..C", (("N..C", (1, -1)),)),
                  **_n("Linear"))  # type: ignore[arg-type]
    )
    not_global = ArgIs("use_global_stats", 6, (True, 1), negate=True)
    learns = ArgIs("momentum", 1, (1, 1.0), negate=True, unknown_ok=True)
    for d in (1, 2, 3):
        extra: dict[str, object] = {}
        if d == 1:
            extra = {"cancels": ("conv", "linear"), "channels_param": "num_features",
                     "channels_index": 0}
        specs.append(
            LayerSpec(role=Role.CANCELLING_NORM, when=((not_global, learns),),
                      layout=_layout(5, fmt[d]), **_n(f"BatchNorm{d}D"), **extra)  # type: ignore[arg-type]
        )
        specs.append(
            LayerSpec(role=Role.CANCELLING_NORM, layout=_layout(5, fmt[d]),
                      **_n(f"InstanceNorm{d}D"))  # type: ignore[arg-type]
        )
    specs.append(
        LayerSpec(role=Role.CANCELLING_NORM, layout=_layout(5, "NCHW"), when=((learns,),),
                  **_n("SyncBatchNorm"))  # type: ignore[arg-type]
    )
    specs.append(
        LayerSpec(
            role=Role.CANCELLING_NORM,
            when=((ArgIs("is_test", 2, (True, 1), negate=True),
                   ArgIs("momentum", 3, (1, 1.0), negate=True, unknown_ok=True),
                   ArgIs("use_global_stats", 13, (True, 1), negate=True)),),
            layout=Layout("data_layout", 8, "NCHW", _AXES),
            **_n("BatchNorm"),  # type: ignore[arg-type]
        )
    )
    from convbnlint.catalog import ArgSame

    specs.append(
        LayerSpec(role=Role.CANCELLING_NORM,
                  when=((ArgSame("num_groups", 0, "num_channels", 1),),),
                  layout=Layout("data_format", None, "NCHW", _AXES),
                  **_n("GroupNorm"))  # type: ignore[arg-type]
    )
    specs.append(LayerSpec(role=Role.SEQUENTIAL, **_n("Sequential")))  # type: ignore[arg-type]
    return tuple(specs)


FRAMEWORK = Framework(
    name="paddle",
    forward_methods=frozenset({"forward", "__call__"}),
    output_attrs=frozenset({"forward", "__call__", "register_forward_post_hook"}),
    submodule_enumerators=frozenset({"sublayers", "named_sublayers", "children",
                                     "named_children", "parameters", "named_parameters"}),
    submodule_registrars=frozenset({"add_sublayer"}),
    dynamic_attrs=frozenset({"__dict__", "_sub_layers"}),
    container_mutators=frozenset({"insert", "append", "extend", "pop", "__setitem__",
                                  "__delitem__"}),
    norm_statistics=frozenset({"_mean"}),
    partial_makers=frozenset({"functools.partial"}),
    state_attrs=frozenset({"training"}),
)

CATALOG = Catalog(FRAMEWORK, _build(), (b"BatchNorm", b"InstanceNorm", b"GroupNorm"))
