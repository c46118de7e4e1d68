"""Every framework catalog against the real signatures, read from the real releases.

Nothing is run: each pinned release (``tests/framework_wheels.py``) is read with
:mod:`ast`, from its archive in ``.cache/wheels`` (``python tests/framework_wheels.py``
fetches them; CI does so before the tests) or, failing that, from its installed
copy when the installed version is the pinned one (Keras, Flax and Paddle come
with the ``runtime`` extra).  For every biased spec the class (or function) must
exist under one of its names, its bias argument must be where the catalog says
(keyword, positional slot, default), and so must the conditions' arguments.  A
release that is neither cached nor installed makes its framework's tests skip;
the tests never download anything.
"""

from __future__ import annotations

import ast
import tarfile
import zipfile
from functools import cache
from importlib import metadata

import pytest

from convbnlint.catalog import ArgIs, LayerSpec, Role, framework_catalog
from tests.framework_wheels import PINNED, archive


def _installed(requirement: str) -> dict[str, str] | None:
    name, version = requirement.split("==")
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return None
    if dist.version != version:
        return None
    out: dict[str, str] = {}
    for file in dist.files or ():
        if file.suffix == ".py" and not file.parts[0].endswith(".dist-info"):
            try:
                data = file.locate().read_bytes()
            except OSError:
                continue
            out[file.as_posix()] = data.decode("utf-8", "replace")
    return out or None


@cache
def sources(module: str) -> dict[str, str]:
    """Path -> text of every ``.py`` of the framework's pinned release."""
    requirement = PINNED[module]
    path = archive(requirement)
    if path is None:
        installed = _installed(requirement)
        if installed is not None:
            return installed
        pytest.skip(f"{requirement} is neither in .cache/wheels nor installed; "
                    "fetch it with: python tests/framework_wheels.py"
                    + (" --large" if module in ("paddle", "mindspore") else ""))
    out: dict[str, str] = {}
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if info.filename.endswith(".py"):
                    out[info.filename] = zf.read(info).decode("utf-8", "replace")
    else:
        with tarfile.open(path) as tf:
            for m in tf:
                if m.isfile() and m.name.endswith(".py"):
                    f = tf.extractfile(m)
                    if f is not None:
                        out[m.name] = f.read().decode("utf-8", "replace")
    return out


# Where in an archive a qualified name's classes live (several packages of one
# wheel define classes of the same name: flax.linen and flax.nnx, keras backends).
PATHS = {
    "mindspore.mint.nn.Linear": "mindspore/nn/",  # (mint re-exports nn.Linear)
    "tensorflow.compat": "legacy_tf_layers/",
    "flax.linen": "flax/linen/",
    "flax.nnx": "flax/nnx/",
    "paddle.nn": "paddle/nn/",
    "mindspore.nn": "mindspore/nn/",
    "mindspore.mint": "mindspore/mint/",
    "keras.layers": "keras/src/layers/",
    "tf_slim.": "tf_slim/layers/",
    "haiku.": "haiku/_src/",
    "equinox.nn": "equinox/nn/",
    "oneflow.nn": "oneflow/nn/",
    "jittor.nn": "python/jittor/nn.py",
}

# Specs for classes that exist only in another version than the pinned wheel.
ELSEWHERE = {"keras.layers.SyncBatchNormalization": ("tf_v1", "SyncBatchNormalization")}


def _where(qualname: str) -> str:
    for prefix, path in PATHS.items():
        if qualname.startswith(prefix):
            return path
    return ""


@cache
def signatures(module: str, where: str = "") -> dict[str, list[tuple[str, str | None, str]]]:
    """Class/function name -> parameters (name, default source, kind) without self.

    Classes: their own ``__init__``, else their dataclass fields (Flax linen), else
    the nearest base's in the same archive.  Kinds: ``pos`` or ``kw`` (keyword-only).
    """
    classes: dict[str, ast.ClassDef] = {}
    funcs: dict[str, ast.FunctionDef] = {}
    aliases: dict[str, str] = {}
    for path_name, text in sources(module).items():
        if where and where not in path_name:
            continue
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                classes.setdefault(node.name, node)
            elif isinstance(node, ast.FunctionDef):
                funcs.setdefault(node.name, node)
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Name):
                for t in node.targets:
                    if isinstance(t, ast.Name):
                        aliases.setdefault(t.id, node.value.id)
            elif isinstance(node, ast.Assign):
                # ``BatchNorm3d = BatchNorm2d = BatchNorm1d = BatchNorm`` (Jittor)
                pass

    def params(fn: ast.FunctionDef, drop_self: bool) -> list[tuple[str, str | None, str]]:
        a = fn.args
        pos = a.posonlyargs + a.args
        defaults = [None] * (len(pos) - len(a.defaults)) + [ast.unparse(d) for d in a.defaults]
        out = [(p.arg, d, "pos") for p, d in zip(pos, defaults)]
        out += [(k.arg, ast.unparse(d) if d else None, "kw")
                for k, d in zip(a.kwonlyargs, a.kw_defaults)]
        return out[1:] if drop_self else out

    def of_class(name: str, seen: frozenset[str] = frozenset()) -> list | None:
        node = classes.get(name)
        if node is None or name in seen:
            return None
        for item in node.body:
            if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                return params(item, True)
        fields = [
            (i.target.id, ast.unparse(i.value) if i.value else None, "pos")
            for i in node.body
            if isinstance(i, ast.AnnAssign) and isinstance(i.target, ast.Name)
            and not ast.unparse(i.annotation).startswith("ClassVar")
        ]
        inherited: list = []
        for base in node.bases:
            base_name = ast.unparse(base).rsplit(".", 1)[-1]
            got = of_class(base_name, seen | {name})
            if got:
                inherited = got
                break
        if fields:
            names = {f[0] for f in fields}
            return [p for p in inherited if p[0] not in names] + fields
        return inherited or None

    out: dict[str, list] = {}
    for name in classes:
        got = of_class(name)
        if got is not None:
            out[name] = got
    for name, fn in funcs.items():
        out.setdefault(name, params(fn, False))
    for alias, target in aliases.items():
        if target in out:
            out.setdefault(alias, out[target])
    return out


