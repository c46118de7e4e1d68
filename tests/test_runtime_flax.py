"""Runtime proof for Flax (linen and NNX) on CPU jax.

Each program below is linted, then built and run with real Flax in float64.
Every flagged layer's bias gets a gradient of (numerically) zero in training
mode and random bias values leave the output unchanged, in training mode and in
eval mode after training; every silent layer of a trap (an activation between
the layer and its norm, a norm on another axis, frozen statistics, GroupNorm with
several channels per group, a bias per position) has a bias that changes the
output in one of the two modes (statistics that never move, ``momentum=1``, only
in eval mode).

"Eval mode after training" uses the running statistics training converges to:
the model's inputs and weights stay fixed, so each training step moves every
running statistic ``s`` by the same exponential average towards the batch's
value ``b``: ``s1 = m*s0 + (1-m)*b``.  Two steps give ``m = (s2-s1)/(s1-s0)`` and
``b = s0 + (s1-s0)/(1-m)`` per element (``s`` that never moves stays ``s0``), and
eval runs with ``b``, the limit of endless training (:func:`converged`).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

jax = pytest.importorskip("jax")
nn = pytest.importorskip("flax.linen")
nnx = pytest.importorskip("flax.nnx")

import jax.numpy as jnp  # noqa: E402

from convbnlint import check_source  # noqa: E402

LINEN_HEAD = "from functools import partial\nimport flax.linen as nn\n"
NNX_HEAD = "from flax import nnx\n"

# name -> (program defining `model`, flagged?).  The layer under test is the one
# on the line marked `# target`; linen names it "target", NNX holds it in
# `self.target`.
LINEN = {
    "compact": (
        """
class Net(nn.Module):
    @nn.compact
    def __call__(self, x, train):
        x = nn.Conv(4, (3, 3), name="target")(x)  # target
        return nn.BatchNorm(use_running_average=not train)(x)

model = Net()
""",
        True,
    ),
    "setup": (
        """
class Net(nn.Module):
    def setup(self):
        self.target = nn.Conv(4, (3, 3))  # target
        self.bn = nn.BatchNorm()

    def __call__(self, x, train):
        return self.bn(self.target(x), use_running_average=not train)

model = Net()
""",
        True,
    ),
    "partials": (
        """
class Net(nn.Module):
    @nn.compact
    def __call__(self, x, train):
        conv = partial(nn.Conv, kernel_size=(3, 3), name="target")
        norm = partial(nn.BatchNorm, use_running_average=not train, momentum=0.9)
        x = conv(4)(x)  # target
        return norm()(x)

model = Net()
""",
        True,
    ),
    "dense_batchnorm": (
        """
class Net(nn.Module):
    @nn.compact
    def __call__(self, x, train):
        x = x.reshape((x.shape[0], -1))
        x = nn.Dense(5, name="target")(x)  # target
        return nn.BatchNorm(use_running_average=not train)(x)

model = Net()
""",
        True,
    ),
    "instance_norm": (
        """
class Net(nn.Module):
    @nn.compact
    def __call__(self, x, train):
        x = nn.Conv(4, (3, 3), name="target")(x)  # target
        return nn.InstanceNorm()(x)

model = Net()
""",
        True,
    ),
    "group_norm_one_channel_per_group": (
        """
class Net(nn.Module):
    @nn.compact
    def __call__(self, x, train):
        x = nn.Conv(4, (3, 3), name="target")(x)  # target
        return nn.GroupNorm(num_groups=None, group_size=1)(x)

model = Net()
""",
        True,
    ),
    "conv_transpose": (
        """
class Net(nn.Module):
    @nn.compact
    def __call__(self, x, train):
        x = nn.ConvTranspose(4, (3, 3), name="target")(x)  # target
        return nn.BatchNorm(use_running_average=not train)(x)

model = Net()
""",
        True,
    ),
    # ---- traps: silent, and the bias matters
    "activation_in_between": (
        """
