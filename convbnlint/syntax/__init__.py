"""Syntax: parsing, names through imports, positions and the cheap stages.

These are the modules that read source text or trees without knowing what the
analysis wants of them: :mod:`~convbnlint.syntax.parse` (text -> libcst tree,
:class:`~convbnlint.syntax.parse.ParseError`), :mod:`~convbnlint.syntax.names`
(import tables, name resolvers), :mod:`~convbnlint.syntax.positions` (call spans)
and :mod:`~convbnlint.syntax.stages` (prefilter, call shapes, block planning).
"""
