"""``convbnlint migrate OLD NEW --model MODULE:CALLABLE [--dry-run]``.

The one convbnlint command that runs user code: it imports MODULE and calls
CALLABLE to build the fixed model.  Every failure is one message on stderr and
exit code 2, with nothing written.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

EXIT_ERROR = 2


class _Failure(Exception):
    pass


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option(
    "--model",
    "model_ref",
    required=True,
    metavar="MODULE:CALLABLE",
    help="Builds the fixed model: MODULE is a module name (importable from the current "
    "folder) or a .py file, CALLABLE a function or class in it called without arguments "
    "(or an nn.Module instance).",
)
@click.option("--dry-run", is_flag=True, help="List what would change; write nothing.")
def migrate(old: Path, new: Path, model_ref: str, dry_run: bool) -> None:
    """Carry a checkpoint saved before `--fix` over to the fixed model, exactly.

    Reads OLD (torch.load with weights_only=True, never an unsafe fallback; or
    .safetensors), drops every bias the fixed model no longer has, subtracts it
    from the running mean of the norm that cancels it (running_mean - bias: eval
    outputs stay the same; train outputs never depended on it), checks that the
    result loads with strict=True, and writes NEW atomically in OLD's format.

    WARNING: this command imports MODULE and runs CALLABLE (your code) to build
    the model; convbnlint's other commands never run the code they check.
    Needs PyTorch: pip install torch safetensors numpy (or convbnlint's
    migrate extra: pip install '.[migrate]' in a clone).
    """
    try:
        lines = _migrate(old, new, model_ref, dry_run)
    except _Failure as exc:
        click.echo(f"convbnlint: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    for line in lines:
        click.echo(line)


def _migrate(old: Path, new: Path, model_ref: str, dry_run: bool) -> list[str]:
    try:
        from convbnlint.migrate import require_torch

        require_torch()
    except ImportError as exc:
        raise _Failure(str(exc)) from None
    from convbnlint.migrate import MigrationError, describe, plan
    from convbnlint.migrate.checkpoint import CheckpointError, is_safetensors, read, write

    if is_safetensors(old) != is_safetensors(new):
        raise _Failure(
            f"{new}: NEW must be in OLD's format ({'.safetensors' if is_safetensors(old) else 'a torch checkpoint'})"
        )
    if not dry_run and new.exists() and old.exists() and new.resolve() == old.resolve():
        raise _Failure(f"{new}: NEW must not be OLD (keep the original checkpoint)")
    try:
        checkpoint = read(old)
    except CheckpointError as exc:
        raise _Failure(str(exc)) from None
    model = _build(model_ref)
    new_dicts: dict[str | None, Mapping[str, Any]] = {}
    lines: list[str] = []
    main = None
    for place, sd in checkpoint.state_dicts():
        where = f"{old}" if place is None else f"{old} ['{place}']"
        try:
            found = plan(model, sd)
        except MigrationError as exc:
            raise _Failure(f"{where}: {exc}") from None
        new_dicts[place] = found.state_dict
        if main is None:
            main = found
        prefix = checkpoint.prefix
        label = "" if place is None else f"['{place}'] "
        for key in found.removed:
            lines.append(f"{label}removed {prefix}{key}")
        for key, terms in found.changed:
            lines.append(f"{label}changed {prefix}{key} -= {describe(terms, prefix)}")
    assert main is not None
    try:
        model.load_state_dict(main.state_dict, strict=True)
    except Exception as exc:  # noqa: BLE001  (the final proof: it loads strictly)
        raise _Failure(f"{old}: the migrated state dict does not load: {exc}") from None
    removed = len(main.removed)
    changed = len(main.changed)
    if removed and checkpoint.others:
        for key in checkpoint.others:
            value = checkpoint.top[key]
            if isinstance(value, Mapping) and "param_groups" in value and "state" in value:
                lines.append(
                    f"note: '{key}' (optimizer state) is copied unchanged, but it lists "
                    "parameters by position and no longer matches the fixed model: "
                    "start a new optimizer when you resume training"
                )
    summary = (
        f"{removed} bias{'es' if removed != 1 else ''} removed, "
        f"{changed} running mean{'s' if changed != 1 else ''} changed"
    )
    if dry_run:
        lines.append(f"Would write {new}: {summary} (dry run, nothing written).")
        return lines
    try:
        write(checkpoint, new, checkpoint.with_state_dicts(new_dicts))
    except CheckpointError as exc:
        raise _Failure(str(exc)) from None
    if not removed:
        lines.append(f"Wrote {new}: nothing to migrate, the checkpoint already fits the model.")
    else:
        lines.append(f"Wrote {new}: {summary}.")
    return lines


def _build(ref: str) -> Any:
    """Import MODULE and build the model with CALLABLE (user code runs here)."""
    from torch import nn

    module_name, sep, attr = ref.rpartition(":")
    if not sep or not module_name or not attr:
        raise _Failure(f"--model {ref!r}: expected MODULE:CALLABLE (e.g. mypkg.models:build)")
    try:
        module = _import(module_name)
    except _Failure:
        raise
    except BaseException as exc:  # user code: anything, even SystemExit
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise _Failure(f"--model: importing {module_name} failed: {_short(exc)}") from None
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise _Failure(f"--model: {module_name} has no attribute {attr!r}") from None
    if not isinstance(obj, nn.Module):
        if not callable(obj):
            raise _Failure(f"--model: {ref} is a {type(obj).__name__}, not callable")
        try:
            obj = obj()
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise _Failure(
                f"--model: building the model with {ref}() failed: {_short(exc)}"
            ) from None
    if not isinstance(obj, nn.Module):
        raise _Failure(f"--model: {ref}() returned a {type(obj).__name__}, not a torch.nn.Module")
    return obj


def _import(name: str) -> Any:
    if name.endswith(".py") or "/" in name or "\\" in name:
        path = Path(name)
        if not path.is_file():
            raise _Failure(f"--model: {name}: no such file")
        stem = path.stem if path.stem not in sys.modules else f"{path.stem}_{id(path)}"
        spec = importlib.util.spec_from_file_location(stem, path)
        if spec is None or spec.loader is None:
            raise _Failure(f"--model: {name}: cannot be imported")
        module = importlib.util.module_from_spec(spec)
        sys.modules[stem] = module
        folder = str(path.resolve().parent)
        if folder not in sys.path:
            sys.path.insert(0, folder)
        spec.loader.exec_module(module)
        return module
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            raise _Failure(
                f"--model: no module named {name!r} (run from the folder it is in, or give a .py file)"
            ) from None
        raise


def _short(exc: BaseException) -> str:
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    text = lines[0].strip() if lines else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
