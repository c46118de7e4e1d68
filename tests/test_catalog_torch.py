"""The torch catalog against the real torch.nn: classes, aliases, bias slots, completeness."""

from __future__ import annotations

import fnmatch
import importlib
import inspect
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # torch warns when numpy is absent
    torch = pytest.importorskip("torch")

from convbnlint.catalog import LayerSpec, Role  # noqa: E402
from tests.runtime_util import resolve  # noqa: E402
from convbnlint.catalog.torch import CATALOG  # noqa: E402

nn = torch.nn
_BatchNorm = importlib.import_module("torch.nn.modules.batchnorm")._BatchNorm
_InstanceNorm = importlib.import_module("torch.nn.modules.instancenorm")._InstanceNorm

# Public torch.nn classes the catalog must know, by name pattern.
BIASED_PATTERNS = ("Conv*", "ConvTranspose*", "LazyConv*", "LazyConvTranspose*")
NORM_PATTERNS = (
    "BatchNorm*",
    "LazyBatchNorm*",
    "InstanceNorm*",
    "LazyInstanceNorm*",
    "SyncBatchNorm",
)




def _ids(specs: list[LayerSpec]) -> list[str]:
    return [s.name for s in specs]


ALL = list(CATALOG.specs)
BIASED = [s for s in ALL if s.role is Role.BIASED]
NORMS = [s for s in ALL if s.role is Role.CANCELLING_NORM]


@pytest.mark.parametrize("spec", ALL, ids=_ids(ALL))
def test_class_and_every_alias_exist_and_agree(spec: LayerSpec) -> None:
    cls = resolve(spec.qualname)
    assert inspect.isclass(cls) and issubclass(cls, nn.Module), spec.qualname
    assert cls.__name__ == spec.name
    for alias in spec.aliases:
        assert resolve(alias) is cls, f"{alias} is not {spec.qualname}"


@pytest.mark.parametrize("spec", BIASED, ids=_ids(BIASED))
def test_bias_parameter_matches_real_signature(spec: LayerSpec) -> None:
    cls = resolve(spec.qualname)
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]  # drop self
    names = [p.name for p in params]
    assert spec.bias_param in names, f"{spec.name}{inspect.signature(cls.__init__)}"
    param = params[names.index(spec.bias_param)]
    if spec.bias_index is None:
        assert param.kind is inspect.Parameter.KEYWORD_ONLY
    else:
        assert param.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        # Every parameter before it must be positional too, or the slot is not reachable.
        assert all(
            p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD for p in params[: spec.bias_index]
        )
        assert names.index(spec.bias_param) == spec.bias_index, (
            f"{spec.name}: {spec.bias_param} is positional slot "
            f"{names.index(spec.bias_param)}, catalog says {spec.bias_index}"
        )
    assert param.default is True
    assert spec.bias_default is True


@pytest.mark.parametrize("spec", NORMS, ids=_ids(NORMS))
def test_cancelling_norm_subtracts_a_per_channel_mean(spec: LayerSpec) -> None:
    cls = resolve(spec.qualname)
    if cls is nn.GroupNorm:  # only with one channel per group (the catalog's condition)
        assert spec.when and spec.when[0][0].param == "num_groups"
        m = nn.GroupNorm(4, 4)
        x = torch.randn(2, 4, 5, 5)
        b = torch.randn(1, 4, 1, 1)
        assert torch.allclose(m(x + b), m(x), atol=1e-5)
        return
    assert issubclass(cls, (_BatchNorm, _InstanceNorm, nn.SyncBatchNorm)), spec.qualname


@pytest.mark.parametrize("spec", NORMS, ids=_ids(NORMS))
def test_prefilter_tokens_cover_every_norm_name(spec: LayerSpec) -> None:
    names = {spec.name} | {alias.rsplit(".", 1)[-1] for alias in spec.aliases}
    for name in names:
        assert any(tok in name.encode() for tok in CATALOG.prefilter_tokens), name


def test_sequential_is_the_real_container() -> None:
    (seq,) = [s for s in ALL if s.role is Role.SEQUENTIAL]
    assert resolve(seq.qualname) is nn.Sequential


def _public_classes(patterns: tuple[str, ...]) -> set[str]:
    out = set()
    for name in dir(nn):
        obj = getattr(nn, name)
        if name.startswith("_") or not inspect.isclass(obj):
            continue
        if any(fnmatch.fnmatchcase(name, pat) for pat in patterns):
            out.add(name)
    return out


@pytest.mark.parametrize(
    "patterns, role",
    [(BIASED_PATTERNS, Role.BIASED), (NORM_PATTERNS, Role.CANCELLING_NORM)],
    ids=["biased", "cancelling_norm"],
)
def test_catalog_is_complete(patterns: tuple[str, ...], role: Role) -> None:
    wanted = _public_classes(patterns)
    assert wanted, "torch.nn exposes none of the expected classes"
    missing = []
    for name in sorted(wanted):
        spec = CATALOG.lookup(f"torch.nn.{name}")
        if spec is None or spec.role is not role:
            missing.append(name)
        else:
            assert resolve(spec.qualname) is getattr(nn, name)
    assert not missing, f"torch.nn classes not catalogued as {role.value}: {missing}"
    if role is Role.BIASED:
        for name in wanted:
            assert CATALOG.lookup(f"torch.nn.{name}").family == "conv"  # type: ignore[union-attr]


def test_every_public_mean_subtracting_norm_is_catalogued() -> None:
    """Beyond names: every public torch.nn subclass of _BatchNorm/_InstanceNorm."""
    found = {
        name
        for name in dir(nn)
        if not name.startswith("_")
        and inspect.isclass(getattr(nn, name))
        and issubclass(getattr(nn, name), (_BatchNorm, _InstanceNorm))
    }
    assert found >= {"BatchNorm2d", "InstanceNorm2d", "SyncBatchNorm"}
    missing = sorted(
        name
        for name in found
        if getattr(CATALOG.lookup(f"torch.nn.{name}"), "role", None) is not Role.CANCELLING_NORM
    )
    assert not missing, missing
