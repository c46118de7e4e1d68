"""PyTorch (``torch.nn``) layer catalog.

Bias slots were read from the real signatures (``tests/test_catalog_torch.py``
checks them with :mod:`inspect` whenever torch is installed):

* ``Conv{1,2,3}d(in, out, kernel, stride, padding, dilation, groups, bias, ...)`` -> 7
* ``ConvTranspose{1,2,3}d(in, out, kernel, stride, padding, output_padding, groups, bias, ...)`` -> 7
* ``LazyConv*`` / ``LazyConvTranspose*`` have no ``in_channels`` -> 6
* ``Linear(in, out, bias)`` -> 2, ``LazyLinear(out, bias)`` -> 1
"""

from __future__ import annotations

from convbnlint.catalog import Catalog, LayerSpec, Role


def _spec(module: str, name: str, role: Role, **kw: object) -> LayerSpec:
    canonical = f"torch.nn.{name}"
    aliases = (f"torch.nn.modules.{module}.{name}", f"torch.nn.modules.{name}")
    return LayerSpec(qualname=canonical, role=role, aliases=aliases, **kw)  # type: ignore[arg-type]


def _build() -> tuple[LayerSpec, ...]:
    specs: list[LayerSpec] = []
    for dim in (1, 2, 3):
        specs.append(_spec("conv", f"Conv{dim}d", Role.BIASED, family="conv", bias_index=7))
        specs.append(
            _spec("conv", f"ConvTranspose{dim}d", Role.BIASED, family="conv", bias_index=7)
        )
        specs.append(_spec("conv", f"LazyConv{dim}d", Role.BIASED, family="conv", bias_index=6))
        specs.append(
            _spec("conv", f"LazyConvTranspose{dim}d", Role.BIASED, family="conv", bias_index=6)
        )
    specs.append(_spec("linear", "Linear", Role.BIASED, family="linear", bias_index=2))
    specs.append(_spec("linear", "LazyLinear", Role.BIASED, family="linear", bias_index=1))
    for dim in (1, 2, 3):
        specs.append(_spec("batchnorm", f"BatchNorm{dim}d", Role.CANCELLING_NORM))
        specs.append(_spec("batchnorm", f"LazyBatchNorm{dim}d", Role.CANCELLING_NORM))
        specs.append(_spec("instancenorm", f"InstanceNorm{dim}d", Role.CANCELLING_NORM))
        specs.append(_spec("instancenorm", f"LazyInstanceNorm{dim}d", Role.CANCELLING_NORM))
    specs.append(_spec("batchnorm", "SyncBatchNorm", Role.CANCELLING_NORM))
    specs.append(_spec("container", "Sequential", Role.SEQUENTIAL))
    return tuple(specs)


CATALOG = Catalog(
    framework="torch",
    specs=_build(),
    # Every cancelling norm's class name contains one of these, so a file that
    # contains neither cannot name one (through an import or an attribute).
    prefilter_tokens=(b"BatchNorm", b"InstanceNorm"),
)
