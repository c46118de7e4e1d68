"""Paths on the command line -> the files to check.

* A file named explicitly is always checked (whatever its name or excludes).
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


def _spec(patterns: Sequence[str]):  # type: ignore[no-untyped-def]
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(patterns)


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
    paths: Sequence[str], config: Config, extensions: tuple[str, ...] = (".py",)
) -> tuple[list[Path], list[Missing]]:
    files: dict[Path, None] = {}
    missing: list[Missing] = []
    exclude = _spec(config.all_excludes)
    ignores = _Ignores()
    for raw in paths:
        path = Path(raw)
        if path.is_symlink() and not path.exists():
            missing.append(Missing(raw, "broken symbolic link"))
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
        for found in _walk(path, config, exclude, ignores, extensions):
            files.setdefault(found, None)
    return sorted(files, key=lambda p: p.as_posix()), missing


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

    seen_dirs: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            st = folder.stat()
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
        for entry in entries:
            path = Path(folder, entry.name)
            try:
                if entry.is_dir(follow_symlinks=False):
                    if not excluded(path, True, top, gtop):
                        stack.append(path)
                elif entry.name.endswith(extensions) and entry.is_file(follow_symlinks=True):
                    if not excluded(path, False, top, gtop):
                        yield path
            except OSError:
                continue
