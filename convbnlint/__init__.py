"""convbnlint: find (and fix) convolution biases that a following norm cancels.

Public API::

    from convbnlint import check_source, fix_source
    diagnostics = check_source(text)
    new_text, fixed = fix_source(text)

Importing this package is cheap: libcst is imported only when a text needs
parsing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["__version__", "check_source", "fix_source"]

if TYPE_CHECKING:
    from convbnlint.types import Diagnostic


def check_source(source: str, **kwargs: Any) -> list[Diagnostic]:
    """Diagnostics for one Python source text."""
    from convbnlint.engine import check_source as _check

    return _check(source, **kwargs)


def fix_source(source: str, **kwargs: Any) -> tuple[str, list[Diagnostic]]:
    """``(fixed_text, fixed_diagnostics)`` for one Python source text."""
    from convbnlint.engine import fix_source as _fix

    return _fix(source, **kwargs)
