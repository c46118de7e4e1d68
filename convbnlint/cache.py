"""Results cache: skip files that have not changed since the last run.

Layout (``.convbnlint_cache/`` at the project root by default; ``--cache-dir``
moves it, ``--no-cache`` turns it off)::

    .convbnlint_cache/
        CACHEDIR.TAG            # backup tools skip it
        .gitignore              # "*": never committed
        v1/<fingerprint>.json   # one index per tool build + configuration

The *fingerprint* covers everything a result depends on besides the file: the
tool's own code (a hash of its source files), libcst's build, the Python version,
and the options (``select``, ``ignore``, stage switches).  Per-file ignores are
stored with each entry.

Each index maps a file path to its stat signature (size, mtime, ctime, inode)
and its result; results of files that needed real analysis are also kept by
content digest, so a file whose stat changed but whose bytes did not (a
checkout, a restored CI cache) is not analysed again.

Trust rules:

* a file whose modification time is within :data:`RACY_SECONDS` of the run is
  stored without a stat signature (a write in the same clock tick would not
  change it), so the next run reads it again;
* an index is written whole to a temporary file and renamed over the old one,
  after merging what a concurrent run may have written meanwhile: readers see
  the old or the new index, never a torn one; a lost update only costs time;
* anything unreadable (corrupt, foreign, other version) counts as empty;
* the cache never decides a ``--fix`` write: the runner re-reads and re-checks
  every file it may change (see :mod:`convbnlint.runner`).

JSON only (no pickle): a cache folder that came with a cloned repository cannot
run code.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from convbnlint.types import Applicability, Diagnostic, FileResult, Span

try:  # the builtin module: ``hashlib`` would also load OpenSSL (~2 ms at start-up)
    from _blake2 import blake2b
except ImportError:  # pragma: no cover
    from hashlib import blake2b

FORMAT = "v1"
RACY_SECONDS = 2.0
DEFAULT_DIRNAME = ".convbnlint_cache"
_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by convbnlint.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)

# A result as stored: [error or None, [[code, name, message, line, col, end_line,
# end_col, fixable, fix_value, applicability, unsafe_reason, state_keys, reach], ...]]
Stored = list


def fingerprint(settings: Sequence[object]) -> str:
    """Hash of the tool build (its code, libcst, Python) and ``settings``."""
    h = blake2b(digest_size=12)
    h.update(repr((FORMAT, sys.version_info[:2], tuple(settings))).encode())
    h.update(_code_signature())
    return h.hexdigest()


_CODE: bytes | None = None


def _code_signature() -> bytes:
    """The bytes of every convbnlint module, and libcst's installed version."""
    global _CODE
    if _CODE is None:
        h = blake2b(digest_size=16)
        package = Path(__file__).resolve().parent
        for root, dirs, files in os.walk(package):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if name.endswith(".py"):
                    path = os.path.join(root, name)
                    h.update(os.path.relpath(path, package).encode())
                    try:
                        with open(path, "rb") as fh:
                            h.update(fh.read())
                    except OSError:
                        h.update(b"?")
        h.update(_libcst_version().encode())
        _CODE = h.digest()
    return _CODE


def _libcst_version() -> str:
    import importlib.util

    spec = importlib.util.find_spec("libcst")
    if spec is None or not spec.origin:
        return "none"
    folder = os.path.dirname(spec.origin)
    try:
        with open(os.path.join(folder, "_version.py"), encoding="utf-8") as fh:
            return fh.read()
    except OSError:
        st = os.stat(spec.origin)
        return f"{st.st_size}:{st.st_mtime_ns}"