def _cases() -> list[tuple[str, LayerSpec]]:
    out = []
    for module in PINNED:
        for spec in framework_catalog(module).specs:
            if spec.role in (Role.BIASED, Role.CANCELLING_NORM):
                out.append((module, spec))
    return out


CASES = _cases()


def _slot(params: list, name: str) -> tuple[int | None, str | None, str] | None:
    for i, (p, default, kind) in enumerate(params):
        if p == name:
            return (i if kind == "pos" else None), default, kind
    return None


@pytest.mark.parametrize(
    "module, spec", CASES, ids=[f"{m}:{s.qualname}" for m, s in CASES]
)
def test_spec_matches_the_real_signature(module: str, spec: LayerSpec) -> None:
    if spec.qualname in ELSEWHERE:
        other, name = ELSEWHERE[spec.qualname]
        assert name in signatures(other), f"{spec.qualname}: not in the {other} wheel either"
        return
    sigs = signatures(module, _where(spec.qualname))
    params = sigs.get(spec.name)
    assert params is not None, f"{spec.qualname}: no class or function {spec.name} in the wheel"
    names = [p[0] for p in params]
    if spec.role is Role.BIASED:
        found = _slot(params, spec.bias_param)
        assert found is not None, f"{spec.name}({', '.join(names)}) has no {spec.bias_param}"
        index, default, _ = found
        if module == "paddle" and spec.name.startswith("Conv") and "Transpose" not in spec.name:
            # Paddle 3 made bias_attr keyword-only; Paddle 2's slot 9 is still read.
            assert index is None and spec.bias_index == 9
        else:
            assert index == spec.bias_index, (
                f"{spec.name}: {spec.bias_param} is slot {index}, catalog says {spec.bias_index}"
            )
        on = default not in ("False", "None") if spec.bias_param != "bias_attr" else True
        assert on == spec.bias_default, f"{spec.name}: {spec.bias_param}={default}"
        if spec.apply.value == "input_arg":
            assert _slot(params, spec.input_param or "") is not None
            assert names.index(spec.input_param) == spec.input_index
    conds = [c for alt in spec.when for c in alt] + list(spec.bias_also)
    for cond in conds:
        if not isinstance(cond, ArgIs) or cond.param == "\0":
            continue
        found = _slot(params, cond.param)
        if found is None:
            # Keras 2's ``trainable``/``renorm``... travel in **kwargs.
            continue
        index = found[0]
        if cond.index is not None and index is not None:
            assert index == cond.index, f"{spec.name}: {cond.param} is slot {index}, not {cond.index}"
    if spec.layout is not None and spec.layout.param and spec.layout.index is not None:
        found = _slot(params, spec.layout.param)
        if found is not None and found[0] is not None:
            assert found[0] == spec.layout.index, f"{spec.name}: {spec.layout.param} slot"


def test_flax_conv_local_bias_is_per_position() -> None:
    """Why ``ConvLocal`` is not catalogued: its bias has the output's spatial shape."""
    text = "".join(t for p, t in sources("flax").items() if p.endswith("linen/linear.py"))
    assert "bias_shape = conv_output_shape[1:]" in text


def test_conditional_finding_where_off_is_not_false_is_not_fixable(monkeypatch) -> None:
    """CBL003 writes ``bias=not flag``; for slim the bias argument's "off" is
    ``biases_initializer=None`` and "on" is its default zeros initializer, which the
    file has no sure name for, so the conditional edit is refused with that reason.
    (The walker has no conditional wiring for function-style layers yet: the
    finding is forced here, on a real slim site.)"""
    from convbnlint import check_source, fix_source
    from convbnlint.analysis import Analysis, Finding

    source = (
        "import tf_slim as slim\n"
        "def net(x, use_bn, training):\n"
        "    y = slim.conv2d(x, 64, [3, 3], activation_fn=None)\n"
        "    return slim.batch_norm(y, is_training=training)\n"
    )
    (plain,) = check_source(source)
    assert plain.fixable and plain.fix_value == "None"

    def conditional(self):  # type: ignore[no-untyped-def]
        out = []
        for f in original(self):
            scope = self.facts.sites[f.site].scope
            out.append(Finding(f.site, f.norms, literal=(scope, "use_bn", "truthy", True)))
        return out

    original = Analysis.findings
    monkeypatch.setattr(Analysis, "findings", conditional)
    (diag,) = check_source(source)
    assert diag.code == "CBL003" and not diag.fixable
    assert diag.message == (
        "convolution bias is cancelled by the following batch_norm when `use_bn` is true; "
        "pass biases_initializer=None (not fixable: only when `use_bn` is true; elsewhere the "
        "bias comes from the default biases_initializer, which this file cannot name exactly)"
    )
    assert fix_source(source) == (source, [])
