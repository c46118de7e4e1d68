"""Runtime proof for PaddlePaddle (the CPU wheel).

Each program below is linted, then built and run with real Paddle in float64.
Every flagged layer's bias gets a gradient of (numerically) zero in training
mode and random bias values leave the output unchanged, in training mode and in
eval mode after training; every silent layer of a trap (an activation in
between, a layout mismatch, frozen statistics, GroupNorm with several channels
per group) has a bias that changes the output in one of the two modes.  Eval mode
after training uses the running statistics endless training converges to, as in
``tests/test_runtime_flax.py`` (:func:`converged`).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # "No ccache found", on import
    paddle = pytest.importorskip("paddle")

from convbnlint import check_source  # noqa: E402

HEAD = "import paddle\nimport paddle.nn as nn\n"

# name -> (program defining `model`, path of the layer under test, flagged?).
# The layer's constructor is on the line marked `# target`.
PROGRAMS = {
    "sequential": (
        """
model = nn.Sequential(
    nn.Conv2D(3, 4, 3),  # target
    nn.BatchNorm2D(4),
    nn.ReLU(),
)
""",
        "0",
        True,
    ),
    "subclassed_layer": (
        """
class Block(nn.Layer):
    def __init__(self):
        super().__init__()
        self._conv = nn.Conv2D(3, 4, 3, padding=1)  # target
        self._bn = nn.BatchNorm2D(4)

    def forward(self, x):
        return nn.functional.relu(self._bn(self._conv(x)))

model = Block()
""",
        "_conv",
        True,
    ),
    "norm_without_its_own_offset": (
        """
model = nn.Sequential(
    nn.Conv2D(3, 4, 3),  # target
    nn.BatchNorm2D(4, bias_attr=False),
)
""",
        "0",
        True,
    ),
    "nhwc_on_both": (
        """
model = nn.Sequential(
    nn.Conv2D(6, 4, 3, data_format="NHWC"),  # target
    nn.BatchNorm2D(4, data_format="NHWC"),
)
""",
        "0",
        True,
    ),
    "old_batchnorm_api": (
        """
model = nn.Sequential(
    nn.Conv2D(3, 4, 3),  # target
    nn.BatchNorm(4, dtype="float64"),
)
""",
        "0",
        True,
    ),
    "instance_norm": (
        """
model = nn.Sequential(
    nn.Conv2D(3, 4, 3),  # target
    nn.InstanceNorm2D(4),
)
""",
        "0",
        True,
    ),
    "group_norm_one_channel_per_group": (
        """
model = nn.Sequential(
    nn.Conv2D(3, 4, 3),  # target
    nn.GroupNorm(4, 4),
)
""",
        "0",
        True,
    ),
    "conv_transpose": (
        """
model = nn.Sequential(
    nn.Conv2DTranspose(3, 4, 3),  # target
    nn.BatchNorm2D(4),
)
""",
        "0",
        True,
    ),
    "linear_batchnorm1d": (
        """
model = nn.Sequential(
    nn.Flatten(),
    nn.Linear(108, 5),  # target
    nn.BatchNorm1D(5),
)
""",
        "1",
        True,
    ),
    # ---- traps: silent, and the bias matters
    "activation_in_between": (
        """
model = nn.Sequential(
    nn.Conv2D(3, 4, 3),  # target
    nn.ReLU(),
    nn.BatchNorm2D(4),
)
""",
        "0",
        False,
    ),
    "nhwc_conv_into_nchw_norm": (
        """
model = nn.Sequential(
    nn.Conv2D(6, 4, 3, data_format="NHWC"),  # target
    nn.BatchNorm2D(4),
)
""",
        "0",
        False,
    ),
    "global_stats": (
        """
model = nn.Sequential(
    nn.Conv2D(3, 4, 3),  # target
    nn.BatchNorm2D(4, use_global_stats=True),
)
""",
        "0",
        False,
    ),
    "old_api_is_test": (
        """
model = nn.Sequential(
    nn.Conv2D(3, 4, 3),  # target
    nn.BatchNorm(4, is_test=True, dtype="float64"),
)
""",
        "0",
        False,
    ),
    "momentum_one_never_learns_the_mean": (
        """
model = nn.Sequential(
    nn.Conv2D(3, 4, 3),  # target
    nn.BatchNorm2D(4, momentum=1.0),
)
""",
        "0",
        False,
    ),
    "group_norm_several_channels_per_group": (
        """
model = nn.Sequential(
    nn.Conv2D(3, 4, 3),  # target
    nn.GroupNorm(2, 4),
)
""",
        "0",
        False,
    ),
    "layer_norm": (
        """
