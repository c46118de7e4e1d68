"""Proof at runtime, with real PyTorch, that convbnlint's findings are redundant biases.

For every runnable case of the rule table (``tests/cases.py``) the case's source
is executed while the constructors of the catalogued biased classes are watched
(``tests/runtime_util.py``), so each built module is tied to the line and
column of its constructor call, which is where a finding points.  Then:

* every module built at a flagged site has a bias whose gradient is zero (the
  per-element output gradients it sums cancel to rounding), randomising that
  bias (alone, and all flagged biases at once) leaves every output unchanged in
  training mode *and in eval mode after training* (``runtime_util.eval_outputs``:
  every norm's running mean learns the bias exactly), and training the fixed
  model (biases zero, as ``bias=False``) side by side with the randomised one
  follows the same trajectory while the biases never move;
* every silent site whose modules have a bias, in a case not marked
  ``bias_may_not_matter``, has a bias that matters (output or gradient changes),
  except the sites listed in :data:`DEAD_BUT_SILENT`, whose bias is dead at run
  time for a reason the rule deliberately does not claim; those are checked to
  be dead, so the list cannot go stale silently.

Everything runs in float64 with tiny inputs: an exact cancellation shows as a
relative gradient near 1e-17 and output changes near 1e-14, a real effect as
1e-4..1 (see ``runtime_util.GRAD_REL_TOL``/``OUT_*TOL``).  Eval mode is compared
after training with cumulative running averages (``runtime_util.eval_outputs``),
under which a running mean absorbs a cancelled bias exactly; a norm frozen in
eval mode during training, one with momentum 0, or one that also normalizes
other inputs does not absorb it, and the comparison shows it.
"""

from __future__ import annotations

import functools
import sys
import warnings
from collections import defaultdict
from collections.abc import Iterator

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # torch warns when numpy is absent
    torch = pytest.importorskip("torch")

from tests import runtime_util as ru  # noqa: E402
from tests.cases import CASES, Case  # noqa: E402

pytestmark = [
    pytest.mark.skipif(
        sys.version_info < (3, 11), reason="ties modules to call columns via PEP 657 positions"
    ),
    # linear_silent_cases feeds InstanceNorm1d a 2-D input on purpose.
    pytest.mark.filterwarnings("ignore:input's size at dim=0 does not match num_features"),
]

# Effects this large are unambiguous; between the dead tolerances and these a
# site is reported as ambiguous (a failure), never classified.
MATTERS_REL = 1e-6
MATTERS_DIFF = 1e-6

# Silent sites whose bias is dead at run time although the rule stays silent by
# design (precision first: the rule only claims a conv/linear whose output goes
# straight and only into a cancelling norm).  case name -> {line: why}.
DEAD_BUT_SILENT: dict[str, dict[int, str]] = {
    "things_in_between_break_the_chain": {
        13: "feeds a padding-free Conv2d (a per-channel constant stays one) then BatchNorm2d",
    },
    "returned_or_printed_output_is_silent": {
        7: "its other use only prints `y.mean() > 1e9`; the returned value is bn(y)",
    },
    "branches_in_forward": {
        7: "the inputs take the `flag=True` branch, where y goes into bn; statically "
        "the flag=False path leaves y unnormalised",
    },
    "ordered_dict_sequential": {
        11: "conv2 feeds the next Sequential's 1x1 Conv2d (linear) then InstanceNorm2d",
    },
    "linear_silent_cases": {
        5: "BatchNorm1d(c) with c == 12: the rule only trusts syntactically equal features",
        7: "LazyBatchNorm1d(): the rule does not know the features it will infer",
    },
    "subscript_assignment_target": {
        4: "the container is stored in a dict the analysis does not follow (it could be "
        "indexed there); at run time it is only called whole",
    },
    "route2_mixin_after_sequential": {
        10: "Sequential's forward comes first in the MRO, so the mixin's `self[0](x)` never "
        "runs; the analysis gives related classes one family and sees it as a use",
    },
    "route6_local_container_frozen_by_a_modules_loop": {
        5: "the norm is put in eval mode at construction, which the harness's train() undoes; "
        "a program that never calls train() keeps it frozen (not cancelled), and the "
        "analysis cannot tell which",
    },
    "non_transparent_pooling": {
        7: "AvgPool2d(2, divisor_override=3) without padding scales every window by 4/3, "
        "so a per-channel constant stays one and BatchNorm2d cancels it",
    },
}

# Cases whose silent sites are all dead at run time although nothing is flagged.
ALL_SILENT_BIASES_DEAD: dict[str, str] = {}

# Cases the proof cannot be run on as written (problems in tests/cases.py).
NOT_PROVABLE: dict[str, str] = {}

RUNNABLE = [c for c in CASES if c.runnable]


