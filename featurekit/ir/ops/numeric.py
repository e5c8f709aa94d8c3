"""Numeric ops: arithmetic, library math, rounding, clipping and fitted scalers.

Type rules: ``int (+ - *) int -> int`` (a result outside int64 is null, in both paths);
anything with a float -> float (the int side is converted first, exactly as numpy casts
int64 to float64). ``/`` always gives float; division by zero gives null. Library math
(``log``, ``exp``, ``pow``...) follows C/IEEE semantics in both paths (``log(0) = -inf``,
``sqrt(-1) = nan``). Its batch kernels call the row path's scalar helpers
(:mod:`featurekit.values.rowlib`, i.e. CPython's ``math``) rather than numpy's vectorized
math, whose SIMD kernels differ by 1 ULP on some CPUs: every op is bit-exact on every machine.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from featurekit._lazy import lazy
from featurekit.ir.ops._util import (
    APPROX,
    APPROX_DOC,
    always_maybe_null,
    bounded,
    errstate,
    fits_int64,
    fixed,
    map_floats,
    quantile_analyzer,
    same_as_first,
)
from featurekit.registry import NUMERIC, AnalyzerRef, Op, Param, Params, register
from featurekit.state_schema import Field, StateSchema
from featurekit.types import DType
from featurekit.values import rowlib
from featurekit.values.column import Column

np = lazy("numpy")

FLOAT = frozenset({DType.FLOAT})
INT_LO, INT_HI = -(2**63), 2**63 - 1
_INT_RANGE = f"{INT_LO} <= (_r := {{}}) <= {INT_HI}"


def _int_checked(expr: str) -> str:
    """Row expression for an int result that must stay in int64 (else None)."""
    return f"(_r if {_INT_RANGE.format(expr)} else None)"


def _int_overflow_may_null(nullable, p, types, rng=None) -> bool:
    return any(nullable) or (types[0] is DType.INT and not fits_int64(rng))


def _range_add(p, r):
    return None if None in r else (r[0][0] + r[1][0], r[0][1] + r[1][1])


def _range_sub(p, r):
    return None if None in r else (r[0][0] - r[1][1], r[0][1] - r[1][0])


def _range_mul(p, r):
    if None in r:
        return None
    products = [a * b for a in r[0] for b in r[1]]
    return (min(products), max(products))


def _range_neg(p, r):
    return None if r[0] is None else (-r[0][1], -r[0][0])


def _range_abs(p, r):
    if r[0] is None:
        return None
    lo, hi = r[0]
    return (0 if lo <= 0 <= hi else min(abs(lo), abs(hi)), max(abs(lo), abs(hi)))


# ----------------------------------------------------------------------- arithmetic


def _add(args, p, s):
    a, b = args[0].values, args[1].values
    with errstate():
        r = a + b
    if r.dtype.kind == "f":
        return r
    return Column(r, ((a ^ r) & (b ^ r)) < 0)


def _sub(args, p, s):
    a, b = args[0].values, args[1].values
    with errstate():
        r = a - b
    if r.dtype.kind == "f":
        return r
    return Column(r, ((a ^ b) & (a ^ r)) < 0)


def _mul(args, p, s):
    a, b = args[0].values, args[1].values
    with errstate():
        r = a * b
        if r.dtype.kind == "f":
            return r
        safe_b = np.where(b == 0, 1, b)
        overflow = (b != 0) & (np.floor_divide(r, safe_b) != a)
        overflow |= ((a == -1) & (b == INT_LO)) | ((b == -1) & (a == INT_LO))
    return Column(r, overflow)


def _arith_row(symbol: str):
    def row(ctx, a, p, s, t):
        expr = f"{a[0]} {symbol} {a[1]}"
        # a non-nullable int result means the normalizer's range analysis proved no overflow
        if t[0] is DType.INT and ctx.result_nullable:
            return _int_checked(expr)
        return f"({expr})"

    return row


def _div_row(ctx, a, p, s, t):
    divisor = ctx.const_arg(1)
    if isinstance(divisor, float) and divisor != 0.0:
        return f"({a[0]} / {a[1]})"  # a non-zero literal divisor needs no zero check
    return f"(None if {a[1]} == 0.0 else {a[0]} / {a[1]})"


for _name, _sym, _prec, _fn, _word, _rng in (
    ("add", "+", 6, _add, "sum", _range_add),
    ("sub", "-", 6, _sub, "difference", _range_sub),
    ("mul", "*", 7, _mul, "product", _range_mul),
):
    register(
        Op(
            name=_name,
            symbol=_sym,
            precedence=_prec,
            doc=f"""``a {_sym} b``: the {_word}.

        Null rule: null if either side is null. Types: int with int gives int, and a result
        outside the int64 range is null (never wrapped); otherwise float (IEEE-754, exact in
        both paths). Tolerance: exact.""",
            args=(NUMERIC, NUMERIC),
            promote=(0, 1),
            dtype_rule=same_as_first,
            may_yield_null=_int_overflow_may_null,
            int_range=_rng,
            batch=_fn,
            row=_arith_row(_sym),
            test_params=({},),
        )
    )


def _div(args, p, s):
    a, b = args[0].values, args[1].values
    with errstate():
        return Column(np.true_divide(a, b), b == 0)


register(
    Op(
        name="div",
        symbol="/",
        precedence=7,
        doc="""``a / b``: true division, always float.

    Null rule: null if either side is null, and null when ``b == 0`` (also ``-0.0``): a
    declared policy rather than inf/nan. Both sides are floats (ints are converted first).
    Tolerance: exact.""",
        args=(NUMERIC, NUMERIC),
        float_args=True,
        dtype_rule=fixed(DType.FLOAT),
        may_yield_null=always_maybe_null,
        batch=_div,
        row=_div_row,
    )
)


def _neg(args, p, s):
    v = args[0].values
    if v.dtype.kind == "f":
        return -v
    return Column(-v, v == INT_LO)


register(
    Op(
        name="neg",
        symbol="-",
        precedence=8,
        doc="""``-x``. Null rule: propagate; ``-(-2**63)`` is outside int64 and gives null.
    Tolerance: exact.""",
        args=(NUMERIC,),
        dtype_rule=same_as_first,
        may_yield_null=_int_overflow_may_null,
        int_range=_range_neg,
        batch=_neg,
        row=lambda ctx, a, p, s, t: _int_checked(f"-{a[0]}") if t[0] is DType.INT else f"(-{a[0]})",
    )
)


def _abs(args, p, s):
    v = args[0].values
    if v.dtype.kind == "f":
        return np.abs(v)
    return Column(np.abs(v), v == INT_LO)


register(
    Op(
        name="abs",
        doc="""``abs(x)``: absolute value (``abs(-0.0) = 0.0``). Null rule: propagate;
    ``abs(-2**63)`` gives null. Tolerance: exact.""",
        args=(NUMERIC,),
        dtype_rule=same_as_first,
        may_yield_null=_int_overflow_may_null,
        int_range=_range_abs,
        batch=_abs,
        row=lambda ctx, a, p, s, t: _int_checked(f"abs({a[0]})") if t[0] is DType.INT else f"abs({a[0]})",
    )
)


def _minmax_op(name: str, np_fn: str, helper: str, word: str) -> None:
    def batch(args, p, s):
        return getattr(np, np_fn)(args[0].values, args[1].values)

    def row(ctx, a, p, s, t):
        if t[0] is DType.INT:
            return f"({a[0]} if {a[0]} {'<' if name == 'min' else '>'} {a[1]} else {a[1]})"
        return f"{helper}({a[0]}, {a[1]})"

    register(
        Op(
            name=name,
            doc=f"""``{name}(a, b)``: the {word} of two numbers, element-wise (numpy.{np_fn}).

        Null rule: propagate. NaN propagates; on a tie (``0.0`` vs ``-0.0``) the second
        argument is returned. Tolerance: exact.""",
            args=(NUMERIC, NUMERIC),
            promote=(0, 1),
            dtype_rule=same_as_first,
            batch=batch,
            row=row,
        )
    )


_minmax_op("min", "minimum", "_min2", "smaller")
_minmax_op("max", "maximum", "_max2", "larger")


# ----------------------------------------------------------------------- library math


def _exact_ufunc(np_fn: str) -> Callable:
    """Batch kernel for a function IEEE 754 defines exactly (numpy and ``math`` agree bit for bit)."""

    def batch(args, p, s):
        with errstate():
            return getattr(np, np_fn)(args[0].values)

    return batch


def _libm(scalar: Callable[..., float]) -> Callable:
    """Batch kernel for library math: the row path's own scalar helper over the column."""

    def batch(args, p, s):
        return map_floats(scalar, *(a.values for a in args))

    return batch


