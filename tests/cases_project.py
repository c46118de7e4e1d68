"""Rule-table cases for the whole-project analysis (issue 12, :mod:`convbnlint.project`).

Each case is a small project: relative paths -> module text, in the format of
:mod:`tests.cases` (``# expect: CODE`` on the line where a finding starts, every
other line silent).  The whole tree is checked together.  A case marked
``runnable`` defines, in the module named by ``entry``, ``model`` and ``inputs``
(``tests/test_project.py`` proves with real torch that each flagged call builds a
layer whose bias is dead: ``proof`` names, per flagged line, the ``state_dict``
path of its bias from ``model``).
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field

_EXPECT = re.compile(r"#\s*expect:\s*([A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*)")


@dataclass(frozen=True)
class ProjectCase:
    name: str
    files: dict[str, str]
    entry: str | None = None  # module (dotted) defining model and inputs
    # (path, line) -> the dead bias's state_dict name (runtime proof)
    proof: dict[tuple[str, int], str] = field(default_factory=dict)
    # state_dict names of biases that must matter (near misses, runtime proof)
    live: tuple[str, ...] = ()

    def sources(self) -> dict[str, str]:
        return {p: textwrap.dedent(t).lstrip("\n") for p, t in self.files.items()}

    @property
    def expected(self) -> set[tuple[str, int, str]]:
        out = set()
        for path, text in self.sources().items():
            for n, line in enumerate(text.splitlines(), start=1):
                m = _EXPECT.search(line)
                if m:
                    for code in m.group(1).split(","):
                        out.add((path, n, code.strip()))
        return out


LAYERS = """
import torch.nn as nn


class ConvBNReLU(nn.Module):
    def __init__(self, cin, cout, k=3, bias=False):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, padding=k // 2, bias=bias)
        self.bn = nn.BatchNorm2d(cout)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class ConvBN(nn.Module):
    def __init__(self, cin, cout, bias=True, norm_layer=nn.BatchNorm2d):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 1, bias=bias)
        self.norm = norm_layer(cout)

    def forward(self, x):
        return self.norm(self.conv(x))
