"""Cheap, sound stages that decide what the libcst analysis must see.

The libcst walker (:mod:`convbnlint.facts`) is the analyser; these stages only
narrow its input and never change its results.  Cheapest first:

1. **norm tokens** (:func:`convbnlint.engine.prefilter`): a text naming no
   cancelling norm cannot hold a finding.
2. **call shapes** (:func:`shapes_match`): a finding needs a constructor call of a
   catalogued cancelling norm *and* of a biased layer of a family some active rule
   reports (both are *sites*: calls whose callee resolves through imports to a
   catalogued class).  A callee's dotted name ends with the class name, unless the
   class was imported under another name, so the text must contain each class
   name followed by ``(`` or ``[`` (a call or a subscripted callee; spaces,
   comments, backslashes and closing brackets may come between) or by ``as``.
   A norm may also be built through a local alias chosen by a conditional
   expression (``norm = nn.BatchNorm2d if use_bn else nn.Identity``, then
   ``norm(c)``; :meth:`convbnlint.facts.containers.Containers.class_choice`), so a
   norm class name followed by ``if`` or preceded by ``else`` counts too.
3. **blocks** (:func:`plan_blocks`, on Python's C-implemented ``ast``): a finding
   is reported at a biased-layer call whose bias is (or may be) on -- a *seed* --
   and needs a cancelling-norm call that the analysis of the seed can see.  Each
   top-level ``def``/``class`` is a node, all other top-level statements together
   are one node ``M``; ``X -> Y`` means "facts about ``X`` may depend on ``Y``":

   * ``Y`` has ``X``'s name (factories and class families are keyed by name);
   * ``X`` and ``Y`` are classes and one names the other among its bases (shared
     ``self`` attributes);
   * ``X`` is a function and ``Y`` mentions it (a helper that returns a layer is
     used through its callers);
   * ``X`` mentions ``Y`` and ``Y`` holds a catalogued call (a helper building
     layers) or names a catalogued norm class in a conditional expression (a
     class alias, which the walker only follows inside one function: a norm site);
   * ``X`` mentions a name ``M`` binds other than by an import (module-level
     holders, tracked values, closure reads), or holds ``global``/``nonlocal``/
     ``:=`` (it could bind one): ``X -> M`` and ``M -> X``; ``M`` -> every block
     it mentions that holds a catalogued call.

   A file where no seed reaches a norm call is clean; otherwise every node no such
   seed reaches is blanked out (its characters removed, its line breaks kept, so
   every position in the kept code is unchanged) before libcst parses the text.

The analysis has no other channel between top-level blocks than names, so the
facts of every kept block, and so its findings, are unchanged.  The import table
the resolver uses is built from the *whole* text, so name resolution is unchanged
too.  ``tests/test_stages.py`` checks identical findings with every stage off over
the rule table and targeted cases, and ``bench/run.py --equivalence`` over the
whole corpus.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field

from convbnlint.catalog import Catalog, LayerSpec, Role, common_substring
from convbnlint.syntax.names import NAMED_BINDERS, ImportTable, ast_full_name, from_target

_MATCH_MAPPING_T = getattr(ast, "MatchMapping", None)

# Between a class name and the ``(``: spaces, newlines, comments, backslash
# continuations and closing brackets (``(nn.Conv2d)(...)``).
_JUNK = r"(?:[\s\\)\]]|#[^\n]*)*"
_IF_AFTER = re.compile(rf"{_JUNK}if\b")


@dataclass(frozen=True)
class Shapes:
    """What the stages look for, derived from the catalog and the active families."""

    # (family, its reportable layers' call shape, the call shapes of the norms that
    # cancel it: unconditionally, and only under conditions on their arguments)
    pairs: tuple[tuple[str, _Finder, _Finder | None, _Finder | None], ...]
    seed_specs: dict[str, tuple[LayerSpec, ...]]  # class name -> reportable biased specs
    norm_families: dict[str, frozenset[str]]  # norm class name -> active families it cancels
    all_names: frozenset[str]  # every catalogued class name
    norm_specs: dict[str, tuple[LayerSpec, ...]] = field(default_factory=dict)  # name -> norms
    container_names: frozenset[str] = frozenset()  # SEQUENTIAL and COLLECTION class names


def _last_part(qualname: str) -> str:
    return qualname.rsplit(".", 1)[-1]


class _Group:
    """Names sharing a literal of 3 characters or more: ``str.find`` the literal, then
    try a pattern only where it occurs (``re`` would try an alternation at every
    position of the text)."""

    def __init__(self, names: list[str]) -> None:
        names = sorted(set(names), key=len, reverse=True)
        alts = "|".join(re.escape(n) for n in names)
        self.pattern = re.compile(rf"\b(?:{alts})\b{_JUNK}(?:[(\[]|as\b)")
        self.mention = re.compile(rf"\b(?:{alts})\b")
        self.call = re.compile(rf"\b({alts})\b{_JUNK}\(")
        self.literal = common_substring(names) if names else ""
        self.offsets = sorted(
            {i for n in names for i in range(len(n)) if n.startswith(self.literal, i)}
        )

    def matches(self, pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
        """Every match of ``pattern`` (one that starts with a name), left to right."""
        literal = self.literal
        if len(literal) < 3:
            yield from pattern.finditer(text)
            return
        find, match, offsets = text.find, pattern.match, self.offsets
        at = find(literal)
        last = -1
        while at >= 0:
            for off in offsets:
                if at >= off and at - off > last:
                    m = match(text, at - off)
                    if m is not None:
                        last = at - off
                        yield m
                        break
            at = find(literal, at + 1)


def _groups(names: Iterable[str]) -> list[list[str]]:
    rest = sorted(set(names))
    out: list[list[str]] = []
    while rest:
        group = [rest[0]]
        for other in rest[1:]:
            if len(common_substring([*group, other])) >= 4:
                group.append(other)
        out.append(group)
        rest = [n for n in rest if n not in group]
    return out


class _Finder:
    """``search`` for "one of these class names, then a call/subscript/``as``"."""

    _AFTER = re.compile(rf"{_JUNK}[,)]")

    def __init__(self, names: Iterable[str]) -> None:
        self.groups = [_Group(g) for g in _groups(names)]

    def search(self, text: str, loose: bool = False) -> bool:
        if loose:
            return self._first_argument(text)
        for group in self.groups:
            for _ in group.matches(group.pattern, text):
                return True
        return False

    def chosen(self, text: str) -> bool:
        """A class named as a branch of a conditional expression (``norm =
        nn.BatchNorm2d if use_bn else nn.Identity``, then ``norm(c)``): a mention
        followed by ``if`` or preceded by ``else`` (a dotted prefix, spaces, ``(`` and
        backslashes between; a line break there is accepted without looking further)."""
        for group in self.groups:
            for m in group.matches(group.mention, text):
                if self._chosen_at(text, m.start(), m.end()):
                    return True
        return False

    @staticmethod
    def _chosen_at(text: str, start: int, end: int) -> bool:
        if _IF_AFTER.match(text, end):
            return True
        j = start
        while j > 0 and (text[j - 1].isalnum() or text[j - 1] in "._"):
            j -= 1  # the dotted prefix (``nn.``, ``torch.nn.``)
        while j > 0 and text[j - 1] in " \t\\(\f":
            j -= 1
        if j > 0 and text[j - 1] in "\r\n":
            return True  # (a comment or a continuation may hide the ``else``: accept)
        return text.endswith("else", 0, j) and (j == 4 or not (text[j - 5].isalnum() or text[j - 5] == "_"))

    def _first_argument(self, text: str) -> bool:
        """A name as the first argument of a call (``partial(nn.Conv2d, k=3)``, under
        any alias of ``partial``): ``(``, a dotted prefix, the name, then ``,``/``)``.
        Read backwards and forwards from each mention (a line break in between may
        hide a comment, so it counts too)."""
        after = self._AFTER.match
        for group in self.groups:
            for m in group.matches(group.mention, text):
                if not after(text, m.end()):
                    continue
                i = m.start() - 1
                stop = max(-1, i - 200)
                while i > stop and (text[i].isalnum() or text[i] in "_.\\ \t\r\n\f"):
                    if text[i] == "\n":
                        return True
                    i -= 1
                if i <= stop or text[i] == "(":
                    return True
        return False

    def search_calls(self, text: str, ok: Callable[[str, ast.Call], bool]) -> bool:
        """Whether some call of one of the names has arguments ``ok`` accepts (or
        arguments this cheap reading cannot parse)."""
        for group in self.groups:
            for m in group.matches(group.call, text):
                start = m.end() - 1
                depth = 0
                end = -1
                for i in range(start, min(len(text), start + 4000)):
                    ch = text[i]
                    if ch in "([{":
                        depth += 1
                    elif ch in ")]}":
                        depth -= 1
                        if depth == 0:
                            end = i + 1
                            break
                if end < 0:
                    return True
                try:
                    node = ast.parse("_" + text[start:end], mode="eval").body
                except (SyntaxError, ValueError, RecursionError, MemoryError):
                    return True
                if not isinstance(node, ast.Call) or ok(m.group(1), node):
                    return True
        return False


_SHAPES: dict[tuple[int, frozenset[str]], tuple[Catalog, Shapes]] = {}


def shapes_for(catalog: Catalog, families: frozenset[str]) -> Shapes:
    key = (id(catalog), families)
    hit = _SHAPES.get(key)
    if hit is None or hit[0] is not catalog:
        hit = _SHAPES[key] = (catalog, _build_shapes(catalog, families))
    return hit[1]


def _build_shapes(catalog: Catalog, families: frozenset[str]) -> Shapes:
    seed_specs: dict[str, list[LayerSpec]] = {}
    norm_families: dict[str, set[str]] = {}
    norm_specs: dict[str, list[LayerSpec]] = {}
    for spec in catalog.specs:
        names = {_last_part(q) for q in (spec.qualname, *spec.aliases)}
        for name in names:
            if spec.role is Role.BIASED and spec.family in families:
                seed_specs.setdefault(name, []).append(spec)
            if spec.role is Role.CANCELLING_NORM and set(spec.cancels) & families:
                norm_families.setdefault(name, set()).update(set(spec.cancels) & families)
                norm_specs.setdefault(name, []).append(spec)
    pairs = []
    for family in sorted(families):
        seeds = [n for n, specs in seed_specs.items() if any(s.family == family for s in specs)]
        norms = [n for n, fams in norm_families.items() if family in fams]
        # Norm names that cancel only under conditions (``GroupNorm(c, c)``): their
        # calls are read (cheaply) before they count.
        conditional = [n for n in norms if all(sp.when for sp in norm_specs[n])]
        plain = [n for n in norms if n not in conditional]
        if seeds and norms:
            pairs.append(
                (
                    family,
                    _Finder(seeds),
                    _Finder(plain) if plain else None,
                    _Finder(conditional) if conditional else None,
                )
            )
    return Shapes(
        tuple(pairs),
        {n: tuple(v) for n, v in seed_specs.items()},
        {n: frozenset(v) for n, v in norm_families.items() if v},
        frozenset(_last_part(q) for q in catalog.by_name),
        {n: tuple(v) for n, v in norm_specs.items()},
        frozenset(
            _last_part(q)
            for q, spec in catalog.by_name.items()
            if spec.role in (Role.SEQUENTIAL, Role.COLLECTION)
        ),
    )


def shapes_match(text: str, catalog: Catalog, families: Collection[str]) -> bool:
    """False when the text cannot hold a reportable layer site and a norm site cancelling it.

    ``functools.partial(nn.Conv2d, ...)`` names a class without calling it: in a
    text that mentions ``partial``, any mention of a class name counts.
    """
    loose = "partial" in text
    shapes = shapes_for(catalog, frozenset(families))
    for _, seeds, plain, conditional in shapes.pairs:
        if not (seeds.search(text) or (loose and seeds.search(text, loose=True))):
            continue
        if plain is not None and (
            plain.search(text) or (loose and plain.search(text, loose=True)) or plain.chosen(text)
        ):
            return True
        if conditional is not None and (
            (loose and conditional.search(text, loose=True))
            or conditional.chosen(text)
            or conditional.search_calls(
                text,
                lambda name, call: any(_may_hold(call, sp) for sp in shapes.norm_specs[name]),
            )
        ):
            return True
    return False


# --------------------------------------------------------------------------- blocks


@dataclass
class Plan:
    """What libcst should parse: ``text`` (blocks blanked when ``partial``)."""

    text: str
    partial: bool
    table: ImportTable
    kept_lines: int  # lines of the kept blocks (statistics)
    blocks: int
    dropped: int
    depth: int = 0  # the whole text's nesting depth as libcst builds it
    # Blanked classes and functions (none holds a catalogued call or is a
    # container): the walker knows their names, and that anything passed to
    # them is unknown to it (``ModuleFacts.ghost_refs``).
    ghosts: frozenset[str] = frozenset()
    # What :meth:`widened` needs: the blocks, the wiring edges, the kept nodes.
    _blocks: list = field(default_factory=list, repr=False)
    _needs: dict = field(default_factory=dict, repr=False)
    _kept: set = field(default_factory=set, repr=False)

    def widened(
        self,
        holders: frozenset[str],
        scopes: frozenset[str],
        ghosts: frozenset[str],
        classes: frozenset[str] = frozenset(),
    ) -> Plan | None:
        """The text with the blanked blocks that may veto a finding kept too, or
        None when none may.

        Blanked blocks share no *wiring* with the kept ones (the edges of
        :func:`_narrow`), so they cannot add a finding; they can take one away:
        assign, call or read an attribute of another object that may be a holder
        (or an item) of the objects involved (``net.bn = ...``, ``net.conv(x)``,
        ``net.b.eval()``: ``holders``), call a function or method by a name whose
        reads of a bias count only if an output's computation calls it
        (``scopes``), reach any module (``exec``, an enumeration of an object not
        followed, a patch), or be a class or function an object involved is
        handed to (``ghosts``), or mention the class of an instance involved
        (``classes``: the block may make one and use it in any way: swap its
        ``__class__``, reach its ``_modules``...).  A class kept this way gets its
        callers too: they bind its parameters (what its instances hold).
        """
        if not self.partial:
            return None
        extra = set()
        for b in self._blocks:
            node = b.index if b.name is not None else -1
            if node in self._kept:
                continue
            if (
                b.universal
                or b.attrs & holders
                or (b.attrs | b.ids) & scopes
                or (b.name is not None and b.name in ghosts)
                or b.ids & classes
            ):
                extra.add(node)
        if not extra:
            return None
        todo = [b for b in self._blocks if b.is_class and b.index in extra]
        while todo:
            cls = todo.pop()
            for b in self._blocks:
                node = b.index if b.name is not None else -1
                if node not in self._kept and node not in extra and cls.name in b.ids:
                    extra.add(node)
                    if b.is_class:
                        todo.append(b)
        return _blank(self.text_whole, self._blocks, self._needs, self._kept | extra, self.table)

    text_whole: str = field(default="", repr=False)


@dataclass
class _Block:
    index: int
    start: int  # first line (decorators included), 1-based
    end: int  # last line
    name: str | None  # def/class name, None for other statements
    is_func: bool
    is_class: bool
    ids: set[str]  # every identifier it mentions (a superset of what libcst sees)
    bound: set[str]  # every name it binds, in any scope, other than by an import
    unsafe: bool  # holds ``global``/``nonlocal``/``:=``
    bases: set[str]  # names in a class's bases and keywords
    attrs: set[str] = field(default_factory=set)  # attribute names it reads, writes or calls
    holders: set[str] = field(default_factory=set)  # attribute names it assigns; its methods
    universal: bool = False  # may change any module object (see the module docstring)
    seeds: set[str] = field(default_factory=set)  # families of its seeds
    norms: set[str] = field(default_factory=set)  # families its norm calls cancel
    catalog: bool = False  # holds a call that may construct a catalogued class


def _last(node: ast.AST) -> str | None:
    """Last component of libcst's full name of a callee expression."""
    while True:
        kind = type(node)
        if kind is ast.Name:
            return node.id  # type: ignore[attr-defined]
        if kind is ast.Attribute:
            return node.attr  # type: ignore[attr-defined]
        if kind is ast.Call:
            node = node.func  # type: ignore[attr-defined]
        elif kind is ast.Subscript:
            node = node.value  # type: ignore[attr-defined]
        else:
            return None


def _may_be_on(call: ast.Call, spec: LayerSpec) -> bool:
    """Over-approximates "the bias of the layer this call builds is on".

    ``facts.bias_state`` reads one argument (by keyword or in the bias slot); only a
    falsy constant there is surely off (libcst reads it as FALSE or UNKNOWN).  Any
    other value may be on, or may be forwarded from a helper's parameter.
    """
    values: list[ast.expr] = []
    positional = 0
    open_ended = False
    for arg in call.args:
        if isinstance(arg, ast.Starred):
            open_ended = True
        else:
            if not open_ended and positional == spec.bias_index:
                values.append(arg)
            positional += 1
    for kw in call.keywords:
        if kw.arg == spec.bias_param:
            values.append(kw.value)
    if not values:
        return spec.bias_default
    return any(not (isinstance(v, ast.Constant) and not v.value) for v in values)


def _may_hold(call: ast.Call, spec: LayerSpec) -> bool:
    """Over-approximates ``facts.arguments.holds(call, spec.when)``: a condition on an
    argument that is not a plain constant here may hold."""
    if not spec.when:
        return True
    if any(isinstance(a, ast.Starred) for a in call.args) or any(
        k.arg is None for k in call.keywords
    ):
        return True
    return any(all(_cond_may(call, cond) for cond in alt) for alt in spec.when)


def _arg(call: ast.Call, param: str, index: int | None) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == param:
            return kw.value
    if index is not None and index < len(call.args):
        return call.args[index]
    return None


_NO_VALUE = object()


def _plain_constant(node: ast.expr) -> object:
    """The value the walker reads as a constant (``facts.arguments.constant``), or
    ``_NO_VALUE`` when it might not."""
    kind = type(node)
    if kind is ast.Constant:
        value = node.value  # type: ignore[attr-defined]
        if value is None or type(value) in (bool, int, float, str):
            return value
        return _NO_VALUE
    if kind is ast.UnaryOp and isinstance(node.op, ast.USub):  # type: ignore[attr-defined]
        inner = node.operand  # type: ignore[attr-defined]
        if type(inner) is ast.Constant and type(inner.value) in (int, float):
            return -inner.value
        return _NO_VALUE
    if kind is ast.Tuple:
        items = tuple(_plain_constant(e) for e in node.elts)  # type: ignore[attr-defined]
        return _NO_VALUE if _NO_VALUE in items else items
    return _NO_VALUE


def _cond_may(call: ast.Call, cond: object) -> bool:
    from convbnlint.catalog import ArgSame

    if isinstance(cond, ArgSame):
        a = _arg(call, cond.param, cond.index)
        b = _arg(call, cond.other, cond.other_index)
        return a is not None and b is not None and ast.dump(a) == ast.dump(b)
    value_node = _arg(call, cond.param, cond.index)  # type: ignore[attr-defined]
    if value_node is None:
        return cond.absent_ok  # type: ignore[attr-defined, no-any-return]
    value = _plain_constant(value_node)
    if value is _NO_VALUE:
        return True
    listed = any(value == v and type(value) is type(v) for v in cond.values)  # type: ignore[attr-defined]
    return listed != cond.negate  # type: ignore[attr-defined, no-any-return]


_NAMED: tuple[type, ...] = tuple(t for t in NAMED_BINDERS if t is not _MATCH_MAPPING_T)
_MATCH_MAPPING = _MATCH_MAPPING_T
_UNSAFE = (ast.Global, ast.Nonlocal, ast.NamedExpr)

# Per ``ast`` node type, the fields that may hold nodes (or lists of nodes);
# strings, numbers and expression contexts are left out.
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}
_NOT_CHILDREN = {
    "ctx", "id", "arg", "attr", "name", "asname", "module", "level", "kind",
    "type_comment", "conversion", "is_async", "simple", "rest", "kwd_attrs",
}
_WITH_CTX = frozenset({ast.Name, ast.Attribute, ast.Subscript, ast.Starred, ast.List, ast.Tuple})
_LEAVES = tuple(
    t
    for t in (ast.Constant, ast.Global, ast.Nonlocal, getattr(ast, "MatchSingleton", None))
    if t is not None
)


