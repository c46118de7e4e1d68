"""The rule table: small programs, each marking its expected findings.

A line carrying ``# expect: CODE`` is where a finding must start (the line of the
layer's constructor call); every other line must stay silent.  A case marked
``runnable`` is a complete program that, executed with real PyTorch, defines
``model`` (an ``nn.Module``) and ``inputs`` (a tuple of tensors):
``tests/test_runtime_proof.py`` builds it and proves that every flagged bias is
truly redundant (zero gradient, output unchanged when the bias is randomised) and
that, in silent cases, enabled biases do matter.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field

_EXPECT = re.compile(r"#\s*expect:\s*([A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*)")


@dataclass(frozen=True)
class Case:
    name: str
    code: str
    runnable: bool = True
    # Silent runnable cases whose biases cancel for a reason we deliberately do
    # not prove statically (so the "bias matters" check does not apply).
    bias_may_not_matter: bool = False
    tags: tuple[str, ...] = field(default=())

    @property
    def source(self) -> str:
        return textwrap.dedent(self.code).lstrip("\n")

    @property
    def expected(self) -> set[tuple[int, str]]:
        out = set()
        for n, line in enumerate(self.source.splitlines(), start=1):
            m = _EXPECT.search(line)
            if m:
                for code in m.group(1).split(","):
                    out.add((n, code.strip()))
        return out


HEAD = "import torch\nimport torch.nn as nn\n"

CASES: list[Case] = [
    # ---------------------------------------------------------------- Sequential
    Case(
        "sequential_basic",
        """
        import torch
        import torch.nn as nn
        model = nn.Sequential(
            nn.Conv2d(3, 8, 3),  # expect: CBL001
            nn.BatchNorm2d(8),
            nn.ReLU(),
        )
        inputs = (torch.randn(4, 3, 10, 10),)
        """,
    ),
    Case(
        "sequential_stackoverflow_question",
        """
        import torch
        import torch.nn as nn
        model = nn.Sequential(
            nn.Conv2d(3, 8, kernel_size=5, stride=2),  # expect: CBL001
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.Conv2d(8, 8, kernel_size=3, stride=2),  # expect: CBL001
            nn.BatchNorm2d(8),
            nn.AvgPool2d(2),
        )
        inputs = (torch.randn(4, 3, 32, 32),)
        """,
    ),
    Case(
        "sequential_all_conv_kinds",
        """
        import torch
        import torch.nn as nn
        model = nn.Sequential(
            nn.Conv1d(3, 4, 3),  # expect: CBL001
            nn.BatchNorm1d(4),
            nn.ConvTranspose1d(4, 4, 3),  # expect: CBL001
            nn.InstanceNorm1d(4),
            nn.LazyConv1d(4, 3),  # expect: CBL001
            nn.LazyBatchNorm1d(),
            nn.LazyConvTranspose1d(4, 3),  # expect: CBL001
            nn.LazyInstanceNorm1d(),
        )
        inputs = (torch.randn(4, 3, 20),)
        """,
    ),
    Case(
        "sequential_2d_3d_kinds",
        """
        import torch
        import torch.nn as nn
        model = nn.Sequential(
            nn.Conv3d(2, 4, 3),  # expect: CBL001
            nn.BatchNorm3d(4, affine=False),
            nn.ConvTranspose3d(4, 4, 3),  # expect: CBL001
            nn.InstanceNorm3d(4, affine=True),
            nn.LazyConv3d(4, 1),  # expect: CBL001
            nn.LazyBatchNorm3d(track_running_stats=False),
            nn.LazyConvTranspose3d(4, 1),  # expect: CBL001
            nn.LazyInstanceNorm3d(),
        )
        inputs = (torch.randn(2, 2, 6, 6, 6),)
        """,
    ),
    Case(
        "sequential_transpose2d_and_lazy2d",
        """
        import torch
        import torch.nn as nn
        model = nn.Sequential(
            nn.ConvTranspose2d(3, 4, 3, stride=2),  # expect: CBL001
            nn.BatchNorm2d(4),
            nn.LazyConv2d(4, 3),  # expect: CBL001
            nn.LazyInstanceNorm2d(),
            nn.LazyConvTranspose2d(4, 3),  # expect: CBL001
            nn.LazyBatchNorm2d(),
        )
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
    ),
    Case(
        "bias_true_keyword_and_positional",
        """
        import torch
        import torch.nn as nn
        model = nn.Sequential(
            nn.Conv2d(3, 4, 3, bias=True),  # expect: CBL001
            nn.BatchNorm2d(4),
            nn.Conv2d(4, 4, 3, 1, 0, 1, 1, True),  # expect: CBL001
            nn.BatchNorm2d(4),
            nn.ConvTranspose2d(4, 4, 3, 1, 0, 0, 1, True),  # expect: CBL001
            nn.BatchNorm2d(4),
            nn.LazyConv2d(4, 3, 1, 0, 1, 1, True),  # expect: CBL001
            nn.BatchNorm2d(4),
            nn.Conv2d(4, 4, 3, bias=1),  # expect: CBL001
            nn.BatchNorm2d(4),
        )
        inputs = (torch.randn(2, 3, 16, 16),)
        """,
    ),
    Case(
        "bias_false_is_silent",
        """
        import torch
        import torch.nn as nn
        model = nn.Sequential(
            nn.Conv2d(3, 4, 3, bias=False),
            nn.BatchNorm2d(4),
            nn.Conv2d(4, 4, 3, 1, 0, 1, 1, False),
            nn.BatchNorm2d(4),
            nn.LazyConv2d(4, 3, 1, 0, 1, 1, False),
            nn.BatchNorm2d(4),
            nn.Conv2d(4, 4, 3, bias=0),
            nn.BatchNorm2d(4),
        )
        inputs = (torch.randn(2, 3, 16, 16),)
        """,
    ),
    Case(
        "bias_not_statically_known",
        """
        import torch
        import torch.nn as nn
        use_bias = True
        kwargs = {"kernel_size": 3, "bias": True}
        args = (3, 1, 0, 1, 1, True)
        model = nn.Sequential(
            nn.Conv2d(3, 4, 3, bias=use_bias),
            nn.BatchNorm2d(4),
            nn.Conv2d(4, 4, **kwargs),
            nn.BatchNorm2d(4),
            nn.Conv2d(4, 4, *args),
            nn.BatchNorm2d(4),
        )
        inputs = (torch.randn(2, 3, 16, 16),)
        """,
        bias_may_not_matter=True,
    ),
    Case(
        "lazy_slot_six_is_bias_not_padding_mode",
        """
        import torch
        import torch.nn as nn
        # LazyConv2d(out, kernel, stride, padding, dilation, groups, bias): slot 6
        model = nn.Sequential(
            nn.LazyConv2d(4, 3, 1, 0, 1, 1, False),
            nn.BatchNorm2d(4),
        )
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
    ),
    Case(
        "nested_sequential_last_conv",
        """
        import torch
        import torch.nn as nn
        model = nn.Sequential(
            nn.Sequential(nn.ReLU(), nn.Conv2d(3, 4, 3)),  # expect: CBL001
            nn.BatchNorm2d(4),
            nn.Conv2d(4, 4, 3),  # expect: CBL001
            nn.Sequential(nn.BatchNorm2d(4), nn.ReLU()),
        )
        inputs = (torch.randn(2, 3, 12, 12),)
        """,
    ),
    Case(
        "things_in_between_break_the_chain",
        """
        import torch
        import torch.nn as nn
        model = nn.Sequential(
            nn.Conv2d(3, 4, 3),
            nn.ReLU(),
            nn.BatchNorm2d(4),
            nn.Conv2d(4, 4, 3),
            nn.Dropout2d(0.5),
            nn.BatchNorm2d(4),
            nn.Conv2d(4, 4, 3),
            nn.ZeroPad2d(1),
            nn.BatchNorm2d(4),
            nn.Conv2d(4, 4, 3),
            nn.Conv2d(4, 4, 3),  # expect: CBL001
            nn.BatchNorm2d(4),
        )
        inputs = (torch.randn(4, 3, 20, 20),)
        """,
    ),
    Case(
        "non_cancelling_norms",
        """
        import torch
        import torch.nn as nn
        model = nn.Sequential(
            nn.Conv2d(3, 4, 3),
            nn.GroupNorm(2, 4),
            nn.Conv2d(4, 4, 3),
            nn.LayerNorm([4, 8, 8]),
            nn.Conv2d(4, 4, 3),
            nn.LocalResponseNorm(2),
            nn.Conv2d(4, 4, 1),
            nn.Identity(),
        )
        inputs = (torch.randn(2, 3, 12, 12),)
        """,
    ),
    Case(
        "conv_last_in_sequential_has_no_known_consumer",
        """
        import torch
        import torch.nn as nn
        model = nn.Sequential(nn.BatchNorm2d(3), nn.Conv2d(3, 4, 3))
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
    ),
    # ---------------------------------------------------------------- imports
    Case(
        "import_styles",
        """
        import torch
        import torch.nn
        from torch import nn as tnn
        from torch.nn import Conv2d as C, BatchNorm2d as BN
        from torch.nn.modules.conv import Conv2d
        from torch.nn.modules.batchnorm import BatchNorm2d
        model = torch.nn.Sequential(
            torch.nn.Conv2d(3, 4, 3),  # expect: CBL001
            tnn.BatchNorm2d(4),
            C(4, 4, 3),  # expect: CBL001
            BN(4),
            Conv2d(4, 4, 3),  # expect: CBL001
            BatchNorm2d(4),
            torch.nn.modules.conv.Conv2d(4, 4, 1),  # expect: CBL001
            torch.nn.modules.batchnorm.BatchNorm2d(4),
        )
        inputs = (torch.randn(2, 3, 12, 12),)
        """,
    ),
    Case(
        "user_class_named_conv2d",
        """
        import torch
        import torch.nn as nn

        class Conv2d(nn.Module):
            def __init__(self, i, o, k):
                super().__init__()
                self.inner = nn.Conv2d(i, o, k, bias=False)
                self.offset = nn.Parameter(torch.zeros(o, 1, 1))

            def forward(self, x):
                return self.inner(x) * (1 + self.offset)

        class BatchNorm2d(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.scale = nn.Parameter(torch.ones(c, 1, 1))

            def forward(self, x):
                return x * self.scale

        model = nn.Sequential(Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Conv2d(4, 4, 3), BatchNorm2d(4))
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
    ),
    Case(
        "shadowed_module_name",
        """
        import torch
        import torch.nn as nn

        def build(nn):
            return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))

        class Fake:
            Sequential = staticmethod(lambda *a: a)
            Conv2d = staticmethod(lambda *a: a)
            BatchNorm2d = staticmethod(lambda *a: a)

        layers = build(Fake)
        """,
        runnable=False,
    ),
    Case(
        "no_torch_import_at_all",
        """
        model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
        """,
        runnable=False,
    ),
    # ---------------------------------------------------------------- forward
    Case(
        "forward_nested_call",
        """
        import torch
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 4, 3, padding=1)  # expect: CBL001
                self.bn = nn.BatchNorm2d(4)

            def forward(self, x):
                return torch.relu(self.bn(self.conv(x)))

        model = Block()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
    ),
    Case(
        "forward_via_local_variable",
        """
        import torch
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(3, 4, 3)  # expect: CBL001
                self.bn1 = nn.BatchNorm2d(4)
                self.conv2 = nn.Conv2d(4, 4, 3)  # expect: CBL001
                self.bn2 = nn.InstanceNorm2d(4)

            def forward(self, x):
                x = self.conv1(x)
                x = self.bn1(x)
                x = torch.relu(x)
                y = self.conv2(x)
                z = self.bn2(y)
                return z

        model = Block()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
    ),
    Case(
        "forward_in_helper_method",
        """
        import torch
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 4, 3)  # expect: CBL001
                self.bn = nn.BatchNorm2d(4)

            def _forward_impl(self, x):
                out = self.conv(x)
                out = self.bn(out)
                return out

            def forward(self, x):
                return self._forward_impl(x)

        model = Block()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
    ),
    Case(
        "residual_use_is_silent",
        """
        import torch
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(4, 4, 3, padding=1)
                self.bn = nn.BatchNorm2d(4)

            def forward(self, x):
                out = self.conv(x)
                return self.bn(out) + out

        model = Block()
        inputs = (torch.randn(2, 4, 8, 8),)
        """,
    ),
    Case(
        "second_call_elsewhere_is_silent",
        """
        import torch
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(4, 4, 3, padding=1)
                self.bn = nn.BatchNorm2d(4)

            def forward(self, x):
                a = self.bn(self.conv(x))
                b = self.conv(a)
                return a + b

        model = Block()
        inputs = (torch.randn(2, 4, 8, 8),)
        """,
    ),
    Case(
        "returned_or_printed_output_is_silent",
        """
        import torch
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(4, 4, 3, padding=1)
                self.bn = nn.BatchNorm2d(4)
                self.conv2 = nn.Conv2d(4, 4, 3, padding=1)
                self.bn2 = nn.BatchNorm2d(4)

            def forward(self, x):
                y = self.conv(x)
                print(y.mean().item() > 1e9)
                feats = self.conv2(x)
                return self.bn(y), feats, self.bn2(feats)

        model = Block()
        inputs = (torch.randn(2, 4, 8, 8),)
        """,
    ),
    Case(
        "norm_attribute_not_always_a_norm",
        """
        import torch
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self, use_bn=False):
                super().__init__()
                self.conv = nn.Conv2d(4, 4, 3, padding=1)
                if use_bn:
                    self.bn = nn.BatchNorm2d(4)
                else:
                    self.bn = nn.Identity()

            def forward(self, x):
                return self.bn(self.conv(x))

        model = Block()
        inputs = (torch.randn(2, 4, 8, 8),)
        """,
    ),
    Case(
        "norm_from_parameter_is_unknown",
        """
        import torch
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self, norm_layer=nn.GroupNorm):
                super().__init__()
                self.conv = nn.Conv2d(4, 4, 3, padding=1)
                self.bn = norm_layer(2, 4)

            def forward(self, x):
                return self.bn(self.conv(x))

        model = Block()
        inputs = (torch.randn(2, 4, 8, 8),)
        """,
    ),
    Case(
        "fused_later_reassigns_norm",
        """
        import torch
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(4, 4, 3, padding=1)
                self.bn = nn.BatchNorm2d(4)

            def fuse(self):
                self.bn = nn.Identity()

            def forward(self, x):
                return self.bn(self.conv(x))

        model = Block()
        model.fuse()
        inputs = (torch.randn(2, 4, 8, 8),)
        """,
    ),
    Case(
        "subclass_in_module_replaces_norm",
        """
        import torch
        import torch.nn as nn

        class Base(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(4, 4, 3, padding=1)
                self.bn = nn.BatchNorm2d(4)

            def forward(self, x):
                return self.bn(self.conv(x))

        class NoNorm(Base):
            def __init__(self):
                super().__init__()
                self.bn = nn.Identity()

        model = NoNorm()
        inputs = (torch.randn(2, 4, 8, 8),)
        """,
    ),
    Case(
        "dynamic_setattr_is_unknown",
        """
        import torch
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self, name="bn"):
                super().__init__()
                self.conv = nn.Conv2d(4, 4, 3, padding=1)
                self.bn = nn.BatchNorm2d(4)
                setattr(self, name, nn.Identity())

            def forward(self, x):
                return self.bn(self.conv(x))

        model = Block()
        inputs = (torch.randn(2, 4, 8, 8),)
        """,
    ),
    Case(
        "weight_init_and_shape_reads_are_harmless",
        """
        import torch
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 4, 3)  # expect: CBL001
                self.bn = nn.BatchNorm2d(4)
                nn.init.kaiming_normal_(self.conv.weight)
                for m in self.modules():
                    if isinstance(m, nn.BatchNorm2d):
                        nn.init.ones_(m.weight)

            def forward(self, x):
                y = self.conv(x)
                n, c, h, w = y.shape
                assert y.size(1) == c
                return self.bn(y)

        model = Block()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
    ),
    Case(
        "forward_hook_on_conv_is_silent",
        """
        import torch
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 4, 3)
                self.bn = nn.BatchNorm2d(4)
                self.seen = []
                self.conv.register_forward_hook(lambda m, i, o: self.seen.append(o))

            def forward(self, x):
                return self.bn(self.conv(x)) + 0 * sum(s.sum() for s in self.seen[-1:])

        model = Block()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        # The hooked output only enters as 0 * sum(...): the bias is dead at run time,
        # but a forward hook escapes the output, so the rule stays silent (by design).
        bias_may_not_matter=True,
    ),
    Case(
        "branches_in_forward",
        """
        import torch
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(4, 4, 3, padding=1)
                self.bn = nn.BatchNorm2d(4)
                self.conv2 = nn.Conv2d(4, 4, 3, padding=1)  # expect: CBL001
                self.bn2 = nn.BatchNorm2d(4)

            def forward(self, x, flag: bool = True):
                y = self.conv(x)
                if flag:
                    y = self.bn(y)
                z = self.conv2(x)
                if flag:
                    z = self.bn2(z)
                else:
                    z = self.bn2(z) * 2
                return y + z

        model = Block()
        inputs = (torch.randn(2, 4, 8, 8),)
        """,
    ),
    Case(
        "loop_carries_output_to_next_iteration",
        """
        import torch
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(4, 4, 3, padding=1)
                self.bn = nn.BatchNorm2d(4)
                self.conv2 = nn.Conv2d(4, 4, 3, padding=1)  # expect: CBL001
                self.bn2 = nn.BatchNorm2d(4)

            def forward(self, x):
                y = x
                for _ in range(2):
                    y = torch.relu(y)
                    y = self.conv(y)
                out = self.bn(y)
                for _ in range(2):
                    x = self.conv2(x)
                    x = self.bn2(x)
                return out + x

        model = Block()
        inputs = (torch.randn(2, 4, 8, 8),)
        """,
    ),
    Case(
        "closure_reads_output",
        """
        import torch
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(4, 4, 3, padding=1)
                self.bn = nn.BatchNorm2d(4)

            def forward(self, x):
                y = self.conv(x)
                extra = lambda: y.sum()
                return self.bn(y) + extra()

        model = Block()
        inputs = (torch.randn(2, 4, 8, 8),)
        """,
    ),
    Case(
        "comprehension_applies_pairs",
        """
        import torch
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(4, 4, 3, padding=1)  # expect: CBL001
                self.bn = nn.BatchNorm2d(4)

            def forward(self, xs):
                return torch.stack([self.bn(self.conv(x)) for x in xs]).sum(0)

        model = Block()
        inputs = (torch.randn(2, 2, 4, 8, 8),)
        """,
    ),
    Case(
        "norm_gets_extra_arguments_is_silent",
        """
        import torch
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(4, 4, 3, padding=1)
                self.bn = nn.BatchNorm2d(4)

            def forward(self, x):
                return self.bn(self.conv(x) + 1.0)

        model = Block()
        inputs = (torch.randn(2, 4, 8, 8),)
        """,
        bias_may_not_matter=True,
    ),
    Case(
        "module_level_script",
        """
        import torch
        import torch.nn as nn
        con = nn.Conv2d(2, 3, 1)  # expect: CBL001
        nor = nn.LazyBatchNorm2d()
        tmp = torch.randn((2, 2, 6, 6))
        s = nor(con(tmp))
        model = nn.Sequential(con, nor)
        inputs = (tmp,)
        """,
    ),
    Case(
        "local_holders_in_function",
        """
        import torch
        import torch.nn as nn

        def make():
            conv = nn.Conv2d(3, 4, 3)  # expect: CBL001
            bn = nn.BatchNorm2d(4)
            return nn.Sequential(conv, bn, nn.ReLU())

        model = make()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
    ),
    Case(
        "local_holder_used_twice",
        """
        import torch
        import torch.nn as nn

        def make():
            conv = nn.Conv2d(4, 4, 3, padding=1)
            bn = nn.BatchNorm2d(4)
            return nn.Sequential(conv, bn, conv)

        model = make()
        inputs = (torch.randn(2, 4, 8, 8),)
        """,
    ),
    Case(
        "noqa_suppresses",
        """
        import torch
        import torch.nn as nn
        model = nn.Sequential(
            nn.Conv2d(3, 4, 3),  # noqa: CBL001
            nn.BatchNorm2d(4),
            nn.Conv2d(4, 4, 3),  # noqa
            nn.BatchNorm2d(4),
            nn.Conv2d(4, 4, 3),  # noqa: E501  # expect: CBL001
            nn.BatchNorm2d(4),
        )
        inputs = (torch.randn(2, 3, 12, 12),)
        """,
        runnable=False,
    ),
    Case(
        "attribute_holding_sequential_then_norm",
        """
        import torch
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.stem = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 4, 3))  # expect: CBL001
                self.bn = nn.BatchNorm2d(4)

            def forward(self, x):
                return self.bn(self.stem(x))

        model = Block()
        inputs = (torch.randn(2, 3, 10, 10),)
        """,
    ),
    # ---------------------------------------------------------------- lists
    Case(
        "list_append_then_sequential",
        """
        import torch
        import torch.nn as nn

        def make(channels):
            layers = []
            layers.append(nn.Conv2d(3, channels, 3))  # expect: CBL001
            layers.append(nn.BatchNorm2d(channels))
            layers.append(nn.ReLU())
            layers.append(nn.Conv2d(channels, channels, 3))
            layers.append(nn.ReLU())
            return nn.Sequential(*layers)

        model = make(4)
        inputs = (torch.randn(2, 3, 10, 10),)
        """,
    ),
    Case(
        "list_literal_extend_pluseq_insert",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Sequential):
            def __init__(self):
                layers = [nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)]  # expect: CBL001
                layers += [nn.Conv2d(4, 4, 3), nn.InstanceNorm2d(4)]  # expect: CBL001
                layers.extend([nn.Conv2d(4, 4, 1)])  # expect: CBL001
                layers.insert(len(layers), nn.BatchNorm2d(4))
                super().__init__(*layers)

        model = Net()
        inputs = (torch.randn(2, 3, 10, 10),)
        """,
    ),
    Case(
        "vgg_make_layers_loop",
        """
        import torch
        import torch.nn as nn

        def make_layers(cfg):
            layers = []
            in_channels = 3
            for v in cfg:
                if v == "M":
                    layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
                else:
                    conv2d = nn.Conv2d(in_channels, v, kernel_size=3, padding=1)  # expect: CBL001
                    layers += [conv2d, nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
                    in_channels = v
            return nn.Sequential(*layers)

        model = make_layers([4, "M", 4])
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
    ),
    Case(
        "vgg_make_layers_with_optional_norm_is_conditional",
        """
        import torch
        import torch.nn as nn

        def make_layers(cfg, batch_norm=False):
            layers = []
            in_channels = 3
            for v in cfg:
                conv2d = nn.Conv2d(in_channels, v, kernel_size=3, padding=1)  # expect: CBL003
                if batch_norm:
                    layers += [conv2d, nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
                else:
                    layers += [conv2d, nn.ReLU(inplace=True)]
                in_channels = v
            return nn.Sequential(*layers)

        model = make_layers([4, 4], batch_norm=True)  # the configuration CBL003 is about
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
    ),
    Case(
        "list_loop_boundary_pairs",
        """
        import torch
        import torch.nn as nn

        def make(n):
            layers = []
            for i in range(n):
                layers.append(nn.BatchNorm2d(4))
                layers.append(nn.Conv2d(4, 4, 3, padding=1))
            return nn.Sequential(*layers)

        model = make(3)
        inputs = (torch.randn(2, 4, 8, 8),)
        """,
    ),
    Case(
        "list_escapes_are_silent",
        """
        import torch
        import torch.nn as nn

        def make():
            layers = [nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)]
            extra = layers
            extra.insert(1, nn.ReLU())
            return nn.Sequential(*layers)

        def make2():
            layers = [nn.Conv2d(4, 4, 3), nn.BatchNorm2d(4)]
            layers.reverse()
            return nn.Sequential(*layers)

        model = nn.Sequential(make(), make2())
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        bias_may_not_matter=True,
    ),
    Case(
        "list_built_in_one_branch_only",
        """
        import torch
        import torch.nn as nn

        def make(deep):
            if deep:
                layers = [nn.Conv2d(3, 4, 3)]
            layers.append(nn.BatchNorm2d(4))
            return nn.Sequential(*layers)
        """,
        runnable=False,
    ),
    Case(
        "sequential_mixed_args_and_list",
        """
        import torch
        import torch.nn as nn

        def make():
            body = [nn.BatchNorm2d(4), nn.ReLU()]
            return nn.Sequential(nn.Conv2d(3, 4, 3), *body, nn.Conv2d(4, 4, 3))  # expect: CBL001

        model = make()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
    ),
    # ---------------------------------------------------------------- containers
    Case(
        "ordered_dict_sequential",
        """
        from collections import OrderedDict

        import torch
        import torch.nn as nn
        model = nn.Sequential(
            OrderedDict(
                [
                    ("conv", nn.Conv2d(3, 4, 3)),  # expect: CBL001
                    ("bn", nn.BatchNorm2d(4)),
                    ("relu", nn.ReLU()),
                    ("conv2", nn.Conv2d(4, 4, 3)),
                ]
            )
        )
        other = nn.Sequential(OrderedDict(conv=nn.Conv2d(4, 4, 1), norm=nn.InstanceNorm2d(4)))  # expect: CBL001
        model = nn.Sequential(model, other)
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
    ),
    Case(
        "sequential_subclass_super_init",
        """
        import torch
        import torch.nn as nn

        class ConvBN(nn.Sequential):
            def __init__(self, i, o):
                super().__init__(
                    nn.Conv2d(i, o, 3, padding=1),  # expect: CBL001
                    nn.BatchNorm2d(o),
                    nn.ReLU(inplace=True),
                )

        class ConvOnly(nn.Sequential):
            def __init__(self, i, o):
                super().__init__(nn.BatchNorm2d(i), nn.Conv2d(i, o, 3, padding=1))

        class Custom(nn.Sequential):
            def __init__(self, i, o):
                super().__init__(nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o))

            def forward(self, x):
                return self[0](x)

        model = nn.Sequential(ConvBN(3, 4), ConvOnly(4, 4), nn.ReLU(), Custom(4, 4))
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
    ),
    # ---------------------------------------------------------------- helpers
    Case(
        "helper_returning_conv_all_uses_feed_norm",
        """
        import torch
        import torch.nn as nn

        def conv3x3(i, o, stride=1):
            return nn.Conv2d(i, o, 3, stride, 1)  # expect: CBL001

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = conv3x3(3, 4)
                self.bn1 = nn.BatchNorm2d(4)
                self.conv2 = conv3x3(4, 4)
                self.bn2 = nn.BatchNorm2d(4)

            def forward(self, x):
                x = torch.relu(self.bn1(self.conv1(x)))
                return self.bn2(self.conv2(x))

        model = nn.Sequential(Block(), conv3x3(4, 4), nn.BatchNorm2d(4))
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
    ),
    Case(
        "helper_with_one_use_elsewhere_flags_the_call_sites",
        """
        import torch
        import torch.nn as nn

        def conv1x1(i, o):
            return nn.Conv2d(i, o, 1)

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = conv1x1(4, 4)  # expect: CBL001
                self.bn1 = nn.BatchNorm2d(4)
                self.proj = conv1x1(4, 4)

            def forward(self, x):
                return self.bn1(self.conv1(x)) + self.proj(x)

        model = Block()
        inputs = (torch.randn(2, 4, 8, 8),)
        """,
    ),
    Case(
        "helper_passed_as_value_flags_only_the_call_site",
        """
        import torch
        import torch.nn as nn

        def conv1x1(i, o):
            return nn.Conv2d(i, o, 1)

        def build(factory):
            return factory(4, 4)

        model = nn.Sequential(conv1x1(4, 4), nn.BatchNorm2d(4), build(conv1x1))  # expect: CBL001
        inputs = (torch.randn(2, 4, 8, 8),)
        """,
    ),
    # ---------------------------------------------------------------- transparent ops
    Case(
        "transparent_ops_between",
        """
        import torch
        import torch.nn as nn
        model = nn.Sequential(
            nn.Conv2d(3, 4, 3, padding=1),  # expect: CBL001
            nn.MaxPool2d(2, padding=1),
            nn.BatchNorm2d(4),
            nn.Conv2d(4, 4, 3, padding=1),  # expect: CBL001
            nn.AvgPool2d(2),
            nn.BatchNorm2d(4),
            nn.Conv2d(4, 4, 3, padding=1),  # expect: CBL001
            nn.AvgPool2d(3, 1, 1, count_include_pad=False),
            nn.InstanceNorm2d(4),
            nn.Conv2d(4, 4, 3, padding=1),  # expect: CBL001
            nn.Upsample(scale_factor=2, mode="bilinear"),
            nn.Identity(),
            nn.BatchNorm2d(4),
            nn.Conv2d(4, 4, 3, padding=1),  # expect: CBL001
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.BatchNorm1d(4),
        )
        inputs = (torch.randn(4, 3, 16, 16),)
        """,
    ),
    Case(
        "non_transparent_pooling",
        """
        import torch
        import torch.nn as nn
        model = nn.Sequential(
            nn.Conv2d(3, 4, 3, padding=1),
            nn.AvgPool2d(3, 1, 1),
            nn.BatchNorm2d(4),
            nn.Conv2d(4, 4, 3, padding=1),
            nn.AvgPool2d(2, divisor_override=3),
            nn.BatchNorm2d(4),
            nn.Conv2d(4, 4, 3, padding=1),
            nn.ZeroPad2d(1),
            nn.MaxPool2d(2),
            nn.BatchNorm2d(4),
        )
        inputs = (torch.randn(4, 3, 8, 8),)
        """,
    ),
]

CASES += [
    Case(
        "conditional_norm_layer_is_not_none",
        """
        import torch
        import torch.nn as nn

        def block(i, o, norm=None):
            conv = nn.Conv2d(i, o, 3, padding=1)  # expect: CBL003
            if norm is not None:
                return nn.Sequential(conv, nn.BatchNorm2d(o))
            layers = [conv]
            if norm is not None:
                layers.append(nn.BatchNorm2d(o))
            else:
                layers.append(nn.ReLU())
            return nn.Sequential(*layers)

        model = block(3, 4, norm=True)  # the configuration CBL003 is about
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
    ),
    Case(
        "conditional_on_rebound_flag_is_silent",
        """
        import torch
        import torch.nn as nn

        def make(cfg, batch_norm=False):
            batch_norm = not batch_norm
            layers = []
            for v in cfg:
                conv2d = nn.Conv2d(3, v, 3, padding=1)
                if batch_norm:
                    layers += [conv2d, nn.BatchNorm2d(v)]
                else:
                    layers += [conv2d, nn.ReLU()]
            return nn.Sequential(*layers)

        model = make([3])
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        bias_may_not_matter=True,  # the rebound flag is true here: silent by design
    ),
]

CASES += [
    # Regression: torchvision's make_layers (annotated list, loop target rebound in
    # the body) never reached a loop fixpoint before the loop-target fix.
    Case(
        "torchvision_vgg_make_layers_exact",
        """
        from typing import Union, cast

        import torch
        import torch.nn as nn

        def make_layers(cfg: list[Union[str, int]], batch_norm: bool = False) -> nn.Sequential:
            layers: list[nn.Module] = []
            in_channels = 3
            for v in cfg:
                if v == "M":
                    layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
                else:
                    v = cast(int, v)
                    conv2d = nn.Conv2d(in_channels, v, kernel_size=3, padding=1)  # expect: CBL003
                    if batch_norm:
                        layers += [conv2d, nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
                    else:
                        layers += [conv2d, nn.ReLU(inplace=True)]
                    in_channels = v
            return nn.Sequential(*layers)

        model = make_layers([4, "M", 4], batch_norm=True)
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
    ),
    # Regression: a subscript assignment target crashed the walker.  The container
    # goes into a dict the analysis does not follow (anything reading the dict may
    # index into it): silent since the container use model (issue 9).
    Case(
        "subscript_assignment_target",
        """
        import torch
        import torch.nn as nn
        table = {}
        table["a", 1] = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
        model = table["a", 1]
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
    ),
]

CASES += [
    Case(
        "linear_into_batchnorm1d",
        """
        import torch
        import torch.nn as nn

        class Head(nn.Module):
            def __init__(self, hidden=16):
                super().__init__()
                self.fc = nn.Linear(8, hidden)  # expect: CBL002
                self.bn = nn.BatchNorm1d(hidden)
                self.mlp = nn.Sequential(
                    nn.Linear(hidden, 12),  # expect: CBL002
                    nn.BatchNorm1d(12),
                    nn.ReLU(),
                    nn.LazyLinear(12),  # expect: CBL002
                    nn.BatchNorm1d(num_features=12),
                    nn.Linear(12, 12, True),  # expect: CBL002
                    nn.BatchNorm1d(12, affine=False),
                )

            def forward(self, x):
                return self.mlp(torch.relu(self.bn(self.fc(x))))

        model = Head()
        inputs = (torch.randn(4, 8),)
        """,
    ),
    Case(
        "linear_silent_cases",
        """
        import torch
        import torch.nn as nn
        c = 12
        model = nn.Sequential(
            nn.Linear(8, 12),
            nn.BatchNorm1d(c),  # same number, different expression: not provable
            nn.Linear(12, 12),
            nn.LazyBatchNorm1d(),  # features unknown
            nn.Linear(12, 12),
            nn.InstanceNorm1d(12),  # normalises each sample over its features
            nn.Linear(12, 12, bias=False),
            nn.BatchNorm1d(12),
            nn.Linear(12, 12),
            nn.LayerNorm(12),
        )
        inputs = (torch.randn(4, 8),)
        """,
    ),
]

CASES += [
    Case(
        "helper_call_sites_fixable_through_bias_or_kwargs",
        """
        import torch
        import torch.nn as nn

        def conv_bias(i, o, k=3, bias=True):
            return nn.Conv2d(i, o, k, padding=k // 2, bias=bias)

        def conv_kw(i, o, **kwargs):
            return nn.Conv2d(i, o, 1, **kwargs)

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = conv_bias(3, 4)  # expect: CBL001
                self.bn_a = nn.BatchNorm2d(4)
                self.b = conv_bias(4, 4, 3, True)  # expect: CBL001
                self.bn_b = nn.BatchNorm2d(4)
                self.c = conv_bias(4, 4, bias=False)
                self.bn_c = nn.BatchNorm2d(4)
                self.d = conv_kw(4, 4)  # expect: CBL001
                self.bn_d = nn.BatchNorm2d(4)
                self.e = conv_kw(4, 4)
                self.f = conv_bias(4, 4)

            def forward(self, x):
                x = self.bn_a(self.a(x))
                x = self.bn_b(self.b(x))
                x = self.bn_c(self.c(x))
                x = self.bn_d(self.d(x))
                return self.f(self.e(x))

        model = Block()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
    ),
]

CASES += [
    Case(
        "sequential_subclass_attributes_and_add_module",
        """
        import torch
        import torch.nn as nn

        class ConvBNAct(nn.Sequential):
            def __init__(self, i, o):
                super().__init__()
                self.out_channels = o  # could be a module as far as we know: first, so harmless
                self.conv = nn.Conv2d(i, o, 3, padding=1)  # expect: CBL001
                self.stride = 1  # a constant is not an item
                self.bn = nn.BatchNorm2d(o)
                self.add_module("act", nn.ReLU())
                self.add_module("conv2", nn.Conv2d(o, o, 1))  # expect: CBL001
                self.add_module("norm2", nn.InstanceNorm2d(o))
                self.last = nn.Conv2d(o, o, 1)

        class Reassigned(nn.Sequential):
            def __init__(self, i, o):
                super().__init__()
                self.conv = nn.Conv2d(i, o, 1)
                self.act = nn.ReLU()
                self.bn = nn.BatchNorm2d(o)
                self.conv = nn.Conv2d(i, o, 1)

        class Opaque(nn.Sequential):
            def __init__(self, i, o, extra):
                super().__init__()
                self.conv = nn.Conv2d(i, o, 1)
                self.extra = extra  # unknown: may be a module between conv and norm
                self.bn = nn.BatchNorm2d(o)

        model = nn.Sequential(ConvBNAct(3, 4), Reassigned(4, 4), Opaque(4, 4, nn.ReLU()))
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
    ),
]

# Keras, TensorFlow, Flax, Paddle and the torch-like frameworks (issue 11).
from tests.cases_frameworks import FRAMEWORK_CASES  # noqa: E402

CASES += FRAMEWORK_CASES
# ---------------------------------------------------------------- recall (issue 12)
CASES += [
    Case(
        "kwargs_dict_with_known_keys",
        """
        import torch
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self, device=None, dtype=None):
                super().__init__()
                dd = {"device": device, "dtype": dtype}
                kw = dict(device=device, dtype=dtype)
                self.conv = nn.Conv2d(3, 4, 3, **dd)  # expect: CBL001
                self.bn = nn.BatchNorm2d(4, **dd)
                self.conv2 = nn.Conv2d(4, 4, 3, bias=True, **kw)  # expect: CBL001
                self.bn2 = nn.BatchNorm2d(4, **kw)
                self.head = nn.Sequential(nn.Conv2d(4, 4, 1, **dd), nn.InstanceNorm2d(4))  # expect: CBL001

            def forward(self, x):
                return self.head(self.bn2(self.conv2(self.bn(self.conv(x)))))

        model = Block()
        inputs = (torch.randn(2, 3, 10, 10),)
        """,
    ),
    Case(
        "kwargs_dict_near_misses",
        """
        import torch
        import torch.nn as nn

        def configure(d):
            d["bias"] = False

        class Block(nn.Module):
            def __init__(self, dd=None):
                super().__init__()
                a = {"device": None}
                a["bias"] = False  # mutated: keys unknown
                b = {"device": None}
                configure(b)  # escapes: keys unknown
                c = {"device": None, "bias": False}  # the bias is in it
                d = {"device": None}
                d = {"bias": False}  # bound twice
                dd = dd or {}  # a parameter
                self.c1 = nn.Conv2d(3, 4, 3, **a)
                self.b1 = nn.BatchNorm2d(4)
                self.c2 = nn.Conv2d(4, 4, 3, **b)
                self.b2 = nn.BatchNorm2d(4)
                self.c3 = nn.Conv2d(4, 4, 3, **c)
                self.b3 = nn.BatchNorm2d(4)
                self.c4 = nn.Conv2d(4, 4, 3, **d)
                self.b4 = nn.BatchNorm2d(4)
                self.c5 = nn.Conv2d(4, 4, 1, **dd)
                self.act = nn.ReLU()

            def forward(self, x):
                x = self.b2(self.c2(self.b1(self.c1(x))))
                return self.act(self.c5(self.b4(self.c4(self.b3(self.c3(x))))))

        model = Block()
        inputs = (torch.randn(2, 3, 12, 12),)
        """,
    ),
]

CASES += [
    Case(
        "conditional_norm_inline_item",
        """
        import torch
        import torch.nn as nn

        def block(i, o, use_bn=True, norm=None):
            return nn.Sequential(
                nn.Conv2d(i, o, 3, padding=1),  # expect: CBL003
                nn.BatchNorm2d(o) if use_bn else nn.Identity(),
                nn.ReLU(),
                nn.Conv2d(o, o, 1),  # expect: CBL001
                nn.BatchNorm2d(o) if norm is None else nn.InstanceNorm2d(o),
                nn.Conv2d(o, o, 1),  # expect: CBL003
                nn.Identity() if not use_bn else nn.BatchNorm2d(o),
            )

        def listed(c, use_bn=True):
            layers = [nn.Conv2d(c, c, 1)]  # expect: CBL003
            layers.append(nn.BatchNorm2d(c) if use_bn else nn.GroupNorm(2, c))
            return nn.Sequential(*layers)

        model = nn.Sequential(block(3, 4, use_bn=True), listed(4, use_bn=True))
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
    ),
    Case(
        "conditional_norm_class_alias",
        """
        import torch
        import torch.nn as nn

        class Stager(nn.Module):
            def __init__(self, c=4, apply_batch_norm=True):
                super().__init__()
                batch_norm = nn.BatchNorm2d if apply_batch_norm else nn.Identity
                other = nn.Identity if not apply_batch_norm else nn.InstanceNorm2d
                self.features = nn.Sequential(
                    nn.Conv2d(3, c, 3),  # expect: CBL003
                    batch_norm(c),
                    nn.ReLU(),
                    nn.Conv2d(c, c, 3),  # expect: CBL003
                    other(c),
                )
                layers = [nn.Conv2d(c, c, 1), batch_norm(c)]  # expect: CBL003
                self.head = nn.Sequential(*layers)

            def forward(self, x):
                return self.head(self.features(x))

        model = Stager(apply_batch_norm=True)
        inputs = (torch.randn(2, 3, 10, 10),)
        """,
    ),
    Case(
        "conditional_norm_near_misses",
        """
        import torch
        import torch.nn as nn

        class Cfg:
            use_bn = False

        class Block(nn.Module):
            def __init__(self, c=4, use_bn=False, cfg=Cfg()):
                super().__init__()
                norm = nn.BatchNorm2d if use_bn else nn.Identity
                norm = nn.Identity  # rebound: the alias is not one choice
                flag = use_bn
                flag = not flag  # rebound: not a parameter test
                self.a = nn.Sequential(
                    nn.Conv2d(3, c, 3),
                    nn.BatchNorm2d(c) if cfg.use_bn else nn.Identity(),  # not a parameter
                    nn.ReLU(),
                    nn.Conv2d(c, c, 3),
                    norm(c),
                    nn.ReLU(),
                    nn.Conv2d(c, c, 1),
                    nn.BatchNorm2d(c) if not flag else nn.Identity(),
                    nn.ReLU(),
                    nn.Conv2d(c, c, 1),
                    nn.ReLU() if use_bn else nn.Identity(),
                    nn.Conv2d(c, c, 1),
                )

            def forward(self, x):
                return self.a(x)

        model = Block()
        inputs = (torch.randn(2, 3, 10, 10),)
        """,
    ),
]

CASES += [
    Case(
        "module_methods_returning_self",
        """
        import torch
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(3, 4, 3, bias=True).to(dtype=torch.float64)  # expect: CBL001
                self.bn1 = nn.BatchNorm2d(4).to(dtype=torch.float64)
                conv = nn.Conv2d(4, 4, 1).double().train()  # expect: CBL001
                self.seq = nn.Sequential(conv, nn.BatchNorm2d(4))
                self.conv3 = nn.Conv2d(4, 4, 1).to(torch.float64)
                self.act = nn.ReLU()

            def forward(self, x):
                return self.act(self.conv3(self.seq(self.bn1(self.conv1(x)))))

        model = Block()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
    ),
]

# ---------------------------------------------------------------- soundness (issue 9)
from tests.cases_sound import SOUND_CASES  # noqa: E402

CASES += SOUND_CASES
