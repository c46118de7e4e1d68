"""Flax layer catalog: ``flax.linen`` and ``flax.nnx``.  Channels are last.

Read from the real sources (the flax 0.12.8 wheel; rechecked in
``tests/test_catalog_frameworks.py``):

* linen modules are dataclasses, their fields the constructor's arguments in
  order: ``Conv(features, kernel_size, strides, padding, input_dilation,
  kernel_dilation, feature_group_count, use_bias, ...)``: 7;
  ``ConvTranspose(features, kernel_size, strides, padding, kernel_dilation,
  use_bias, ...)``: 5; ``Dense(features, use_bias, ...)``: 1;
  ``BatchNorm(use_running_average, axis=-1, momentum=0.99, ...)`` and
  ``__call__(x, use_running_average=None, *, mask=None)``;
  ``InstanceNorm(epsilon, ..., feature_axes=-1 (7))``;
  ``GroupNorm(num_groups=32, group_size=None, ...)``;
* nnx: ``Conv(in_features, out_features, kernel_size, strides, *, ...,
  use_bias=True)``, ``ConvTranspose``, ``Linear(in_features, out_features, *,
  use_bias=True)``; ``BatchNorm(num_features, *, use_running_average=False,
  axis=-1, momentum=0.99, ...)``, ``InstanceNorm(num_features, *, ...,
  feature_axes=-1)``, ``GroupNorm(num_features, num_groups=32, group_size=None)``.

``ConvLocal`` is left out on purpose: its bias is per output position, which a
per-channel mean does not remove.  ``use_running_average=True`` (a constant, at
construction or at the call) freezes the statistics: not trusted.
``DenseGeneral``/``LinearGeneral`` (several output axes) are left out.
"""

from __future__ import annotations

from convbnlint.catalog import ArgIs, Catalog, Framework, LayerSpec, Layout, Role

LINEN = ("flax.linen", "flax.linen.linear", "flax.linen.normalization",
         "flax.linen.combinators")
NNX = ("flax.nnx", "flax.nnx.nn.linear", "flax.nnx.nn.normalization", "flax.experimental.nnx")

LAST = Layout(None, None, "last", (("last", (-1,)),))


def _n(prefixes: tuple[str, ...], cls: str) -> dict[str, object]:
    full = [f"{p}.{cls}" for p in prefixes]
    return {"qualname": full[0], "aliases": tuple(full[1:])}


def _biased(prefixes: tuple[str, ...], cls: str, family: str, index: int | None) -> LayerSpec:
    return LayerSpec(role=Role.BIASED, family=family, bias_param="use_bias", bias_index=index,
                     layout=LAST, **_n(prefixes, cls))  # type: ignore[arg-type]


def _running(index: int | None) -> ArgIs:
    return ArgIs("use_running_average", index, (True, 1), negate=True, unknown_ok=True)


def _build() -> tuple[LayerSpec, ...]:
    specs = [
        _biased(LINEN, "Conv", "conv", 7),
        _biased(LINEN, "ConvTranspose", "conv", 5),
        _biased(LINEN, "Dense", "linear", 1),
        _biased(NNX, "Conv", "conv", None),
        _biased(NNX, "ConvTranspose", "conv", None),
        _biased(NNX, "Linear", "linear", None),
    ]
    call = dict(
        call_params=frozenset({"use_running_average", "mask"}),
        call_when=((_running(None),),),
        cancels=("conv", "linear"),
    )
    specs.append(
        LayerSpec(role=Role.CANCELLING_NORM,
                  when=((_running(0), ArgIs("momentum", 2, (1, 1.0), negate=True,
                                            unknown_ok=True)),),
                  layout=Layout("axis", 1, -1, identity=True),
                  **_n(LINEN, "BatchNorm"), **call)  # type: ignore[arg-type]
    )
    specs.append(
        LayerSpec(role=Role.CANCELLING_NORM,
                  when=((_running(None), ArgIs("momentum", None, (1, 1.0), negate=True,
                                               unknown_ok=True)),),
                  layout=Layout("axis", None, -1, identity=True),
                  **_n(NNX, "BatchNorm"), **call)  # type: ignore[arg-type]
    )
    specs.append(
        LayerSpec(role=Role.CANCELLING_NORM, layout=Layout("feature_axes", 7, -1, identity=True),
                  call_params=frozenset({"mask"}), **_n(LINEN, "InstanceNorm"))  # type: ignore[arg-type]
    )
    specs.append(
        LayerSpec(role=Role.CANCELLING_NORM,
                  layout=Layout("feature_axes", None, -1, identity=True),
                  call_params=frozenset({"mask"}), **_n(NNX, "InstanceNorm"))  # type: ignore[arg-type]
    )
    # One channel per group: group_size=1 (num_groups must then be None).
    specs.append(
        LayerSpec(role=Role.CANCELLING_NORM,
                  when=((ArgIs("group_size", 1, (1,), absent_ok=False),
                         ArgIs("num_groups", 0, (None,), absent_ok=False)),),
                  layout=LAST, call_params=frozenset({"mask"}),
                  **_n(LINEN, "GroupNorm"))  # type: ignore[arg-type]
    )
    specs.append(
        LayerSpec(role=Role.CANCELLING_NORM,
                  when=((ArgIs("group_size", 2, (1,), absent_ok=False),
                         ArgIs("num_groups", 1, (None,), absent_ok=False)),),
                  layout=LAST, call_params=frozenset({"mask"}),
                  **_n(NNX, "GroupNorm"))  # type: ignore[arg-type]
    )
    specs.append(LayerSpec(role=Role.SEQUENTIAL, items_from="list", items_param="layers",
                           items_index=0, **_n(LINEN, "Sequential")))  # type: ignore[arg-type]
    specs.append(LayerSpec(role=Role.SEQUENTIAL, **_n(NNX, "Sequential")))  # type: ignore[arg-type]
    return tuple(specs)


FRAMEWORK = Framework(
    name="flax",
    forward_methods=frozenset({"__call__"}),
    init_methods=frozenset({"__init__", "setup"}),
    output_attrs=frozenset({"__call__", "apply", "init", "init_with_output", "bind"}),
    submodule_enumerators=frozenset({"iter_modules", "iter_children", "variables"}),
    dynamic_attrs=frozenset({"__dict__"}),
    tensor_meta_attrs=frozenset({"shape", "dtype", "ndim"}),
    container_mutators=frozenset({"layers"}),
    partial_makers=frozenset({"functools.partial"}),
)

CATALOG = Catalog(FRAMEWORK, _build(), (b"BatchNorm", b"InstanceNorm", b"GroupNorm"))