def _child_fields(kind: type) -> tuple[str, ...]:
    if not issubclass(kind, ast.AST) or kind in _LEAVES:  # (None in a list, plain data)
        fields: tuple[str, ...] = ()
    else:
        fields = tuple(f for f in kind._fields if f not in _NOT_CHILDREN)
    _CHILD_FIELDS[kind] = fields
    return fields


# Builtins whose code or names the walker cannot follow, and attribute builtins.
_UNIVERSAL_CALLS = frozenset(
    {"exec", "eval", "compile", "globals", "locals", "vars", "__import__", "setattr", "delattr"}
)
_ATTR_BUILTINS = frozenset({"getattr", "setattr", "hasattr", "delattr"})


def _root_name(node: ast.AST) -> str | None:
    while type(node) is ast.Attribute or type(node) is ast.Subscript or type(node) is ast.Call:
        node = node.func if type(node) is ast.Call else node.value  # type: ignore[attr-defined]
    return node.id if type(node) is ast.Name else None  # type: ignore[attr-defined]


def _value_kind(value: ast.AST) -> bool | tuple[str, str] | None:
    """Whether an assigned value surely holds no module object of the module: True
    (a literal, arithmetic), ``(root, last)`` for a call of an imported callable
    (decided once the imports are known), None (it might)."""
    t = type(value)
    if t in (ast.Constant, ast.JoinedStr, ast.BinOp, ast.UnaryOp, ast.Compare):
        return True
    if t is ast.Call:
        func = value.func  # type: ignore[attr-defined]
        root = _root_name(func)
        last = _last(func)
        if root is not None and last is not None:
            return (root, last)
    return None


