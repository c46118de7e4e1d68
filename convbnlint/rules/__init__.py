"""Rule registry.  Each rule is a small declarative object in its own module.

A rule maps an analysis finding for one layer family to a diagnostic code and
message; rules never touch source text (the fixer does that).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    family: str  # the catalog family whose findings this rule reports
    summary: str
    fixable: bool = True

    def message(self, layer: str, norms: list[str]) -> str:
        norm = " / ".join(norms)
        return f"{layer} bias is cancelled by the following {norm}; pass bias=False"

    @property
    def doc_path(self) -> str:
        return f"docs/rules/{self.code}.md"


def all_rules() -> dict[str, Rule]:
    from convbnlint.rules.cbl001 import RULE as CBL001

    rules = [CBL001]
    return {r.code: r for r in rules}


def rule_for_family(family: str) -> Rule | None:
    for rule in all_rules().values():
        if rule.family == family:
            return rule
    return None