def stat_key(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def digest(raw: bytes) -> str:
    return blake2b(raw, digest_size=16).hexdigest()


def encode(result: FileResult) -> Stored:
    return [
        result.error,
        [
            [
                d.code,
                d.name,
                d.message,
                d.span.line,
                d.span.column,
                d.span.end_line,
                d.span.end_column,
                d.fixable,
                d.fix_value,
                int(d.applicability),
                d.unsafe_reason,
                list(d.state_keys),
                list(d.reach),
            ]
            for d in result.diagnostics
        ],
    ]


def decode(path: str, stored: Stored) -> FileResult:
    error, rows = stored
    return FileResult(
        path=path,
        error=error,
        diagnostics=[
            Diagnostic(
                code=r[0],
                name=r[1],
                message=r[2],
                span=Span(r[3], r[4], r[5], r[6]),
                fixable=r[7],
                fix_value=r[8],
                applicability=Applicability(r[9]) if len(r) > 9 else Applicability.SAFE,
                unsafe_reason=r[10] if len(r) > 10 else None,
                state_keys=tuple(r[11]) if len(r) > 11 else (),
                reach=tuple(r[12]) if len(r) > 12 else (),
            )
            for r in rows
        ],
    )


CLEAN: Stored = [None, []]


@dataclass
class Hit:
    result: Stored
    digest: str  # "" when the file's content digest was never needed


class Cache:
    """One index (one fingerprint); load once, look up, record, :meth:`save` once."""

    def __init__(self, folder: Path, key: str) -> None:
        self.folder = Path(folder)
        self.path = self.folder / FORMAT / f"{key}.json"
        self.started = time.time()
        self.files: dict[str, list] = {}
        self.results: dict[str, Stored] = {}
        self.touched: dict[str, list] = {}
        self.new_results: dict[str, Stored] = {}
        self.files, self.results = self._load()

    def _load(self) -> tuple[dict[str, list], dict[str, Stored]]:
        try:
            with open(self.path, "rb") as fh:
                data = json.loads(fh.read())
            files, results = data["files"], data["results"]
            if isinstance(files, dict) and isinstance(results, dict):
                return files, results
        except (OSError, ValueError, KeyError, TypeError):
            pass
        return {}, {}

    # -- lookups
    def by_stat(self, path: str, st: os.stat_result, extras: str) -> Hit | None:
        entry = self.files.get(path)
        if entry is None or entry[0] != extras or entry[1] != stat_key(st):
            return None
        return self._hit(entry[2], extras)

    def by_digest(self, content: str, extras: str) -> Stored | None:
        return self.results.get(f"{content}|{extras}")

    def _hit(self, content: str, extras: str) -> Hit | None:
        if not content:
            return Hit(CLEAN, "")
        stored = self.results.get(f"{content}|{extras}")
        return None if stored is None else Hit(stored, content)

    # -- recording
    def record(
        self, path: str, st: os.stat_result | None, extras: str, content: str, result: FileResult
    ) -> None:
        """Remember ``result`` for ``path`` (``content``: its digest, "" when clean)."""
        stored = encode(result)
        if content:
            key = f"{content}|{extras}"
            self.results[key] = self.new_results[key] = stored
        elif stored != CLEAN:
            return  # only clean results may go without a digest
        if st is None or st.st_mtime > self.started - RACY_SECONDS:
            sig: list = [-1]  # racy (or unknown): read again next time
        else:
            sig = stat_key(st)
        entry = [extras, sig, content]
        self.files[path] = self.touched[path] = entry

    # -- writing
    def save(self) -> None:
        if not self.touched:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._mark_folder()
            # Merge with whatever another run wrote since we loaded.
            files, results = self._load()
            files.update(self.touched)
            results.update(self.new_results)
            live = {f"{e[2]}|{e[0]}" for e in files.values() if e[2]}
            results = {k: v for k, v in results.items() if k in live}
            data = json.dumps({"files": files, "results": results}, separators=(",", ":"))
            import tempfile

            fd, tmp = tempfile.mkstemp(prefix=".index-", suffix=".tmp", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(data)
                os.replace(tmp, self.path)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except OSError:
            pass  # a cache that cannot be written is only a slower next run

    def _mark_folder(self) -> None:
        for name, text in (("CACHEDIR.TAG", _TAG), (".gitignore", "# Created by convbnlint\n*\n")):
            target = self.folder / name
            if not target.exists():
                try:
                    target.write_text(text, encoding="utf-8")
                except OSError:
                    pass


def default_folder(root: Path) -> Path:
    """``$CONVBNLINT_CACHE_DIR`` if set, else ``<root>/.convbnlint_cache``."""
    env = os.environ.get("CONVBNLINT_CACHE_DIR")
    return Path(env) if env else Path(root) / DEFAULT_DIRNAME
