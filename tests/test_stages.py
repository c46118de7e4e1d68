"""The fast paths change nothing: stages and the import-table resolver.

Every rule case, and cases built to exercise each channel between top-level
blocks, must give identical findings (positions, messages, fixes, suppressions)
with every stage on, every stage off, and each combination, and with libcst's
``QualifiedNameProvider`` instead of the import table.  The same comparison runs
over the whole benchmark corpus in ``bench/equivalence.py``.
"""

from __future__ import annotations

import ast
import itertools
import textwrap

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from convbnlint import sourcefile
from convbnlint.catalog import default_catalog
from convbnlint.engine import ParseError, check, needs_analysis
from convbnlint.syntax.positions import call_spans
from convbnlint.syntax.names import LibcstNames
from convbnlint.syntax.names import FastNames, parse_ast, table_from_ast, table_from_cst
from convbnlint.syntax.stages import plan_blocks, shapes_match
from tests.cases import CASES

COMBOS = [
    dict(use_prefilter=p, use_shapes=s, use_blocks=b, names=n, fixable=f)
    for p, s, b, n, f in itertools.product(
        (True, False), (True, False), (True, False), ("fast", "libcst"), (True, False)
    )
]
REFERENCE = dict(use_prefilter=False, use_shapes=False, use_blocks=False, names="libcst")
REF_FAST = dict(use_prefilter=False, use_shapes=False, use_blocks=False, names="fast")
FAMILIES = {"conv", "linear"}
# FastNames refuses a name bound in any other way anywhere in the module (as
# specified: sound without scope analysis); libcst's scopes see that a parameter
# ``nn`` in one function does not shadow the module's ``nn`` elsewhere.
# Likewise a star import anywhere: it may rebind any name (libcst ignores it).
CONSERVATIVE = {"imported_name_shadowed_in_another_block", "star_import_resolves_nothing"}


def outcome(source: str, **kwargs: object) -> object:
    try:
        checked = check(source, **kwargs)  # type: ignore[arg-type]
    except ParseError as exc:
        return ("error", str(exc))
    return (
        [(d.code, d.name, d.span, d.message, d.fixable, d.fix_value) for d in checked.diagnostics],
        [(d.code, d.span) for d in checked.suppressed],
    )


def assert_same_everywhere(source: str, resolvers_agree: bool = True) -> object:
    """Every stage combination gives what its resolver gives with no stage at all,
    and (unless told otherwise) both resolvers agree."""
    want = {"libcst": outcome(source, **REFERENCE), "fast": outcome(source, **REF_FAST)}
    for combo in COMBOS:
        assert outcome(source, **combo) == want[combo["names"]], combo  # type: ignore[index]
    if resolvers_agree:
        assert want["fast"] == want["libcst"]
    return want["libcst"]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rule_cases_identical_with_every_stage_and_resolver(case) -> None:  # type: ignore[no-untyped-def]
    assert_same_everywhere(case.source)


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def plan(text: str):  # type: ignore[no-untyped-def]
    tree = parse_ast(text)
    assert tree is not None
    return plan_blocks(text, tree, default_catalog(), FAMILIES)


def blanked_lines(text: str) -> set[int]:
    p = plan(text)
    assert p is not None
    old, new = text.split("\n"), p.text.split("\n")
    assert len(old) == len(new)
    return {i for i, (a, b) in enumerate(zip(old, new), 1) if a != b}


FILLER = '''
def unrelated(x):
    """Nothing here can matter."""
    return [y * 2 for y in range(x)]


class Config:
    depth = 3
'''

