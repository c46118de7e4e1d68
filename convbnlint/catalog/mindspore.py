"""MindSpore layer catalog: ``mindspore.nn`` (``has_bias``) and the torch-like
``mindspore.mint.nn`` (``bias``).  Forward method: ``construct``.

Read from the real signatures (the mindspore 2.10.0 wheel; rechecked in
``tests/test_catalog_frameworks.py`` when it is cached):

* ``nn.Conv{1,2,3}d(in, out, kernel, stride, pad_mode, padding, dilation, group,
  has_bias=False, ...)``: ``has_bias`` 8 and **off by default**;
  ``nn.Conv{2,3}dTranspose``: ``has_bias`` 9 (``Conv2dTranspose`` puts
  ``output_padding`` at 6, ``Conv3dTranspose`` at 8); ``nn.Conv2d``/``Conv3d`` take
  ``data_format`` (11): NCHW or NHWC; ``nn.Conv1dTranspose`` has no
  ``output_padding``: ``has_bias`` 8;
* ``nn.Dense(in, out, weight_init, bias_init, has_bias=True, activation=None)``:
  4, ``activation`` 5; ``nn.Linear(in, out, bias=True)``: 2;
* ``nn.BatchNorm{1,2}d(num_features, eps, momentum, affine, gamma_init, beta_init,
  moving_mean_init, moving_var_init, use_batch_statistics=None, data_format)``:
  ``use_batch_statistics=False`` always uses the moving statistics (not trusted);
* ``mint.nn.Conv{1,2,3}d(in, out, kernel, stride, padding, dilation, groups,
  bias=True)``: 7; ``mint.nn.BatchNorm{1,2,3}d`` as torch;
* ``SequentialCell(*cells)`` or ``SequentialCell([cells])``.
"""

from __future__ import annotations

from convbnlint.catalog import Catalog, Framework, LayerSpec, Layout
from convbnlint.catalog import _torchlike as t

NN = ("mindspore.nn", "mindspore.nn.layer.conv", "mindspore.nn.layer.basic",
      "mindspore.nn.layer.normalization", "mindspore.nn.layer.container")
MINT = ("mindspore.mint.nn", "mindspore.mint.nn.layer.conv",
        "mindspore.mint.nn.layer.normalization", "mindspore.mint.nn.layer.basic")

_AXES = (("NCHW", (1,)), ("NCDHW", (1,)), ("NHWC", (-1,)))


def _layout(index: int | None, default: str = "NCHW") -> Layout:
    return Layout("data_format" if index is not None else None, index, default, _AXES)


# nn: moving = momentum * moving + (1 - momentum) * batch (momentum 1 keeps it); the
# docs announce torch's convention (0 keeps it) for a later version: neither is trusted.
_USES_BATCH = ((t.not_const("use_batch_statistics", 8, (False, 0)),
                t.learns(2, t.EMA_FROZEN_MOMENTUM + t.TORCH_FROZEN_MOMENTUM)),)
_MINT_MOVES = ((t.learns(2),),)


def _build() -> tuple[LayerSpec, ...]:
    specs = [
        t.conv(NN, "Conv1d", 8, bias_param="has_bias", bias_default=False, layout=_layout(None)),
        t.conv(NN, "Conv2d", 8, bias_param="has_bias", bias_default=False, layout=_layout(11)),
        t.conv(NN, "Conv3d", 8, bias_param="has_bias", bias_default=False,
               layout=_layout(11, "NCDHW")),
        t.conv(NN, "Conv1dTranspose", 8, bias_param="has_bias", bias_default=False,
               layout=_layout(None)),
        t.conv(NN, "Conv2dTranspose", 9, bias_param="has_bias", bias_default=False,
               layout=_layout(None)),
        t.conv(NN, "Conv3dTranspose", 9, bias_param="has_bias", bias_default=False,
               layout=_layout(12, "NCDHW")),
        t.linear(NN, "Dense", 4, bias_param="has_bias", channels_param="out_channels",
                 when=((t.ArgIs("activation", 5, (None,)),),), layout=_layout(None)),
        t.linear(NN, "Linear", layout=_layout(None)),
        t.norm(NN, "BatchNorm1d", for_linear=True, when=_USES_BATCH, layout=_layout(None)),
        t.norm(NN, "BatchNorm2d", when=_USES_BATCH, layout=_layout(9)),
        t.norm(NN, "BatchNorm3d", when=_USES_BATCH, layout=_layout(None, "NCDHW")),
        t.norm(NN, "SyncBatchNorm", when=_USES_BATCH, layout=_layout(None)),
    ]
    specs += [t.norm(NN, f"InstanceNorm{d}d", layout=_layout(None)) for d in (1, 2, 3)]
    specs.append(t.group_norm(NN, layout=_layout(None)))
    specs.append(t.sequential(NN, "SequentialCell", items_from="either"))
    for d in (1, 2, 3):
        specs.append(t.conv(MINT, f"Conv{d}d", layout=_layout(None)))
        specs.append(t.norm(MINT, f"BatchNorm{d}d", for_linear=d == 1, when=_MINT_MOVES,
                            layout=_layout(None)))
    specs.append(t.conv(MINT, "ConvTranspose2d", layout=_layout(None)))
    specs.append(t.linear(MINT, "Linear", layout=_layout(None)))
    specs.append(t.group_norm(MINT, layout=_layout(None)))
    return tuple(specs)


FRAMEWORK = Framework(
    name="mindspore",
    forward_methods=frozenset({"construct", "__call__"}),
    output_attrs=frozenset({"construct", "__call__", "register_forward_hook"}),
    submodule_enumerators=frozenset({"cells", "name_cells", "cells_and_names",
                                     "get_parameters", "trainable_params", "parameters_dict"}),
    submodule_registrars=frozenset({"insert_child_to_cell"}),
    # (name, cell) pairs; tensors, not cells.
    named_enumerators=frozenset({"cells_and_names"}),
    parameter_enumerators=frozenset({"get_parameters", "trainable_params", "parameters_dict"}),
    dynamic_attrs=frozenset({"__dict__", "_cells"}),
    container_appenders=frozenset({"append"}),
    container_mutators=frozenset({"insert", "extend", "pop", "__setitem__", "__delitem__"}),
    norm_statistics=frozenset({"moving_mean"}),
    partial_makers=frozenset({"functools.partial"}),
    state_attrs=frozenset({"training", "phase"}),
)

CATALOG = Catalog(FRAMEWORK, _build(), (b"BatchNorm", b"InstanceNorm", b"GroupNorm"))
