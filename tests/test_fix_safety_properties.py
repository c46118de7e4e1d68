"""Property tests for :mod:`convbnlint.fixsafety` on generated programs.

* scanning any program for bias reads never raises;
* a conv -> BatchNorm snippet inserted into a generated program keeps a safe fix
  unless the program reads a bias; with an unguarded read of the snippet's layer
  appended, the fix is unsafe and the reason names that line.
"""

from __future__ import annotations

import re

import hypothesmith
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convbnlint.engine import ParseError, check
from convbnlint.fixsafety import scan
from convbnlint.types import Applicability

pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")

PROGRAMS = hypothesmith.from_grammar()
SNIPPET = (
    "import torch.nn as _cbl_nn_\n"
    "_cbl_block_ = _cbl_nn_.Sequential(_cbl_nn_.Conv2d(1, 2, 3), _cbl_nn_.BatchNorm2d(2))\n"
)
READS = [  # (code appended, line of the read within it)
    ("_cbl_nn_.init.zeros_(_cbl_block_[0].bias)", 0),
    ("for _cbl_m_ in _cbl_block_.modules():\n    _cbl_m_.bias.data.zero_()", 1),
    ("_cbl_sd_ = _cbl_block_.state_dict()['0.bias']", 0),
]


@given(PROGRAMS)
def test_scan_never_raises(source: str) -> None:
    scan(source)
    scan(source.replace("x", "x.bias"))


@given(PROGRAMS, st.sampled_from(READS))
def test_an_appended_read_makes_the_fix_unsafe(program: str, appended: tuple[str, int]) -> None:
    read, offset = appended
    base = SNIPPET + program
    if not base.endswith("\n"):
        base += "\n"
    try:
        compile(base + read + "\n", "<generated>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return
    try:
        before = [d for d in check(base).diagnostics if d.span.line == 2]
        after = [d for d in check(base + read + "\n").diagnostics if d.span.line == 2]
    except ParseError:  # libcst's limits on odd generated programs: not the subject here
        return
    if not before or not after:
        return  # the generated program rebinds the names the snippet uses
    # (Python ends a line at \r\n, \r or \n: a generated lone \r counts too.)
    line = len(re.findall(r"\r\n|\r|\n", base)) + 1 + offset
    assert after[0].applicability is Applicability.UNSAFE
    assert after[0].unsafe_reason is not None
    assert after[0].unsafe_reason.startswith(f"line {line} ") or (
        before[0].applicability is Applicability.UNSAFE
    ), after[0].unsafe_reason
