"""``convbnlint.migrate``: old checkpoints load strictly into the fixed model, outputs identical.

Every wiring test builds the old model (biases on) and the fixed one (biases
off where a fix would remove them) from the same code, randomises every weight
and running statistic in float64, migrates the old ``state_dict``, loads it with
``strict=True`` and compares eval- and train-mode outputs (max |diff| <= 1e-9).
The command line is tested in ``tests/test_migrate_cli.py``; the whole workflow
from a real ``--fix`` in ``tests/test_migrate_proof.py``.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Iterator

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    torch = pytest.importorskip("torch")

import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from convbnlint.migrate import (  # noqa: E402
    MigrationError,
    accept_old_checkpoints,
    describe,
    migrate_state_dict,
    plan,
)
from tests import migrate_util as mu  # noqa: E402


@pytest.fixture(autouse=True)
def _float64() -> Iterator[None]:
    with mu.float64():
        yield


def image(n: int = 4, c: int = 3, size: int = 8) -> tuple[torch.Tensor]:
    return (torch.randn(n, c, size, size, generator=torch.Generator().manual_seed(3)),)


def carry_over(factory, inputs, **expect):  # type: ignore[no-untyped-def]
    """Old (bias on) -> migrate -> fixed (bias off): same outputs; returns the plan."""
    old = mu.randomize(mu.build(lambda: factory(True), inputs))
    new = mu.build(lambda: factory(False), inputs)
    before = {k: v.clone() for k, v in old.state_dict().items()}
    sd = old.state_dict()
    found = plan(new, sd)
    # The input was not touched.
    assert list(sd) == list(before) and all(torch.equal(sd[k], before[k]) for k in sd)
    new.load_state_dict(found.state_dict, strict=True)
    mu.assert_same(old, new, inputs)
    if "removed" in expect:
        assert set(found.removed) == set(expect["removed"])
    if "changed" in expect:
        assert {k: describe(t) for k, t in found.changed} == expect["changed"]
    return found


# ------------------------------------------------------------------ wirings


def test_sequential() -> None:
    def factory(bias: bool) -> nn.Module:
        return nn.Sequential(
            nn.Conv2d(3, 4, 3, bias=bias),
            nn.BatchNorm2d(4),
            nn.ReLU(),
            nn.Conv2d(4, 5, 3, bias=bias),
            nn.BatchNorm2d(5),
        )

    carry_over(
        factory,
        image(),
        removed={"0.bias", "3.bias"},
        changed={"1.running_mean": "0.bias", "4.running_mean": "3.bias"},
    )


class Chained(nn.Module):
    def __init__(self, bias: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, padding=1, bias=bias)
        self.bn = nn.BatchNorm2d(6)
        self.proj = nn.ConvTranspose2d(6, 4, 2, stride=2, bias=bias)
        self.norm = nn.BatchNorm2d(4, momentum=None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        y = F.relu(self.bn(y))
        return self.norm(self.proj(y))


def test_attributes_chained_in_forward() -> None:
    carry_over(
        Chained,
        image(),
        changed={"bn.running_mean": "conv.bias", "norm.running_mean": "proj.bias"},
    )


class BasicBlock(nn.Module):
    def __init__(self, bias: bool, cin: int = 3, cout: int = 6) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=2, padding=1, bias=bias)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=bias)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride=2, bias=bias), nn.BatchNorm2d(cout)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.downsample(x))


def test_residual_block() -> None:
    carry_over(
        lambda bias: nn.Sequential(BasicBlock(bias), BasicBlock(bias, 6, 6)),
        image(),
        removed={f"{b}.{k}.bias" for b in "01" for k in ("conv1", "conv2", "downsample.0")},
    )


class Pools(nn.Module):
    def __init__(self, bias: bool) -> None:
        super().__init__()
        self.c = nn.ModuleList(nn.Conv2d(3, 3, 3, padding=1, bias=bias) for _ in range(8))
        self.n = nn.ModuleList(nn.BatchNorm2d(3) for _ in range(8))
        self.pools = nn.ModuleList(
            [
                nn.MaxPool2d(2),
                nn.AvgPool2d(2),
                nn.AdaptiveAvgPool2d(3),
                nn.Upsample(scale_factor=2, mode="bilinear"),
                nn.Identity(),
            ]
        )

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        out = [self.n[i](pool(self.c[i](x))) for i, pool in enumerate(self.pools)]
        out.append(self.n[5](F.max_pool2d(self.c[5](x), 2)))
        out.append(self.n[6](F.interpolate(self.c[6](x), scale_factor=2.0, mode="nearest")))
        out.append(self.n[7](F.adaptive_max_pool2d(self.c[7](x), 2).contiguous()))
        return out


def test_pooling_and_resampling_between() -> None:
    found = carry_over(Pools, image())
    assert len(found.removed) == len(found.changed) == 8


class InstanceNorms(nn.Module):
    def __init__(self, bias: bool) -> None:
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, bias=bias)
        self.plain = nn.InstanceNorm2d(4)  # no running statistics: nothing to fold
        self.b = nn.Conv2d(3, 4, 3, bias=bias)
        self.tracked = nn.InstanceNorm2d(4, affine=True, track_running_stats=True)
        self.c = nn.Conv1d(3, 5, 3, bias=bias)
        self.one = nn.InstanceNorm1d(5, track_running_stats=True)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return self.plain(self.a(x)), self.tracked(self.b(x)), self.one(self.c(x.flatten(2)))


def test_instance_norm_with_and_without_running_stats() -> None:
    carry_over(
        InstanceNorms,
        image(),
        removed={"a.bias", "b.bias", "c.bias"},
        changed={"tracked.running_mean": "b.bias", "one.running_mean": "c.bias"},
    )


def test_linear_into_batchnorm1d() -> None:
    def factory(bias: bool) -> nn.Module:
        return nn.Sequential(
            nn.Linear(6, 5, bias=bias),
            nn.BatchNorm1d(5),
            nn.ReLU(),
            nn.LazyLinear(4, bias=bias),
            nn.SyncBatchNorm(4),
        )

    found = carry_over(factory, (torch.randn(8, 6),))
    assert found.removed == ("0.bias", "3.bias")


def test_flatten_into_batchnorm1d() -> None:
    def factory(bias: bool) -> nn.Module:
        return nn.Sequential(
            nn.Conv2d(3, 4, 3, bias=bias), nn.MaxPool2d(2), nn.Flatten(), nn.BatchNorm1d(4 * 3 * 3)
        )

    found = carry_over(factory, image())
    assert (
        describe(found.changed[0][1])
        == "0.bias (each channel repeated over the flattened positions)"
    )


class VGG(nn.Module):
    """``bias=not batch_norm`` (what the CBL003 fix writes), built both ways."""

    def __init__(self, bias_on: bool, batch_norm: bool) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = 3
        for v in (4, "M", 6):
            if v == "M":
                layers.append(nn.MaxPool2d(2))
                continue
            conv = nn.Conv2d(cin, v, 3, padding=1, bias=bias_on or not batch_norm)
            layers += [conv, nn.BatchNorm2d(v), nn.ReLU()] if batch_norm else [conv, nn.ReLU()]
            cin = v
        self.features = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)


def test_conditional_fix_built_with_the_norm() -> None:
    carry_over(
        lambda bias: VGG(bias, batch_norm=True),
        image(),
        removed={"features.0.bias", "features.4.bias"},
    )


def test_conditional_fix_built_without_the_norm_keeps_every_key() -> None:
    found = carry_over(lambda bias: VGG(bias, batch_norm=False), image(), removed=set(), changed={})
    assert "features.0.bias" in found.state_dict


class NestedLists(nn.Module):
    def __init__(self, bias: bool) -> None:
        super().__init__()
        self.stages = nn.ModuleList(
            nn.ModuleList([nn.Conv2d(4, 4, 3, padding=1, bias=bias), nn.BatchNorm2d(4)])
            for _ in range(2)
        )
        self.deep = nn.ModuleList(
            [nn.ModuleList([nn.Sequential(nn.Conv2d(4, 4, 1, bias=bias)), nn.BatchNorm2d(4)])]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv, bn in self.stages:
            x = F.relu(bn(conv(x)))
        for pair in self.deep:
            x = pair[1](pair[0](x))
        return x


def test_nested_module_lists() -> None:
    carry_over(
        NestedLists,
        image(c=4),
        changed={
            "stages.0.1.running_mean": "stages.0.0.bias",
            "stages.1.1.running_mean": "stages.1.0.bias",
            "deep.0.1.running_mean": "deep.0.0.0.bias",
        },
    )


class Sum(nn.Module):
    def __init__(self, bias: bool, second: bool | None = None) -> None:
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, padding=1, bias=bias)
        self.b = nn.Conv2d(3, 4, 1, bias=bias if second is None else second)
        self.c = nn.Conv2d(3, 4, 1, bias=bias)
        self.bn = nn.BatchNorm2d(4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.a(x) + self.b(x) - self.c(x) + 1.5)


def test_several_convs_summed_into_one_norm() -> None:
    carry_over(Sum, image(), changed={"bn.running_mean": "a.bias + b.bias - c.bias"})


def test_only_some_of_the_summed_convs_lost_their_bias() -> None:
    carry_over(
        lambda bias: Sum(bias, second=True), image(), changed={"bn.running_mean": "a.bias - c.bias"}
    )


class Shared(nn.Module):
    def __init__(self, bias: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1, bias=bias)
        self.again = self.conv  # the same layer under two names
        self.bn1 = nn.BatchNorm2d(3)
        self.bn2 = nn.BatchNorm2d(3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn2(self.again(F.relu(self.bn1(self.conv(x)))))


def test_a_layer_shared_under_two_names_feeding_two_norms() -> None:
    carry_over(
        Shared,
        image(),
        removed={"conv.bias", "again.bias"},
        changed={"bn1.running_mean": "conv.bias", "bn2.running_mean": "conv.bias"},
    )


class Untraceable(nn.Module):
    """The model's own forward does not trace (data-dependent control flow); its
    blocks do, and they hold the conv -> norm pairs."""

    def __init__(self, bias: bool) -> None:
        super().__init__()
        self.block = BasicBlock(bias)
        self.head = nn.Sequential(nn.Conv2d(6, 2, 1, bias=bias), nn.BatchNorm2d(2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        if y.sum() > 1e9:  # never true; torch.fx cannot decide it
            y = -y
        return self.head(y)


def test_model_that_does_not_trace_uses_the_smallest_enclosing_module() -> None:
    carry_over(
        Untraceable,
        image(),
        removed={"block.conv1.bias", "block.conv2.bias", "block.downsample.0.bias", "head.0.bias"},
    )


class Opaque(nn.Module):
    """A submodule that does not trace, but holds no norm and no removed bias."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 2 if x.sum() > -1e9 else x


