"""convbnlint on torchvision's source agrees with what torchvision does at run time.

``tools/runtime/torchvision_truth.json`` was recorded by building every
torchvision 0.29.1 model and watching each conv's output (forward hooks and the
autograd graph).  Needs the corpus (``python bench/corpus.py --group models``).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.util import ROOT

SOURCE = ROOT / ".cache" / "corpus" / "torchvision-0.29.1" / "torchvision"


@pytest.mark.skipif(not SOURCE.is_dir(), reason="corpus not built (bench/corpus.py)")
def test_no_false_positive_and_every_decidable_positive_found() -> None:
    env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "runtime" / "compare_torchvision.py")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "precision: 1/1 = 100%" in proc.stdout
    assert "recall (statically decidable): 1/1 = 100%" in proc.stdout