def _unary_math(name: str, batch: Callable, helper: str, formula: str, how: str) -> None:
    register(
        Op(
            name=name,
            doc=f"""``{name}(x)``: {formula}, as a float.

        Null rule: propagate. Ints are converted to float first. IEEE edge values as numpy
        gives them, never an error. Tolerance: exact ({how}).""",
            args=(NUMERIC,),
            float_args=True,
            dtype_rule=fixed(DType.FLOAT),
            batch=batch,
            row=lambda ctx, a, p, s, t: (
                f"(_mlog1p({a[0]}) if {a[0]} > -1.0 else _log1p({a[0]}))"
                if helper == "_log1p_inline"
                else f"{helper}({a[0]})"
            ),
        )
    )


_LIBM = "both paths call CPython's ``math`` function, once per distinct value in the batch path"
_IEEE = "correctly rounded in IEEE 754, so numpy and ``math`` agree"
_unary_math("log", _libm(rowlib._log), "_log", "natural logarithm; ``log(0) = -inf``, ``log(x<0) = nan``", _LIBM)
_unary_math(
    "log1p",
    _libm(rowlib._log1p),
    "_log1p_inline",
    "``log(1 + x)`` accurate near 0; ``log1p(-1) = -inf``, ``log1p(x<-1) = nan``",
    _LIBM,
)
_unary_math("sqrt", _exact_ufunc("sqrt"), "_sqrt", "square root (correctly rounded); ``sqrt(x<0) = nan``", _IEEE)
_unary_math("exp", _libm(rowlib._exp), "_exp", "``e**x``; overflow gives ``inf``", _LIBM)
_unary_math("floor", _exact_ufunc("floor"), "_floor", "round toward -inf, keeping the sign of zero", _IEEE)
_unary_math("ceil", _exact_ufunc("ceil"), "_ceil", "round toward +inf (``ceil(-0.5) = -0.0``)", _IEEE)