class WithOpaque(nn.Module):
    def __init__(self, bias: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, bias=bias)
        self.bn = nn.BatchNorm2d(4)
        self.post = Opaque()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.post(self.bn(self.conv(x)))


def test_untraceable_submodule_without_norms_is_a_leaf() -> None:
    carry_over(WithOpaque, image(), changed={"bn.running_mean": "conv.bias"})


class DefaultArgs(nn.Module):
    def __init__(self, bias: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, bias=bias)
        self.bn = nn.BatchNorm2d(4)

    def forward(
        self, x: torch.Tensor, scale: float | None = None, debug: bool = False
    ) -> torch.Tensor:
        y = self.bn(self.conv(x))
        if scale is not None:
            y = y * scale
        if debug:
            print(y.shape)
        return y


def test_forward_defaults_are_traced_as_defaults() -> None:
    carry_over(DefaultArgs, image())


# ------------------------------------------------------------------ refusals


def refuses(factory, inputs, match: str) -> None:  # type: ignore[no-untyped-def]
    old = mu.randomize(mu.build(lambda: factory(True), inputs))
    new = mu.build(lambda: factory(False), inputs)
    with pytest.raises(MigrationError, match=match):
        migrate_state_dict(new, old.state_dict())


def test_removed_bias_with_no_norm_to_fold_into() -> None:
    refuses(
        lambda bias: nn.Sequential(nn.Conv2d(3, 4, 3, bias=bias), nn.ReLU(), nn.BatchNorm2d(4)),
        image(),
        r"`0` \(Conv2d\) is not cancelled by a norm: its output reaches `1` \(ReLU\).*no norm to fold",
    )


