"""Small shared pieces for op entries: type rules and batch helpers."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from featurekit._lazy import lazy
from featurekit.registry import AnalyzerRef, Param, Params
from featurekit.types import DType
from featurekit.values.column import Column

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc
else:
    np = lazy("numpy")
    pa = lazy("pyarrow")
    pc = lazy("pyarrow.compute")
    pd = lazy("pandas")

#: ``approx=ε`` of the quantile-based ops (default exact); bounds as in featurekit.analyzers.sketch.
APPROX = Param(
    "number",
    default=None,
    min=1e-4,
    max=0.5,
    keyed_at_default=False,
    doc="relative value error of a bounded-memory quantile sketch; default: exact",
)
APPROX_DOC = """``approx=ε`` (1e-4 to 0.5; default exact) fits in bounded memory with a declared
    relative value error: each fitted value is within ``ε·|q|`` of the exact ``q`` when the
    two training values it interpolates between have the same sign (across zero, within ε
    times the larger of them); zeros and infinities stay exact; any partitioning gives the
    same state (docs/scale.md)."""
#: ``bounded=C`` of the count-based ops (default exact).
BOUNDED = Param(
    "int",
    default=None,
    min=1,
    max=100_000_000,
    keyed_at_default=False,
    doc="track at most this many distinct values exactly (two passes); default: exact",
)
BOUNDED_DOC = """``bounded=C`` fits in bounded memory, in two passes: exact counts of the C values a
    count-min sketch ranks heaviest. Every value left out occurred at most ``count_bound``
    times (kept in the state), so every value seen more often has its exact count
    (docs/scale.md)."""


def quantile_analyzer(percentiles: tuple[float, ...], p: Params) -> AnalyzerRef:
    """Exact percentiles, or the sketch when ``approx`` is set."""
    if p.approx is None:
        return AnalyzerRef("Quantiles", percentiles)
    return AnalyzerRef("ApproxQuantiles", percentiles, p.approx)


def counts_analyzer(p: Params) -> AnalyzerRef:
    """Exact value counts, or the bounded two-pass counts when ``bounded`` is set."""
    return AnalyzerRef("ValueCounts") if p.bounded is None else AnalyzerRef("BoundedValueCounts", p.bounded)


def same_as_first(types: tuple[DType, ...], p: Params) -> DType:
    return types[0]


def fixed(dtype: DType) -> Callable[[tuple[DType, ...], Params], DType]:
    def rule(types: tuple[DType, ...], p: Params) -> DType:
        return dtype

    rule.__name__ = f"always_{dtype.value}"
    return rule


def never_null(nullable: tuple[bool, ...], p: Params, types: tuple[DType, ...], rng: Any = None) -> bool:
    return False


def always_maybe_null(nullable: tuple[bool, ...], p: Params, types: tuple[DType, ...], rng: Any = None) -> bool:
    return True


INT64 = (-(2**63), 2**63 - 1)


def fits_int64(rng: tuple[int, int] | None) -> bool:
    return rng is not None and INT64[0] <= rng[0] and rng[1] <= INT64[1]


def bounded(lo: int, hi: int) -> Callable[..., tuple[int, int]]:
    """An ``int_range`` rule for ops whose int result always lies in ``[lo, hi]``."""

    def rule(p: Params, ranges: tuple) -> tuple[int, int]:
        return (lo, hi)

    return rule


def union_range(p: Params, ranges: tuple) -> tuple[int, int] | None:
    """Range of an op that returns one of its int arguments (coalesce, if_else, impute)."""
    present = [r for r in ranges if r is not None]
    if not present or len(present) < len([r for r in ranges]):
        return None
    return (min(r[0] for r in present), max(r[1] for r in present))


def errstate() -> Any:
    """numpy error state for kernels that see garbage at null positions or IEEE edge values."""
    return np.errstate(all="ignore")


def np_bool(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A pyarrow boolean result as a numpy bool array (null -> False)."""

    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def map_distinct(arr: pa.Array, fn: Callable[[str], Any], dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    """Apply a Python function to each distinct string of ``arr`` and broadcast the results.

    Returns ``(values, is_none)``: ``fn`` returning None marks that position null. The work is
    proportional to the number of distinct values, and the very same Python function runs in
    the row path, so both paths agree by construction.
    """

    encoded = pc.dictionary_encode(pc.fill_null(arr, ""))
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    uniques = encoded.dictionary.to_pylist()
    results = [fn(u) for u in uniques]
    none = np.array([r is None for r in results], dtype=bool)
    filled = np.array([0 if r is None else r for r in results], dtype=dtype) if results else np.zeros(0, dtype)
    idx = encoded.indices.to_numpy(zero_copy_only=False)
    return filled[idx], none[idx]


#: Below this many values :func:`map_floats` calls the function per element without looking
#: for repeats first.
_SMALL = 64


def map_floats(fn: Callable[..., float], *arrays: np.ndarray) -> np.ndarray:
    """``fn`` element-wise over float64 arrays, calling the very scalar function the row path calls.

    This is how library math (``log``, ``exp``, ``sin``, ``pow``...) stays bit-identical
    between the paths on every CPU: numpy's SIMD kernels differ from the C library by 1 ULP on
    some inputs on some machines, so the batch path never uses them for these ops. ``fn`` runs
    once per distinct argument tuple, distinct by bit pattern so ``-0.0`` and ``0.0`` stay
    apart: hashing the bits costs a few per cent of one Python call per value, and real columns
    (ints, prices, clipped or imputed values, constants) repeat a lot. ``fn`` must accept every
    float64 (the values at null positions included).

    >>> import math
    >>> map_floats(math.copysign, np.array([1.0, 2.0, 1.0]), np.array([-0.0, 0.0, -0.0])).tolist()
    [-1.0, 2.0, -1.0]
    """
    cols = [np.ascontiguousarray(a, dtype=np.float64) for a in arrays]
    if len(cols[0]) <= _SMALL:
        return _call_each(fn, cols)
    codes, representative = _distinct_tuples(cols)
    return _call_each(fn, [c[representative] for c in cols])[codes]


def _call_each(fn: Callable[..., float], cols: list[np.ndarray]) -> np.ndarray:
    return np.fromiter(map(fn, *(c.tolist() for c in cols)), dtype=np.float64, count=len(cols[0]))


def _distinct_tuples(cols: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, representative)``: a code per position, equal exactly where every argument has
    the same bit pattern, and one position holding each code."""
    codes, _ = pd.factorize(cols[0].view(np.int64))
    for col in cols[1:]:
        part, uniques = pd.factorize(col.view(np.int64))
        codes = pd.factorize(codes * len(uniques) + part)[0]
    representative = np.empty(int(codes.max()) + 1 if len(codes) else 0, dtype=np.intp)
    representative[codes] = np.arange(len(codes))
    return codes, representative


def column(values: Any, null: np.ndarray | None = None) -> Column:
    return Column(values, null)