# Each source: a finding (or deliberately none) that depends on a block other
# than the one holding the conv -- the channels the blocks stage must keep.
CHANNELS = {
    "helper_returning_a_conv": """
        import torch.nn as nn

        def conv3x3(cin, cout):
            return nn.Conv2d(cin, cout, 3, padding=1)

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = conv3x3(3, 8)
                self.bn = nn.BatchNorm2d(8)

            def forward(self, x):
                return self.bn(self.conv(x))
        """,
    "helper_escaping_in_another_block": """
        import torch.nn as nn

        def conv3x3(cin, cout):
            return nn.Conv2d(cin, cout, 3, padding=1)

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.seq = nn.Sequential(conv3x3(3, 8), nn.BatchNorm2d(8))

        def leak():
            return conv3x3(1, 1)
        """,
    "inherited_attributes": """
        import torch.nn as nn

        class Base(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)

        class Child(Base):
            def forward(self, x):
                return self.bn(self.conv(x))
        """,
    "inherited_attribute_escapes_in_subclass": """
        import torch.nn as nn

        class Base(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)

            def forward(self, x):
                return self.bn(self.conv(x))

        class Child(Base):
            def features(self, x):
                return self.conv(x)
        """,
    "module_level_holder_read_in_function": """
        import torch.nn as nn

        conv = nn.Conv2d(3, 8, 3)
        bn = nn.BatchNorm2d(8)
        y = bn(conv(x))

        def peek():
            return conv.weight
        """,
    "module_level_holder_leaks_through_function": """
        import torch.nn as nn

        conv = nn.Conv2d(3, 8, 3)
        bn = nn.BatchNorm2d(8)
        y = bn(conv(x))

        def other(t):
            return conv(t)
        """,
    "global_rebinding_in_function": """
        import torch.nn as nn

        conv = nn.Conv2d(3, 8, 3)
        bn = nn.BatchNorm2d(8)
        y = bn(conv(x))

        def reset():
            global conv
            conv = None
        """,
    "same_name_redefined": """
        import torch.nn as nn

        def make():
            return nn.Conv2d(3, 8, 3)

        m = nn.Sequential(make(), nn.BatchNorm2d(8))

        def make():
            return nn.Identity()
        """,
    "imported_name_shadowed_in_another_block": """
        import torch.nn as nn

        m = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))

        def f(nn):
            return nn
        """,
    "alias_imports_and_parenthesized_callee": """
        from torch.nn import BatchNorm2d as BN
        from torch.nn import Conv2d as C
        import torch.nn as nn

        a = nn.Sequential(C(3, 8, 3), BN(8))
        b = nn.Sequential((nn.Conv2d)(3, 8, 3), nn.BatchNorm2d(8))
        c = nn.Sequential(nn.Conv2d  \\
            (3, 8, 3), nn.BatchNorm2d(8))
        """,
    "star_import_resolves_nothing": """
        from torch.nn import *
        import torch.nn as nn

        m = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
        """,
    "class_holder_and_unrelated_classes": """
        import torch.nn as nn

        class Head(nn.Module):
            def __init__(self):
                super().__init__()
                self.proj = nn.Linear(8, 8)
                self.norm = nn.BatchNorm1d(8)

            def forward(self, x):
                return self.norm(self.proj(x))

        class Tail(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3, bias=False)
                self.bn = nn.BatchNorm2d(8)
        """,
    "noqa_and_form_feed": """
        import torch.nn as nn
        \x0c
        m = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))  # noqa: CBL001
        n = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
        """,
    "conditional_layer_list": """
        import torch.nn as nn

        def block(cin, cout, batch_norm):
            layers = [nn.Conv2d(cin, cout, 3)]
            if batch_norm:
                layers.append(nn.BatchNorm2d(cout))
            return nn.Sequential(*layers)

        def unused():
            return 1
        """,
}


@pytest.mark.parametrize("name", sorted(CHANNELS))
def test_channels_between_blocks_identical(name: str) -> None:
    text = src(CHANNELS[name]) + FILLER
    agree = name not in CONSERVATIVE
    assert_same_everywhere(text, agree)
    assert_same_everywhere(text.replace("\n", "\r\n"), agree)
    if not agree:  # the fast resolver may only ever stay silent where libcst flags
        assert outcome(text, **REF_FAST) == ([], [])


def test_channel_cases_hold_findings_and_blanking_happens() -> None:
    """The comparison above means something: there are findings, and blocks go."""
    with_findings = [n for n in CHANNELS if outcome(src(CHANNELS[n]) + FILLER, **REFERENCE)[0]]
    assert len(with_findings) >= 8
    text = src(CHANNELS["helper_returning_a_conv"]) + FILLER
    lines = text.split("\n")
    gone = {lines[i - 1] for i in blanked_lines(text)}
    assert "def unrelated(x):" in gone and "class Config:" in gone
    assert not any("conv3x3" in line or "Block" in line or "BatchNorm" in line for line in gone)


def test_blanking_keeps_every_position() -> None:
    text = src(CHANNELS["class_holder_and_unrelated_classes"]) + FILLER
    p = plan(text)
    assert p is not None and p.partial
    assert len(p.text) <= len(text) and p.text.count("\n") == text.count("\n")
    for old, new in zip(text.split("\n"), p.text.split("\n")):
        assert new in ("", old)
    # Tail holds only bias=False convs: it can be dropped; Head cannot.
    assert "class Tail" not in p.text and "class Head" in p.text