def _params(cases: list[Case], *xfails: dict[str, str]) -> list[object]:
    out = []
    for case in cases:
        marks = [
            pytest.mark.xfail(reason=table[case.name], strict=True)
            for table in xfails
            if case.name in table
        ]
        out.append(pytest.param(case, id=case.name, marks=marks))
    return out


@pytest.fixture(autouse=True)
def _float64() -> Iterator[None]:
    with ru.float64():
        yield


@functools.cache
def _program(name: str, source: str) -> ru.Program:
    _SOURCES[name] = source
    return ru.Program(name, source)


def program(case: Case) -> ru.Program:
    return _program(case.name, case.source)


@functools.cache
def flagged_positions(source: str) -> frozenset[tuple[int, int]]:
    return frozenset(ru.flagged_positions(source))


def built_by(prog: ru.Program, pos: tuple[int, int]) -> list[ru.Site]:
    """Modules whose construction went through the call at ``pos`` (the
    constructor itself, or e.g. a helper function returning it)."""
    return [site for site in prog.sites if pos in site.chain]


def _describe(source: str, line: int) -> str:
    lines = source.splitlines()
    text = lines[line - 1].strip() if 0 < line <= len(lines) else "?"
    return f"line {line}: {text}"


def assert_outputs_meaningful(prog: ru.Program) -> list[torch.Tensor]:
    """Same result on every execution, and not numerical noise."""
    first, second = ru.outputs(prog), ru.outputs(prog)
    same, diff = ru.same_outputs(first, second)
    assert same, f"two executions of the case differ by {diff:.3g}: not deterministic"
    assert first, "the model returns no floating tensor"
    peak = max(float(t.abs().max()) for t in first if t.numel())
    assert peak > 1e-3, f"model outputs are numerically degenerate (max |out| = {peak:.3g})"
    return first


def prove_redundant(prog: ru.Program, site: ru.Site, base: list[torch.Tensor]) -> None:
    """Zero bias gradient and unchanged outputs for one module (AssertionError if not)."""
    assert site.path is not None, f"{site.where}: not reachable from `model`, cannot prove"
    assert site.has_bias, f"{site.where}: flagged, but the built module has no bias"
    grad = ru.gradient_effect(prog, site.path)
    assert grad.calls > 0, f"{site.where}: never called by model.forward"
    assert grad.scale > 1e-6, (
        f"{site.where}: its output barely reaches the loss (sum |grad| = {grad.scale:.3g}); "
        "the zero-gradient check would be vacuous"
    )
    assert grad.relative <= ru.GRAD_REL_TOL, (
        f"{site.where}: bias gradient {grad.bias_grad:.3g} is {grad.relative:.3g} of the "
        f"output-gradient mass {grad.scale:.3g} (tolerance {ru.GRAD_REL_TOL})"
    )
    same, diff = ru.same_outputs(base, ru.outputs(prog, [site.path]))
    assert same, f"{site.where}: randomising the bias changes the output by {diff:.3g}"
    same, diff = ru.same_outputs(base_eval(prog), ru.eval_outputs(prog, [site.path]))
    assert same, (
        f"{site.where}: randomising the bias changes the eval-mode output after "
        f"training by {diff:.3g}"
    )


@functools.cache
def _base_eval(name: str, source: str) -> list[torch.Tensor]:
    return ru.eval_outputs(_program(name, source))


def base_eval(prog: ru.Program) -> list[torch.Tensor]:
    return _base_eval(prog.name, _SOURCES[prog.name])


_SOURCES: dict[str, str] = {}


def classify(prog: ru.Program, site: ru.Site, base: list[torch.Tensor]) -> str:
    """'dead', 'matters' or an explanation of why neither is clear."""
    assert site.path is not None
    grad = ru.gradient_effect(prog, site.path)
    same, diff = ru.same_outputs(base, ru.outputs(prog, [site.path]))
    same_eval, diff_eval = ru.same_outputs(base_eval(prog), ru.eval_outputs(prog, [site.path]))
    if grad.relative <= ru.GRAD_REL_TOL and same and same_eval:
        return "dead"
    if grad.relative > MATTERS_REL or diff > MATTERS_DIFF or diff_eval > MATTERS_DIFF:
        return "matters"
    return (
        f"ambiguous (relative gradient {grad.relative:.3g}, output change {diff:.3g}, "
        f"eval-mode change {diff_eval:.3g})"
    )


