"""Fix safety: a fix whose removed bias other code may read is *unsafe* (issue 10).

Rule table: each case marks the line of a flagged constructor with
``# fix: safe`` or ``# fix: unsafe N`` (N: the line the reason must name).
Runtime proofs (real torch): for every bias-reading idiom, the original program
and the program ``--fix`` leaves (safe fixes only) both build and run; applying
the unsafe fix anyway breaks it (so the read was real, not a false alarm).
"""

from __future__ import annotations

import re
import textwrap
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

from convbnlint.engine import check, fix_source
from convbnlint.types import Applicability
from tests.util import run

_MARK = re.compile(r"#\s*fix:\s*(safe|unsafe)(?:\s+(\d+))?")


@dataclass(frozen=True)
class SafetyCase:
    name: str
    code: str
    runs: bool = True  # a complete program defining main(); the runtime test executes it

    @property
    def source(self) -> str:
        return textwrap.dedent(self.code).lstrip("\n")

    def expected(self) -> dict[int, tuple[str, int | None]]:
        out = {}
        for n, line in enumerate(self.source.splitlines(), start=1):
            m = _MARK.search(line)
            if m:
                out[n] = (m.group(1), int(m.group(2)) if m.group(2) else None)
        return out


HEAD = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"

CASES = [
    SafetyCase(
        "init_loop_isinstance",
        """
        import torch
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)  # fix: unsafe 13
                self.bn = nn.BatchNorm2d(8)
                for m in self.modules():
                    if isinstance(m, nn.Conv2d):
                        nn.init.kaiming_normal_(m.weight)
                        nn.init.constant_(m.bias, 0)

            def forward(self, x):
                return self.bn(self.conv(x))


        def main():
            return Net()(torch.randn(2, 3, 8, 8))
        """,
    ),
    SafetyCase(
        "init_loop_without_isinstance",
        """
        import torch
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.features = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU())  # fix: unsafe 11
                for name, m in self.named_modules():
                    if hasattr(m, "weight") and name.startswith("features.0"):
                        m.bias.data.zero_()

            def forward(self, x):
                return self.features(x)


        def main():
            return Net()(torch.randn(2, 3, 8, 8))
        """,
    ),
    SafetyCase(
        "init_loop_guarded",
        """
        import torch
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)  # fix: safe
                self.bn = nn.BatchNorm2d(8)
                self.fc = nn.Linear(8, 2)
                for m in self.modules():
                    if isinstance(m, nn.Conv2d):
                        if m.bias is not None:
                            nn.init.constant_(m.bias, 0)
                    elif isinstance(m, (nn.Linear, nn.BatchNorm2d)):
                        nn.init.constant_(m.bias, 0.1)
                    if getattr(m, "bias", None) is not None and m.bias.dim() == 1:
                        m.bias.data.add_(0.0)
                    if not isinstance(m, nn.Conv2d) or m.bias is None:
                        continue
                    m.bias.requires_grad_(True)

            def forward(self, x):
                return self.fc(self.bn(self.conv(x)).mean((2, 3)))


        def main():
            return Net()(torch.randn(2, 3, 8, 8))
        """,
    ),
    SafetyCase(
        "apply_init_fn",
        """
        import torch
        import torch.nn as nn


        def init_weights(m):
            if type(m) == nn.Conv2d:
                m.bias.data.fill_(0.01)


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)  # fix: unsafe 7
                self.bn = nn.BatchNorm2d(8)
                self.apply(init_weights)

            def forward(self, x):
                return self.bn(self.conv(x))


        def main():
            return Net()(torch.randn(2, 3, 8, 8))
        """,
    ),
    SafetyCase(
        "apply_init_fn_for_other_classes",
        """
        import torch
        import torch.nn as nn


        def init_weights(m):
            if isinstance(m, nn.Linear):
                m.bias.data.fill_(0.01)
            elif type(m) is nn.BatchNorm2d:
                nn.init.zeros_(m.bias)


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)  # fix: safe
                self.bn = nn.BatchNorm2d(8)
                self.apply(init_weights)

            def forward(self, x):
                return self.bn(self.conv(x))


        def main():
            return Net()(torch.randn(2, 3, 8, 8))
        """,
    ),
    SafetyCase(
        "attribute_chain",
        """
        import torch
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)  # fix: unsafe 10
                self.bn = nn.BatchNorm2d(8)
                self.conv.bias.data.zero_()

            def forward(self, x):
                return self.bn(self.conv(x))


        def main():
            return Net()(torch.randn(2, 3, 8, 8))
        """,
    ),
    SafetyCase(
        "container_index_in_script",
        """
        import torch
        import torch.nn as nn

        model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))  # fix: unsafe 5
        nn.init.constant_(model[0].bias, 0.0)


        def main():
            return model(torch.randn(2, 3, 8, 8))
        """,
    ),
    SafetyCase(
        "requires_grad",
        """
        import torch
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.block = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))  # fix: unsafe 16
                self.head = nn.Linear(8, 2)

            def forward(self, x):
                return self.head(self.block(x).mean((2, 3)))

            def freeze(self):
                for m in self.block:
                    m.bias.requires_grad_(False)


        def main():
            net = Net()
            net.freeze()
            return net(torch.randn(2, 3, 8, 8))
        """,
    ),
    SafetyCase(
        "optimizer_parameter_list",
        """
        import torch
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)  # fix: unsafe 17
                self.bn = nn.BatchNorm2d(8)

            def forward(self, x):
                return self.bn(self.conv(x))


        def main():
            net = Net()
            opt = torch.optim.SGD([net.conv.weight, net.conv.bias], lr=0.1)
            net(torch.randn(2, 3, 8, 8)).square().mean().backward()
            opt.step()
        """,
    ),
    SafetyCase(
        "no_weight_decay_list",
        """
        import torch
        import torch.nn as nn


        def param_groups(model):
            decay, no_decay = [], []
            for m in model.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    decay.append(m.weight)
                    no_decay.append(m.bias)
            return [{"params": decay}, {"params": no_decay, "weight_decay": 0.0}]


        def main():
            model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))  # fix: unsafe 10
            return torch.optim.SGD(param_groups(model), lr=0.1, weight_decay=1e-4)
        """,
    ),
    SafetyCase(
        "no_weight_decay_by_name",
        """
        import torch
        import torch.nn as nn


        def main():
            model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))  # fix: safe
            no_decay = [p for n, p in model.named_parameters() if "bias" in n or n.endswith(".bias")]
            decay = [p for n, p in model.named_parameters() if "bias" not in n]
            return torch.optim.SGD([{"params": decay}, {"params": no_decay, "weight_decay": 0}], lr=0.1)
        """,
    ),
    SafetyCase(
        "fuse_method",
        """
        import torch
        import torch.nn as nn


        class ConvBN(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)  # fix: unsafe 18
                self.bn = nn.BatchNorm2d(8)

            def forward(self, x):
                return self.bn(self.conv(x))

            @torch.no_grad()
            def fused(self):
                std = (self.bn.running_var + self.bn.eps).sqrt()
                w = self.conv.weight * (self.bn.weight / std).reshape(-1, 1, 1, 1)
                b = (self.conv.bias - self.bn.running_mean) * self.bn.weight / std + self.bn.bias
                fused = nn.Conv2d(3, 8, 3)
                fused.weight.copy_(w)
                fused.bias.copy_(b)
                return fused


        def main():
            block = ConvBN().eval()
            return block.fused()(torch.randn(2, 3, 8, 8))
        """,
    ),
    SafetyCase(
        "state_dict_lookup",
        """
        import torch
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.features = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))  # fix: unsafe 16

            def forward(self, x):
                return self.features(x)


        def main():
            sd = Net().state_dict()
            return sd["features.0.bias"].sum()
        """,
    ),
    SafetyCase(
        "getattr_reads",
        """
        import torch
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)  # fix: unsafe 14
                self.bn = nn.BatchNorm2d(8)
                for m in self.children():
                    b = getattr(m, "bias", None)
                    if b is not None:
                        b.data.zero_()
                    nn.init.zeros_(getattr(m, "bias"))

            def forward(self, x):
                return self.bn(self.conv(x))


        def main():
            return Net()(torch.randn(2, 3, 8, 8))
        """,
    ),
    SafetyCase(
        "functional_use_of_the_bias",
        """
        import torch
        import torch.nn as nn
        import torch.nn.functional as F


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)  # fix: unsafe 16
                self.bn = nn.BatchNorm2d(8)

            def forward(self, x):
                return self.bn(self.conv(x))

            def unnormalized(self, x):  # (not part of the output: the finding stands)
                return F.conv2d(x, self.conv.weight, self.conv.bias)


        def main():
            net, x = Net(), torch.randn(2, 3, 8, 8)
            return net(x) + net.unnormalized(x).mean()
        """,
    ),
    SafetyCase(
        "own_bias_of_a_custom_layer_is_not_the_conv",
        """
        import torch
        import torch.nn as nn


        class Scale(nn.Module):
            def __init__(self):
                super().__init__()
                self.bias = nn.Parameter(torch.zeros(8))

            def forward(self, x):
                return x + self.bias.view(1, -1, 1, 1)


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)  # fix: safe
                self.bn = nn.BatchNorm2d(8)
                self.scale = Scale()
                self.scale.bias.data.fill_(0.5)
                fc = nn.Linear(8, 2)
                fc.bias.data.zero_()

            def forward(self, x):
                return self.scale(self.bn(self.conv(x)))


        def main():
            return Net()(torch.randn(2, 3, 8, 8))
        """,
    ),
    SafetyCase(
        "alias_attribute",
        """
        import torch
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))  # fix: unsafe 15
                self.first = self.body[0]

            def forward(self, x):
                return self.body(x)

            def bias_size(self):
                return self.first.bias.abs().sum()


        def main():
            net = Net()
            return net(torch.randn(2, 3, 8, 8)) + net.bias_size()
        """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_verdicts(case: SafetyCase) -> None:
    diags = {d.span.line: d for d in check(case.source).diagnostics}
    expected = case.expected()
    assert set(diags) == set(expected), (sorted(diags), sorted(expected))
    for line, (verdict, read_line) in expected.items():
        d = diags[line]
        assert d.fixable
        if verdict == "safe":
            assert d.applicability is Applicability.SAFE, d.unsafe_reason
            assert d.unsafe_reason is None
        else:
            assert d.applicability is Applicability.UNSAFE
            assert d.unsafe_reason is not None and d.unsafe_reason.startswith(f"line {read_line} ")
            text = case.source.splitlines()[read_line - 1].strip()
            assert d.unsafe_reason.endswith(f"`{text}`"), d.unsafe_reason


# ------------------------------------------------------------------ runtime: both programs run


def _execute(source: str, name: str):  # type: ignore[no-untyped-def]
    import torch

    namespace = {"__name__": f"fix_safety_{name}"}
    torch.manual_seed(0)
    exec(compile(source, f"<{name}>", "exec"), namespace)
    torch.manual_seed(1)
    return namespace["main"]()


@pytest.mark.parametrize("case", [c for c in CASES if c.runs], ids=[c.name for c in CASES if c.runs])
def test_original_and_fixed_program_both_build_and_run(case: SafetyCase) -> None:
    torch = pytest.importorskip("torch")
    warnings.filterwarnings("ignore", category=UserWarning)
    _execute(case.source, case.name)
    fixed, applied = fix_source(case.source)  # what --fix does: safe fixes only
    _execute(fixed, case.name)  # builds and runs
    verdicts = {v for v, _ in case.expected().values()}
    if verdicts == {"unsafe"}:
        assert fixed == case.source and applied == []
        # Applied anyway (--unsafe-fixes), the fix breaks the program or changes
        # its result: the reported read is real.
        forced, _ = fix_source(case.source, unsafe_fixes=True)
        assert forced != case.source
        try:
            before, after = _execute(case.source, case.name), _execute(forced, case.name)
        except (AttributeError, TypeError, KeyError, RuntimeError, ValueError):
            return
        same = isinstance(before, torch.Tensor) and torch.equal(before, after)
        assert not same, "the unsafe fix changed nothing observable"
    else:
        assert fixed != case.source and len(applied) == len(case.expected())


# ------------------------------------------------------------------ helpers with a positional-only bias


POSONLY = """\
import torch.nn as nn


def conv3x3(i, o, bias=True, /, stride=1):
    return nn.Conv2d(i, o, 3, stride, 1, bias=bias)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Sequential(conv3x3(3, 8), nn.BatchNorm2d(8))
        self.b = nn.Sequential(conv3x3(8, 8, stride=2), nn.BatchNorm2d(8))
        self.c = nn.Sequential(conv3x3(8, 8, True), nn.BatchNorm2d(8))
        self.d = conv3x3(8, 8)

    def forward(self, x):
        return self.d(self.c(self.b(self.a(x))))
"""


def test_positional_only_bias_is_passed_by_position() -> None:
    fixed, applied = fix_source(POSONLY)
    assert len(applied) == 3
    assert "conv3x3(3, 8, False)" in fixed
    assert "conv3x3(8, 8, False, stride=2)" in fixed
    assert "self.c = nn.Sequential(conv3x3(8, 8, False), nn.BatchNorm2d" in fixed
    assert "bias=False" not in fixed
    torch = pytest.importorskip("torch")
    namespace: dict = {}
    exec(compile(fixed, "<posonly>", "exec"), namespace)
    net = namespace["Net"]()
    assert net.a[0].bias is None and net.b[0].bias is None and net.d.bias is not None
    net(torch.randn(2, 3, 8, 8))


def test_positional_only_bias_out_of_reach_is_not_fixable() -> None:
    source = POSONLY.replace("def conv3x3(i, o, bias=True, /, stride=1)", "def conv3x3(i, o=8, bias=True, /, stride=1)")
    source = source.replace("conv3x3(3, 8)", "conv3x3(3)")
    diags = {d.span.line: d for d in check(source).diagnostics}
    assert not diags[11].fixable
    assert "positional-only" in diags[11].message
    fixed, _ = fix_source(source)
    assert "conv3x3(3)" in fixed


# ------------------------------------------------------------------ state keys


def test_state_keys_relative_to_the_class() -> None:
    source = HEAD + textwrap.dedent(
        """
        from collections import OrderedDict


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)
                self.features = nn.Sequential(nn.ReLU(), nn.Sequential(nn.Conv2d(8, 8, 3), nn.BatchNorm2d(8)))
                self.named = nn.Sequential(OrderedDict([("c", nn.Conv2d(8, 8, 1)), ("n", nn.BatchNorm2d(8))]))
                self.add_module("extra", nn.Conv2d(8, 8, 1))
                self.extra_bn = nn.BatchNorm2d(8)

            def forward(self, x):
                return self.extra_bn(self.extra(self.named(self.features(self.bn(self.conv(x))))))


        class Block(nn.Sequential):
            def __init__(self):
                super().__init__(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))


        layers = [nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8)]
        model = nn.Sequential(*layers)
        script = nn.Sequential(nn.ReLU(), nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
        conv = nn.Conv2d(3, 8, 3)
        other = nn.Sequential(conv, nn.BatchNorm2d(8))
        """
    )
    keys = sorted(d.state_keys for d in check(source).diagnostics)
    assert keys == sorted(
        [
            ("conv.bias",),
            ("features.1.0.bias",),
            ("named.c.bias",),
            ("extra.bias",),
            ("0.bias",),  # Block, a Sequential subclass
            (),  # unpacked from a list: the index is not static
            ("1.bias",),  # relative to the script's Sequential
            (),  # through a local variable: not followed
        ]
    )


# ------------------------------------------------------------------ across the files of the tree


MODEL = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.bn = nn.BatchNorm2d(8)

    def forward(self, x):
        return self.bn(self.conv(x))
"""

TRAIN = """\
import torch
from models import Net

net = Net()
opt = torch.optim.SGD([net.conv.weight, net.conv.bias], lr=0.1)
"""


def test_a_read_in_another_file_makes_the_fix_unsafe(tmp_path: Path) -> None:
    (tmp_path / "models.py").write_text(MODEL)
    (tmp_path / "train.py").write_text(TRAIN)
    done = run(["--fix", "--no-cache", "."], cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert (tmp_path / "models.py").read_text() == MODEL  # not applied: train.py reads the bias
    alone = run(["--fix", "--no-cache", "models.py"], cwd=tmp_path)
    assert alone.returncode == 0, alone.stdout + alone.stderr
    assert "bias=False" in (tmp_path / "models.py").read_text()


def test_cached_verdicts_follow_changes_in_other_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import time

    from convbnlint import runner

    monkeypatch.chdir(tmp_path)
    (tmp_path / "models.py").write_text(MODEL)
    (tmp_path / "train.py").write_text("from models import Net\nnet = Net()\n")
    old = time.time() - 60
    for name in ("models.py", "train.py"):
        os.utime(name, (old, old))
    options = runner.Options(cache_dir=str(tmp_path / ".cache"))
    paths = [Path("models.py"), Path("train.py")]

    def verdict() -> tuple[Applicability, str | None]:
        (d,) = runner.run(paths, options)[0].diagnostics
        return d.applicability, d.unsafe_reason

    assert verdict() == (Applicability.SAFE, None)
    assert verdict() == (Applicability.SAFE, None)  # warm
    (tmp_path / "train.py").write_text(TRAIN)
    os.utime("train.py", (old + 1, old + 1))
    assert verdict() == (
        Applicability.UNSAFE,
        "train.py:5 reads the bias: `opt = torch.optim.SGD([net.conv.weight, net.conv.bias], lr=0.1)`",
    )
    assert verdict()[0] is Applicability.UNSAFE  # warm, models.py from the cache
    (tmp_path / "train.py").write_text("from models import Net\nnet = Net()\n")
    os.utime("train.py", (old + 2, old + 2))
    assert verdict() == (Applicability.SAFE, None)