"""

INPUTS = "inputs = (torch.randn(4, 3, 6, 6),)\n"

PROJECT_CASES: list[ProjectCase] = [
    ProjectCase(
        "wrapper_bias_true_from_another_module",
        {
            "pkg/__init__.py": "",
            "pkg/layers.py": LAYERS,
            "pkg/net.py": """
                import torch
                import torch.nn as nn
                from pkg.layers import ConvBNReLU


                class Net(nn.Module):
                    def __init__(self):
                        super().__init__()
                        self.a = ConvBNReLU(3, 8, bias=True)  # expect: CBL001
                        self.b = ConvBNReLU(8, 8)
                        self.c = ConvBNReLU(8, 8, 1, True)  # expect: CBL001

                    def forward(self, x):
                        return self.c(self.b(self.a(x)))


                model = Net()
                """ + INPUTS,
        },
        entry="pkg.net",
        proof={("pkg/net.py", 9): "a.conv.bias", ("pkg/net.py", 11): "c.conv.bias"},
    ),
    ProjectCase(
        "default_bias_on_and_norm_layer_default",
        {
            "pkg/__init__.py": "",
            "pkg/layers.py": LAYERS,
            "pkg/net.py": """
                import torch
                import torch.nn as nn
                from .layers import ConvBN


                class Net(nn.Module):
                    def __init__(self):
                        super().__init__()
                        self.a = ConvBN(3, 8)  # expect: CBL001
                        self.b = ConvBN(8, 8, norm_layer=nn.InstanceNorm2d)  # expect: CBL001
                        self.c = ConvBN(8, 8, norm_layer=nn.Identity)
                        self.d = ConvBN(8, 8, bias=False)

                    def forward(self, x):
                        return self.c(self.d(self.b(self.a(x))))


                model = Net()
                """ + INPUTS,
        },
        entry="pkg.net",
        proof={("pkg/net.py", 9): "a.conv.bias", ("pkg/net.py", 10): "b.conv.bias"},
        live=("c.conv.bias",),
    ),
    ProjectCase(
        "package_reexport_and_relative_imports",
        {
            "zoo/__init__.py": "",
            "zoo/common/__init__.py": "from .blocks import *\n",
            "zoo/common/blocks.py": """
                import torch.nn as nn

                __all__ = ["conv3x3_block"]


                class ConvBlock(nn.Module):
                    def __init__(self, in_channels, out_channels, bias=False, use_bn=True):
                        super().__init__()
                        self.use_bn = use_bn
                        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=bias)
                        if self.use_bn:
                            self.bn = nn.BatchNorm2d(out_channels)
                        self.activ = nn.ReLU(inplace=True)

                    def forward(self, x):
                        x = self.conv(x)
                        if self.use_bn:
                            x = self.bn(x)
                        return self.activ(x)


                def conv3x3_block(in_channels, out_channels, bias=False, use_bn=True):
                    return ConvBlock(in_channels, out_channels, bias=bias, use_bn=use_bn)
                """,
            "zoo/models/__init__.py": "",
            "zoo/models/net.py": """
                import torch
                import torch.nn as nn
                from ..common import conv3x3_block


                class Net(nn.Module):
                    def __init__(self):
                        super().__init__()
                        self.a = conv3x3_block(3, 8, bias=True)  # expect: CBL001
                        self.b = conv3x3_block(8, 8, bias=True, use_bn=False)

                    def forward(self, x):
                        return self.b(self.a(x))


                model = Net()
                """ + INPUTS,
        },
        entry="zoo.models.net",
        proof={("zoo/models/net.py", 9): "a.conv.bias"},
        live=("b.conv.bias",),
    ),
    ProjectCase(
        "norm_factory_in_a_third_module",
        {
            "lib/__init__.py": "",
            "lib/norms.py": """
                import functools
                import torch.nn as nn


                def get_norm_layer(kind="batch"):
                    if kind == "batch":
                        return nn.BatchNorm2d
                    elif kind == "instance":
                        return functools.partial(nn.InstanceNorm2d, affine=False)
                    return nn.Identity
                """,
            "lib/block.py": """
                import torch.nn as nn
                from lib.norms import get_norm_layer


                class Block(nn.Module):
                    def __init__(self, cin, cout, norm="batch", bias=True):
                        super().__init__()
                        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=bias)
                        self.norm = get_norm_layer(norm)(cout)

                    def forward(self, x):
                        return self.norm(self.conv(x))
                """,
            "lib/net.py": """
                import torch
                import torch.nn as nn
                from lib.block import Block


                class Net(nn.Module):
                    def __init__(self):
                        super().__init__()
                        self.a = Block(3, 8)  # expect: CBL001
                        self.b = Block(8, 8, norm="instance")  # expect: CBL001
                        self.c = Block(8, 8, norm="none")

                    def forward(self, x):
                        return self.c(self.b(self.a(x)))


                model = Net()
                """ + INPUTS,
        },
        entry="lib.net",
        proof={("lib/net.py", 9): "a.conv.bias", ("lib/net.py", 10): "b.conv.bias"},
        live=("c.conv.bias",),
    ),
    # ------------------------------------------------------------ near misses
    ProjectCase(
        "reached_into_from_another_file_is_silent",
        {
            "pkg/__init__.py": "",
            "pkg/layers.py": LAYERS,
            "pkg/net.py": """
                import torch.nn as nn
                from pkg.layers import ConvBN


                class Net(nn.Module):
                    def __init__(self):
                        super().__init__()
                        self.a = ConvBN(3, 8)

                    def forward(self, x):
                        return self.a(x)
                """,
            "pkg/deploy.py": """
                from pkg.net import Net


                def fuse(block):
                    return block.conv(block.x)


                def deploy():
                    net = Net()
                    return fuse(net.a)
                """,
        },
    ),
    ProjectCase(
        # Reading the bias does not change what it does: reported, but the fix is
        # unsafe (tests/test_project.py), as for a read in the same file.
        "bias_read_from_another_file_keeps_the_finding",
        {
            "pkg/__init__.py": "",
            "pkg/layers.py": LAYERS,
            "pkg/net.py": """
                import torch.nn as nn
                from pkg.layers import ConvBNReLU


                class Net(nn.Module):
                    def __init__(self):
                        super().__init__()
                        self.a = ConvBNReLU(3, 8, bias=True)  # expect: CBL001

                    def forward(self, x):
                        return self.a(x)
                """,
            "pkg/init.py": """
                def init(net):
                    net.a.conv.bias.data.fill_(1.0)
                """,
        },
    ),
    ProjectCase(
        "norm_replaced_by_a_script_is_silent",
        {
            "pkg/__init__.py": "",
            "pkg/layers.py": LAYERS,
            "pkg/net.py": """
                import torch.nn as nn
                from pkg.layers import ConvBNReLU


                class Net(nn.Module):
                    def __init__(self):
                        super().__init__()
                        self.a = ConvBNReLU(3, 8, bias=True)

                    def forward(self, x):
                        return self.a(x)
                """,
            "scripts/export.py": """
                import torch.nn as nn
                from pkg.net import Net

                net = Net()
                net.a.bn = nn.Identity()
                """,
        },
    ),
    ProjectCase(
        "modules_walked_and_patched_elsewhere_is_silent",
        {
            "pkg/__init__.py": "",
            "pkg/layers.py": LAYERS,
            "pkg/net.py": """
                import torch.nn as nn
                from pkg.layers import ConvBN


                class Net(nn.Module):
                    def __init__(self):
                        super().__init__()
                        self.a = ConvBN(3, 8)

                    def forward(self, x):
                        return self.a(x)
                """,
            "pkg/tools.py": """
                from pkg.net import Net


                def strip(model):
                    for m in model.modules():
                        if hasattr(m, "norm"):
                            del m.norm
                    return model


                model = strip(Net())
                """,
        },
    ),
    ProjectCase(
        "subclass_overriding_forward_is_silent",
        {
            "pkg/__init__.py": "",
            "pkg/layers.py": LAYERS,
            "pkg/net.py": """
                import torch.nn as nn
                from pkg.layers import ConvBNReLU


                class Skip(ConvBNReLU):
                    def forward(self, x):
                        return self.act(self.conv(x))


                class Net(nn.Module):
                    def __init__(self):
                        super().__init__()
                        self.a = Skip(3, 8, bias=True)

                    def forward(self, x):
                        return self.a(x)
                """,
        },
    ),
    ProjectCase(
        "forward_replaced_elsewhere_is_silent",
        {
            "pkg/__init__.py": "",
            "pkg/layers.py": LAYERS,
            "pkg/patch.py": """
                from pkg import layers


                def _forward(self, x):
                    return self.conv(x)


                layers.ConvBNReLU.forward = _forward
                """,
            "pkg/net.py": """
                from pkg.layers import ConvBNReLU

                block = ConvBNReLU(3, 8, bias=True)
                """,
        },
    ),
    ProjectCase(
        "unknown_values_at_the_call_are_silent",
        {
            "pkg/__init__.py": "",
            "pkg/layers.py": LAYERS,
            "pkg/net.py": """
                import torch.nn as nn
                from pkg.layers import ConvBN, ConvBNReLU


                def build(bias, norm, **kw):
                    return nn.Sequential(
                        ConvBNReLU(3, 8, bias=bias),
                        ConvBN(8, 8, norm_layer=norm),
                        ConvBNReLU(8, 8, **kw),
                        ConvBN(8, 8, bias=kw["bias"]),
                    )
                """,
        },
    ),
    ProjectCase(
        "a_local_name_shadows_the_import",
        {
            "pkg/__init__.py": "",
            "pkg/layers.py": LAYERS,
            "pkg/net.py": """
                import torch.nn as nn
                from pkg.layers import ConvBNReLU


                def ConvBNReLU(cin, cout, bias=True):  # noqa: F811
                    return nn.Conv2d(cin, cout, 3, bias=bias)


                block = ConvBNReLU(3, 8, bias=True)
                """,
        },
    ),
    ProjectCase(
        "definitions_outside_the_run_are_not_assumed",
        # The definition's own file: callers outside the checked tree may pass
        # anything, so its parameter defaults prove nothing there.
        {
            "pkg/__init__.py": "",
            "pkg/layers.py": LAYERS,
        },
    ),
    ProjectCase(
        "norm_not_after_the_conv_is_silent",
        {
            "pkg/__init__.py": "",
            "pkg/layers.py": """
                import torch.nn as nn


                class PreAct(nn.Module):
                    def __init__(self, cin, cout, bias=True):
                        super().__init__()
                        self.bn = nn.BatchNorm2d(cin)
                        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=bias)

                    def forward(self, x):
                        return self.conv(self.bn(x))
                """,
            "pkg/net.py": """
                import torch
                from pkg.layers import PreAct

                model = PreAct(3, 8)
                """ + INPUTS,
        },
        entry="pkg.net",
        live=("conv.bias",),
    ),
]


# The object a judged call builds (or the model holding it) handed to code of the
# project that reaches into it -- enumerates its submodules, hooks them, freezes
# the norms, fuses -- whatever the form of the call that hands it on: the site is
# unknown.  Runtime near misses: each bias changes the outputs.
_NET = """
                import torch.nn as nn
                from pkg.layers import ConvBN


                class Net(nn.Module):
                    def __init__(self):
                        super().__init__()
                        self.a = ConvBN(3, 8)

                    def forward(self, x):
                        return self.a(x)
                """
_HOOKS = """
                import torch
                import torch.nn as nn


                def add(model):
                    for m in model.modules():
                        if isinstance(m, nn.Conv2d):
                            m.register_forward_hook(lambda mod, i, o: o * torch.arange(o.shape[-1], dtype=o.dtype))
                """
_FREEZE = """
                import torch.nn as nn


                def freeze_bn(model):
                    for m in model.modules():
                        if isinstance(m, nn.BatchNorm2d):
                            m.eval()
                            m.train = lambda mode=True, m=m: m
                """
HANDED_ON_CASES: list[ProjectCase] = [
    ProjectCase(
        "hooks_added_by_a_module_imported_late_is_silent",
        {
            "pkg/__init__.py": "",
            "pkg/layers.py": LAYERS,
            "pkg/net.py": _NET,
            "pkg/hooks.py": _HOOKS,
            "pkg/main.py": """
                import torch
                from pkg.net import Net

                model = Net()
                from pkg import hooks
                hooks.add(model)
                """ + INPUTS,
        },
        entry="pkg.main",
        live=("a.conv.bias",),
    ),
    ProjectCase(
        "bn_frozen_by_a_helper_of_another_file_is_silent",
        {
            "pkg/__init__.py": "",
            "pkg/layers.py": LAYERS,
            "pkg/net.py": _NET,
            "pkg/utils.py": _FREEZE,
            "pkg/main.py": """
                import torch
                from pkg.net import Net

                model = Net()
                from pkg.utils import freeze_bn
                freeze_bn(model)
                """ + INPUTS,
        },
        entry="pkg.main",
        live=("a.conv.bias",),
    ),
    ProjectCase(
        "helper_imported_inside_a_function_is_silent",
        {
            "pkg/__init__.py": "",
            "pkg/layers.py": LAYERS,
            "pkg/net.py": _NET,
            "pkg/utils.py": _FREEZE,
            "pkg/main.py": """
                import torch
                from pkg.net import Net


                def build():
                    from .utils import freeze_bn

                    net = Net()
                    freeze_bn(net)
                    return net


                model = build()
                """ + INPUTS,
        },
        entry="pkg.main",
        live=("a.conv.bias",),
    ),
    ProjectCase(
        "helper_imported_under_another_name_is_silent",
        {
            "pkg/__init__.py": "",
            "pkg/layers.py": LAYERS,
            "pkg/net.py": _NET,
            "pkg/hooks.py": _HOOKS,
            "pkg/main.py": """
                import torch
                from pkg.hooks import add as attach
                from pkg.net import Net

                model = Net()
                attach(model)
                """ + INPUTS,
        },
        entry="pkg.main",
        live=("a.conv.bias",),
    ),
    ProjectCase(
        "helper_handed_on_as_a_value_is_silent",
        {
            "pkg/__init__.py": "",
            "pkg/layers.py": LAYERS,
            "pkg/net.py": _NET,
            "pkg/hooks.py": _HOOKS,
            "pkg/main.py": """
                import torch
                import pkg.hooks
                from pkg.net import Net

                steps = [pkg.hooks.add]
                model = Net()
                for step in steps:
                    step(model)
                """ + INPUTS,
        },
        entry="pkg.main",
        live=("a.conv.bias",),
    ),
    ProjectCase(
        "apply_with_a_function_of_another_file_is_silent",
        {
            "pkg/__init__.py": "",
            "pkg/layers.py": LAYERS,
            "pkg/net.py": _NET,
            "pkg/inits.py": """
                import torch
                import torch.nn as nn


                def hook_convs(m):
                    if isinstance(m, nn.Conv2d):
                        m.register_forward_hook(lambda mod, i, o: o * torch.arange(o.shape[-1], dtype=o.dtype))
                """,
            "pkg/main.py": """
                import torch
                from pkg.inits import hook_convs
                from pkg.net import Net

                model = Net()
                model.apply(hook_convs)
                """ + INPUTS,
        },
        entry="pkg.main",
        live=("a.conv.bias",),
    ),
    ProjectCase(
        "fused_by_a_helper_of_another_file_is_silent",
        {
            "pkg/__init__.py": "",
            "pkg/layers.py": LAYERS,
            "pkg/net.py": _NET,
            "pkg/deploy.py": """
                import torch.nn as nn
                from torch.nn.utils.fusion import fuse_conv_bn_eval


                def fold(model):
                    for m in model.modules():
                        if hasattr(m, "norm") and hasattr(m, "conv"):
                            m.conv = fuse_conv_bn_eval(m.conv.eval(), m.norm.eval())
                            m.norm = nn.Identity()
                    return model
                """,
            "pkg/main.py": """
                import torch
                from pkg import deploy
                from pkg.net import Net

                model = deploy.fold(Net())
                """ + INPUTS,
        },
        entry="pkg.main",
        live=("a.conv.bias",),
    ),
    ProjectCase(
        "bn_frozen_by_a_trainer_method_is_silent",
        {
            "pkg/__init__.py": "",
            "pkg/layers.py": LAYERS,
            "pkg/net.py": _NET,
            "pkg/trainer.py": """
                import torch.nn as nn


                class Trainer:
                    def __init__(self, model):
                        self.model = model

                    def freeze(self):
                        for m in self.model.modules():
                            if isinstance(m, nn.BatchNorm2d):
                                m.eval()
                                m.train = lambda mode=True, m=m: m
                """,
            "pkg/main.py": """
                import torch
                from pkg.net import Net
                from pkg.trainer import Trainer

                model = Net()
                Trainer(model).freeze()
                """ + INPUTS,
        },
        entry="pkg.main",
        live=("a.conv.bias",),
    ),
    ProjectCase(
        "hooks_added_by_a_trainer_method_is_silent",
        {
            "pkg/__init__.py": "",
            "pkg/layers.py": LAYERS,
            "pkg/net.py": _NET,
            "pkg/trainer.py": """
                import torch
                import torch.nn as nn


                class Trainer:
                    def prepare(self, model):
                        for name, m in model.named_modules():
                            if isinstance(m, nn.Conv2d):
                                m.register_forward_hook(lambda mod, i, o: o * torch.arange(o.shape[-1], dtype=o.dtype))
                """,
            "pkg/main.py": """
                import torch
                from pkg.net import Net
                from pkg.trainer import Trainer

                model = Net()
                trainer = Trainer()
                trainer.prepare(model)
                """ + INPUTS,
        },
        entry="pkg.main",
        live=("a.conv.bias",),
    ),
]
HANDED_ON_CASES += [
    ProjectCase(
        "helper_reached_through_importlib_is_silent",
        {
            "pkg/__init__.py": "",
            "pkg/layers.py": LAYERS,
            "pkg/net.py": _NET,
            "pkg/hooks.py": _HOOKS,
            "pkg/main.py": """
                import importlib
                import torch
                from pkg.net import Net

                model = Net()
                importlib.import_module("pkg.hooks").add(model)
                """ + INPUTS,
        },
        entry="pkg.main",
        live=("a.conv.bias",),
    ),
    ProjectCase(
        "helper_reached_by_getattr_is_silent",
        {
            "pkg/__init__.py": "",
            "pkg/layers.py": LAYERS,
            "pkg/net.py": _NET,
            "pkg/utils.py": _FREEZE,
            "pkg/main.py": """
                import torch
                from pkg import utils
                from pkg.net import Net

                model = Net()
                getattr(utils, "freeze_bn")(model)
                """ + INPUTS,
        },
        entry="pkg.main",
        live=("a.conv.bias",),
    ),
]
PROJECT_CASES.extend(HANDED_ON_CASES)
