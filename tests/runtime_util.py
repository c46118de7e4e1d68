"""Build rule-table cases with real PyTorch and measure what their biases do.

Used by ``tests/test_runtime_proof.py``.  Importing this module needs torch.

A case's source is compiled under a file name of its own and executed while the
``__init__`` of every catalogued biased class (``Role.BIASED`` in the torch
catalog) is wrapped: each constructed module is recorded with the start line and
column of the constructor call in the case's source (and of the helper calls
that led to it), which is exactly what a diagnostic's span names.  Everything
runs in float64 so that an exact mathematical cancellation (rounding noise near
1e-16) and a real effect (order 1) are many orders of magnitude apart.
"""

from __future__ import annotations

import importlib
import linecache
import sys
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from convbnlint.catalog import Role
from convbnlint.catalog.torch import CATALOG
from convbnlint.engine import check

# |dL/d bias| must stay below this fraction of sum |dL/d output| over every
# element the bias was added to (see ``GradientEffect``).
GRAD_REL_TOL = 1e-9
# Outputs are "unchanged" within these tolerances (float64).
OUT_RTOL = 1e-9
OUT_ATOL = 1e-9


def resolve(qualname: str) -> Any:
    """The object a dotted name refers to: longest importable module, then attributes."""
    parts = qualname.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(qualname)


def biased_classes() -> list[type]:
    return [resolve(s.qualname) for s in CATALOG.specs if s.role is Role.BIASED]


@contextmanager
def float64() -> Iterator[None]:
    """float64 by default, and one intra-op thread: the models are tiny, and on a
    busy 2-core machine OpenMP threads made each op ~100x slower."""
    old_dtype, old_threads = torch.get_default_dtype(), torch.get_num_threads()
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_default_dtype(old_dtype)
        torch.set_num_threads(old_threads)


