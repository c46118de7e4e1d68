"""Shared pytest configuration.

Hypothesis profiles (select with ``HYPOTHESIS_PROFILE``): ``default`` keeps the
property tests to a few hundred examples in the regular suite; ``long`` runs
thousands (``HYPOTHESIS_PROFILE=long python -m pytest tests/test_properties.py``).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = dict(
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
    print_blob=True,
)
# CI runs a fixed, reproducible set of examples; the long profile explores.
settings.register_profile("default", max_examples=60, derandomize=True, **_COMMON)
settings.register_profile("long", max_examples=2500, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
