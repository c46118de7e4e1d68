"""Layer catalogs: pure data describing framework classes.

A catalog says which classes create a layer with a bias (and where that bias
argument sits), which normalizations subtract a per-channel mean (and so cancel
such a bias), and which classes are ordered containers.  The engine never names a
framework; it only asks the catalog.  Each framework is a module in this
package (``torch.py``, ``keras.py``, ``flax.py``, ``paddle.py``, ...) holding one
:class:`Catalog`; :data:`FRAMEWORKS` registers them, in one place, and
:func:`default_catalog` merges them.

The vocabulary a framework module may use:

* :class:`LayerSpec` -- one class or function: its :class:`Role`, its bias argument
  (``bias_param``/``bias_index``, what turns it off: ``bias_off``, other arguments
  that also turn it off: ``bias_also``), how it receives its input (``apply``:
  :attr:`Apply.OBJECT` is built then called, ``Conv2D(...)(x)``;
  :attr:`Apply.INPUT_ARG` takes the input as an argument and returns the output,
  ``tf.compat.v1.layers.conv2d(x, ...)``), conditions on its arguments
  (``when``: an activation on the biased layer, a frozen norm, GroupNorm's groups),
  conditions on the arguments of the call that applies it (``call_when``,
  ``call_params``: ``bn(x, training=False)``), and where its channels are
  (``layout``: ``data_format`` against a norm's ``axis``);
* :class:`ArgIs` / :class:`ArgSame` -- conditions on one call's arguments;
* :class:`Layout` -- which axis holds the channels, as a function of one argument;
* :class:`Framework` -- forward methods, container appenders, partial makers, ...
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from typing import AnyStr, Union
from enum import Enum


class Role(str, Enum):
    """What a catalogued class does, as far as the analysis cares."""

    BIASED = "biased"  # a layer with an optional per-channel bias (conv, linear)
    CANCELLING_NORM = "cancelling_norm"  # subtracts a per-channel mean
    SEQUENTIAL = "sequential"  # calls its positional children in order
    # op(x + b) == op(x) + b for every per-channel constant b (and every input),
    # possibly only under conditions on its arguments (``transparent_when``).
    TRANSPARENT = "transparent"
    # Holds modules by index or key and runs none of them (``ModuleList``): its
    # items are reached by subscript or iteration, each then used on its own.
    COLLECTION = "collection"


class Apply(str, Enum):
    """How a layer receives its input."""

    OBJECT = "object"  # built, then called: ``Conv2D(...)(x)``, ``self.conv(x)``
    INPUT_ARG = "input_arg"  # one call takes the input and returns the output


@dataclass(frozen=True)
class ArgIs:
    """A condition on one call argument: its constant value is one of ``values``
    (with ``negate``: a constant *not* among them); an absent argument satisfies
    it when ``absent_ok``, a value that is not a constant when ``unknown_ok``."""

    param: str
    index: int | None
    values: tuple[object, ...]
    absent_ok: bool = True
    negate: bool = False
    unknown_ok: bool = False

    def accepts(self, value: object) -> bool:
        """A constant value meets the condition (``True == 1`` does not count)."""
        listed = any(value == v and type(value) is type(v) for v in self.values)
        return listed != self.negate


@dataclass(frozen=True)
class ArgSame:
    """Two arguments of one call with the same source text
    (``GroupNorm(c, c)``: one channel per group)."""

    param: str
    index: int | None
    other: str
    other_index: int | None


Cond = Union[ArgIs, ArgSame]
# Alternatives (any may hold) of conjunctions (all must hold); empty: always holds.
When = tuple[tuple[Cond, ...], ...]


@dataclass(frozen=True)
class Layout:
    """Which axes hold the channels of a layer's output (a biased layer) or which
    axis a norm normalizes per channel, as a function of one argument.

    ``axes`` maps a constant value of the argument to the axes; ``default`` is the
    value when the argument is absent (or None); ``setting`` names a project
    setting that overrides ``default`` (:meth:`Catalog.configured`).  ``param``
    None: the axes of ``default`` always.  ``identity``: the value itself is the
    axis (Keras ``axis=-1``).  An unknown value, or one ``axes`` does not list,
    means no finding.
    """

    param: str | None
    index: int | None
    default: object
    axes: tuple[tuple[object, tuple[int, ...]], ...] = ()
    identity: bool = False
    setting: str | None = None

    def axes_for(self, value: object) -> tuple[int, ...] | None:
        if self.identity:
            return (value,) if isinstance(value, int) and not isinstance(value, bool) else None
        for key, axes in self.axes:
            if key == value and type(key) is type(value):
                return axes
        return None


@dataclass(frozen=True)
class LayerSpec:
    """One framework class.

    ``qualname`` is the canonical dotted name; ``aliases`` are other import paths
    of the same class.  For ``Role.BIASED`` layers, ``bias_param`` names the bias
    argument, ``bias_index`` is its 0-based positional slot (``None`` when it is
    keyword-only) and ``bias_default`` whether it is on when absent.  ``family``
    groups layers for rule selection ("conv", "linear").
    """

    qualname: str
    role: Role
    family: str = ""
    bias_param: str = "bias"
    bias_index: int | None = None
    bias_default: bool = True
    aliases: tuple[str, ...] = ()
    # TRANSPARENT only: alternatives (any may hold) of conditions (all must hold);
    # empty means always transparent.
    transparent_when: tuple[tuple[ArgIs, ...], ...] = ()
    # TRANSPARENT only: if set, the norm that follows must be one of these.
    transparent_into: tuple[str, ...] = ()
    # CANCELLING_NORM only: the biased-layer families whose bias it cancels.
    cancels: tuple[str, ...] = ("conv",)
    # CANCELLING_NORM only: alternatives of conditions under which it still cancels
    # in eval mode after training (its running mean learns the bias); empty means
    # always.  The attribute of the same name assigned later must satisfy them too.
    cancels_when: tuple[tuple[ArgIs, ...], ...] = ()
    # BIASED: the output-channel argument; CANCELLING_NORM: the channel argument.
    # Used where the math holds only if they agree (Linear -> BatchNorm1d).
    channels_param: str | None = None
    channels_index: int | None = None
    # How the layer receives its input; INPUT_ARG: the input argument's name and slot.
    apply: Apply = Apply.OBJECT
    input_param: str | None = None
    input_index: int | None = None
    # BIASED: the source the fix writes into ``bias_param`` to turn the bias off.
    bias_off: str = "False"
    # BIASED: how a constant value of ``bias_param`` reads, as (constant, on)
    # pairs, exact types; empty: Python truthiness (``bias=0`` is off).  A value
    # not listed (or not a constant) leaves the bias unknown.
    bias_values: tuple[tuple[object, bool], ...] = ()
    # BIASED: other arguments that turn the bias off when they hold (Paddle 3's
    # ``bias=False`` next to ``bias_attr``); a non-constant one leaves it unknown.
    bias_also: tuple[ArgIs, ...] = ()
    # BIASED: a candidate only when this holds (no activation on the layer...);
    # CANCELLING_NORM: cancels only when this holds (statistics not frozen,
    # one channel per group...).
    when: When = ()
    # CANCELLING_NORM applied by a call with more than its input: the keywords that
    # call may pass (any other makes its output go somewhere unknown), and the
    # conditions they must meet (``training`` not constant False).
    call_params: frozenset[str] = frozenset()
    call_when: When = ()
    # Channels: BIASED -> the axes its output's channels may be on; CANCELLING_NORM
    # -> the axis it normalizes per channel.  None on both sides: channels first
    # (torch).  One side None and the other not: they do not agree.
    layout: Layout | None = None
    # SEQUENTIAL: its items are the positional arguments ("args", torch), or the
    # list in argument ``items_param``/``items_index`` ("list", Keras), or either
    # ("either": one list argument, or the items themselves: MindSpore, Jittor).
    items_from: str = "args"
    items_param: str | None = None
    items_index: int | None = None
    # BIASED: a fused layer that normalizes its own output with this norm
    # (MegEngine's ``ConvBn2d``): its bias is cancelled wherever its output goes.
    fused_norm: str | None = None
    # The framework this spec belongs to (its Catalog's Framework name).
    framework: str = ""
    # BIASED: whether the bias may be passed by keyword (False for a helper
    # function's positional-only parameter: the fixer then passes it by position).
    bias_keyword: bool = True

    @property
    def name(self) -> str:
        return self.qualname.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Framework:
    """How a framework's module classes behave, as far as the walker cares.

    The walker names no framework: it asks these sets.  A merged catalog's
    vocabulary is the union of its frameworks' (:func:`merge`), which is sound
    where the sets list what makes a use *known* (a harmless read, a forward
    method) only if every merged framework agrees; keep such sets conservative.
    """

    name: str
    # Methods that are a module's forward computation (what calling it runs).
    forward_methods: frozenset[str] = frozenset()
    # Methods where submodules are created and assigned to attributes.
    init_methods: frozenset[str] = frozenset({"__init__"})
    # Attribute reads on a module object that route its output elsewhere.
    output_attrs: frozenset[str] = frozenset()
    # Methods of a module that enumerate its submodules or parameters.
    submodule_enumerators: frozenset[str] = frozenset()
    # Methods that register a submodule under a name: ``add_module(name, m)``.
    submodule_registrars: frozenset[str] = frozenset()
    # Attributes that expose every submodule by name (``__dict__``, ``_modules``).
    dynamic_attrs: frozenset[str] = frozenset({"__dict__"})
    # Attribute reads and method calls on a tensor that do not depend on its values.
    tensor_meta_attrs: frozenset[str] = frozenset()
    tensor_meta_methods: frozenset[str] = frozenset()
    # Methods of a container that append one item in place: ``model.add(layer)``.
    container_appenders: frozenset[str] = frozenset()
    # Methods and attributes of a container through which its items change or are
    # reached (``insert``, ``pop``, ``layers``): its items become unknown.
    container_mutators: frozenset[str] = frozenset()
    # Attributes of a module whose assignment changes how its layers compute
    # (``self.trainable = False`` freezes every norm in a Keras model).
    state_attrs: frozenset[str] = frozenset()
    # Callables that bind arguments of a class for later calls: ``functools.partial``.
    partial_makers: frozenset[str] = frozenset()
    # Byte tokens of the module-level calls that change a default the catalog
    # assumes (``set_image_data_format``): a file containing one gets no finding
    # that depends on that default.
    default_changers: tuple[str, ...] = ()
    # Methods of a module that return the module itself (``nn.Conv2d(...).to(dtype)``).
    self_returning_methods: frozenset[str] = frozenset()
    # (token, framework) pairs: a text containing the token may freeze that
    # framework's norms in ways the walker does not follow (Keras's ``trainable``
    # on a model built from tensors: ``keras.Model(x, y, trainable=False)``), so
    # none of them is trusted there.
    freezers: tuple[tuple[str, str], ...] = ()

    # --- how code can reach a module object (the walker's use classification) ---
    # The framework's module base classes (``torch.nn.Module``): a class deriving
    # only from these and from classes of the file runs no code the file does not show.
    module_bases: frozenset[str] = frozenset()
    # Methods that enumerate a module's parameters or buffers (tensors, not modules),
    # even where ``submodule_enumerators`` lists them too.
    parameter_enumerators: frozenset[str] = frozenset()
    # Of ``submodule_enumerators``: those yielding (name, module) pairs, and those
    # yielding only direct children (the rest yield every submodule at any depth).
    named_enumerators: frozenset[str] = frozenset()
    child_enumerators: frozenset[str] = frozenset()
    # Methods of a COLLECTION that add items (``append``, ``extend``...) and that
    # give its items (``values``) or (key, item) pairs (``items``).
    collection_adders: frozenset[str] = frozenset()
    collection_values: frozenset[str] = frozenset()
    collection_pairs: frozenset[str] = frozenset()
    # Functions of the framework known only to look at a module they are given
    # (usage logging): last name parts of imported functions.
    inspecting_functions: frozenset[str] = frozenset()
    # Methods that call a function on every submodule: ``apply(fn)``.
    callback_appliers: frozenset[str] = frozenset()
    # Module methods that change neither a module's wiring nor its outputs
    # (parameters, state dicts, device and dtype moves).  Kept conservative: a
    # method not listed here or below makes the object escape.
    harmless_methods: frozenset[str] = frozenset()
    # (Those returning the module itself: ``self_returning_methods`` above.)
    # Methods switching train/eval mode: ``eval()``, ``train(mode)``; the first
    # switches to eval, the rest take the mode as first argument (absent: train).
    eval_methods: frozenset[str] = frozenset()
    train_methods: frozenset[str] = frozenset()
    # Data attributes a store to which switches mode (``m.training = False``).
    mode_attrs: frozenset[str] = frozenset()
    # Attributes of a normalization that may be assigned without changing what it
    # subtracts (parameters, running statistics, epsilon).
    norm_harmless_stores: frozenset[str] = frozenset()
    # Attributes of a normalization holding what it learned of its input's mean
    # (``running_mean``): the bias reaches them.  Read or written by code that runs
    # while outputs are computed (a forward, a ``train``/``eval`` override), the
    # norm is unknown.  And the methods that reset them (``reset_running_stats``).
    norm_statistics: frozenset[str] = frozenset()
    norm_resetters: frozenset[str] = frozenset()
    # Methods that load a module's state (``load_state_dict``): every submodule's
    # running statistics written.
    state_loaders: frozenset[str] = frozenset()
    # Keyword arguments of a module call that set the mode of every layer inside
    # the callee (Keras's ``training``): a falsy constant runs its norms in
    # inference mode for that call.
    mode_call_params: frozenset[str] = frozenset()
    # Class decorators of the framework known to register the class and return it
    # unchanged (``keras_export``, ``register_keras_serializable``): last name parts.
    # Any other decorator of the framework or of the file may replace its methods.
    class_registrars: frozenset[str] = frozenset()
    # Functions of the framework known to use a module they get only as a whole
    # (wrap, compile, save, export or run it): last name parts.  Any other function
    # of the framework or its companion packages that gets an instance of a class of
    # the file may reach its submodules by name (``fuse_modules``), so the
    # instance's layers are unknown.
    whole_users: frozenset[str] = frozenset()
    # Functions that initialise a parameter in place (``nn.init.zeros_(m.bias)``):
    # dotted-name prefixes.
    param_init_prefixes: tuple[str, ...] = ()
    # Functions that hook every module of the process (``register_module_forward_hook``):
    # last name parts (any callee so named makes every module unknown).
    global_hooks: frozenset[str] = frozenset()
    # Dotted-name prefixes of the framework's own code: assigning an attribute under
    # one (``torch.nn.functional.batch_norm = f``) can change any layer, except
    # under ``config_prefixes`` (``torch.backends.cudnn.benchmark = True``).
    patch_prefixes: tuple[str, ...] = ()
    config_prefixes: tuple[str, ...] = ()
    # Top-level packages of the framework and its companions (``torchvision``):
    # their functions are known to the analysis or treated as unknown.  A function
    # imported from any other package (or a name the file never binds) is code
    # outside the file, assumed to use the module objects it gets as a whole, as
    # a training loop does (the framework's own packages are added automatically).
    library_roots: frozenset[str] = frozenset()
    # Module classes whose output has more than two dimensions (sequence models,
    # embeddings): a Linear fed by one is not followed by a 2-D BatchNorm1d input.
    not_2d_outputs: frozenset[str] = frozenset()
    # Tensor methods whose result has other than two dimensions when given these
    # arguments: ``view``/``reshape`` with more or fewer than two sizes, and
    # methods that always reorder or add axes.
    reshape_methods: frozenset[str] = frozenset()
    axis_methods: frozenset[str] = frozenset()

    def union(self, other: Framework) -> Framework:
        merged = {}
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if f.name == "name":
                merged[f.name] = f"{a}+{b}"
            elif f.name == "self_returning_methods":
                merged[f.name] = a & b  # known only where every merged framework agrees
            elif isinstance(a, tuple):
                merged[f.name] = a + tuple(x for x in b if x not in a)
            else:
                merged[f.name] = a | b
        return Framework(**merged)


@dataclass(frozen=True)
class Catalog:
    """A framework's layer table plus the byte tokens that prefilter files."""

    framework: Framework
    specs: tuple[LayerSpec, ...]
    # A file none of whose bytes contain any of these cannot hold a finding.
    prefilter_tokens: tuple[bytes, ...]
    # Per framework: (its prefilter tokens, the top-level packages its names come
    # from).  A name resolves only through an import of its package, so a text can
    # hold a framework's finding only if it contains one of each (``passes``).
    # Built from the catalog's own tokens and specs when empty; ``merge`` keeps each.
    # No roots: the tokens alone decide (torch keeps the prefilter it always had).
    gates: tuple[tuple[tuple[bytes, ...], tuple[bytes, ...]], ...] = ()
    # Each framework's own vocabulary, for a merged catalog (see :meth:`vocabulary`).
    parts: tuple[Framework, ...] = ()
    by_name: dict[str, LayerSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.parts:
            object.__setattr__(self, "parts", (self.framework,))
        specs = self.specs
        for spec in specs:
            if not spec.framework:
                # (A spec is new data of its framework module, not yet hashed or shared:
                # naming its framework in place is cheaper than a copy; start-up.)
                object.__setattr__(spec, "framework", self.framework.name)
        if not self.gates:
            roots = sorted(
                {root_package(q).encode() for sp in specs for q in (sp.qualname, *sp.aliases)}
            )
            object.__setattr__(self, "gates", ((self.prefilter_tokens, tuple(roots)),))
        table: dict[str, LayerSpec] = {}
        for spec in specs:
            table[spec.qualname] = spec
            for alias in spec.aliases:
                table[alias] = spec
        object.__setattr__(self, "by_name", table)

    def lookup(self, qualname: str) -> LayerSpec | None:
        return self.by_name.get(qualname)

    def vocabulary(self, name: str) -> Framework:
        """One framework's vocabulary by its name (a spec's ``framework``); the
        merged one when not known."""
        for part in self.parts:
            if part.name == name:
                return part
        return self.framework

    @property
    def settings(self) -> frozenset[str]:
        """The project settings some layout default depends on."""
        return frozenset(
            spec.layout.setting
            for spec in self.specs
            if spec.layout is not None and spec.layout.setting is not None
        )

    def configured(self, values: dict[str, object]) -> Catalog:
        """The same catalog with the layout defaults of ``values``' settings replaced
        (a value None: unknown, so no finding depends on that default)."""
        wanted = {k: v for k, v in values.items() if k in self.settings}
        if not wanted:
            return self
        key = (id(self), tuple(sorted(wanted.items(), key=repr)))
        hit = _CONFIGURED.get(key)
        if hit is not None and hit[0] is self:
            return hit[1]
        specs = []
        for spec in self.specs:
            layout = spec.layout
            if layout is not None and layout.setting in wanted:
                spec = replace(spec, layout=replace(layout, default=wanted[layout.setting]))
            specs.append(spec)
        out = Catalog(self.framework, tuple(specs), self.prefilter_tokens, self.gates, self.parts)
        _CONFIGURED[key] = (self, out)
        return out


    def without_norms_of(self, frameworks: frozenset[str]) -> Catalog:
        """The same catalog where no norm of ``frameworks`` cancels anything."""
        if not frameworks:
            return self
        key = (id(self), ("\0frozen", tuple(sorted(frameworks))))
        hit = _CONFIGURED.get(key)
        if hit is not None and hit[0] is self:
            return hit[1]
        never = ((ArgIs("\0never", None, (), absent_ok=False),),)
        specs = tuple(
            replace(spec, when=never)
            if spec.role is Role.CANCELLING_NORM and spec.framework in frameworks
            else spec
            for spec in self.specs
        )
        out = Catalog(self.framework, specs, self.prefilter_tokens, self.gates, self.parts)
        _CONFIGURED[key] = (self, out)
        return out


_CONFIGURED: dict[tuple, tuple[Catalog, Catalog]] = {}


def root_package(qualname: str) -> str:
    """The top-level package a dotted name is imported from (``keras`` for
    ``keras.layers.Conv2D``)."""
    return qualname.split(".", 1)[0]


def common_substring(items: Sequence[AnyStr]) -> AnyStr:
    """The longest substring every item contains (empty if none), for str or bytes.

    Used to scan once for what every token of a stage shares (e.g. ``Norm``).
    """
    shortest = min(items, key=len)
    for size in range(len(shortest), 0, -1):
        for start in range(len(shortest) - size + 1):
            part = shortest[start : start + size]
            if all(part in item for item in items):
                return part
    return shortest[:0]


def token_groups(tokens: Sequence[bytes]) -> tuple[tuple[bytes, tuple[bytes, ...]], ...]:
    """Tokens grouped by a shared part of 4 bytes or more (``Norm``), each group with
    that part: a text without the part holds none of the group's tokens."""
    groups: list[tuple[bytes, tuple[bytes, ...]]] = []
    rest = list(tokens)
    while rest:
        best: tuple[bytes, ...] = (rest[0],)
        part = rest[0]
        for other in rest[1:]:
            common = common_substring([*best, other])
            if len(common) >= 4:
                best, part = (*best, other), common
        groups.append((part, best))
        rest = [t for t in rest if t not in best]
    return tuple(groups)


def merge(*catalogs: Catalog) -> Catalog:
    specs: list[LayerSpec] = []
    tokens: list[bytes] = []
    gates: list[tuple[tuple[bytes, ...], tuple[bytes, ...]]] = []
    framework = catalogs[0].framework
    parts: list[Framework] = []
    for cat in catalogs:
        specs.extend(cat.specs)
        tokens.extend(t for t in cat.prefilter_tokens if t not in tokens)
        gates.extend(cat.gates)
        parts.extend(p for p in cat.parts if p not in parts)
        if cat is not catalogs[0]:
            framework = framework.union(cat.framework)
    return Catalog(framework, tuple(specs), tuple(tokens), tuple(gates), tuple(parts))


def passes(text: AnyStr, catalog: Catalog) -> bool:
    """The prefilter: False when ``text`` (str or bytes) cannot hold a finding.

    Sound: a finding needs a norm's name (one of the tokens) and a name resolved
    through an import of the framework's package (its root's text).  Tokens are
    tried by group first (``Norm`` for BatchNorm/InstanceNorm/GroupNorm), so a text
    without any costs one scan per group.
    """
    as_str = isinstance(text, str)
    groups, gates = _prefilter_plan(catalog, as_str)
    if not any(h in text and any(t in text for t in ts) for h, ts in groups):
        return False
    return any(
        (not roots or any(r in text for r in roots)) and any(t in text for t in toks)
        for toks, roots in gates
    )


_PLANS: dict[tuple[int, bool], tuple[Catalog, tuple, tuple]] = {}


def _prefilter_plan(catalog: Catalog, as_str: bool) -> tuple[tuple, tuple]:
    key = (id(catalog), as_str)
    hit = _PLANS.get(key)
    if hit is None or hit[0] is not catalog:
        conv = (lambda b: b.decode()) if as_str else (lambda b: b)
        groups = tuple(
            (conv(h), tuple(conv(t) for t in ts)) for h, ts in token_groups(catalog.prefilter_tokens)
        )
        gates = tuple(
            (tuple(conv(t) for t in toks), tuple(conv(r) for r in roots))
            for toks, roots in catalog.gates
        )
        hit = _PLANS[key] = (catalog, groups, gates)
    return hit[1], hit[2]


# Every framework module, in one place: ``convbnlint.catalog.<name>.CATALOG``.
FRAMEWORKS: tuple[str, ...] = (
    "torch",
    "keras",
    "tf_v1",
    "slim",
    "flax",
    "paddle",
    "mindspore",
    "oneflow",
    "jittor",
    "megengine",
    "haiku",
    "equinox",
)

_DEFAULT: list[Catalog] = []


def framework_catalog(name: str) -> Catalog:
    """One framework's catalog (``"keras"``), by its module name."""
    import importlib

    if name not in FRAMEWORKS:
        raise KeyError(name)
    return importlib.import_module(f"convbnlint.catalog.{name}").CATALOG  # type: ignore[no-any-return]


def default_catalog() -> Catalog:
    """Every registered framework, merged (built once)."""
    if not _DEFAULT:
        _DEFAULT.append(merge(*(framework_catalog(name) for name in FRAMEWORKS)))
    return _DEFAULT[0]
