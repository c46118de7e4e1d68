"""PyTorch (``torch.nn``) layer catalog.

Bias slots were read from the real signatures (``tests/test_catalog_torch.py``
checks them with :mod:`inspect` whenever torch is installed):

* ``Conv{1,2,3}d(in, out, kernel, stride, padding, dilation, groups, bias, ...)`` -> 7
* ``ConvTranspose{1,2,3}d(in, out, kernel, stride, padding, output_padding, groups, bias, ...)`` -> 7
* ``LazyConv*`` / ``LazyConvTranspose*`` have no ``in_channels`` -> 6
* ``Linear(in, out, bias)`` -> 2, ``LazyLinear(out, bias)`` -> 1
* ``BatchNorm*d``/``InstanceNorm*d``/``SyncBatchNorm(num_features, eps, momentum, ...)``
  -> ``momentum`` 2 (``Lazy*``: 1); ``momentum=0`` keeps the running statistics
  where they started, so a bias survives in eval mode: not trusted
"""

from __future__ import annotations

from convbnlint.catalog import ArgIs, ArgSame, Catalog, Framework, LayerSpec, Role, When

# AvgPool{1,2,3}d(kernel_size, stride, padding, ceil_mode, count_include_pad[, divisor_override])
# averages real elements only when nothing pads the window (or padding is not
# counted); a divisor override breaks op(x + b) == op(x) + b.
_NO_DIVISOR = ArgIs("divisor_override", 5, (None,))
_AVGPOOL_TRANSPARENT = (
    (
        ArgIs("padding", 2, (0, (0,), (0, 0), (0, 0, 0))),
        ArgIs("ceil_mode", 3, (False, 0)),
        _NO_DIVISOR,
    ),
    (ArgIs("count_include_pad", 4, (False, 0), absent_ok=False), _NO_DIVISOR),
)