def test_removed_bias_whose_output_is_returned() -> None:
    refuses(
        lambda bias: nn.Sequential(nn.Conv2d(3, 4, 3, bias=bias)),
        image(),
        r"the output of `0` \(Conv2d\) leaves the model's forward before any norm",
    )


class Residual(nn.Module):
    def __init__(self, bias: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1, bias=bias)
        self.bn = nn.BatchNorm2d(3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        return self.bn(y) + y  # a second consumer: the bias is not cancelled


def test_second_consumer_of_the_output() -> None:
    refuses(Residual, image(), "leaves the model's forward")


def test_padded_average_pooling_is_not_transparent() -> None:
    refuses(
        lambda bias: nn.Sequential(
            nn.Conv2d(3, 4, 3, bias=bias), nn.AvgPool2d(3, padding=1), nn.BatchNorm2d(4)
        ),
        image(),
        r"reaches `1` \(AvgPool2d\)",
    )


def test_linear_into_instance_norm_is_not_cancelled() -> None:
    refuses(
        lambda bias: nn.Sequential(nn.Linear(6, 5, bias=bias), nn.InstanceNorm1d(5)),
        (torch.randn(8, 6),),
        r"InstanceNorm1d\), which does not cancel the bias of `0` \(Linear\)",
    )


class MyBN(nn.BatchNorm2d):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x) * 2 + self.running_mean.sum()


