"""Reading source bytes faithfully and writing them back atomically.

Text is decoded exactly as Python would (PEP 263 cookie, UTF-8 BOM) with no
newline translation, so CRLF, mixed endings, tabs, form feeds and a missing final
newline survive a round trip byte for byte.
"""

from __future__ import annotations

import io
import os
import stat
import tempfile
import tokenize
from dataclasses import dataclass
from pathlib import Path


class SourceError(Exception):
    """The file cannot be read or decoded; the message says why."""


@dataclass(frozen=True)
class Source:
    text: str
    encoding: str  # as tokenize names it; "utf-8-sig" carries the BOM
    raw: bytes

    def encode(self, text: str) -> bytes:
        return text.encode(self.encoding)


def decode(raw: bytes) -> Source:
    if b"\x00" in raw:
        raise SourceError("file contains NUL bytes (binary data?)")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as exc:
        raise SourceError(f"bad encoding declaration: {exc.msg}") from None
    try:
        text = raw.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise SourceError(f"cannot decode as {encoding}: {exc}") from None
    return Source(text, encoding, raw)


def read(path: Path) -> Source:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SourceError("no such file") from None
    except IsADirectoryError:
        raise SourceError("is a directory") from None
    except PermissionError:
        raise SourceError("permission denied") from None
    except OSError as exc:
        raise SourceError(exc.strerror or str(exc)) from None
    return decode(raw)


def write_atomic(path: Path, data: bytes, expected: bytes) -> None:
    """Replace ``path`` with ``data`` if it still holds ``expected``.

    Temp file in the same folder, fsync, permission bits copied, ``os.replace``:
    at every instant the path holds either the old or the new bytes.
    """
    try:
        current = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot re-read before writing: {exc.strerror or exc}") from None
    if current != expected:
        raise SourceError("file changed on disk while it was being checked; not written")
    real = path.resolve()
    mode = stat.S_IMODE(real.stat().st_mode)
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(real, os.W_OK):
        raise SourceError("file is read-only; not written")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".convbnlint", dir=real.parent)
    except OSError as exc:
        raise SourceError(f"cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, real)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise SourceError(f"cannot write: {exc.strerror or exc}") from None
        raise
    try:
        dir_fd = os.open(real.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:  # pragma: no cover - some file systems refuse fsync on dirs
        pass