def _keeps_cancelling(shift: int, tracks: bool, none_updates: bool) -> When:
    """A norm's bias cancellation survives into eval mode when its running mean
    learns the bias: a momentum that updates it (not 0; ``None`` is a cumulative
    average for a BatchNorm, but no update at all for an InstanceNorm), or no
    running statistics at all (eval then uses the batch's own statistics).

    ``(num_features, eps, momentum, affine, track_running_stats, ...)``: momentum
    at 2, track_running_stats at 4 (one less for the lazy classes, which have no
    ``num_features``); ``tracks``: the class default of ``track_running_stats``.
    """
    frozen: tuple[object, ...] = (0, 0.0, False) if none_updates else (0, 0.0, False, None)
    momentum = ArgIs("momentum", 2 + shift, frozen, absent_ok=True, negate=True)
    no_stats = ArgIs("track_running_stats", 4 + shift, (False, 0), absent_ok=not tracks)
    return ((momentum,), (no_stats,))


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
    # Linear(in, out, bias) -> 2, LazyLinear(out, bias) -> 1.  A Linear's bias is
    # cancelled by a BatchNorm1d over the same features on (N, features) input.
    specs.append(
        _spec(
            "linear",
            "Linear",
            Role.BIASED,
            family="linear",
            bias_index=2,
            channels_param="out_features",
            channels_index=1,
        )
    )
    specs.append(
        _spec(
            "linear",
            "LazyLinear",
            Role.BIASED,
            family="linear",
            bias_index=1,
            channels_param="out_features",
            channels_index=0,
        )
    )
    for_linear = {
        "cancels": ("conv", "linear"),
        "channels_param": "num_features",
        "channels_index": 0,
    }
    bn, lazy_bn = _keeps_cancelling(0, True, True), _keeps_cancelling(-1, True, True)
    # (The lazy instance norms track running statistics by default; InstanceNorm does not.)
    inorm, lazy_inorm = _keeps_cancelling(0, False, False), _keeps_cancelling(-1, True, False)
    specs.append(
        _spec("batchnorm", "BatchNorm1d", Role.CANCELLING_NORM, when=bn, **for_linear)
    )
    specs.append(
        _spec("batchnorm", "SyncBatchNorm", Role.CANCELLING_NORM, when=bn, **for_linear)
    )
    for dim in (1, 2, 3):
        if dim != 1:
            specs.append(
                _spec("batchnorm", f"BatchNorm{dim}d", Role.CANCELLING_NORM, when=bn)
            )
        specs.append(
            _spec("batchnorm", f"LazyBatchNorm{dim}d", Role.CANCELLING_NORM, when=lazy_bn)
        )
        specs.append(
            _spec("instancenorm", f"InstanceNorm{dim}d", Role.CANCELLING_NORM, when=inorm)
        )
        specs.append(
            _spec(
                "instancenorm",
                f"LazyInstanceNorm{dim}d",
                Role.CANCELLING_NORM,
                when=lazy_inorm,
            )
        )
    # GroupNorm(num_groups, num_channels) with one channel per group (the same
    # expression for both) normalizes each channel alone: an instance norm.
    specs.append(
        _spec(
            "normalization",
            "GroupNorm",
            Role.CANCELLING_NORM,
            when=((ArgSame("num_groups", 0, "num_channels", 1),),),
        )
    )
    specs.append(_spec("container", "Sequential", Role.SEQUENTIAL))
    specs.append(_spec("container", "ModuleList", Role.COLLECTION))
    specs.append(_spec("container", "ModuleDict", Role.COLLECTION))
    # Bias-transparent layers: the norm after them still cancels the bias.
    specs.append(_spec("linear", "Identity", Role.TRANSPARENT))
    for dim in (1, 2, 3):
        specs.append(_spec("pooling", f"MaxPool{dim}d", Role.TRANSPARENT))
        specs.append(_spec("pooling", f"AdaptiveMaxPool{dim}d", Role.TRANSPARENT))
        specs.append(_spec("pooling", f"AdaptiveAvgPool{dim}d", Role.TRANSPARENT))
        specs.append(
            _spec(
                "pooling", f"AvgPool{dim}d", Role.TRANSPARENT, transparent_when=_AVGPOOL_TRANSPARENT
            )
        )
    for name in ("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"):
        specs.append(_spec("upsampling", name, Role.TRANSPARENT))
    specs.append(
        _spec(
            "flatten",
            "Flatten",
            Role.TRANSPARENT,
            transparent_into=("torch.nn.BatchNorm1d", "torch.nn.LazyBatchNorm1d"),
        )
    )
    return tuple(specs)


_SELF_RETURNING = frozenset(
    {
        "to", "cuda", "cpu", "xpu", "ipu", "mtia", "float", "double", "half", "bfloat16",
        "type", "to_empty", "requires_grad_", "share_memory",
    }
)

