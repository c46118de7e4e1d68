"""Source text in, diagnostics (and fixed text) out.  No file system here.

Stages, cheapest first (each one sound: it never changes the findings; see
:mod:`convbnlint.syntax.stages`):

1. prefilter: a text that contains none of the catalog's norm tokens cannot hold a
   finding; libcst is not even imported;
2. call shapes: the text must show a call of a reportable biased layer and of a
   norm that cancels its family;
3. blocks (CPython's ``ast``): a file where no possibly-on bias can reach a norm is
   clean; otherwise the top-level blocks no finding can depend on are blanked out;
4. parse (libcst) what is left and collect facts (:mod:`convbnlint.facts`), names
   resolved from the module's imports (:mod:`convbnlint.syntax.names`);
5. analysis (:mod:`convbnlint.analysis`) and rules;
6. ``# noqa`` filtering on the line of each finding.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from convbnlint.catalog import Catalog, default_catalog
from convbnlint.rules import Rule, all_rules, rule_for_family
from convbnlint.syntax.parse import (  # noqa: F401  (parse, ParseError: public here too)
    ParseError,
    depth_hazard,
    duplicate_keyword,
    gc_paused,
    parse,
    parse_measured,
    raise_if_invalid,
    source_lines,
)
from convbnlint.types import Diagnostic

if TYPE_CHECKING:
    import libcst as cst

    from convbnlint.facts import FactBuilder
    from convbnlint.fixsafety import Read
    from convbnlint.project import ProjectContext
    from convbnlint.project.judge import CallFinding
    from convbnlint.syntax.names import ImportTable, NameResolver


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
    """False when the text cannot hold a finding (sound: see :func:`catalog.passes`)."""
    from convbnlint.catalog import passes

    return passes(source, catalog)


@dataclass
class Checked:
    """Everything the fixer needs after a check.

    ``module`` is the whole parsed module, unless ``partial``: then only the
    analysed blocks were parsed, ``module`` is None and nothing may be fixed from
    this result (``check(..., fixable=True)``, the default, never returns one with
    diagnostics).
    """

    diagnostics: list[Diagnostic]
    module: cst.Module | None = None
    builder: FactBuilder | None = None
    suppressed: list[Diagnostic] = field(default_factory=list)
    partial: bool = False
    stage: str = ""  # the stage that decided (statistics): "" when libcst ran
    # Checks another text with the same settings (the fixer re-checks its output).
    recheck: Callable[[str], Checked] | None = field(default=None, repr=False, compare=False)
    # Of a partial result with findings: what blanked code could take them away
    # through (``Analysis.relevant_names``, ``syntax.stages.Plan.widened``).
    relevant: tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]] = field(
        default=(frozenset(), frozenset(), frozenset(), frozenset()), repr=False, compare=False
    )


def needs_analysis(
    source: str,
    *,
    catalog: Catalog | None = None,
    select: Collection[str] | None = None,
    ignore: Collection[str] = (),
    use_prefilter: bool = True,
    use_shapes: bool = True,
) -> bool:
    """False when the two text stages alone show ``source`` cannot hold a finding.

    (``check`` then only verifies that the text parses.)  Cheap: substring and
    literal searches; the runner uses it to decide which files are real work.
    """
    catalog = catalog or default_catalog()
    return _text_stage(source, catalog, _active_rules(select, ignore), use_prefilter, use_shapes) is None


def _text_stage(
    source: str,
    catalog: Catalog,
    rules: dict[str, Rule],
    use_prefilter: bool,
    use_shapes: bool,
) -> str | None:
    """The first text-only stage that shows ``source`` cannot hold a finding, or None."""
    if not rules:
        return "rules"
    if use_prefilter and not prefilter(source, catalog):
        return "prefilter"
    if use_shapes:
        from convbnlint.syntax.stages import shapes_match

        if not shapes_match(source, catalog, {r.family for r in rules.values()}):
            return "shapes"
    return None


def check(
    source: str,
    *,
    catalog: Catalog | None = None,
    select: Collection[str] | None = None,
    ignore: Collection[str] = (),
    use_prefilter: bool = True,
    use_shapes: bool = True,
    use_blocks: bool = True,
    names: str = "fast",
    fixable: bool = True,
    other_reads: Sequence[Read] = (),
    project: ProjectContext | None = None,
    path: str | None = None,
) -> Checked:
    """Diagnostics for one text.

    ``use_prefilter``/``use_shapes``/``use_blocks`` switch the stages off (for
    tests and benchmarks: the findings are the same).  ``names`` picks the name
    resolver: ``"fast"`` (:class:`convbnlint.syntax.names.FastNames`) or ``"libcst"``
    (:class:`convbnlint.facts.LibcstNames`).  With ``fixable=False`` a result with
    findings may be ``partial`` (cheaper; enough when nothing will be fixed).
    ``other_reads``: bias reads in other files that may make a fix unsafe
    (:func:`convbnlint.fixsafety.tree_reads`).  ``project`` and ``path``: the
    whole-project context and this text's file, whose calls of the project's
    definitions are judged too (:mod:`convbnlint.project`).
    """
    catalog = catalog or default_catalog()
    rules = _active_rules(select, ignore)
    calls = _project_calls(project, path, source, rules)
    if calls:  # the whole text is analysed (the calls may lie where no norm is)
        use_prefilter = use_shapes = use_blocks = False
    stage = _text_stage(source, catalog, rules, use_prefilter, use_shapes)
    if stage is None and (catalog.framework.default_changers or catalog.framework.freezers):
        catalog = _with_changed_defaults(source, catalog)
    if stage is not None:
        if stage == "shapes":
            raise_if_invalid(source)  # the error a full parse would report, if any
        return Checked([], stage=stage)
    families = {r.family for r in rules.values()}
    with gc_paused():
        from convbnlint.syntax.names import parse_ast, table_from_ast
        from convbnlint.sourcefile import parse_hazard

        text, table, partial, plan, ghosts = source, None, False, None, frozenset()
        use_blocks = use_blocks and names == "fast"  # blanked blocks need the whole-text table
        tree = parse_ast(source)
        if tree is not None:  # (which CPython's parser accepts but its compiler rejects)
            repeated = duplicate_keyword(tree)
            if repeated is not None:
                raise ParseError(repeated)
        if tree is not None and use_blocks:
            from convbnlint.syntax.stages import plan_blocks

            plan = plan_blocks(source, tree, catalog, families)
            del tree
            if plan is None:
                return Checked([], stage="blocks")
            text, table, partial = plan.text, plan.table, plan.partial
            ghosts = plan.ghosts
            hazard = depth_hazard(source, plan.depth)
        else:
            # (No tree: CPython rejects the text; libcst may still take it.)
            hazard = parse_hazard(source, tree)
            if tree is not None and names == "fast":
                table = table_from_ast(tree)
            del tree
        if hazard is not None:
            raise ParseError(hazard)
        checked = _analyse(source, text, table, partial, catalog, rules, names, other_reads, ghosts, calls)
        while partial and plan is not None and not fixable and (checked.diagnostics or checked.suppressed):
            # A blanked block may veto a finding: keep those blocks too, and again.
            plan = plan.widened(*checked.relevant)
            if plan is None:
                break
            text, partial, ghosts = plan.text, plan.partial, plan.ghosts
            checked = _analyse(
                source, text, table, partial, catalog, rules, names, other_reads, ghosts, calls
            )
        if partial and fixable and (checked.diagnostics or checked.suppressed):
            # The fixer edits the whole module: analyse it all (same findings).
            checked = _analyse(
                source, source, table, False, catalog, rules, names, other_reads, calls=calls
            )
        checked.recheck = lambda text: check(
            text, catalog=catalog, select=select, ignore=ignore, project=project, path=path
        )
        return checked


def _project_calls(
    project: ProjectContext | None, path: str | None, source: str, rules: dict[str, Rule]
) -> list:
    """The judged calls of this text (:mod:`convbnlint.project`), if any."""
    if project is None or path is None or not rules:
        return []
    return [f for f in project.findings(path, source) if f.code in rules]


def _with_changed_defaults(source: str, catalog: Catalog) -> Catalog:
    """A text that changes a default the catalog assumes (``set_image_data_format``)
    gets no finding that depends on it: those layout defaults become unknown."""
    if any(tok in source for tok in catalog.framework.default_changers):
        catalog = catalog.configured({name: None for name in catalog.settings})
    return catalog.without_norms_of(_frozen_frameworks(source, catalog))


def _frozen_frameworks(source: str, catalog: Catalog) -> frozenset[str]:
    """The frameworks whose norms ``source`` may freeze where the walker does not
    follow (:mod:`convbnlint.syntax.freezers`); only texts that name the framework's
    package and a freezer (or call ``setattr``) are read."""
    freezers = catalog.framework.freezers
    if not freezers:
        return frozenset()
    candidates = {fw for _, fw in freezers if any(r in source for r in _roots(catalog, fw))}
    if not candidates:
        return frozenset()
    tokens = {tok for tok, fw in freezers if fw in candidates}
    if not any(tok in source for tok in tokens) and "setattr" not in source:
        return frozenset()
    from convbnlint.syntax.freezers import may_freeze

    hit = may_freeze(source, tokens)
    return frozenset(fw for tok, fw in freezers if fw in candidates and tok in hit)


_ROOTS: dict[tuple[int, str], tuple[Catalog, tuple[str, ...]]] = {}


def _roots(catalog: Catalog, framework: str) -> tuple[str, ...]:
    """The top-level packages a framework's names come from (``keras``, ``tensorflow``)."""
    key = (id(catalog), framework)
    hit = _ROOTS.get(key)
    if hit is None or hit[0] is not catalog:
        from convbnlint.catalog import root_package

        roots = sorted({root_package(q) for s in catalog.specs if s.framework == framework
                        for q in (s.qualname, *s.aliases)})
        hit = _ROOTS[key] = (catalog, tuple(roots))
    return hit[1]


