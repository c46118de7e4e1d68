"""Paths on the command line -> the files to check.

* A file named explicitly is always checked (whatever its name or excludes),
  unless ``force_exclude`` (Ruff's ``--force-exclude``, which pre-commit needs:
  it names every file) applies ``exclude``/``extend-exclude`` to it too.
* Folders are walked for ``*.py``, skipping ``exclude``/``extend-exclude``
  patterns and, unless disabled, whatever ``.gitignore`` files ignore.
* Symlinked folders are not followed (so loops cannot trap the walk); symlinked
  files are checked once, by their real path.
* Results are sorted, so output order never depends on the file system.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from convbnlint.config import Config


@dataclass(frozen=True)
class Missing:
    path: str
    reason: str


class Found:
    """What :func:`discover` found: the files, the paths that are not there, and
    the folders named on the command line that hold no file to check."""

    __slots__ = ("empty", "files", "missing")

    def __init__(self, files: list[Path], missing: list[Missing], empty: list[str]) -> None:
        self.files = files
        self.missing = missing
        self.empty = empty

    def __iter__(self):  # type: ignore[no-untyped-def]
        # ``files, missing = discover(...)`` keeps working.
        return iter((self.files, self.missing))


def is_excluded(path: Path, config: Config) -> bool:
    """Whether ``exclude``/``extend-exclude`` match ``path`` or one of its folders.

    Patterns are matched as when walking: by name, and by the path relative to
    the configuration's root (a path outside the root only by name).
    """
    spec = _spec(config.all_excludes)
    absolute = Path(os.path.abspath(path))
    try:
        parts = absolute.relative_to(Path(os.path.abspath(config.root))).parts
        inside = True
    except ValueError:  # outside the root: only the name can match
        parts = (absolute.name,)
        inside = False
    try:
        real = path.resolve()
        real_parts = real.relative_to(config.root.resolve()).parts
    except (ValueError, OSError):
        real_parts = ()
    is_dir = path.is_dir()
    for candidate, relative in ((parts, inside), (real_parts, True)):
        for i, name in enumerate(candidate):
            slash = "/" if i < len(candidate) - 1 or is_dir else ""
            if spec.match_file(name + slash):
                return True
            if relative and spec.match_file("/".join(candidate[: i + 1]) + slash):
                return True
    return False


def _spec(patterns: Sequence[str]):  # type: ignore[no-untyped-def]
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(patterns)


class _LazySpec:
    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = patterns
        self.spec = None

    def match_file(self, name: str) -> bool:
        if self.spec is None:
            self.spec = _spec(self.patterns)
        return self.spec.match_file(name)  # type: ignore[attr-defined]


def _git_root(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


class _Ignores:
    """Stacked ``.gitignore`` specs, each relative to its own folder."""

    def __init__(self) -> None:
        self._cache: dict[Path, object | None] = {}

    def spec_for(self, folder: Path):  # type: ignore[no-untyped-def]
        if folder not in self._cache:
            gi = folder / ".gitignore"
            spec = None
            if gi.is_file():
                try:
                    spec = _spec(gi.read_text(encoding="utf-8", errors="replace").splitlines())
                except OSError:
                    spec = None
            self._cache[folder] = spec
        return self._cache[folder]

    def ignored(self, path: Path, is_dir: bool, stop: Path) -> bool:
        folder = path.parent
        while True:
            spec = self.spec_for(folder)
            if spec is not None:
                rel = path.relative_to(folder).as_posix() + ("/" if is_dir else "")
                if spec.match_file(rel):  # type: ignore[attr-defined]
                    return True
            if folder == stop or folder.parent == folder:
                return False
            folder = folder.parent


def discover(
    paths: Sequence[str],
    config: Config,
    extensions: tuple[str, ...] = (".py",),
    *,
    force_exclude: bool = False,
) -> Found:
    files: dict[Path, None] = {}
    missing: list[Missing] = []
    empty: list[str] = []
    exclude = _LazySpec(config.all_excludes)  # pathspec only once a folder is walked
    ignores = _Ignores()
    for raw in paths:
        path = Path(raw)
        if path.is_symlink() and not path.exists():
            if not (force_exclude and is_excluded(path, config)):
                missing.append(Missing(raw, "broken symbolic link"))
            continue
        if force_exclude and (path.is_file() or path.is_dir()) and is_excluded(path, config):
            continue
        if path.is_file():
            files.setdefault(path, None)
            continue
        if not path.exists():
            missing.append(Missing(raw, "no such file or directory"))
            continue
        if not path.is_dir():
            missing.append(Missing(raw, "not a regular file or directory"))
            continue
        walked = 0
        for found in _walk(path, config, exclude, ignores, extensions):
            walked += 1
            files.setdefault(found, None)
        if walked == 0:
            empty.append(raw)
    return Found(sorted(files, key=lambda p: p.as_posix()), missing, empty)


def _walk(  # type: ignore[no-untyped-def]
    root: Path, config: Config, exclude, ignores: _Ignores, extensions: tuple[str, ...] = (".py",)
) -> Iterator[Path]:
    root_abs = root.resolve()
    git_root = _git_root(root_abs) if config.respect_gitignore else None
    cfg_root = config.root.resolve()

    def excluded(path: Path, is_dir: bool, top: Path, gtop: Path | None) -> bool:
        name = path.name + ("/" if is_dir else "")
        if exclude.match_file(name):
            return True
        try:
            rel = path.resolve().relative_to(top).as_posix()
        except ValueError:
            rel = None
        if rel and exclude.match_file(rel + ("/" if is_dir else "")):
            return True
        if gtop is not None:
            absolute = path.absolute()
            try:
                absolute.relative_to(gtop)
            except ValueError:
                return False
            if ignores.ignored(absolute, is_dir, gtop):
                return True
        return False

    # A folder named on the command line is walked even when it is itself excluded
    # or git-ignored (like a file named there): then only the rules inside it apply.
    top, gtop = cfg_root, git_root
    if root.absolute() != root.absolute().parent and excluded(
        root.absolute(), True, cfg_root, git_root
    ):
        top = root_abs
        gtop = root.absolute() if git_root is not None else None

    # Fast path: no Path objects or resolve() per entry.  For an entry that is not
    # a symbolic link, resolve(folder/name) == resolve(folder)/name, and the
    # folders walked are real folders (symlinked ones are never followed); the
    # .gitignore chain of a folder is its parent's plus its own.  Exclude patterns
    # without a slash can only match a path component, and every component below
    # ``top`` was matched by name on the way down, so only patterns with a slash
    # need the relative path (any negation: match everything, as before).
    sep = os.sep
    top_s = str(top)
    gtop_s = str(gtop) if gtop is not None else None
    patterns = [p for p in config.all_excludes if p.strip() and not p.lstrip().startswith("#")]
    negated = any(p.lstrip().startswith("!") for p in patterns)
    slashed = [p for p in patterns if "/" in p.rstrip("/")]
    rel_spec = exclude if negated else (_spec(slashed) if slashed else None)
    name_hits: dict[str, bool] = {}

    def by_name(name: str) -> bool:
        hit = name_hits.get(name)
        if hit is None:
            hit = name_hits[name] = bool(exclude.match_file(name))
        return hit

    def chain_for(folder_abs: str, parent: list | None) -> list:
        spec = ignores.spec_for(Path(folder_abs))
        base = parent if parent is not None else _chain_up(folder_abs)
        return ([(folder_abs, spec)] if spec is not None else []) + base

    def _chain_up(folder_abs: str) -> list:
        out = []
        folder = Path(folder_abs).parent
        while (
            gtop is not None
            and (str(folder) + sep).startswith(gtop_s + sep)
            or (gtop is not None and str(folder) == gtop_s)
        ):
            spec = ignores.spec_for(folder)
            if spec is not None:
                out.append((str(folder), spec))
            if str(folder) == gtop_s or folder.parent == folder:
                break
            folder = folder.parent
        return out

    def fast_excluded(name: str, is_dir: bool, res: str, absolute: str, chain: list) -> bool:
        if by_name(name + ("/" if is_dir else "")):
            return True
        if rel_spec is not None and (res + sep).startswith(top_s + sep) and res != top_s:
            rel = res[len(top_s) + 1 :].replace(sep, "/")
            if rel_spec.match_file(rel + ("/" if is_dir else "")):
                return True
        if gtop_s is not None and (absolute == gtop_s or absolute.startswith(gtop_s + sep)):
            suffix = "/" if is_dir else ""
            for folder, spec in chain:
                if spec.match_file(absolute[len(folder) + 1 :].replace(sep, "/") + suffix):
                    return True
        return False

    seen_dirs: set[tuple[int, int]] = set()
    root_absolute = str(root.absolute())
    stack: list[tuple[str, str, str, list | None]] = [
        (str(root), str(root_abs), root_absolute, None)
    ]
    while stack:
        folder, res_dir, abs_dir, parent_chain = stack.pop()
        try:
            st = os.stat(folder)
        except OSError:
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen_dirs:
            continue
        seen_dirs.add(key)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        under_git = gtop_s is not None and (abs_dir == gtop_s or abs_dir.startswith(gtop_s + sep))
        chain = chain_for(abs_dir, parent_chain) if under_git else []
        for entry in entries:
            name = entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    child = os.path.join(folder, name)
                    if not fast_excluded(
                        name, True, os.path.join(res_dir, name), os.path.join(abs_dir, name), chain
                    ):
                        stack.append(
                            (child, os.path.join(res_dir, name), os.path.join(abs_dir, name), chain)
                        )
                elif name.endswith(extensions) and entry.is_file(follow_symlinks=True):
                    path = Path(folder, name)
                    if entry.is_symlink():
                        if not excluded(path, False, top, gtop):
                            yield path
                    elif not fast_excluded(
                        name, False, os.path.join(res_dir, name), os.path.join(abs_dir, name), chain
                    ):
                        yield path
                elif (
                    name.endswith(extensions)
                    and entry.is_symlink()
                    and not os.path.exists(os.path.join(folder, name))
                ):
                    # A broken symlink to a source file: reported when it is read.
                    path = Path(folder, name)
                    if not excluded(path, False, top, gtop):
                        yield path
            except OSError:
                continue
