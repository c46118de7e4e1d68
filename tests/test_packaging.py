"""The distributions: the declared MIT licence ships as a LICENSE file, and the
source distribution is consistent about tests (it carries none: they need the
repository).  Built from a copy of the working tree with setuptools' own build
backend, as pip would."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.test_docs import _copy_tree
from tests.util import ROOT

BUILD = """
import sys
from setuptools import build_meta as backend
out = sys.argv[1]
sdist = backend.build_sdist(out)
wheel = backend.build_wheel(out)
print("BUILT", sdist, wheel)
"""


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("dist")
    src = _copy_tree(tmp / "src")
    out = tmp / "out"
    out.mkdir()
    res = subprocess.run(
        [sys.executable, "-c", BUILD, str(out)],
        cwd=src,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    line = next(x for x in res.stdout.splitlines() if x.startswith("BUILT "))
    sdist_name, wheel_name = line.split()[1:]
    return out / sdist_name, out / wheel_name


def test_license_file_matches_the_declared_licence(dists: tuple[Path, Path]) -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert (
        text.startswith("MIT License\n") and "Permission is hereby granted, free of charge" in text
    )
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'license = "MIT"' in pyproject and 'license-files = ["LICENSE"]' in pyproject
    sdist, wheel = dists
    with tarfile.open(sdist) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
        pkg_info = tf.extractfile(
            next(
                m
                for m in tf.getmembers()
                if m.name.endswith("/PKG-INFO") and m.name.count("/") == 1
            )
        )
        assert pkg_info is not None
        meta = pkg_info.read().decode()
    assert "LICENSE" in names
    assert "License-Expression: MIT" in meta and "License-File: LICENSE" in meta
    with zipfile.ZipFile(wheel) as zf:
        wheel_names = zf.namelist()
        assert any(n.endswith(".dist-info/licenses/LICENSE") for n in wheel_names)
        wmeta = zf.read(next(n for n in wheel_names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: MIT" in wmeta


def test_sdist_carries_no_tests_and_everything_the_package_needs(dists: tuple[Path, Path]) -> None:
    sdist, wheel = dists
    with tarfile.open(sdist) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    assert not [n for n in names if n.startswith("tests")], (
        "tests need the repository: none in the sdist"
    )
    for required in (
        "README.md",
        "CHANGELOG.md",
        "LICENSE",
        "pyproject.toml",
        "convbnlint/cli.py",
        "convbnlint/report/rules/CBL001.md",
    ):
        assert required in names, required
    # The sdist builds the same package as the repository.
    with zipfile.ZipFile(wheel) as zf:
        in_wheel = {n for n in zf.namelist() if n.startswith("convbnlint/")}
    assert in_wheel <= {n for n in names if n.startswith("convbnlint/")}
    assert not [n for n in in_wheel if "__pycache__" in n]