class Net(nn.Module):
    @nn.compact
    def __call__(self, x, train):
        x = nn.relu(nn.Conv(4, (3, 3), name="target")(x))  # target
        return nn.BatchNorm(use_running_average=not train)(x)

model = Net()
""",
        False,
    ),
    "norm_on_another_axis": (
        """
class Net(nn.Module):
    @nn.compact
    def __call__(self, x, train):
        x = nn.Conv(4, (3, 3), name="target")(x)  # target
        return nn.BatchNorm(use_running_average=not train, axis=1)(x)

model = Net()
""",
        False,
    ),
    "frozen_statistics": (
        """
class Net(nn.Module):
    @nn.compact
    def __call__(self, x, train):
        x = nn.Conv(4, (3, 3), name="target")(x)  # target
        return nn.BatchNorm(use_running_average=True)(x)

model = Net()
""",
        False,
    ),
    "frozen_at_the_call": (
        """
class Net(nn.Module):
    def setup(self):
        self.target = nn.Conv(4, (3, 3))  # target
        self.bn = nn.BatchNorm()

    def __call__(self, x, train):
        return self.bn(self.target(x), use_running_average=True)

model = Net()
""",
        False,
    ),
    "momentum_one_never_learns_the_mean": (
        """
class Net(nn.Module):
    @nn.compact
    def __call__(self, x, train):
        x = nn.Conv(4, (3, 3), name="target")(x)  # target
        return nn.BatchNorm(use_running_average=not train, momentum=1.0)(x)

model = Net()
""",
        False,
    ),
    "group_norm_several_channels_per_group": (
        """
class Net(nn.Module):
    @nn.compact
    def __call__(self, x, train):
        x = nn.Conv(4, (3, 3), name="target")(x)  # target
        return nn.GroupNorm(num_groups=2)(x)

model = Net()
""",
        False,
    ),
    "layer_norm": (
        """
class Net(nn.Module):
    @nn.compact
    def __call__(self, x, train):
        x = nn.Conv(4, (3, 3), name="target")(x)  # target
        return nn.LayerNorm()(x)

model = Net()
""",
        False,
    ),
    "conv_local_bias_per_position": (
        """
class Net(nn.Module):
    @nn.compact
    def __call__(self, x, train):
        x = nn.ConvLocal(4, (3, 3), name="target")(x)  # target
        return nn.BatchNorm(use_running_average=not train)(x)

model = Net()
""",
        False,
    ),
}

NNX = {
    "nnx_conv_batchnorm": (
        """
class Net(nnx.Module):
    def __init__(self, rngs):
        self.target = nnx.Conv(3, 4, (3, 3), rngs=rngs)  # target
        self.bn = nnx.BatchNorm(4, rngs=rngs)

    def __call__(self, x):
        return self.bn(self.target(x))

model = Net(nnx.Rngs(0))
""",
        True,
    ),
    "nnx_linear_batchnorm": (
        """
class Net(nnx.Module):
    def __init__(self, rngs):
        self.target = nnx.Linear(108, 5, rngs=rngs)  # target
        self.bn = nnx.BatchNorm(5, rngs=rngs)

    def __call__(self, x):
        return self.bn(self.target(x.reshape((x.shape[0], -1))))

model = Net(nnx.Rngs(0))
""",
        True,
    ),
    "nnx_frozen": (
        """
class Net(nnx.Module):
    def __init__(self, rngs):
        self.target = nnx.Conv(3, 4, (3, 3), rngs=rngs)  # target
        self.bn = nnx.BatchNorm(4, use_running_average=True, rngs=rngs)

    def __call__(self, x):
        return self.bn(self.target(x))

model = Net(nnx.Rngs(0))
""",
        False,
    ),
    "nnx_group_norm_several_channels_per_group": (
        """
