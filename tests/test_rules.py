"""Table-driven rule tests: every case's findings are exactly its ``# expect`` marks."""

from __future__ import annotations

import pytest

from convbnlint import check_source, fix_source
from tests.cases import CASES, Case


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_findings_match_expectations(case: Case) -> None:
    found = {(d.span.line, d.code) for d in check_source(case.source)}
    assert found == case.expected


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_same_findings_without_prefilter(case: Case) -> None:
    with_filter = check_source(case.source)
    without = check_source(case.source, use_prefilter=False)
    assert with_filter == without


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.expected], ids=[c.name for c in CASES if c.expected]
)
def test_fix_removes_every_finding_and_is_idempotent(case: Case) -> None:
    before = check_source(case.source)
    fixable = {(d.span.line, d.code) for d in before if d.fix_applies(False)}
    fixed, diags = fix_source(case.source)
    assert {(d.span.line, d.code) for d in diags} == fixable
    # What could not be fixed is still reported, and nothing else is.
    after = check_source(fixed)
    assert [(d.span.line, d.code, d.fixable) for d in after] == [
        (d.span.line, d.code, d.fixable) for d in before if not d.fix_applies(False)
    ]
    assert fix_source(fixed) == (fixed, [])
    old_lines = case.source.splitlines()
    new_lines = fixed.splitlines()
    assert len(old_lines) == len(new_lines)
    changed = {n for n, (a, b) in enumerate(zip(old_lines, new_lines), 1) if a != b}
    assert changed == {line for line, _ in fixable}
    values = {d.span.line: d.fix_value for d in diags}
    for n in changed:
        assert f"bias={values[n]}" in new_lines[n - 1] or values[n] in new_lines[n - 1]


def test_message_names_conv_and_norm() -> None:
    src = "import torch.nn as nn\nm = nn.Sequential(nn.ConvTranspose2d(1, 2, 3), nn.InstanceNorm2d(2))\n"
    (diag,) = check_source(src)
    assert diag.message == (
        "ConvTranspose2d bias is cancelled by the following InstanceNorm2d; pass bias=False"
    )
    assert (diag.span.line, diag.span.column) == (2, 19)
    assert diag.name == "conv-bias-before-norm"


def test_select_and_ignore() -> None:
    src = "import torch.nn as nn\nm = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))\n"
    assert len(check_source(src, select=["CBL"])) == 1
    assert check_source(src, ignore=["CBL001"]) == []
    assert check_source(src, select=["CBL9"]) == []
