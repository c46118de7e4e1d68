"""The hook in ``.pre-commit-hooks.yaml``, run by the real ``pre-commit``, with the
configurations that docs/integrations/pre-commit.md documents, word for word.

The working tree is copied into a throw-away git repository called
``convbnlint`` (so uncommitted changes are what is tested), and the user's
projects sit next to it, as the documentation says (``repo: ../convbnlint``).
"""

from __future__ import annotations

import os
import re
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

DOC = (ROOT / "docs" / "integrations" / "pre-commit.md").read_text(encoding="utf-8")


def _documented(heading: str) -> str:
    """The ``yaml`` block under ``heading`` in the pre-commit page."""
    section = DOC[DOC.index(heading) :]
    match = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert match, heading
    return match.group(1)


PATH_FORM = _documented("## A clone and a commit")
LOCAL_FORM = _documented("## `repo: local`")


def _git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@localhost",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@localhost",
    }
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env
    ).stdout.strip()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with ``convbnlint/`` (a git snapshot of this working tree)."""
    ws = tmp_path_factory.mktemp("workspace")
    repo = ws / "convbnlint"
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
    return ws


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def _env(home: Path) -> dict[str, str]:
    path = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    return {**os.environ, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1", "PATH": path}


def _pre_commit(user: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PRE_COMMIT, *args],
        cwd=user,
        capture_output=True,
        text=True,
        env=_env(home),
        timeout=900,
    )


def _run(user: Path, home: Path) -> subprocess.CompletedProcess[str]:
    return _pre_commit(user, home, "run", "--all-files", "--color", "never")


def _project(ws: Path, name: str, config: str) -> Path:
    user = ws / name
    user.mkdir()
    _git(user, "init", "-q")
    (user / "model.py").write_text(BAD)
    (user / "notes.txt").write_text("nn.Conv2d(3, 8, 3) nn.BatchNorm2d(8)\n")
    (user / ".pre-commit-config.yaml").write_text(config)
    _git(user, "add", "-A")
    return user


def _with_args(config: str, args: list[str]) -> str:
    return config.replace("        # args: [--fix]", f"        args: {args!r}")


@pytest.fixture(scope="module")
def pinned(workspace: Path, pre_commit_home: Path) -> str:
    """The documented path form, after the documented ``autoupdate`` step."""
    user = _project(workspace, "pinning", PATH_FORM)
    cmd = re.search(r"\$ (pre-commit autoupdate [^\n#]*?)\s+#", DOC)
    assert cmd, "the page lost its autoupdate command"
    args = cmd.group(1).split()[1:]
    res = _pre_commit(user, pre_commit_home, *args)
    assert res.returncode == 0, res.stdout + res.stderr
    config = (user / ".pre-commit-config.yaml").read_text()
    rev = _git(workspace / "convbnlint", "rev-parse", "HEAD")
    assert f"rev: {rev}" in config
    return config


def test_documented_path_form_reports(workspace: Path, pinned: str, pre_commit_home: Path) -> None:
    user = _project(workspace, "reports", pinned)
    res = _run(user, pre_commit_home)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "model.py:4:5: CBL001" in res.stdout
    assert "notes.txt" not in res.stdout  # types: python only
    assert (user / "model.py").read_text() == BAD


def test_documented_path_form_fixes(workspace: Path, pinned: str, pre_commit_home: Path) -> None:
    user = _project(workspace, "fixes", _with_args(pinned, ["--fix"]))
    res = _run(user, pre_commit_home)
    # pre-commit fails a run whose hook modified files, like any fixer.
    assert res.returncode == 1, res.stdout + res.stderr
    assert "files were modified by this hook" in res.stdout
    assert (user / "model.py").read_text() == GOOD
    _git(user, "add", "-A")
    again = _run(user, pre_commit_home)
    assert again.returncode == 0, again.stdout + again.stderr


def test_hook_respects_excludes_like_a_folder_run(
    workspace: Path, pinned: str, pre_commit_home: Path
) -> None:
    """pre-commit names the files of an excluded folder; --force-exclude in the hook
    skips them, so the commit passes exactly when ``convbnlint .`` does."""
    user = _project(workspace, "excludes", pinned)
    (user / "model.py").write_text(GOOD)
    (user / "legacy").mkdir()
    (user / "legacy" / "old.py").write_text(BAD)
    (user / "pyproject.toml").write_text('[tool.convbnlint]\nextend-exclude = ["legacy/"]\n')
    _git(user, "add", "-A")
    res = _run(user, pre_commit_home)
    assert res.returncode == 0, res.stdout + res.stderr
    folder = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "convbnlint"), "."],
        cwd=user,
        capture_output=True,
        text=True,
    )
    assert folder.returncode == 0, folder.stdout
    # Named without the hook's flag, the file is checked (a file you name is checked).
    named = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "convbnlint"), "legacy/old.py"],
        cwd=user,
        capture_output=True,
        text=True,
    )
    assert named.returncode == 1


def test_documented_local_form(workspace: Path, pre_commit_home: Path) -> None:
    user = _project(workspace, "local", LOCAL_FORM)
    res = _run(user, pre_commit_home)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "model.py:4:5: CBL001" in res.stdout
    (user / "model.py").write_text(GOOD)
    _git(user, "add", "-A")
    again = _run(user, pre_commit_home)
    assert again.returncode == 0, again.stdout + again.stderr


def test_no_placeholder_in_the_hook_docs() -> None:
    for text in (DOC, (ROOT / "README.md").read_text(encoding="utf-8")):
        assert "example.invalid" not in text and "v0.1.0" not in text