register(
    Op(
        name="pow",
        symbol="**",
        precedence=9,  # right-associative
        doc="""``x ** y`` as C ``pow`` defines it, always float: ``(-8) ** 0.5 = nan``,
    ``0 ** -1 = inf``, overflow gives ``inf``. Null rule: propagate. Tolerance: exact (both
    paths call CPython's ``math.pow``, once per distinct pair of values in the batch path).""",
        args=(NUMERIC, NUMERIC),
        float_args=True,
        dtype_rule=fixed(DType.FLOAT),
        batch=_libm(rowlib._pow),
        row=lambda ctx, a, p, s, t: f"_pow({a[0]}, {a[1]})",
    )
)


def _round(args, p, s):
    with errstate():
        return np.round(args[0].values, int(p.decimals))


register(
    Op(
        name="round",
        doc="""``round(x, decimals=0)``: round half to even (banker's rounding), as numpy.round:
    ``x * 10**d`` is rounded with rint, then divided by ``10**d`` (for negative ``d``:
    divided, rounded, multiplied). So ``round(2.5) = 2.0`` and ``round(0.125, 2) = 0.12``.
    The result is a float. Null rule: propagate. Tolerance: exact.""",
        args=(NUMERIC,),
        float_args=True,
        dtype_rule=fixed(DType.FLOAT),
        params={"decimals": Param("int", default=0, min=-15, max=15, doc="digits after the point")},
        batch=_round,
        row=lambda ctx, a, p, s, t: f"_round({a[0]}, {int(p.decimals)})",
        test_params=({}, {"decimals": 2}, {"decimals": -1}),
    )
)


# ----------------------------------------------------------------------- clip


