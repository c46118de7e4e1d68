"""Check (and fix) files: read -> engine -> verify -> atomic write.

Every failure becomes a :class:`FileResult` with an ``error`` naming the reason;
one bad file never stops the run.  Results always come back in input order.

:func:`run` works in three passes, cheapest first:

1. with a cache (``Options.cache_dir``), every file whose stat signature is in the
   index is answered without being read (:mod:`convbnlint.cache`);
2. the other files are read and put through the engine's text stages in this
   process; a file that cannot hold a finding is settled here (most are);
3. the rest -- real analysis -- runs here, or on a process pool sized to the
   cores when there is enough of it (a pool costs start-up and a libcst import:
   a handful of files, as pre-commit passes, never pays for one).

``--fix``/``--diff`` never trust a cached finding: every file with something to
fix is read and checked again, and :func:`sourcefile.write_atomic` only
replaces bytes it has just compared.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from convbnlint.catalog import passes
from convbnlint.types import FileResult

if TYPE_CHECKING:
    from convbnlint.cache import Cache

# A pool pays for itself only past this much source to analyse (bytes of the
# files that survive the text stages), and never for fewer than two files.
POOL_MIN_BYTES = 400_000
# Show a progress bar (on a terminal) past this much work.
PROGRESS_MIN_FILES = 2000
PROGRESS_MIN_BYTES = 2_000_000
# ``max-file-size``'s default (bench/RESULTS.md, "Robustness"): libcst's tree costs
# ~650 bytes of memory per byte of source, so this bounds one file's analysis at
# about 1.5 GB; the largest file of the 3.8M-line corpus that reaches the parser
# is 0.46 MB, the largest of all 1.4 MB.
DEFAULT_MAX_FILE_SIZE = 2 * 1024 * 1024


@dataclass(frozen=True)
class Options:
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    fix: bool = False
    diff: bool = False
    # With fix/diff: also apply unsafe fixes (``Diagnostic.fix_applies``).
    unsafe_fixes: bool = False
    # False: every stage off (prefilter, call shapes, blocks); for debugging.
    use_prefilter: bool = True
    keep_source: bool = False
    # The cache folder (``.convbnlint_cache`` at the project root); None: no cache.
    cache_dir: str | None = None
    # Progress bar on stderr: None decides (a terminal, not CI, a long run).
    progress: bool | None = None
    # Project settings the catalog's defaults depend on (``image-data-format``).
    settings: tuple[tuple[str, str], ...] = ()
    # Fix safety (issue 10): bias reads in the files of the run
    # (:func:`convbnlint.fixsafety.tree_reads`), each file judged by the others'.
    reads: tuple = ()
    # Whole-project analysis (issue 12): calls of the run's own definitions are
    # judged with those definitions (:mod:`convbnlint.project`); off by default
    # (docs/recall.md: its cold cost).
    project: bool = False
    # A file that could hold a finding and is larger than this (bytes) is not
    # parsed: it is reported as skipped (``max-file-size``; 0: no limit).
    max_file_size: int = DEFAULT_MAX_FILE_SIZE


def catalog_for(options: Options):  # type: ignore[no-untyped-def]
    """The catalog with the project's settings applied (the default one without)."""
    from convbnlint.catalog import default_catalog

    catalog = default_catalog()
    return catalog.configured(dict(options.settings)) if options.settings else catalog


def check_text(text: str, path: str, options: Options) -> FileResult:
    """Check one in-memory text; with ``fix``/``diff`` also compute the fixed text.

    A text too deeply nested for the main thread is checked again on a thread with
    a large stack (:func:`convbnlint.syntax.parse.run_deep`)."""
    result = _check_text(text, path, options)
    if result.error is not None and result.error.startswith("too deeply nested"):
        from convbnlint.syntax.parse import in_deep_mode, run_deep

        if not in_deep_mode():
            result = run_deep(_check_text, text, path, options)
    return result


