"""The whole workflow on real models: fix the source, migrate the old checkpoint, load, compare.

For each model below (Sequential, attributes chained in ``forward``, residual
blocks, pooling between conv and norm, InstanceNorm with and without running
statistics, Linear -> BatchNorm1d, VGG's conditional ``batch_norm`` built with
the norm on and off, nested ``ModuleList``s, several convs summed into one norm):

1. the original source builds the old model; every weight and running
   statistic is randomised in float64 and its ``state_dict`` saved (``.pt`` and
   ``.safetensors``);
2. the source is fixed with the real command (``convbnlint --fix``); where the
   linter is silent by design (a sum of convs, tuple-unpacked ``ModuleList``
   pairs) the same edit is made by hand, as a user would;
3. the fixed source builds the new model; the old checkpoint is migrated through
   the API (``migrate_state_dict``) and through ``convbnlint migrate`` on both
   file formats, loaded with ``strict=True``, and eval- and train-mode outputs
   are compared with the old model's: max |diff| <= 1e-9.
"""

from __future__ import annotations

import shutil
import textwrap
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    torch = pytest.importorskip("torch")

from convbnlint.migrate import migrate_state_dict  # noqa: E402
from tests import migrate_util as mu  # noqa: E402
from tests.util import run  # noqa: E402

HEAD = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n"

MODELS: dict[str, str] = {
    "sequential": """
        def build():
            return nn.Sequential(
                nn.Conv2d(3, 8, 3, padding=1),
                nn.BatchNorm2d(8),
                nn.ReLU(inplace=True),
                nn.Conv2d(8, 8, kernel_size=3, stride=2),
                nn.BatchNorm2d(8),
            )

        def inputs():
            return (torch.randn(4, 3, 12, 12),)
    """,
    "chained": """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 6, 3)
                self.bn = nn.BatchNorm2d(6)
                self.up = nn.ConvTranspose2d(6, 4, 2, stride=2)
                self.norm = nn.BatchNorm2d(4)

            def forward(self, x):
                y = self.conv(x)
                y = F.relu(self.bn(y))
                return self.norm(self.up(y))

        def build():
            return Net()

        def inputs():
            return (torch.randn(4, 3, 10, 10),)
    """,
    "residual": """
        class Block(nn.Module):
            def __init__(self, cin, cout, stride=1):
                super().__init__()
                self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1)
                self.bn1 = nn.BatchNorm2d(cout)
                self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
                self.bn2 = nn.BatchNorm2d(cout)
                self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride), nn.BatchNorm2d(cout))

            def forward(self, x):
                out = F.relu(self.bn1(self.conv1(x)))
                out = self.bn2(self.conv2(out))
                return F.relu(out + self.shortcut(x))

        def build():
            return nn.Sequential(Block(3, 6, 2), Block(6, 6))

        def inputs():
            return (torch.randn(4, 3, 12, 12),)
    """,
    "pooling": """
        def build():
            return nn.Sequential(
                nn.Conv2d(3, 6, 3, padding=1),
                nn.MaxPool2d(2),
                nn.BatchNorm2d(6),
                nn.ReLU(),
                nn.Conv2d(6, 6, 3, padding=1),
                nn.AvgPool2d(2),
                nn.BatchNorm2d(6),
                nn.ReLU(),
                nn.Conv2d(6, 4, 1),
                nn.AdaptiveAvgPool2d(2),
                nn.Flatten(),
                nn.BatchNorm1d(16),
            )

        def inputs():
            return (torch.randn(4, 3, 16, 16),)
    """,
    "instancenorm": """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Conv2d(3, 4, 3)
                self.plain = nn.InstanceNorm2d(4)
                self.b = nn.Conv2d(4, 4, 3)
                self.tracked = nn.InstanceNorm2d(4, affine=True, track_running_stats=True)

            def forward(self, x):
                return self.tracked(self.b(F.relu(self.plain(self.a(x)))))

        def build():
            return Net()

        def inputs():
            return (torch.randn(3, 3, 12, 12),)
    """,
    "linear_bn1d": """
        def build():
            return nn.Sequential(
                nn.Linear(10, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 8), nn.BatchNorm1d(8)
            )

        def inputs():
            return (torch.randn(6, 10),)
    """,
    "vgg_conditional": """
        def make_layers(cfg, batch_norm=False):
            layers = []
            in_channels = 3
            for v in cfg:
                if v == "M":
                    layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
                else:
                    conv2d = nn.Conv2d(in_channels, v, kernel_size=3, padding=1)
                    if batch_norm:
                        layers += [conv2d, nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
                    else:
                        layers += [conv2d, nn.ReLU(inplace=True)]
                    in_channels = v
            return nn.Sequential(*layers)

        def build_bn():
            return make_layers([4, "M", 8, 8], batch_norm=True)

        def build_plain():
            return make_layers([4, "M", 8, 8], batch_norm=False)

        def inputs():
            return (torch.randn(4, 3, 12, 12),)
    """,
    "nested_lists": """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.stages = nn.ModuleList(
                    [
                        nn.ModuleList([nn.Conv2d(4, 4, 3, padding=1, bias=True), nn.BatchNorm2d(4)])  # by hand
                        for _ in range(2)
                    ]
                )
                self.blocks = nn.ModuleList()
                for _ in range(2):
                    self.blocks.append(nn.Sequential(nn.Conv2d(4, 4, 1), nn.BatchNorm2d(4), nn.ReLU()))

            def forward(self, x):
                for conv, bn in self.stages:
                    x = F.relu(bn(conv(x)))
                for block in self.blocks:
                    x = block(x)
                return x

        def build():
            return Net()

        def inputs():
            return (torch.randn(4, 4, 8, 8),)
    """,
    "summed": """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Conv2d(3, 4, 3, padding=1, bias=True)  # by hand
                self.b = nn.Conv2d(3, 4, 1, bias=True)  # by hand
                self.bn = nn.BatchNorm2d(4)

            def forward(self, x):
                return self.bn(self.a(x) + self.b(x))

        def build():
            return Net()

        def inputs():
            return (torch.randn(4, 3, 8, 8),)
    """,
}

