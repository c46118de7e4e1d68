"""``--format sarif``: SARIF 2.1.0 for GitHub code scanning and other viewers.

One run: the tool (name, version, every rule with its help page; its URL only
when ``CONVBNLINT_DOCS_URL`` names where the documentation is published), one
result per finding with its region and, for fixable findings, the fix as a
replacement whose ``properties`` give its ``applicability`` (``safe``,
``unsafe``, ``display-only``), whether this run's ``--fix`` applies it and why
it is unsafe, and an invocation that records files that could not be checked.
Columns count Unicode code points (``columnKind``), like the other formats.
Paths relative to the working directory are given relative to ``%SRCROOT%``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from convbnlint import __version__
from convbnlint.report import (
    ReportOptions,
    applicability,
    docs_url,
    file_error,
    fix_title,
    locate,
    rule_url,
)
from convbnlint.types import FileResult

SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)


def _uri(path: str) -> tuple[str, bool]:
    """(uri, relative?) for a reported path."""
    p = Path(path)
    if p.is_absolute():
        return p.as_uri(), False
    norm = Path(os.path.normpath(path)).as_posix()
    return quote(norm), True


def _location(path: str) -> dict[str, Any]:
    uri, relative = _uri(path)
    loc: dict[str, Any] = {"uri": uri}
    if relative:
        loc["uriBaseId"] = "%SRCROOT%"
    return loc


def _rules() -> list[dict[str, Any]]:
    from convbnlint.report.ruledoc import markdown
    from convbnlint.rules import all_rules

    out = []
    for code, rule in sorted(all_rules().items()):
        entry: dict[str, Any] = {
            "id": code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.summary},
            "defaultConfiguration": {"level": "warning"},
            "properties": {"fixable": rule.fixable, "tags": ["pytorch", "performance"]},
        }
        url = rule_url(code)
        if url is not None:
            entry["helpUri"] = url
        page = markdown(code)
        if page is not None:
            entry["help"] = {"text": page, "markdown": page}
        out.append(entry)
    return out


def _source(result: FileResult) -> str | None:
    if result.source is not None:
        return result.source
    from convbnlint import sourcefile

    try:
        return sourcefile.read(Path(result.path)).text
    except sourcefile.SourceError:
        return None


def _fixes(result: FileResult) -> dict[Any, Any]:
    from convbnlint.report.edits import fix_edits

    wanted = [d for d in result.diagnostics if d.fixable]  # every applicability
    if not wanted or getattr(result, "locate", None) is not None:
        return {}  # nothing to fix, or a notebook (edits are cell-relative)
    source = _source(result)
    if source is None:
        return {}
    return fix_edits(source, wanted)


def as_sarif(results: Sequence[FileResult], options: ReportOptions | None = None) -> dict[str, Any]:
    unsafe_fixes = options.unsafe_fixes if options is not None else False
    from convbnlint.report.edits import key

    rules = _rules()
    index = {r["id"]: i for i, r in enumerate(rules)}
    out_results: list[dict[str, Any]] = []
    notifications: list[dict[str, Any]] = []
    for result in results:
        error = file_error(result)
        if error is not None:
            physical: dict[str, Any] = {"artifactLocation": _location(result.path)}
            if error.line is not None and error.cell is None:
                physical["region"] = {"startLine": error.line, "startColumn": error.column}
            notifications.append(
                {
                    "level": "error",
                    "message": {"text": f"{result.path}: {result.error}"},
                    "locations": [{"physicalLocation": physical}],
                }
            )
        edits = _fixes(result)
        for d in result.diagnostics:
            loc = locate(result, d)
            physical = {"artifactLocation": _location(result.path)}
            message = d.message
            if loc.cell is None:
                physical["region"] = {
                    "startLine": loc.line,
                    "startColumn": loc.column,
                    "endLine": loc.end_line,
                    "endColumn": loc.end_column,
                }
            else:
                message = f"cell {loc.cell}, line {loc.line}, column {loc.column}: {message}"
            item: dict[str, Any] = {
                "ruleId": d.code,
                "level": "warning",
                "message": {"text": message},
                "locations": [{"physicalLocation": physical}],
            }
            if d.code in index:
                item["ruleIndex"] = index[d.code]
            properties: dict[str, Any] = {}
            if loc.cell is not None:
                properties["cell"] = loc.cell
            kind = applicability(d)
            fix_properties: dict[str, Any] = {}
            if kind is not None:
                fix_properties = {"applicability": kind, "applies": d.fix_applies(unsafe_fixes)}
                if d.unsafe_reason and kind == "unsafe":
                    fix_properties["unsafeReason"] = d.unsafe_reason
                if d.state_keys:
                    fix_properties["stateKeys"] = list(d.state_keys)
                properties["fix"] = fix_properties
            if properties:
                item["properties"] = properties
            edit = edits.get(key(d))
            if edit is not None:
                item["fixes"] = [
                    {
                        "description": {"text": fix_title(d)},
                        "properties": fix_properties,
                        "artifactChanges": [
                            {
                                "artifactLocation": _location(result.path),
                                "replacements": [
                                    {
                                        "deletedRegion": {
                                            "startLine": edit.start_line + 1,
                                            "startColumn": edit.start_column + 1,
                                            "endLine": edit.end_line + 1,
                                            "endColumn": edit.end_column + 1,
                                        },
                                        "insertedContent": {"text": edit.new_text},
                                    }
                                ],
                            }
                        ],
                    }
                ]
            out_results.append(item)
    invocation: dict[str, Any] = {"executionSuccessful": not notifications}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    driver: dict[str, Any] = {
        "name": "convbnlint",
        "version": __version__,
        "semanticVersion": __version__,
        "rules": rules,
    }
    base = docs_url()
    if base is not None:
        driver["informationUri"] = base
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": driver},
                "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().as_uri() + "/"}},
                "columnKind": "unicodeCodePoints",
                "invocations": [invocation],
                "results": out_results,
            }
        ],
    }


def report(results: Sequence[FileResult], out: IO[str], options: ReportOptions) -> None:
    json.dump(as_sarif(results, options), out, indent=2, ensure_ascii=False)
    out.write("\n")
