"""The one exception of :mod:`convbnlint.migrate` (no torch needed to import it)."""


class MigrationError(ValueError):
    """The checkpoint cannot be carried over exactly; the message says why."""