def _analyse(
    source: str,
    text: str,
    table: ImportTable | None,
    partial: bool,
    catalog: Catalog,
    rules: dict[str, Rule],
    names: str,
    other_reads: Sequence[Read] = (),
    ghosts: frozenset[str] = frozenset(),
    calls: Sequence[CallFinding] = (),
) -> Checked:
    from convbnlint.analysis import Analysis
    from convbnlint.facts import collect
    from convbnlint.syntax.positions import call_spans

    try:
        module = parse_measured(text)
    except ParseError:
        if partial:  # report the error libcst finds in the whole text
            parse_measured(source)
        raise
    resolver: NameResolver
    if names == "libcst":
        from convbnlint.syntax.names import LibcstNames

        resolver = LibcstNames(module)
    else:
        from convbnlint.syntax.names import FastNames, table_from_cst

        resolver = FastNames(table=table if table is not None else table_from_cst(module))
    try:
        builder = collect(module, catalog, resolver, ghosts)
    except RecursionError:
        raise ParseError("too deeply nested to analyse") from None
    analysis = Analysis(builder.facts, catalog.framework, catalog)
    lines: list[str] | None = None
    out: list[Diagnostic] = []
    suppressed: list[Diagnostic] = []
    findings = analysis.findings()
    spans = call_spans(module, [builder.site_nodes[f.site] for f in findings]) if findings else {}
    for finding in findings:
        site = builder.facts.sites[finding.site]
        rule = rule_for_family(site.spec.family, finding.literal is not None)
        if rule is None or rule.code not in rules:
            continue
        norms = sorted({builder.facts.sites[n].spec.name for n in finding.norms})
        if finding.fused and site.spec.fused_norm is not None:
            norms = [site.spec.fused_norm]
        node = builder.site_nodes[finding.site]
        span = spans[node] if node in spans else builder.span(finding.site)
        when = fix_value = None
        fixable = rule.fixable and site.fixable
        off = site.spec.bias_off
        conditional_note = None
        if finding.literal is not None:
            from convbnlint.ir import bias_for, describe

            when, fix_value = describe(finding.literal), bias_for(finding.literal)
            if off != "False":
                # ``not flag`` is no value for an argument whose "off" is not False (slim's
                # ``biases_initializer=None``).  The exact edit keeps the default where no
                # norm follows (``None if flag else <default>``), and a bias that is on is on
                # through that default (any other value is not read as on): a zeros
                # initializer this file has no sure name for.
                fixable, fix_value = False, off
                conditional_note = (
                    f"not fixable: only when {when}; elsewhere the bias comes from the default "
                    f"{site.spec.bias_param}, which this file cannot name exactly"
                )
        fix_value = fix_value or off
        channels_first = all(builder.facts.sites[n].axes in (None, (1,)) for n in finding.norms)
        message = rule.message(
            site.spec.name,
            norms,
            when,
            fix_value,
            site.spec.bias_param,
            finding.fused,
            assumes=channels_first and not finding.fused,
        )
        if site.helper is not None:
            message = message.replace(f"{site.spec.name} bias", f"{site.spec.name} ({site.helper}()) bias", 1)
            if not site.fixable and not site.spec.bias_keyword:
                message += (
                    f" (not fixable: {site.helper}()'s {site.spec.bias_param} is positional-only"
                    " and this call does not pass the arguments before it)"
                )
            elif not site.fixable:
                message += f" (not fixable: {site.helper}() has no bias parameter)"
        elif not site.fixable and site.unfixable:
            message += f" (not fixable: {site.unfixable})"
        if conditional_note is not None:
            message += f" ({conditional_note})"
        diag = Diagnostic(
            code=rule.code,
            name=rule.name,
            message=message,
            span=span,
            fixable=fixable,
            site=finding.site,
            fix_value=fix_value,
        )
        if lines is None:
            lines = source_lines(source)
        line = lines[span.line - 1] if span.line - 1 < len(lines) else ""
        codes = noqa_codes(line)
        if codes is not None and (not codes or rule.code in codes):
            suppressed.append(diag)
            continue
        out.append(diag)
    if calls:  # whole-project analysis: calls judged with other modules' definitions
        from convbnlint.project.sites import call_diagnostics

        if lines is None:
            lines = source_lines(source)
        for diag in call_diagnostics(builder, module, lines, calls):
            line = lines[diag.span.line - 1] if diag.span.line - 1 < len(lines) else ""
            codes = noqa_codes(line)
            if codes is not None and (not codes or diag.code in codes):
                suppressed.append(diag)
            else:
                out.append(diag)
    out.sort(key=Diagnostic.sort_key)
    if any(d.fixable for d in out):  # fix safety: code that reads a removed bias (issue 10)
        from convbnlint.fixsafety import decide

        out = decide(source, builder, analysis, out, other_reads)
    if partial:
        checked = Checked(out, None, builder, suppressed, partial=True)
        if out or suppressed:
            checked.relevant = analysis.relevant_names(findings)
        return checked
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

    Safe fixes only, unless ``unsafe_fixes=True``.

    Raises :class:`convbnlint.fix.UnsafeFixError` if the fix cannot be verified.
    """
    from convbnlint.fix import apply_fixes

    unsafe_fixes = bool(kwargs.pop("unsafe_fixes", False))
    checked = check(source, **kwargs)  # type: ignore[arg-type]
    fixable = [d for d in checked.diagnostics if d.fix_applies(unsafe_fixes)]
    if not fixable:
        return source, []
    new = apply_fixes(source, checked, fixable, **kwargs)  # type: ignore[arg-type]
    return new, fixable
