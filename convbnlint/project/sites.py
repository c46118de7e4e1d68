"""A judged call as a site of its module's facts, so the fixer can edit it.

A :class:`~convbnlint.project.judge.CallFinding` says which argument of the call
turns the cancelled bias on.  :func:`call_sites` finds the call's libcst node and
registers a :class:`~convbnlint.ir.Site` for it whose spec's bias parameter *is*
that argument (``bias`` by keyword, a position, or a keyword to add), so
:mod:`convbnlint.fix` writes ``bias=False`` there as it does for any layer.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from convbnlint.ir import Site
from convbnlint.types import Bias, Span

if TYPE_CHECKING:
    import libcst as cst

    from convbnlint.facts import FactBuilder
    from convbnlint.project.judge import CallFinding


def char_column(source_line: str, byte_column: int) -> int:
    """``ast``'s UTF-8 byte column (1-based) as a character column (1-based)."""
    if source_line.isascii():
        return byte_column
    return len(source_line.encode("utf-8")[: byte_column - 1].decode("utf-8", errors="replace")) + 1


def call_sites(
    builder: FactBuilder, module: cst.Module, lines: list[str], findings: list[CallFinding]
) -> list[tuple[int, CallFinding, Span]]:
    """(site id, finding, span) for each finding whose call is found in ``module``."""
    import libcst as cst

    from convbnlint.catalog import default_catalog
    from convbnlint.cstwalk import walk
    from convbnlint.syntax.positions import call_spans

    calls: list[cst.Call] = []

    class _Calls(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            calls.append(node)

    walk(module, _Calls())
    spans = call_spans(module, calls)
    by_start: dict[tuple[int, int], cst.Call] = {}
    for node, span in spans.items():
        by_start.setdefault((span.line, span.column), node)
    catalog = default_catalog()
    out = []
    for finding in findings:
        line = lines[finding.line - 1] if finding.line - 1 < len(lines) else ""
        node = by_start.get((finding.line, char_column(line, finding.column)))
        spec = _spec(catalog, finding)
        if node is None or spec is None:
            continue
        sid = len(builder.site_nodes) + 10_000_000
        while sid in builder.facts.sites:
            sid += 1
        derived = spec
        fixable = finding.fix is not None
        if finding.fix is not None:
            kind, where = finding.fix
            derived = replace(
                spec,
                bias_param=where if kind in ("keyword", "add") else spec.bias_param,
                bias_index=where if kind == "position" else None,
                bias_keyword=kind != "position",
            )
        builder.site_nodes[sid] = node
        builder.facts.sites[sid] = Site(
            sid,
            derived,
            bias=Bias.TRUE,
            helper=finding.callee,
            fixable=fixable,
            unfixable=finding.why_not,
        )
        # How the fix-safety scan reaches the layer: through the call's object.
        if not hasattr(builder, "project_sites"):
            builder.project_sites = {}  # type: ignore[attr-defined]
        builder.project_sites[sid] = finding  # type: ignore[attr-defined]
        out.append((sid, finding, spans[node]))
    return out


def _spec(catalog, finding: CallFinding):  # type: ignore[no-untyped-def]
    return catalog.lookup(finding.qualname)


def call_diagnostics(
    builder: FactBuilder, module: cst.Module, lines: list[str], findings: list[CallFinding]
) -> list:
    """The diagnostics of judged calls (their sites registered in ``builder``)."""
    from convbnlint.rules import all_rules
    from convbnlint.types import Diagnostic

    rules = all_rules()
    out = []
    for sid, finding, span in call_sites(builder, module, lines, findings):
        rule = rules.get(finding.code)
        if rule is None:
            continue
        site = builder.facts.sites[sid]
        spec = site.spec
        fixable = rule.fixable and site.fixable
        message = rule.message(spec.name, [finding.norms], None, spec.bias_off, spec.bias_param, False)
        message = message.replace(f"{spec.name} bias", f"{spec.name} ({finding.callee}()) bias", 1)
        if not fixable and finding.why_not:
            message += f" (not fixable here: {finding.why_not})"
        out.append(
            Diagnostic(
                code=rule.code,
                name=rule.name,
                message=message,
                span=span,
                fixable=fixable,
                site=sid,
                fix_value=spec.bias_off,
            )
        )
    return out
