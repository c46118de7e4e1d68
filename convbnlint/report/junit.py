"""``--format junit``: JUnit XML for CI dashboards.

One ``<testsuite>`` per file with findings (or that could not be checked), one
failing ``<testcase>`` per finding (``name`` is ``org.convbnlint.CODE``,
``classname`` the path) and an ``<error>`` test case for a file that could not
be read or parsed (or a path that does not exist).  A failure's text ends with a
``help:`` line naming the fix and whether ``--fix`` applies it.  A clean run is
one passing test case.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import IO

from convbnlint.report import ReportOptions, file_error, fix_title, hidden, locate, unsafe_note
from convbnlint.types import Diagnostic, FileResult


def _help(d: Diagnostic, unsafe_fixes: bool) -> str:
    if not d.fixable:
        return ""
    if d.fix_applies(unsafe_fixes):
        return f"\nhelp: {fix_title(d)} (fixable with --fix)"
    if hidden(d, unsafe_fixes):
        return f"\nhelp: {fix_title(d)}; {unsafe_note(d)}; apply it with --fix --unsafe-fixes"
    return f"\nhelp: {fix_title(d)} (not applied automatically)"


def as_xml(results: Sequence[FileResult], options: ReportOptions | None = None) -> ET.Element:
    unsafe_fixes = options.unsafe_fixes if options is not None else False
    root = ET.Element("testsuites", name="convbnlint")
    total = failures = errors = 0
    for result in results:
        if not result.diagnostics and not result.error:
            continue
        suite = ET.SubElement(root, "testsuite", name=result.path)
        n_fail = n_err = 0
        error = file_error(result)
        if error is not None:
            case = ET.SubElement(suite, "testcase", name="convbnlint.check", classname=result.path)
            if error.line is not None:
                case.set("file", result.path)
                case.set("line", str(error.line))
            err = ET.SubElement(case, "error", message=result.error or "", type="file-error")
            err.text = f"{error.prefix}: {error.message}"
            n_err += 1
        for d in result.diagnostics:
            loc = locate(result, d)
            case = ET.SubElement(
                suite,
                "testcase",
                name=f"org.convbnlint.{d.code}",
                classname=result.path,
                file=result.path,
                line=str(loc.line),
            )
            fail = ET.SubElement(case, "failure", message=d.message, type=d.code)
            fail.text = f"{result.path}:{loc.prefix}: {d.code} {d.message}{_help(d, unsafe_fixes)}"
            n_fail += 1
        suite.set("tests", str(n_fail + n_err))
        suite.set("failures", str(n_fail))
        suite.set("errors", str(n_err))
        suite.set("skipped", "0")
        total += n_fail + n_err
        failures += n_fail
        errors += n_err
    if total == 0:
        suite = ET.SubElement(
            root, "testsuite", name="convbnlint", tests="1", failures="0", errors="0", skipped="0"
        )
        ET.SubElement(suite, "testcase", name="No issues found", classname="convbnlint")
        total = 1
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", str(errors))
    return root


def report(results: Sequence[FileResult], out: IO[str], options: ReportOptions) -> None:
    tree = ET.ElementTree(as_xml(results, options))
    ET.indent(tree)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(tree.getroot(), encoding="unicode"))
    out.write("\n")
