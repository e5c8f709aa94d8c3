"""The op registry: one entry declares everything about an op.

An :class:`Op` holds its spec name, its parameters with constraints, its argument types and
type rule, its null rule, an optional analyzer (what ``fit`` learns), its vectorized batch
implementation, its row implementation (a builder that returns a Python expression for the
generated row function) and the small configurations the conformance suite runs. The two
implementations must agree bit for bit on every input, on every CPU. Adding an op means
adding one entry with :func:`register` in ``featurekit/ir/ops``; the parser (its operator
table included), the DSL, both compilers, the docs and the conformance suite pick it up from
here.

The registry sits below the ops: it never imports them. The built-in ops register when
:mod:`featurekit.ir.ops` is imported, which every module that looks ops up by name does.

>>> import featurekit.ir.ops  # registers the built-in ops
>>> from featurekit import registry
>>> registry.get("log1p").kind
<Kind.ELEMENTWISE: 'elementwise'>
>>> registry.get("zscore").kind_for({})
<Kind.ANALYZED: 'analyzed'>
>>> sorted((op.symbol, op.precedence) for op in registry.operators().values() if len(op.args) == 1)
[('-', 8), ('not', 3)]
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal, TypeAlias

from featurekit.errors import did_you_mean
from featurekit.types import INT64_MAX, INT64_MIN, DType, plain_value

_REQUIRED = object()
#: A proven integer range ``(low, high)`` of a value, or None when nothing is proven.
IntRange: TypeAlias = tuple[int, int] | None


class Kind(enum.Enum):
    """Whether an op needs fitted state."""

    ELEMENTWISE = "elementwise"
    """Stateless: the output depends only on the row."""
    ANALYZED = "analyzed"
    """Needs state fitted on training data (an analyzer runs during ``fit``)."""


class NullRule(enum.Enum):
    """What an op does with null arguments."""

    PROPAGATE = "propagate"
    """Any null argument gives null; the implementations never see a null value."""
    HANDLES = "handles"
    """The implementations receive nulls and define the result themselves (documented per op)."""


class ParamError(ValueError):
    """A parameter value breaks its constraint; the spec loader adds the location."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.fix = fix


@dataclasses.dataclass(frozen=True)
class Param:
    """A typed op parameter with its constraint.

    ``kind`` is one of ``number``, ``int``, ``str``, ``bool``, ``numbers`` (a list of numbers),
    ``strs`` (a list of strings). Numbers are normalized to float so ``0`` and ``0.0`` give
    the same spec and fingerprint. Every int (also inside ``scalar``/``scalars``) must fit
    int64 and every string must be valid Unicode, so both paths can hold the value; a
    parameter that feeds an op's ``int_range`` declares a ``max``, so the range proof holds.
    ``finite`` refuses ``inf`` where an infinite value means nothing (a period).
    ``keyed_at_default=False`` leaves the parameter out of the
    node's content key (so out of fingerprints and state keys) while it has its default value:
    for parameters added after specs were saved, so their fingerprints stay valid.
    """

    kind: str
    default: Any = _REQUIRED
    choices: tuple[Any, ...] | None = None
    min: float | None = None
    max: float | None = None
    doc: str = ""
    finite: bool = False
    keyed_at_default: bool = True

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED

    def describe(self) -> str:
        """Human text for the constraint, used in messages and docs."""
        text = {
            "number": "a number",
            "int": "an int",
            "str": "a string",
            "bool": "true or false",
            "numbers": "a list of numbers",
            "strs": "a list of strings",
            "scalar": "a string, number or true/false",
            "scalars": "a list of strings or numbers",
        }[self.kind]
        if self.choices is not None:
            text = "one of " + ", ".join(repr(c) for c in self.choices)
        elif self.min is not None and self.max is not None:
            text += f" in [{self.min:g}, {self.max:g}]"
        elif self.min is not None:
            text += f" >= {self.min:g}"
        if self.finite:
            text += " (finite)"
        return text

    def validate(self, value: Any) -> Any:
        """Return the normalized value or raise :class:`ParamError`."""
        if value is None and not self.required and self.default is None:
            return None
        kind = self.kind
        if kind in ("numbers", "strs", "scalars"):
            if not isinstance(value, (list, tuple)):
                raise ParamError(f"must be {self.describe()}; got {value!r}")
            item_kind = {"numbers": "number", "strs": "str", "scalars": "scalar"}[kind]
            item = Param(item_kind, min=self.min, max=self.max, finite=self.finite)
            return tuple(item.validate(v) for v in value)
        value = plain_value(value)
        _check_representable(value)
        if kind == "scalar":
            if value is None or not isinstance(value, (str, int, float, bool)):
                raise ParamError(f"must be {self.describe()}; got {value!r}")
            if isinstance(value, float) and value != value:
                raise ParamError("must not be NaN")
            return value
        ok = {
            "number": isinstance(value, (int, float)) and not isinstance(value, bool),
            "int": isinstance(value, int) and not isinstance(value, bool),
            "str": isinstance(value, str),
            "bool": isinstance(value, bool),
        }[kind]
        if not ok:
            raise ParamError(f"must be {self.describe()}; got {value!r} ({type(value).__name__})")
        if kind == "number":
            try:
                value = float(value)
            except OverflowError:
                raise ParamError(f"must be {self.describe()}; got {value} (too large for a float)") from None
            if value != value:
                raise ParamError("must not be NaN")
            if self.finite and value in (math.inf, -math.inf):
                raise ParamError(f"must be {self.describe()}; got {value!r}")
        if self.choices is not None and value not in self.choices:
            hint = did_you_mean(str(value), [str(c) for c in self.choices])
            raise ParamError(
                f"must be {self.describe()}; got {value!r}",
                fix=f"use {hint[len('did you mean ') : -1]}" if hint else None,
            )
        if self.min is not None and value < self.min or self.max is not None and value > self.max:
            raise ParamError(f"must be {self.describe()}; got {value!r}")
        return value


