"""The README's quick start must stay true."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.util import ROOT, convbnlint_cmd

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _block_after(prompt: str) -> str:
    start = README.index(prompt) + len(prompt)
    return README[start : README.index("```", start)]


def test_quick_start_output_matches_the_real_run() -> None:
    expected = _block_after("$ pip install -e . && convbnlint examples/\n")
    run = subprocess.run(
        [*convbnlint_cmd(), "examples/"], cwd=ROOT, capture_output=True, text=True
    )
    assert run.returncode == 1
    assert run.stdout == expected


def test_ci_runs_the_readme_test_command() -> None:
    match = re.search(r"\$ (pip install -e '\.\[test,runtime\]' && python -m pytest -q)", README)
    assert match, "README lost its test command"
    install, test = match.group(1).split(" && ")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert f"python -m {install} && {test}" in ci.replace("--quiet ", "")


def test_rule_table_links_exist() -> None:
    for link in re.findall(r"\]\((docs/[^)]+)\)", README):
        assert Path(ROOT, link).is_file(), link
