"""CBL002 linear-bias-before-batchnorm.

``nn.Linear(i, f)`` whose output goes only into ``nn.BatchNorm1d(f)`` (or
``SyncBatchNorm(f)``) over the same features: on (N, f) input the norm subtracts
each feature's batch mean, which removes the Linear's per-feature bias.  That
2-D input is the rule's one assumption, stated in its message for channels-first
norms; where the code shows the input is not 2-D (a 3-D ``view``, a
``transpose``, a sequence model's output) the walker marks it and the rule stays
silent.  The full rule page is ``docs/rules/CBL002.md``.
"""

from convbnlint.rules import Rule

RULE = Rule(
    code="CBL002",
    name="linear-bias-before-batchnorm",
    family="linear",
    summary="Linear bias is cancelled by the following BatchNorm1d",
    # A channels-first BatchNorm1d on (N, L, F) input normalizes L: not cancelled.
    assumption="on 2-D (batch, features) input",
)