def _call_position(frame: Any) -> tuple[int, int]:
    """1-based (line, column) where the call expression running in ``frame`` starts."""
    code = frame.f_code
    if sys.version_info >= (3, 11):
        positions = list(code.co_positions())[frame.f_lasti // 2]
        line, col = positions[0], positions[2]
        if line is not None and col is not None:
            return line, col + 1
    return frame.f_lineno, 0  # pragma: no cover - Python 3.10 has no columns


@contextmanager
def record_constructions(
    filename: str,
) -> Iterator[dict[int, tuple[nn.Module, str, tuple[tuple[int, int], ...]]]]:
    """Record ``id(module) -> (module, class name, call chain)`` for biased modules.

    The call chain lists, innermost first, the (line, column) of the call being
    executed by every frame running ``filename`` (the case's code) when the
    constructor ran: first the ``nn.Conv2d(...)`` call itself (also when it goes
    through a lazy subclass's ``super().__init__``), then e.g. the call of the
    helper function that returned it.  A finding may sit on either.
    """
    seen: dict[int, tuple[nn.Module, str, tuple[tuple[int, int], ...]]] = {}
    saved: list[tuple[type, Any]] = []

    def wrap(original: Any) -> Any:
        def __init__(self: nn.Module, *args: Any, **kwargs: Any) -> None:
            if id(self) not in seen:
                chain = []
                frame = sys._getframe(1)
                while frame is not None:
                    if frame.f_code.co_filename == filename:
                        chain.append(_call_position(frame))
                    frame = frame.f_back
                if chain:
                    seen[id(self)] = (self, type(self).__name__, tuple(chain))
            original(self, *args, **kwargs)

        return __init__

    try:
        for cls in biased_classes():
            saved.append((cls, cls.__dict__.get("__init__")))
            cls.__init__ = wrap(cls.__init__)  # type: ignore[method-assign]
        yield seen
    finally:
        for cls, original in reversed(saved):
            if original is None:
                del cls.__init__  # type: ignore[misc]
            else:
                cls.__init__ = original  # type: ignore[method-assign]


@dataclass
class Site:
    """One catalogued biased module the case constructed."""

    cls_name: str
    chain: tuple[tuple[int, int], ...]  # (line, column) of the calls that built it
    path: str | None  # where it sits in ``model`` (None: not reachable from it)
    has_bias: bool

    @property
    def line(self) -> int:
        return self.chain[0][0]

    @property
    def column(self) -> int:
        return self.chain[0][1]

    @property
    def where(self) -> str:
        return f"{self.cls_name} at {self.line}:{self.column} (model path {self.path!r})"


def flagged_positions(source: str) -> set[tuple[int, int]]:
    """(line, column) of every finding, including ones a ``# noqa`` suppresses."""
    checked = check(source)
    diags = list(checked.diagnostics) + list(getattr(checked, "suppressed", None) or [])
    return {(d.span.line, d.span.column) for d in diags}


class Program:
    """A runnable case, executed afresh (same seed) for every experiment.

    A fresh execution per experiment instead of ``copy.deepcopy``: cases may
    keep closures over their own modules (hooks, lambdas), which a deep copy
    would still point at the original.  Call inside :func:`float64`.
    """

    def __init__(self, name: str, source: str) -> None:
        self.name = name
        self.filename = f"<convbnlint-case {name}>"
        self.code = compile(source, self.filename, "exec")
        # Lets tracebacks through the case show its lines.
        linecache.cache[self.filename] = (
            len(source),
            None,
            source.splitlines(True),
            self.filename,
        )
        model, _, seen = self._execute(record=True)
        paths: dict[int, str] = {}
        for path, module in model.named_modules(remove_duplicate=False):
            paths.setdefault(id(module), path)
        self.sites = [
            Site(
                cls_name=cls_name,
                chain=chain,
                path=paths.get(id(module)),
                has_bias=getattr(module, "bias", None) is not None,
            )
            for module, cls_name, chain in seen.values()
        ]

    def _execute(self, record: bool) -> tuple[nn.Module, tuple[Any, ...], dict[int, Any]]:
        namespace: dict[str, Any] = {"__name__": f"convbnlint_case_{self.name}"}
        torch.manual_seed(0)
        seen: dict[int, Any] = {}
        if record:
            with record_constructions(self.filename) as seen:
                exec(self.code, namespace)
        else:
            exec(self.code, namespace)
        model = namespace["model"]
        inputs = tuple(namespace["inputs"])
        assert isinstance(model, nn.Module), f"{self.name}: model is {type(model).__name__}"
        model.train()
        with torch.no_grad():
            run(model, inputs)  # materialises lazy modules' parameters
        return model, inputs, seen

    def fresh(self, biases: Sequence[str] = (), how: str = "random") -> tuple[nn.Module, tuple]:
        """A new (model, inputs); the biases at module paths ``biases`` randomised or zeroed."""
        model, inputs, _ = self._execute(record=False)
        with torch.no_grad():
            for path in biases:
                bias = model.get_submodule(path).bias
                new = random_bias(bias, path) if how == "random" else torch.zeros_like(bias)
                bias.copy_(new)
        return model, inputs


def run(model: nn.Module, inputs: Sequence[Any]) -> Any:
    torch.manual_seed(1)  # same dropout masks on every run
    return model(*inputs)


def tensors(out: Any) -> list[torch.Tensor]:
    """Every floating tensor in a (possibly nested) model output."""
    if isinstance(out, torch.Tensor):
        return [out] if out.is_floating_point() else []
    if isinstance(out, dict):
        out = list(out.values())
    if isinstance(out, (list, tuple)):
        return [t for item in out for t in tensors(item)]
    return []


def loss(out: Any) -> torch.Tensor:
    """A fixed random projection of the outputs.

    Not a plain sum: the sum of a BatchNorm's output is identically zero in
    training mode, so its gradient would vanish for every parameter and prove
    nothing.  Random per-element weights give every parameter a real gradient.
    """
    gen = torch.Generator().manual_seed(1234)
    total = torch.zeros((), dtype=torch.float64)
    for t in tensors(out):
        weights = torch.randn(t.shape, generator=gen, dtype=t.dtype)
        total = total + (t * weights).sum()
    return total


def random_bias(bias: torch.Tensor, path: str) -> torch.Tensor:
    gen = torch.Generator().manual_seed(zlib.crc32(path.encode()))
    return torch.randn(bias.shape, generator=gen, dtype=bias.dtype) * 3


def outputs(program: Program, biases: Sequence[str] = ()) -> list[torch.Tensor]:
    model, inputs = program.fresh(biases)
    with torch.no_grad():
        return tensors(run(model, inputs))


def eval_outputs(program: Program, biases: Sequence[str] = ()) -> list[torch.Tensor]:
    """Outputs in eval mode after training, the biases at ``biases`` randomised.

    A norm's running mean absorbs a cancelled bias only as training goes on (the
    gap decays like ``(1 - momentum) ** steps``); with momentum 1 it is the last
    batch's mean, which holds the bias exactly, so every norm whose momentum
    would update its statistics gets momentum 1, from fresh running statistics,
    before two training steps (a norm the model keeps in eval mode while
    training, or one that never updates -- momentum 0, an InstanceNorm's
    ``None`` -- learns nothing: that is what the eval comparison is for).
    """
    model, inputs = program.fresh(biases)
    norm_base = nn.modules.batchnorm._NormBase
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, norm_base) and m.track_running_stats and m.running_mean is not None:
                instance = isinstance(m, nn.modules.instancenorm._InstanceNorm)
                if m.momentum != 0 and not (instance and m.momentum is None):
                    m.momentum = 1.0
                    m.reset_running_stats()
        model.train()
        for _ in range(2):
            run(model, inputs)
        model.eval()
        return tensors(run(model, inputs))


