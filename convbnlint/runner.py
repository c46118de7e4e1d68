"""Check (and fix) files: read -> engine -> verify -> atomic write.

Every failure becomes a :class:`FileResult` with an ``error`` naming the reason;
one bad file never stops the run.  Work is spread over a process pool when there
are enough files to pay for it; results always come back in input order.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from convbnlint import sourcefile
from convbnlint.types import FileResult

# Below this many files a pool costs more than it saves (start-up, imports).
POOL_MIN_FILES = 16


@dataclass(frozen=True)
class Options:
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    fix: bool = False
    diff: bool = False
    use_prefilter: bool = True
    keep_source: bool = False


def check_text(text: str, path: str, options: Options) -> FileResult:
    """Check one in-memory text; with ``fix``/``diff`` also compute the fixed text."""
    from convbnlint.engine import ParseError, check

    result = FileResult(path=path)
    try:
        checked = check(
            text,
            select=options.select,
            ignore=options.ignore,
            use_prefilter=options.use_prefilter,
        )
    except ParseError as exc:
        result.error = str(exc)
        return result
    except RecursionError:
        result.error = "too deeply nested to analyse"
        return result
    result.diagnostics = checked.diagnostics
    if options.keep_source or (result.diagnostics and not (options.fix or options.diff)):
        result.source = text
    fixable = [d for d in checked.diagnostics if d.fixable]
    if (options.fix or options.diff) and fixable:
        from convbnlint.fix import UnsafeFixError, apply_fixes

        try:
            new = apply_fixes(
                text, checked, fixable, select=options.select, ignore=options.ignore
            )
        except UnsafeFixError as exc:
            result.error = f"internal error: refusing to write an unverified fix: {exc}"
            result.source = text
            return result
        except RecursionError:
            result.error = "too deeply nested to fix"
            return result
        result.source = text
        result.new_source = new
        result.fixed = len(fixable)
        result.diagnostics = [d for d in checked.diagnostics if not d.fixable]
    return result


def check_path(path: Path, options: Options, ignore_extra: tuple[str, ...] = ()) -> FileResult:
    opts = options
    if ignore_extra:
        opts = Options(**{**options.__dict__, "ignore": (*options.ignore, *ignore_extra)})
    try:
        source = sourcefile.read(path)
    except sourcefile.SourceError as exc:
        return FileResult(path=str(path), error=str(exc))
    result = check_text(source.text, str(path), opts)
    if options.fix and result.new_source is not None and result.error is None:
        try:
            sourcefile.write_atomic(path, source.encode(result.new_source), source.raw)
        except sourcefile.SourceError as exc:
            result.error = str(exc)
            result.diagnostics = []
            result.fixed = 0
            # Report the findings that were not written as still present.
            again = check_text(source.text, str(path), Options(**{**opts.__dict__, "fix": False}))
            result.diagnostics = again.diagnostics
            result.new_source = None
        except UnicodeEncodeError as exc:  # pragma: no cover - we only add ASCII
            result.error = f"cannot encode fixed text: {exc}"
    return result


def _work(args: tuple[Path, Options, tuple[str, ...]]) -> FileResult:
    return check_path(*args)


def run(
    paths: Sequence[Path],
    options: Options,
    per_file_ignores: Sequence[tuple[str, ...]] | None = None,
    jobs: int | None = None,
) -> list[FileResult]:
    extras = per_file_ignores or [()] * len(paths)
    tasks = [(p, options, e) for p, e in zip(paths, extras)]
    jobs = jobs if jobs is not None else (os.cpu_count() or 1)
    if jobs <= 1 or len(tasks) < POOL_MIN_FILES:
        return [_work(t) for t in tasks]
    chunk = max(1, len(tasks) // (jobs * 8))
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(_work, tasks, chunksize=chunk))


def unified_diff(result: FileResult) -> str:
    if result.source is None or result.new_source is None:
        return ""
    return "".join(
        difflib.unified_diff(
            result.source.splitlines(keepends=True),
            result.new_source.splitlines(keepends=True),
            fromfile=f"a/{result.path}",
            tofile=f"b/{result.path}",
        )
    )
