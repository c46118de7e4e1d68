"""``**name`` arguments whose keys are known: ``dd = {"device": d, "dtype": t}``.

A ``**dd`` argument makes a call's keywords open-ended, so a layer built with it
has an unknown bias -- unless ``dd`` can only ever be one dict whose keys are
string constants.  :func:`known_kwargs` finds the ``**name`` argument nodes for
which that holds, and the keys each one carries:

* ``name`` is a local of a function, bound exactly once, by ``name = {...}`` with
  string-constant keys and no ``**`` inside, or ``name = dict(k=v, ...)`` with
  only plain keywords, where ``dict`` is the builtin (every ``dict`` of the module
  is a call of it and nothing is star-imported);
* every other occurrence of ``name`` anywhere in that function, nested scopes
  included, is a ``**name`` argument of a call.  So the dict never escapes (no
  alias can change it: ``**`` copies), and nothing rebinds, deletes or declares
  the name ``global``/``nonlocal``.

A key set without the bias parameter leaves the bias where the other arguments
put it; one with it makes the bias unknown (:func:`convbnlint.facts.arguments.bias_state`).
Module globals and ``self`` attributes are left open: code in other modules or
methods can change them.
"""

from __future__ import annotations

import libcst as cst

from convbnlint.cstwalk import walk
from convbnlint.facts.prescan import prescan

KnownKwargs = dict[cst.CSTNode, frozenset[str]]


def _literal_keys(value: cst.BaseExpression, builtin_dict: bool) -> frozenset[str] | None:
    if isinstance(value, cst.Dict):
        keys: set[str] = set()
        for el in value.elements:
            if not isinstance(el, cst.DictElement) or not isinstance(el.key, cst.SimpleString):
                return None
            key = el.key.evaluated_value
            if not isinstance(key, str):
                return None
            keys.add(key)
        return frozenset(keys)
    if (
        builtin_dict
        and isinstance(value, cst.Call)
        and isinstance(value.func, cst.Name)
        and value.func.value == "dict"
        and all(a.keyword is not None and not a.star for a in value.args)
    ):
        return frozenset(a.keyword.value for a in value.args if a.keyword is not None)
    return None


class _Occurrences(cst.CSTVisitor):
    """Every identifier occurrence (attribute and keyword names excluded), split into
    ``**name`` arguments and everything else."""

    def __init__(self) -> None:
        self.star: dict[str, list[cst.Name]] = {}
        self.other: dict[str, int] = {}
        self.dict_calls = 0
        self.import_star = False
        self._skip: set[int] = set()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._skip.add(id(node.attr))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._skip.add(id(node.keyword))
        if node.star == "**" and isinstance(node.value, cst.Name):
            self.star.setdefault(node.value.value, []).append(node.value)
            self._skip.add(id(node.value))

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "dict":
            self.dict_calls += 1

    def visit_ImportStar(self, node: cst.ImportStar) -> None:
        self.import_star = True

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) not in self._skip:
            self.other[node.value] = self.other.get(node.value, 0) + 1


def known_kwargs(module: cst.Module) -> KnownKwargs:
    """``**name`` argument nodes -> the keys the dict behind them always has."""
    whole = _Occurrences()
    walk(module, whole)
    if not whole.star:
        return {}
    builtin_dict = not whole.import_star and whole.other.get("dict", 0) == whole.dict_calls
    out: KnownKwargs = {}

    class _Functions(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            _function(node, builtin_dict, out)

    walk(module, _Functions())
    return out


def _function(node: cst.FunctionDef, builtin_dict: bool, out: KnownKwargs) -> None:
    seen = _Occurrences()
    walk(node.body, seen)
    if not seen.star:
        return
    params = node.params
    bound_params = {p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)}
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            bound_params.add(star.name.value)
    info = prescan(node.body.body if isinstance(node.body, cst.IndentedBlock) else node.body.body)
    for name, uses in seen.star.items():
        rhs = info.simple_rhs.get(name, [])
        if (
            name in bound_params
            or name in info.complex_bound
            or len(rhs) != 1
            or seen.other.get(name, 0) != 1  # the one assignment target
        ):
            continue
        keys = _literal_keys(rhs[0], builtin_dict)
        if keys is None:
            continue
        for use in uses:
            out[use] = keys
