"""The output side of fix applicability (Ruff's model): ``--unsafe-fixes``, the
config key, what ``--fix``/``--diff``/notebooks/stdin apply, and how every format
carries a fix's applicability, its reason and the ``state_dict`` entries it
removes.

Until the analysis produces unsafe fixes itself, findings get their applicability
from marker comments through the test hook ``tests/applicability_site`` (on
``PYTHONPATH``): the command, the fixer, the verification and the reporters are
the real, installed ones.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from convbnlint.report import ReportOptions, summary
from convbnlint.types import Applicability, Diagnostic, FileResult, Span
from tests.util import APPLICABILITY_ENV, run

MSG = "Conv2d bias is cancelled by the following BatchNorm2d; pass bias=False"
SRC = """\
import torch.nn as nn

a = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))  # test: unsafe
b = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))  # test: keys=b.0.bias
c = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))  # test: display-only
"""
A_FIXED = SRC.replace(
    "a = nn.Sequential(nn.Conv2d(3, 8, 3)", "a = nn.Sequential(nn.Conv2d(3, 8, 3, bias=False)"
)
B_FIXED = SRC.replace(
    "b = nn.Sequential(nn.Conv2d(3, 8, 3)", "b = nn.Sequential(nn.Conv2d(3, 8, 3, bias=False)"
)
BOTH = A_FIXED.replace(
    "b = nn.Sequential(nn.Conv2d(3, 8, 3)", "b = nn.Sequential(nn.Conv2d(3, 8, 3, bias=False)"
)
HIDDEN = "1 hidden fix can be enabled with the `--unsafe-fixes` option"


def lint(args: list[str], cwd: Path, stdin: bytes | None = None):  # type: ignore[no-untyped-def]
    return run(["--no-cache", *args], cwd=cwd, stdin=stdin, env=APPLICABILITY_ENV)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "m.py").write_text(SRC)
    return tmp_path


# -- the summary, from constructed diagnostics ------------------------------------------


def _d(line: int, applicability: Applicability, fixable: bool = True) -> Diagnostic:
    return Diagnostic(
        "CBL001",
        "conv-bias-before-norm",
        MSG,
        Span(line, 1, line, 5),
        fixable,
        applicability=applicability,
        unsafe_reason="line 9 reads conv.bias",
    )


@pytest.mark.parametrize(
    ("kinds", "unsafe_fixes", "expected"),
    [
        ([Applicability.SAFE] * 2, False, "Found 2 issues (2 fixable with --fix)."),
        (
            [Applicability.SAFE, Applicability.UNSAFE],
            False,
            f"Found 2 issues (1 fixable with --fix; {HIDDEN}).",
        ),
        (
            [Applicability.UNSAFE] * 2,
            False,
            "Found 2 issues (no fixes available; 2 hidden fixes can be enabled with the "
            "`--unsafe-fixes` option).",
        ),
        (
            [Applicability.SAFE, Applicability.UNSAFE],
            True,
            "Found 2 issues (2 fixable with --fix).",
        ),
        ([Applicability.DISPLAY_ONLY], True, "Found 1 issue."),
        ([], False, "All checks passed!"),
    ],
)
def test_summary_counts_hidden_fixes(
    kinds: list[Applicability], unsafe_fixes: bool, expected: str
) -> None:
    result = FileResult("m.py", [_d(i + 1, k) for i, k in enumerate(kinds)])
    opts = ReportOptions(
        color=False, frames=False, quiet=False, fixing=False, unsafe_fixes=unsafe_fixes
    )
    assert summary([result], opts) == expected


def test_summary_after_fix() -> None:
    result = FileResult(
        "m.py",
        [_d(3, Applicability.UNSAFE)],
        fixed=2,
        applied=[_d(1, Applicability.SAFE), _d(2, Applicability.SAFE)],
    )
    opts = ReportOptions(color=False, frames=False, quiet=False, fixing=True)
    assert summary([result], opts) == f"Found 3 issues (2 fixed, 1 remaining; {HIDDEN})."


# -- end to end ---------------------------------------------------------------------------------


def test_text_concise_and_statistics(project: Path) -> None:
    res = lint(["m.py"], project)
    assert res.returncode == 1
    assert res.stdout.splitlines() == [
        f"m.py:3:19: CBL001 {MSG}",
        "  = note: unsafe fix: line 3 reads the bias (test marker); --fix applies it only with"
        " --unsafe-fixes",
        f"m.py:4:19: CBL001 {MSG}",
        f"m.py:5:19: CBL001 {MSG}",
        "  = note: the fix is only shown: --fix never applies it",
        f"Found 3 issues (1 fixable with --fix; {HIDDEN}).",
    ]
    concise = lint(["--format", "concise", "m.py"], project)
    assert concise.stdout.splitlines() == [
        f"m.py:3:19: CBL001 {MSG} (unsafe fix)",
        f"m.py:4:19: CBL001 [*] {MSG}",
        f"m.py:5:19: CBL001 {MSG} (display-only fix)",
        f"Found 3 issues (1 fixable with --fix; {HIDDEN}).",
    ]
    enabled = lint(["--format", "concise", "--unsafe-fixes", "m.py"], project)
    assert enabled.stdout.splitlines()[0] == f"m.py:3:19: CBL001 [*] {MSG} (unsafe fix)"
    assert enabled.stdout.splitlines()[-1] == "Found 3 issues (2 fixable with --fix)."
    stats = lint(["--statistics", "m.py"], project)
    assert stats.stdout == (
        f"3\tCBL001\t[-] conv-bias-before-norm\nFound 3 issues (1 fixable with --fix; {HIDDEN}).\n"
    )
    rows = json.loads(lint(["--statistics", "--format", "json", "m.py"], project).stdout)
    assert rows == [
        {
            "code": "CBL001",
            "name": "conv-bias-before-norm",
            "count": 3,
            "fixable": False,
            "fixable_count": 1,
        }
    ]


def test_fix_applies_safe_fixes_only_unless_asked(project: Path) -> None:
    res = lint(["--fix", "m.py"], project)
    assert res.returncode == 1  # the unsafe and the display-only findings remain
    assert (project / "m.py").read_text() == B_FIXED
    out = res.stdout.splitlines()
    assert out[-3:] == [
        "Removed from the models' state_dict (checkpoints saved before the fix still hold these"
        " entries; convert them with `convbnlint migrate`):",
        "  m.py:4:19: b.0.bias",
        f"Found 3 issues (1 fixed, 2 remaining; {HIDDEN}).",
    ]
    again = lint(["--fix", "--unsafe-fixes", "m.py"], project)
    assert again.returncode == 1  # display-only: never applied
    assert (project / "m.py").read_text() == BOTH
    assert again.stdout.splitlines()[-1] == "Found 2 issues (1 fixed, 1 remaining)."


def test_config_key_and_its_negation(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.convbnlint]\nunsafe-fixes = true\n")
    lint(["--fix", "--no-unsafe-fixes", "m.py"], project)
    assert (project / "m.py").read_text() == B_FIXED
    lint(["--fix", "m.py"], project)
    assert (project / "m.py").read_text() == BOTH


def test_diff(project: Path) -> None:
    res = lint(["--diff", "m.py"], project)
    assert res.returncode == 1
    assert "+b = nn.Sequential(nn.Conv2d(3, 8, 3, bias=False)" in res.stdout
    assert "+a = " not in res.stdout
    assert res.stderr == "Would fix 1 issue (1 additional fix available with `--unsafe-fixes`).\n"
    res = lint(["--diff", "--unsafe-fixes", "m.py"], project)
    assert "+a = nn.Sequential(nn.Conv2d(3, 8, 3, bias=False)" in res.stdout
    assert res.stderr == "Would fix 2 issues.\n"
    assert (project / "m.py").read_text() == SRC


def test_json_carries_applicability_and_after_fix_the_state_keys(project: Path) -> None:
    rows = json.loads(lint(["--format", "json", "m.py"], project).stdout)
    assert [r["fix"] for r in rows] == [
        {
            "applicability": "unsafe",
            "message": "Pass bias=False",
            "applies": False,
            "unsafe_reason": "line 3 reads the bias (test marker)",
            "state_keys": ["0.bias"],
        },
        {
            "applicability": "safe",
            "message": "Pass bias=False",
            "applies": True,
            "unsafe_reason": None,
            "state_keys": ["b.0.bias"],
        },
        {
            "applicability": "display-only",
            "message": "Pass bias=False",
            "applies": False,
            "unsafe_reason": None,
            "state_keys": ["0.bias"],
        },
    ]
    fixed = json.loads(lint(["--fix", "--format", "json", "m.py"], project).stdout)
    assert [(r["line"], r["fixed"]) for r in fixed] == [(3, False), (4, True), (5, False)]
    assert fixed[1]["fix"]["state_keys"] == ["b.0.bias"]
    assert "convbnlint migrate" in fixed[1]["fix"]["note"]


def test_machine_formats_carry_applicability(project: Path) -> None:
    gh = lint(["--format", "github", "m.py"], project).stdout.splitlines()
    assert gh[0].endswith(
        "%0A  help: Pass bias=False; unsafe fix: line 3 reads the bias (test marker); apply it"
        " with --fix --unsafe-fixes"
    )
    assert gh[1].endswith("%0A  help: Pass bias=False (fixable with --fix)")
    assert gh[2].endswith("%0A  help: Pass bias=False (not applied automatically)")
    sarif = json.loads(lint(["--format", "sarif", "m.py"], project).stdout)
    results = sarif["runs"][0]["results"]
    props = [r["properties"]["fix"] for r in results]
    assert props == [
        {
            "applicability": "unsafe",
            "applies": False,
            "unsafeReason": "line 3 reads the bias (test marker)",
            "stateKeys": ["0.bias"],
        },
        {"applicability": "safe", "applies": True, "stateKeys": ["b.0.bias"]},
        {"applicability": "display-only", "applies": False, "stateKeys": ["0.bias"]},
    ]
    assert [r["fixes"][0]["properties"]["applicability"] for r in results] == [
        "unsafe",
        "safe",
        "display-only",
    ]
    gitlab = json.loads(lint(["--format", "gitlab", "m.py"], project).stdout)
    assert gitlab[0]["content"]["body"].startswith("Pass bias=False: unsafe fix: line 3 reads")
    junit = lint(["--format", "junit", "m.py"], project).stdout
    assert "help: Pass bias=False; unsafe fix: line 3 reads the bias (test marker)" in junit


def test_the_cache_keeps_applicability(project: Path) -> None:
    cold = run(["--format", "json", "m.py"], cwd=project, env=APPLICABILITY_ENV)
    warm = run(["--format", "json", "m.py"], cwd=project, env=APPLICABILITY_ENV)
    assert (project / ".convbnlint_cache").is_dir()
    assert warm.stdout == cold.stdout
    assert json.loads(warm.stdout)[0]["fix"]["applicability"] == "unsafe"
    # A --fix after a cached run still leaves the unsafe fix alone.
    run(["--fix", "m.py"], cwd=project, env=APPLICABILITY_ENV)
    assert (project / "m.py").read_text() == B_FIXED


def test_stdin_and_notebooks(project: Path) -> None:
    res = lint(["--fix", "-", "--stdin-filename", "x.py"], project, stdin=SRC.encode())
    assert res.stdout == B_FIXED
    res = lint(
        ["--fix", "--unsafe-fixes", "-", "--stdin-filename", "x.py"], project, stdin=SRC.encode()
    )
    assert res.stdout == BOTH
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SRC)]
    path = project / "nb.ipynb"
    nbformat.write(nb, str(path))
    lint(["--fix", "nb.ipynb"], project)
    assert "".join(json.loads(path.read_text())["cells"][0]["source"]) == B_FIXED
    lint(["--fix", "--unsafe-fixes", "nb.ipynb"], project)
    assert "".join(json.loads(path.read_text())["cells"][0]["source"]) == BOTH


# -- with the real fix-safety analysis (no marker) -------------------------------------------

MODEL = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.bn = nn.BatchNorm2d(8)
        self.head = nn.Conv2d(8, 8, 1)
        self.head_bn = nn.BatchNorm2d(8)

    def forward(self, x):
        return self.head_bn(self.head(self.bn(self.conv(x))))
"""
HEAD_FIXED = MODEL.replace("nn.Conv2d(8, 8, 1)", "nn.Conv2d(8, 8, 1, bias=False)")


