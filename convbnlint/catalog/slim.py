"""TF-slim (``tf_slim``, TF1's ``tf.contrib.slim`` / ``tf.contrib.layers``) layer catalog.

Function-style (``Apply.INPUT_ARG``): ``net = slim.conv2d(net, 64, [3, 3])``.  Read
from the real signatures (the tf_slim 1.1.0 wheel, rechecked in
``tests/test_catalog_frameworks.py``):

* ``convolution{,1d,2d,3d}`` / ``conv{1,2,3}d(inputs, num_outputs, kernel_size,
  stride, padding, data_format, rate, activation_fn=nn.relu (7), normalizer_fn=None
  (8), normalizer_params, weights_initializer, weights_regularizer,
  biases_initializer=zeros (12), biases_regularizer, reuse (14), ...)``;
* ``conv{2,3}d_transpose``: ``activation_fn`` 6, ``normalizer_fn`` 7,
  ``biases_initializer`` 11, ``reuse`` 13, ``data_format`` 5 (NHWC/NDHWC);
* ``separable_conv2d``: ``activation_fn`` 8, ``normalizer_fn`` 9,
  ``biases_initializer`` 14, ``reuse`` 16, ``data_format`` 6;
* ``fully_connected(inputs, num_outputs, activation_fn (2), normalizer_fn (3), ...,
  biases_initializer (7), ..., reuse (9))``;
* ``batch_norm(inputs, decay=0.999 (1), ..., is_training=True (9), reuse (10), ...,
  data_format=NHWC (16), ..., renorm (19), ..., adjustment (22))``.

slim computes ``use_bias = not normalizer_fn and biases_initializer``: a layer given
a ``normalizer_fn`` has no bias already, and the fix is
``biases_initializer=None``.  Its ``activation_fn`` defaults to ReLU, so a layer is
a candidate only with ``activation_fn=None`` written out.  These functions take
defaults from an enclosing ``slim.arg_scope`` (possibly set by the caller, in
another file): ``batch_norm`` must be given ``is_training`` itself (an
``arg_scope`` may set it False); an ``arg_scope`` that sets ``decay=1``,
``renorm`` or an ``adjustment`` for it is not seen (documented in
``docs/rules/CBL001.md``).
"""

from __future__ import annotations

from convbnlint.catalog import Apply, ArgIs, Catalog, Framework, LayerSpec, Layout, Role

_PREFIXES = (
    "tf_slim",
    "tf_slim.layers",
    "tf_slim.layers.layers",
    "tensorflow.contrib.slim",
    "tensorflow.contrib.layers",
    "tensorflow.contrib.layers.python.layers.layers",
)

_NHWC = (("NHWC", (-1,)), ("NWC", (-1,)), ("NDHWC", (-1,)),
         ("NCHW", (1,)), ("NCW", (1,)), ("NCDHW", (1,)))


def _names(*names: str) -> tuple[str, tuple[str, ...]]:
    out = [f"{p}.{n}" for n in names for p in _PREFIXES]
    return out[0], tuple(out[1:])


def _build() -> tuple[LayerSpec, ...]:
    specs: list[LayerSpec] = []

    def biased(names: tuple[str, ...], family: str, act: int, norm: int, bias: int,
               reuse: int, fmt: int | None) -> None:
        qualname, aliases = _names(*names)
        layout = (
            Layout("data_format", fmt, default="NHWC", axes=_NHWC)
            if fmt is not None
            else Layout(None, None, default="NHWC", axes=_NHWC)
        )
        specs.append(
            LayerSpec(
                qualname,
                Role.BIASED,
                family=family,
                bias_param="biases_initializer",
                bias_index=bias,
                bias_off="None",
                bias_values=((None, False),),
                aliases=aliases,
                apply=Apply.INPUT_ARG,
                input_param="inputs",
                input_index=0,
                when=(
                    (
                        ArgIs("activation_fn", act, (None,), absent_ok=False),
                        ArgIs("normalizer_fn", norm, (None,)),
                        ArgIs("reuse", reuse, (None, False)),
                    ),
                ),
                layout=layout,
            )
        )

    biased(("convolution", "convolution1d", "convolution2d", "convolution3d",
            "conv1d", "conv2d", "conv3d"), "conv", 7, 8, 12, 14, 5)
    biased(("convolution2d_transpose", "conv2d_transpose"), "conv", 6, 7, 11, 13, 5)
    biased(("convolution3d_transpose", "conv3d_transpose"), "conv", 6, 7, 11, 13, 5)
    biased(("separable_convolution2d", "separable_conv2d"), "conv", 8, 9, 14, 16, 6)
    biased(("fully_connected",), "linear", 2, 3, 7, 9, None)

    qualname, aliases = _names("batch_norm")
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
                    ArgIs("is_training", 9, (False, 0), absent_ok=False, negate=True,
                          unknown_ok=True),
                    ArgIs("decay", 1, (1, 1.0), negate=True, unknown_ok=True),
                    ArgIs("renorm", 19, (False, 0)),
                    ArgIs("adjustment", 22, (None,)),
                    ArgIs("reuse", 10, (None, False)),
                ),
            ),
            layout=Layout("data_format", 16, default="NHWC", axes=_NHWC),
        )
    )
    return tuple(specs)


FRAMEWORK = Framework(name="slim")

CATALOG = Catalog(
    framework=FRAMEWORK,
    specs=_build(),
    prefilter_tokens=(b"batch_norm",),
)
