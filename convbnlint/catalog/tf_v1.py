"""TensorFlow 1 function-style layers: ``tf.compat.v1.layers`` (and TF1's ``tf.layers``).

Each function takes the input first and returns the output (``Apply.INPUT_ARG``):
``y = tf.compat.v1.layers.conv2d(x, 32, 3)``.  Read from the real signatures (the
tf_keras 2.21.0 wheel's ``legacy_tf_layers``, rechecked in
``tests/test_catalog_frameworks.py``):

* ``conv{1,2,3}d(inputs, filters, kernel_size, strides, padding, data_format,
  dilation_rate, activation, use_bias, ..., trainable, name, reuse)``:
  ``use_bias`` 8, ``activation`` 7, ``data_format`` 5, ``reuse`` 18;
* ``separable_conv{1,2}d``: ``use_bias`` 9, ``activation`` 8, ``reuse`` 22;
* ``conv{2,3}d_transpose``: ``use_bias`` 7, ``activation`` 6, ``reuse`` 17;
* ``dense(inputs, units, activation, use_bias, ...)``: 3, 2, ``reuse`` 13;
* ``batch_normalization(inputs, axis=-1, momentum=0.99, ..., training=False (14),
  trainable, name, reuse (17), renorm (18), ..., virtual_batch_size (22),
  adjustment (23))``.

``training`` defaults to False: the statistics are the moving ones, frozen while
training, so the norm cancels a bias only when ``training`` is passed and is not
the constant False.  A layer passed ``reuse`` shares variables with another call
of the same name: not a candidate.
"""

from __future__ import annotations

from convbnlint.catalog import Apply, ArgIs, Catalog, Framework, LayerSpec, Layout, Role

_PREFIXES = (
    "tensorflow.compat.v1.layers",
    "tensorflow.layers",
    "tensorflow.python.layers.convolutional",
    "tensorflow.python.layers.core",
    "tensorflow.python.layers.normalization",
    "tf_keras.src.legacy_tf_layers.convolutional",
    "tf_keras.src.legacy_tf_layers.core",
    "tf_keras.src.legacy_tf_layers.normalization",
    "keras.__internal__.legacy.layers",
    "tf_keras.__internal__.legacy.layers",
)

_LAYOUT_AXES = (("channels_last", (-1,)), ("channels_first", (1,)))


def _names(name: str) -> tuple[str, tuple[str, ...]]:
    names = [f"{p}.{name}" for p in _PREFIXES]
    return names[0], tuple(names[1:])


def _no_reuse(index: int) -> ArgIs:
    return ArgIs("reuse", index, (None, False))


def _build() -> tuple[LayerSpec, ...]:
    specs: list[LayerSpec] = []

    def biased(name: str, family: str, bias: int, act: int, fmt: int | None, reuse: int) -> None:
        qualname, aliases = _names(name)
        layout = (
            Layout("data_format", fmt, default="channels_last", axes=_LAYOUT_AXES)
            if fmt is not None
            else Layout(None, None, default="channels_last", axes=_LAYOUT_AXES)
        )
        specs.append(
            LayerSpec(
                qualname,
                Role.BIASED,
                family=family,
                bias_param="use_bias",
                bias_index=bias,
                aliases=aliases,
                apply=Apply.INPUT_ARG,
                input_param="inputs",
                input_index=0,
                when=((ArgIs("activation", act, (None, "linear")), _no_reuse(reuse)),),
                layout=layout,
            )
        )

    for dim in (1, 2, 3):
        biased(f"conv{dim}d", "conv", 8, 7, 5, 18)
    for dim in (1, 2):
        biased(f"separable_conv{dim}d", "conv", 9, 8, 5, 22)
    for dim in (2, 3):
        biased(f"conv{dim}d_transpose", "conv", 7, 6, 5, 17)
    biased("dense", "linear", 3, 2, None, 13)

    qualname, aliases = _names("batch_normalization")
    specs.append(
        LayerSpec(
            qualname,
            Role.CANCELLING_NORM,
            aliases=aliases,
            cancels=("conv", "linear"),
            apply=Apply.INPUT_ARG,
            input_param="inputs",
            input_index=0,
            when=(
                (
                    ArgIs("training", 14, (False, 0), absent_ok=False, negate=True, unknown_ok=True),
                    ArgIs("momentum", 2, (1, 1.0), negate=True, unknown_ok=True),
                    ArgIs("renorm", 18, (False, 0)),
                    ArgIs("virtual_batch_size", 22, (None,)),
                    ArgIs("adjustment", 23, (None,)),
                    _no_reuse(17),
                ),
            ),
            layout=Layout("axis", 1, default=-1, identity=True),
        )
    )
    return tuple(specs)


FRAMEWORK = Framework(name="tf_v1")

CATALOG = Catalog(
    framework=FRAMEWORK,
    specs=_build(),
    prefilter_tokens=(b"batch_norm",),
)
