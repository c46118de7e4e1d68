"""Soundness routes (issue 9): every way a program can undo a cancellation.

Each case shows one way code can reach a layer, the norm after it, or the
container that joins them.  A silent case exercises its route in ``model``'s
forward (or before it), so ``tests/test_runtime_proof.py`` proves that the bias
really matters there; a flagged case shows a use the analysis models exactly
(its bias is proven redundant in train and eval mode).  Tags name the route of
the issue (``route1`` .. ``route8``) or ``adversarial`` for the ones found
beyond it.
"""

from __future__ import annotations

import textwrap

from tests.cases import Case

# The class most cases start from: conv then norm, wired in forward.
NET = """
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3){mark}
        self.bn = nn.BatchNorm2d(8)

    def forward(self, x):
        return self.bn(self.conv(x))
"""

INPUTS = "inputs = (torch.randn(2, 3, 8, 8),)\n"


def net_case(name: str, tail: str, flagged: bool = False, **kw: object) -> Case:
    """``NET`` (its conv flagged or not) followed by ``tail``."""
    head = NET.replace("{mark}", "  # expect: CBL001" if flagged else "")
    return Case(name, head + textwrap.dedent(tail).strip("\n") + "\n" + INPUTS, **kw)  # type: ignore[arg-type]


SOUND_CASES: list[Case] = [
    # ------------------------------------------------- route 1: parts used alone
    Case(
        "route1_container_indexed",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.features = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU())

            def forward(self, x):
                return self.features(x), self.features[0](x)

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route1",),
    ),
    Case(
        "route1_container_sliced",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.features = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU())

            def forward(self, x):
                return self.features[:1](x)

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route1",),
    ),
    Case(
        "route1_container_iterated_reversed",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.features = nn.Sequential(
                    nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU()
                )

            def forward(self, x):
                for m in reversed(self.features):
                    x = m(x)
                return x

        model = Net()
        inputs = (torch.randn(2, 8, 6, 6),)
        """,
        tags=("route1",),
    ),
    Case(
        "route1_children_in_another_order",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.bn = nn.BatchNorm2d(8)
                self.conv = nn.Conv2d(8, 8, 3, padding=1)

            def forward(self, x):
                y = self.bn(self.conv(x))
                for m in self.children():
                    x = m(x)
                return y, x

        model = Net()
        inputs = (torch.randn(2, 8, 6, 6),)
        """,
        tags=("route1",),
    ),
    net_case(
        "route1_transfer_learning_drops_the_last_layer",
        """
        net = Net()
        model = nn.Sequential(*list(net.children())[:-1])
        """,
        tags=("route1",),
    ),
    Case(
        "route1_module_level_item",
        """
        import torch
        import torch.nn as nn

        body = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU())
        stem = body[0]
        model = nn.Sequential(stem, nn.ReLU())
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route1",),
    ),
    Case(
        "route1_other_method",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)

            def forward(self, x):
                return self.bn(self.conv(x))

            def stem(self, x):
                return self.conv(x)

        class Both(nn.Module):
            def __init__(self):
                super().__init__()
                self.net = Net()

            def forward(self, x):
                return self.net(x), self.net.stem(x)

        model = Both()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route1",),
    ),
    net_case(
        "route1_function_outside_the_class",
        """
        def stem(net, x):
            return net.conv(x)

        class Both(nn.Module):
            def __init__(self):
                super().__init__()
                self.net = Net()

            def forward(self, x):
                return self.net(x), stem(self.net, x)

        model = Both()
        """,
        tags=("route1",),
    ),
    net_case(
        "route1_another_class",
        """
        class Head(nn.Module):
            def __init__(self, net):
                super().__init__()
                self.net = net

            def forward(self, x):
                return self.net(x) + self.net.conv(x)

        model = Head(Net())
        """,
        tags=("route1",),
    ),
    Case(
        "route1_harmless_uses_of_parts",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.features = nn.Sequential(
                    nn.Conv2d(3, 8, 3),  # expect: CBL001
                    nn.BatchNorm2d(8),
                    nn.ReLU(),
                )
                assert isinstance(self.features[0], nn.Conv2d) and len(self.features) == 3
                for m in self.modules():
                    if isinstance(m, nn.Conv2d):
                        nn.init.kaiming_normal_(m.weight)
                    elif isinstance(m, nn.BatchNorm2d):
                        nn.init.ones_(m.weight)
                        m.weight.requires_grad_(False)

            def forward(self, x):
                return self.features(x)

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route1",),
    ),
    Case(
        "route1_blocks_in_a_module_list",
        """
        import torch
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.conv = nn.Conv2d(c, c, 3, padding=1)  # expect: CBL001
                self.bn = nn.BatchNorm2d(c)

            def forward(self, x):
                return torch.relu(self.bn(self.conv(x)))

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.blocks = nn.ModuleList([Block(4) for _ in range(2)])

            def forward(self, x):
                for block in self.blocks:
                    x = block(x)
                return x

        model = Net()
        inputs = (torch.randn(2, 4, 6, 6),)
        """,
        tags=("route1",),
    ),
    # ------------------------------------------------- route 2: forward replaced
    Case(
        "route2_subclass_of_a_sequential_subclass",
        """
        import torch
        import torch.nn as nn

        class Block(nn.Sequential):
            def __init__(self):
                super().__init__(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))

        class Sub(Block):
            def forward(self, x):
                return self[0](x)

        model = Sub()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route2",),
    ),
    Case(
        "route2_mixin_before_sequential",
        """
        import torch
        import torch.nn as nn

        class Mixin:
            def forward(self, x):
                return self[0](x)

        class Block(Mixin, nn.Sequential):
            def __init__(self):
                super().__init__(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))

        model = Block()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route2",),
    ),
    Case(
        "route2_forward_assigned_in_the_class_body",
        """
        import torch
        import torch.nn as nn

        def first_only(self, x):
            return self[0](x)

        class Block(nn.Sequential):
            forward = first_only

            def __init__(self):
                super().__init__(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))

        model = Block()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route2",),
    ),
    net_case(
        "route2_forward_assigned_at_module_level",
        """
        def conv_only(self, x):
            return self.conv(x)

        Net.forward = conv_only
        model = Net()
        """,
        tags=("route2",),
    ),
    net_case(
        "route2_forward_set_with_setattr",
        """
        def conv_only(self, x):
            return self.conv(x)

        setattr(Net, "forward", conv_only)
        model = Net()
        """,
        tags=("route2",),
    ),
    net_case(
        "route2_subclass_defines_forward",
        """
        class Sub(Net):
            def forward(self, x):
                return self.conv(x)

        model = Sub()
        """,
        tags=("route2",),
    ),
    net_case(
        "route2_in_file_class_decorator",
        """
        def conv_only(cls):
            cls.forward = lambda self, x: self.conv(x)
            return cls

        Plain = conv_only(type("Plain", (Net,), {}))
        model = Plain()
        """,
        tags=("route2", "adversarial"),
    ),
    Case(
        "route2_decorated_class",
        """
        import torch
        import torch.nn as nn

        def conv_only(cls):
            cls.forward = lambda self, x: self.conv(x)
            return cls

        @conv_only
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)

            def forward(self, x):
                return self.bn(self.conv(x))

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route2", "adversarial"),
    ),
    net_case(
        "route2_instance_class_swapped",
        """
        class Plain(nn.Module):
            def forward(self, x):
                return self.conv(x)

        model = Net()
        model.__class__ = Plain
        """,
        tags=("route2", "adversarial"),
    ),
    Case(
        "route2_mixin_after_sequential",
        """
        import torch
        import torch.nn as nn

        class Mixin:
            def forward(self, x):
                return self[0](x)

        class Block(nn.Sequential, Mixin):
            def __init__(self):
                super().__init__(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))

        model = Block()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route2",),
    ),
    # ------------------------------------ route 3: containers changed afterwards
    Case(
        "route3_item_replaced",
        """
        import torch
        import torch.nn as nn

        model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
        model[1] = nn.GroupNorm(2, 8)
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route3",),
    ),
    Case(
        "route3_item_inserted",
        """
        import torch
        import torch.nn as nn

        model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
        model.insert(1, nn.ReLU())
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route3",),
    ),
    Case(
        "route3_item_deleted",
        """
        import torch
        import torch.nn as nn

        model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
        del model[1]
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route3",),
    ),
    Case(
        "route3_named_item_replaced",
        """
        import torch
        import torch.nn as nn
        from collections import OrderedDict

        model = nn.Sequential(OrderedDict(conv=nn.Conv2d(3, 8, 3), bn=nn.BatchNorm2d(8)))
        model.bn = nn.Identity()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route3",),
    ),
    Case(
        "route3_duplicate_key",
        """
        import torch
        import torch.nn as nn
        from collections import OrderedDict

        model = nn.Sequential(
            OrderedDict(
                [
                    ("conv", nn.Conv2d(3, 8, 3)),
                    ("bn", nn.BatchNorm2d(8)),
                    ("relu", nn.ReLU()),
                    ("bn", nn.Identity()),
                ]
            )
        )
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route3",),
    ),
    Case(
        "route3_duplicate_key_in_a_dict_display",
        """
        import torch
        import torch.nn as nn

        from collections import OrderedDict

        model = nn.Sequential(
            OrderedDict({"conv": nn.Conv2d(3, 8, 3), "bn": nn.BatchNorm2d(8), "bn": nn.Identity()})
        )
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route3",),
    ),
    Case(
        "route3_item_popped",
        """
        import torch
        import torch.nn as nn

        model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU())
        model.pop(1)
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route3",),
    ),
    Case(
        "route3_appending_keeps_the_pair",
        """
        import torch
        import torch.nn as nn

        model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))  # expect: CBL001
        model.append(nn.ReLU())
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route3",),
    ),
    # -------------------------------------- route 4: the norm replaced from outside
    net_case(
        "route4_norm_replaced_on_the_instance",
        """
        model = Net()
        model.bn = nn.Identity()
        """,
        tags=("route4",),
    ),
    Case(
        "route4_norm_replaced_through_an_alias_of_self",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)
                m = self
                m.bn = nn.Identity()

            def forward(self, x):
                return self.bn(self.conv(x))

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route4",),
    ),
    Case(
        "route4_norm_class_rebound",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)

            def forward(self, x):
                return self.bn(self.conv(x))

        class Scale(nn.Module):
            def __init__(self, c):
                super().__init__()

            def forward(self, x):
                return x * 2

        original = nn.BatchNorm2d
        nn.BatchNorm2d = Scale
        model = Net()
        nn.BatchNorm2d = original
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route4",),
    ),
    Case(
        "route4_imported_norm_name_rebound",
        """
        import torch
        import torch.nn as nn
        from torch.nn import BatchNorm2d

        class Scale(nn.Module):
            def __init__(self, c):
                super().__init__()

            def forward(self, x):
                return x * 2

        BatchNorm2d = Scale

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = BatchNorm2d(8)

            def forward(self, x):
                return self.bn(self.conv(x))

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route4", "adversarial"),
    ),
    net_case(
        "route4_norm_replaced_with_setattr",
        """
        model = Net()
        setattr(model, "bn", nn.Identity())
        """,
        tags=("route4", "adversarial"),
    ),
    net_case(
        "route4_norm_replaced_in_the_module_table",
        """
        model = Net()
        model._modules["bn"] = nn.Identity()
        """,
        tags=("route4", "adversarial"),
    ),
    net_case(
        "route4_norm_replaced_by_another_method",
        """
        def reset(self):
            self.bn = nn.Identity()

        Net.reset = reset
        model = Net()
        model.reset()
        """,
        tags=("route4", "adversarial"),
    ),
    Case(
        "route4_norm_replaced_in_a_later_method",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)

            def forward(self, x):
                return self.bn(self.conv(x))

            def fuse_norm(self):
                self.bn = nn.Identity()

        model = Net()
        model.fuse_norm()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route4", "adversarial"),
    ),
    net_case(
        "route4_norm_replaced_by_a_subclass",
        """
        class Sub(Net):
            def __init__(self):
                super().__init__()
                self.bn = nn.Identity()

        model = Sub()
        """,
        tags=("route4", "adversarial"),
    ),
    net_case(
        "route4_one_instance_of_two_changed",
        """
        a, b = Net(), Net()
        b.bn = nn.Identity()
        model = nn.Sequential(a, nn.Conv2d(8, 3, 1), b)
        """,
        tags=("route4", "adversarial"),
    ),
    net_case(
        "route4_norm_forward_replaced_on_the_instance",
        """
        model = Net()
        model.bn.forward = lambda x: x
        """,
        tags=("route4", "adversarial"),
    ),
    net_case(
        "route4_the_norm_class_patched",
        """
        torch.nn.BatchNorm2d.forward = lambda self, x: x
        model = Net()
        """,
        runnable=False,  # patches torch for the rest of the process
        tags=("route4", "adversarial"),
    ),
    # ----------------------------------------------------------- route 5: hooks
    Case(
        "route5_forward_hook_on_the_conv",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)
                self.conv.register_forward_hook(lambda m, i, out: torch.relu(out))

            def forward(self, x):
                return self.bn(self.conv(x))

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route5",),
    ),
    net_case(
        "route5_pre_hook_on_the_norm",
        """
        model = Net()
        model.bn.register_forward_pre_hook(lambda m, args: (torch.relu(args[0]),))
        """,
        tags=("route5",),
    ),
    net_case(
        "route5_hooks_in_a_loop_over_modules",
        """
        def add_hooks(net):
            for m in net.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.register_forward_pre_hook(lambda m, args: (torch.relu(args[0]),))

        model = Net()
        add_hooks(model)
        """,
        tags=("route5",),
    ),
    Case(
        "route5_hook_through_a_local_alias",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)
                conv = self.conv
                conv.register_forward_hook(lambda m, i, out: torch.relu(out))

            def forward(self, x):
                return self.bn(self.conv(x))

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route5", "adversarial"),
    ),
    net_case(
        "route5_hook_through_a_dynamic_getattr",
        """
        model = Net()
        name = "con" + "v"
        getattr(model, name).register_forward_hook(lambda m, i, out: torch.relu(out))
        """,
        tags=("route5", "adversarial"),
    ),
    net_case(
        "route5_global_forward_hook",
        """
        torch.nn.modules.module.register_module_forward_hook(
            lambda m, i, out: torch.relu(out) if isinstance(m, nn.Conv2d) else out
        )
        model = Net()
        """,
        runnable=False,  # would hook every module of the test process
        tags=("route5",),
    ),
    # ------------------------------------------------------ route 6: frozen norms
    Case(
        "route6_train_overridden_to_freeze_the_norm",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)

            def forward(self, x):
                return self.bn(self.conv(x))

            def train(self, mode=True):
                super().train(mode)
                self.bn.eval()
                return self

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route6",),
    ),
    Case(
        "route6_detection_style_freeze_loop",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)

            def forward(self, x):
                return self.bn(self.conv(x))

            def train(self, mode=True):
                super().train(mode)
                for m in self.modules():
                    if isinstance(m, nn.BatchNorm2d):
                        m.eval()
                        m.weight.requires_grad_(False)
                        m.bias.requires_grad_(False)
                return self

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route6",),
    ),
    Case(
        "route6_freeze_through_apply",
        """
        import torch
        import torch.nn as nn

        def freeze(m):
            if isinstance(m, nn.BatchNorm2d):
                m.eval()

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)

            def forward(self, x):
                return self.bn(self.conv(x))

            def train(self, mode=True):
                super().train(mode)
                self.apply(freeze)
                return self

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route6",),
    ),
    Case(
        "route6_norm_set_to_eval_in_forward",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)

            def forward(self, x):
                self.bn.training = False
                return self.bn(self.conv(x))

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route6", "adversarial"),
    ),
    Case(
        "route6_norm_that_never_updates",
        """
        import torch
        import torch.nn as nn

        model = nn.Sequential(
            nn.Conv2d(3, 8, 3),
            nn.BatchNorm2d(8, momentum=0),
            nn.ReLU(),
            nn.Conv2d(8, 8, 3),
            nn.InstanceNorm2d(8, track_running_stats=True, momentum=None),
            nn.ReLU(),
            nn.Conv2d(8, 8, 1),  # expect: CBL001
            nn.InstanceNorm2d(8, momentum=None),
            nn.Conv2d(8, 8, 1),  # expect: CBL001
            nn.BatchNorm2d(8, momentum=None),
        )
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route6",),
    ),
    Case(
        "route6_momentum_not_a_constant",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self, momentum=0.1):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8, momentum=momentum)

            def forward(self, x):
                return self.bn(self.conv(x))

        model = Net(momentum=0.0)
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route6",),
    ),
    Case(
        "route6_statistics_switched_off_later",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)
                self.conv2 = nn.Conv2d(8, 8, 1)
                self.bn2 = nn.BatchNorm2d(8)
                self.bn.momentum = 0
                self.bn2.track_running_stats = False

            def forward(self, x):
                return self.bn2(self.conv2(self.bn(self.conv(x))))

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route6", "adversarial"),
    ),
    Case(
        "route6_whole_model_eval_and_frozen_parameters_keep_cancelling",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)  # expect: CBL001
                self.bn = nn.BatchNorm2d(8)
                self.bn.weight.requires_grad_(False)
                self.bn.bias.requires_grad = False
                self.bn.eps = 1e-3
                self.eval()

            def forward(self, x):
                return self.bn(self.conv(x))

        model = Net()
        model.train()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route6",),
    ),
    # ------------------------------------------------- route 7: the bias read
    net_case(
        "route7_bias_added_back_in_forward",
        """
        class Reads(Net):
            def forward(self, x):
                return self.bn(self.conv(x)) + self.conv.bias.view(1, -1, 1, 1)

        model = Reads()
        """,
        tags=("route7",),
    ),
    Case(
        "route7_bias_read_by_a_helper_method",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)

            def offset(self):
                return self.conv.bias.sum()

            def forward(self, x):
                return self.bn(self.conv(x)) * self.offset()

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route7",),
    ),
    Case(
        "route7_bias_kept_in_another_attribute",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)
                self.shift = self.conv.bias

            def forward(self, x):
                return self.bn(self.conv(x)) + self.shift.view(1, -1, 1, 1)

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route7", "adversarial"),
    ),
    Case(
        "route7_parameters_read_in_forward",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)

            def forward(self, x):
                penalty = sum(p.pow(2).sum() for p in self.parameters())
                return self.bn(self.conv(x)) * penalty

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route7", "adversarial"),
    ),
    Case(
        "route7_reads_that_do_not_reach_the_output",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)  # expect: CBL001
                self.bn = nn.BatchNorm2d(8)
                nn.init.zeros_(self.conv.bias)
                self.conv.bias.data.fill_(0.5)

            def forward(self, x):
                if self.conv.bias is not None and self.conv.bias.dtype == x.dtype:
                    x = x * 1
                return self.bn(self.conv(x))

            def fuse(self):
                w = self.conv.weight * self.bn.weight.view(-1, 1, 1, 1)
                b = self.conv.bias - self.bn.running_mean
                return w, b

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route7",),
    ),
    # -------------------------------- route 8: Linear -> BatchNorm1d, not 2-D
    Case(
        "route8_three_dimensional_view",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(8, 8)
                self.bn = nn.BatchNorm1d(8)

            def forward(self, x):
                x = x.view(2, 8, 8)
                return self.bn(self.fc(x))

        model = Net()
        inputs = (torch.randn(2, 64),)
        """,
        tags=("route8",),
    ),
    Case(
        "route8_transposed_input",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(8, 8)
                self.bn = nn.BatchNorm1d(8)

            def forward(self, x):
                return self.bn(self.fc(x.transpose(1, 2)))

        model = Net()
        inputs = (torch.randn(2, 8, 8),)
        """,
        tags=("route8",),
    ),
    Case(
        "route8_sequence_model_output",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = nn.LSTM(4, 8, batch_first=True)
                self.fc = nn.Linear(8, 8)
                self.bn = nn.BatchNorm1d(8)

            def forward(self, x):
                out, _ = self.rnn(x)
                return self.bn(self.fc(out))

        model = Net()
        inputs = (torch.randn(2, 8, 4),)
        """,
        tags=("route8",),
    ),
    Case(
        "route8_embedding_in_a_sequential",
        """
        import torch
        import torch.nn as nn

        model = nn.Sequential(nn.Embedding(10, 8), nn.Linear(8, 8), nn.BatchNorm1d(8))
        inputs = (torch.randint(0, 10, (2, 8)),)
        """,
        tags=("route8",),
    ),
    Case(
        "route8_flattened_input_is_two_dimensional",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(64, 8)  # expect: CBL002
                self.bn = nn.BatchNorm1d(8)

            def forward(self, x):
                x = x.view(2, 64)
                return self.bn(self.fc(x.flatten(1)))

        model = Net()
        inputs = (torch.randn(2, 8, 8),)
        """,
        tags=("route8",),
    ),
    # ------------------------------------- shared norms (beyond the issue)
    Case(
        "shared_norm_after_two_convs",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(3, 8, 3)
                self.conv2 = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)

            def forward(self, x):
                return self.bn(self.conv1(x)) + self.bn(self.conv2(x))

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("adversarial",),
    ),
    Case(
        "shared_norm_also_on_the_raw_input",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(8, 8, 3, padding=1)
                self.bn = nn.BatchNorm2d(8)

            def forward(self, x):
                return self.bn(self.conv(x)) + self.bn(x)

        model = Net()
        inputs = (torch.randn(2, 8, 6, 6),)
        """,
        tags=("adversarial",),
    ),
    Case(
        "shared_norm_after_the_same_conv",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)  # expect: CBL001
                self.bn = nn.BatchNorm2d(8)

            def forward(self, x, y):
                return self.bn(self.conv(x)) + self.bn(self.conv(y))

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8), torch.randn(2, 3, 8, 8))
        """,
        tags=("adversarial",),
    ),
    # ------------------------------------------ dynamic Python (beyond the issue)
    Case(
        "dynamic_setattr_override",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)

            def __setattr__(self, name, value):
                if name == "bn":
                    value = nn.Identity()
                super().__setattr__(name, value)

            def forward(self, x):
                return self.bn(self.conv(x))

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("adversarial",),
    ),
    Case(
        "dynamic_getattr_override",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)

            def __getattr__(self, name):
                if name == "bn":
                    return nn.Identity()
                return super().__getattr__(name)

            def forward(self, x):
                return self.bn(self.conv(x))

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("adversarial",),
    ),
    Case(
        "dynamic_property_shadows_the_norm",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)

            @property
            def bn(self):
                return nn.Identity()

            @bn.setter
            def bn(self, value):
                pass

            def forward(self, x):
                return self.bn(self.conv(x))

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("adversarial",),
    ),
    Case(
        "dynamic_class_attribute_shadows_the_norm",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)

            def forward(self, x):
                return self.bn(self.conv(x))

        class Sub(Net):
            def bn(self, x):
                return x

        model = Sub()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("adversarial",),
    ),
    net_case(
        "dynamic_exec",
        """
        model = Net()
        exec("model.bn = nn.Identity()")
        """,
        tags=("adversarial",),
    ),
    net_case(
        "dynamic_globals",
        """
        globals()["Net"].forward = lambda self, x: self.conv(x)
        model = Net()
        """,
        tags=("adversarial",),
    ),
    net_case(
        "dynamic_vars",
        """
        model = Net()
        vars(model)["_modules"]["bn"] = nn.Identity()
        """,
        tags=("adversarial",),
    ),
    net_case(
        "dynamic_metaclass",
        """
        class Meta(type):
            def __call__(cls, *args, **kwargs):
                obj = super().__call__(*args, **kwargs)
                obj.bn = nn.Identity()
                return obj

        class Built(Net, metaclass=Meta):
            pass

        model = Built()
        """,
        tags=("adversarial",),
    ),
    net_case(
        "dynamic_deepcopy_of_a_changed_model",
        """
        import copy

        net = Net()
        net.bn = nn.Identity()
        model = copy.deepcopy(net)
        """,
        runnable=False,  # the copy's modules are not the ones built: nothing to tie
        tags=("adversarial",),
    ),
    net_case(
        "dynamic_copy_rebuilt_with_an_extra_layer",
        """
        net = Net()
        layers = list(net.children())
        layers.insert(1, nn.ReLU())
        model = nn.Sequential(*layers)
        """,
        tags=("adversarial",),
    ),
    net_case(
        "dynamic_deepcopy_of_an_unchanged_model",
        """
        import copy

        model = copy.deepcopy(Net())
        """,
        flagged=True,
        runnable=False,  # the copy's modules are not the ones built: nothing to tie
        tags=("adversarial",),
    ),
]

# ------------------------------------------------- found by the lead's evaluation and beyond
SOUND_CASES += [
    net_case(
        "route1_registry_subscripted_on_self",
        """
        class Both(Net):
            def forward(self, x):
                return self.bn(self.conv(x)), self._modules["conv"](x)

        model = Both()
        """,
        tags=("route1", "adversarial"),
    ),
    net_case(
        "route1_registry_values_iterated_on_self",
        """
        class Both(Net):
            def forward(self, x):
                extra = [m(x) for m in self._modules.values() if isinstance(m, nn.Conv2d)]
                return self.bn(self.conv(x)), extra

        model = Both()
        """,
        tags=("route1", "adversarial"),
    ),
    net_case(
        "route1_registry_through_the_instance_dict",
        """
        class Both(Net):
            def forward(self, x):
                return self.bn(self.conv(x)) + self.__dict__["_modules"]["conv"](x).mean()

        model = Both()
        """,
        tags=("route1", "adversarial"),
    ),
    net_case(
        "route1_registry_of_a_held_instance",
        """
        class Head(nn.Module):
            def __init__(self):
                super().__init__()
                self.net = Net()

            def forward(self, x):
                return self.net(x) + self.net._modules["conv"](x).mean()

        model = Head()
        """,
        tags=("route1", "adversarial"),
    ),
    net_case(
        "route1_registry_read_by_a_helper",
        """
        def peek(m, x):
            return m._modules["conv"](x).mean()

        class Head(Net):
            def forward(self, x):
                return self.bn(self.conv(x)) + peek(self, x)

        model = Head()
        """,
        tags=("route1", "adversarial"),
    ),
    Case(
        "route1_container_unpacked",
        """
        import torch
        import torch.nn as nn

        class Head(nn.Module):
            def __init__(self):
                super().__init__()
                self.seq = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))

            def forward(self, x):
                fc, bn = self.seq
                return self.seq(x) + fc(x).mean()

        model = Head()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route1", "adversarial"),
    ),
    Case(
        "route2_decorator_sets_a_forward",
        """
        import torch
        import torch.nn as nn

        def conv_only(cls):
            def forward(self, x):
                return self.conv(x)
            cls.forward = forward
            return cls

        @conv_only
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)

            def forward(self, x):
                return self.bn(self.conv(x))

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route2", "adversarial"),
    ),
    Case(
        "route2_decorator_freezes_the_norm_in_train",
        """
        import torch
        import torch.nn as nn

        def frozen(cls):
            base = cls.train
            def train(self, mode=True):
                base(self, mode)
                self.bn.eval()
                return self
            cls.train = train
            return cls

        @frozen
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)

            def forward(self, x):
                return self.bn(self.conv(x))

        model = Net()
        model.train()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route2", "route6", "adversarial"),
    ),
    Case(
        "route2_decorator_returns_a_subclass",
        """
        import torch
        import torch.nn as nn

        def wrap(cls):
            class Wrapped(cls):
                def forward(self, x):
                    return self.conv(x)
            return Wrapped

        @wrap
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)

            def forward(self, x):
                return self.bn(self.conv(x))

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route2", "adversarial"),
    ),
    net_case(
        "route2_decorator_on_the_class_holding_it",
        """
        def peek(cls):
            old = cls.forward
            def forward(self, x):
                return old(self, x) + self.inner.conv(x).mean()
            cls.forward = forward
            return cls

        @peek
        class Outer(nn.Module):
            def __init__(self):
                super().__init__()
                self.inner = Net()

            def forward(self, x):
                return self.inner(x)

        model = Outer()
        """,
        tags=("route2", "adversarial"),
    ),
    Case(
        "route2_registry_decorator_from_another_package",
        """
        import torch
        import torch.nn as nn
        from mylib.registry import MODELS

        @MODELS.register_module()
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)  # expect: CBL001
                self.bn = nn.BatchNorm2d(8)

            def forward(self, x):
                return self.bn(self.conv(x))
        """,
        runnable=False,  # (mylib is code outside the file: taken to return the class)
        tags=("route2",),
    ),
    Case(
        "route3_class_attribute_container",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            body = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))

            def forward(self, x):
                return self.body(x) + Net.body[0](x).mean()

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route3", "adversarial"),
    ),
    Case(
        "route3_class_attribute_layers",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            conv = nn.Conv2d(3, 8, 3)
            bn = nn.BatchNorm2d(8)

            def forward(self, x):
                return self.bn(self.conv(x)) + type(self).conv(x).mean()

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route3", "adversarial"),
    ),
    Case(
        "route6_local_container_frozen_by_a_modules_loop",
        """
        import torch
        import torch.nn as nn

        def build():
            seq = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
            for m in seq.modules():
                m.eval()
            return seq

        model = build()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route6", "adversarial"),
    ),
    Case(
        "route4_norm_name_rebound_by_a_def",
        """
        import torch
        import torch.nn as nn
        from torch.nn import BatchNorm2d

        def BatchNorm2d(c):
            return nn.Identity()

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = BatchNorm2d(8)

            def forward(self, x):
                return self.bn(self.conv(x))

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route4", "adversarial"),
    ),
    Case(
        "adversarial_other_branch_is_not_followed",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self, shuffle=True):
                super().__init__()
                self.conv = nn.Conv2d(3, 32 if shuffle else 8, 3)
                self.shuffle = nn.PixelShuffle(2) if shuffle else nn.Identity()
                self.norm = nn.InstanceNorm2d(8)

            def forward(self, x):
                return self.norm(self.shuffle(self.conv(x)))

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("adversarial",),
    ),
    Case(
        "outside_code_uses_a_model_as_a_whole",
        """
        import torch
        import torch.nn as nn
        from mytraining import fit

        model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))  # expect: CBL001
        fit(model)
        """,
        runnable=False,  # (mytraining is code outside the file)
        tags=("adversarial",),
    ),
    Case(
        "outside_code_hands_the_model_back",
        """
        import torch
        import torch.nn as nn
        from mytraining import prepare

        seq = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
        ready = prepare(seq)
        y = ready[0](torch.randn(2, 3, 8, 8))
        """,
        runnable=False,  # (mytraining is code outside the file)
        tags=("adversarial",),
    ),
    Case(
        "module_level_model_used_in_a_function",
        """
        import torch
        import torch.nn as nn

        model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))  # expect: CBL001

        def main():
            return model(torch.randn(2, 3, 8, 8))

        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("adversarial",),
    ),
    Case(
        "module_level_model_indexed_in_a_function",
        """
        import torch
        import torch.nn as nn

        body = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = body

            def forward(self, x):
                return self.body(x) + stem(x)

        def stem(x):
            return body[0](x).mean()

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route1", "adversarial"),
    ),
    # ----------------------------------- the norm's running statistics (adversarial)
    Case(
        "running_mean_read_in_forward",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)

            def forward(self, x):
                # The running mean learns the bias: it reaches the output through it.
                return self.bn(self.conv(x)), self.bn.running_mean * 1

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("adversarial",),
    ),
    Case(
        "running_statistics_reset_in_forward",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)

            def forward(self, x):
                if not self.training:
                    self.bn.reset_running_stats()  # eval mode forgets what training learned
                return self.bn(self.conv(x))

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route6", "adversarial"),
    ),
    Case(
        "running_mean_zeroed_by_an_eval_override",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)

            def train(self, mode=True):
                super().train(mode)
                if not mode:
                    self.bn.running_mean.zero_()
                return self

            def forward(self, x):
                return self.bn(self.conv(x))

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route6", "adversarial"),
    ),
    Case(
        "running_mean_written_in_forward_through_the_buffers",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)

            def forward(self, x):
                if not self.training:
                    for b in self.bn.buffers():
                        if b.dim() == 1:
                            b.fill_(0.5)
                return self.bn(self.conv(x))

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route6", "adversarial"),
    ),
    Case(
        "running_statistics_reset_at_construction_or_read_outside_forward",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)  # expect: CBL001
                self.bn = nn.BatchNorm2d(8)
                self.bn.reset_running_stats()
                self.bn.running_mean.zero_()
                self.bn.running_mean = torch.zeros(8)

            def forward(self, x):
                return self.bn(self.conv(x))

        def report(net):
            return net.state_dict(), net.bn.running_mean.clone()

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("adversarial",),
    ),
    # ------------- an instance handed to a function of the framework (adversarial)
    Case(
        "instance_handed_to_fuse_modules",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)

            def forward(self, x):
                return self.bn(self.conv(x))

        # fuse_modules reaches the submodules by name: the norm is folded into the
        # conv with its running statistics, and the bias with them.
        model = torch.ao.quantization.fuse_modules(Net().eval(), [["conv", "bn"]])
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route4", "adversarial"),
    ),
    Case(
        "instance_handed_to_functional_call_with_buffers",
        """
        import torch
        import torch.nn as nn
        from torch.func import functional_call

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)

            def forward(self, x):
                return self.bn(self.conv(x))

        class Wrap(nn.Module):
            def __init__(self):
                super().__init__()
                self.net = Net()

            def forward(self, x):
                if self.training:
                    return self.net(x)
                return functional_call(self.net, {"bn.running_mean": torch.zeros(8)}, (x,))

        model = Wrap()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("adversarial",),
    ),
    Case(
        "torchvision_getter_reaches_layers_by_name",
        """
        import torch.nn as nn
        from torchvision.models._utils import IntermediateLayerGetter

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)

            def forward(self, x):
                return self.bn(self.conv(x))

        body = IntermediateLayerGetter(Net(), return_layers={"conv": "out"})
        """,
        runnable=False,  # (torchvision is not a test dependency)
        tags=("route1", "adversarial"),
    ),
    Case(
        "state_loaded_in_forward",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)

            def forward(self, x):
                return self.bn(self.conv(x))

        class Wrap(nn.Module):
            def __init__(self):
                super().__init__()
                self.net = Net()

            def forward(self, x):
                if not self.training:  # the running mean training learned is replaced
                    self.net.load_state_dict({"bn.running_mean": torch.zeros(8)}, strict=False)
                return self.net(x)

        model = Wrap()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route6", "adversarial"),
    ),
    Case(
        "instance_wrapped_compiled_saved_or_loaded_is_used_whole",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)  # expect: CBL001
                self.bn = nn.BatchNorm2d(8)

            def forward(self, x):
                return self.bn(self.conv(x))

        net = Net()
        net.load_state_dict(net.state_dict())
        torch.save(net.state_dict(), "/dev/null")
        wrapped = torch.nn.DataParallel(net)
        compiled = torch.compile(net)
        model = net
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("adversarial",),
    ),
    # ---------------------------------- code of the file around a class (adversarial)
    Case(
        "method_decorator_of_the_file_replaces_forward",
        """
        import torch
        import torch.nn as nn

        def skip_norm(f):
            def run(self, x):
                return self.conv(x)
            return run

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)

            @skip_norm
            def forward(self, x):
                return self.bn(self.conv(x))

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route2", "adversarial"),
    ),
    Case(
        "method_decorators_that_keep_the_method",
        """
        import functools

        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)  # expect: CBL001
                self.bn = nn.BatchNorm2d(8)

            @property
            def width(self):
                return 8

            @width.setter
            def width(self, value):
                pass

            @staticmethod
            def helper():
                return 1

            @functools.lru_cache
            def meta(self):
                return 1

            @torch.no_grad()
            def predict(self, x):
                return self(x)

            def forward(self, x):
                return self.bn(self.conv(x))

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("adversarial",),
    ),
    Case(
        "norm_patched_through_sys_modules_or_importlib",
        """
        import importlib
        import sys

        import torch.nn as nn

        def identity(self, x):
            return x

        sys.modules["torch.nn"].BatchNorm2d.forward = identity
        a = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
        importlib.import_module("torch.nn").InstanceNorm2d = nn.Identity
        b = nn.Sequential(nn.Conv2d(3, 8, 3), nn.InstanceNorm2d(8))
        """,
        runnable=False,  # patches torch for the rest of the process
        tags=("route4", "adversarial"),
    ),
    # ------------------------------------------------ nothing undoes these (adversarial)
    Case(
        "frozen_parameters_and_momenta_that_still_cancel",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)  # expect: CBL001
                self.bn = nn.BatchNorm2d(8)

            def forward(self, x):
                return self.bn(self.conv(x))

        class Wrap(nn.Module):
            def __init__(self):
                super().__init__()
                self.net = Net()
                # momentum=1: the running mean is the last batch's mean, which holds the bias.
                self.one = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8, momentum=1.0))  # expect: CBL001
                # No running statistics: eval mode normalizes with the batch's own.
                self.batch = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8, track_running_stats=False))  # expect: CBL001

            def forward(self, x):
                return self.net(x) + self.one(x) + self.batch(x)

        model = Wrap()
        # A frozen bias stays a per-channel constant; a norm whose scale and offset
        # are frozen still subtracts the batch mean.
        for name, p in model.named_parameters():
            if name.endswith("bias") or ".bn." in name:
                p.requires_grad_(False)
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route6", "adversarial"),
    ),
    Case(
        "container_built_on_either_path_then_appended",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self, flag=True):
                super().__init__()
                # (An internal error before: one of two containers being filled.)
                if flag:
                    self.seq = nn.Sequential()
                else:
                    self.seq = nn.Sequential()
                self.seq.append(nn.Conv2d(3, 8, 3))
                self.seq.append(nn.BatchNorm2d(8))

            def forward(self, x):
                return self.seq(x)

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        bias_may_not_matter=True,  # (silent: a miss, not a trap)
        tags=("adversarial",),
    ),
    Case(
        "container_item_replaced_by_add_module_with_its_name",
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential()
                self.body.add_module("conv", nn.Conv2d(3, 8, 3))
                self.body.add_module("bn", nn.BatchNorm2d(8))
                self.body.add_module("bn", nn.Tanh())  # replaces the norm in place
                self.tail = nn.Sequential()
                self.tail.add_module("conv", nn.Conv2d(3, 8, 3))  # expect: CBL001
                self.tail.add_module("bn", nn.BatchNorm2d(8))

            def forward(self, x):
                return self.body(x) + self.tail(x)

        model = Net()
        inputs = (torch.randn(2, 3, 8, 8),)
        """,
        tags=("route3", "adversarial"),
    ),
    Case(
        "container_append_named_like_an_earlier_item",
        """
        import torch.nn as nn

        seq = nn.Sequential()
        seq.add_module("0", nn.Conv2d(3, 8, 3))
        seq.add_module("1", nn.Identity())
        seq.append(nn.BatchNorm2d(8))  # named str(len(seq)) == "2"
        other = nn.Sequential()
        other.add_module("1", nn.Conv2d(3, 8, 3))
        other.append(nn.Conv2d(8, 8, 1))  # named "1": replaces the first conv
        other.append(nn.BatchNorm2d(8))
        """,
        runnable=False,
        tags=("route3", "adversarial"),
    ),
]
