"""Whole-project analysis (issue 12): calls judged with definitions in other files.

The table is :mod:`tests.cases_project`.  Each case's tree is checked together
(``runner.run``, as the command does); with ``--no-whole-project`` no finding of
the table remains at a call into another file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from convbnlint import runner
from tests.cases_project import PROJECT_CASES, ProjectCase
from tests.util import run as run_cli


def write(root: Path, case: ProjectCase) -> list[Path]:
    paths = []
    for rel, text in case.sources().items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return sorted(paths)


def found(root: Path, paths: list[Path], project: bool = True) -> set[tuple[str, int, str]]:
    results = runner.run(paths, runner.Options(project=project))
    out = set()
    for result in results:
        assert result.error is None, result.error
        for d in result.diagnostics:
            out.add((Path(result.path).relative_to(root).as_posix(), d.span.line, d.code))
    return out


@pytest.mark.parametrize("case", PROJECT_CASES, ids=lambda c: c.name)
def test_project_case(case: ProjectCase, tmp_path: Path) -> None:
    paths = write(tmp_path, case)
    assert found(tmp_path, paths) == case.expected


@pytest.mark.parametrize("case", PROJECT_CASES, ids=lambda c: c.name)
def test_project_case_off(case: ProjectCase, tmp_path: Path) -> None:
    """``--no-whole-project``: none of the calls into other files is judged."""
    paths = write(tmp_path, case)
    assert found(tmp_path, paths, project=False) == set()


def test_one_file_of_the_project_is_judged_alone(tmp_path: Path) -> None:
    """A run over one file does not read the others: the wrapper is not in it."""
    case = PROJECT_CASES[0]
    write(tmp_path, case)
    assert found(tmp_path, [tmp_path / "pkg" / "net.py"]) == set()


def test_a_bias_read_in_another_file_makes_the_fix_unsafe(tmp_path: Path) -> None:
    """End to end: the finding at the call, its fix unsafe, its state_dict key the
    call's attribute then the layer's (``a.conv.bias``)."""
    case = next(c for c in PROJECT_CASES if c.name == "bias_read_from_another_file_keeps_the_finding")
    write(tmp_path, case)
    proc = run_cli(["check", "--whole-project", "--output-format", "json", "--no-cache", "."], cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    (finding,) = json.loads(proc.stdout)
    assert (finding["path"], finding["line"], finding["code"]) == ("pkg/net.py", 8, "CBL001")
    assert finding["fix"]["applicability"] == "unsafe"
    assert "pkg/init.py:2" in finding["fix"]["unsafe_reason"]
    assert finding["fix"]["state_keys"] == ["a.conv.bias"]
    proc = run_cli(["check", "--whole-project", "--fix", "--no-cache", "."], cwd=tmp_path)
    assert proc.returncode == 1
    assert "bias=True" in (tmp_path / "pkg" / "net.py").read_text()


# ------------------------------------------------------------------ runtime proof


def _import(root: Path, entry: str):  # type: ignore[no-untyped-def]
    import importlib
    import sys

    top = entry.partition(".")[0]
    for name in [m for m in sys.modules if m == top or m.startswith(top + ".")]:
        del sys.modules[name]
    sys.path.insert(0, str(root))
    try:
        return importlib.import_module(entry)
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == top or m.startswith(top + ".")]:
            del sys.modules[name]


def _outputs(torch, module, inputs, biases: dict[str, object], mode: str):  # type: ignore[no-untyped-def]
    """Outputs of a copy of the model with these bias values, in training mode or
    in eval mode after its norms' statistics were accumulated on the inputs."""
    import copy

    model = copy.deepcopy(module.model).double()
    state = model.state_dict()
    with torch.no_grad():
        for name, value in biases.items():
            state[name].copy_(value)
    for m in model.modules():
        if hasattr(m, "momentum") and hasattr(m, "running_mean"):
            m.momentum = None  # cumulative average: exactly the statistics of the passes
    model.train()
    inputs = tuple(t.double() for t in inputs)
    out = model(*inputs)
    if mode == "eval":
        for _ in range(2):
            model(*inputs)
        model.eval()
        out = model(*inputs)
    return out, model


RUNNABLE = [c for c in PROJECT_CASES if c.entry]


