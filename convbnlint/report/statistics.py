"""``--statistics``: how many findings per rule, instead of the findings.

Text: ``count<TAB>code<TAB>[*] name`` per rule, most frequent first (``[*]``:
fixable with ``--fix``).  With ``--format json``: an array of objects with
``code``, ``name``, ``count``, ``fixable``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import IO

from convbnlint.report import ReportOptions
from convbnlint.types import FileResult


def rows(results: Sequence[FileResult]) -> list[dict[str, object]]:
    counts: Counter[str] = Counter()
    names: dict[str, str] = {}
    fixable: dict[str, bool] = {}
    for result in results:
        for d in result.diagnostics:
            counts[d.code] += 1
            names[d.code] = d.name
            fixable[d.code] = fixable.get(d.code, True) and d.fixable
    return [
        {"code": code, "name": names[code], "count": n, "fixable": fixable[code]}
        for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def report(
    results: Sequence[FileResult], out: IO[str], options: ReportOptions, *, as_json: bool = False
) -> None:
    table = rows(results)
    if as_json:
        json.dump(table, out, indent=2)
        out.write("\n")
        return
    if not table:
        if not options.quiet:
            out.write("All checks passed!\n")
        return
    width = max(len(str(r["count"])) for r in table)
    for r in table:
        mark = "[*] " if r["fixable"] else ""
        out.write(f"{r['count']:>{width}}\t{r['code']}\t{mark}{r['name']}\n")