@pytest.mark.parametrize("case", _params(RUNNABLE, NOT_PROVABLE))
def test_flagged_biases_are_redundant(case: Case) -> None:
    prog = program(case)
    flagged = flagged_positions(case.source)
    unmatched = sorted(pos for pos in flagged if not built_by(prog, pos))
    assert not unmatched, "findings that construct no catalogued module at run time: " + (
        "; ".join(f"{_describe(case.source, ln)} (column {col})" for ln, col in unmatched)
    )
    base = assert_outputs_meaningful(prog)
    paths: list[str] = []
    for pos in sorted(flagged):
        for site in built_by(prog, pos):
            prove_redundant(prog, site, base)
            assert site.path is not None
            if site.path not in paths:
                paths.append(site.path)
    if not paths:
        return
    same, diff = ru.same_outputs(base, ru.outputs(prog, paths))
    assert same, f"randomising every flagged bias at once changes the output by {diff:.3g}"
    same, diff = ru.same_outputs(base_eval(prog), ru.eval_outputs(prog, paths))
    assert same, f"randomising every flagged bias at once changes the eval output by {diff:.3g}"
    ru.train_side_by_side(prog, paths)


SILENT_CHECKED = [c for c in RUNNABLE if not c.bias_may_not_matter]


@pytest.mark.parametrize("case", _params(SILENT_CHECKED, NOT_PROVABLE, ALL_SILENT_BIASES_DEAD))
def test_silent_biases_matter(case: Case) -> None:
    prog = program(case)
    flagged = flagged_positions(case.source)
    base = assert_outputs_meaningful(prog)
    dead: set[int] = set()
    problems: list[str] = []
    # Modules no finding covers, grouped by their constructor call (the site a
    # fix would edit): the site's bias matters if any module built there needs it.
    groups: dict[tuple[int, int], list[ru.Site]] = defaultdict(list)
    for site in prog.sites:
        if not flagged.intersection(site.chain):
            groups[site.chain[0]].append(site)
    for (line, _col), sites in sorted(groups.items()):
        live = [s for s in sites if s.has_bias and s.path is not None]
        if not live:
            continue  # bias off, or not part of `model`: nothing to show
        verdicts = {s.path: classify(prog, s, base) for s in live}
        if any(v == "matters" for v in verdicts.values()):
            continue  # one module built here needs its bias: bias=False would change it
        if all(v == "dead" for v in verdicts.values()):
            dead.add(line)
        else:
            problems.append(f"{_describe(case.source, line)}: {verdicts}")
    assert not problems, "unclear runtime effect: " + "; ".join(problems)
    expected = DEAD_BUT_SILENT.get(case.name, {})
    unexpected = sorted(dead - expected.keys())
    assert not unexpected, (
        "silent sites whose bias is dead at run time (a missed finding, or a case that "
        "should be bias_may_not_matter): "
        + "; ".join(_describe(case.source, ln) for ln in unexpected)
    )
    stale = sorted(expected.keys() - dead)
    assert not stale, "DEAD_BUT_SILENT lists sites whose bias matters or that are gone: " + (
        "; ".join(_describe(case.source, ln) for ln in stale)
    )


# ------------------------------------------------------------ the harness itself

HARNESS_SOURCE = """\
import torch
import torch.nn as nn
def helper():
    return nn.Conv2d(4, 4, 1)
model = nn.Sequential(
    nn.Conv2d(3, 4, 3), nn.ReLU(), nn.BatchNorm2d(4),
    nn.LazyConv2d(
        4,
        3,
    ),
    nn.BatchNorm2d(4),
    helper(),
    nn.Linear(6, 5),
    nn.BatchNorm2d(4),
)
inputs = (torch.randn(2, 3, 10, 10),)
"""


def _harness() -> ru.Program:
    return _program("harness", HARNESS_SOURCE)


def test_recorder_ties_modules_to_call_start() -> None:
    got = {(s.cls_name, s.line, s.column, s.path) for s in _harness().sites}
    (helper,) = [s for s in _harness().sites if s.path == "5"]
    assert helper.chain == ((4, 12), (12, 5))
    assert got == {
        ("Conv2d", 6, 5, "0"),
        ("LazyConv2d", 7, 5, "3"),  # multi-line call: its first line, recorded once
        ("Conv2d", 4, 12, "5"),  # built in a helper: the call inside the helper
        ("Linear", 13, 5, "6"),
    }


def test_harness_proves_a_cancelled_bias_and_rejects_one_that_matters() -> None:
    prog = _harness()
    base = assert_outputs_meaningful(prog)
    site = {s.path: s for s in prog.sites}
    prove_redundant(prog, site["3"], base)  # LazyConv2d -> BatchNorm2d
    assert classify(prog, site["3"], base) == "dead"
    for path in ("0", "5", "6"):  # -> ReLU; -> Linear over the width; -> BatchNorm2d
        assert classify(prog, site[path], base) == "matters"
        with pytest.raises(AssertionError):
            prove_redundant(prog, site[path], base)
    with pytest.raises(AssertionError, match="differ"):
        ru.train_side_by_side(prog, ["0"])
    ru.train_side_by_side(prog, ["3"])
