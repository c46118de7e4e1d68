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
    Option(
        "extend-select",
        "list[str]",
        [],
        "Rule codes (or prefixes) to enable on top of `select`.",
    ),
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
    Option(
        "force-exclude",
        "bool",
        False,
        "Apply `exclude`/`extend-exclude` to files named on the command line too"
        " (what pre-commit needs, as it names every file); `--force-exclude`.",
    ),
    Option(
        "unsafe-fixes",
        "bool",
        False,
        "Let `--fix`/`--diff` apply unsafe fixes too (those that may change what the"
        " program does, e.g. when code reads the removed bias); `--unsafe-fixes`.",
    ),
    Option(
        "output-format",
        "str",
        None,
        "Default output format (`text`, `concise`, `json`, `json-lines`, `github`,"
        " `gitlab`, `sarif`, `junit`); `--output-format` and `CONVBNLINT_OUTPUT_FORMAT` win.",
    ),
    Option(
        "whole-project",
        "bool",
        False,
        "Judge calls of the checked files' own wrappers (`conv1x1_block(..., bias=True)`)"
        " with their definitions in other files (slower on a cold run; a change to any"
        " file checks every file again); `--whole-project` turns it on.",
    ),
    Option(
        "max-file-size",
        "size",
        "2MB",
        "Files that could hold a finding and are larger than this are skipped, with an"
        " error (exit 2), instead of being parsed (libcst needs ~650 bytes of memory per"
        " byte of source): bytes, or a string such as `\"512KB\"` or `\"8MB\"`"
        " (1 KB = 1024 bytes); 0: no limit; `--max-file-size`.",
    ),
    Option(
        "image-data-format",
        "str",
        "channels_last",
        "Keras's `image_data_format` (the layout of a conv without `data_format`): "
        "`channels_last` or `channels_first`, as in your `keras.json`.",
    ),
)


@dataclass
class Config:
    root: Path = field(default_factory=Path.cwd)
    source: Path | None = None  # the pyproject.toml it came from
    select: list[str] | None = None
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=lambda: list(DEFAULT_EXCLUDE))
    extend_exclude: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    respect_gitignore: bool = True
    force_exclude: bool = False
    unsafe_fixes: bool = False
    output_format: str | None = None
    whole_project: bool = False
    image_data_format: str = "channels_last"
    max_file_size: int = 2 * 1024 * 1024  # (runner.DEFAULT_MAX_FILE_SIZE)

    @property
    def selected(self) -> list[str] | None:
        """``select`` plus ``extend-select`` (None: every rule)."""
        if self.select is None:
            return None
        return [*self.select, *(c for c in self.extend_select if c not in self.select)]

    @property
    def catalog_settings(self) -> tuple[tuple[str, str], ...]:
        """Project settings a catalog default depends on (``runner.Options.settings``)."""
        if self.image_data_format != "channels_last":
            return (("image-data-format", self.image_data_format),)
        return ()

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


def unknown_codes(codes: Sequence[str]) -> list[str]:
    """The entries of ``codes`` that are neither a rule code nor a prefix of one."""
    if not codes:
        return []
    from convbnlint.rules import all_rules

    known = all_rules()
    return [c for c in codes if not c or not any(k.startswith(c) for k in known)]


def _toml_error(path: Path, exc: Exception) -> ConfigError:
    """``path:line:column: invalid TOML: reason`` (tomllib puts the place in the message)."""
    import re

    message = str(exc)
    match = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    where = str(path)
    if match:
        where = f"{path}:{match.group(1)}:{match.group(2)}"
        message = message[: match.start()]
    else:
        message = re.sub(r"\s*\(at end of document\)$", " (at the end of the file)", message)
    return ConfigError(f"{where}: invalid TOML: {message}")


def _read_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: cannot read: not UTF-8 ({exc.reason} at byte {exc.start})"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(path, exc) from None


