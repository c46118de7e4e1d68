"""CBL003 conv-bias-before-conditional-norm.

A convolution followed by a cancelling norm only when a parameter test holds
(VGG's ``if batch_norm: layers += [conv, nn.BatchNorm2d(v), ...]``).  The bias is
dead exactly on those paths; the fix writes ``bias=not batch_norm`` (or the
equivalent expression), keeping the bias where no norm follows.  The full rule
page is ``docs/rules/CBL003.md``.
"""

from convbnlint.rules import Rule

RULE = Rule(
    code="CBL003",
    name="conv-bias-before-conditional-norm",
    family="conv",
    summary="Convolution bias is cancelled by a normalization that follows it conditionally",
    conditional=True,
)