def _check_representable(value: Any) -> None:
    """Refuse an int outside int64 or a str that is not valid Unicode: neither path holds them."""
    if isinstance(value, int) and not isinstance(value, bool) and not INT64_MIN <= value <= INT64_MAX:
        shown = str(value) if value.bit_length() <= 256 else f"with {value.bit_length()} bits"
        raise ParamError(f"must fit int64; got {shown}", fix="give a value in [-2**63, 2**63 - 1]")
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ParamError(f"must be valid Unicode text; got {value!r} (a lone surrogate)") from None


class Params(Mapping[str, Any]):
    """Validated, immutable op parameters with attribute access (``p.lower``)."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_items", dict(items))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._items[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self._items.items())


class AnalyzerRef(tuple):
    """Which analyzer an op needs, by name and arguments, without importing it.

    ``AnalyzerRef("Quantiles", (1.0, 99.0))`` builds ``featurekit.analyzers.Quantiles((1.0, 99.0))``
    only when :meth:`build` is called (at fit time), so the serving path never imports numpy.
    """

    def __new__(cls, name: str, *args: Any) -> AnalyzerRef:
        return super().__new__(cls, (name, *args))

    def build(self) -> Any:
        import featurekit.analyzers as analyzers

        return getattr(analyzers, self[0])(*self[1:])


ANY = frozenset(DType)
NUMERIC = frozenset({DType.INT, DType.FLOAT})


@dataclasses.dataclass(frozen=True)
class RowSelect:
    """Row code of a multi-column op where at most one column is ``value`` and every other
    column is ``default`` (a one-hot encoding).

    ``key`` is a Python expression; ``positions`` maps each value of it that selects a column
    to that column's position. The row lowering starts every column at ``default`` in the
    output template and sets the selected one with one dict lookup, instead of comparing the
    key against each column's value.

    >>> RowSelect("x", {"a": 0, "b": 1}).positions["b"]
    1
    """

    key: str
    positions: Mapping[Any, int]
    value: Any = 1
    default: Any = 0


SkewRole = Literal["vocabulary", "indicators", "fill", "bound", "scale"]
"""What an op does with its first argument, for the skew report's remedies (``Op.skew_role``):

* ``"vocabulary"``: maps values through a fitted ``state["vocab"]``; unseen values go to its
  ``num_oov_buckets`` OOV bucket(s): the unseen rate matters;