def same_outputs(a: list[torch.Tensor], b: list[torch.Tensor]) -> tuple[bool, float]:
    """(allclose everywhere, max abs difference)."""
    if len(a) != len(b) or any(x.shape != y.shape for x, y in zip(a, b)):
        return False, float("inf")
    same = all(torch.allclose(x, y, rtol=OUT_RTOL, atol=OUT_ATOL) for x, y in zip(a, b))
    diff = max((float((x - y).abs().max()) for x, y in zip(a, b) if x.numel()), default=0.0)
    return same, diff


@dataclass
class GradientEffect:
    """The bias gradient of one module against the size of what it sums.

    ``dL/d bias[c]`` is the sum of ``dL/d out`` over every element of channel
    ``c`` of every output of the module; ``scale`` is the sum of the absolute
    values of all those terms, so ``bias_grad / scale`` is 0 for an exact
    cancellation (up to rounding, ~1e-17 in float64) and of order
    1/sqrt(#elements) for a bias that matters.
    """

    bias_grad: float  # max |dL/d bias|
    scale: float  # sum |dL/d out| over every output element of every call
    calls: int

    @property
    def relative(self) -> float:
        return self.bias_grad / self.scale if self.scale else 0.0


def gradient_effect(program: Program, path: str) -> GradientEffect:
    model, inputs = program.fresh()
    module = model.get_submodule(path)
    scale = torch.zeros((), dtype=torch.float64)
    calls = 0

    def on_grad(g: torch.Tensor) -> None:
        scale.add_(g.detach().abs().sum())

    def on_forward(_module: nn.Module, _args: Any, out: Any) -> None:
        nonlocal calls
        calls += 1
        for t in tensors(out):
            if t.requires_grad:
                t.register_hook(on_grad)

    module.register_forward_hook(on_forward)
    model.zero_grad(set_to_none=True)
    loss(run(model, inputs)).backward()
    grad = module.bias.grad
    bias_grad = 0.0 if grad is None else float(grad.abs().max())
    return GradientEffect(bias_grad, float(scale), calls)


def train_side_by_side(program: Program, paths: Sequence[str], steps: int = 3) -> None:
    """Train the fixed model (biases zero, as with ``bias=False``) next to one with
    random biases, with plain SGD: outputs agree at every step, every other
    parameter follows the same trajectory, and the biases never move."""
    fixed, inputs = program.fresh(paths, how="zero")
    biased, _ = program.fresh(paths, how="random")
    start = {p: biased.get_submodule(p).bias.detach().clone() for p in paths}
    opt_fixed = torch.optim.SGD(fixed.parameters(), lr=0.1)
    opt_biased = torch.optim.SGD(biased.parameters(), lr=0.1)
    for step in range(steps):
        outs = []
        for net, opt in ((fixed, opt_fixed), (biased, opt_biased)):
            opt.zero_grad(set_to_none=True)
            out = run(net, inputs)
            loss(out).backward()
            opt.step()
            outs.append([t.detach() for t in tensors(out)])
        same, diff = same_outputs(*outs)
        assert same, f"training step {step}: outputs differ by {diff:.3g}"
    skip = {f"{p}.bias" if p else "bias" for p in paths}
    for (name, pa), (_, pb) in zip(fixed.named_parameters(), biased.named_parameters()):
        if name in skip:
            continue
        assert torch.allclose(pa, pb, rtol=1e-7, atol=1e-9), (
            f"after {steps} SGD steps parameter {name} differs by "
            f"{float((pa - pb).abs().max()):.3g}"
        )
    for p in paths:
        moved = float((biased.get_submodule(p).bias.detach() - start[p]).abs().max())
        assert moved < 1e-9, f"bias of {p!r} moved by {moved:.3g} during training"