def _plain_method(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A method whose first parameter ``self`` is the instance (no staticmethod)."""
    args = node.args
    first = (args.posonlyargs or args.args or [None])[0]
    if first is None or first.arg != "self":
        return False
    return not any(
        type(d) is ast.Name and d.id in ("staticmethod", "classmethod") for d in node.decorator_list
    )


def _has_self_param(node: ast.AST) -> bool:
    args = node.args  # type: ignore[attr-defined]
    names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
    names += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
    return "self" in names


def _string_args(call: ast.Call, attrs: set[str], holders: set[str]) -> None:
    """``setattr(obj, "name", m)``, ``obj.add_module("name", m)``: ``name`` is an
    attribute read or written (a holder); any literal string argument counts."""
    for arg in call.args:
        if type(arg) is ast.Constant and type(arg.value) is str:
            attrs.add(arg.value)
            holders.add(arg.value)


def plan_blocks(
    text: str, tree: ast.Module, catalog: Catalog, families: Collection[str]
) -> Plan | None:
    """None when no seed can reach a norm; else the text libcst must parse.

    One walk over ``tree`` also builds the :class:`ImportTable` of the whole text.
    """
    shapes = shapes_for(catalog, frozenset(families))
    all_names = shapes.all_names
    table = ImportTable()
    add = table.add_import
    aliases: dict[str, set[str]] = {}  # local name -> catalogued class names it imports
    blocks: list[_Block] = []
    calls: dict[str, list[tuple[int, ast.Call]]] = {}  # callee's last name -> calls
    chosen: dict[str, list[int]] = {}  # class names in conditional expressions -> blocks
    Name, Load, Call, arg_t, IfExp = ast.Name, ast.Load, ast.Call, ast.arg, ast.IfExp
    skip = (ast.Constant, ast.keyword, ast.Load, ast.Store, ast.alias)
    named, unsafe_types, match_mapping = _NAMED, _UNSAFE, _MATCH_MAPPING
    child_fields = _CHILD_FIELDS
    NoneType, BoolOp, alias_t, with_ctx = type(None), ast.BoolOp, ast.alias, _WITH_CTX
    max_depth = 1
    Attribute = ast.Attribute
    fw = catalog.framework
    universal_calls = _UNIVERSAL_CALLS | fw.global_hooks
    universal_methods = (
        (fw.submodule_enumerators - fw.parameter_enumerators) | fw.callback_appliers | fw.global_hooks
    )
    registrars = fw.submodule_registrars | {"get_submodule"}
    patch_names = fw.forward_methods | fw.output_attrs | shapes.all_names
    import_locals: set[str] = set()
    roots_of: list[set[str]] = []
    rooted_of: list[list[tuple[str, str]]] = []
    plain_of: list[list[tuple[str, tuple[str, str]]]] = []
    FunctionDef, AsyncFunctionDef, Lambda = ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda

    def imported(local: str, target: str, real: str) -> None:
        import_locals.add(local)
        add(local, target)
        last = _last_part(real)
        if last in all_names and local != last:
            aliases.setdefault(local, set()).add(last)

    for index, stmt in enumerate(tree.body):
        kind = type(stmt)
        is_func = kind is ast.FunctionDef or kind is ast.AsyncFunctionDef
        is_class = kind is ast.ClassDef
        start = stmt.lineno
        if is_func or is_class:
            for dec in stmt.decorator_list:  # type: ignore[attr-defined]
                start = min(start, dec.lineno)
        ids: set[str] = set()
        bound: set[str] = set()
        attrs: set[str] = set()
        holders: set[str] = set()
        self_attrs: set[str] = set()
        rooted: list[tuple[str, str]] = []
        store_roots: set[str] = set()
        universal = False
        on_self = False
        plain_targets: set[int] = set()
        maybe_plain: list[tuple[str, tuple[str, str]]] = []
        odd_self = not is_class
        direct_methods: set[ast.AST] = set()
        if is_class:
            for item in stmt.body:  # type: ignore[attr-defined]
                if type(item) in (ast.FunctionDef, ast.AsyncFunctionDef) and _plain_method(item):
                    direct_methods.add(item)
        unsafe = False
        ids_add, bound_add, attrs_add = ids.add, bound.add, attrs.add
        # (The depth is libcst's, as ``sourcefile.parse_hazard`` measures it.)
        stack: list[ast.AST] = [stmt]
        depths: list[int] = [2]
        pop, push, extend = stack.pop, stack.append, stack.extend
        dpop, dpush, dextend = depths.pop, depths.append, depths.extend
        while stack:
            node = pop()
            depth = dpop()
            t = type(node)
            if t is NoneType:
                continue
            if t is BoolOp:
                depth += len(node.values) - 1  # type: ignore[attr-defined]
            elif t is alias_t:
                depth += node.name.count(".")  # type: ignore[attr-defined]
            elif t is ast.ImportFrom and node.module:  # type: ignore[attr-defined]
                depth += node.module.count(".")  # type: ignore[attr-defined]
            deepest = depth + 1 if t in with_ctx else depth
            if deepest > max_depth:
                max_depth = deepest
            fnames = child_fields.get(t)
            if fnames is None:
                fnames = _child_fields(t)
            below = depth + 1
            for fname in fnames:
                value = getattr(node, fname)
                if type(value) is list:
                    extend(value)
                    dextend([below] * len(value))
                elif value is not None:
                    push(value)
                    dpush(below)
            if t is Name:
                ids_add(node.id)  # type: ignore[attr-defined]
                if type(node.ctx) is not Load:  # type: ignore[attr-defined]
                    bound_add(node.id)  # type: ignore[attr-defined]
            elif t is Attribute:
                name = node.attr  # type: ignore[attr-defined]
                value = node.value  # type: ignore[attr-defined]
                vt = type(value)
                store = type(node.ctx) is not Load  # type: ignore[attr-defined]
                if vt is Name and value.id == "self":  # type: ignore[attr-defined]
                    self_attrs.add(name)
                    if store and id(node) not in plain_targets:
                        holders.add(name)
                elif vt is Call and type(value.func) is Name and value.func.id == "super":  # type: ignore[attr-defined]
                    pass
                else:
                    root = _root_name(value)
                    if root is None or root not in import_locals:
                        attrs_add(name)
                    else:  # under an imported name: the walker asks the import table
                        rooted.append((root, name))
                    if store:
                        if name in patch_names:
                            universal = True  # a forward replaced, a class patched
                        if root is not None:
                            store_roots.add(root)
            elif t is FunctionDef or t is AsyncFunctionDef or t is Lambda:
                if node not in direct_methods and _has_self_param(node):
                    odd_self = True  # ``self`` that is not a method's own instance
                if t is not Lambda:
                    ids_add(node.name)  # type: ignore[attr-defined]
                    bound_add(node.name)  # type: ignore[attr-defined]
            elif t is ast.Assign or t is ast.AnnAssign:
                # ``self.x = <no module>``: x holds no module object of ours.
                value = node.value  # type: ignore[attr-defined]
                if value is not None:
                    kind = _value_kind(value)
                    if kind is not None:
                        targets = node.targets if t is ast.Assign else [node.target]  # type: ignore[attr-defined]
                        for target in targets:
                            if type(target) is Attribute:
                                if kind is True:
                                    plain_targets.add(id(target))
                                else:
                                    plain_targets.add(id(target))
                                    maybe_plain.append((target.attr, kind))
            elif t in skip:
                continue
            elif t is Call:
                func = node.func  # type: ignore[attr-defined]
                last = _last(func)
                if last is not None:
                    calls.setdefault(last, []).append((index, node))  # type: ignore[arg-type]
                ft = type(func)
                if ft is Name:
                    if func.id in universal_calls:
                        args = node.args  # type: ignore[attr-defined]
                        if func.id in _ATTR_BUILTINS and args and _root_name(args[0]) == "self":
                            on_self = True  # ``setattr(self, ...)``: the class's own holders
                        else:
                            universal = True
                    if func.id in _ATTR_BUILTINS:
                        _string_args(node, attrs, holders)
                elif ft is Attribute:
                    if func.attr in universal_methods:
                        if _root_name(func.value) == "self":
                            # ``self.modules()``: what the class holds (the walker's
                            # reach of the class; other blocks it holds objects from
                            # are connected by mentions).
                            on_self = True
                        else:
                            universal = True
                    if func.attr in registrars:
                        _string_args(node, attrs, holders)
            elif t is IfExp:
                # ``norm = nn.BatchNorm2d if use_bn else nn.Identity``: ``norm(c)`` builds one.
                for branch in (node.body, node.orelse):  # type: ignore[attr-defined]
                    if type(branch) is Name or type(branch) is ast.Attribute:
                        last = _last(branch)
                        if last is not None:
                            chosen.setdefault(last, []).append(index)
            elif t is arg_t:
                ids_add(node.arg)  # type: ignore[attr-defined]
                bound_add(node.arg)  # type: ignore[attr-defined]
            elif t is ast.Import:
                for alias in node.names:  # type: ignore[attr-defined]
                    ids.update(alias.name.split("."))
                    if alias.asname:
                        ids_add(alias.asname)
                        imported(alias.asname, alias.name, alias.name)
                    else:
                        root = alias.name.partition(".")[0]
                        import_locals.add(root)
                        add(root, root)
            elif t is ast.ImportFrom:
                module = node.module  # type: ignore[attr-defined]
                if module:
                    ids.update(module.split("."))
                for alias in node.names:  # type: ignore[attr-defined]
                    if alias.name == "*":
                        table.star = True
                        continue
                    local = alias.asname or alias.name
                    ids_add(alias.name)
                    ids_add(local)
                    imported(local, from_target(node.level or 0, module, alias.name), alias.name)  # type: ignore[attr-defined]
            elif t in named:
                name = node.name  # type: ignore[attr-defined]
                if name:
                    ids_add(name)
                    bound_add(name)
            elif t is match_mapping:
                if node.rest:  # type: ignore[attr-defined]
                    ids_add(node.rest)  # type: ignore[attr-defined]
                    bound_add(node.rest)  # type: ignore[attr-defined]
            elif t in unsafe_types:
                unsafe = True
                for name in getattr(node, "names", ()):
                    ids_add(name)
                    bound_add(name)
        bases: set[str] = set()
        if is_class:
            for base in (*stmt.bases, *(k.value for k in stmt.keywords)):  # type: ignore[attr-defined]
                for node in ast.walk(base):
                    if type(node) is Name:
                        bases.add(node.id)  # type: ignore[attr-defined]
                    elif type(node) is Attribute:
                        bases.add(node.attr)  # type: ignore[attr-defined]
            for item in stmt.body:  # type: ignore[attr-defined]
                if type(item) in (ast.FunctionDef, ast.AsyncFunctionDef):
                    holders.add(item.name)  # type: ignore[attr-defined]
        blocks.append(
            _Block(
                index,
                start,
                stmt.end_lineno or stmt.lineno,
                stmt.name if (is_func or is_class) else None,  # type: ignore[attr-defined]
                is_func,
                is_class,
                ids,
                bound,
                unsafe,
                bases,
                attrs,
                holders,
                universal,
            )
        )
        roots_of.append(store_roots)
        rooted_of.append(rooted)
        plain_of.append(maybe_plain)
        if odd_self:
            attrs |= self_attrs  # ``self.x`` there may not be the class's own holder
            if on_self:
                blocks[-1].universal = True
    for block, store_roots, rooted, maybe_plain in zip(blocks, roots_of, rooted_of, plain_of):
        if store_roots & import_locals:
            block.universal = True  # ``nn.BatchNorm2d = ...``: a framework object patched
        for root, name in rooted:
            if table.names.get(root) is None:  # bound otherwise too: not resolved
                block.attrs.add(name)
        for name, (root, last) in maybe_plain:
            # ``self.x = nn.ReLU()``: a class imported from elsewhere, not catalogued,
            # holds none of our layers; anything else might.
            if (
                root not in import_locals
                or table.names.get(root) is None
                or last in all_names
                or last in aliases
            ):
                block.holders.add(name)
    for block in blocks:
        for name in block.bound:
            table.poison(name)
    # Which calls may construct what.  ``partial(cls, ...)``: what ``cls`` may.
    seed_specs, norm_families = shapes.seed_specs, shapes.norm_families
    partials: set[int] = set()  # (ids of partial(...) calls: their class is args[0])
    for index, call in calls.get("partial", ()):
        if call.args:
            inner = _last(call.args[0])
            if inner is not None and (inner in all_names or inner in aliases):
                calls.setdefault(inner, []).append((index, call))
                partials.add(id(call))
    any_seed = False
    norm_specs = shapes.norm_specs
    for last in (all_names | aliases.keys()) & calls.keys():
        names = ({last} if last in all_names else set()) | aliases.get(last, set())
        specs = [spec for name in names for spec in seed_specs.get(name, ())]
        norms = [spec for name in names for spec in norm_specs.get(name, ())]
        for index, call in calls[last]:
            block = blocks[index]
            # The import table may say which class the callee is (the analysis
            # resolves it the same way): then only that class's specs apply.
            is_partial = id(call) in partials
            callee = call.args[0] if is_partial else call.func
            resolved = table.resolve(ast_full_name(callee))
            call_specs, call_norms = specs, norms
            if resolved is not None:
                found = [catalog.lookup(n) for n in resolved]
                if not any(sp is not None for sp in found):
                    continue
                call_specs = [sp for sp in found if sp is not None and sp in specs]
                call_norms = [sp for sp in found if sp is not None and sp in norms]
            block.catalog = True
            for norm in call_norms:
                # A norm that cancels only under conditions (GroupNorm(c, c)) counts
                # only where they may hold.
                if is_partial or _may_hold(call, norm):
                    block.norms |= set(norm.cancels) & norm_families.get(
                        _last_part(norm.qualname), frozenset()
                    )
            for spec in call_specs:
                if spec.family not in block.seeds and (
                    is_partial or (_may_be_on(call, spec) and _may_hold(call, spec))
                ):
                    block.seeds.add(spec.family)
                    any_seed = True
    for last in (all_names | aliases.keys()) & chosen.keys():
        names = ({last} if last in all_names else set()) | aliases.get(last, set())
        chosen_cancels: set[str] = set()
        for name in names:
            chosen_cancels |= norm_families.get(name, frozenset())
        for index in chosen[last]:
            blocks[index].catalog = True
            blocks[index].norms |= chosen_cancels
    if not any_seed:
        return None
    plan = _narrow(text, blocks, table, shapes.container_names | _aliased(aliases, shapes))
    if plan is not None:
        plan.depth = max_depth
    return plan


def _aliased(aliases: dict[str, set[str]], shapes: Shapes) -> frozenset[str]:
    """Local names an import binds to a container class (``from torch.nn import
    Sequential as Seq``)."""
    return frozenset(k for k, v in aliases.items() if v & shapes.container_names)


def _container_classes(
    defs: list[_Block], by_name: dict[str, list[_Block]], container_names: frozenset[str]
) -> set[int]:
    """Class blocks deriving (here or through classes of the module) from a container."""
    out = {b.index for b in defs if b.is_class and b.bases & container_names}
    changed = True
    while changed:
        changed = False
        for b in defs:
            if b.is_class and b.index not in out:
                if any(o.index in out for name in b.bases & by_name.keys() for o in by_name[name]):
                    out.add(b.index)
                    changed = True
    return out


def _narrow(
    text: str, blocks: list[_Block], table: ImportTable, container_names: frozenset[str] = frozenset()
) -> Plan | None:
    """Blank out every node no qualifying seed reaches (see the module docstring)."""
    defs = [b for b in blocks if b.name is not None]
    module = [b for b in blocks if b.name is None]
    # All other top-level statements together are one node, M (index -1).
    m_ids: set[str] = set()
    m_bound: set[str] = set()
    m_seeds: set[str] = set()
    m_norms: set[str] = set()
    m_attrs: set[str] = set()
    m_holders: set[str] = set()
    m_universal = False
    for b in module:
        m_ids |= b.ids
        m_bound |= b.bound
        m_seeds |= b.seeds
        m_norms |= b.norms
        m_attrs |= b.attrs
        m_holders |= b.holders
        m_universal = m_universal or b.universal
    by_name: dict[str, list[_Block]] = {}
    for b in defs:
        by_name.setdefault(b.name, []).append(b)  # type: ignore[arg-type]
    mentions_of: dict[str, list[int]] = {}  # name -> nodes mentioning it
    for b in defs:
        for name in b.ids & by_name.keys():
            if name != b.name:
                mentions_of.setdefault(name, []).append(b.index)
    for name in m_ids & by_name.keys():
        mentions_of.setdefault(name, []).append(-1)
    needs: dict[int, set[int]] = {-1: set()}
    for b in defs:
        out = needs.setdefault(b.index, set())
        out.update(o.index for o in by_name[b.name])  # type: ignore[index]
        if b.unsafe or b.ids & m_bound or b.name in m_bound:
            # Both ways: the block reads (or may bind) module-level names, and the
            # module's facts see those reads (closure escapes, rebinding).
            out.add(-1)
            needs[-1].add(b.index)
        if b.is_class:
            for name in b.bases & by_name.keys():
                for o in by_name[name]:
                    if o.is_class:
                        out.add(o.index)
                        needs.setdefault(o.index, set()).add(b.index)
        if b.is_func:  # a helper's callers decide where what it returns goes
            out.update(mentions_of.get(b.name, ()))  # type: ignore[arg-type]
        for name in b.ids & by_name.keys():  # blocks it mentions that build layers
            out.update(o.index for o in by_name[name] if o.catalog)
    for name in m_ids & by_name.keys():
        needs[-1].update(o.index for o in by_name[name] if o.catalog)
    # Channels of the reference model (``facts``): a class or function is used
    # where it is mentioned (instances, arguments bound to parameters, what it
    # returns), and what a user does to an instance reaches the class's layers.
    # A container subclass's instances can be indexed or iterated by the blocks
    # that make them: its items' facts depend on those blocks.
    containers = _container_classes(defs, by_name, container_names)
    mentioned = [(b.index, b.ids) for b in defs] + [(-1, m_ids)]
    for index, ids in mentioned:
        for name in ids & by_name.keys():
            for o in by_name[name]:
                if o.index != index:
                    # (A class or function with no catalogued call that is no
                    # container may be blanked: the walker then knows it as a
                    # *ghost*, see Plan.ghosts.)
                    if o.catalog or o.index in containers:
                        needs[index].add(o.index)
                    if o.is_func or o.index in containers:
                        needs.setdefault(o.index, set()).add(index)
    # (Attribute names and universal blocks only ever veto a finding: see
    # ``vetoable`` below.)
    norms = {b.index: b.norms for b in defs if b.norms}
    if m_norms:
        norms[-1] = m_norms
    seeds = {b.index: b.seeds for b in defs if b.seeds}
    if m_seeds:
        seeds[-1] = m_seeds
    kept: set[int] = set()
    for seed, families in seeds.items():
        if seed in kept:
            continue
        reach = {seed}
        stack = [seed]
        while stack:
            for nxt in needs[stack.pop()]:
                if nxt not in reach:
                    reach.add(nxt)
                    stack.append(nxt)
        if any(norms[n] & families for n in reach if n in norms):
            kept |= reach
    if not kept:
        return None
    # (Attribute names, universal blocks and ghosts only ever veto a finding:
    # see ``Plan.widened``; the engine widens the text when they may.)
    return _blank(text, blocks, needs, kept, table)


def _closure(needs: dict[int, set[int]], start: set[int]) -> set[int]:
    out = set(start)
    stack = list(start)
    while stack:
        for nxt in needs.get(stack.pop(), ()):
            if nxt not in out:
                out.add(nxt)
                stack.append(nxt)
    return out


def _blank(
    text: str, blocks: list[_Block], needs: dict[int, set[int]], kept: set[int], table: ImportTable
) -> Plan:
    """The plan keeping ``kept`` (and everything it needs) and blanking the rest."""
    kept = _closure(needs, kept)
    defs = [b for b in blocks if b.name is not None]
    module = [b for b in blocks if b.name is None]
    dropped = [b for b in defs if b.index not in kept]
    if -1 not in kept:
        dropped += module
    ghosts = frozenset(b.name for b in dropped if b.is_class or b.is_func) - {  # type: ignore[misc]
        b.name for b in defs if b.index in kept
    }
    total = text.count("\n") + 1
    if not dropped or ("\r" in text and text.count("\r") != text.count("\r\n")):
        # (Lone carriage returns: ``ast`` and a split on newlines could number
        # lines differently; parse everything.)
        return Plan(text, False, table, total, len(blocks), 0)
    lines = text.split("\n")
    blank = 0
    for b in dropped:
        for i in range(b.start - 1, b.end):
            lines[i] = ""
        blank += b.end - b.start + 1
    return Plan(
        "\n".join(lines),
        True,
        table,
        total - blank,
        len(blocks),
        len(dropped),
        ghosts=ghosts,
        _blocks=blocks,
        _needs=needs,
        _kept=kept,
        text_whole=text,
    )