def _check_text(text: str, path: str, options: Options) -> FileResult:
    from convbnlint.engine import ParseError, check

    result = FileResult(path=path)
    writing = options.fix or options.diff
    too_big = over_size_limit(text, options)
    if too_big is not None:
        result.error = too_big
        return result
    try:
        checked = check(
            text,
            catalog=catalog_for(options),
            select=options.select,
            ignore=options.ignore,
            use_prefilter=options.use_prefilter,
            use_shapes=options.use_prefilter,
            use_blocks=options.use_prefilter,
            fixable=writing,
            other_reads=[r for r in options.reads if r.path != path],
            project=_project_for(options),
            path=path,
        )
    except ParseError as exc:
        from convbnlint.syntax.parse import explain

        result.error = explain(text, str(exc))
        return result
    except RecursionError:
        result.error = "too deeply nested to analyse"
        return result
    except Exception as exc:  # one file's internal error never stops the run
        if os.environ.get("CONVBNLINT_TRACEBACK"):
            raise
        result.error = f"internal error: {type(exc).__name__}: {exc} (please report this file)"
        return result
    result.diagnostics = checked.diagnostics
    if options.keep_source or (result.diagnostics and not (options.fix or options.diff)):
        result.source = text
    fixable = [d for d in checked.diagnostics if d.fix_applies(options.unsafe_fixes)]
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
        result.applied = fixable
        applied = {id(d) for d in fixable}
        result.diagnostics = [d for d in checked.diagnostics if id(d) not in applied]
    return result


def _project_for(options: Options):  # type: ignore[no-untyped-def]
    """The run's project context (:mod:`convbnlint.project`), when it is on."""
    if not options.project:
        return None
    from convbnlint import project

    return project.ACTIVE


def over_size_limit(text: str, options: Options) -> str | None:
    """Why ``text`` is skipped (``max-file-size``), or None.  Only a text that could
    hold a finding is skipped: the others are never parsed, whatever their size."""
    limit = options.max_file_size
    if not limit or len(text) * 4 <= limit:
        return None
    size = len(text.encode("utf-8", "surrogatepass"))
    if size <= limit or not _needs_analysis(text, options):
        return None
    return (
        f"skipped: {size:,} bytes ({human_size(size)}) is over max-file-size"
        f" ({human_size(limit)}); raise it (--max-file-size, or 0 for no limit) to check this file"
    )


