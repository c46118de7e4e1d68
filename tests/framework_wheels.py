#!/usr/bin/env python3
"""The pinned releases whose real signatures ``tests/test_catalog_frameworks.py``
reads, and a downloader for them (stdlib only; CI runs it before the tests).

Each archive is fetched once with ``pip download --no-deps`` into ``.cache/wheels``
(where ``bench/corpus.py`` keeps its archives too); nothing is installed.  The
tests never download: a release that is neither cached here nor installed at the
pinned version makes its framework's tests skip, with this command as the hint::

    python tests/framework_wheels.py          # ~8 MB; the two very large wheels only with --large

Without the network it warns and exits 0 (the tests then skip); exit 1 only on
bad usage.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WHEELS = ROOT / ".cache" / "wheels"

# framework module -> pip requirement (one pinned release).
PINNED: dict[str, str] = {
    "keras": "keras==3.15.1",
    "tf_v1": "tf-keras==2.21.0",
    "slim": "tf-slim==1.1.0",
    "flax": "flax==0.12.8",
    "haiku": "dm-haiku==0.0.17",
    "equinox": "equinox==0.13.8",
    "jittor": "jittor==1.3.11.0",
    "oneflow": "oneflow==0.7.0",
    # ~195 MB and ~800 MB: paddle is read from its installed copy (the runtime extra
    # installs it); both are downloaded only with --large.
    "paddle": "paddlepaddle==3.3.1",
    "mindspore": "mindspore==2.10.0",
}
LARGE = frozenset({"paddle", "mindspore"})


def _norm(name: str) -> str:
    return name.replace("-", "_").replace(".", "_").lower()


def archive(requirement: str) -> Path | None:
    """The cached wheel or sdist of a pinned requirement, if any."""
    name, version = requirement.split("==")
    want = f"{_norm(name)}_{version}"
    if not WHEELS.is_dir():
        return None
    for path in sorted(WHEELS.iterdir()):
        stem = path.name.lower().replace("-", "_")
        if stem.startswith(want) and (path.suffix == ".whl" or path.name.endswith(".tar.gz")):
            rest = stem[len(want):]
            if rest[:1] in ("_", ".", "+"):
                return path
    return None


def download(requirement: str) -> tuple[Path | None, str]:
    WHEELS.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
         "-q", "-d", str(WHEELS), requirement],
        capture_output=True, text=True, timeout=600,
    )
    lines = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.startswith("ERROR")]
    return archive(requirement), (lines[0] if lines else f"pip exited {proc.returncode}")


def main(argv: list[str]) -> int:
    large = "--large" in argv
    if any(a not in ("--large",) for a in argv):
        print(f"usage: {Path(__file__).name} [--large]", file=sys.stderr)
        return 1
    for module, requirement in PINNED.items():
        if module in LARGE and not large:
            continue
        if archive(requirement) is not None:
            continue
        got, why = download(requirement)
        if got is None:
            print(f"warning: could not download {requirement} ({why}); "
                  f"its signature tests will skip", file=sys.stderr)
        else:
            print(f"{requirement}: {got.name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
