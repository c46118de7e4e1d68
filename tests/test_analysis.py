"""The analysis on plain data: no parsing, no libcst."""

from __future__ import annotations

import subprocess
import sys

from convbnlint.analysis import Analysis
from convbnlint.catalog.torch import CATALOG
from convbnlint.ir import (
    ESCAPE,
    OTHER,
    BIND,
    ESCAPED,
    Graph,
    HolderRef,
    Invocation,
    ModuleFacts,
    Site,
    SiteRef,
    call_use,
    member_use,
)
from convbnlint.types import Bias

CONV = CATALOG.lookup("torch.nn.Conv2d")
BN = CATALOG.lookup("torch.nn.BatchNorm2d")
SEQ = CATALOG.lookup("torch.nn.Sequential")
POOL = CATALOG.lookup("torch.nn.MaxPool2d")


def _seq(*refs: object) -> Graph:
    graph = Graph()
    for ref in refs:
        graph = graph.then(Graph.single(ref))  # type: ignore[arg-type]
    return graph


def test_analysis_imports_no_libcst() -> None:
    code = "import sys, convbnlint.analysis, convbnlint.ir; print('libcst' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_sequential_neighbours() -> None:
    facts = ModuleFacts()
    facts.sites[0] = Site(0, CONV, Bias.DEFAULT)
    facts.sites[1] = Site(1, BN)
    facts.sites[2] = Site(2, SEQ, items=_seq(SiteRef(0), SiteRef(1)))
    facts.uses[SiteRef(0)] = {member_use(2)}
    facts.uses[SiteRef(1)] = {member_use(2)}
    (finding,) = Analysis(facts).findings()
    assert (finding.site, finding.norms, finding.literal) == (0, (1,), None)


def test_bias_off_or_unknown_is_silent() -> None:
    for bias in (Bias.FALSE, Bias.UNKNOWN):
        facts = ModuleFacts()
        facts.sites[0] = Site(0, CONV, bias)
        facts.sites[1] = Site(1, BN)
        facts.sites[2] = Site(2, SEQ, items=_seq(SiteRef(0), SiteRef(1)))
        facts.uses[SiteRef(0)] = {member_use(2)}
        assert Analysis(facts).findings() == []


def test_holder_called_into_norm_and_an_escape() -> None:
    conv, bn = HolderRef(("attr", 0, "conv")), HolderRef(("attr", 0, "bn"))
    facts = ModuleFacts()
    facts.sites[0] = Site(0, CONV, Bias.DEFAULT)
    facts.sites[1] = Site(1, BN)
    facts.bindings[conv.holder] = [SiteRef(0)]
    facts.bindings[bn.holder] = [SiteRef(1)]
    facts.uses[SiteRef(0)] = {BIND}
    facts.uses[SiteRef(1)] = {BIND}
    facts.uses[conv] = {call_use(0)}
    facts.uses[bn] = {call_use(1)}
    # self.bn(self.conv(x)): the conv's output is the bn's only input, and the only one.
    facts.invocations[0] = Invocation(0, conv, {1}, {OTHER})
    facts.invocations[1] = Invocation(1, bn, {ESCAPE}, {0})
    assert [f.site for f in Analysis(facts).findings()] == [0]
    facts.uses[conv] = {call_use(0), ESCAPED}
    assert Analysis(facts).findings() == []


def test_a_norm_that_also_normalizes_other_inputs_does_not_cancel() -> None:
    """self.bn(self.conv(x)) + self.bn(y): the running mean mixes y's."""
    conv, bn = HolderRef(("attr", 0, "conv")), HolderRef(("attr", 0, "bn"))
    facts = ModuleFacts()
    facts.sites[0] = Site(0, CONV, Bias.DEFAULT)
    facts.sites[1] = Site(1, BN)
    facts.bindings[conv.holder] = [SiteRef(0)]
    facts.bindings[bn.holder] = [SiteRef(1)]
    facts.uses[conv] = {call_use(0)}
    facts.uses[bn] = {call_use(1), call_use(2)}
    facts.invocations[0] = Invocation(0, conv, {1}, {OTHER})
    facts.invocations[1] = Invocation(1, bn, {ESCAPE}, {0})
    facts.invocations[2] = Invocation(2, bn, {ESCAPE}, {OTHER})
    assert Analysis(facts).findings() == []
    del facts.invocations[2]
    facts.uses[bn] = {call_use(1), ("method", "eval", "none", 0)}  # frozen: eval mode
    assert Analysis(facts).findings() == []
    facts.uses[bn] = {call_use(1), ("method", "train", "true", 0)}  # train(True): fine
    assert [f.site for f in Analysis(facts).findings()] == [0]


def test_transparent_layer_passes_the_question_on() -> None:
    facts = ModuleFacts()
    facts.sites[0] = Site(0, CONV, Bias.TRUE)
    facts.sites[1] = Site(1, POOL, transparent=True)
    facts.sites[2] = Site(2, BN)
    facts.sites[3] = Site(3, SEQ, items=_seq(SiteRef(0), SiteRef(1), SiteRef(2)))
    for sid in (0, 1, 2):
        facts.uses[SiteRef(sid)] = {member_use(3)}
    assert [f.site for f in Analysis(facts).findings()] == [0]
    facts.sites[1].transparent = False  # e.g. AvgPool2d with counted padding
    assert Analysis(facts).findings() == []


def test_conditional_edges() -> None:
    literal = (7, "batch_norm", "truthy", True)
    negative = (7, "batch_norm", "truthy", False)
    facts = ModuleFacts()
    facts.sites[0] = Site(0, CONV, Bias.DEFAULT, scope=7)
    facts.sites[1] = Site(1, BN)
    relu = HolderRef(("local", 7, "relu"))
    graph = Graph.single(SiteRef(0))
    with_bn = graph.then(Graph.single(SiteRef(1)), frozenset({literal}))
    without = graph.then(Graph.single(relu), frozenset({negative}))
    facts.sites[2] = Site(2, SEQ, items=with_bn.union(without))
    facts.uses[SiteRef(0)] = {member_use(2)}
    facts.uses[SiteRef(1)] = {member_use(2)}  # (the norm's runs must be known too)
    (finding,) = Analysis(facts).findings()
    assert finding.literal == literal