class Net(nnx.Module):
    def __init__(self, rngs):
        self.target = nnx.Conv(3, 4, (3, 3), rngs=rngs)  # target
        self.gn = nnx.GroupNorm(4, num_groups=2, rngs=rngs)

    def __call__(self, x):
        return self.gn(self.target(x))

model = Net(nnx.Rngs(0))
""",
        False,
    ),
}

# Dead: below this relative gradient and output change (float64: exact
# cancellations show near 1e-16).  Matters: above these.
DEAD_REL, DEAD_CHANGE = 1e-10, 1e-9
MATTERS_REL, MATTERS_CHANGE = 1e-6, 1e-6


@pytest.fixture(autouse=True)
def _float64() -> Iterator[None]:
    old = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", old)


def _inputs() -> tuple[jnp.ndarray, jax.Array]:
    key = jax.random.PRNGKey(1)
    return jax.random.normal(key, (8, 6, 6, 3), dtype=jnp.float64), jax.random.PRNGKey(2)


def _flagged_as_expected(head: str, code: str, flagged: bool) -> None:
    source = head + code
    lines = source.splitlines()
    found = {d.span.line for d in check_source(source)}
    target = next(i for i, line in enumerate(lines, 1) if line.endswith("# target"))
    assert (target in found) == flagged, (found, target)


def _target(tree: dict) -> dict:
    """The sub-dict of a linen parameter tree that belongs to the module named "target"."""
    if "target" in tree:
        return tree["target"]
    for value in tree.values():
        if isinstance(value, dict):
            try:
                return _target(value)
            except KeyError:
                pass
    raise KeyError("target")


def _with_bias(variables: dict, bias: jnp.ndarray) -> dict:
    params = jax.tree_util.tree_map(lambda a: a, variables["params"])
    _target(params)["bias"] = bias
    return {**variables, "params": params}


def converged(s0: object, s1: object, s2: object) -> object:
    """The running statistics of endless training, from three successive states."""

    def one(a0: jnp.ndarray, a1: jnp.ndarray, a2: jnp.ndarray) -> jnp.ndarray:
        step = a1 - a0
        moving = jnp.abs(step) > 1e-12 * (1 + jnp.abs(a0))
        m = jnp.where(moving, (a2 - a1) / jnp.where(moving, step, 1.0), 0.0)
        return jnp.where(moving, a0 + step / (1 - m), a0)

    return jax.tree_util.tree_map(one, s0, s1, s2)


def _linen_effect(code: str) -> tuple[float, float, float]:
    """(relative bias gradient, training-mode output change, eval-mode output change
    after training) when the target's bias is randomised."""
    namespace: dict = {}
    exec(LINEN_HEAD + code, namespace)
    model = namespace["model"]
    x, key = _inputs()
    variables = model.init(key, x, train=True)
    variables = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), variables)
    mutable = [k for k in variables if k != "params"]

    def train(params: dict, state: dict) -> tuple[jnp.ndarray, dict]:
        out, new = model.apply({"params": params, **state}, x, train=True, mutable=mutable)
        return out, new

    state = {k: v for k, v in variables.items() if k != "params"}
    out, _ = train(variables["params"], state)
    weights = jax.random.normal(jax.random.PRNGKey(3), out.shape, dtype=jnp.float64)
    grads = jax.grad(lambda p: jnp.sum(train(p, state)[0] * weights))(variables["params"])
    rel = float(jnp.max(jnp.abs(_target(grads)["bias"]))) / float(jnp.sum(jnp.abs(weights)))

    bias = _target(variables["params"])["bias"]
    random_bias = 3 * jax.random.normal(jax.random.PRNGKey(4), bias.shape, dtype=jnp.float64)
    other = _with_bias(variables, random_bias)
    out2, _ = train(other["params"], state)
    change = float(jnp.max(jnp.abs(out2 - out)))

    def evaluated(vs: dict) -> jnp.ndarray:
        _, s1 = train(vs["params"], state)
        _, s2 = train(vs["params"], dict(s1))
        limit = converged(state, dict(s1), dict(s2))
        return model.apply({"params": vs["params"], **limit}, x, train=False)

    eval_change = float(jnp.max(jnp.abs(evaluated(other) - evaluated(variables))))
    return rel, change, eval_change


