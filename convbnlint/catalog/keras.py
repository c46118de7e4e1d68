"""Keras layer catalog: Keras 3 (``keras.layers``), ``tf.keras`` and ``tf_keras`` (Keras 2).

Read from the real signatures (``tests/test_catalog_frameworks.py`` rechecks them
against the Keras 3.15.1 and tf_keras 2.21.0 wheels with :mod:`ast`):

* ``Conv{1,2,3}D(filters, kernel_size, strides, padding, data_format, dilation_rate,
  groups, activation, use_bias, ...)``: ``use_bias`` 8, ``activation`` 7,
  ``data_format`` 4;
* ``Conv{1,2}DTranspose(filters, kernel_size, strides, padding, output_padding,
  data_format, dilation_rate, activation, use_bias, ...)``: 8, 7, 5;
  ``Conv3DTranspose`` puts ``data_format`` (4) before ``output_padding`` in Keras 3
  and after it (5) in Keras 2, so a positional slot 4 or 5 there is not read;
* ``DepthwiseConv{1,2}D(kernel_size, strides, padding, depth_multiplier,
  data_format, dilation_rate, activation, use_bias, ...)``: 7, 6, 4;
* ``SeparableConv{1,2}D(filters, kernel_size, strides, padding, data_format,
  dilation_rate, depth_multiplier, activation, use_bias, ...)``: 8, 7, 4;
* ``Dense(units, activation, use_bias, ...)``: 2, 1;
* ``BatchNormalization(axis=-1, momentum=0.99, ...)``; Keras 3 also
  ``renorm`` (13), Keras 2 ``renorm``/``adjustment``/``trainable`` in ``**kwargs``;
  ``call(inputs, training=None, mask=None)``;
* ``GroupNormalization(groups=32, axis=-1, ...)``: ``groups=-1`` is an instance norm.

A biased layer is a candidate only without an activation (``activation`` absent,
None or ``"linear"``).  A convolution's channels are on the last axis unless
``data_format="channels_first"``; its default comes from
``keras.config.image_data_format()``, assumed ``"channels_last"`` unless the
project sets ``image-data-format`` or the checked file calls
``set_image_data_format``.  A ``BatchNormalization`` cancels the bias only when
its ``axis`` is that channel axis, its statistics are not frozen
(``trainable=False``, ``training=False`` at the call, ``momentum=1``), and
without ``renorm`` or an ``adjustment``.  A file that may freeze a layer or model
in a way the walker does not tie to its norms gets no Keras finding: a write of
``trainable`` other than the constant True anywhere (``model.trainable = False``,
``keras.Model(inputs, outputs, trainable=False)``, which freezes every layer between
them), ``_trainable``, a global inference phase (``set_learning_phase``), a
``setattr`` of an unknown name (:mod:`convbnlint.syntax.freezers`).  Reads
(``layer.trainable``, ``model.trainable_weights``) and ``trainable=True`` do not count.
"""

from __future__ import annotations

from convbnlint.catalog import ArgIs, Catalog, Framework, LayerSpec, Layout, Role

SETTING = "image-data-format"

# Import paths of the same classes: Keras 3, tf.keras (Keras 3 or 2 by TF version),
# tf_keras (Keras 2) and Keras 2's own module paths.
_LAYER_PREFIXES = (
    "keras.layers",
    "keras.src.layers",
    "keras.api.layers",
    "tensorflow.keras.layers",
    "tensorflow.python.keras.layers",
    "tf_keras.layers",
    "tf_keras.src.layers",
)
_MODEL_PREFIXES = ("keras", "keras.models", "tensorflow.keras", "tensorflow.keras.models",
                   "tf_keras", "tf_keras.models", "keras.src.models", "keras.api.models",
                   "keras.api", "tensorflow.python.keras.models")


def _names(*classes: str, prefixes: tuple[str, ...] = _LAYER_PREFIXES) -> tuple[str, tuple[str, ...]]:
    all_names = [f"{p}.{c}" for c in classes for p in prefixes]
    return all_names[0], tuple(all_names[1:])


# No activation on the layer: absent, None or "linear" (the identity).
def _no_activation(index: int | None) -> tuple[ArgIs, ...]:
    return (ArgIs("activation", index, (None, "linear")),)


def _conv_layout(rank: int, index: int | None) -> Layout:
    return Layout(
        "data_format",
        index,
        default="channels_last",
        axes=(("channels_last", (-1, rank + 1)), ("channels_first", (1,))),
        setting=SETTING,
    )


# A positional slot that must stay unused (its meaning differs between versions).
def _slot_unused(index: int) -> ArgIs:
    return ArgIs("\0", index, (), absent_ok=True)