# (file, builder) pairs; the state_dict keys each migration must remove.
BUILDERS: dict[tuple[str, str], set[str]] = {
    ("sequential", "build"): {"0.bias", "3.bias"},
    ("chained", "build"): {"conv.bias", "up.bias"},
    ("residual", "build"): {f"{b}.{k}.bias" for b in "01" for k in ("conv1", "conv2", "shortcut.0")},
    ("pooling", "build"): {"0.bias", "4.bias", "8.bias"},
    ("instancenorm", "build"): {"a.bias", "b.bias"},
    ("linear_bn1d", "build"): {"0.bias", "3.bias"},
    ("vgg_conditional", "build_bn"): {"0.bias", "4.bias", "7.bias"},
    ("vgg_conditional", "build_plain"): set(),
    ("nested_lists", "build"): {"stages.0.0.bias", "stages.1.0.bias", "blocks.0.0.bias", "blocks.1.0.bias"},
    ("summed", "build"): {"a.bias", "b.bias"},
}
SAFETENSORS = {("residual", "build"), ("pooling", "build"), ("vgg_conditional", "build_bn"), ("summed", "build")}


@pytest.fixture(autouse=True)
def _float64() -> Iterator[None]:
    with mu.float64():
        yield


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``original/`` and ``fixed/`` copies of every model; ``fixed/`` went through ``--fix``."""
    root = tmp_path_factory.mktemp("proof")
    for folder in ("original", "fixed"):
        (root / folder).mkdir()
        for name, body in MODELS.items():
            (root / folder / f"{name}.py").write_text(HEAD + textwrap.dedent(body).lstrip("\n"))
    done = run(["--fix", "--no-cache", "fixed"], cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "fixed" in done.stdout, done.stdout
    for path in (root / "fixed").glob("*.py"):
        lines = path.read_text().splitlines(keepends=True)
        path.write_text(
            "".join(
                line.replace("bias=True", "bias=False") if line.rstrip().endswith("# by hand") else line
                for line in lines
            )
        )
    return root


def test_the_fix_changed_the_sources_as_expected(sources: Path) -> None:
    fixed = (sources / "fixed" / "vgg_conditional.py").read_text()
    assert "nn.Conv2d(in_channels, v, kernel_size=3, padding=1, bias=not batch_norm)" in fixed
    assert "nn.Conv2d(8, 8, kernel_size=3, stride=2, bias=False)" in (sources / "fixed" / "sequential.py").read_text()
    unchanged = {p.name for p in (sources / "fixed").glob("*.py") if p.read_text() == (sources / "original" / p.name).read_text()}
    assert unchanged == set()


def _models(sources: Path, name: str, builder: str) -> tuple[object, object, tuple]:
    original = mu.load_module(sources / "original" / f"{name}.py")
    fixed = mu.load_module(sources / "fixed" / f"{name}.py")
    torch.manual_seed(0)
    inputs = original.inputs()
    old = mu.randomize(mu.build(getattr(original, builder), inputs), seed=len(name))
    new = mu.build(getattr(fixed, builder), inputs)
    return old, new, inputs


@pytest.mark.parametrize(("name", "builder"), list(BUILDERS), ids=[f"{n}:{b}" for n, b in BUILDERS])
def test_api(sources: Path, name: str, builder: str) -> None:
    old, new, inputs = _models(sources, name, builder)
    sd = old.state_dict()
    migrated = migrate_state_dict(new, sd)
    assert set(sd) - set(migrated) == BUILDERS[(name, builder)]
    new.load_state_dict(migrated, strict=True)
    mu.assert_same(old, new, inputs)


@pytest.mark.parametrize(("name", "builder"), list(BUILDERS), ids=[f"{n}:{b}" for n, b in BUILDERS])
def test_command(sources: Path, tmp_path: Path, name: str, builder: str) -> None:
    from safetensors.torch import load_file, save_file

    old, new, inputs = _models(sources, name, builder)
    formats = ["pt"] + (["safetensors"] if (name, builder) in SAFETENSORS else [])
    for ext in formats:
        fresh = mu.build(getattr(mu.load_module(sources / "fixed" / f"{name}.py"), builder), inputs)
        if ext == "pt":
            torch.save(old.state_dict(), tmp_path / "old.pt")
        else:
            save_file({k: v.contiguous() for k, v in old.state_dict().items()}, tmp_path / "old.safetensors")
        model = f"{sources / 'fixed' / name}.py:{builder}"
        done = run(["migrate", f"old.{ext}", f"new.{ext}", "--model", model], cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        removed = {line.split()[-1] for line in done.stdout.splitlines() if line.startswith("removed ")}
        assert removed == BUILDERS[(name, builder)]
        if ext == "pt":
            state = torch.load(tmp_path / "new.pt", weights_only=True)
        else:
            state = load_file(tmp_path / "new.safetensors")
        fresh.load_state_dict(state, strict=True)
        mu.assert_same(old, fresh, inputs)
    del new


def test_readme_workflow_matches(sources: Path) -> None:
    """The README's three commands are the ones this file runs."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert "convbnlint --fix models/" in readme
    assert "convbnlint migrate old.pt new.pt --model models.resnet:build" in readme
    assert "model.load_state_dict(torch.load(\"new.pt\", weights_only=True))" in readme
    shutil.rmtree(sources / "fixed" / "__pycache__", ignore_errors=True)
