"""``convbnlint migrate OLD NEW --model MODULE:CALLABLE [--dry-run]``.

The happy paths and a few refusals run the installed command; the rest of the
bad-input matrix runs the same click command in-process (each subprocess pays
~2 s of torch import).  Every refusal: exit 2, one ``convbnlint: error:`` line
naming the file or option and the reason, and nothing written.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    torch = pytest.importorskip("torch")

from click.testing import CliRunner  # noqa: E402
from torch import nn  # noqa: E402

from convbnlint.cli import main  # noqa: E402
from tests import migrate_util as mu  # noqa: E402
from tests.util import run  # noqa: E402

MODEL = """\
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, bias=False):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, bias=bias)
        self.bn = nn.BatchNorm2d(4)
        self.head = nn.Sequential(nn.Conv2d(4, 5, 1, bias=bias), nn.MaxPool2d(2), nn.BatchNorm2d(5))

    def forward(self, x):
        return self.head(torch.relu(self.bn(self.conv(x))))


def build():
    return Net().double()


def old():
    return Net(bias=True).double()


def broken():
    raise RuntimeError("no GPU here")


def not_a_model():
    return 42


class Unfoldable(Net):
    def forward(self, x):
        return self.head(self.bn(torch.relu(self.conv(x))))  # the conv's bias matters here


def unfoldable():
    return Unfoldable().double()


def other():
    return nn.Sequential(nn.Linear(2, 2))


raise_on_import = False
if raise_on_import:
    raise ImportError("never")
