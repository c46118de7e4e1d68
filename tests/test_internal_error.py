"""An unexpected exception while analysing one file is reported for that file only."""

from __future__ import annotations

import pytest

from convbnlint import facts, runner

SRC = "import torch.nn as nn\nm = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))\n"


def test_internal_error_becomes_a_file_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise TypeError("simulated analysis bug")

    monkeypatch.setattr(facts, "collect", boom)
    monkeypatch.delenv("CONVBNLINT_TRACEBACK", raising=False)
    result = runner.check_text(SRC, "m.py", runner.Options())
    assert result.error is not None
    assert result.error.startswith("internal error: TypeError: simulated analysis bug")
    assert result.diagnostics == []