def test_no_reachable_seed_means_clean_without_libcst() -> None:
    bias_off = "import torch.nn as nn\nm = nn.Sequential(nn.Conv2d(3, 8, 3, bias=False), nn.BatchNorm2d(8))\n"
    assert plan(bias_off) is None
    no_norm_call = "import torch.nn as nn\nm = nn.Conv2d(3, 8, 3)\nnorm = nn.BatchNorm2d\n"
    assert not shapes_match(no_norm_call, default_catalog(), FAMILIES)
    apart = src(
        """
        import torch.nn as nn

        def a():
            return nn.Conv2d(3, 8, 3).weight

        def b():
            return nn.InstanceNorm2d(8).eval()
        """
    )
    assert plan(apart) is None
    for text in (bias_off, no_norm_call, apart):
        assert check(text).stage in ("shapes", "blocks")
        assert_same_everywhere(text)


def test_shapes_see_calls_through_aliases_parens_and_continuations() -> None:
    catalog = default_catalog()
    for text in (
        "from torch.nn import Conv2d as C, BatchNorm2d\nC(1, 2, 3); BatchNorm2d(2)\n",
        "import torch.nn as nn\n(nn.Conv2d)(1, 2, 3)\nnn.BatchNorm2d  # c\n(2)\n",
        "import torch.nn as nn\nnn.Conv2d \\\n(1, 2, 3)\nnn.BatchNorm2d[int](2)\n",
        "import torch.nn as nn\nnn.Linear(2, 2)\nnn.BatchNorm1d(2)\n",
    ):
        assert shapes_match(text, catalog, FAMILIES), text
    for text in (
        "import torch.nn as nn\nnn.Conv2d(1, 2, 3)\nx = nn.BatchNorm2d\n",
        "import torch.nn as nn\nMyConv2d(1, 2, 3)\nnn.BatchNorm2d(2)\n",
        "import torch.nn as nn\nnn.Linear(2, 2)\nnn.BatchNorm2d(2)\n",  # cannot cancel a Linear
    ):
        assert not shapes_match(text, catalog, FAMILIES), text


def test_syntax_errors_are_still_reported_when_a_stage_skips_the_file() -> None:
    broken = "import torch.nn as nn\nnn.BatchNorm2d(\n"
    assert not needs_analysis(broken)
    with pytest.raises(ParseError, match="syntax error"):
        check(broken)
    # libcst parses what CPython's symbol table rejects: no error either way.
    odd = "import torch.nn as nn\nnonlocal x\nnn.BatchNorm2d(2)\n"
    assert outcome(odd) == outcome(odd, **REF_FAST) == ([], [])


def test_blocks_walk_measures_depth_like_sourcefile() -> None:
    text = src(
        """
        import torch.nn as nn
        import a.b.c.d
        from x.y.z import w
        m = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
        ok = a and b and c and d and e and f and g and h
        deep = [[[[[[[[(((((x)))))]]]]]]]]
        """
    ) + "z = " + " + ".join(["q"] * 300) + "\n"
    tree = ast.parse(text)
    p = plan_blocks(text, tree, default_catalog(), FAMILIES)
    assert p is not None
    assert p.depth == sourcefile._depth(tree)


def test_deep_text_is_refused_before_libcst() -> None:
    text = "import torch.nn as nn\nm = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))\n"
    text += "x = " + " + ".join(["a"] * 1500) + "\n"
    for combo in (dict(), REFERENCE):
        with pytest.raises(ParseError, match="too deeply nested"):
            check(text, **combo)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- resolver

SNIPPETS = [
    "import a.b.c\na.b.c.D()\na.x.D()\na.D()\n",
    "import a.b.c as m\nm.D()\nm.x.y()\n",
    "from . import x\nx.D()\nfrom .m import y\ny()\nfrom ..p.q import z as w\nw.k()\n",
    "import torch\nimport torch.nn\ntorch.nn.Conv2d()\ntorch.Tensor()\n",
    "from torch import *\nConv2d()\n",
    "def f():\n    import torch.nn as nn\n    nn.Conv2d()\n",
    "class A:\n    from torch import nn\n    nn.Linear()\n",
    "import torch.nn as nn\ndef f(nn):\n    nn.Conv2d()\nnn.Conv2d()\n",
    "import torch.nn as nn\n(nn).Conv2d()\n(nn.Conv2d)()\nnn .Conv2d()\nnn.Conv2d(1)(2)\nnn.M[0](1)\n",
    "try:\n    from torch.nn import SyncBatchNorm as BN\nexcept ImportError:\n"
    "    from torch.nn import BatchNorm2d as BN\nBN()\n",
    "import torch.nn as nn\nimport foo as nn\nnn.Conv2d()\n",
    "import torch.nn as nn\nnn = nn\nnn.Conv2d()\n",
    "import torch.nn as nn\nfor nn in []:\n    pass\nnn.Conv2d()\n",
    "import torch.nn as nn\nwith x as (a, nn):\n    pass\nnn.Conv2d()\n",
    "import torch.nn as nn\n[nn for nn in y]\nnn.Conv2d()\n",
    "import torch.nn as nn\n(nn := 3)\nnn.Conv2d()\n",
    "import torch.nn as nn\ndel nn\nnn.Conv2d()\n",
    "import torch.nn as nn\ntry:\n    pass\nexcept E as nn:\n    pass\nnn.Conv2d()\n",
    "import torch.nn as nn\nmatch x:\n    case [nn]:\n        pass\nnn.Conv2d()\n",
    "import torch.nn as nn\nlambda nn: nn\nnn.Conv2d()\n",
    "from collections import OrderedDict\nimport collections\nOrderedDict()\ncollections.OrderedDict()\n",
    "print()\nlen([])\nundefined()\n",
]