def _build() -> tuple[LayerSpec, ...]:
    specs: list[LayerSpec] = []

    def biased(classes: tuple[str, ...], family: str, bias: int, act: int | None,
               layout: Layout | None, extra: tuple[ArgIs, ...] = ()) -> None:
        qualname, aliases = _names(*classes)
        specs.append(
            LayerSpec(
                qualname,
                Role.BIASED,
                family=family,
                bias_param="use_bias",
                bias_index=bias,
                aliases=aliases,
                when=(_no_activation(act) + extra,),
                layout=layout,
            )
        )

    for rank in (1, 2, 3):
        biased((f"Conv{rank}D", f"Convolution{rank}D"), "conv", 8, 7, _conv_layout(rank, 4))
        transpose = (f"Conv{rank}DTranspose", f"Convolution{rank}DTranspose")
        if rank == 3:
            biased(transpose, "conv", 8, 7, _conv_layout(rank, None),
                   (_slot_unused(4), _slot_unused(5)))
        else:
            biased(transpose, "conv", 8, 7, _conv_layout(rank, 5))
    for rank in (1, 2):
        biased((f"DepthwiseConv{rank}D",), "conv", 7, 6, _conv_layout(rank, 4))
        biased((f"SeparableConv{rank}D", f"SeparableConvolution{rank}D"), "conv", 8, 7,
               _conv_layout(rank, 4))
    # Dense: the bias is per unit on the last axis (any input rank).
    biased(("Dense",), "linear", 2, 1, Layout(None, None, default="last", axes=(("last", (-1,)),)))

    norm_layout = Layout("axis", 0, default=-1, identity=True)
    not_frozen = (
        ArgIs("trainable", None, (False, 0), negate=True, unknown_ok=False),
        ArgIs("momentum", 1, (1, 1.0), negate=True, unknown_ok=False),
        ArgIs("renorm", 13, (False, 0)),
        ArgIs("adjustment", None, (None,)),
        ArgIs("virtual_batch_size", None, (None,)),
    )
    training = ((ArgIs("training", None, (False, 0), negate=True, unknown_ok=True),),)
    for classes in (("BatchNormalization",), ("SyncBatchNormalization",)):
        qualname, aliases = _names(*classes)
        aliases += tuple(
            f"{p}.experimental.{c}" for c in classes for p in _LAYER_PREFIXES
        )
        specs.append(
            LayerSpec(
                qualname,
                Role.CANCELLING_NORM,
                aliases=aliases,
                cancels=("conv", "linear"),
                when=(not_frozen,),
                call_params=frozenset({"training"}),
                call_when=training,
                layout=norm_layout,
            )
        )
    qualname, aliases = _names("GroupNormalization")
    specs.append(
        LayerSpec(
            qualname,
            Role.CANCELLING_NORM,
            aliases=aliases,
            cancels=("conv",),
            # groups=-1: one channel per group, an instance norm.
            when=((ArgIs("groups", 0, (-1,), absent_ok=False),
                   ArgIs("trainable", None, (False, 0), negate=True)),),
            call_params=frozenset({"training"}),
            layout=Layout("axis", 1, default=-1, identity=True),
        )
    )
    qualname, aliases = _names("Sequential", prefixes=_MODEL_PREFIXES)
    specs.append(
        LayerSpec(
            qualname,
            Role.SEQUENTIAL,
            aliases=aliases,
            items_from="list",
            items_param="layers",
            items_index=0,
            when=((ArgIs("trainable", 1, (False, 0), negate=True),),),
        )
    )
    return tuple(specs)


FRAMEWORK = Framework(
    name="keras",
    forward_methods=frozenset({"call"}),
    init_methods=frozenset({"__init__", "build"}),
    # Reads of a layer's output through the layer object.
    output_attrs=frozenset({"call", "__call__", "output", "outputs", "get_output_at",
                            "inbound_nodes", "_inbound_nodes", "compute_output_spec"}),
    submodule_enumerators=frozenset({"_flatten_layers", "get_layer"}),
    dynamic_attrs=frozenset({"_layers", "_self_tracked_trackables", "submodules"}),
    tensor_meta_attrs=frozenset({"shape", "dtype", "ndim"}),
    container_appenders=frozenset({"add"}),
    container_mutators=frozenset({"pop", "layers", "_layers", "get_layer"}),
    norm_statistics=frozenset({"moving_mean"}),
    state_loaders=frozenset({"set_weights", "load_weights", "load_own_variables"}),
    mode_call_params=frozenset({"training"}),
    class_registrars=frozenset({"keras_export", "register_keras_serializable"}),
    partial_makers=frozenset({"functools.partial"}),
    state_attrs=frozenset({"trainable", "training"}),
    # Methods of a model that use it as a whole or only read it.
    harmless_methods=frozenset(
        {"summary", "save", "save_weights", "load_weights", "export", "compile", "fit",
         "evaluate", "predict", "count_params", "get_config", "to_json", "get_weights",
         "set_weights", "build"}
    ),
    default_changers=("set_image_data_format",),
    # Writes that may freeze norms the walker cannot tie them to (a model built
    # from tensors holds every layer between them): convbnlint/syntax/freezers.py.
    freezers=(("trainable", "keras"), ("_trainable", "keras"),
              ("set_learning_phase", "keras"), ("learning_phase_scope", "keras")),
)

CATALOG = Catalog(
    framework=FRAMEWORK,
    specs=_build(),
    prefilter_tokens=(b"BatchNorm", b"GroupNorm"),
)
