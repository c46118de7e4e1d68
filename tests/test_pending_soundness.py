"""Framework variants of soundness traps the walker does not model yet (issue 9).

Each case of :data:`tests.cases_frameworks.PENDING_SOUNDNESS` is a false positive
today: run as a strict expected failure, it turns red the day the walker gets it
right, so the case is then moved into ``FRAMEWORK_CASES`` (a rule-table case like
any other) instead of silently passing here.
"""

from __future__ import annotations

import pytest

from convbnlint import check_source
from tests.cases import CASES  # noqa: F401  (imports tests.cases_frameworks in order)
from tests.cases_frameworks import PENDING_SOUNDNESS


@pytest.mark.parametrize("case", PENDING_SOUNDNESS, ids=[c.name for c in PENDING_SOUNDNESS])
@pytest.mark.xfail(strict=True, reason="walker soundness pending (issue 9); see the module doc")
def test_pending_trap_is_silent(case) -> None:  # type: ignore[no-untyped-def]
    found = {(d.span.line, d.code) for d in check_source(case.source)}
    assert found == case.expected