def test_a_norm_subclass_is_not_trusted() -> None:
    refuses(
        lambda bias: nn.Sequential(nn.Conv2d(3, 4, 3, bias=bias), MyBN(4)),
        image(),
        r"reaches `1` \(MyBN\)",
    )


class TwoWays(nn.Module):
    def __init__(self, bias: bool) -> None:
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, padding=1, bias=bias)
        self.b = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.a(x)) + self.bn(self.b(x))


def test_norm_reached_differently_at_two_calls() -> None:
    refuses(TwoWays, image(), "called more than once")


class ModeDependent(nn.Module):
    def __init__(self, bias: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, bias=bias)
        self.bn = nn.BatchNorm2d(4)
        self.other = nn.BatchNorm2d(4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x)) if self.training else self.other(self.conv(x))


def test_wiring_that_depends_on_the_mode() -> None:
    refuses(ModeDependent, image(), "differs between train and eval mode")


class NeverCalled(nn.Module):
    def __init__(self, bias: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, bias=bias)
        self.bn = nn.BatchNorm2d(4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(F.conv2d(x, self.conv.weight, self.conv.bias))


def test_layer_never_called_as_a_module() -> None:
    refuses(NeverCalled, image(), "never called as a module")


class Hopeless(nn.Module):
    def __init__(self, bias: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, bias=bias)
        self.bn = nn.BatchNorm2d(4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        if y.sum() > 1e9:
            y = -y
        return self.bn(y)


def test_nothing_around_the_layer_traces() -> None:
    refuses(Hopeless, image(), "torch.fx cannot trace the model")


def pair() -> tuple[nn.Module, dict]:
    old = mu.randomize(nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)))
    new = nn.Sequential(nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4))
    return new, old.state_dict()


def test_checkpoint_of_another_model() -> None:
    new, sd = pair()
    other = nn.Sequential(nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4), nn.Linear(2, 2))
    with pytest.raises(
        MigrationError, match=r"does not belong to this model: missing keys `2.weight`, `2.bias`"
    ):
        migrate_state_dict(other, sd)
    sd["extra.weight"] = torch.zeros(1)
    with pytest.raises(MigrationError, match=r"unexpected key `extra.weight` \(not biases"):
        migrate_state_dict(new, sd)


def test_shape_mismatch() -> None:
    new, sd = pair()
    sd["0.weight"] = torch.zeros(4, 3, 5, 5)
    with pytest.raises(
        MigrationError, match=r"shape mismatch: `0.weight` \(4, 3, 5, 5\) vs \(4, 3, 3, 3\)"
    ):
        migrate_state_dict(new, sd)
    new, sd = pair()
    sd["0.bias"] = torch.zeros(5)
    with pytest.raises(MigrationError, match=r"shape mismatch: `0.bias` has shape \(5,\)"):
        migrate_state_dict(new, sd)


