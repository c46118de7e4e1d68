"""Carry checkpoints saved before a fix over to the fixed model, exactly.

A fix (``bias=False``) removes ``<layer>.bias`` from the model's ``state_dict``.
The bias was cancelled by the norm that follows the layer: in train mode by the
batch (or instance) mean, in eval mode by the running mean, which absorbed it
while training.  So the old weights carry over exactly:

    y = γ (conv(x) + b − μ) / √(σ² + ε) + β  =  γ (conv(x) − (μ − b)) / √(σ² + ε) + β

Drop ``b`` and store ``μ' = μ − b`` as the norm's running mean: eval outputs are
unchanged, train outputs never depended on ``b`` or ``μ``.  A norm without running
statistics (``InstanceNorm``'s default) needs nothing but dropping ``b``.

Python API (PyTorch needed: the ``migrate`` extra, ``pip install '.[migrate]'`` in a clone)::

    from convbnlint.migrate import migrate_state_dict, accept_old_checkpoints

    model = build_fixed_model()
    model.load_state_dict(migrate_state_dict(model, torch.load(path, weights_only=True)))

    accept_old_checkpoints(model)   # or: load old and new checkpoints as they are
    model.load_state_dict(old_or_new_state_dict)

Which norm absorbs which bias is read from the built model
(:mod:`convbnlint.migrate.wiring`, with ``torch.fx``); the command line is
``convbnlint migrate OLD NEW --model MODULE:CALLABLE``
(:mod:`convbnlint.migrate.command`).  Nothing else in convbnlint imports this
package, and it imports torch only inside its functions.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from convbnlint.migrate.errors import MigrationError

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = ["Migration", "MigrationError", "accept_old_checkpoints", "describe", "migrate_state_dict", "plan"]

INSTALL_HINT = (
    "pip install torch safetensors numpy (or install convbnlint with its migrate extra,"
    " e.g. pip install '.[migrate]' in a clone)"
)


def require_torch() -> Any:
    """The ``torch`` module, or an ImportError that says how to install it."""
    try:
        import torch
    except ImportError as exc:
        raise ImportError(
            f"convbnlint migrate needs PyTorch ({exc}); install it with: {INSTALL_HINT}"
        ) from None
    return torch


@dataclass(frozen=True)
class Migration:
    """What :func:`plan` found, and the migrated ``state_dict``."""

    state_dict: dict[str, Any]
    removed: tuple[str, ...] = ()  # bias keys dropped
    # running-mean key -> the biases subtracted from it: (coefficient, bias key,
    # repeated over flattened positions); :func:`describe` words it.
    changed: tuple[tuple[str, tuple[tuple[int, str, bool], ...]], ...] = ()
    updated: dict[str, Any] = field(default_factory=dict)  # running-mean key -> new tensor


def migrate_state_dict(model: nn.Module, state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the old ``state_dict`` that loads with ``strict=True`` into ``model``.

    ``model`` is the fixed, built model; ``state_dict`` one saved before the fix.
    Every removed bias (a key ``<path>.bias`` where the built layer at ``<path>``
    now has no bias) is dropped and subtracted from the running mean of the norm
    that cancels it; every other entry is passed through as it is (the same
    tensor objects).  The input is never modified.  A conditional fix
    (``bias=not batch_norm``) is handled per built model: a bias is dropped only
    where this model has none.

    Raises :class:`MigrationError` when that cannot be done exactly: a removed
    bias no norm cancels, missing or unexpected keys, shape mismatches, wiring
    torch.fx cannot follow.
    """
    return plan(model, state_dict).state_dict


