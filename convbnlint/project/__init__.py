"""Whole-project analysis: calls judged with the definitions of other modules.

The single-file analysis proves what one module shows.  A model zoo builds its
layers through wrappers defined elsewhere (``conv1x1_block(..., bias=True)``,
``ConvBlock``, ``Conv2dNormActivation``), so the proof of many dead biases needs
the module that defines the wrapper, and sometimes a third one (the norm
factory).  This package:

* :mod:`.graph` -- the run's files as modules: names, imports (absolute,
  relative, packages, re-exports), top-level bindings;
* :mod:`.evaluate` -- a partial evaluator that runs a wrapper's code for one
  call's arguments and emits the residual code it builds;
* :mod:`.specialise` -- the residual class in place of the original in its
  module's text, judged by the ordinary single-file analysis;
* :mod:`.reach` -- whether code anywhere in the project reaches into the object
  the call builds (by attribute name, or by computed names);
* :mod:`.judge` -- the call sites of a module, judged;
* :mod:`.sites` -- a judged call as a site the fixer edits (``bias=True`` ->
  ``bias=False`` at the call, or an added ``bias=False`` when the callee's
  default turns it on), only when that argument feeds nothing but cancelled
  biases.

:class:`ProjectContext` is what the runner (and the engine) use.  It is off by
default (``whole-project``; ``--whole-project``): a cold run costs several times
the single-file one (docs/recall.md).  Its cache is keyed by the stat signatures
of every file of the run (:func:`convbnlint.runner._project_digest`): an
unchanged tree is answered from the cache, any change checks every file again
(no per-file summaries yet).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from convbnlint.project.judge import CallFinding, Judge

# Top-level definitions of a module (the names a wrapper can be called by).
_TOP_DEF = re.compile(r"^(?:class|def)[ \t]+([A-Za-z_]\w*)", re.MULTILINE)
_WORD = re.compile(r"[A-Za-z_]\w*")
_CALLED = re.compile(r"([A-Za-z_]\w*)[ \t]*\(")
# What may build a norm: a catalogued norm class's name, or a parameter or
# attribute named for one (``norm_layer``, ``use_bn``, ``normalization``).
_NORMISH = re.compile(r"Norm|norm|\bbn|bn\b|BN")


def _token_pattern(tokens: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(t) for t in sorted(tokens, key=len, reverse=True)))


def _top_definitions(text: str):  # type: ignore[no-untyped-def]
    """(name, text up to the next top-level statement) of each top-level
    ``def``/``class`` (decorators and comments between them go with the next)."""
    starts = [(m.start(), m.group(1)) for m in _TOP_DEF.finditer(text)]
    for i, (start, name) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        yield name, text[start:end]


class ProjectContext:
    """The project of one run: its files, and the judgements of their calls."""

    def __init__(self, paths: list[str], texts: dict[str, str] | None = None) -> None:
        from convbnlint.project.graph import Project

        self.project = Project(paths, texts)
        self._judge: Judge | None = None
        self._findings: dict[tuple[str, int], list[CallFinding]] = {}
        self._wrappers: frozenset[str] | None = None

    @property
    def judge(self) -> Judge:
        if self._judge is None:
            from convbnlint.project.judge import Judge

            self._judge = Judge(self.project)
        return self._judge

    def add_text(self, path: str, text: str) -> None:
        """A file's text as the run read it (saves reading it again)."""
        import os

        self.project.texts.setdefault(os.path.abspath(path), text)

    def wrappers(self) -> frozenset[str]:
        """Names a call of a wrapper of the project may use: the top-level
        definitions whose text names a biased layer class (or such a
        definition) and a norm (a catalogued norm class, a ``norm``/``bn``
        parameter, or such a definition).  A text calling none of them holds no
        call judged here: an over-approximation that only saves work (the
        judgement resolves names through imports)."""
        if self._wrappers is not None:
            return self._wrappers
        from convbnlint.project.reach import biased_tokens

        biased_words = _token_pattern(biased_tokens())
        biased: set[str] = set()
        normed: set[str] = set()
        words: dict[str, set[str]] = {}
        for path in self.project.files:
            text = self.project.text(path)
            if text is None:
                continue
            for name, body in _top_definitions(text):
                if biased_words.search(body):
                    biased.add(name)
                if _NORMISH.search(body):
                    normed.add(name)
                words[name] = words.get(name, set()) | set(_WORD.findall(body))
        for found in (biased, normed):
            for _ in range(6):
                grown = {n for n, w in words.items() if n not in found and not w.isdisjoint(found)}
                if not grown:
                    break
                found |= grown
        self._wrappers = frozenset(biased & normed)
        return self._wrappers

    def candidate(self, text: str) -> bool:
        """Whether a text the single-file stages call clean may still hold a
        call judged here: it calls a possible wrapper by name."""
        wrappers = self.wrappers()
        return bool(wrappers) and not wrappers.isdisjoint(_CALLED.findall(text))

    def findings(self, path: str, text: str) -> list[CallFinding]:
        """The findings at calls of ``path`` (whose text is ``text``)."""
        import os

        from convbnlint.project.graph import read_module

        path = os.path.abspath(path)
        key = (path, hash(text))
        hit = self._findings.get(key)
        if hit is not None:
            return hit
        fm = self.project.module_of(path)
        if fm is None or not self.candidate(text):
            self._findings[key] = []
            return []
        info = self.project.info(path)
        if info is None or info.text != text:
            info = read_module(path, fm.name, fm.is_package, text)
        try:
            found = self.judge.judge_calls(info, self.wrappers())
        except RecursionError:
            found = []
        self._findings[key] = found
        return found


# The context of the run in progress: pool workers (forked) inherit it.
ACTIVE: ProjectContext | None = None