@pytest.fixture
def trained(tmp_path: Path) -> Path:
    """A model file and a training notebook that initialises the conv's bias."""
    nbformat = pytest.importorskip("nbformat")
    (tmp_path / "model.py").write_text(MODEL)
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# training"),
        nbformat.v4.new_code_cell("import torch\nfrom model import Net"),
        nbformat.v4.new_code_cell("net = Net()\ntorch.nn.init.zeros_(net.conv.bias)"),
    ]
    nbformat.write(nb, str(tmp_path / "train.ipynb"))
    return tmp_path


def test_real_analysis_a_notebook_read_makes_the_model_fix_unsafe(trained: Path) -> None:
    res = run(["--no-cache", "."], cwd=trained)
    assert res.returncode == 1
    assert res.stdout.splitlines() == [
        f"model.py:7:21: CBL001 {MSG}",
        "  = note: unsafe fix: train.ipynb:cell 3:2 reads the bias:"
        " `torch.nn.init.zeros_(net.conv.bias)`; --fix applies it only with --unsafe-fixes",
        f"model.py:9:21: CBL001 {MSG}",
        f"Found 2 issues (1 fixable with --fix; {HIDDEN}).",
    ]
    # Cached, and with --diff: the same judgement.
    assert run(["."], cwd=trained).stdout == res.stdout
    assert run(["."], cwd=trained).stdout == res.stdout
    diff = run(["--diff", "."], cwd=trained)
    assert "+        self.head = nn.Conv2d(8, 8, 1, bias=False)" in diff.stdout
    assert "bias=False)\n         self.bn" not in diff.stdout
    assert diff.stderr == "Would fix 1 issue (1 additional fix available with `--unsafe-fixes`).\n"
    fixed = run(["--fix", "."], cwd=trained)
    assert (trained / "model.py").read_text() == HEAD_FIXED
    assert "  model.py:9:21: head.bias" in fixed.stdout.splitlines()
    assert fixed.stdout.splitlines()[-1] == f"Found 2 issues (1 fixed, 1 remaining; {HIDDEN})."
    rows = json.loads(run(["--format", "json", "."], cwd=trained).stdout)
    assert rows[0]["fix"]["applicability"] == "unsafe"
    assert rows[0]["fix"]["unsafe_reason"].startswith("train.ipynb:cell 3:2 reads the bias")
    both = run(["--fix", "--unsafe-fixes", "."], cwd=trained)
    assert both.returncode == 0
    assert "nn.Conv2d(3, 8, 3, bias=False)" in (trained / "model.py").read_text()
    assert "  model.py:7:21: conv.bias" in both.stdout.splitlines()