def plan(model: nn.Module, state_dict: Mapping[str, Any], *, strict: bool = True) -> Migration:
    """:func:`migrate_state_dict` with the details (what is removed and changed).

    With ``strict=False`` keys that do not belong to the model are left alone and
    missing ones are not reported (``load_state_dict(strict=False)`` decides).
    """
    torch = require_torch()
    from torch import nn

    from convbnlint.migrate import wiring

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, not {type(model).__name__}")
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"state_dict must be a mapping, not {type(state_dict).__name__}")
    expected = model.state_dict(keep_vars=True)
    modules = dict(model.named_modules(remove_duplicate=False))
    removed: dict[str, nn.Module] = {}
    unexpected: list[str] = []
    for key in state_dict:
        if key in expected:
            continue
        layer = _removed_bias_layer(key, modules)
        if layer is not None:
            removed[key] = layer
        else:
            unexpected.append(str(key))
    problems: list[str] = []
    if strict:
        metadata = getattr(state_dict, "_metadata", None)
        missing = [
            k for k in expected if k not in state_dict and not _tolerated(k, modules, metadata)
        ]
        if missing:
            problems.append(f"missing {_some(missing)}")
        if unexpected:
            problems.append(f"unexpected {_some(unexpected)} (not biases the fixed model lacks)")
    mismatched = []
    for key, value in state_dict.items():
        want = expected.get(key)
        if want is None or isinstance(want, nn.parameter.UninitializedTensorMixin):
            continue
        if not isinstance(value, torch.Tensor):
            problems.append(f"`{key}` is a {type(value).__name__}, not a tensor")
            continue
        if tuple(value.shape) != tuple(want.shape):
            mismatched.append(f"`{key}` {tuple(value.shape)} vs {tuple(want.shape)} in the model")
    if mismatched:
        problems.append(
            "shape mismatch: "
            + ", ".join(mismatched[:5])
            + (f" and {len(mismatched) - 5} more" if len(mismatched) > 5 else "")
        )
    if problems:
        raise MigrationError("the checkpoint does not belong to this model: " + "; ".join(problems))
    if not removed:
        return Migration(_copy(state_dict, {}, set()))

    biases: dict[int, torch.Tensor] = {}
    bias_key: dict[int, str] = {}
    for key, layer in removed.items():
        value = state_dict[key]
        if not isinstance(value, torch.Tensor):
            raise MigrationError(f"`{key}` is a {type(value).__name__}, not a tensor")
        channels = getattr(layer, "out_channels", getattr(layer, "out_features", None))
        if value.dim() != 1 or (channels and value.shape[0] != channels):
            raise MigrationError(
                f"shape mismatch: `{key}` has shape {tuple(value.shape)}, the layer has "
                f"{channels} output channels"
            )
        if id(layer) in biases:
            if not torch.equal(biases[id(layer)], value):
                raise MigrationError(
                    f"`{bias_key[id(layer)]}` and `{key}` belong to one shared layer but differ"
                )
            continue
        biases[id(layer)] = value
        bias_key[id(layer)] = key

    shifts = wiring.norm_shifts(model, {id(layer): layer for layer in removed.values()})

    norm_paths: dict[int, list[str]] = {}
    for path, module in modules.items():
        norm_paths.setdefault(id(module), []).append(path)
    objects = {id(m): m for m in model.modules()}
    updated: dict[str, torch.Tensor] = {}
    changed: list[tuple[str, tuple[tuple[int, str, bool], ...]]] = []
    for norm_id, shift in shifts.items():
        norm = objects[norm_id]
        terms = tuple(
            sorted(
                (coeff, bias_key[layer], layout == "flattened") for (layer, layout), coeff in shift
            )
        )
        keys = [_join(p, "running_mean") for p in norm_paths[norm_id]]
        keys = [k for k in keys if k in expected]
        if not keys:  # no running statistics: the bias only has to go
            size = getattr(norm, "num_features", 0)
            if size:
                _total(shift, biases, size, norm_paths[norm_id][0], bias_key)
            continue
        for key in keys:
            if key not in state_dict:
                continue  # (strict=False only)
            old = state_dict[key]
            total = _total(shift, biases, old.numel(), key, bias_key).to(old.device)
            updated[key] = (old.to(torch.float64) - total.reshape(old.shape)).to(old.dtype)
            changed.append((key, terms))
    changed.sort()
    return Migration(
        _copy(state_dict, updated, set(removed)),
        tuple(sorted(removed)),
        tuple(changed),
        updated,
    )