def _clip_analyzer(p: Params, dtype: DType):
    if p.lower_pct is None and p.upper_pct is None:
        return None
    return quantile_analyzer(tuple(q for q in (p.lower_pct, p.upper_pct) if q is not None), p)


def _clip_state(fitted: dict, p: Params) -> dict:
    values = list(fitted["values"] or [])
    lower = values.pop(0) if p.lower_pct is not None and values else None
    upper = values.pop(0) if p.upper_pct is not None and values else None
    return {"lower": lower, "upper": upper, "count": fitted["count"]}


def _clip_bounds(p: Params, s: dict | None) -> tuple[float | None, float | None]:
    lower = p.lower if p.lower is not None else (s or {}).get("lower")
    upper = p.upper if p.upper is not None else (s or {}).get("upper")
    return lower, upper


def _clip(args, p, s):
    lower, upper = _clip_bounds(p, s)
    v = args[0].values
    with errstate():
        if lower is not None:
            v = np.where(np.isnan(v) | (v > lower), v, lower)
        if upper is not None:
            v = np.where(np.isnan(v) | (v < upper), v, upper)
    return v


def _clip_row(ctx, a, p, s, t):
    lower, upper = _clip_bounds(p, s)
    x = a[0]
    if lower is not None:  # numpy.clip's comparisons: max(x, lo) then min(., hi), NaN kept
        lo = ctx.lit(lower)
        x = f"({x} if ({x} != {x} or {x} > {lo}) else {lo})"
    if upper is not None:
        hi = ctx.lit(upper)
        x = f"(_c if ((_c := {x}) != _c or _c < {hi}) else {hi})"
    return x


def _validate_clip(p: Params) -> None:
    if p.lower is not None and p.lower_pct is not None or p.upper is not None and p.upper_pct is not None:
        raise ValueError("give either a fixed bound or a percentile bound per side, not both")
    if p.lower is not None and p.upper is not None and p.lower > p.upper:
        raise ValueError(f"lower ({p.lower:g}) must not exceed upper ({p.upper:g})")
    if p.lower_pct is not None and p.upper_pct is not None and p.lower_pct > p.upper_pct:
        raise ValueError(f"lower_pct ({p.lower_pct:g}) must not exceed upper_pct ({p.upper_pct:g})")
    if p.approx is not None and p.lower_pct is None and p.upper_pct is None:
        raise ValueError("approx applies to fitted bounds only: add lower_pct= or upper_pct=, or remove approx")


_PCT = Param("number", default=None, min=0.0, max=100.0)
register(
    Op(
        name="clip",
        skew_role="bound",
        doc=f"""``clip(x, lower=, upper=)`` or with fitted bounds ``clip(x, lower_pct=1, upper_pct=99)``.

    Formula: ``min(max(x, lower), upper)`` as numpy.clip computes it: NaN stays NaN, and a
    value equal to a bound becomes the bound (so ``-0.0`` clipped at ``0.0`` gives ``0.0``).
    Fitted bounds are ``numpy.percentile(x, pct)`` (linear, R-7) over the non-null training
    values. Empty fit: that side is not clipped. Always float. Null rule: propagate.
    {APPROX_DOC}
    Tolerance: exact.""",
        args=(NUMERIC,),
        float_args=True,
        dtype_rule=fixed(DType.FLOAT),
        params={
            "lower": Param("number", default=None),
            "upper": Param("number", default=None),
            "lower_pct": _PCT,
            "upper_pct": _PCT,
            "approx": APPROX,
        },
        analyzer=_clip_analyzer,
        state_from=_clip_state,
        batch=_clip,
        row=_clip_row,
        state_schema=StateSchema(
            {"lower": Field("float", nullable=True), "upper": Field("float", nullable=True), "count": Field("count")}
        ),
        check_params=_validate_clip,
        test_params=(
            {"lower": 0.0},
            {"lower": -1.5, "upper": 2.0},
            {"lower_pct": 1.0, "upper_pct": 99.0},
            {"lower_pct": 5.0, "upper_pct": 95.0, "approx": 0.01},
        ),
    )
)


# ----------------------------------------------------------------------- fitted scalers


def _scale(args, center: float, scale: float):
    with errstate():
        return (args[0].values - center) / scale


