"""The bias reads of a file's siblings: the other files of its project.

A fix is unsafe when other code may read the bias it removes
(:mod:`convbnlint.fixsafety`).  ``convbnlint --fix PATHS`` judges each fix by the
files of the run; a tool that sees one buffer (the language server, ``--stdin-
filename``) judges it by the other files of the buffer's project instead, so
that it never applies a fix that ``convbnlint --fix .`` would call unsafe.

The project is the folder of the configuration, else the nearest folder with a
``pyproject.toml`` or ``.git`` above the file, else the file's own folder (the
language server may first offer the editor's workspace folder).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def key(path: Path) -> str:
    """How a file is named in a :func:`scan` table (its real path)."""
    try:
        return str(path.resolve())
    except OSError:
        return str(path.absolute())


def project_of(config: Any, path: Path) -> Path:
    from convbnlint.config import project_root

    if config.source is not None:
        return Path(config.root).resolve()
    return project_root(path.parent) or path.resolve().parent


def scan(config: Any, root: Path) -> dict[str, list[Any]]:
    """``{file: its bias reads}`` for every file a run on ``root`` would check
    (notebooks' reads as ``path:cell N``).  Uses the project's reads cache when
    the CLI made one; creates none."""
    from convbnlint import notebook
    from convbnlint.cache import default_folder
    from convbnlint.discovery import discover
    from convbnlint.fixsafety import tree_reads

    files = discover([str(root)], config, extensions=(".py", ".ipynb")).files
    py = [str(f) for f in files if f.suffix.lower() != ".ipynb"]
    cache = default_folder(root)
    reads = tree_reads(py, str(cache) if cache.is_dir() else None)
    table: dict[str, list[Any]] = {key(Path(name)): [] for name in py}
    for read in reads:
        table[key(Path(read.path))].append(read)
    for f in files:
        if f.suffix.lower() == ".ipynb":
            table[key(f)] = notebook.bias_reads(f)
    return table


def others(table: dict[str, list[Any]], path: Path) -> tuple[Any, ...]:
    """The reads of every file of ``table`` but ``path``."""
    own = key(path)
    return tuple(r for name, reads in table.items() if name != own for r in reads)


def reads_for(config: Any, path: Path) -> tuple[Any, ...]:
    """The bias reads of ``path``'s siblings in its project."""
    return others(scan(config, project_of(config, path)), path)


def worth_it(diagnostics: list[Any]) -> bool:
    """Whether another file's read could change a verdict: a safe fix that other
    code can reach (the reads are scanned only then)."""
    from convbnlint.types import Applicability

    return any(
        d.fixable and d.applicability is Applicability.SAFE and getattr(d, "reach", ())
        for d in diagnostics
    )
