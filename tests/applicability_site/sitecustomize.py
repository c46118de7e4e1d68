"""Test-only: give findings the fix applicability that a marker comment on
their line asks for, until the analysis itself produces unsafe fixes.

Put this folder on ``PYTHONPATH`` (``tests/util.py: APPLICABILITY_ENV``) and
every Python process started with it -- the installed ``convbnlint`` command,
its pool workers, ``convbnlint server`` -- wraps :func:`convbnlint.engine.check`:

* ``# test: unsafe`` on a finding's line makes its fix UNSAFE, with the reason
  ``line N reads the bias (test marker)`` (N: the marker's line);
* ``# test: display-only`` makes it DISPLAY_ONLY;
* ``# test: keys=a.bias,b.bias`` sets its ``state_keys``.

Nothing else changes: the fixer, the verification and every reporter are the
real ones.
"""

from __future__ import annotations

import dataclasses
import re

_MARK = re.compile(r"#\s*test:\s*(unsafe|display-only|keys=([\w.,]+))")


def _install() -> None:
    import convbnlint.engine as engine
    from convbnlint.syntax.parse import source_lines
    from convbnlint.types import Applicability

    real = engine.check

    def check(source, **kwargs):  # type: ignore[no-untyped-def]
        checked = real(source, **kwargs)
        lines = source_lines(source)

        def mark(d):  # type: ignore[no-untyped-def]
            line = lines[d.span.line - 1] if d.span.line - 1 < len(lines) else ""
            changes = {}
            for m in _MARK.finditer(line):
                if m.group(1) == "unsafe":
                    changes["applicability"] = Applicability.UNSAFE
                    changes["unsafe_reason"] = f"line {d.span.line} reads the bias (test marker)"
                elif m.group(1) == "display-only":
                    changes["applicability"] = Applicability.DISPLAY_ONLY
                else:
                    changes["state_keys"] = tuple(m.group(2).split(","))
            return dataclasses.replace(d, **changes) if changes else d

        checked.diagnostics = [mark(d) for d in checked.diagnostics]
        return checked

    engine.check = check


_install()
