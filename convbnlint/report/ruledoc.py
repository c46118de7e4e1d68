"""Rule pages, shipped inside the package so ``convbnlint rule CODE`` and the
SARIF ``help`` work from an installed wheel.

``convbnlint/report/rules/CODE.md`` is a copy of ``docs/rules/CODE.md`` (the page
the documentation site shows); tests/test_docs.py fails when they differ.  To
refresh the copies: ``python docs/hooks.py sync``.
"""

from __future__ import annotations

from importlib import resources


def markdown(code: str) -> str | None:
    """The Markdown rule page for ``code``, or None if there is none."""
    try:
        page = resources.files("convbnlint.report").joinpath("rules", f"{code}.md")
        return page.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError, OSError):
        return None
