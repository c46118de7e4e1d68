"""``--format gitlab``: a GitLab Code Quality report (an array of issues).

Each finding is an issue with ``description`` (``CODE: message``),
``check_name`` (the code), ``fingerprint`` (stable across runs and line shifts:
it hashes the path, the code, the message, the text of the flagged call and the
number of identical ones before it), ``severity`` (``"minor"``; ``"major"`` for a
file that could not be checked, whose ``check_name`` is ``file-error``) and
``location`` with ``path`` and ``positions.begin``/``end`` (lines and columns,
1-based).  Paths are relative to ``$CI_PROJECT_DIR`` when it is set (GitLab's
checkout), else to the working folder, as GitLab wants repository paths.
Upload it as ``artifacts: reports: codequality``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import IO, Any

from convbnlint.report import (
    ReportOptions,
    file_error,
    fix_title,
    hidden,
    locate,
    unsafe_note,
)
from convbnlint.types import FileResult

try:  # the builtin module: hashlib would also load OpenSSL
    from _blake2 import blake2b
except ImportError:  # pragma: no cover
    from hashlib import blake2b


def _path(path: str) -> str:
    base = os.environ.get("CI_PROJECT_DIR") or os.getcwd()
    absolute = os.path.abspath(path)
    try:
        rel = os.path.relpath(absolute, base)
    except ValueError:  # another drive (Windows)
        return path.replace(os.sep, "/")
    if rel.startswith(".."):
        return absolute.replace(os.sep, "/")
    return rel.replace(os.sep, "/")


def _fingerprint(*parts: object) -> str:
    h = blake2b(digest_size=16)
    h.update(json.dumps(parts, ensure_ascii=False).encode("utf-8"))
    return h.hexdigest()


def _snippet(result: FileResult, line: int, end_line: int) -> str:
    if result.source is None:
        return ""
    lines = result.source.splitlines()
    return "\n".join(x.strip() for x in lines[line - 1 : end_line])


def as_issues(
    results: Sequence[FileResult], options: ReportOptions | None = None
) -> list[dict[str, Any]]:
    unsafe_fixes = options.unsafe_fixes if options is not None else False
    issues: list[dict[str, Any]] = []
    for result in results:
        path = _path(result.path)
        error = file_error(result)
        if error is not None:
            begin = {"line": error.line or 1}
            if error.column is not None and error.cell is None:
                begin["column"] = error.column
            message = error.message
            if error.cell is not None:
                message = f"cell {error.cell}, line {error.line}: {message}"
            issues.append(
                {
                    "type": "issue",
                    "check_name": "file-error",
                    "description": f"file-error: {message}",
                    "categories": ["Bug Risk"],
                    "severity": "major",
                    "fingerprint": _fingerprint(path, "file-error", message),
                    "location": {"path": path, "positions": {"begin": begin, "end": begin}},
                }
            )
        seen: dict[tuple[str, str, str], int] = {}
        for d in result.diagnostics:
            loc = locate(result, d)
            snippet = _snippet(result, d.span.line, d.span.end_line)
            ident = (d.code, d.message, snippet)
            nth = seen.get(ident, 0)
            seen[ident] = nth + 1
            description = f"{d.code}: {d.message}"
            if loc.cell is not None:
                description = f"{d.code}: cell {loc.cell}, line {loc.line}: {d.message}"
            if loc.cell is None:
                positions = {
                    "begin": {"line": loc.line, "column": loc.column},
                    "end": {"line": loc.end_line, "column": loc.end_column},
                }
            else:  # a line in a cell is no line of the .ipynb file GitLab shows
                positions = {"begin": {"line": 1}, "end": {"line": 1}}
            issue: dict[str, Any] = {
                "type": "issue",
                "check_name": d.code,
                "description": description,
                "categories": ["Performance"],
                "severity": "minor",
                "fingerprint": _fingerprint(path, *ident, nth),
                "location": {"path": path, "positions": positions},
            }
            if d.fixable:
                if d.fix_applies(unsafe_fixes):
                    body = f"{fix_title(d)}: fixable with `convbnlint --fix`."
                elif hidden(d, unsafe_fixes):
                    body = (
                        f"{fix_title(d)}: {unsafe_note(d)}; apply it with `--fix --unsafe-fixes`."
                    )
                else:
                    body = f"{fix_title(d)} (not applied automatically)."
                issue["content"] = {"body": body}
            issues.append(issue)
    return issues


def report(results: Sequence[FileResult], out: IO[str], options: ReportOptions) -> None:
    json.dump(as_issues(results, options), out, indent=2, ensure_ascii=False)
    out.write("\n")
