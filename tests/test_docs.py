"""The documentation site, the packaged rule pages and the GitHub Action.

* ``mkdocs build --strict`` (the real mkdocs with the material theme) builds the
  site, including the pages generated from the code; a broken link fails it.
* Every rule has a page, in the nav, and an identical copy inside the package
  (``convbnlint rule CODE`` and SARIF ``help`` read it from an installed wheel).
* ``action.yml``'s steps run in bash as the GitHub runner would run them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.test_cli import BAD
from tests.util import ROOT

MKDOCS = shutil.which("mkdocs", path=os.path.dirname(sys.executable)) or shutil.which("mkdocs")
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "NO_COLOR": "1"}


def _copy_tree(dest: Path) -> Path:
    """The working tree's tracked and new files (what a clone would have)."""
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.splitlines()
    for rel in files:
        src = ROOT / rel
        if not src.is_file() or rel.startswith((".cache/", "bench/", "tools/")):
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
    return dest


def _mkdocs_build(root: Path, site: Path) -> subprocess.CompletedProcess[str]:
    assert MKDOCS is not None
    return subprocess.run(
        [MKDOCS, "build", "--strict", "--site-dir", str(site)],
        cwd=root, capture_output=True, text=True, env=ENV, timeout=300,
    )


@pytest.mark.skipif(MKDOCS is None, reason="mkdocs is not installed")
def test_mkdocs_build_strict(tmp_path: Path) -> None:
    site = tmp_path / "site"
    res = _mkdocs_build(ROOT, site)
    assert res.returncode == 0, res.stdout + res.stderr
    from convbnlint.config import OPTIONS
    from convbnlint.rules import all_rules

    config = (site / "configuration" / "index.html").read_text("utf-8")
    for option in OPTIONS:
        assert f'id="{option.key}"' in config, option.key
    rules = (site / "rules" / "index.html").read_text("utf-8")
    for code, rule in all_rules().items():
        assert (site / "rules" / code / "index.html").is_file(), code
        assert rule.name in rules
    for page in ("getting-started", "integrations/ci", "integrations/github-actions",
                 "integrations/pre-commit", "integrations/editors", "integrations/notebooks",
                 "integrations/flake8"):
        assert (site / page / "index.html").is_file(), page
    assert not (site / "hooks.py").exists()


@pytest.mark.skipif(MKDOCS is None, reason="mkdocs is not installed")
def test_strict_build_fails_on_a_broken_link(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy2(ROOT / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(ROOT / "docs", root / "docs")
    page = root / "docs" / "getting-started.md"
    page.write_text(page.read_text() + "\nSee [nowhere](no-such-page.md).\n")
    res = _mkdocs_build(root, tmp_path / "site")
    assert res.returncode != 0
    assert "no-such-page.md" in res.stdout + res.stderr


def test_every_rule_has_a_page_in_the_nav_and_in_the_package() -> None:
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import hooks  # docs/hooks.py
    finally:
        sys.path.remove(str(ROOT / "docs"))
    from convbnlint.report.ruledoc import markdown
    from convbnlint.rules import all_rules

    nav = (ROOT / "mkdocs.yml").read_text("utf-8")
    for code in all_rules():
        page = ROOT / "docs" / "rules" / f"{code}.md"
        assert page.is_file(), f"missing rule page {page}"
        assert f"rules/{code}.md" in nav, f"add rules/{code}.md to the nav in mkdocs.yml"
        assert markdown(code) == page.read_text("utf-8")
    assert hooks.stale_copies() == [], "run: python docs/hooks.py sync"


PLACEHOLDERS = re.compile(r"example\.invalid|example\.com|OWNER/|YOUR[-_ ]|<your|v0\.1\.0\b|pip install (?:'|\")?convbnlint\b")


def test_no_placeholder_reaches_a_user() -> None:
    """No made-up address, owner or release in anything a user reads or runs: the
    docs, the README, the action, the hook, mkdocs.yml, and the package itself
    (SARIF, the language server and the CLI build their texts there)."""
    files = [ROOT / "README.md", ROOT / "CHANGELOG.md", ROOT / "action.yml", ROOT / "mkdocs.yml",
             ROOT / ".pre-commit-hooks.yaml"]
    files += sorted((ROOT / "docs").rglob("*.md"))
    files += sorted((ROOT / "convbnlint").rglob("*.py")) + sorted((ROOT / "convbnlint").rglob("*.md"))
    found = []
    for path in files:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if PLACEHOLDERS.search(line):
                found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert found == []
    assert not re.search(r"^site_url:", (ROOT / "mkdocs.yml").read_text(), re.M)


def test_links_only_when_a_documentation_site_is_configured(tmp_path: Path) -> None:
    import json

    from tests.util import run

    (tmp_path / "m.py").write_text(BAD)
    env = {k: v for k, v in os.environ.items() if k != "CONVBNLINT_DOCS_URL"}
    plain = subprocess.run(
        [sys.executable, "-m", "convbnlint", "--format", "sarif", "m.py"],
        cwd=tmp_path, capture_output=True, text=True, env=env,
    )
    log = json.loads(plain.stdout)
    assert "informationUri" not in log["runs"][0]["tool"]["driver"]
    assert all("helpUri" not in r for r in log["runs"][0]["tool"]["driver"]["rules"])
    assert all(r["help"]["markdown"].startswith("# CBL") for r in log["runs"][0]["tool"]["driver"]["rules"])
    site = run(["--format", "sarif", "m.py"], cwd=tmp_path,
               env={"CONVBNLINT_DOCS_URL": "https://docs.example.org/convbnlint"})
    driver = json.loads(site.stdout)["runs"][0]["tool"]["driver"]
    assert driver["informationUri"] == "https://docs.example.org/convbnlint/"
    assert driver["rules"][0]["helpUri"] == "https://docs.example.org/convbnlint/rules/CBL001/"


def test_wheel_ships_rule_pages_and_flake8_entry_point(tmp_path: Path) -> None:
    src = _copy_tree(tmp_path / "src")
    out = tmp_path / "dist"
    res = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(src)],
        capture_output=True, text=True, timeout=600,
    )
    assert res.returncode == 0, res.stderr
    (wheel,) = out.glob("convbnlint-*.whl")
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        zf.extractall(unpacked)
    from convbnlint.rules import all_rules

    for code in all_rules():
        assert f"convbnlint/report/rules/{code}.md" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "CBL = convbnlint.flake8_plugin:Plugin" in (unpacked / entry_points).read_text()
    # Read through importlib.resources from the wheel's files, not from this checkout.
    code = (
        "import convbnlint, sys; from convbnlint.report.ruledoc import markdown; "
        "print(convbnlint.__file__); sys.stdout.write(markdown('CBL001'))"
    )
    env = {**os.environ, "PYTHONPATH": str(unpacked)}
    got = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    where, _, page = got.stdout.partition("\n")
    assert where.startswith(str(unpacked)), where
    assert page == (ROOT / "docs" / "rules" / "CBL001.md").read_text("utf-8")


