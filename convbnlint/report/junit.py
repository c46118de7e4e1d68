"""``--format junit``: JUnit XML for CI dashboards.

One ``<testsuite>`` per file with findings (or that could not be checked), one
failing ``<testcase>`` per finding (``name`` is ``org.convbnlint.CODE``,
``classname`` the path) and an ``<error>`` test case for a file that could not
be read or parsed.  A clean run is one passing test case.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import IO

from convbnlint.report import ReportOptions, locate
from convbnlint.types import FileResult


def as_xml(results: Sequence[FileResult]) -> ET.Element:
    root = ET.Element("testsuites", name="convbnlint")
    total = failures = errors = 0
    for result in results:
        if not result.diagnostics and not result.error:
            continue
        suite = ET.SubElement(root, "testsuite", name=result.path)
        n_fail = n_err = 0
        if result.error:
            case = ET.SubElement(suite, "testcase", name="convbnlint.check", classname=result.path)
            err = ET.SubElement(case, "error", message=result.error)
            err.text = f"{result.path}: {result.error}"
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
            fail.text = f"{result.path}:{loc.prefix}: {d.code} {d.message}"
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
    tree = ET.ElementTree(as_xml(results))
    ET.indent(tree)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(tree.getroot(), encoding="unicode"))
    out.write("\n")
