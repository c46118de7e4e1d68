"""Helpers for the ``convbnlint migrate`` tests: random float64 models, exact comparison.

Importing this module needs torch.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from tests.runtime_util import float64  # noqa: F401  (one definition for both suites)

# Outputs of the old model and of the fixed model with the migrated checkpoint
# must agree to this (float64; the bound).
MAX_DIFF = 1e-9

_counter = itertools.count()


def randomize(model: nn.Module, seed: int = 0) -> nn.Module:
    """Every parameter and running statistic random (variances positive), in place."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in itertools.chain(model.named_parameters(), model.named_buffers()):
            if name.endswith("num_batches_tracked"):
                tensor.fill_(int(torch.randint(1, 1000, (), generator=gen)))
            elif name.endswith("running_var"):
                tensor.copy_(torch.rand(tensor.shape, generator=gen, dtype=tensor.dtype) + 0.5)
            elif tensor.is_floating_point():
                scale = 3.0 if name.endswith("bias") or "running_mean" in name else 1.0
                tensor.copy_(torch.randn(tensor.shape, generator=gen, dtype=tensor.dtype) * scale)
    return model


def materialize(model: nn.Module, inputs: tuple[Any, ...]) -> nn.Module:
    """Run once without touching statistics (lazy modules get their parameters)."""
    if any(isinstance(p, nn.parameter.UninitializedParameter) for p in model.parameters()):
        with torch.no_grad():
            model.eval()
            model(*inputs)
    return model


def outputs(model: nn.Module, inputs: tuple[Any, ...], training: bool) -> list[torch.Tensor]:
    model.train(training)
    torch.manual_seed(7)
    out = model(*inputs)
    flat = out if isinstance(out, (list, tuple)) else [out]
    return [t.detach() for t in flat]


def max_diff(a: list[torch.Tensor], b: list[torch.Tensor]) -> float:
    assert len(a) == len(b) and all(x.shape == y.shape for x, y in zip(a, b))
    return max(float((x - y).abs().max()) for x, y in zip(a, b))


def assert_same(old: nn.Module, new: nn.Module, inputs: tuple[Any, ...]) -> dict[str, float]:
    """Eval, train, and eval again (after the train step moved the running means):
    the outputs agree within :data:`MAX_DIFF`, and are not degenerate."""
    diffs = {}
    for label, training in (("eval", False), ("train", True), ("eval after a train step", False)):
        a, b = outputs(old, inputs, training), outputs(new, inputs, training)
        assert max(float(t.abs().max()) for t in a) > 1e-3, f"{label}: degenerate outputs"
        diffs[label] = max_diff(a, b)
        assert diffs[label] <= MAX_DIFF, f"{label}: outputs differ by {diffs[label]:.3g}"
    return diffs


def load_module(path: Path) -> Any:
    """Import a Python file under a fresh module name."""
    name = f"_migrate_case_{path.stem}_{next(_counter)}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def write_and_load(folder: Path, name: str, source: str) -> Any:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.py"
    path.write_text(source)
    return load_module(path)


def build(factory: Callable[[], nn.Module], inputs: tuple[Any, ...]) -> nn.Module:
    torch.manual_seed(0)
    return materialize(factory(), inputs)
