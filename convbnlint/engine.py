"""Source text in, diagnostics (and fixed text) out.  No file system here.

Stages, cheapest first:

1. prefilter: a text that contains none of the catalog's norm tokens cannot hold a
   finding; libcst is not even imported;
2. parse (libcst) and collect facts (:mod:`convbnlint.facts`);
3. analysis (:mod:`convbnlint.analysis`) and rules;
4. ``# noqa`` filtering on the line of each finding.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from convbnlint.catalog import Catalog, default_catalog
from convbnlint.rules import Rule, all_rules, rule_for_family
from convbnlint.types import Diagnostic

if TYPE_CHECKING:
    import libcst as cst

    from convbnlint.facts import FactBuilder


class ParseError(Exception):
    """The source is not valid Python (message says where and why)."""


_NOQA = re.compile(
    r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?",
    re.IGNORECASE,
)


def noqa_codes(line: str) -> set[str] | None:
    """Codes suppressed on a line: None if none, empty set for a bare ``# noqa``."""
    match = _NOQA.search(line)
    if match is None:
        return None
    codes = match.group("codes")
    if not codes:
        return set()
    return {c.upper() for c in re.split(r"[,\s]+", codes.strip()) if c}


def prefilter(source: str, catalog: Catalog) -> bool:
    """False when the text cannot hold a finding (sound: it names no norm)."""
    return any(tok.decode() in source for tok in catalog.prefilter_tokens)


@dataclass
class Checked:
    """Everything the fixer needs after a check."""

    diagnostics: list[Diagnostic]
    module: cst.Module | None = None
    builder: FactBuilder | None = None
    suppressed: list[Diagnostic] = field(default_factory=list)


def parse(source: str) -> cst.Module:
    import libcst as cst

    try:
        return cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        raise ParseError(
            f"syntax error at {exc.raw_line}:{exc.raw_column + 1}: {exc.message}"
        ) from None
    except RecursionError:
        raise ParseError("too deeply nested to parse") from None


def check(
    source: str,
    *,
    catalog: Catalog | None = None,
    select: Collection[str] | None = None,
    ignore: Collection[str] = (),
    use_prefilter: bool = True,
) -> Checked:
    catalog = catalog or default_catalog()
    rules = _active_rules(select, ignore)
    if not rules or (use_prefilter and not prefilter(source, catalog)):
        return Checked([])
    from convbnlint.analysis import Analysis
    from convbnlint.facts import collect

    module = parse(source)
    try:
        builder = collect(module, catalog)
    except RecursionError:
        raise ParseError("too deeply nested to analyse") from None
    analysis = Analysis(builder.facts)
    lines = source.splitlines()
    out: list[Diagnostic] = []
    suppressed: list[Diagnostic] = []
    for finding in analysis.findings():
        site = builder.facts.sites[finding.site]
        rule = rule_for_family(site.spec.family, finding.literal is not None)
        if rule is None or rule.code not in rules:
            continue
        norms = sorted({builder.facts.sites[n].spec.name for n in finding.norms})
        span = builder.span(finding.site)
        when = fix_value = None
        if finding.literal is not None:
            from convbnlint.facts import bias_for, describe

            when, fix_value = describe(finding.literal), bias_for(finding.literal)
        message = rule.message(site.spec.name, norms, when, fix_value or "False")
        if site.helper is not None:
            message = message.replace(f"{site.spec.name} bias", f"{site.spec.name} ({site.helper}()) bias", 1)
            if not site.fixable:
                message += f" (not fixable: {site.helper}() has no bias parameter)"
        diag = Diagnostic(
            code=rule.code,
            name=rule.name,
            message=message,
            span=span,
            fixable=rule.fixable and site.fixable,
            site=finding.site,
            fix_value=fix_value or "False",
        )
        line = lines[span.line - 1] if span.line - 1 < len(lines) else ""
        codes = noqa_codes(line)
        if codes is not None and (not codes or rule.code in codes):
            suppressed.append(diag)
            continue
        out.append(diag)
    out.sort(key=Diagnostic.sort_key)
    return Checked(out, module, builder, suppressed)


def _active_rules(select: Collection[str] | None, ignore: Collection[str]) -> dict[str, Rule]:
    rules = all_rules()
    chosen = {}
    for code, rule in rules.items():
        if select is not None and not any(code.startswith(s) for s in select):
            continue
        if any(code.startswith(i) for i in ignore):
            continue
        chosen[code] = rule
    return chosen


def check_source(source: str, **kwargs: object) -> list[Diagnostic]:
    """Diagnostics for one source text (public API)."""
    return check(source, **kwargs).diagnostics  # type: ignore[arg-type]


def fix_source(source: str, **kwargs: object) -> tuple[str, list[Diagnostic]]:
    """Fixed text and the diagnostics that were fixed (public API).

    Raises :class:`convbnlint.fix.UnsafeFixError` if the fix cannot be verified.
    """
    from convbnlint.fix import apply_fixes

    checked = check(source, **kwargs)  # type: ignore[arg-type]
    fixable = [d for d in checked.diagnostics if d.fixable]
    if not fixable:
        return source, []
    new = apply_fixes(source, checked, fixable, **kwargs)  # type: ignore[arg-type]
    return new, fixable
