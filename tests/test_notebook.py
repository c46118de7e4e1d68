"""Jupyter notebooks: lint code cells, skip IPython syntax safely, report
``path:cell N:line:col``, and fix cells keeping the rest of the file byte for byte.

Notebooks are written with nbformat exactly as Jupyter writes them (indent 1,
sorted keys, non-ASCII kept), with outputs, images and metadata; fixed files are
validated by nbformat again.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from convbnlint.notebook import PLACEHOLDER, to_python
from tests.util import run

nbformat = pytest.importorskip("nbformat")
from nbformat.v4 import (  # noqa: E402
    new_code_cell,
    new_markdown_cell,
    new_notebook,
    new_output,
    new_raw_cell,
)

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def jupyter_notebook() -> str:
    """A realistic training notebook, serialised the way Jupyter does."""
    cells = [
        new_markdown_cell("# Training a small CNN\nThe bias before BatchNorm is dead weight."),
        new_code_cell(
            "%matplotlib inline\n!pip install -q torch\nimport torch\nimport torch.nn as nn",
            execution_count=1,
        ),
        new_code_cell(
            textwrap.dedent(
                """\
                block = nn.Sequential(
                    nn.Conv2d(3, 16, kernel_size=3, padding=1),
                    nn.BatchNorm2d(16),
                    nn.ReLU(),
                )
                block?"""
            ),
            execution_count=2,
            outputs=[
                new_output(
                    "execute_result",
                    data={"text/plain": ["Sequential(…)"]},
                    execution_count=2,
                )
            ],
        ),
        new_code_cell(
            "%%bash\necho 'training on' $(hostname)\nls -la data/ | head",
            outputs=[new_output("stream", name="stdout", text="training on gpu-01 ✓\n")],
        ),
        new_code_cell(
            textwrap.dedent(
                """\
                class Net(nn.Module):
                    def __init__(self):
                        super().__init__()
                        self.conv = nn.Conv2d(
                            16,
                            32,
                            3,
                        )
                        self.bn = nn.BatchNorm2d(32)

                    def forward(self, x):
                        return self.bn(self.conv(x))"""
            ),
            execution_count=3,
        ),
        new_raw_cell("nn.Sequential(nn.Conv2d(1, 1, 1), nn.BatchNorm2d(1))"),
        new_code_cell(
            textwrap.dedent(
                """\
                %%time
                for epoch in range(2):
                    %time loss = train(block)
                    files = !ls checkpoints
                    print(epoch, loss)"""
            ),
            outputs=[
                new_output("display_data", data={"image/png": PNG, "text/plain": ["<Figure>"]}),
            ],
        ),
    ]
    nb = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python", "version": "3.11.4"},
        },
    )
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    return nbformat.writes(nb) + "\n"


def fixed_sources(text: str) -> list[str]:
    nb = nbformat.reads(text, as_version=4)
    nbformat.validate(nb)
    return [c.source for c in nb.cells]


@pytest.fixture
def notebook(tmp_path: Path) -> Path:
    path = tmp_path / "train.ipynb"
    path.write_text(jupyter_notebook(), encoding="utf-8")
    return path


def test_reports_cell_line_col(notebook: Path) -> None:
    res = run([notebook.name], cwd=notebook.parent)
    assert res.returncode == 1, res.stderr
    assert res.stdout.splitlines() == [
        "train.ipynb:cell 3:2:5: CBL001 Conv2d bias is cancelled by the following BatchNorm2d; "
        "pass bias=False",
        "train.ipynb:cell 5:4:21: CBL001 Conv2d bias is cancelled by the following BatchNorm2d; "
        "pass bias=False",
        "Found 2 issues (2 fixable with --fix).",
    ]
    rows = json.loads(run(["--format", "json", notebook.name], cwd=notebook.parent).stdout)
    assert [(r["cell"], r["line"], r["column"], r["end_line"]) for r in rows] == [
        (3, 2, 5, 2),
        (5, 4, 21, 8),
    ]


def test_fix_changes_only_the_cells_sources(notebook: Path) -> None:
    before = notebook.read_bytes()
    diff = run(["--diff", notebook.name], cwd=notebook.parent)
    assert diff.returncode == 1
    assert "--- a/train.ipynb:cell 3\n+++ b/train.ipynb:cell 3\n" in diff.stdout
    assert "+    nn.Conv2d(3, 16, kernel_size=3, padding=1, bias=False),\n" in diff.stdout
    assert notebook.read_bytes() == before

    res = run(["--fix", notebook.name], cwd=notebook.parent)
    assert res.returncode == 0, res.stderr
    assert "Found 2 issues (2 fixed, 0 remaining)." in res.stdout
    after = notebook.read_text(encoding="utf-8")
    # Byte for byte: exactly the two changed lines and one added line differ.
    old_lines, new_lines = before.decode().splitlines(), after.splitlines()
    import difflib

    changes = [
        ln for ln in difflib.unified_diff(old_lines, new_lines, lineterm="", n=0)
        if ln[:1] in "+-" and not ln.startswith(("+++", "---"))
    ]
    assert changes == [
        '-    "    nn.Conv2d(3, 16, kernel_size=3, padding=1),\\n",',
        '+    "    nn.Conv2d(3, 16, kernel_size=3, padding=1, bias=False),\\n",',
        '+    "            bias=False,\\n",',
    ]
    sources = fixed_sources(after)
    assert "            bias=False,\n        )" in sources[4]
    # Jupyter would write the fixed notebook identically.
    assert nbformat.writes(nbformat.reads(after, as_version=4)) + "\n" == after
    again = run(["--fix", notebook.name], cwd=notebook.parent)
    assert again.returncode == 0 and notebook.read_text(encoding="utf-8") == after


def test_layout_escaping_key_order_and_string_sources_survive(tmp_path: Path) -> None:
    # Not Jupyter's layout: keys unsorted, CRLF, ASCII escapes, a source given
    # as one string, 2-space indentation.
    nb = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"zeta": 1, "alpha": {"é": "ü"}, "kernelspec": {"language": "python",
                     "name": "python3", "display_name": "Python 3"}},
        "cells": [
            {"cell_type": "code", "source": "import torch.nn as nn\n"
             "m = nn.Sequential(nn.Conv1d(2, 2, 1), nn.BatchNorm1d(2))  # café",
             "metadata": {"tags": ["model"]}, "outputs": [], "execution_count": None,
             "id": "a"},
            {"cell_type": "code", "id": "b", "metadata": {}, "outputs": [],
             "execution_count": 7, "source": ["print('naïve')\n", "x = 1"]},
        ],
    }
    raw = json.dumps(nb, indent=2, ensure_ascii=True).replace("\n", "\r\n") + "\r\n"
    path = tmp_path / "odd.ipynb"
    path.write_bytes(raw.encode())
    res = run(["--fix", path.name], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    new = path.read_bytes().decode()
    expected = raw.replace(
        "nn.Conv1d(2, 2, 1), nn.BatchNorm1d(2))", "nn.Conv1d(2, 2, 1, bias=False), nn.BatchNorm1d(2))"
    )
    assert new == expected
    nbformat.validate(nbformat.reads(new, as_version=4))


def test_uses_in_other_cells_and_in_magics_count(tmp_path: Path) -> None:
    """A notebook is one namespace: a use anywhere, even in a magic, is a use."""
    base = [
        new_code_cell("import torch.nn as nn\nconv = nn.Conv2d(3, 8, 3)\nbn = nn.BatchNorm2d(8)"),
        new_code_cell("y = conv(x)\nz = bn(y)"),
    ]
    # (The conv's output must not stay in a global at the end: the session, or
    # an importer, could still read it.  The last cell deletes it.)
    last = new_code_cell("del y")
    for extra, flagged in (
        (None, True),
        ("print(y)", False),  # a later cell uses the conv's output
        ("%time print(y.mean())", False),  # so does a line magic
        ("out = !echo {y}", False),  # and a shell escape
        ("%%time\nw = y + 1", False),  # and a Python-bodied cell magic
        ("%%bash\necho $y", False),  # any cell magic: its names count as uses
        ("y?", False),  # help syntax
        ("%time print(1)", True),  # a magic that does not mention it
    ):
        cells = list(base) + ([new_code_cell(extra)] if extra else []) + [last]
        path = tmp_path / "nb.ipynb"
        path.write_text(nbformat.writes(new_notebook(cells=cells)))
        res = run([path.name], cwd=tmp_path)
        assert (res.returncode == 1) == flagged, (extra, res.stdout, res.stderr)
        assert res.stderr == "", (extra, res.stderr)


def test_to_python_keeps_lines_and_names() -> None:
    cell = textwrap.dedent(
        """\
        %load_ext autoreload
        files = !ls data/*.pt
        for f in files:
            %time out = model(load(f))
        s = '''
        %not a magic, inside a string
        '''
        model.conv?
        !echo "don't" \\
          continues here
        x = {'a': 1}  # what?
        y = 5 % 3
        """
    )
    py, magic = to_python(cell)
    lines = py.splitlines()
    assert len(lines) == len(cell.splitlines())
    assert magic == {0, 1, 3, 7, 8, 9}
    assert lines[1] == f"{PLACEHOLDER}(files, ls, data, pt)"
    assert lines[3] == f"    {PLACEHOLDER}(time, out, model, load, f)"
    assert lines[5] == "%not a magic, inside a string"
    assert lines[7] == f"{PLACEHOLDER}(model.conv)"
    assert lines[10:] == ["x = {'a': 1}  # what?", "y = 5 % 3"]
    import ast

    ast.parse(py)


def test_non_python_and_broken_notebooks(tmp_path: Path) -> None:
    cells = [new_code_cell("import torch.nn as nn\nnn.Sequential(nn.Conv2d(1, 1, 1), nn.BatchNorm2d(1))")]
    r_nb = new_notebook(cells=cells, metadata={"kernelspec": {"language": "R", "name": "ir",
                                                              "display_name": "R"}})
    (tmp_path / "r.ipynb").write_text(nbformat.writes(r_nb))
    assert run(["r.ipynb"], cwd=tmp_path).returncode == 0
    (tmp_path / "bad.ipynb").write_text('{"cells": [')
    (tmp_path / "v3.ipynb").write_text(json.dumps({"nbformat": 3, "worksheets": []}))
    syntax = new_notebook(cells=[new_markdown_cell("x"), new_code_cell("import torch\n"),
                                 new_code_cell("x = nn.Sequential(nn.Conv2d(1, 1, 1), nn.BatchNorm2d(1))\ndef (:\n")])
    (tmp_path / "syntax.ipynb").write_text(nbformat.writes(syntax))
    (tmp_path / "ok.py").write_text(
        "import torch.nn as nn\nnn.Sequential(nn.Conv2d(1, 1, 1), nn.BatchNorm2d(1))\n"
    )
    res = run(["."], cwd=tmp_path)
    assert res.returncode == 2
    assert "ok.py:2:15: CBL001" in res.stdout  # the other files are still checked
    assert "bad.ipynb: invalid notebook JSON at 1:12" in res.stderr
    assert "v3.ipynb: notebook format v3 is not supported" in res.stderr
    assert "syntax.ipynb: syntax error at cell 3:2:" in res.stderr
    assert "Traceback" not in res.stderr


def test_folder_walk_skips_checkpoints(notebook: Path) -> None:
    checkpoints = notebook.parent / ".ipynb_checkpoints"
    checkpoints.mkdir()
    (checkpoints / "train-checkpoint.ipynb").write_text(notebook.read_text())
    res = run(["."], cwd=notebook.parent)
    assert res.returncode == 1
    assert {ln.split(":")[0] for ln in res.stdout.splitlines() if "CBL" in ln} == {"train.ipynb"}


def test_stdin_notebook(notebook: Path) -> None:
    raw = notebook.read_bytes()
    res = run(["-", "--stdin-filename", "train.ipynb"], cwd=notebook.parent, stdin=raw)
    assert res.returncode == 1 and res.stdout.startswith("train.ipynb:cell 3:2:5: CBL001")
    fixed = run(["--fix", "-", "--stdin-filename", "train.ipynb"], cwd=notebook.parent, stdin=raw)
    assert fixed.returncode == 0
    run(["--fix", notebook.name], cwd=notebook.parent)
    assert fixed.stdout == notebook.read_text(encoding="utf-8")


def test_notebook_in_machine_formats(notebook: Path) -> None:
    gh = run(["--format", "github", notebook.name], cwd=notebook.parent)
    assert gh.stdout.splitlines()[0] == (
        "::warning file=train.ipynb,title=CBL001::cell 3, line 2, column 5: "
        "Conv2d bias is cancelled by the following BatchNorm2d; pass bias=False"
        "%0A  help: Pass bias=False (fixable with --fix)"
    )
    sarif = json.loads(run(["--format", "sarif", notebook.name], cwd=notebook.parent).stdout)
    from tests.test_formats import _validate

    _validate(sarif)
    result = sarif["runs"][0]["results"][0]
    assert result["properties"] == {
        "cell": 3,
        "fix": {"applicability": "safe", "applies": True, "stateKeys": ["0.bias"]},
    }
    assert "region" not in result["locations"][0]["physicalLocation"]