def find_pyproject(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` with a ``[tool.convbnlint]`` table, from
    ``start`` upwards.  One that cannot be read or is not valid TOML on the way
    is an error: it may be the configuration the user meant."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            data = _read_toml(candidate)
            tool = data.get("tool", {})
            if isinstance(tool, dict) and "convbnlint" in tool:
                return candidate
    return None


def project_root(start: Path) -> Path | None:
    """The nearest folder, from ``start`` upwards, that holds a ``pyproject.toml`` or
    a ``.git`` (None when there is none)."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / "pyproject.toml").is_file() or (folder / ".git").exists():
            return folder
    return None


def load(path: Path | None, start: Path | None = None) -> Config:
    if path is None:
        path = find_pyproject(start or Path.cwd())
        if path is None:
            # No configuration: patterns are relative to the project (the folder
            # with a pyproject.toml or .git above the checked paths), else the
            # working folder (as Ruff), never to wherever the named paths happen to
            # meet (pre-commit naming only build/x.py must still see "build").
            here = (start or Path.cwd()).resolve()
            return Config(root=project_root(here) or Path.cwd().resolve())
    data = _read_toml(path)
    table = data.get("tool", {}).get("convbnlint", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.convbnlint] must be a table")
    config = Config(root=path.resolve().parent, source=path)
    known = {o.key: o for o in OPTIONS}
    for key, value in table.items():
        if key not in known:
            raise ConfigError(f"{path}: unknown option [tool.convbnlint] {key}")
        _check_type(path, known[key], value)
        _check_codes(path, key, value)
        if key == "output-format":
            from convbnlint.report import ALIASES, FORMATS

            if value not in FORMATS and value not in ALIASES:
                raise ConfigError(
                    f"{path}: [tool.convbnlint] output-format: unknown format {value!r}"
                    f" (one of: {', '.join(FORMATS)})"
                )
        if key == "image-data-format" and value not in ("channels_last", "channels_first"):
            raise ConfigError(
                f"{path}: [tool.convbnlint] image-data-format must be "
                "'channels_last' or 'channels_first'"
            )
        if key == "max-file-size":
            try:
                value = parse_size(value)
            except ValueError as exc:
                raise ConfigError(f"{path}: [tool.convbnlint] max-file-size: {exc}") from None
        setattr(config, key.replace("-", "_"), value)
    return config


_UNITS = {"": 1, "B": 1}
for _i, _u in enumerate("KMG", 1):
    _UNITS.update({_u: 1 << 10 * _i, _u + "B": 1 << 10 * _i, _u + "IB": 1 << 10 * _i})
del _i, _u


def parse_size(value: object) -> int:
    """``max-file-size``: an integer (bytes) or ``"512KB"``, ``"2MB"``, ``"1.5 MB"``
    (1 KB = 1024 bytes); ValueError says what is wrong."""
    import re

    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"must not be negative, not {value}")
        return value
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", value)
        if match and match.group(2).upper() in _UNITS:
            return int(float(match.group(1)) * _UNITS[match.group(2).upper()])
    raise ValueError(
        f"expected bytes or a size such as \"512KB\" or \"8MB\" (KB, MB, GB), not {value!r}"
    )


def _check_codes(path: Path, key: str, value: Any) -> None:
    """Rule codes in the file are checked like those on the command line."""
    if key in ("select", "extend-select", "ignore"):
        groups = [(f"[tool.convbnlint] {key}", value)]
    elif key == "per-file-ignores":
        groups = [
            (f"[tool.convbnlint] per-file-ignores {pattern!r}", v) for pattern, v in value.items()
        ]
    else:
        return
    for where, codes in groups:
        bad = unknown_codes(codes)
        if bad:
            raise ConfigError(
                f"{path}: {where}: unknown rule code or prefix {bad[0]!r}"
                f" (known: {', '.join(_known())})"
            )


def _known() -> list[str]:
    from convbnlint.rules import all_rules

    return sorted(all_rules())


def _check_type(path: Path, option: Option, value: Any) -> None:
    ok = {
        "list[str]": isinstance(value, list) and all(isinstance(v, str) for v in value),
        "bool": isinstance(value, bool),
        "str": isinstance(value, str),
        "size": isinstance(value, (int, str)) and not isinstance(value, bool),
        "dict[str, list[str]]": isinstance(value, dict)
        and all(
            isinstance(k, str) and isinstance(v, list) and all(isinstance(c, str) for c in v)
            for k, v in value.items()
        ),
    }[option.kind]
    if not ok:
        kind = {
            "list[str]": "a list of strings",
            "bool": "true or false",
            "str": "a string",
            "size": 'a number of bytes or a string such as "8MB"',
            "dict[str, list[str]]": "a table of lists of strings",
        }[option.kind]
        raise ConfigError(
            f"{path}: [tool.convbnlint] {option.key} must be {kind} ({option.kind}), not {value!r}"
        )


def merge_flags(
    config: Config,
    *,
    select: Sequence[str] | None = None,
    extend_select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    extend_exclude: Sequence[str] | None = None,
) -> Config:
    """Command-line flags win over the file."""
    names = {f.name for f in fields(Config)}
    values = {n: getattr(config, n) for n in names}
    if select:
        # Like Ruff: a --select on the command line starts the selection afresh.
        values["select"] = list(select)
        values["extend_select"] = []
    if extend_select:
        values["extend_select"] = [*values["extend_select"], *extend_select]
    if ignore:
        values["ignore"] = [*config.ignore, *ignore]
    if extend_exclude:
        values["extend_exclude"] = [*config.extend_exclude, *extend_exclude]
    return Config(**values)
