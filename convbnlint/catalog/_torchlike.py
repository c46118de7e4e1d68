"""Shared builders for frameworks whose layers copy ``torch.nn``'s signatures
(OneFlow, Jittor, MindSpore ``mint.nn``, MegEngine): each framework module lists
its own classes and import paths; only the table-building is shared."""

from __future__ import annotations

from convbnlint.catalog import ArgIs, ArgSame, LayerSpec, Role, When


def names(prefixes: tuple[str, ...], cls: str) -> dict[str, object]:
    full = [f"{p}.{cls}" for p in prefixes]
    return {"qualname": full[0], "aliases": tuple(full[1:])}


def conv(prefixes: tuple[str, ...], cls: str, bias_index: int = 7, **kw: object) -> LayerSpec:
    """``Conv2d(in, out, kernel, stride, padding, dilation, groups, bias=True)``."""
    return LayerSpec(role=Role.BIASED, family="conv", bias_index=bias_index,
                     **names(prefixes, cls), **kw)  # type: ignore[arg-type]


def linear(prefixes: tuple[str, ...], cls: str, bias_index: int = 2, **kw: object) -> LayerSpec:
    """``Linear(in_features, out_features, bias=True)``: cancelled by a BatchNorm1d
    over the same features."""
    kw.setdefault("channels_param", "out_features")
    kw.setdefault("channels_index", 1)
    return LayerSpec(role=Role.BIASED, family="linear", bias_index=bias_index,
                     **names(prefixes, cls), **kw)  # type: ignore[arg-type]


def norm(prefixes: tuple[str, ...], cls: str, for_linear: bool = False,
         when: When = (), **kw: object) -> LayerSpec:
    extra: dict[str, object] = {}
    if for_linear:
        extra = {"cancels": ("conv", "linear"), "channels_param": "num_features",
                 "channels_index": 0}
    extra.update(kw)
    return LayerSpec(role=Role.CANCELLING_NORM, when=when, **names(prefixes, cls),
                     **extra)  # type: ignore[arg-type]


def group_norm(prefixes: tuple[str, ...], cls: str = "GroupNorm", **kw: object) -> LayerSpec:
    """``GroupNorm(num_groups, num_channels)`` with one channel per group (the same
    expression for both) is an instance norm."""
    same = ArgSame("num_groups", 0, "num_channels", 1)
    return norm(prefixes, cls, when=((same,),), **kw)


def sequential(prefixes: tuple[str, ...], cls: str = "Sequential", **kw: object) -> LayerSpec:
    return LayerSpec(role=Role.SEQUENTIAL, **names(prefixes, cls), **kw)  # type: ignore[arg-type]


NOT_FALSE = (False, 0)


def not_const(param: str, index: int | None, values: tuple[object, ...]) -> ArgIs:
    """The argument is absent or a constant other than ``values``."""
    return ArgIs(param, index, values, negate=True)


# torch's convention: ``running = (1 - momentum) * running + momentum * batch``.
TORCH_FROZEN_MOMENTUM = (0, 0.0)
# Paddle's, MindSpore ``nn``'s, MegEngine's: ``running = momentum * running + ...``.
EMA_FROZEN_MOMENTUM = (1, 1.0)


def learns(index: int | None, frozen: tuple[object, ...] = TORCH_FROZEN_MOMENTUM) -> ArgIs:
    """The running statistics move: ``momentum`` is not the constant that keeps them
    (the running mean would never learn the bias, which then survives in eval mode
    after training).  A momentum that is not a constant may be the frozen one: the
    analysis does not trust such a norm (no finding; see the CBL001 page)."""
    return ArgIs("momentum", index, frozen, negate=True, unknown_ok=True)