def test_real_analysis_a_py_read_makes_a_notebook_fix_unsafe(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(MODEL + "\nnet = Net()\n")]
    nbformat.write(nb, str(tmp_path / "model.ipynb"))
    (tmp_path / "init.py").write_text("def init(net):\n    net.head.bias.data.zero_()\n")
    rows = json.loads(run(["--no-cache", "--format", "json", "."], cwd=tmp_path).stdout)
    assert [(r["cell"], r["line"], r["fix"]["applicability"]) for r in rows] == [
        (1, 7, "safe"),
        (1, 9, "unsafe"),
    ]
    assert rows[1]["fix"]["unsafe_reason"].startswith("init.py:2 reads the bias")
    run(["--no-cache", "--fix", "."], cwd=tmp_path)
    source = "".join(json.loads((tmp_path / "model.ipynb").read_text())["cells"][0]["source"])
    assert "nn.Conv2d(3, 8, 3, bias=False)" in source and "nn.Conv2d(8, 8, 1)\n" in source


def test_real_analysis_stdin_judges_a_buffer_by_its_project(tmp_path: Path) -> None:
    """An editor's fix-on-save through --stdin-filename never applies a fix that
    `convbnlint --fix .` would call unsafe: the buffer's project is scanned."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "model.py").write_text(MODEL)
    (tmp_path / "train.py").write_text(
        "import torch\nfrom src.model import Net\n\nnet = Net()\ntorch.nn.init.zeros_(net.conv.bias)\n"
    )
    res = run(
        ["--fix", "-", "--stdin-filename", "src/model.py"], cwd=tmp_path, stdin=MODEL.encode()
    )
    assert res.returncode == 1
    assert res.stdout == HEAD_FIXED
    assert "train.py:5 reads the bias" in res.stderr
    # From another folder too (the project is the file's, not the working folder's).
    res = run(
        ["--fix", "-", "--stdin-filename", str(tmp_path / "src" / "model.py")],
        cwd=tmp_path.parent,
        stdin=MODEL.encode(),
    )
    assert res.stdout == HEAD_FIXED
    (tmp_path / "train.py").write_text("from src.model import Net\n")
    res = run(
        ["--fix", "-", "--stdin-filename", "src/model.py"], cwd=tmp_path, stdin=MODEL.encode()
    )
    assert res.returncode == 0 and "nn.Conv2d(3, 8, 3, bias=False)" in res.stdout