@pytest.mark.parametrize("case", RUNNABLE, ids=lambda c: c.name)
def test_runtime_proof(case: ProjectCase, tmp_path: Path) -> None:
    """Each flagged call builds a layer whose bias gets exactly zero gradient and
    whose random values leave training- and eval-mode outputs unchanged; the
    near misses' biases change them."""
    torch = pytest.importorskip("torch")
    paths = write(tmp_path, case)
    flagged = {(p, line) for p, line, _ in found(tmp_path, paths)}
    assert flagged == set(case.proof), "every flagged call has a proof entry"
    module = _import(tmp_path, case.entry)  # type: ignore[arg-type]
    torch.manual_seed(0)
    names = list(case.proof.values())
    for mode in ("train", "eval"):
        base, model = _outputs(torch, module, module.inputs, {}, mode)
        for name in names:
            shape = model.state_dict()[name].shape
            changed, _ = _outputs(torch, module, module.inputs, {name: torch.randn(shape) * 3}, mode)
            assert torch.allclose(base, changed, rtol=1e-9, atol=1e-9), (mode, name)
        for name in case.live:
            shape = model.state_dict()[name].shape
            changed, _ = _outputs(torch, module, module.inputs, {name: torch.randn(shape) * 3}, mode)
            assert not torch.allclose(base, changed, rtol=1e-6, atol=1e-6), (mode, name)
    # Zero gradient, in training mode.
    out, model = _outputs(torch, module, module.inputs, {n: torch.randn(model.state_dict()[n].shape) for n in names}, "train")
    (out * torch.randn_like(out)).sum().backward()
    params = dict(model.named_parameters())
    for name in names:
        grad = params[name].grad
        weight = params[name[: -len("bias")] + "weight"].grad
        assert grad is not None and weight is not None
        assert grad.abs().max() <= 1e-9 * max(1.0, weight.abs().max().item()), name


@pytest.mark.parametrize("case", RUNNABLE, ids=lambda c: c.name)
def test_fix_at_the_call_site(case: ProjectCase, tmp_path: Path) -> None:
    """``convbnlint check --fix`` (the installed command) edits the calls: the
    flagged biases are gone from the model, nothing else changed, outputs equal
    the original's with those biases zero, and a second run finds nothing."""
    torch = pytest.importorskip("torch")
    write(tmp_path, case)
    before = {p: (tmp_path / p).read_bytes() for p in case.files}
    original = _import(tmp_path, case.entry)  # type: ignore[arg-type]
    proc = run_cli(["check", "--whole-project", "--fix", "--no-cache", "."], cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for rel, text in before.items():
        after = (tmp_path / rel).read_bytes()
        if any(p == rel for p, _ in case.proof):
            old_lines, new_lines = text.splitlines(), after.splitlines()
            assert len(old_lines) == len(new_lines)
            changed = {i + 1 for i, (a, b) in enumerate(zip(old_lines, new_lines)) if a != b}
            assert changed == {line for p, line in case.proof if p == rel}
        else:
            assert after == text, rel
    fixed = _import(tmp_path, case.entry)  # type: ignore[arg-type]
    state = fixed.model.state_dict()
    for name in case.proof.values():
        assert name not in state
    zeros = {n: torch.zeros(original.model.state_dict()[n].shape) for n in case.proof.values()}
    torch.manual_seed(1)
    want, _ = _outputs(torch, original, original.inputs, zeros, "train")
    fixed.model.load_state_dict({k: v for k, v in original.model.state_dict().items() if k in state})
    got, _ = _outputs(torch, fixed, original.inputs, {}, "train")
    assert torch.allclose(want, got, rtol=1e-9, atol=1e-9)
    assert run_cli(["check", "--whole-project", "--no-cache", "."], cwd=tmp_path).returncode == 0


def test_off_by_default_and_on_from_the_configuration(tmp_path: Path) -> None:
    case = PROJECT_CASES[0]
    write(tmp_path, case)
    proc = run_cli(["check", "--no-cache", "."], cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout
    (tmp_path / "pyproject.toml").write_text("[tool.convbnlint]\nwhole-project = true\n")
    proc = run_cli(["check", "--no-cache", "--output-format", "concise", "."], cwd=tmp_path)
    assert proc.returncode == 1
    assert sorted(line.split(":")[1] for line in proc.stdout.splitlines() if "CBL001" in line) == ["11", "9"]
    assert run_cli(["check", "--no-whole-project", "--no-cache", "."], cwd=tmp_path).returncode == 0


def test_the_cache_follows_the_other_files(tmp_path: Path) -> None:
    """A cached result depends on the wrapper's file: changing only that file
    changes the result of its caller (and an unchanged tree is answered from
    the cache)."""
    import os

    case = PROJECT_CASES[1]  # ConvBN(3, 8): the default bias is on
    write(tmp_path, case)
    args = ["check", "--whole-project", "--output-format", "concise", "."]
    first = run_cli(args, cwd=tmp_path)
    assert first.returncode == 1 and "net.py:9:" in first.stdout
    again = run_cli(args, cwd=tmp_path)
    assert again.stdout == first.stdout
    layers = tmp_path / "pkg" / "layers.py"
    text = layers.read_text().replace("bias=True, norm_layer", "bias=False, norm_layer")
    layers.write_text(text)
    st = layers.stat()
    os.utime(layers, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    after = run_cli(args, cwd=tmp_path)
    assert after.returncode == 0, after.stdout
    caches = [p for p in (tmp_path / ".convbnlint_cache").rglob("*-p*.json") if not p.name.endswith(".wrappers.json")]
    assert len(caches) == 1  # the stale one is gone