def _nnx_effect(code: str) -> tuple[float, float, float]:
    namespace: dict = {}
    exec(NNX_HEAD + code, namespace)
    model = namespace["model"]
    for _, var in nnx.iter_graph(model):
        if isinstance(var, nnx.Variable):
            var.set_value(jnp.asarray(var.get_value(), jnp.float64))
    x, _ = _inputs()
    # (Not model.train(): it would set use_running_average=False on every norm,
    # a frozen one too; the constructors' settings are what the program says.)

    def fresh(bias: jnp.ndarray | None = None):  # type: ignore[no-untyped-def]
        m = nnx.clone(model)
        if bias is not None:
            m.target.bias.set_value(bias)
        return m

    def evaluated(bias: jnp.ndarray | None = None) -> jnp.ndarray:
        m = fresh(bias)
        def snapshot():  # type: ignore[no-untyped-def]
            return jax.tree_util.tree_map(jnp.array, nnx.state(m, nnx.BatchStat))

        states = [snapshot()]
        for _ in range(2):
            m(x)  # a training step of the statistics
            states.append(snapshot())
        nnx.update(m, converged(*states))
        m.eval()
        return m(x)

    out = fresh()(x)
    weights = jax.random.normal(jax.random.PRNGKey(3), out.shape, dtype=jnp.float64)
    grads = nnx.grad(lambda m: jnp.sum(m(x) * weights))(fresh())
    grad = grads["target"]["bias"]
    grad = grad.get_value() if isinstance(grad, nnx.Variable) else grad
    rel = float(jnp.max(jnp.abs(grad))) / float(jnp.sum(jnp.abs(weights)))

    shape = model.target.bias.get_value().shape
    random_bias = 3 * jax.random.normal(jax.random.PRNGKey(4), shape, dtype=jnp.float64)
    change = float(jnp.max(jnp.abs(fresh(random_bias)(x) - out)))
    eval_change = float(jnp.max(jnp.abs(evaluated(random_bias) - evaluated())))
    return rel, change, eval_change


def _judge(flagged: bool, rel: float, change: float, eval_change: float) -> None:
    print(f"relative bias gradient {rel:.3g}, output change {change:.3g}, "
          f"eval-mode change {eval_change:.3g}")
    if flagged:
        assert rel < DEAD_REL and change < DEAD_CHANGE and eval_change < DEAD_CHANGE, (
            rel, change, eval_change)
    else:
        assert rel > MATTERS_REL or change > MATTERS_CHANGE or eval_change > MATTERS_CHANGE, (
            rel, change, eval_change)


@pytest.mark.parametrize("name", sorted(LINEN))
def test_linen_program(name: str) -> None:
    code, flagged = LINEN[name]
    _flagged_as_expected(LINEN_HEAD, code, flagged)
    _judge(flagged, *_linen_effect(code))


@pytest.mark.parametrize("name", sorted(NNX))
def test_nnx_program(name: str) -> None:
    code, flagged = NNX[name]
    _flagged_as_expected(NNX_HEAD, code, flagged)
    _judge(flagged, *_nnx_effect(code))


def test_momentum_one_matters_only_in_eval_mode() -> None:
    """The trap the eval-mode measurement exists for: in training mode the batch
    statistics cancel the bias; the running mean never moves, so eval keeps it."""
    rel, change, eval_change = _linen_effect(LINEN["momentum_one_never_learns_the_mean"][0])
    assert rel < DEAD_REL and change < DEAD_CHANGE
    assert eval_change > MATTERS_CHANGE
