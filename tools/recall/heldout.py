#!/usr/bin/env python3
"""Fetch the held-out packages of the recall measure (never used to tune the walker).

Same mechanism as ``bench/corpus.py`` (``pip download --no-deps``, only ``*.py``
unpacked, nothing installed or run), into ``.cache/heldout/<name>-<version>/``.

    python tools/recall/heldout.py          # fetch (idempotent), print the roots
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))

import corpus  # noqa: E402

DEST = REPO / ".cache" / "heldout"

# Model libraries not in bench/corpus.py (which the team has read while building
# the walker).  Chosen before looking at their code.
HELD_OUT: list[dict[str, str]] = [
    {"name": "mmsegmentation", "version": "1.2.2", "group": "heldout"},
    {"name": "lightly", "version": "1.6.0", "group": "heldout"},
    {"name": "pytorchvideo", "version": "0.1.5", "group": "heldout"},
    {"name": "yolov5", "version": "7.0.14", "group": "heldout"},
    {"name": "pyiqa", "version": "0.1.16", "group": "heldout"},
    {"name": "mmpose", "version": "1.3.2", "group": "heldout"},
    # Added after the first sample held too few dead biases (5 of 89) to measure:
    # libraries whose models are dense in conv/linear -> batch norm.
    {"name": "braindecode", "version": "1.8.1", "group": "heldout"},
    {"name": "pyod", "version": "3.6.7", "group": "heldout"},
    {"name": "speechbrain", "version": "1.1.2", "group": "heldout"},
    {"name": "pytorch-toolbelt", "version": "0.8.0", "group": "heldout"},
    {"name": "deepctr-torch", "version": "0.3.0", "group": "heldout"},
]


def roots() -> list[Path]:
    out = []
    for pkg in HELD_OUT:
        out.append(corpus.ensure_package(pkg, DEST))
    return out


if __name__ == "__main__":
    for root in roots():
        print(root)