def test_not_a_tensor() -> None:
    new, sd = pair()
    sd["1.running_mean"] = [1.0, 2.0]
    with pytest.raises(MigrationError, match=r"`1.running_mean` is a list, not a tensor"):
        migrate_state_dict(new, sd)


# ------------------------------------------------------------------ the contract


def test_result_is_a_new_dict_passing_every_other_entry_through() -> None:
    new, sd = pair()
    sd = OrderedDict(sd)
    sd._metadata = OrderedDict({"": {"version": 1}, "1": {"version": 2}})  # type: ignore[attr-defined]
    keys = list(sd)
    out = migrate_state_dict(new, sd)
    assert out is not sd and list(sd) == keys  # the input keeps its keys
    assert list(out) == [k for k in keys if k != "0.bias"]
    for key in out:
        if key != "1.running_mean":
            assert out[key] is sd[key]  # the same tensor objects
    assert torch.equal(out["1.running_mean"], sd["1.running_mean"] - sd["0.bias"])
    assert out._metadata == sd._metadata  # type: ignore[attr-defined]
    new.load_state_dict(out, strict=True)


def test_running_mean_keeps_its_dtype_and_is_computed_in_float64() -> None:
    new, sd = pair()
    sd = {k: v.float() if v.is_floating_point() else v for k, v in sd.items()}
    out = migrate_state_dict(new, sd)
    assert out["1.running_mean"].dtype == torch.float32
    want = (sd["1.running_mean"].double() - sd["0.bias"].double()).float()
    assert torch.equal(out["1.running_mean"], want)


def test_new_checkpoint_passes_unchanged() -> None:
    new, _ = pair()
    found = plan(new, new.state_dict())
    assert found.removed == () and found.changed == ()
    assert list(found.state_dict) == list(new.state_dict())


def test_old_num_batches_tracked_may_be_missing() -> None:
    new, sd = pair()
    del sd["1.num_batches_tracked"]
    with pytest.raises(MigrationError, match="missing key `1.num_batches_tracked`"):
        migrate_state_dict(new, sd)  # saved by a BatchNorm that had it (version 2)
    sd._metadata["1"]["version"] = 1  # type: ignore[attr-defined]
    out = migrate_state_dict(new, sd)  # BatchNorm fills it in itself for version < 2
    new.load_state_dict(out, strict=True)


def test_accept_old_checkpoints() -> None:
    inputs = image()
    old = mu.randomize(Chained(True))
    new = Chained(False)
    handle = accept_old_checkpoints(new)
    sd = old.state_dict()
    new.load_state_dict(sd, strict=True)  # an old checkpoint
    assert "conv.bias" in sd  # the caller's dict is untouched
    mu.assert_same(old, new, inputs)
    fresh = mu.randomize(Chained(False), seed=5)
    new.load_state_dict(fresh.state_dict(), strict=True)  # a new one
    assert torch.equal(new.bn.running_mean, fresh.bn.running_mean)
    handle.remove()
    with pytest.raises(RuntimeError, match="Unexpected key"):
        new.load_state_dict(sd, strict=True)


def test_accept_old_checkpoints_inside_a_larger_model_and_non_strict() -> None:
    inner = Chained(False)
    accept_old_checkpoints(inner)
    outer = nn.Sequential(nn.Identity(), inner)
    old = mu.randomize(nn.Sequential(nn.Identity(), Chained(True)))
    sd = old.state_dict()
    sd["something.else"] = torch.zeros(1)
    result = outer.load_state_dict(sd, strict=False)
    assert result.unexpected_keys == ["something.else"] and result.missing_keys == []
    mu.assert_same(old, outer, image())


def test_accept_old_checkpoints_reports_what_it_cannot_carry_over() -> None:
    model = nn.Sequential(nn.Conv2d(3, 4, 3, bias=False), nn.ReLU(), nn.BatchNorm2d(4))
    accept_old_checkpoints(model)
    old = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.BatchNorm2d(4))
    with pytest.raises(
        RuntimeError, match="convbnlint.migrate: cannot load an old checkpoint: .*no norm"
    ):
        model.load_state_dict(old.state_dict())


def test_tracing_leaves_the_modes_as_they_were() -> None:
    new, sd = pair()
    new.train()
    new[1].eval()
    migrate_state_dict(new, sd)
    assert new.training and new[0].training and not new[1].training