model = nn.Sequential(
    nn.Conv2D(3, 4, 3),  # target
    nn.LayerNorm([4, 4, 4]),
)
""",
        "0",
        False,
    ),
}

DEAD_REL, DEAD_CHANGE = 1e-10, 1e-9
MATTERS_REL, MATTERS_CHANGE = 1e-6, 1e-6


@pytest.fixture(autouse=True)
def _float64() -> Iterator[None]:
    old = paddle.get_default_dtype()
    paddle.set_default_dtype("float64")
    try:
        yield
    finally:
        paddle.set_default_dtype(old)


def _sublayer(model, path: str):  # type: ignore[no-untyped-def]
    return dict(model.named_sublayers())[path]


def _running(model) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """The running statistics: Paddle keeps them as parameters that are not trainable."""
    return {name: p for name, p in model.state_dict().items() if p.stop_gradient}


def _statistics(model) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {name: p.numpy().copy() for name, p in _running(model).items()}


def converged(s0: dict, s1: dict, s2: dict) -> dict:
    """The running statistics of endless training, from three successive states
    (each step: ``s1 = m*s0 + (1-m)*b``; see ``tests/test_runtime_flax.py``)."""
    import numpy as np

    out = {}
    for k in s0:
        a0, a1, a2 = (np.asarray(s[k], dtype=np.float64) for s in (s0, s1, s2))
        step = a1 - a0
        moving = np.abs(step) > 1e-12 * (1 + np.abs(a0))
        m = np.where(moving, (a2 - a1) / np.where(moving, step, 1.0), 0.0)
        out[k] = np.where(moving, a0 + step / np.where(moving, 1 - m, 1.0), a0)
    return out


def _effect(code: str, path: str) -> tuple[float, float, float]:
    """(relative bias gradient, training-mode output change, eval-mode output change
    after training) when the bias of the layer at ``path`` is randomised."""
    paddle.seed(0)
    namespace: dict = {}
    exec(HEAD + code, namespace)
    model = namespace["model"]
    layer = _sublayer(model, path)
    shape = [8, 6, 6, 6] if "NHWC" in code else [8, 3, 6, 6]
    x = paddle.randn(shape, dtype="float64")
    start = _statistics(model)

    def set_statistics(values: dict) -> None:
        for name, p in _running(model).items():
            p.set_value(paddle.to_tensor(values[name], dtype=p.dtype))

    # Training mode as constructed (not model.train(), which would also switch an
    # ``is_test=True`` norm to training).
    modes = [(layer, layer.training) for layer in model.sublayers(include_self=True)]

    def train_output():  # type: ignore[no-untyped-def]
        set_statistics(start)
        for sub, training in modes:
            sub.training = training
        return model(x)

    def eval_output():  # type: ignore[no-untyped-def]
        states = [start]
        for _ in range(2):
            train_output() if len(states) == 1 else model(x)
            states.append(_statistics(model))
        set_statistics(converged(*states))
        model.eval()
        with paddle.no_grad():
            return model(x)

    out = train_output()
    weights = paddle.randn(out.shape, dtype="float64")
    (out * weights).sum().backward()
    grad = layer.bias.grad
    rel = float(grad.abs().max()) / float(weights.abs().sum())
    base_train = out.detach().numpy()
    base_eval = eval_output().numpy()
    layer.bias.set_value(paddle.randn(layer.bias.shape, dtype="float64") * 3)
    change = float(abs(train_output().detach().numpy() - base_train).max())
    eval_change = float(abs(eval_output().numpy() - base_eval).max())
    return rel, change, eval_change


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_paddle_program(name: str) -> None:
    code, path, flagged = PROGRAMS[name]
    source = HEAD + code
    lines = source.splitlines()
    found = {d.span.line for d in check_source(source)}
    target = next(i for i, line in enumerate(lines, 1) if line.endswith("# target"))
    assert (target in found) == flagged, (found, target)
    rel, change, eval_change = _effect(code, path)
    print(f"relative bias gradient {rel:.3g}, output change {change:.3g}, "
          f"eval-mode change {eval_change:.3g}")
    if flagged:
        assert rel < DEAD_REL and change < DEAD_CHANGE and eval_change < DEAD_CHANGE, (
            rel, change, eval_change)
    else:
        assert rel > MATTERS_REL or change > MATTERS_CHANGE or eval_change > MATTERS_CHANGE, (
            rel, change, eval_change)


def test_momentum_one_matters_only_in_eval_mode() -> None:
    code, path, _ = PROGRAMS["momentum_one_never_learns_the_mean"]
    rel, change, eval_change = _effect(code, path)
    assert rel < DEAD_REL and change < DEAD_CHANGE
    assert eval_change > MATTERS_CHANGE