def accept_old_checkpoints(model: nn.Module) -> Any:
    """Let ``model`` load checkpoints saved before a fix as well as new ones.

    Registers a ``load_state_dict`` pre-hook: when a state dict holds biases the
    fixed model lacks, they are folded into the norms' running means as
    :func:`migrate_state_dict` does, so ``load_state_dict(old, strict=True)``
    works; a new checkpoint passes untouched.  Keys that belong to neither are
    left to ``load_state_dict`` (``strict`` decides).  A bias that cannot be
    carried over exactly makes the load fail with the reason.  Returns the hook's
    handle (``.remove()`` unregisters it).
    """
    require_torch()

    def hook(
        module: nn.Module,
        state_dict: dict[str, Any],
        prefix: str,
        local_metadata: dict[str, Any],
        strict: bool,
        missing_keys: list[str],
        unexpected_keys: list[str],
        error_msgs: list[str],
    ) -> None:
        own = OrderedDict(
            (k[len(prefix) :], v) for k, v in state_dict.items() if k.startswith(prefix)
        )
        modules = dict(module.named_modules(remove_duplicate=False))
        expected = module.state_dict(keep_vars=True)
        if not any(k not in expected and _removed_bias_layer(k, modules) for k in own):
            return
        try:
            found = plan(module, own, strict=False)
        except MigrationError as exc:
            error_msgs.append(f"convbnlint.migrate: cannot load an old checkpoint: {exc}")
            return
        for key in found.removed:
            del state_dict[prefix + key]
        for key, value in found.updated.items():
            state_dict[prefix + key] = value

    return model.register_load_state_dict_pre_hook(hook)


# ------------------------------------------------------------------ helpers


def _removed_bias_layer(key: object, modules: dict[str, nn.Module]) -> nn.Module | None:
    """The built layer whose removed bias ``key`` names, or None."""
    from convbnlint.migrate.wiring import is_biased_layer

    if not isinstance(key, str) or not (key == "bias" or key.endswith(".bias")):
        return None
    layer = modules.get(key[: -len(".bias")] if key != "bias" else "")
    if layer is None or not is_biased_layer(layer) or getattr(layer, "bias", 0) is not None:
        return None
    return layer


def _tolerated(key: str, modules: dict[str, nn.Module], metadata: Any) -> bool:
    """A key ``load_state_dict`` fills in itself: a BatchNorm's ``num_batches_tracked``
    in a checkpoint saved before it existed (module version < 2)."""
    from torch.nn.modules.batchnorm import _NormBase

    if not key.endswith("num_batches_tracked"):
        return False
    prefix = key[: -len("num_batches_tracked")].rstrip(".")
    if not isinstance(modules.get(prefix), _NormBase):
        return False
    version = None
    if metadata is not None:
        version = (metadata.get(prefix) or {}).get("version")
    return version is None or version < 2


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _some(keys: list[str]) -> str:
    shown = ", ".join(f"`{k}`" for k in keys[:5])
    more = f" and {len(keys) - 5} more" if len(keys) > 5 else ""
    return f"{'key' if len(keys) == 1 else 'keys'} {shown}{more}"


def describe(terms: tuple[tuple[int, str, bool], ...], prefix: str = "") -> str:
    """``a.bias + b.bias``: what :attr:`Migration.changed` subtracts from a running mean."""
    parts = []
    for coeff, key, flattened in sorted(terms, key=lambda t: (t[1], t[0])):
        name = prefix + key
        if flattened:
            name = f"{name} (each channel repeated over the flattened positions)"
        size = abs(coeff)
        parts.append(("-" if coeff < 0 else "+", f"{size}*{name}" if size != 1 else name))
    text = " ".join(f"{sign} {name}" for sign, name in parts)
    return text[2:] if text.startswith("+ ") else text


def _total(
    shift: Any, biases: dict[int, Any], size: int, where: str, bias_key: dict[int, str]
) -> Any:
    """The shift as one float64 vector of ``size`` values (the norm's channels)."""
    import torch

    total = torch.zeros(size, dtype=torch.float64)
    for (layer, layout), coeff in shift:
        bias = biases[layer].detach().to(device="cpu", dtype=torch.float64)
        if layout == "flattened":
            if size % bias.numel():
                raise MigrationError(
                    f"shape mismatch: `{where}` has {size} values, not a multiple of the "
                    f"{bias.numel()} channels of `{bias_key[layer]}`"
                )
            bias = bias.repeat_interleave(size // bias.numel())
        elif bias.numel() != size:
            raise MigrationError(
                f"shape mismatch: `{bias_key[layer]}` has {bias.numel()} channels, `{where}` "
                f"has {size}"
            )
        total += coeff * bias
    return total


def _copy(state_dict: Mapping[str, Any], updated: dict[str, Any], removed: set[str]) -> dict:
    out: OrderedDict[str, Any] = OrderedDict()
    for key, value in state_dict.items():
        if key not in removed:
            out[key] = updated.get(key, value)
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is not None:
        out._metadata = OrderedDict(metadata)  # type: ignore[attr-defined]
    return out
