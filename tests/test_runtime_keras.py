"""Runtime proof for Keras 3 (on the torch backend: no TensorFlow needed).

Each program below is linted, then built with real Keras.  Every flagged
layer's bias gets a gradient of (numerically) zero in training mode and random
bias values leave the output unchanged, in training mode and in eval mode after
training (with the moving statistics training converges to, as in
``tests/test_runtime_flax.py``); every silent layer of a trap (an activation on
the conv, a norm on another axis, frozen statistics) has a bias that changes the
output in one of the two modes.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")

if keras.backend.backend() != "torch":  # pragma: no cover - another backend was chosen
    pytest.skip("these proofs run Keras on the torch backend", allow_module_level=True)

from convbnlint import check_source  # noqa: E402

HEAD = "import keras\nfrom keras import layers\n"

# name -> (program building `model` from `inputs`, flagged?)
PROGRAMS = {
    "functional": (
        """
inputs = keras.Input((6, 6, 3))
x = layers.Conv2D(4, 3, name="target")(inputs)
x = layers.BatchNormalization()(x)
model = keras.Model(inputs, x)
""",
        True,
    ),
    "sequential_list": (
        """
model = keras.Sequential([keras.Input((6, 6, 3)), layers.Conv2D(4, 3, name="target"),
                          layers.BatchNormalization(), layers.ReLU()])
""",
        True,
    ),
    "dense": (
        """
inputs = keras.Input((5,))
x = layers.Dense(4, name="target")(inputs)
x = layers.BatchNormalization()(x)
model = keras.Model(inputs, x)
""",
        True,
    ),
    "channels_first_with_axis_1": (
        """
inputs = keras.Input((3, 6, 6))
x = layers.Conv2D(4, 3, data_format="channels_first", name="target")(inputs)
x = layers.BatchNormalization(axis=1)(x)
model = keras.Model(inputs, x)
""",
        True,
    ),
    "group_norm_one_channel_per_group": (
        """
inputs = keras.Input((6, 6, 3))
x = layers.Conv2D(4, 3, name="target")(inputs)
x = layers.GroupNormalization(groups=-1)(x)
model = keras.Model(inputs, x)
""",
        True,
    ),
    # ---- traps: silent, and the bias matters
    "activation_on_the_conv": (
        """
inputs = keras.Input((6, 6, 3))
x = layers.Conv2D(4, 3, activation="relu", name="target")(inputs)
x = layers.BatchNormalization()(x)
model = keras.Model(inputs, x)
""",
        False,
    ),
    "channels_first_into_default_axis": (
        """
inputs = keras.Input((3, 6, 6))
x = layers.Conv2D(4, 3, data_format="channels_first", name="target")(inputs)
x = layers.BatchNormalization()(x)
model = keras.Model(inputs, x)
""",
        False,
    ),
    "frozen_norm": (
        """
inputs = keras.Input((6, 6, 3))
x = layers.Conv2D(4, 3, name="target")(inputs)
x = layers.BatchNormalization(trainable=False)(x)
model = keras.Model(inputs, x)
""",
        False,
    ),
    "training_false_at_call": (
        """
class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.conv = layers.Conv2D(4, 3, name="target")
        self.bn = layers.BatchNormalization()

    def call(self, x, training=None):
        return self.bn(self.conv(x), training=False)

model = Net()
model.build((None, 6, 6, 3))
shape = (6, 6, 3)
""",
        False,
    ),
    "subclassed_training_passed_on": (
        """
class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.conv = layers.Conv2D(4, 3, name="target")
        self.bn = layers.BatchNormalization()

    def call(self, x, training=None):
        return self.bn(self.conv(x), training=training)

model = Net()
model.build((None, 6, 6, 3))
shape = (6, 6, 3)
""",
        True,
    ),
    "momentum_one_never_learns_the_mean": (
        """
