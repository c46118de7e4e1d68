"""Rule-table cases for the frameworks other than torch (issue 11).

Same format as :mod:`tests.cases` (``# expect: CODE`` on the flagged line); none
is runnable with torch.  Each near-miss line is silent on purpose; the comment
says why.
"""

from __future__ import annotations

from tests.cases import Case

FRAMEWORK_CASES: list[Case] = [
    Case(
        "keras_functional_sequential_subclass",
        """
        import keras
        from keras import layers

        def build(x):
            x = layers.Conv2D(32, 3)(x)  # expect: CBL001
            x = layers.BatchNormalization()(x)
            y = layers.Conv2D(32, 3, activation="relu")(x)
            y = layers.BatchNormalization()(y)
            z = layers.Conv2D(32, 3, data_format="channels_first")(y)
            z = layers.BatchNormalization()(z)
            w = layers.Conv2D(32, 3, data_format="channels_first")(z)  # expect: CBL001
            w = layers.BatchNormalization(axis=1)(w)
            v = layers.Conv2D(32, 3)(w)
            v = layers.BatchNormalization(momentum=1.0)(v)
            u = layers.Conv2D(32, 3)(v)
            u = layers.BatchNormalization()(u, training=False)
            t = layers.Conv2D(32, 3)(u)  # expect: CBL001
            t = layers.BatchNormalization()(t, training=True)
            d = layers.Dense(10)(t)  # expect: CBL002
            d = layers.BatchNormalization()(d)
            return d

        model = keras.Sequential([
            layers.Conv2D(8, 3),  # expect: CBL001
            layers.BatchNormalization(),
            layers.ReLU(),
        ])
        m2 = keras.Sequential()
        m2.add(layers.Conv2D(8, 3))  # expect: CBL001
        m2.add(layers.BatchNormalization())
        m3 = keras.Sequential([layers.Conv2D(8, 3), layers.BatchNormalization()])
        m3.pop()
        m3.add(layers.ReLU())

        class Block(layers.Layer):
            def __init__(self):
                super().__init__()
                self.conv = layers.Conv2D(8, 3)  # expect: CBL001
                self.bn = layers.BatchNormalization()
            def call(self, x, training=None):
                return self.bn(self.conv(x), training=training)
        """,
        runnable=False,
        tags=("keras",),
    ),
    Case(
        "tf_v1_and_slim_function_style",
        """
        import tensorflow as tf
        import tf_slim as slim

        def net(x, training):
            y = tf.compat.v1.layers.conv2d(x, 32, 3)  # expect: CBL001
            y = tf.compat.v1.layers.batch_normalization(y, training=training)
            z = tf.compat.v1.layers.conv2d(y, 32, 3)
            z = tf.compat.v1.layers.batch_normalization(z)
            a = slim.conv2d(z, 64, [3, 3], activation_fn=None)  # expect: CBL001
            a = slim.batch_norm(a, is_training=training)
            b = slim.conv2d(a, 64, [3, 3])
            b = slim.batch_norm(b, is_training=training)
            c = slim.conv2d(b, 64, [3, 3], activation_fn=None, normalizer_fn=slim.batch_norm)
            return c
        """,
        runnable=False,
        tags=("tf",),
    ),
    Case(
        "flax_linen_nnx_partial",
        """
        from functools import partial
        import flax.linen as nn
        from flax import nnx

        class CNN(nn.Module):
            @nn.compact
            def __call__(self, x, train: bool):
                x = nn.Conv(32, (3, 3))(x)  # expect: CBL001
                x = nn.BatchNorm(use_running_average=not train)(x)
                x = nn.Conv(32, (3, 3))(x)
                x = nn.BatchNorm(use_running_average=True)(x)
                conv = partial(nn.Conv, kernel_size=(3, 3))
                norm = partial(nn.BatchNorm, use_running_average=not train, momentum=0.9)
                x = conv(64)(x)  # expect: CBL001
                x = norm()(x)
                x = nn.Dense(10)(x)  # expect: CBL002
                x = nn.BatchNorm()(x, use_running_average=not train)
                return x

        class Setup(nn.Module):
            def setup(self):
                self.conv = nn.Conv(16, (3, 3))  # expect: CBL001
                self.bn = nn.BatchNorm(use_running_average=False)
            def __call__(self, x):
                return self.bn(self.conv(x))

        class N(nnx.Module):
            def __init__(self, rngs):
                self.conv = nnx.Conv(3, 8, (3, 3), rngs=rngs)  # expect: CBL001
                self.bn = nnx.BatchNorm(8, rngs=rngs)
            def __call__(self, x):
                return self.bn(self.conv(x))
        """,
        runnable=False,
        tags=("flax",),
    ),
    Case(
        "paddle_layers_layouts_frozen",
        """
        import paddle.nn as nn

        class M(nn.Layer):
            def __init__(self):
                super().__init__()
                self._conv = nn.Conv2D(3, 8, 3)  # expect: CBL001
                self._bn = nn.BatchNorm2D(8, bias_attr=False)
                self.c2 = nn.Conv2D(3, 8, 3, bias_attr=False)
                self.b2 = nn.BatchNorm2D(8)
                self.c3 = nn.Conv2D(3, 8, 3, data_format="NHWC")
                self.b3 = nn.BatchNorm2D(8)
                self.c4 = nn.Conv2D(3, 8, 3)
                self.b4 = nn.BatchNorm2D(8, use_global_stats=True)
                self.c5 = nn.Conv2D(3, 8, 3, bias=False)
                self.b5 = nn.BatchNorm2D(8)
            def forward(self, x):
                return self.b5(self.c5(self.b4(self.c4(self.b3(self.c3(self.b2(self.c2(self._bn(self._conv(x))))))))))
        seq = nn.Sequential(nn.Conv2D(3, 8, 3), nn.BatchNorm2D(8), nn.ReLU())  # expect: CBL001
        """,
        runnable=False,
        tags=("paddle",),
    ),
    Case(
        "torchlike_frameworks",
        """
        import mindspore.nn as msnn
        import megengine.module as M
        import jittor.nn as jnn
        import oneflow.nn as onn
        import haiku as hk
        import torch.nn as tnn
        from functools import partial
        a = msnn.SequentialCell([msnn.Conv2d(3, 8, 3, has_bias=True), msnn.BatchNorm2d(8)])  # expect: CBL001
        b = msnn.SequentialCell([msnn.Conv2d(3, 8, 3), msnn.BatchNorm2d(8)])
        c = M.ConvBn2d(3, 8, 3)  # expect: CBL001
        d = jnn.Sequential(jnn.Conv(3, 8, 3), jnn.BatchNorm(8))  # expect: CBL001
        e = onn.Sequential(onn.Conv2d(3, 8, 3), onn.BatchNorm2d(8))  # expect: CBL001
        f = tnn.Sequential(tnn.Conv2d(3, 8, 3), tnn.GroupNorm(8, 8))  # expect: CBL001
        g = tnn.Sequential(tnn.Conv2d(3, 8, 3), tnn.GroupNorm(4, 8))
        conv3 = partial(tnn.Conv2d, kernel_size=3)
        h = tnn.Sequential(conv3(3, 8), tnn.BatchNorm2d(8))  # expect: CBL001
        def fwd(x, is_training):
            x = hk.Conv2D(8, 3)(x)  # expect: CBL001
            x = hk.BatchNorm(True, True, 0.9)(x, is_training)
            return x
        """,
        runnable=False,
        tags=("torchlike",),
    ),
    Case(
        "framework_traps_stay_silent",
        """
        import keras
        from keras import layers
        import haiku as hk
        import torch.nn as tnn
        from functools import partial

        seq = tnn.Sequential(tnn.Conv2d(3, 8, 3), tnn.BatchNorm2d(8))
        seq.insert(1, tnn.ReLU())  # the items changed after construction
        grown = keras.Sequential([layers.Conv2D(8, 3)])
        grown(None)
        grown.add(layers.BatchNormalization())  # added after a use: not what that use saw
        gn = keras.Sequential([layers.Conv2D(8, 3), layers.GroupNormalization(groups=4)])
        inst = keras.Sequential([layers.Conv2D(8, 3), layers.GroupNormalization(groups=-1)])  # expect: CBL001
        gtorch = tnn.Sequential(tnn.Conv2d(3, 8, 3), tnn.GroupNorm(4, 8))
        shared = partial(tnn.Conv2d, bias=True)
        bound = tnn.Sequential(shared(3, 8, 3), tnn.BatchNorm2d(8))  # expect: CBL001

        def haiku_eval(x):
            y = hk.Conv2D(8, 3)(x)
            return hk.BatchNorm(True, True, 0.9)(y, False)  # is_training=False

        def haiku_train(x, is_training):
            y = hk.Conv2D(8, 3)(x)  # expect: CBL001
            return hk.BatchNorm(True, True, 0.9)(y, is_training)
        """,
        runnable=False,
        tags=("traps",),
    ),
    Case(
        "keras_trainable_anywhere_silences_keras_norms",
        """
        import keras
        from keras import layers

        frozen = keras.Sequential([layers.Conv2D(8, 3), layers.BatchNormalization()])
        frozen.trainable = False  # the whole model frozen: its norms use moving statistics

        def head(inputs):
            x = layers.Conv2D(8, 3)(inputs)
            return layers.BatchNormalization()(x)

        model = keras.Model(keras.Input((6, 6, 3)), head(keras.Input((6, 6, 3))), trainable=False)

        class Frozen(layers.Layer):
            def __init__(self):
                super().__init__()
                self.conv = layers.Conv2D(8, 3)
                self.bn = layers.BatchNormalization(trainable=False)

            def call(self, x):
                return self.bn(self.conv(x))
        """,
        runnable=False,
        tags=("keras", "traps"),
    ),
    Case(
        "keras_trainable_reads_and_true_writes_freeze_nothing",
        """
        import keras
        from keras import layers

        # Reads of trainable (and longer names: trainable_weights) and writes of the
        # constant True freeze no norm; comments and docstrings do not count.
        model = keras.Sequential([layers.Conv2D(8, 3), layers.BatchNormalization()])  # expect: CBL001
        head = layers.Dense(4, trainable=True)
        head.trainable = True

        def train_step(x, y, opt):
            \"\"\"Updates the trainable weights only.\"\"\"
            if model.trainable:
                grads = compute(model.trainable_weights, model.non_trainable_variables)
                opt.apply_gradients(zip(grads, model.trainable_variables))
        """,
        runnable=False,
        tags=("keras",),
    ),
    Case(
        "keras_freezers_silence_keras_norms",
        """
        import keras
        from keras import layers
        from keras import backend as K

        a = keras.Sequential([layers.Conv2D(8, 3), layers.BatchNormalization()])
        setattr(a, "trainable", False)

        def build(name, value):
            b = keras.Sequential([layers.Conv2D(8, 3), layers.BatchNormalization()])
            setattr(b, name, value)  # any attribute, trainable too
            return b

        K.set_learning_phase(0)  # tf_keras: every norm in inference mode

        class Frozen(layers.Layer):
            @property
            def trainable(self):
                return False

        c = keras.Sequential([layers.Conv2D(8, 3), layers.BatchNormalization()])
        c._trainable = False
        config = {"trainable": False}
        """,
        runnable=False,
        tags=("keras", "traps"),
    ),
    Case(
        "running_statistics_that_never_move",
        """
        import torch.nn as tnn
        import paddle.nn as pnn
        import oneflow.nn as onn
        import megengine.module as M
        import mindspore.nn as msnn
        import jittor.nn as jnn

        # The running mean never learns the bias (torch's convention: momentum 0;
        # Paddle's, MegEngine's, MindSpore's: momentum 1), so eval mode keeps it.
        a = tnn.Sequential(tnn.Conv2d(3, 8, 3), tnn.BatchNorm2d(8, momentum=0))
        b = tnn.Sequential(tnn.Conv2d(3, 8, 3), tnn.BatchNorm2d(8, 1e-5, 0.0))
        c = tnn.Sequential(tnn.Conv2d(3, 8, 3), tnn.LazyBatchNorm2d(1e-5, 0))
        d = pnn.Sequential(pnn.Conv2D(3, 8, 3), pnn.BatchNorm2D(8, momentum=1.0))
        e = pnn.Sequential(pnn.Conv2D(3, 8, 3), pnn.BatchNorm(8, None, False, 1))
        f = onn.Sequential(onn.Conv2d(3, 8, 3), onn.BatchNorm2d(8, momentum=0.0))
        g = M.Sequential(M.Conv2d(3, 8, 3), M.BatchNorm2d(8, momentum=1))
        h = msnn.SequentialCell([msnn.Conv2d(3, 8, 3, has_bias=True), msnn.BatchNorm2d(8, momentum=1.0)])
        i = jnn.Sequential(jnn.Conv(3, 8, 3), jnn.BatchNorm(8, momentum=0))
        # Momenta that move them (one that is not a constant may be 0: not trusted, as
        # ``route6_momentum_not_a_constant`` proves at run time).
        j = tnn.Sequential(tnn.Conv2d(3, 8, 3), tnn.BatchNorm2d(8, momentum=0.01))  # expect: CBL001
        k = tnn.Sequential(tnn.Conv2d(3, 8, 3), tnn.BatchNorm2d(8, momentum=None))  # expect: CBL001
        l = pnn.Sequential(pnn.Conv2D(3, 8, 3), pnn.BatchNorm2D(8, momentum=0.99))  # expect: CBL001

        def build(m, device=None, dtype=None):
            dd = {"device": device, "dtype": dtype}
            frozen = {"momentum": 0.0}
            x = tnn.Sequential(tnn.Conv2d(3, 8, 3, **dd), tnn.BatchNorm2d(8, momentum=m, **dd))
            y = tnn.Sequential(tnn.Conv2d(3, 8, 3), tnn.BatchNorm2d(8, **frozen))
            return x, y
        """,
        runnable=False,
        tags=("traps",),
    ),
    # Framework variants of the soundness traps (issue 9), once pending.
    Case(
        "trap_shared_norm_paddle",
        """
        import paddle.nn as nn

        class Shared(nn.Layer):
            def __init__(self):
                super().__init__()
                # One norm for two streams: training cancels each bias, but the running
                # mean averages both streams, so eval mode keeps half of each.
                self.c1 = nn.Conv2D(3, 8, 3)
                self.c2 = nn.Conv2D(3, 8, 3)
                self.bn = nn.BatchNorm2D(8)

            def forward(self, x):
                return self.bn(self.c1(x)) + self.bn(self.c2(x))
        """,
        runnable=False,
        tags=("paddle", "traps"),
    ),
    Case(
        "trap_shared_norm_flax",
        """
        import flax.linen as nn

        class Shared(nn.Module):
            @nn.compact
            def __call__(self, x, train):
                bn = nn.BatchNorm(use_running_average=not train)
                a = bn(nn.Conv(8, (3, 3))(x))
                b = bn(nn.Conv(8, (3, 3))(x))
                return a + b
        """,
        runnable=False,
        tags=("flax", "traps"),
    ),
    Case(
        "trap_enumerator_freezes_paddle",
        """
        import paddle.nn as nn

        class Enum(nn.Layer):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2D(3, 8, 3)
                self.bn = nn.BatchNorm2D(8)
                for m in self.sublayers():
                    if isinstance(m, nn.BatchNorm2D):
                        m._use_global_stats = True

            def forward(self, x):
                return self.bn(self.conv(x))
        """,
        runnable=False,
        tags=("paddle", "traps"),
    ),
    Case(
        "trap_norm_in_eval_mode_paddle",
        """
        import paddle.nn as nn

        class Frozen(nn.Layer):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2D(3, 8, 3)
                self.bn = nn.BatchNorm2D(8)
                self.bn.eval()  # Paddle layers start in training mode; this one does not

            def forward(self, x):
                return self.bn(self.conv(x))
        """,
        runnable=False,
        tags=("paddle", "traps"),
    ),
    Case(
        "trap_container_items_paddle",
        """
        import paddle.nn as nn

        seq = nn.Sequential(nn.Conv2D(3, 8, 3), nn.BatchNorm2D(8))
        seq[1] = nn.ReLU()  # the norm replaced after construction
        seq2 = nn.Sequential(nn.Conv2D(3, 8, 3), nn.BatchNorm2D(8))
        first = seq2[0]
        y = first(None)  # the conv also runs alone
        """,
        runnable=False,
        tags=("paddle", "traps"),
    ),
    Case(
        "trap_model_called_in_inference_mode_keras",
        """
        import keras
        from keras import layers

        def base(x):
            y = layers.Conv2D(8, 3)(x)
            return layers.BatchNormalization()(y)

        inp = keras.Input((8, 8, 3))
        backbone = keras.Model(inp, base(inp))
        # The transfer-learning idiom on a fresh backbone: its norms run on their
        # moving statistics while the outer model trains, so they never learn the bias.
        outer = keras.Model(inp, layers.Dense(2)(backbone(inp, training=False)))
        """,
        runnable=False,
        tags=("keras", "traps"),
    ),
    Case(
        "trap_block_called_in_inference_mode_keras",
        """
        import keras
        from keras import layers

        class Block(layers.Layer):
            def __init__(self):
                super().__init__()
                self.conv = layers.Conv2D(8, 3)
                self.bn = layers.BatchNormalization()

            def call(self, x, training=None):
                return self.bn(self.conv(x), training=training)

        class Outer(layers.Layer):
            def __init__(self):
                super().__init__()
                self.block = Block()
                self.head = layers.Dense(2)

            def call(self, x, training=None):
                # The block's norms run on their moving statistics while Outer
                # trains (its conv included): they never learn the bias.
                return self.head(self.block(x, training=False))
        """,
        runnable=False,
        tags=("keras", "traps"),
    ),
    Case(
        "keras_model_called_for_predictions",
        """
        import keras
        import numpy as np
        from keras import layers

        class Block(layers.Layer):
            def __init__(self):
                super().__init__()
                self.conv = layers.Conv2D(8, 3)  # expect: CBL001
                self.bn = layers.BatchNormalization()

            def call(self, x, training=None):
                return self.bn(self.conv(x), training=training)

        model = keras.Sequential([layers.Conv2D(8, 3), layers.BatchNormalization()])  # expect: CBL001
        block = Block()
        x = np.zeros((2, 8, 8, 3))
        # Calls for predictions: not part of a model being trained.
        y = model(x, training=False)
        z = block(x, training=False)
        """,
        runnable=False,
        tags=("keras",),
    ),
]


# Framework variants of traps that the walker still flags (each line that is not
# marked must be silent).  ``tests/test_pending_soundness.py`` runs them as strict
# expected failures: once a case passes, move it into FRAMEWORK_CASES above.  Empty
# since issue 9 landed: every variant filed here passes (the trap_* cases above).
PENDING_SOUNDNESS: list[Case] = []