def _scale_row(ctx, x: str, center: float, scale: float) -> str:
    """Row code of ``(x - center) / scale``; ``x - 0.0`` is ``x`` for every float (-0.0 too),
    so a zero center is left out.

    >>> from featurekit.compile.row import RowContext
    >>> _scale_row(RowContext(), "v", 0.0, 2.0), _scale_row(RowContext(), "v", -0.0, 2.0)
    ('(v / 2.0)', '((v - (-0.0)) / 2.0)')
    """
    if center == 0.0 and math.copysign(1.0, center) > 0:
        return f"({x} / {ctx.lit(scale)})"
    return f"(({x} - {ctx.lit(center)}) / {ctx.lit(scale)})"


def _zscore_state(fitted: dict, p: Params) -> dict:
    mean = fitted["mean"] if fitted["mean"] is not None else 0.0
    std = fitted["std"]
    return {"mean": mean, "std": 1.0 if std is None or std == 0.0 else std, "count": fitted["count"]}


register(
    Op(
        name="zscore",
        affine_state=("mean", "std"),
        skew_role="scale",
        doc="""``zscore(x)``: ``(x - mean) / std`` with the training mean and **population** std
    (ddof=0) of the non-null values, both computed exactly (correctly rounded from exact
    sums), so any chunking or partitioning of the fit gives the same state.

    A std of 0, and an empty fit, use std 1.0 (an empty fit also uses mean 0.0: the input
    passes through unscaled). Null rule: propagate. Always float. Tolerance: exact.""",
        args=(NUMERIC,),
        float_args=True,
        dtype_rule=fixed(DType.FLOAT),
        analyzer=lambda p, t: AnalyzerRef("MeanVar"),
        state_from=_zscore_state,
        state_schema=StateSchema(
            {"mean": Field("float"), "std": Field("float", nonzero=True), "count": Field("count")}
        ),
        batch=lambda args, p, s: _scale(args, s["mean"], s["std"]),
        row=lambda ctx, a, p, s, t: _scale_row(ctx, a[0], s["mean"], s["std"]),
    )
)


def _minmax_state(fitted: dict, p: Params) -> dict:
    lo, hi = fitted["min"], fitted["max"]
    if lo is None:
        return {"min": 0.0, "range": 1.0, "count": 0}
    span = float(hi) - float(lo)
    return {"min": float(lo), "range": 1.0 if span == 0.0 else span, "count": fitted["count"]}


register(
    Op(
        name="minmax",
        affine_state=("min", "range"),
        skew_role="scale",
        doc="""``minmax(x)``: ``(x - min) / (max - min)`` with training min and max, in float64.

    Not clipped: serving values outside the training range fall outside [0, 1]. A zero
    range, and an empty fit, use range 1.0 (empty fit: min 0.0). Null rule: propagate.
    Tolerance: exact.""",
        args=(NUMERIC,),
        float_args=True,
        dtype_rule=fixed(DType.FLOAT),
        analyzer=lambda p, t: AnalyzerRef("MinMax"),
        state_from=_minmax_state,
        state_schema=StateSchema(
            {"min": Field("float"), "range": Field("float", nonzero=True), "count": Field("count")}
        ),
        batch=lambda args, p, s: _scale(args, s["min"], s["range"]),
        row=lambda ctx, a, p, s, t: _scale_row(ctx, a[0], s["min"], s["range"]),
    )
)


def _robust_state(fitted: dict, p: Params) -> dict:
    values = fitted["values"]
    if not values:
        return {"median": 0.0, "iqr": 1.0, "count": 0}
    q1, med, q3 = values
    iqr = q3 - q1
    return {"median": med, "iqr": 1.0 if iqr == 0.0 or iqr != iqr else iqr, "count": fitted["count"]}


