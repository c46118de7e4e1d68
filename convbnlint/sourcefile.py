"""Reading source bytes faithfully and writing them back atomically.

Text is decoded exactly as Python would (PEP 263 cookie, UTF-8 BOM) with no
newline translation, so CRLF, mixed endings, tabs, form feeds and a missing final
newline survive a round trip byte for byte; :meth:`Source.encode` proves it for
every fixed text before anything is written.

Writing (:func:`write_atomic`) never damages a file:

* the new bytes go to a temporary file in the same folder
  (``.<name>.<random>.convbnlint``), are flushed and fsynced, get the original's
  permission bits (and owner, when running as root), and replace the file with one
  ``rename``: at every instant the path holds either the old or the new bytes;
* the file is re-read first and again just before the rename: if it changed on disk
  since it was checked, nothing is written;
* a file or folder without any write permission bit is never written, even by root
  (root ignores permission bits, so ``os.access`` alone would say yes);
* SIGINT/SIGTERM/SIGHUP are held back between creating the temporary file and the
  rename (then delivered), so an interrupted run leaves no temporary file behind,
  even when another thread of the process does not block them.  Only a
  SIGKILL or a power cut in that window can leave one; it never ends in ``.py``, so
  it is never mistaken for a source, and it can be deleted.

:func:`parse_hazard` guards libcst's native parser, which overflows its stack (a
segmentation fault, not an exception) on very deep nesting.
"""

from __future__ import annotations

import ast
import io
import os
import signal
import stat
import tempfile
import threading
import tokenize
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

TEMP_SUFFIX = ".convbnlint"


class SourceError(Exception):
    """The file cannot be read, decoded or written; the message says why."""


@dataclass(frozen=True)
class Source:
    text: str
    encoding: str  # as tokenize names it; "utf-8-sig" carries the BOM
    raw: bytes

    def encode(self, text: str) -> bytes:
        """``text`` in the file's encoding, provably byte-identical to ``raw``
        outside the part of the text that changed.

        Raises :class:`SourceError` when the encoding cannot reproduce the original
        bytes around the edit (a stateful or lossy codec): nothing may be written.
        """
        try:
            data = text.encode(self.encoding)
        except UnicodeEncodeError as exc:
            raise SourceError(f"cannot encode the fixed text as {self.encoding}: {exc}") from None
        old = self.text
        prefix = _common_prefix(old, text)
        suffix = _common_suffix(old, text, min(len(old), len(text)) - prefix)
        try:
            head = len(old[:prefix].encode(self.encoding)) if prefix else 0
            tail = len(self.raw) - len(old[: len(old) - suffix].encode(self.encoding))
        except UnicodeEncodeError:  # pragma: no cover - old was decoded from raw
            tail = -1
        if (
            tail < 0
            or data[:head] != self.raw[:head]
            or (tail and data[-tail:] != self.raw[-tail:])
            or len(data) < head + tail
        ):
            raise SourceError(
                f"the {self.encoding} encoding does not reproduce the original bytes "
                "around the fix; not written"
            )
        return data


def _common_prefix(a: str, b: str) -> int:
    """Length of the common prefix (compared a block at a time, at C speed)."""
    n, step = 0, 4096
    limit = min(len(a), len(b))
    while n < limit:
        if a[n : n + step] == b[n : n + step]:
            n += step
            continue
        if step == 1:
            break
        step //= 8
    return min(n, limit)


def _common_suffix(a: str, b: str, limit: int) -> int:
    """Length of the common suffix, at most ``limit``."""
    n, step = 0, 4096
    while n < limit:
        k = min(step, limit - n)
        if a[len(a) - n - k : len(a) - n] == b[len(b) - n - k : len(b) - n]:
            n += k
            continue
        if step == 1:
            break
        step //= 8
    return min(n, limit)


def decode(raw: bytes) -> Source:
    if b"\x00" in raw:
        raise SourceError("file contains NUL bytes (binary data?)")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as exc:
        if "invalid or missing encoding declaration" in (exc.msg or ""):
            # No cookie, and the first lines are not UTF-8: say which byte.
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as bad:
                raise SourceError(f"cannot decode as utf-8: {_short(bad)}") from None
        raise SourceError(f"bad encoding declaration: {exc.msg}") from None
    try:
        text = raw.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise SourceError(f"cannot decode as {encoding}: {_short(exc)}") from None
    return Source(text, encoding, raw)


