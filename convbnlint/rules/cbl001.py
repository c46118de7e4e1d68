"""CBL001 conv-bias-before-norm.

A convolution whose bias is enabled and whose output goes only into a
normalization that subtracts a per-channel mean (BatchNorm, InstanceNorm): the
bias is cancelled, receives a zero gradient and is dead weight.  The full rule
page, with examples and fix safety, is ``docs/rules/CBL001.md``.
"""

from convbnlint.rules import Rule

RULE = Rule(
    code="CBL001",
    name="conv-bias-before-norm",
    family="conv",
    summary="Convolution bias is cancelled by the following normalization",
)
