"""``[tool.convbnlint]`` in ``pyproject.toml``, merged with command-line flags.

The project configuration is the nearest ``pyproject.toml`` with a
``[tool.convbnlint]`` table, searched from the common folder of the paths being
checked (or the current folder) upwards; ``--config`` names one explicitly.
Patterns in ``exclude``/``per-file-ignores`` are gitignore-style and relative to
the folder of that ``pyproject.toml``.  Command-line flags win.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_EXCLUDE: tuple[str, ...] = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".env",
    "env",
    "__pycache__",
    "build",
    "dist",
    "site-packages",
    "node_modules",
    ".tox",
    ".nox",
    ".eggs",
    "*.egg-info",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".convbnlint_cache",
    ".ipynb_checkpoints",
)


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class Option:
    """One setting: its TOML key, type and help.  The docs are generated from these."""

    key: str
    kind: str
    default: Any
    help: str


OPTIONS: tuple[Option, ...] = (
    Option("select", "list[str]", None, "Rule codes (or prefixes) to enable; default all."),
    Option("ignore", "list[str]", [], "Rule codes (or prefixes) to disable."),
    Option(
        "exclude",
        "list[str]",
        list(DEFAULT_EXCLUDE),
        "Gitignore-style patterns of paths to skip when walking folders; replaces the default.",
    ),
    Option("extend-exclude", "list[str]", [], "Patterns added to `exclude`."),
    Option(
        "per-file-ignores",
        "dict[str, list[str]]",
        {},
        "Map of gitignore-style pattern to codes ignored in matching files.",
    ),
    Option(
        "respect-gitignore",
        "bool",
        True,
        "Skip files that `.gitignore` files ignore when walking folders.",
    ),
)


@dataclass
class Config:
    root: Path = field(default_factory=Path.cwd)
    source: Path | None = None  # the pyproject.toml it came from
    select: list[str] | None = None
    ignore: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=lambda: list(DEFAULT_EXCLUDE))
    extend_exclude: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    respect_gitignore: bool = True

    @property
    def all_excludes(self) -> list[str]:
        return [*self.exclude, *self.extend_exclude]

    def ignores_for(self, path: Path) -> list[str]:
        if not self.per_file_ignores:
            return []
        import pathspec

        rel = _relative(path, self.root)
        out: list[str] = []
        for pattern, codes in self.per_file_ignores.items():
            spec = pathspec.GitIgnoreSpec.from_lines([pattern])
            if rel is not None and spec.match_file(rel):
                out.extend(codes)
        return out


def _relative(path: Path, root: Path) -> str | None:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


def find_pyproject(start: Path) -> Path | None:
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
                continue
            if "convbnlint" in data.get("tool", {}):
                return candidate
    return None


def load(path: Path | None, start: Path | None = None) -> Config:
    if path is None:
        path = find_pyproject(start or Path.cwd())
        if path is None:
            return Config(root=(start or Path.cwd()).resolve())
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    table = data.get("tool", {}).get("convbnlint", {})
    config = Config(root=path.resolve().parent, source=path)
    known = {o.key: o for o in OPTIONS}
    for key, value in table.items():
        if key not in known:
            raise ConfigError(f"{path}: unknown option [tool.convbnlint] {key}")
        _check_type(path, known[key], value)
        setattr(config, key.replace("-", "_"), value)
    return config


def _check_type(path: Path, option: Option, value: Any) -> None:
    ok = {
        "list[str]": isinstance(value, list) and all(isinstance(v, str) for v in value),
        "bool": isinstance(value, bool),
        "dict[str, list[str]]": isinstance(value, dict)
        and all(
            isinstance(k, str) and isinstance(v, list) and all(isinstance(c, str) for c in v)
            for k, v in value.items()
        ),
    }[option.kind]
    if not ok:
        raise ConfigError(f"{path}: [tool.convbnlint] {option.key} must be {option.kind}")


def merge_flags(
    config: Config,
    *,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    extend_exclude: Sequence[str] | None = None,
) -> Config:
    """Command-line flags win over the file."""
    names = {f.name for f in fields(Config)}
    values = {n: getattr(config, n) for n in names}
    if select:
        values["select"] = list(select)
    if ignore:
        values["ignore"] = [*config.ignore, *ignore]
    if extend_exclude:
        values["extend_exclude"] = [*config.extend_exclude, *extend_exclude]
    return Config(**values)