def _short(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return f"invalid byte 0x{exc.object[exc.start]:02x} at offset {exc.start}"
    return str(exc)


def read_bytes(path: Path) -> bytes:
    """The bytes of a regular file; never blocks on a FIFO or a device."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        if os.path.islink(path):
            raise SourceError("broken symbolic link") from None
        raise SourceError("no such file (did it vanish during the run?)") from None
    except IsADirectoryError:
        raise SourceError("is a directory") from None
    except PermissionError:
        raise SourceError("permission denied") from None
    except OSError as exc:
        raise SourceError(exc.strerror or str(exc)) from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise SourceError("is a directory")
        if not stat.S_ISREG(st.st_mode):
            raise SourceError("not a regular file")
        chunks = []
        while True:
            chunk = os.read(fd, max(st.st_size + 1, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise SourceError(exc.strerror or str(exc)) from None
    finally:
        os.close(fd)


def read(path: Path) -> Source:
    return decode(read_bytes(path))


def _writable(mode: int) -> bool:
    return bool(mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT/SIGTERM/SIGHUP back for the duration, then deliver them.

    The calling thread blocks them; and, on the main thread, a handler that only
    records them replaces the current one meanwhile, because a signal sent to the
    process may be delivered to another thread that does not block it (whose
    default action would end the process mid-write).  Afterwards the previous
    handlers come back and each recorded signal is raised again.
    """
    held = [signal.SIGINT, signal.SIGTERM]
    if hasattr(signal, "SIGHUP"):
        held.append(signal.SIGHUP)
    caught: list[int] = []
    previous: dict[int, object] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in held:
            try:
                prev = signal.getsignal(sig)
                if prev is None or prev == signal.SIG_IGN:
                    continue
                signal.signal(sig, lambda signum, frame: caught.append(signum))
                previous[sig] = prev
            except (ValueError, OSError):  # pragma: no cover - embedded interpreters
                continue
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    except (AttributeError, OSError, ValueError):  # pragma: no cover - not POSIX
        old = None
    try:
        yield
    finally:
        if old is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
        for sig, prev in previous.items():
            signal.signal(sig, prev)  # type: ignore[arg-type]
        for sig in dict.fromkeys(caught):
            signal.raise_signal(sig)


def write_atomic(path: Path, data: bytes, expected: bytes) -> None:
    """Replace ``path`` with ``data`` if it still holds ``expected``.

    Raises :class:`SourceError` (and leaves the file as it was) when the file
    changed on disk, is read-only, sits in a read-only folder, or cannot be written.
    """
    current = _reread(path)
    if current != expected:
        raise SourceError("file changed on disk while it was being checked; not written")
    real = Path(os.path.realpath(path))
    try:
        st = os.stat(real)
        folder_mode = stat.S_IMODE(os.stat(real.parent).st_mode)
    except OSError as exc:
        raise SourceError(f"cannot write: {exc.strerror or exc}") from None
    mode = stat.S_IMODE(st.st_mode)
    if not _writable(mode) or not os.access(real, os.W_OK):
        raise SourceError("file is read-only; not written")
    if not _writable(folder_mode) or not os.access(real.parent, os.W_OK | os.X_OK):
        raise SourceError(f"folder {real.parent} is read-only; not written")
    def write(fh: BinaryIO) -> None:
        fh.write(data)

    def check(tmp: str) -> None:
        _copy_owner(tmp, st)
        os.chmod(tmp, mode)
        if _reread(path) != expected:
            raise SourceError("file changed on disk while it was being fixed; not written")

    try:
        replace_atomically(real, write, check)
    except OSError as exc:
        raise SourceError(f"cannot write: {exc.strerror or exc}") from None


def replace_atomically(
    target: Path, write: Callable[[BinaryIO], None], check: Callable[[str], None]
) -> None:
    """Replace ``target`` with what ``write`` puts in a file: a temporary file in
    the same folder, flushed and fsynced, handed to ``check`` (which may set its
    mode or owner, or raise), renamed over ``target``, and the folder fsynced.

    Interrupting signals are held back meanwhile; the temporary file never
    outlives a failure, whose exception propagates (``OSError`` as is).  Shared
    by ``--fix`` and ``convbnlint migrate``.
    """
    with _signals_held():
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                write(fh)
                fh.flush()
                os.fsync(fh.fileno())
            check(tmp)
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    try:
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:  # pragma: no cover - some file systems refuse fsync on folders
        pass


def _reread(path: Path) -> bytes:
    try:
        return read_bytes(path)
    except SourceError as exc:
        raise SourceError(f"cannot re-read before writing: {exc}") from None


def _copy_owner(tmp: str, st: os.stat_result) -> None:
    mine = os.stat(tmp)
    if (mine.st_uid, mine.st_gid) == (st.st_uid, st.st_gid) or not hasattr(os, "chown"):
        return
    try:
        os.chown(tmp, st.st_uid, st.st_gid)
    except PermissionError:
        raise SourceError(
            "cannot keep the file's owner and group (it belongs to someone else); not written"
        ) from None


# --- guarding libcst's native parser ------------------------------------------------

#: Deepest syntax tree handed to libcst.  Its native parser survives about 3,000
#: levels and crashes the process (SIGSEGV/SIGABRT) at about 10,000; CPython itself
#: refuses about 3,000.  Nothing legitimate comes near 1,000 (and the facts walker
#: gives up on much less), so anything deeper is refused up front.
MAX_DEPTH = 1000
#: CPython's own limits, used when CPython rejects a text that libcst may accept
#: (newer syntax than the running interpreter): bracket nesting, indentation.
MAX_BRACKETS = 200
MAX_INDENT = 100

_CHAINING = frozenset(
    {".", "+", "-", "*", "/", "//", "%", "@", "**", "<<", ">>", "&", "|", "^", "~"}
    | {"<", ">", "==", "!=", "<=", ">=", ":="}
)
_CHAINING_NAMES = frozenset({"and", "or", "not", "if", "else", "lambda", "await", "in", "is"})


def parse_hazard(text: str, tree: ast.AST | None = None) -> str | None:
    """Why ``text`` must not be given to libcst's parser, or None when it is safe.

    ``tree`` is CPython's ``ast`` of ``text`` when the caller already has it.  The
    reason reads like a parse error ("too deeply nested to parse (...)").
    """
    if tree is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                tree = ast.parse(text)
            except (RecursionError, MemoryError):
                return "too deeply nested to parse"
            except SyntaxError as exc:
                if "too many nested" in (exc.msg or ""):
                    return "too deeply nested to parse"
                return _token_hazard(text, exc)
            except ValueError:  # NUL bytes: decode() refuses them first
                return "file contains NUL bytes"
    from convbnlint.syntax.parse import max_depth, too_deep

    limit = max_depth()
    if len(text) <= limit:
        return None
    try:
        depth = _depth(tree)
    except RecursionError:  # pragma: no cover - _depth is iterative
        return "too deeply nested to parse"
    if depth > limit:
        return too_deep(depth, limit)
    return None


def _depth(tree: ast.AST) -> int:
    """Depth of ``tree`` as libcst builds it (``a and b and c`` and dotted import
    names nest there, while CPython keeps them flat)."""
    best = 0
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    iter_children = ast.iter_child_nodes
    while stack:
        node, depth = stack.pop()
        if isinstance(node, ast.BoolOp):
            depth += len(node.values) - 1
        elif isinstance(node, ast.alias):
            depth += node.name.count(".")
        elif isinstance(node, ast.ImportFrom) and node.module:
            depth += node.module.count(".")
        if depth > best:
            best = depth
        for child in iter_children(node):
            stack.append((child, depth + 1))
    return best


def _token_hazard(text: str, exc: SyntaxError) -> str | None:
    """CPython rejected ``text``: is it still shallow enough for libcst to try?"""
    brackets = indent = chain = 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            kind, string = tok.type, tok.string
            if kind == tokenize.OP:
                if string in "([{":
                    brackets += 1
                    if brackets > MAX_BRACKETS:
                        return "too deeply nested to parse"
                elif string in ")]}":
                    brackets -= 1
                if string in _CHAINING:
                    chain += 1
            elif kind == tokenize.NAME and string in _CHAINING_NAMES:
                chain += 1
            elif kind == tokenize.INDENT:
                indent += 1
                if indent > MAX_INDENT:
                    return "too deeply nested to parse"
            elif kind == tokenize.DEDENT:
                indent -= 1
            elif kind == tokenize.NEWLINE:
                chain = 0
            if chain > MAX_DEPTH:
                return "too deeply nested to parse"
    except (tokenize.TokenError, SyntaxError, RecursionError, MemoryError):
        line = exc.lineno or 0
        col = (exc.offset or 0) or 1
        return f"syntax error at {line}:{col}: {exc.msg}"
    return None