"""

INPUTS = (torch.randn(4, 3, 10, 10, dtype=torch.float64, generator=torch.Generator().manual_seed(1)),)


@pytest.fixture(autouse=True)
def _float64() -> Iterator[None]:
    with mu.float64():
        yield


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "netdef.py").write_text(MODEL)
    return tmp_path


def old_model(project: Path) -> nn.Module:
    return mu.randomize(mu.load_module(project / "netdef.py").old())


def fixed_model(project: Path) -> nn.Module:
    return mu.load_module(project / "netdef.py").build()


def test_torch_checkpoint_nested_with_module_prefix(project: Path) -> None:
    old = old_model(project)
    optimizer = torch.optim.SGD(old.parameters(), lr=0.1, momentum=0.9)
    old(*INPUTS).sum().backward()
    optimizer.step()
    ddp = {f"module.{k}": v for k, v in old.state_dict().items()}
    torch.save({"state_dict": ddp, "state_dict_ema": dict(ddp), "epoch": 7, "optimizer": optimizer.state_dict()}, project / "old.pt")
    before = (project / "old.pt").read_bytes()

    dry = run(["migrate", "old.pt", "new.pt", "--model", "netdef:build", "--dry-run"], cwd=project)
    assert dry.returncode == 0, dry.stderr
    assert not (project / "new.pt").exists()
    assert dry.stdout.splitlines() == [
        "['state_dict'] removed module.conv.bias",
        "['state_dict'] removed module.head.0.bias",
        "['state_dict'] changed module.bn.running_mean -= module.conv.bias",
        "['state_dict'] changed module.head.2.running_mean -= module.head.0.bias",
        "['state_dict_ema'] removed module.conv.bias",
        "['state_dict_ema'] removed module.head.0.bias",
        "['state_dict_ema'] changed module.bn.running_mean -= module.conv.bias",
        "['state_dict_ema'] changed module.head.2.running_mean -= module.head.0.bias",
        "note: 'optimizer' (optimizer state) is copied unchanged, but it lists parameters by "
        "position and no longer matches the fixed model: start a new optimizer when you resume training",
        "Would write new.pt: 2 biases removed, 2 running means changed (dry run, nothing written).",
    ]

    done = run(["migrate", "old.pt", "new.pt", "--model", "netdef:build"], cwd=project)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "Wrote new.pt: 2 biases removed, 2 running means changed."
    assert (project / "old.pt").read_bytes() == before
    saved = torch.load(project / "new.pt", weights_only=True)
    assert saved["epoch"] == 7 and set(saved) == {"state_dict", "state_dict_ema", "epoch", "optimizer"}
    assert all(k.startswith("module.") for k in saved["state_dict"])
    new = fixed_model(project)
    new.load_state_dict({k[len("module.") :]: v for k, v in saved["state_dict"].items()}, strict=True)
    mu.assert_same(old, new, INPUTS)
    assert not [p for p in os.listdir(project) if p.startswith(".new.pt.")]  # no temporary file left


def test_safetensors_keeps_format_and_metadata(project: Path) -> None:
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    old = old_model(project)
    save_file(old.state_dict(), project / "old.safetensors", metadata={"format": "pt", "run": "42"})
    done = run(["migrate", "old.safetensors", "out/new.safetensors", "--model", "netdef.py:build"], cwd=project / ".." / project.name)
    assert done.returncode == 2 and "folder out does not exist" in done.stderr
    done = run(["migrate", "old.safetensors", "new.safetensors", "--model", str(project / "netdef.py") + ":build"], cwd=project)
    assert done.returncode == 0, done.stderr
    with safe_open(str(project / "new.safetensors"), "pt") as fh:
        assert fh.metadata() == {"format": "pt", "run": "42"}
    new = fixed_model(project)
    new.load_state_dict(load_file(project / "new.safetensors"), strict=True)
    mu.assert_same(old, new, INPUTS)


def test_refusals_through_the_real_command(project: Path) -> None:
    old = old_model(project)
    torch.save(old, project / "pickled_model.pt")
    torch.save(old.state_dict(), project / "old.pt")
    cases = [
        (["pickled_model.pt", "n.pt", "--model", "netdef:build"], "pickled_model.pt: torch.load(weights_only=True) refuses it: it holds a"),
        (["old.pt", "n.pt", "--model", "netdef:unfoldable"], "is not cancelled by a norm"),
        (["old.pt", "n.pt", "--model", "nosuchmodule:build"], "--model: no module named 'nosuchmodule'"),
    ]
    for args, message in cases:
        done = run(["migrate", *args], cwd=project)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert done.stderr.startswith("convbnlint: error: ") and message in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert done.stdout == ""
        assert not (project / "n.pt").exists()


def in_process(project: Path, *args: str) -> tuple[int, str, str]:
    cwd = os.getcwd()
    os.chdir(project)
    try:
        result = CliRunner().invoke(main, ["migrate", *args])
    finally:
        os.chdir(cwd)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.pt", "n.pt", "--model", "netdef:build"], "missing.pt: no such file"),
        (["folder", "n.pt", "--model", "netdef:build"], "folder: not a regular file"),
        (["netdef.py", "n.pt", "--model", "netdef:build"], "netdef.py: not a PyTorch checkpoint (unpickling failed"),
        (["empty.pt", "n.pt", "--model", "netdef:build"], "empty.pt: not a PyTorch checkpoint (the file is empty"),
        (["truncated.pt", "n.pt", "--model", "netdef:build"], "truncated.pt: not a PyTorch checkpoint"),
        (["junk.safetensors", "n.safetensors", "--model", "netdef:build"], "junk.safetensors: not a safetensors file"),
        (["list.pt", "n.pt", "--model", "netdef:build"], "list.pt: not a checkpoint: it holds a list"),
        (["nested.pt", "n.pt", "--model", "netdef:build"], "nested.pt: not a checkpoint: no state dict at the top level or under 'state_dict' or 'model' (top-level keys: 'weights', 'epoch')"),
        (["old.pt", "n.pt", "--model", "netdef"], "--model 'netdef': expected MODULE:CALLABLE"),
        (["old.pt", "n.pt", "--model", "netdef:nothing"], "--model: netdef has no attribute 'nothing'"),
        (["old.pt", "n.pt", "--model", "netdef:broken"], "--model: building the model with netdef:broken() failed: RuntimeError: no GPU here"),
        (["old.pt", "n.pt", "--model", "netdef:not_a_model"], "--model: netdef:not_a_model() returned a int, not a torch.nn.Module"),
        (["old.pt", "n.pt", "--model", "crashes.py:build"], "--model: importing crashes.py failed: ZeroDivisionError: division by zero"),
        (["old.pt", "n.pt", "--model", "netdef:other"], "old.pt: the checkpoint does not belong to this model: missing keys `0.weight`, `0.bias`; unexpected keys"),
        (["wrong_shape.pt", "n.pt", "--model", "netdef:build"], "wrong_shape.pt: the checkpoint does not belong to this model: shape mismatch: `conv.weight` (4, 3, 5, 5) vs (4, 3, 3, 3)"),
        (["old.pt", "n.pt", "--model", "netdef:unfoldable"], "old.pt: the removed bias of `conv` (Conv2d) is not cancelled by a norm: its output reaches `relu`"),
        (["old.pt", "n.safetensors", "--model", "netdef:build"], "n.safetensors: NEW must be in OLD's format (a torch checkpoint)"),
        (["old.pt", "old.pt", "--model", "netdef:build"], "old.pt: NEW must not be OLD"),
    ],
)
def test_bad_input(project: Path, args: list[str], message: str) -> None:
    old = old_model(project)
    sd = old.state_dict()
    torch.save(sd, project / "old.pt")
    (project / "folder").mkdir()
    (project / "empty.pt").write_bytes(b"")
    (project / "truncated.pt").write_bytes((project / "old.pt").read_bytes()[:200])
    (project / "junk.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}garbage")
    torch.save([1, 2], project / "list.pt")
    torch.save({"weights": sd, "epoch": 1}, project / "nested.pt")
    torch.save({**sd, "conv.weight": torch.zeros(4, 3, 5, 5)}, project / "wrong_shape.pt")
    (project / "crashes.py").write_text("1 / 0\n")
    before = sorted(os.listdir(project))
    code, out, err = in_process(project, *args)
    assert code == 2, (out, err)
    assert err.startswith("convbnlint: error: ") and message in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert sorted(os.listdir(project)) == [p for p in before]  # nothing written


def test_nothing_to_migrate_still_writes_a_copy(project: Path) -> None:
    torch.save(fixed_model(project).state_dict(), project / "new_style.pt")
    code, out, err = in_process(project, "new_style.pt", "copy.pt", "--model", "netdef:build")
    assert code == 0, err
    assert out.splitlines() == ["Wrote copy.pt: nothing to migrate, the checkpoint already fits the model."]


def test_help_says_it_runs_user_code() -> None:
    done = CliRunner().invoke(main, ["migrate", "--help"])
    assert done.exit_code == 0
    text = " ".join(done.stdout.split())
    assert "this command imports MODULE and runs CALLABLE (your code)" in text
    assert "weights_only=True" in text and "pip install '.[migrate]' in a clone" in text
    assert "convbnlint migrate OLD NEW" in " ".join(CliRunner().invoke(main, ["--help"]).stdout.split())


BLOCK_TORCH = "import sys; sys.modules['torch'] = None; sys.argv = ['convbnlint', *sys.argv[1:]]; from convbnlint.cli import main; main()"


def test_without_torch_migrate_says_how_to_install_and_linting_still_works(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("import torch.nn as nn\nblock = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))\n")
    env = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-c", BLOCK_TORCH, "migrate", "a.pt", "b.pt", "--model", "m:f"],
        cwd=tmp_path, capture_output=True, text=True, env=env,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "convbnlint: error: convbnlint migrate needs PyTorch (import of torch halted; None in "
        "sys.modules); install it with: pip install torch safetensors numpy (or install "
        "convbnlint with its migrate extra, e.g. pip install '.[migrate]' in a clone)"
    ]
    lint = subprocess.run(
        [sys.executable, "-c", BLOCK_TORCH, "--no-cache", "m.py"],
        cwd=tmp_path, capture_output=True, text=True, env=env,
    )
    assert lint.returncode == 1 and "CBL001" in lint.stdout, lint.stderr