# -- the GitHub Action -----------------------------------------------------------------


def _action_steps() -> list[dict]:
    yaml = pytest.importorskip("yaml")
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    return action["runs"]["steps"]


def _substitute(value: str, inputs: dict[str, str]) -> str:
    return re.sub(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", lambda m: inputs[m.group(1)], value)


def _run_action(tmp_path: Path, action_path: Path, extra: dict[str, str]):  # type: ignore[no-untyped-def]
    """Each step's script, run by bash with the runner's environment files."""
    yaml = pytest.importorskip("yaml")
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    inputs = {k: str(v.get("default", "")) for k, v in action["inputs"].items()}
    inputs.update({"args": "src/ --ignore CBL003", "sarif-file": "out/convbnlint.sarif",
                   "python": sys.executable, **extra})
    workspace = tmp_path / "workspace"
    (workspace / "src").mkdir(parents=True)
    (workspace / "out").mkdir()
    (workspace / "src" / "model.py").write_text(BAD)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    github_env, github_output = tmp_path / "env", tmp_path / "output"
    github_env.touch()
    github_output.touch()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))
    }
    env.update({
        "RUNNER_TEMP": str(runner_temp), "RUNNER_OS": "Linux", "GITHUB_ACTION_PATH": str(action_path),
        "GITHUB_ENV": str(github_env), "GITHUB_OUTPUT": str(github_output), "CI": "true",
    })
    results = []
    for step in _action_steps():
        for name, value in step.get("env", {}).items():
            env[name] = _substitute(str(value), inputs)
        for line in github_env.read_text().splitlines():
            name, _, value = line.partition("=")
            env[name] = value
        assert step["shell"] == "bash"
        assert "${{" not in step["run"], "inputs must reach scripts through env, not inline"
        res = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=workspace, env=env,
                             capture_output=True, text=True, timeout=600)
        results.append(res)
        if res.returncode != 0:
            break
    return workspace, github_output, results, env


def test_action_runs_as_on_a_github_runner(tmp_path: Path) -> None:
    action_path = _copy_tree(tmp_path / "action")
    workspace, github_output, (install, check), _ = _run_action(tmp_path, action_path, {})
    assert install.returncode == 0, install.stderr
    assert check.returncode == 1, check.stderr  # the finding fails the job
    assert check.stdout.startswith("::warning file=src/model.py,line=4,col=5,")
    assert "exit-code=1" in github_output.read_text()
    import json

    sarif = json.loads((workspace / "out" / "convbnlint.sarif").read_text())
    assert sarif["runs"][0]["results"][0]["ruleId"] == "CBL001"


def test_action_installs_a_built_wheel(tmp_path: Path) -> None:
    """The ``package`` input, as documented: the path of a wheel built from a clone."""
    src = _copy_tree(tmp_path / "src")
    dist = tmp_path / "dist"
    res = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist), str(src)],
        capture_output=True, text=True, timeout=600,
    )
    assert res.returncode == 0, res.stderr
    (wheel,) = dist.glob("convbnlint-*.whl")
    empty = tmp_path / "not-the-source"
    empty.mkdir()  # the action's own folder holds no source: only the wheel can work
    _, github_output, (install, check), env = _run_action(
        tmp_path, empty, {"package": str(wheel), "sarif-file": ""}
    )
    assert install.returncode == 0, install.stderr
    assert check.returncode == 1, check.stderr
    assert check.stdout.startswith("::warning file=src/model.py,line=4,col=5,")
    assert Path(env["CONVBNLINT_BIN"]).is_file()


def test_documented_workflows_use_the_actions_inputs() -> None:
    yaml = pytest.importorskip("yaml")
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    page = (ROOT / "docs" / "integrations" / "github-actions.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", page, re.S)
    assert blocks
    used = 0
    for block in blocks:
        doc = yaml.safe_load(block)
        steps = doc["jobs"]["convbnlint"]["steps"] if "jobs" in doc else doc
        for step in steps:
            if step.get("uses") == "./tools/convbnlint":
                used += 1
                assert set(step.get("with", {})) <= set(action["inputs"])
    assert used == 2
