"""CBL002 linear-bias-before-batchnorm.

``nn.Linear(i, f)`` whose output goes only into ``nn.BatchNorm1d(f)`` (or
``SyncBatchNorm(f)``) over the same features: on (N, f) input the norm subtracts
each feature's batch mean, which removes the Linear's per-feature bias.  The
full rule page is ``docs/rules/CBL002.md``.
"""

from convbnlint.rules import Rule

RULE = Rule(
    code="CBL002",
    name="linear-bias-before-batchnorm",
    family="linear",
    summary="Linear bias is cancelled by the following BatchNorm1d",
)