* ``"indicators"``: one column per fitted ``state["vocab"]`` value; an unseen value is all zeros;
* ``"fill"``: replaces nulls with a value (``state["fill"]`` when fitted): a null-rate rise hides there;
* ``"bound"``: saturates values at fitted edges (clip bounds, bucket edges): out-of-range values pile up;
* ``"scale"``: rescales by fitted statistics (mean/std, min/max): out-of-range values leave the scale.
"""


@dataclasses.dataclass(frozen=True)
class Op:
    """One registered operation. See the module docstring for how the fields are used.

    ``args`` lists, per positional argument, the types it accepts (``variadic`` repeats the
    last). ``dtype_rule(arg_types, params)`` returns the output type or raises ``TypeError``
    with a user-facing message. ``batch(args, params, state) -> Column`` works on whole
    columns; ``row(ctx, arg_vars, params, state, arg_types) -> str`` returns one Python
    expression over the argument variables; an op with ``outputs`` returns one expression per
    column, or a :class:`RowSelect`. ``analyzer(params, arg_type)`` returns the
    analyzer to fit on the first argument (or None when these params need no fit), and
    ``state_from(fitted, params)`` turns its result into the op's frozen state.
    ``int_range(params, arg_ranges)`` gives the inclusive range of an int result from the
    ranges of int arguments (None = unknown); the normalizer uses it to prove that int
    arithmetic cannot overflow, so such results are not needlessly nullable.
    ``derived_params(params)`` adds parameters computed at validation (e.g. a UDF's code hash),
    so they are part of the node's content key and fingerprint.
    ``float_args`` makes the normalizer convert int arguments to float first; ``promote``
    lists argument positions that are unified to one numeric type (int with float -> float),
    so implementations only ever see matching types. ``reads_datetime`` marks ops whose row
    code reads calendar fields through ``ctx.datetime_of``, so the row lowering keeps their
    timestamp inputs as UTC datetimes as well as microseconds. ``pure=False`` marks ops whose
    row code may raise or observe call order (user functions): the row lowering never moves
    them into another expression, where they would run conditionally. ``column_prefix(feature,
    params)`` (multi-column ops) is the text every output column name starts with, before
    ``_<value>``; with the argument's declared ``values`` the normalizer knows the columns and
    refuses two features producing one of them. ``state_schema`` (required with ``analyzer``) declares what
    ``state_from`` returns; every state a fitted transform is built with, a loaded one included, is checked against it
    (:mod:`featurekit.state_schema`). ``skew_role`` tells the skew report what a finding about
    the op's argument means for the op (see :data:`SkewRole`); None for ops it has no advice for.
    ``symbol`` is how an expression writes the op as an operator (``+``, ``and``, unary ``-``);
    ``precedence`` (higher binds tighter) marks the op the expression parser produces for that
    symbol and arity, and how :func:`featurekit.ir.nodes.to_source` parenthesizes it. ``concat``
    shows ``+`` but has no precedence: the parser reads ``+`` as ``add``, which the normalizer
    turns into ``concat`` on strings. The parser's, the source renderer's and the conformance
    suite's operator tables all come from these two fields (:func:`operators`).
    ``affine_state`` names the ``(center, scale)`` fields of the state of an op computing
    ``(x - center) / scale``, and ``passes_value`` marks ops that return a non-null number
    argument as it is (casts, fills): the parity report solves for the constants serving code
    used (:mod:`featurekit.parity.constants`).
    """

    name: str
    doc: str
    args: tuple[frozenset[DType], ...]
    dtype_rule: Callable[[tuple[DType, ...], Params], DType]
    batch: Callable[..., Any]
    row: Callable[..., Any]
    params: Mapping[str, Param] = dataclasses.field(default_factory=dict)
    null_rule: NullRule = NullRule.PROPAGATE
    may_yield_null: Callable[..., bool] | None = None
    int_range: Callable[[Params, tuple[IntRange, ...]], IntRange] | None = None
    analyzer: Callable[[Params, DType], Any] | None = None
    state_from: Callable[[dict, Params], dict] | None = None
    outputs: Callable[[str, Params, dict | None], list[str]] | None = None
    column_prefix: Callable[[str, Params], str] | None = None
    state_schema: Any = None
    variadic: bool = False
    float_args: bool = False
    promote: tuple[int, ...] = ()
    check_params: Callable[[Params], None] | None = None
    derived_params: Callable[[Params], dict[str, Any]] | None = None
    test_params: tuple[Mapping[str, Any], ...] = ({},)
    expected_failures: Mapping[str, str] = dataclasses.field(default_factory=dict)
    symbol: str | None = None
    precedence: int | None = None
    reads_datetime: bool = False
    pure: bool = True
    skew_role: SkewRole | None = None
    affine_state: tuple[str, str] | None = None
    passes_value: bool = False

    def kind_for(self, params: Mapping[str, Any]) -> Kind:
        """ANALYZED when these params make the op learn state, else ELEMENTWISE."""
        if self.analyzer is None:
            return Kind.ELEMENTWISE
        probe = self.analyzer(Params(self.bind_params(params)), DType.FLOAT)
        return Kind.ANALYZED if probe is not None else Kind.ELEMENTWISE

    @property
    def kind(self) -> Kind:
        """The op's kind with default parameters (``ANALYZED`` if it can ever fit)."""
        return Kind.ANALYZED if self.analyzer is not None else Kind.ELEMENTWISE

    def bind_params(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Validate ``given`` against the declared params; fill defaults.

        Raises :class:`ParamError` naming the parameter on any problem.
        """
        unknown = [k for k in given if k not in self.params]
        if unknown:
            hint = did_you_mean(unknown[0], self.params)
            known = ", ".join(self.params) or "none"
            raise ParamError(
                f"op {self.name!r} has no parameter {unknown[0]!r} (parameters: {known})",
                fix=f"{hint}" if hint else f"remove {unknown[0]!r}",
            )
        bound: dict[str, Any] = {}
        for name, param in self.params.items():
            if name in given:
                try:
                    bound[name] = param.validate(given[name])
                except ParamError as exc:
                    raise ParamError(f"op {self.name!r} parameter {name!r} {exc}", exc.fix) from None
            elif param.required:
                raise ParamError(
                    f"op {self.name!r} needs parameter {name!r} ({param.describe()})",
                    fix=f"add {name}=<{param.describe()}>",
                )
            else:
                bound[name] = param.default
        if self.check_params is not None:
            try:
                self.check_params(Params(bound))
            except ValueError as exc:
                raise ParamError(f"op {self.name!r}: {exc}", getattr(exc, "fix", None)) from None
        if self.derived_params is not None:
            bound.update(self.derived_params(Params(bound)))
        return bound

    def result_nullable(
        self, arg_nullable: Sequence[bool], params: Params, arg_types: Sequence[DType], result_range: IntRange = None
    ) -> bool:
        """Whether the output can be null, given which arguments can.

        ``result_range`` is the inferred range of an int result (None when unbounded); int
        arithmetic is null on overflow, which cannot happen when the range fits int64.
        """
        if self.may_yield_null is not None:
            return self.may_yield_null(tuple(arg_nullable), params, tuple(arg_types), result_range)
        if self.null_rule is NullRule.PROPAGATE:
            return any(arg_nullable)
        return False


_REGISTRY: dict[str, Op] = {}


def register(op: Op) -> Op:
    """Add ``op`` to the registry; a second op with the same name, or an analyzer without a
    state schema holding a ``count`` field, is a programming error."""
    if op.name in _REGISTRY:
        raise RuntimeError(f"op {op.name!r} is registered twice")
    if op.analyzer is not None and (op.state_schema is None or "count" not in op.state_schema.fields):
        raise RuntimeError(
            f"op {op.name!r} has an analyzer but no state_schema with a 'count' field "
            "(featurekit.state_schema.StateSchema)"
        )
    if op.precedence is not None:
        if op.symbol is None or len(op.args) not in (1, 2) or op.variadic:
            raise RuntimeError(f"op {op.name!r} has a precedence but is not a unary or binary operator with a symbol")
        clash = [o.name for o in _REGISTRY.values() if _operator_key(o) == _operator_key(op)]
        if clash:
            raise RuntimeError(f"ops {clash[0]!r} and {op.name!r} both claim the operator {op.symbol!r}")
    _REGISTRY[op.name] = op
    return op


def _operator_key(op: Op) -> tuple[str, int] | None:
    return (op.symbol, len(op.args)) if op.symbol is not None and op.precedence is not None else None


def get(name: str) -> Op:
    """Look up an op by spec name; raises ``KeyError`` with a did-you-mean hint."""
    try:
        return _REGISTRY[name]
    except KeyError:
        if not _REGISTRY:
            raise KeyError(
                f"no ops are registered; import featurekit.ir.ops to register the built-in ops ({name!r})"
            ) from None
        hint = did_you_mean(name, _REGISTRY)
        raise KeyError(hint or "") from None


def has(name: str) -> bool:
    """Whether an op named ``name`` is registered."""
    return name in _REGISTRY


def all_ops() -> list[Op]:
    """Every registered op, sorted by name."""
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def names() -> list[str]:
    """The names of every registered op, sorted."""
    return sorted(_REGISTRY)


def operators() -> dict[str, Op]:
    """The ops expressions write as operators (a ``symbol`` and a ``precedence``), by name."""
    return {name: op for name, op in sorted(_REGISTRY.items()) if op.precedence is not None}