inputs = keras.Input((6, 6, 3))
x = layers.Conv2D(4, 3, name="target")(inputs)
x = layers.BatchNormalization(momentum=1.0)(x)
model = keras.Model(inputs, x)
""",
        False,
    ),
    "group_norm_several_channels_per_group": (
        """
inputs = keras.Input((6, 6, 3))
x = layers.Conv2D(4, 3, name="target")(inputs)
x = layers.GroupNormalization(groups=2)(x)
model = keras.Model(inputs, x)
""",
        False,
    ),
}


def _build(code: str):  # type: ignore[no-untyped-def]
    keras.utils.set_random_seed(0)
    namespace: dict = {}
    exec(HEAD + code, namespace)
    model = namespace["model"]
    model._proof_shape = namespace.get("shape")
    return model


def _converged(s0: list, s1: list, s2: list) -> list:
    """The moving statistics of endless training from three successive states
    (each step ``s1 = m*s0 + (1-m)*b``: ``b = s0 + (s1-s0)/(1-m)``, ``m`` from the steps)."""
    out = []
    for a0, a1, a2 in zip(s0, s1, s2):
        step = a1 - a0
        moving = step.abs() > 1e-9 * (1 + a0.abs())
        m = torch.where(moving, (a2 - a1) / torch.where(moving, step, torch.ones_like(step)),
                        torch.zeros_like(step))
        out.append(torch.where(moving, a0 + step / torch.where(moving, 1 - m, torch.ones_like(m)),
                               a0))
    return out


def _effect(model, target: str) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    """(|d loss / d bias| relative to the output gradient mass, output change when
    the bias is randomised in training mode, and in eval mode after training)."""
    layer = model.get_layer(target)
    shape = model._proof_shape or tuple(int(d) for d in model.inputs[0].shape[1:])
    gen = torch.Generator().manual_seed(1)
    x = torch.randn((8, *shape), generator=gen)
    weights = None
    with torch.no_grad():
        model(x, training=False)  # builds a subclassed model's layers; moves nothing
    stats = [w for w in model.non_trainable_weights]
    start = [w.value.detach().clone() for w in stats]

    def run() -> torch.Tensor:
        nonlocal weights
        for w, v in zip(stats, start):
            w.assign(v)
        out = model(x, training=True)
        if weights is None:
            weights = torch.randn(out.shape, generator=torch.Generator().manual_seed(2))
        return out

    def evaluated() -> torch.Tensor:
        with torch.no_grad():
            states = [start]
            run()
            states.append([w.value.detach().clone() for w in stats])
            model(x, training=True)
            states.append([w.value.detach().clone() for w in stats])
            for w, v in zip(stats, _converged(*states)):
                w.assign(v)
            return model(x, training=False).detach().clone()

    out = run()
    bias = layer.bias.value
    loss = (out * weights).sum()
    (grad,) = torch.autograd.grad(loss, bias)
    scale = float(weights.abs().sum())
    rel = float(grad.abs().max()) / scale
    with torch.no_grad():
        before = out.detach().clone()
        eval_before = evaluated()
        layer.bias.assign(torch.randn(bias.shape, generator=gen) * 3)
        after = run().detach()
        eval_after = evaluated()
    return (rel, float((after - before).abs().max()),
            float((eval_after - eval_before).abs().max()))


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_keras_program(name: str) -> None:
    code, flagged = PROGRAMS[name]
    source = HEAD + code
    lines = source.splitlines()
    found = {d.span.line for d in check_source(source)}
    target_line = next(i for i, line in enumerate(lines, 1) if 'name="target"' in line)
    assert (target_line in found) == flagged, (name, found)
    rel, change, eval_change = _effect(_build(code), "target")
    print(f"relative bias gradient {rel:.3g}, output change {change:.3g}, "
          f"eval-mode change {eval_change:.3g}")
    if flagged:
        assert rel < 1e-6 and change < 1e-4 and eval_change < 1e-4, (rel, change, eval_change)
    else:
        assert rel > 1e-4 or change > 1e-3 or eval_change > 1e-3, (rel, change, eval_change)
