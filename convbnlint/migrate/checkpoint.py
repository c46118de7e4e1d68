"""Checkpoint files: read safely, find the state dicts, write atomically in the same format.

* ``.safetensors`` files (by extension) are read and written with the
  ``safetensors`` package, keeping the header's metadata;
* everything else is read with ``torch.load(weights_only=True)``, which never
  runs code from the file; a pickle it refuses is an error, never retried
  unsafely.  The container is kept: a state dict nested under ``"state_dict"``
  or ``"model"`` is migrated in place (and so is every other top-level entry
  holding the same keys, e.g. timm's ``"state_dict_ema"``); other entries pass
  through.  A ``module.`` prefix on every key (``DataParallel``/DDP) is taken off
  for the model and put back on write.

Every failure raises :class:`CheckpointError` with one sentence naming the file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from convbnlint.sourcefile import replace_atomically

NESTED = ("state_dict", "model")
PREFIX = "module."


class CheckpointError(Exception):
    """The file cannot be read or written as a checkpoint; the message says why."""


@dataclass
class Checkpoint:
    path: Path
    safetensors: bool
    top: Any  # what the file holds (the state dict itself, or a dict around it)
    # Where the state dicts are: None for the top level, else top-level keys.
    places: list[str | None] = field(default_factory=list)
    prefix: str = ""  # taken off every key of every state dict
    metadata: dict[str, str] | None = None  # safetensors header metadata
    others: list[str] = field(default_factory=list)  # top-level entries passed through

    def state_dicts(self) -> list[tuple[str | None, dict[str, Any]]]:
        """The state dicts, keys without the prefix (the first is the main one)."""
        out = []
        for place in self.places:
            sd = self.top if place is None else self.top[place]
            out.append((place, _strip(sd, self.prefix)))
        return out

    def with_state_dicts(self, new: dict[str | None, Mapping[str, Any]]) -> Any:
        """What to write: the same container with the state dicts replaced."""
        if None in new:
            return _prefixed(new[None], self.prefix)
        top = type(self.top)() if isinstance(self.top, dict) else {}
        for key, value in self.top.items():
            top[key] = _prefixed(new[key], self.prefix) if key in new else value
        return top


def is_safetensors(path: Path) -> bool:
    return path.suffix.lower() == ".safetensors"


def read(path: Path) -> Checkpoint:
    torch = _torch()
    if not path.exists():
        raise CheckpointError(f"{path}: no such file")
    if not path.is_file():
        raise CheckpointError(f"{path}: not a regular file")
    if not os.access(path, os.R_OK):
        raise CheckpointError(f"{path}: permission denied")
    metadata = None
    if is_safetensors(path):
        try:
            from safetensors import safe_open
        except ImportError as exc:
            raise CheckpointError(
                f"{path}: reading .safetensors needs the safetensors package ({exc}); "
                "install it with: pip install safetensors numpy"
            ) from None
        try:
            top: Any = {}
            with safe_open(str(path), framework="pt") as fh:
                metadata = fh.metadata()
                for key in fh.keys():  # noqa: SIM118  (a safe_open handle, not a dict)
                    top[key] = fh.get_tensor(key)
        except Exception as exc:  # noqa: BLE001  (safetensors raises its own error types)
            raise CheckpointError(f"{path}: not a safetensors file ({_short(exc)})") from None
    else:
        try:
            top = torch.load(str(path), map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001  (torch.load: many error types)
            raise CheckpointError(f"{path}: {_load_error(exc)}") from None
    checkpoint = Checkpoint(path, is_safetensors(path), top, metadata=metadata)
    _locate(checkpoint)
    return checkpoint


def _load_error(exc: Exception) -> str:
    import pickle
    import re

    text = str(exc)
    refused = re.search(r"Unsupported global: GLOBAL ([\w.]+)", text)
    if refused:
        return (
            f"torch.load(weights_only=True) refuses it: it holds a {refused.group(1)} object, "
            "not only tensors and plain containers (a whole pickled model?); convbnlint never "
            "unpickles code. Save model.state_dict() instead"
        )
    detail = re.search(r"WeightsUnpickler error: *\n*\s*([^\n]+)", text)
    if detail:
        return f"not a PyTorch checkpoint (unpickling failed: {detail.group(1).strip()})"
    if isinstance(exc, EOFError):
        return "not a PyTorch checkpoint (the file is empty or truncated)"
    if isinstance(exc, (pickle.UnpicklingError, RuntimeError, ValueError, OSError)):
        return f"not a PyTorch checkpoint ({_short(exc)})"
    return f"cannot be read ({_short(exc)})"


def _short(exc: BaseException) -> str:
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    text = lines[0].strip() if lines else ""
    text = text if len(text) <= 160 else text[:157] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _is_tensor_map(value: Any) -> bool:
    torch = _torch()
    return (
        isinstance(value, Mapping)
        and len(value) > 0
        and all(isinstance(k, str) for k in value)
        and all(isinstance(v, torch.Tensor) for v in value.values())
    )


def _locate(checkpoint: Checkpoint) -> None:
    top = checkpoint.top
    path = checkpoint.path
    if _is_tensor_map(top):
        checkpoint.places = [None]
    elif isinstance(top, Mapping):
        main = next((k for k in NESTED if k in top and _is_tensor_map(top[k])), None)
        if main is None:
            keys = ", ".join(repr(k) for k in list(top)[:8])
            raise CheckpointError(
                f"{path}: not a checkpoint: no state dict at the top level or under "
                f"'state_dict' or 'model' (top-level keys: {keys or 'none'})"
            )
        keys = set(top[main])
        checkpoint.places = [main] + [
            k for k in top if k != main and _is_tensor_map(top[k]) and set(top[k]) == keys
        ]
        checkpoint.others = [k for k in top if k not in checkpoint.places]
    else:
        raise CheckpointError(
            f"{path}: not a checkpoint: it holds a {type(top).__name__}, not a state dict"
        )
    first = top if checkpoint.places[0] is None else top[checkpoint.places[0]]
    if all(k.startswith(PREFIX) for k in first):
        checkpoint.prefix = PREFIX


def _strip(sd: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    from collections import OrderedDict

    out: OrderedDict[str, Any] = OrderedDict(
        (k[len(prefix) :] if prefix and k.startswith(prefix) else k, v) for k, v in sd.items()
    )
    metadata = getattr(sd, "_metadata", None)
    if metadata is not None:
        out._metadata = OrderedDict(  # type: ignore[attr-defined]
            (k[len(prefix) :] if prefix and k.startswith(prefix.rstrip(".")) else k, v)
            for k, v in metadata.items()
        )
    return out


def _prefixed(sd: Mapping[str, Any], prefix: str) -> Any:
    from collections import OrderedDict

    if not prefix:
        return sd
    out: OrderedDict[str, Any] = OrderedDict((prefix + k, v) for k, v in sd.items())
    metadata = getattr(sd, "_metadata", None)
    if metadata is not None:
        out._metadata = OrderedDict(  # type: ignore[attr-defined]
            ((prefix + k if k else prefix.rstrip(".")), v) for k, v in metadata.items()
        )
    return out


def write(checkpoint: Checkpoint, target: Path, content: Any) -> None:
    """Write ``content`` to ``target`` in ``checkpoint``'s format, atomically: a
    temporary file in the same folder, flushed and fsynced, renamed over ``target``."""
    torch = _torch()
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise CheckpointError(f"{target}: folder {folder} does not exist")

    def dump(fh: Any) -> None:
        if checkpoint.safetensors:
            from safetensors.torch import save

            tensors = {k: v.contiguous() for k, v in content.items()}
            fh.write(save(tensors, metadata=checkpoint.metadata))
        else:
            torch.save(content, fh)

    try:
        replace_atomically(target, dump, lambda tmp: os.chmod(tmp, 0o644 & ~_umask()))
    except OSError as exc:
        raise CheckpointError(f"{target}: cannot write ({exc.strerror or exc})") from None
    except Exception as exc:
        raise CheckpointError(f"{target}: cannot write ({_short(exc)})") from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _torch() -> Any:
    from convbnlint.migrate import require_torch

    return require_torch()