def calls(module: cst.Module) -> list[cst.Call]:
    found: list[cst.Call] = []

    class _V(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            found.append(node)

    module.visit(_V())
    return found


@pytest.mark.parametrize("text", SNIPPETS + [c.source for c in CASES])
def test_fast_names_never_disagree_with_libcst(text: str) -> None:
    """Sound: whenever the import table names a callee, libcst gives the same names."""
    module = cst.parse_module(text)
    fast, slow = FastNames(module), LibcstNames(module)
    for call in calls(module):
        mine = fast(call.func)
        if mine is not None:
            assert set(mine) == set(slow(call.func) or ()), module.code_for_node(call)


@pytest.mark.parametrize("text", SNIPPETS + [c.source for c in CASES])
def test_ast_and_libcst_tables_agree(text: str) -> None:
    tree = parse_ast(text)
    assert tree is not None
    assert table_from_ast(tree) == table_from_cst(cst.parse_module(text))


def test_fast_names_resolve_the_usual_imports() -> None:
    text = SNIPPETS[0] + SNIPPETS[1] + SNIPPETS[2] + SNIPPETS[3]
    module = cst.parse_module(text)
    got = {module.code_for_node(c): FastNames(module)(c.func) for c in calls(module)}
    assert got["a.b.c.D()"] == {"a.b.c.D"}
    assert got["a.x.D()"] == {"a.x.D"}
    assert got["m.x.y()"] == {"a.b.c.x.y"}
    assert got["x.D()"] == {".x.D"}
    assert got["y()"] == {".m.y"}
    assert got["w.k()"] == {"..p.q.z.k"}
    assert got["torch.nn.Conv2d()"] == {"torch.nn.Conv2d"}


def test_fast_names_refuse_rebound_and_star() -> None:
    for text in SNIPPETS[4:5] + SNIPPETS[7:8] + SNIPPETS[10:20]:
        module = cst.parse_module(text)
        last = calls(module)[-1]
        assert FastNames(module)(last.func) is None, text


# --------------------------------------------------------------------------- spans


@pytest.mark.parametrize("case", CASES[:20], ids=[c.name for c in CASES[:20]])
def test_call_spans_equal_position_provider(case) -> None:  # type: ignore[no-untyped-def]
    module = cst.parse_module(case.source)
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    nodes = calls(module)
    spans = call_spans(module, nodes)
    for node in nodes:
        r = positions[node]
        got = spans[node]
        assert (got.line, got.column, got.end_line, got.end_column) == (
            r.start.line,
            r.start.column + 1,
            r.end.line,
            r.end.column + 1,
        )


def test_libcst_validation_errors_become_parse_errors() -> None:
    """libcst's parser can build a node its own validation rejects (on code CPython
    accepts; found by tests/test_properties.py): a ParseError naming the cause."""
    text = (
        "try:s\nfinally:s\nfor i in''if \"\".A<''!=0is 0>0<0<0==''<''>0in''not in A and \u00e1"
        " else 9..\u00dc<X\\\nin\\\n\\\r\U0002a453 or \"\".A<''!=0is 0>0<0<0==''<''>0in''"
        "not in A<''!=0is 0>0<0<0==''<''>0in''not in.0is 0<0<\\\n0>0is not 0:importX"
    )
    with pytest.raises(cst.CSTValidationError):
        cst.parse_module(text)  # (if libcst fixes this, the test has done its job)
    with pytest.raises(ParseError, match="libcst cannot parse"):
        check(text, **REF_FAST)
