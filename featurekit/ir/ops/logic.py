"""Logic, comparison, null handling, casts and imputation.

Null semantics follow SQL: comparisons with null give null; ``and``/``or`` use three-valued
(Kleene) logic; ``if_else`` takes the else branch when the condition is null (like
``CASE WHEN``); ``coalesce`` returns its first non-null argument.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from featurekit._lazy import lazy
from featurekit.ir.ops._util import (
    APPROX,
    APPROX_DOC,
    fixed,
    map_distinct,
    never_null,
    np_bool,
    union_range,
)
from featurekit.registry import ANY, AnalyzerRef, NullRule, Op, Param, Params, register
from featurekit.state_schema import Field, StateSchema
from featurekit.types import DType
from featurekit.values.column import Column
from featurekit.values.parse import parse_bool, parse_float, parse_int

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
else:
    np = lazy("numpy")
    pa = lazy("pyarrow")
    pc = lazy("pyarrow.compute")
ks = lazy("featurekit._kernels.strings")
an = lazy("featurekit.analyzers")

BOOL = frozenset({DType.BOOL})
STR = frozenset({DType.STR})
ORDERED = frozenset({DType.INT, DType.FLOAT, DType.STR, DType.TIMESTAMP})

# ----------------------------------------------------------------------- comparisons

_COMPARE = {
    "eq": ("==", "equal", "equal"),
    "ne": ("!=", "not_equal", "not_equal"),
    "lt": ("<", "less", "less"),
    "le": ("<=", "less_equal", "less_equal"),
    "gt": (">", "greater", "greater"),
    "ge": (">=", "greater_equal", "greater_equal"),
}


def _compare(name: str) -> None:
    symbol, np_fn, pc_fn = _COMPARE[name]

    def batch(args, p, s):
        a, b = args[0].values, args[1].values
        if isinstance(a, (pa.Array, pa.ChunkedArray)):
            return np_bool(getattr(pc, pc_fn)(a, b))
        return getattr(np, np_fn)(a, b)

    register(
        Op(
            name=name,
            symbol=symbol,
            precedence=4,  # comparisons do not chain: to_source parenthesizes a comparison operand
            doc=f"""``a {symbol} b``. Numbers compare by value (an int against a float is compared
        as float, as numpy does), strings by code point, timestamps by instant. NaN compares
        false (``!=``: true). Null rule: propagate. Tolerance: exact.""",
            args=(ANY if name in ("eq", "ne") else ORDERED,) * 2,
            promote=(0, 1),
            dtype_rule=_same_type_bool,
            batch=batch,
            row=lambda ctx, a, p, s, t: f"({a[0]} {symbol} {a[1]})",
        )
    )


def _same_type_bool(types: tuple[DType, ...], p: Params) -> DType:
    if types[0] is not types[1]:
        raise TypeError(f"cannot compare {types[0].value} with {types[1].value}")
    return DType.BOOL


for _name in _COMPARE:
    _compare(_name)


# ----------------------------------------------------------------------- boolean logic


def _known(col: Column) -> tuple[np.ndarray, np.ndarray]:
    """(known true, known false) masks of a bool column."""
    v = col.values
    if col.null is None:
        return v, ~v
    return v & ~col.null, ~v & ~col.null


def _and(args, p, s):
    (at, af), (bt, bf) = _known(args[0]), _known(args[1])
    true, false = at & bt, af | bf
    return Column(true, ~(true | false))


def _or(args, p, s):
    (at, af), (bt, bf) = _known(args[0]), _known(args[1])
    true, false = at | bt, af & bf
    return Column(true, ~(true | false))


def _kleene_row(word: str):
    def row(ctx, a, p, s, t):
        x, y = a
        if not (ctx.nullable(0) or ctx.nullable(1)):
            return f"({x} {word} {y})"
        if word == "and":
            return f"(False if ({x} is False or {y} is False) else (None if ({x} is None or {y} is None) else True))"
        return f"(True if ({x} is True or {y} is True) else (None if ({x} is None or {y} is None) else False))"

    return row


def _any_nullable(n, p, t, r=None) -> bool:
    return any(n)


register(
    Op(
        name="and_",
        symbol="and",
        precedence=2,
        doc="""``a and b`` with three-valued logic: false if either is false, true if both are
    true, otherwise null (Null rule: Kleene logic). Tolerance: exact.""",
        args=(BOOL, BOOL),
        dtype_rule=fixed(DType.BOOL),
        null_rule=NullRule.HANDLES,
        may_yield_null=_any_nullable,
        batch=_and,
        row=_kleene_row("and"),
    )
)
register(
    Op(
        name="or_",
        symbol="or",
        precedence=1,
        doc="""``a or b`` with three-valued logic: true if either is true, false if both are
    false, otherwise null (Null rule: Kleene logic). Tolerance: exact.""",
        args=(BOOL, BOOL),
        dtype_rule=fixed(DType.BOOL),
        null_rule=NullRule.HANDLES,
        may_yield_null=_any_nullable,
        batch=_or,
        row=_kleene_row("or"),
    )
)
register(
    Op(
        name="not_",
        symbol="not",
        precedence=3,
        doc="""``not a``. Null rule: propagate. Tolerance: exact.""",
        args=(BOOL,),
        dtype_rule=fixed(DType.BOOL),
        batch=lambda args, p, s: ~args[0].values,
        row=lambda ctx, a, p, s, t: f"(not {a[0]})",
    )
)


# ----------------------------------------------------------------------- conditionals


def _select(mask: np.ndarray, a: Column, b: Column) -> Column:
    """Element-wise ``a if mask else b`` for any column kind, nulls included."""
    if isinstance(a.values, (pa.Array, pa.ChunkedArray)):
        values = pc.if_else(pa.array(mask, type=pa.bool_()), a.values, b.values)
    else:
        values = np.where(mask, a.values, b.values)
    if a.null is None and b.null is None:
        return Column(values, None)
    an = a.null if a.null is not None else np.zeros(len(mask), bool)
    bn = b.null if b.null is not None else np.zeros(len(mask), bool)
    return Column(values, np.where(mask, an, bn))


def _if_else(args, p, s):
    cond = args[0]
    mask = cond.values if cond.null is None else cond.values & ~cond.null
    return _select(mask, args[1], args[2])


def _branch_type(types: tuple[DType, ...], p: Params) -> DType:
    if types[1] is not types[2]:
        raise TypeError(f"both branches must have one type; got {types[1].value} and {types[2].value}")
    return types[1]


register(
    Op(
        name="if_else",
        doc="""``if_else(cond, a, b)``: ``a`` where ``cond`` is true, else ``b``; a null
    condition takes ``b`` (SQL ``CASE WHEN``). Both branches are computed for every row in
    the batch path, so they must be total: every built-in op is (division by zero gives
    null, not an error). An int and a float branch give float. Null: null only where the
    chosen branch is null. Tolerance: exact.""",
        args=(BOOL, ANY, ANY),
        promote=(1, 2),
        dtype_rule=_branch_type,
        null_rule=NullRule.HANDLES,
        may_yield_null=lambda n, p, t, r=None: n[1] or n[2],
        batch=_if_else,
        int_range=lambda p, r: union_range(p, r[1:]),
        row=lambda ctx, a, p, s, t: f"({a[1]} if {a[0]} else {a[2]})",
    )
)


def _coalesce(args, p, s):
    out = args[-1]
    for col in reversed(args[:-1]):
        if col.null is None:
            out = col
            continue
        out = _select(~col.null, col, out)
    return out


def _coalesce_row(ctx, a, p, s, t):
    expr = a[-1]
    for i in range(len(a) - 2, -1, -1):
        split = ctx.null_split(i)
        if not ctx.nullable(i):
            expr = a[i]
        elif split is not None:
            expr = f"({expr} if {split[0]} else {split[1]})"
        else:
            expr = f"({a[i]} if {a[i]} is not None else {expr})"
    return expr


def _common_type(types: tuple[DType, ...], p: Params) -> DType:
    if len(set(types)) != 1:
        raise TypeError("all arguments must have one type; got " + ", ".join(t.value for t in types))
    return types[0]


register(
    Op(
        name="coalesce",
        passes_value=True,
        skew_role="fill",
        doc="""``coalesce(a, b, ...)``: the first argument that is not null (NaN is a value, not
    null). Ints mixed with floats give float. Null only if every argument is null.
    Tolerance: exact.""",
        args=(ANY, ANY),
        variadic=True,
        promote=(0, 1, 2, 3, 4, 5, 6, 7),
        dtype_rule=_common_type,
        null_rule=NullRule.HANDLES,
        may_yield_null=lambda n, p, t, r=None: all(n),
        int_range=union_range,
        batch=_coalesce,
        row=_coalesce_row,
    )
)

register(
    Op(
        name="is_null",
        doc="""``is_null(x)``: true when ``x`` is null (at the input: None, NaN, NaT, pandas NA or
    a missing key). Null rule: never null. Tolerance: exact.""",
        args=(ANY,),
        dtype_rule=fixed(DType.BOOL),
        null_rule=NullRule.HANDLES,
        may_yield_null=never_null,
        batch=lambda args, p, s: (
            args[0].null.copy() if args[0].null is not None else np.zeros(len(args[0].values), dtype=bool)
        ),
        row=lambda ctx, a, p, s, t: f"({a[0]} is None)",
    )
)


def _in_set_type(types: tuple[DType, ...], p: Params) -> DType:
    want = {DType.STR: str, DType.INT: int}.get(types[0])
    if want is None:
        raise TypeError(f"in_set takes str or int values; got {types[0].value}")
    bad = [v for v in p["values"] if type(v) is not want]
    if bad:
        raise TypeError(f"values must all be {want.__name__} to match the argument; got {bad[0]!r}")
    return DType.BOOL


def _in_set(args, p, s):
    values = args[0].values
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return ks.is_in(values, list(p["values"]))
    return np.isin(values, np.asarray(p["values"], dtype=np.int64))


register(
    Op(
        name="in_set",
        doc="""``in_set(x, values=[...])``: ``x`` is one of the listed values (exact equality, no
    case or Unicode normalization). Null rule: propagate. Tolerance: exact.""",
        args=(frozenset({DType.STR, DType.INT}),),
        dtype_rule=_in_set_type,
        params={"values": Param("scalars")},
        batch=_in_set,
        row=lambda ctx, a, p, s, t: f"({a[0]} in {ctx.const(frozenset(p['values']))})",
        test_params=({"values": ["a", "b"]},),
    )
)


# ----------------------------------------------------------------------- casts


def _to_int(args, p, s):
    v = args[0].values
    if isinstance(v, (pa.Array, pa.ChunkedArray)):
        values, none = map_distinct(v, parse_int, np.int64)
        return Column(values, none)
    if v.dtype.kind == "b":
        return v.astype(np.int64)
    if v.dtype.kind == "i":
        return v
    with np.errstate(all="ignore"):
        ok = np.isfinite(v) & (v >= -(2.0**63)) & (v < 2.0**63)
        return Column(np.where(ok, np.trunc(np.where(ok, v, 0.0)), 0).astype(np.int64), ~ok)


def _to_int_row(ctx, a, p, s, t):
    return {
        DType.BOOL: f"(1 if {a[0]} else 0)",
        DType.INT: a[0],
        DType.FLOAT: f"_trunc_int({a[0]})",
        DType.STR: f"_parse_int({a[0]})",
    }[t[0]]


register(
    Op(
        name="to_int",
        doc="""``to_int(x)``: bool -> 0/1; float -> truncated toward zero (NaN, inf and values
    outside int64 give null); str -> ``int(s)`` as Python parses it (surrounding
    whitespace allowed; anything else gives null). Null rule: propagate, plus the
    nulls above. Tolerance: exact.""",
        args=(frozenset({DType.BOOL, DType.INT, DType.FLOAT, DType.STR}),),
        dtype_rule=fixed(DType.INT),
        may_yield_null=lambda n, p, t, r=None: n[0] or t[0] in (DType.FLOAT, DType.STR),
        int_range=lambda p, r: r[0],  # bool is (0, 1); float and str results are unbounded
        batch=_to_int,
        row=_to_int_row,
    )
)


def _to_float(args, p, s):
    v = args[0].values
    if isinstance(v, (pa.Array, pa.ChunkedArray)):
        values, none = map_distinct(v, parse_float, np.float64)
        return Column(values, none)
    return v.astype(np.float64)


register(
    Op(
        name="to_float",
        passes_value=True,
        doc="""``to_float(x)``: int -> float (rounded to nearest, as numpy casts int64); bool ->
    0.0/1.0; str -> ``float(s)`` as Python parses it (null when it does not parse).
    Null rule: propagate, plus null for unparseable text. Tolerance: exact.""",
        args=(frozenset({DType.BOOL, DType.INT, DType.FLOAT, DType.STR}),),
        dtype_rule=fixed(DType.FLOAT),
        may_yield_null=lambda n, p, t, r=None: n[0] or t[0] is DType.STR,
        batch=_to_float,
        row=lambda ctx, a, p, s, t: {DType.STR: f"_parse_float({a[0]})", DType.FLOAT: a[0]}.get(t[0], f"float({a[0]})"),
    )
)


def _to_bool(args, p, s):
    v = args[0].values
    if isinstance(v, (pa.Array, pa.ChunkedArray)):
        values, none = map_distinct(v, parse_bool, bool)
        return Column(values, none)
    return v != 0


register(
    Op(
        name="to_bool",
        doc="""``to_bool(x)``: numbers -> ``x != 0`` (NaN is true, as in Python); str ->
    true for "true"/"1", false for "false"/"0" (case-insensitive, surrounding whitespace
    ignored), null otherwise. Null rule: propagate, plus null for unrecognized text.
    Tolerance: exact.""",
        args=(frozenset({DType.BOOL, DType.INT, DType.FLOAT, DType.STR}),),
        dtype_rule=fixed(DType.BOOL),
        may_yield_null=lambda n, p, t, r=None: n[0] or t[0] is DType.STR,
        batch=_to_bool,
        row=lambda ctx, a, p, s, t: {DType.STR: f"_parse_bool({a[0]})", DType.BOOL: a[0]}.get(t[0], f"({a[0]} != 0)"),
    )
)

register(
    Op(
        name="to_str",
        doc="""``to_str(x)``: an int as its decimal text, ``str(x)``. Null rule: propagate.
    Tolerance: exact.""",
        args=(frozenset({DType.INT}),),
        dtype_rule=fixed(DType.STR),
        batch=lambda args, p, s: pa.array(args[0].values, type=pa.int64()).cast(pa.large_string()),
        row=lambda ctx, a, p, s, t: f"str({a[0]})",
    )
)


# ----------------------------------------------------------------------- impute

_STRATEGIES = ("mean", "median", "most_frequent")
_EMPTY_FILL = {DType.FLOAT: 0.0, DType.INT: 0, DType.STR: "", DType.BOOL: False, DType.TIMESTAMP: 0}


def _impute_type(types: tuple[DType, ...], p: Params) -> DType:
    t = types[0]
    if p.strategy in ("mean", "median"):
        if not t.is_numeric:
            raise TypeError(f"strategy {p.strategy!r} needs a number; got {t.value} (use most_frequent)")
        return DType.FLOAT
    if p.value is not None:
        ok = {DType.FLOAT: (int, float), DType.INT: (int,), DType.STR: (str,), DType.BOOL: (bool,)}.get(t, ())
        if not isinstance(p.value, ok) or (t is not DType.BOOL and isinstance(p.value, bool)):
            raise TypeError(f"value {p.value!r} does not match the argument type {t.value}")
    return t


def _check_impute(p: Params) -> None:
    if (p.value is None) == (p.strategy is None):
        raise ValueError("give exactly one of value=<constant> or strategy=mean|median|most_frequent")
    if p.approx is not None and p.strategy != "median":
        raise ValueError(f'approx applies to strategy="median" only; got strategy={p.strategy!r}')


def _impute_analyzer(p: Params, dtype: DType):
    median = AnalyzerRef("Median") if p.approx is None else AnalyzerRef("ApproxMedian", p.approx)
    return {"mean": AnalyzerRef("MeanVar"), "median": median, "most_frequent": AnalyzerRef("ValueCounts")}.get(
        p.strategy
    )


def _impute_state(fitted: dict, p: Params) -> dict:
    if p.strategy == "mean":
        fill = fitted["mean"]
    elif p.strategy == "median":
        fill = fitted["median"]
    else:
        fill = an.mode(fitted["counts"])
    return {"fill": fill, "count": fitted["count"]}


def _fill(p: Params, s: dict | None, dtype: DType):
    if p.value is not None:
        return float(p.value) if dtype is DType.FLOAT else p.value
    fill = (s or {}).get("fill")
    return _EMPTY_FILL[dtype] if fill is None else fill


def _impute(args, p, s):
    col = args[0]
    dtype = _impute_batch_type(col.values, p)
    fill = _fill(p, s, dtype)
    values = col.values
    if dtype is DType.FLOAT and values.dtype.kind != "f":
        values = values.astype(np.float64)
    if col.null is None:
        return Column(values, None)
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return Column(pc.if_else(pa.array(col.null), pa.scalar(fill, pa.large_string()), values), None)
    return Column(np.where(col.null, np.asarray(fill, dtype=values.dtype), values), None)


def _impute_batch_type(values, p: Params) -> DType:
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return DType.STR
    if p.strategy in ("mean", "median") or values.dtype.kind == "f":
        return DType.FLOAT
    return DType.BOOL if values.dtype.kind == "b" else DType.INT


def _impute_row(ctx, a, p, s, t):
    dtype = _impute_type(t, p)
    fill = _fill(p, s, dtype)
    split = ctx.null_split(0)
    is_null, x = (f"{a[0]} is None", a[0]) if split is None else split
    value = f"float({x})" if dtype is DType.FLOAT and t[0] is DType.INT else x
    if not ctx.nullable(0):
        return value
    return f"({ctx.lit(fill)} if {is_null} else {value})"


register(
    Op(
        name="impute",
        passes_value=True,
        skew_role="fill",
        doc=f"""``impute(x, value=<constant>)`` or ``impute(x, strategy="mean"|"median"|"most_frequent")``:
    ``x``, or the fill value where ``x`` is null (NaN produced by arithmetic is a value and is
    kept).

    ``mean``: exact mean of the non-null training values; ``median``: numpy.median (the mean
    of the two middle values for an even count); both give float. ``most_frequent``: the
    modal value, ties going to the smallest. Empty fit: 0.0 / 0 / "" / false. Null rule:
    never null. With ``strategy="median"``:
    {APPROX_DOC}
    Tolerance: exact.""",
        args=(frozenset({DType.INT, DType.FLOAT, DType.STR, DType.BOOL}),),
        dtype_rule=_impute_type,
        null_rule=NullRule.HANDLES,
        may_yield_null=never_null,
        params={
            "value": Param("scalar", default=None),
            "strategy": Param("str", default=None, choices=_STRATEGIES),
            "approx": APPROX,
        },
        check_params=_check_impute,
        analyzer=_impute_analyzer,
        state_from=_impute_state,
        # the fill is a value of the result type (float for mean/median), or None after an empty fit
        state_schema=StateSchema({"fill": Field("result", nullable=True), "count": Field("count")}),
        int_range=lambda p, r: (
            r[0] if p.value is None or r[0] is None else (min(r[0][0], p.value), max(r[0][1], p.value))
        ),
        batch=_impute,
        row=_impute_row,
        test_params=(
            {"value": 0},
            {"strategy": "mean"},
            {"strategy": "median"},
            {"strategy": "most_frequent"},
            {"strategy": "median", "approx": 0.01},
        ),
    )
)