def human_size(n: int) -> str:
    """``2 MB``, ``512 KB``, ``5.2 MB`` (1 KB = 1024 bytes, as the option reads them)."""
    for unit, scale in (("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            value = n / scale
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"


def check_path(path: Path, options: Options, ignore_extra: tuple[str, ...] = ()) -> FileResult:
    return _check_file(path, _with_extras(options, ignore_extra))[0]


def _check_file(path: Path, opts: Options) -> tuple[FileResult, bytes | None]:
    """Check (and fix) one file; also the bytes that were checked."""
    from convbnlint import sourcefile

    try:
        source = sourcefile.read(path)
    except sourcefile.SourceError as exc:
        return FileResult(path=str(path), error=str(exc)), None
    result = check_text(source.text, str(path), opts)
    if opts.fix and result.new_source is not None and result.error is None:
        try:
            sourcefile.write_atomic(path, source.encode(result.new_source), source.raw)
        except sourcefile.SourceError as exc:
            result.error = str(exc)
            result.diagnostics = []
            result.fixed = 0
            result.applied = []
            # Report the findings that were not written as still present.
            again = check_text(source.text, str(path), replace(opts, fix=False))
            result.diagnostics = again.diagnostics
            result.new_source = None
        except UnicodeEncodeError as exc:  # pragma: no cover - we only add ASCII
            result.error = f"cannot encode fixed text: {exc}"
    return result, source.raw


def _with_extras(options: Options, extra: tuple[str, ...]) -> Options:
    return replace(options, ignore=(*options.ignore, *extra)) if extra else options


def _analyse(args: tuple[str, Options, bool]) -> tuple[FileResult, str]:
    """Check (and fix) one file; also the digest of the bytes that were checked."""
    path, options, want_digest = args
    result, raw = _check_file(Path(path), options)
    content = ""
    if want_digest and raw is not None:
        from convbnlint.cache import digest

        content = digest(raw)
    return result, content


def run(
    paths: Sequence[Path],
    options: Options,
    per_file_ignores: Sequence[tuple[str, ...]] | None = None,
    jobs: int | None = None,
) -> list[FileResult]:
    """Check ``paths`` (with each file's extra ignored codes); results in input order."""
    n = len(paths)
    extras = list(per_file_ignores) if per_file_ignores is not None else [()] * n
    results: list[FileResult | None] = [None] * n
    names = [str(p) for p in paths]
    cache = _open_cache(options, names if options.project else None)
    writing = options.fix or options.diff
    if writing:  # a fix is judged by the bias reads of every file of the run
        from convbnlint.fixsafety import tree_reads

        # (Reads the caller passed, a notebook's say, are kept.)
        options = replace(options, reads=(*options.reads, *tree_reads(names, options.cache_dir)))
    keys = _absolute(names) if cache is not None else names
    stats: list[os.stat_result | None] = [None] * n
    context = _open_project(names, options)
    if context is not None and cache is not None:
        _load_wrappers(context, cache.path)

    # 1. The cache, by stat signature: nothing is read.
    pending: list[int] = []
    for i in range(n):
        if cache is not None:
            try:
                st = stats[i] = os.stat(names[i])
            except OSError:
                pending.append(i)
                continue
            hit = cache.by_stat(keys[i], st, ",".join(extras[i]))
            if hit is not None:
                done = _from_cache(names[i], hit.result, hit.digest, options)
                if done is not None:
                    results[i] = done
                    continue
        pending.append(i)

    # 2. Read, and settle what the text stages can.
    heavy: list[int] = []
    heavy_bytes = 0
    tokens = _prefilter_tokens(options)
    prefilter_catalog = catalog_for(options) if tokens is not None else None
    for i in pending:
        opts = _with_extras(options, extras[i])
        try:
            raw = _read(names[i])
        except OSError:
            results[i] = check_path(Path(names[i]), opts)  # the same error, worded once
            continue
        if (
            tokens is not None
            and not options.keep_source
            and prefilter_catalog is not None
            and not passes(raw, prefilter_catalog)
            and _plain_ascii(raw)
            and not (context is not None and _project_candidate(context, names[i], raw))
        ):
            # Decodes as itself and names no norm: clean, as check() would say.
            results[i] = FileResult(path=names[i])
            if cache is not None:
                cache.record(keys[i], stats[i], ",".join(extras[i]), "", results[i])
            continue
        from convbnlint import sourcefile

        try:
            source = sourcefile.decode(raw)
        except sourcefile.SourceError:
            results[i] = check_path(Path(names[i]), opts)
            continue
        if not _needs_analysis(source.text, opts) and not (
            context is not None and context.findings(names[i], source.text)
        ):
            result = check_text(source.text, names[i], opts)
            results[i] = result
            if cache is not None and result.error is None:
                cache.record(keys[i], stats[i], ",".join(extras[i]), "", result)
            continue
        if cache is not None and not writing:
            from convbnlint.cache import decode, digest

            content = digest(raw)
            stored = cache.by_digest(content, ",".join(extras[i]))
            if stored is not None:
                result = decode(names[i], stored)
                if result.diagnostics:
                    result.source = source.text
                results[i] = result
                cache.record(keys[i], stats[i], ",".join(extras[i]), content, result)
                continue
        heavy.append(i)
        heavy_bytes += len(raw)

    # 3. Analysis, largest files first (the pool balances better).
    heavy.sort(key=lambda i: -_size(stats[i], names[i]))
    tasks = [(names[i], _with_extras(options, extras[i]), cache is not None) for i in heavy]
    workers = pool_size(jobs, len(tasks), heavy_bytes)
    if context is not None and not sys.platform.startswith("linux"):
        workers = 1  # the project context reaches workers only by fork (_map)
    with _progress(options, n, heavy_bytes, len(tasks)) as advance:
        for i, (result, content) in zip(heavy, _map(_analyse, tasks, workers)):
            results[i] = result
            advance()
            if cache is not None and result.error is None and not writing and content:
                cache.record(keys[i], stats[i], ",".join(extras[i]), content, result)
    if cache is not None:
        cache.save()
        if context is not None:
            _save_wrappers(context, cache.path)
    # Safe fixes made unsafe by bias reads in other files (fixsafety is imported
    # only when there is a fix to judge: start-up).
    if not writing and any(d.fixable for r in results if r is not None for d in r.diagnostics):
        from convbnlint.fixsafety import lower_results

        lower_results(results, names, options.cache_dir)
    return results  # type: ignore[return-value]


def _open_project(names: list[str], options: Options):  # type: ignore[no-untyped-def]
    """The whole-project context of this run (None when it is off)."""
    from convbnlint import project

    if not options.project:
        project.ACTIVE = None
        return None
    py = [n for n in names if n.endswith(".py")]
    context = project.ProjectContext(py) if py else None
    project.ACTIVE = context
    return context


def _project_candidate(context, name: str, raw: bytes) -> bool:  # type: ignore[no-untyped-def]
    """A text the prefilter settles may still hold a judged call: decode it and ask."""
    if not name.endswith(".py"):
        return False
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    if not context.candidate(text):
        return False
    context.add_text(name, text)
    return bool(context.findings(name, text))


def _absolute(names: list[str]) -> list[str]:
    """Cache keys: absolute paths (a join, not ``abspath``'s normalisation: the same
    spelling gives the same key, which is all a cache needs)."""
    if os.name != "posix":
        return [os.path.abspath(n) for n in names]
    prefix = os.getcwd().rstrip("/") + "/"
    return [n if n.startswith("/") else prefix + n for n in names]


def _read(path: str) -> bytes:
    """A regular file's bytes (``os.read``: a third of ``Path.read_bytes``'s cost).

    Never blocks (a FIFO is not read); raises OSError for anything unusual, and
    the caller lets :mod:`convbnlint.sourcefile` word the error.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags | getattr(os, "O_BINARY", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError("not a regular file")
        size = st.st_size
        data = os.read(fd, size + 1)
        if len(data) <= size:
            return data
        chunks = [data]
        while True:
            more = os.read(fd, 1 << 20)
            if not more:
                return b"".join(chunks)
            chunks.append(more)
    finally:
        os.close(fd)


def _plain_ascii(raw: bytes) -> bool:
    """True when ``sourcefile.decode`` would return the bytes as they are: ASCII, no
    NUL, and no PEP 263 coding declaration in the first two lines."""
    if not raw.isascii() or b"\x00" in raw:
        return False
    first = raw.find(b"\n")
    second = raw.find(b"\n", first + 1) if first >= 0 else -1
    head = raw if second < 0 else raw[:second]
    return b"coding" not in head


def _prefilter_tokens(options: Options) -> tuple[bytes, ...] | None:
    """The norm tokens, when the prefilter applies (None: it does not)."""
    if not options.use_prefilter:
        return None
    from convbnlint.catalog import default_catalog

    return default_catalog().prefilter_tokens


def pool_size(jobs: int | None, tasks: int, heavy_bytes: int) -> int:
    """Processes for the analysis.  ``jobs`` None (the default): the cores, but no
    pool (1) unless there is enough to analyse; an explicit ``--jobs`` is obeyed
    whenever there are two files to analyse."""
    if jobs is None:
        if heavy_bytes < POOL_MIN_BYTES:
            return 1
        jobs = os.cpu_count() or 1
    if jobs <= 1 or tasks < 2:
        return 1
    return min(jobs, tasks)


def _needs_analysis(text: str, options: Options) -> bool:
    from convbnlint.engine import needs_analysis

    return needs_analysis(
        text,
        select=options.select,
        ignore=options.ignore,
        use_prefilter=options.use_prefilter,
        use_shapes=options.use_prefilter,
    )


def _size(st: os.stat_result | None, path: str) -> int:
    if st is not None:
        return st.st_size
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _from_cache(path: str, stored: list, content: str, options: Options) -> FileResult | None:
    """A cached result as this run needs it, or None when the file must be read."""
    from convbnlint.cache import decode

    result = decode(path, stored)
    if options.fix or options.diff:
        # Anything fixable is fixed from freshly read and checked bytes.
        return None if any(d.fix_applies(options.unsafe_fixes) for d in result.diagnostics) else result
    if options.keep_source or result.diagnostics:
        # Reports show the code: read it, and make sure it is what was checked.
        from convbnlint import sourcefile
        from convbnlint.cache import digest

        try:
            raw = _read(path)
        except OSError:
            return None
        if not content or digest(raw) != content:
            return None
        try:
            result.source = sourcefile.decode(raw).text
        except sourcefile.SourceError:
            return None
    return result


def _open_cache(options: Options, names: list[str] | None = None) -> Cache | None:
    if options.cache_dir is None:
        return None
    from convbnlint.cache import Cache, fingerprint

    key = fingerprint(
        [options.select, options.ignore, options.use_prefilter, list(options.settings), "check"]
        + [options.max_file_size]
    )
    if names is not None:  # whole-project: a file's findings depend on the others
        key = f"{key}-p{_project_digest(names)}"
    cache = Cache(Path(options.cache_dir), key)
    if names is not None:
        _prune_project_caches(cache.path)
    return cache


def _project_digest(names: list[str]) -> str:
    """The run's files and their stat signatures: any change, addition or removal
    gives another whole-project cache (every file checked again)."""
    from convbnlint.cache import fingerprint, stat_key

    sig = []
    for name in sorted(os.path.abspath(n) for n in names):
        try:
            sig.append([name, stat_key(os.stat(name))])
        except OSError:
            sig.append([name, None])
    return fingerprint(sig)


def _wrappers_path(path: Path) -> Path:
    return path.with_name(path.stem + ".wrappers.json")


def _load_wrappers(context, path: Path) -> None:  # type: ignore[no-untyped-def]
    """The project's possible wrapper names as the run that filled this cache
    (the same tree: the key has its digest) computed them: a warm run that must
    check one file again (an error is never cached) does not read every file."""
    import json

    try:
        names = json.loads(_wrappers_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(names, list) and all(isinstance(n, str) for n in names):
        context._wrappers = frozenset(names)


def _save_wrappers(context, path: Path) -> None:  # type: ignore[no-untyped-def]
    import json

    if context._wrappers is None or _wrappers_path(path).exists():
        return
    try:
        _wrappers_path(path).write_text(json.dumps(sorted(context._wrappers)), encoding="utf-8")
    except OSError:
        pass


def _prune_project_caches(path: Path) -> None:
    """Whole-project caches of the same settings for other states of the tree."""
    stem = path.stem.rpartition("-p")[0]
    try:
        for other in path.parent.glob(f"{stem}-p*.json"):
            if other.name.partition(".")[0] != path.stem:
                other.unlink()
    except OSError:
        pass


def _map(
    fn: Callable[[tuple[str, Options, bool]], tuple[FileResult, str]],
    tasks: list[tuple[str, Options, bool]],
    jobs: int,
):  # type: ignore[no-untyped-def]
    """``map(fn, tasks)`` in order; on ``jobs`` processes when more than one."""
    if jobs <= 1:
        yield from map(fn, tasks)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = None
    if sys.platform.startswith("linux"):
        # fork: workers share what is already imported; import the analysis first.
        import convbnlint.analysis  # noqa: F401
        import convbnlint.facts  # noqa: F401
        import convbnlint.syntax.stages  # noqa: F401

        context = multiprocessing.get_context("fork")
    workers = min(jobs, len(tasks))
    chunk = 1 if len(tasks) < workers * 16 else 2
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_worker_init, initargs=(os.getpid(),)
    ) as pool:
        yield from pool.map(fn, tasks, chunksize=chunk)


def _worker_init(parent: int) -> None:
    """A worker stops when the main process is gone (``kill PID``, ``timeout``...):
    it sends itself SIGTERM, which ``sourcefile.write_atomic`` holds until a
    replacement is complete, so no file is left half-done."""
    import signal
    import threading
    import time

    def watch() -> None:
        # This thread must never be the one a signal kills the process in: the
        # main thread holds SIGTERM while it replaces a file, and the signal waits.
        held = {signal.SIGINT, signal.SIGTERM}
        if hasattr(signal, "SIGHUP"):
            held.add(signal.SIGHUP)
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_BLOCK, held)
        while os.getppid() == parent:
            time.sleep(0.2)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="convbnlint-parent-watch", daemon=True).start()


class _NoProgress:
    def __enter__(self) -> Callable[[], None]:
        return lambda: None

    def __exit__(self, *exc: object) -> None:
        return None


def _progress(options: Options, files: int, heavy_bytes: int, tasks: int):  # type: ignore[no-untyped-def]
    """A rich progress bar on stderr over the analysis, for long runs on a terminal."""
    show = options.progress
    if show is None:
        show = (
            tasks > 0
            and (files >= PROGRESS_MIN_FILES or heavy_bytes >= PROGRESS_MIN_BYTES)
            and sys.stderr.isatty()
            and not os.environ.get("CI")
            and os.environ.get("TERM") != "dumb"
        )
    if not show or tasks == 0:
        return _NoProgress()
    return _RichProgress(tasks)


class _RichProgress:
    def __init__(self, total: int) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress = Progress(
            TextColumn("convbnlint: analysing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            transient=True,
        )
        self.total = total

    def __enter__(self) -> Callable[[], None]:
        self.progress.__enter__()
        task = self.progress.add_task("analyse", total=self.total)
        return lambda: self.progress.advance(task)

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)


def unified_diff(result: FileResult) -> str:
    import difflib

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
