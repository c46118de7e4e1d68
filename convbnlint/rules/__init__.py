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
    conditional: bool = False  # reports findings that hold only under a parameter test
    # What the cancellation assumes of the input when the norm normalizes axis 1
    # (a channels-first norm), stated in the message: CBL002's 2-D input.
    assumption: str | None = None

    def message(
        self,
        layer: str,
        norms: list[str],
        when: str | None = None,
        fix: str = "False",
        param: str = "bias",
        fused: bool = False,
        assumes: bool = False,
    ) -> str:
        """The finding's text; ``param`` is the framework's bias argument
        (``use_bias`` in Keras and Flax, ``bias_attr`` in Paddle...); ``assumes``:
        state the rule's :attr:`assumption`."""
        norm = " / ".join(norms)
        where = f"its own {norm}" if fused else f"the following {norm}"
        if assumes and self.assumption:
            where += f" {self.assumption}"
        if when is not None:
            return f"{layer} bias is cancelled by {where} when {when}; pass {param}={fix}"
        return f"{layer} bias is cancelled by {where}; pass {param}={fix}"

    @property
    def doc_path(self) -> str:
        return f"docs/rules/{self.code}.md"


def all_rules() -> dict[str, Rule]:
    from convbnlint.rules.cbl001 import RULE as CBL001
    from convbnlint.rules.cbl002 import RULE as CBL002
    from convbnlint.rules.cbl003 import RULE as CBL003

    rules = [CBL001, CBL002, CBL003]
    return {r.code: r for r in rules}


def rule_for_family(family: str, conditional: bool = False) -> Rule | None:
    for rule in all_rules().values():
        if rule.family == family and rule.conditional == conditional:
            return rule
    return None