FRAMEWORK = Framework(
    name="torch",
    forward_methods=frozenset({"forward", "__call__"}),
    output_attrs=frozenset(
        {"forward", "__call__", "_conv_forward", "register_forward_hook", "_call_impl"}
    ),
    submodule_enumerators=frozenset({"modules", "named_modules", "children", "named_children"}),
    submodule_registrars=frozenset({"add_module", "register_module"}),
    # (The registries of submodules, parameters and hooks of a module.)
    dynamic_attrs=frozenset(
        {
            "__dict__", "_modules", "_parameters", "_buffers", "_forward_hooks",
            "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks",
            "_forward_hooks_with_kwargs", "_forward_pre_hooks_with_kwargs",
            "_forward_hooks_always_called", "_state_dict_hooks", "_state_dict_pre_hooks",
            "_load_state_dict_pre_hooks", "_load_state_dict_post_hooks",
        }
    ),
    tensor_meta_attrs=frozenset({"shape", "dtype", "device", "ndim", "is_cuda", "requires_grad"}),
    tensor_meta_methods=frozenset({"size", "dim"}),
    container_appenders=frozenset({"append"}),
    container_mutators=frozenset(
        {"insert", "extend", "pop", "__setitem__", "__delitem__", "__iadd__", "_modules"}
    ),
    norm_statistics=frozenset({"running_mean"}),
    # (``load_state_dict`` writes every submodule's running statistics.)
    state_loaders=frozenset({"load_state_dict"}),
    whole_users=frozenset(
        {
            "DataParallel", "DistributedDataParallel", "data_parallel", "compile", "script",
            "trace", "trace_module", "save", "export", "checkpoint", "_log_api_usage_once",
        }
    ),
    norm_resetters=frozenset({"reset_running_stats", "reset_parameters"}),
    partial_makers=frozenset({"functools.partial"}),
    state_attrs=frozenset({"training"}),
    module_bases=frozenset({"torch.nn.Module", "torch.nn.modules.module.Module"}),
    named_enumerators=frozenset({"named_modules", "named_children"}),
    parameter_enumerators=frozenset(
        {"parameters", "named_parameters", "buffers", "named_buffers", "state_dict"}
    ),
    child_enumerators=frozenset({"children", "named_children"}),
    collection_adders=frozenset({"append", "extend", "insert", "update", "__setitem__"}),
    collection_values=frozenset({"values"}),
    collection_pairs=frozenset({"items"}),
    inspecting_functions=frozenset({"_log_api_usage_once"}),
    callback_appliers=frozenset({"apply"}),
    harmless_methods=_SELF_RETURNING
    | frozenset(
        {
            "parameters", "named_parameters", "buffers", "named_buffers", "state_dict",
            "load_state_dict", "reset_parameters", "reset_running_stats", "extra_repr",
            "register_buffer", "register_parameter", "get_parameter", "get_buffer",
            "_get_name", "__repr__", "__str__", "__sizeof__", "numel", "__len__", "keys",
            "zero_grad",
        }
    ),
    self_returning_methods=_SELF_RETURNING | frozenset({"train", "eval", "apply"}),
    eval_methods=frozenset({"eval"}),
    train_methods=frozenset({"train"}),
    mode_attrs=frozenset({"training"}),
    norm_harmless_stores=frozenset(
        {"weight", "bias", "eps", "running_mean", "running_var", "num_batches_tracked"}
    ),
    param_init_prefixes=("torch.nn.init.",),
    global_hooks=frozenset(
        {
            "register_module_forward_hook",
            "register_module_forward_pre_hook",
            "register_module_full_backward_hook",
            "register_module_full_backward_pre_hook",
            "register_module_backward_hook",
            "register_module_buffer_registration_hook",
            "register_module_module_registration_hook",
            "register_module_parameter_registration_hook",
        }
    ),
    library_roots=frozenset({"torch", "torchvision", "torchaudio", "torchtext", "functorch"}),
    patch_prefixes=("torch.",),
    config_prefixes=("torch.backends.",),
    not_2d_outputs=frozenset(
        {
            "torch.nn.LSTM", "torch.nn.GRU", "torch.nn.RNN", "torch.nn.Embedding",
            "torch.nn.MultiheadAttention", "torch.nn.Transformer",
            "torch.nn.TransformerEncoder", "torch.nn.TransformerDecoder",
            "torch.nn.TransformerEncoderLayer", "torch.nn.TransformerDecoderLayer",
            "torch.nn.Conv1d", "torch.nn.Unflatten",
        }
    ),
    reshape_methods=frozenset({"view", "reshape", "expand", "repeat", "tile"}),
    axis_methods=frozenset(
        {"transpose", "permute", "unsqueeze", "swapaxes", "swapdims", "movedim", "mT", "unfold"}
    ),
)

CATALOG = Catalog(
    framework=FRAMEWORK,
    specs=_build(),
    # Every cancelling norm's class name contains one of these, so a file that
    # contains neither cannot name one (through an import or an attribute).
    prefilter_tokens=(b"BatchNorm", b"InstanceNorm", b"GroupNorm"),
    # The norm tokens alone (no package-name gate): which texts are parsed, and so
    # which syntax errors are reported, stays what it always was for torch code.
    gates=(((b"BatchNorm", b"InstanceNorm", b"GroupNorm"), ()),),
)
