"""The hook in ``.pre-commit-hooks.yaml``, run by the real ``pre-commit``.

The working tree is copied into a throw-away git repository (so uncommitted
changes are what is tested), and a second repository uses it as a hook repo.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli import BAD, GOOD
from tests.util import ROOT

PRE_COMMIT = shutil.which("pre-commit", path=os.path.dirname(sys.executable)) or shutil.which(
    "pre-commit"
)
pytestmark = pytest.mark.skipif(PRE_COMMIT is None, reason="pre-commit is not installed")


def _git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env
    ).stdout.strip()


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    repo = tmp_path_factory.mktemp("hookrepo")
    files = _git(ROOT, "ls-files", "-co", "--exclude-standard").splitlines()
    for rel in files:
        src = ROOT / rel
        if not src.is_file() or rel.startswith((".cache/", "bench/", "tools/")):
            continue
        dest = repo / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "snapshot")
    return repo, _git(repo, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def _user_repo(tmp_path: Path, hook: tuple[Path, str], args: list[str]) -> Path:
    repo_path, rev = hook
    user = tmp_path / "user"
    user.mkdir()
    _git(user, "init", "-q")
    (user / "model.py").write_text(BAD)
    (user / "notes.txt").write_text("nn.Conv2d(3, 8, 3) nn.BatchNorm2d(8)\n")
    (user / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        f"  - repo: {repo_path}\n"
        f"    rev: {rev}\n"
        "    hooks:\n"
        "      - id: convbnlint\n"
        f"        args: {args!r}\n"
    )
    _git(user, "add", "-A")
    return user


def _run(user: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1"}
    return subprocess.run(
        [PRE_COMMIT, "run", "--all-files", "--color", "never"],
        cwd=user,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )


def test_hook_reports(tmp_path: Path, hook_repo: tuple[Path, str], pre_commit_home: Path) -> None:
    user = _user_repo(tmp_path, hook_repo, [])
    res = _run(user, pre_commit_home)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "model.py:4:5: CBL001" in res.stdout
    assert "notes.txt" not in res.stdout  # types: python only
    assert (user / "model.py").read_text() == BAD


def test_hook_fixes(tmp_path: Path, hook_repo: tuple[Path, str], pre_commit_home: Path) -> None:
    user = _user_repo(tmp_path, hook_repo, ["--fix"])
    res = _run(user, pre_commit_home)
    # pre-commit fails a run whose hook modified files, like any fixer.
    assert res.returncode == 1, res.stdout + res.stderr
    assert "files were modified by this hook" in res.stdout
    assert (user / "model.py").read_text() == GOOD
    _git(user, "add", "-A")
    again = _run(user, pre_commit_home)
    assert again.returncode == 0, again.stdout + again.stderr