register(
    Op(
        name="robust_scale",
        affine_state=("median", "iqr"),
        doc=f"""``robust_scale(x, approx=)``: ``(x - median) / (q75 - q25)`` with training percentiles
    (numpy.percentile, linear). A zero IQR, and an empty fit, use 1.0 (empty fit: median
    0.0). Null rule: propagate.
    {APPROX_DOC}
    Tolerance: exact.""",
        args=(NUMERIC,),
        float_args=True,
        dtype_rule=fixed(DType.FLOAT),
        params={"approx": APPROX},
        analyzer=lambda p, t: quantile_analyzer((25.0, 50.0, 75.0), p),
        state_from=_robust_state,
        state_schema=StateSchema(
            {"median": Field("float"), "iqr": Field("float", nonzero=True), "count": Field("count")}
        ),
        batch=lambda args, p, s: _scale(args, s["median"], s["iqr"]),
        row=lambda ctx, a, p, s, t: _scale_row(ctx, a[0], s["median"], s["iqr"]),
        test_params=({}, {"approx": 0.01}),
    )
)


# ----------------------------------------------------------------------- bucketize


def _bucket_analyzer(p: Params, dtype: DType):
    if p.edges is not None:
        return None
    return quantile_analyzer(tuple(p.quantiles), p)


def _bucket_edges(p: Params, s: dict | None) -> list[float]:
    return list(p.edges) if p.edges is not None else list((s or {}).get("edges") or [])


def _validate_bucketize(p: Params) -> None:
    if (p.edges is None) == (p.quantiles is None):
        raise ValueError("give exactly one of edges=[...] (fixed) or quantiles=[...] (fitted percentiles)")
    bounds = p.edges if p.edges is not None else p.quantiles
    if list(bounds) != sorted(bounds):
        raise ValueError(f"edges/quantiles must be ascending; got {list(bounds)}")
    if p.approx is not None and p.edges is not None:
        raise ValueError("approx applies to fitted edges only: use quantiles=[...], or remove approx")


def _bucketize(args, p, s):
    edges = np.asarray(_bucket_edges(p, s), dtype=np.float64)
    return np.searchsorted(edges, args[0].values, side="right").astype(np.int64)


register(
    Op(
        name="bucketize",
        skew_role="bound",
        doc=f"""``bucketize(x, edges=[...])`` or ``bucketize(x, quantiles=[10, 20, ..., 90])``.

    Result: the number of edges ``<= x`` (``bisect_right`` / ``searchsorted(side="right")``),
    an int from 0 to ``len(edges)``: each bucket includes its lower edge and excludes its
    upper edge. Fitted edges are numpy.percentile (linear) of the non-null training values;
    **duplicates are kept**, so some bucket ids may never occur; NaN edges (percentiles of
    training data with infinities) are dropped. A NaN input sorts after every edge
    (``len(edges)``). Empty fit: no edges, every value is bucket 0. Null rule: propagate.
    {APPROX_DOC}
    Tolerance: exact.""",
        args=(NUMERIC,),
        float_args=True,
        dtype_rule=fixed(DType.INT),
        params={
            "edges": Param("numbers", default=None),
            "quantiles": Param("numbers", default=None, min=0.0, max=100.0),
            "approx": APPROX,
        },
        analyzer=_bucket_analyzer,
        check_params=_validate_bucketize,
        int_range=bounded(0, 2**31),
        # bisect (row) and searchsorted (batch) agree only on ordered edges without NaN; at most one
        # edge per quantile keeps the result within int_range
        state_schema=StateSchema(
            {"edges": Field("floats", no_nan=True, ascending=True), "count": Field("count")},
            rule=lambda s, p: (
                None
                if len(s["edges"]) <= len(p.quantiles)
                else f"field 'edges' has {len(s['edges'])} edges for {len(p.quantiles)} quantiles"
            ),
        ),
        # a percentile of data with infinities can be NaN (inf - inf); such edges are dropped so
        # bisect (row) and searchsorted (batch) see the same ordered edges
        state_from=lambda f, p: {"edges": [e for e in (f["values"] or []) if e == e], "count": f["count"]},
        batch=_bucketize,
        row=lambda ctx, a, p, s, t: f"bisect_right({ctx.const(tuple(_bucket_edges(p, s)))}, {a[0]})",
        test_params=(
            {"edges": [0.0, 1.0, 2.5]},
            {"quantiles": [25.0, 50.0, 75.0]},
            {"quantiles": [10.0, 50.0, 90.0], "approx": 0.001},
        ),
    )
)
