"""``--statistics``: how many findings per rule, instead of the findings.

Text (as Ruff's): ``count<TAB>code<TAB>mark name`` per rule, most frequent
first; the mark, when any finding is fixable, is ``[*]`` (``--fix`` fixes all of
them), ``[-]`` (some) or ``[ ]`` (none; an unsafe fix counts only with
``--unsafe-fixes``); then the summary line.  With ``--format json``: an array
of objects with ``code``, ``name``, ``count``, ``fixable`` (all of them) and
``fixable_count``; files that could not be checked add a row with ``code``
null and ``name`` ``"file-error"``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import IO

from convbnlint.report import ReportOptions, summary
from convbnlint.types import FileResult


def rows(
    results: Sequence[FileResult], options: ReportOptions | None = None
) -> list[dict[str, object]]:
    unsafe_fixes = options.unsafe_fixes if options is not None else False
    total: Counter[str] = Counter()
    applicable: Counter[str] = Counter()
    names: dict[str, str] = {}
    errors = 0
    for result in results:
        errors += bool(result.error)
        for d in result.diagnostics:
            total[d.code] += 1
            names[d.code] = d.name
            applicable[d.code] += d.fix_applies(unsafe_fixes)
    out: list[dict[str, object]] = [
        {
            "code": code,
            "name": names[code],
            "count": n,
            "fixable": applicable[code] == n,
            "fixable_count": applicable[code],
        }
        for code, n in sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    if errors:
        out.append(
            {
                "code": None,
                "name": "file-error",
                "count": errors,
                "fixable": False,
                "fixable_count": 0,
            }
        )
    return out


def report(
    results: Sequence[FileResult], out: IO[str], options: ReportOptions, *, as_json: bool = False
) -> None:
    table = rows(results, options)
    if as_json:
        json.dump(table, out, indent=2)
        out.write("\n")
        return
    findings = [r for r in table if r["code"] is not None]
    if findings:
        width = max(len(str(r["count"])) for r in findings)
        code_width = max(len(str(r["code"])) for r in findings)
        any_fixable = any(r["fixable_count"] for r in findings)
        for r in findings:
            mark = ""
            if any_fixable:
                mark = "[*] " if r["fixable"] else "[-] " if r["fixable_count"] else "[ ] "
            out.write(f"{r['count']:>{width}}\t{str(r['code']):<{code_width}}\t{mark}{r['name']}\n")
    if not options.quiet:
        out.write(summary(results, options) + "\n")
