"""Exact quantiles / median, bit-identical to ``numpy.percentile`` / ``numpy.median``.

Algorithm
---------
Exact mode: the accumulator is the *empirical distribution* of the data, i.e. the sorted
distinct values with their multiplicities (a sorted histogram).  ``update`` aggregates a
batch with ``numpy.unique``; ``merge`` concatenates and re-aggregates (a stable sort of
already sorted runs, near linear).  The multiset of values is independent of how the data
were partitioned, so the accumulator, and therefore the result, is identical for any
chunking and merge tree.  Memory is O(number of distinct values), not O(rows): constant
for low-cardinality columns, O(n) in the worst case (all values distinct).  No sketch
(t-digest, KLL, GK) is used, so there is no approximation error.

``finalize`` evaluates NumPy's ``method="linear"`` (Hyndman & Fan 1996, definition 7) on the
weighted form without materialising the ``n`` values: the order statistics at positions
``floor(h)`` and ``floor(h) + 1`` of ``h = (n - 1) * q`` are found by ``searchsorted`` on the
cumulative counts, and the interpolation replays NumPy's own code path operation for
operation in the same dtypes (``numpy/lib/_function_base_impl.py``: ``_quantile``,
``_get_indexes``, ``_get_gamma``, ``_lerp``):

* ``q = percentiles / 100``; ``virtual = (n - 1) * q``; ``prev = floor(virtual)``,
  ``next = prev + 1``; where ``virtual >= n - 1`` both become index ``-1`` (the maximum);
* ``gamma = virtual - prev`` (note: ``prev`` is ``-1`` there, as in NumPy);
* ``_lerp(a, b, t) = a + (b - a) * t``, replaced by ``b - (b - a) * (1 - t)`` where
  ``t >= 0.5``.  For int64 data ``b - a`` is computed in int64 exactly as NumPy does
  (including NumPy's silent wrap-around when it overflows, ``|b - a| >= 2**63``).

:class:`Median` replays ``numpy.median`` instead (the ``numpy.mean`` of the one or two middle
order statistics), which is what pandas and scikit-learn medians are built on.  It can
differ from ``numpy.percentile(x, 50)`` in the last bit (``(a + b) / 2`` versus
``b - (b - a) * 0.5``) and for huge values (``numpy.median([1e308, 1e308])`` is ``inf``).

Values and kinds
----------------
NaN is ignored (``nan_count``); ``+-inf`` are values (so results may be ``nan`` exactly
where NumPy's interpolation gives ``nan``, e.g. ``inf - inf``).  Float values are kept
distinct by bit pattern in IEEE totalOrder (``-0.0`` sorts before ``+0.0``), so the result is
deterministic; NumPy's introselect leaves the relative order of ``-0.0`` and ``+0.0``
unspecified, so when the data contain *both* zeros the *sign of a zero result* may differ
from a given ``numpy.percentile`` call (non-zero results cannot differ).  int64 data are
kept exactly (no rounding beyond 2**53 until interpolation, as in NumPy); bool data are
treated as int64 0/1 (``numpy.percentile`` rejects bool arrays); int and float batches
promote to float64 like ``numpy.concatenate``.  Strings are rejected.

States: ``Quantiles(p).finalize`` -> ``{"count": int, "values": [float, ...] | None}``;
``Median().finalize`` -> ``{"count": int, "median": float | None}`` (``None`` when empty).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from featurekit.analyzers.base import (
    Analyzer,
    aggregate_sorted,
    coerce_values,
    float_total_order_keys,
    floats_from_total_order_keys,
    from_json,
    promote_kinds,
    to_json,
)

__all__ = ["Quantiles", "Median", "SortedCountsAcc"]


@dataclass(frozen=True, eq=False)
class SortedCountsAcc:
    """Sorted distinct values and their counts (the exact empirical distribution).

    ``kind`` is ``None`` (no values yet), ``"int"`` (``values`` int64, ascending) or
    ``"float"`` (``values`` float64, distinct bit patterns in IEEE totalOrder, no NaN).
    """

    kind: str | None = None
    values: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.float64))
    counts: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    nan_count: int = 0

    @property
    def count(self) -> int:
        return int(self.counts.sum()) if self.counts.size else 0


def _batch_acc(values: Any) -> SortedCountsAcc:
    kind, arr = coerce_values(values)
    if kind is None:
        return SortedCountsAcc()
    if kind == "str":
        raise TypeError("quantiles need numeric values, got strings")
    if kind == "bool":
        kind, arr = "int", arr.astype(np.int64)
    if kind == "int":
        v, c = np.unique(arr, return_counts=True)
        return SortedCountsAcc("int", v, c.astype(np.int64), 0)
    nan = np.isnan(arr)
    n_nan = int(np.count_nonzero(nan))
    if n_nan:
        arr = arr[~nan]
    if arr.size == 0:
        return SortedCountsAcc(None, nan_count=n_nan)
    k, c = np.unique(float_total_order_keys(arr), return_counts=True)
    return SortedCountsAcc("float", floats_from_total_order_keys(k), c.astype(np.int64), n_nan)


def _merge(accs: Sequence[SortedCountsAcc]) -> SortedCountsAcc:
    kind = None
    for a in accs:
        kind = promote_kinds(kind, a.kind)
    nan_count = sum(a.nan_count for a in accs)
    parts = [a for a in accs if a.kind is not None and a.values.size]
    if kind is None or not parts:
        return SortedCountsAcc(None, nan_count=nan_count)
    if len(parts) == 1 and parts[0].kind == kind:
        p = parts[0]
        return SortedCountsAcc(kind, p.values, p.counts, nan_count)
    counts = np.concatenate([p.counts for p in parts])
    if kind == "int":
        keys, counts = aggregate_sorted(np.concatenate([p.values for p in parts]), counts)
        return SortedCountsAcc("int", keys, counts, nan_count)
    keys = np.concatenate([float_total_order_keys(p.values.astype(np.float64)) for p in parts])
    keys, counts = aggregate_sorted(keys, counts)
    return SortedCountsAcc("float", floats_from_total_order_keys(keys), counts, nan_count)


def _acc_to_json(acc: SortedCountsAcc) -> Any:
    return to_json(
        {
            "kind": acc.kind,
            "values": acc.values.tolist(),
            "counts": acc.counts.tolist(),
            "nan_count": acc.nan_count,
        }
    )


def _acc_from_json(data: Any) -> SortedCountsAcc:
    data = from_json(data)
    kind = data["kind"]
    dtype = np.int64 if kind == "int" else np.float64
    return SortedCountsAcc(
        kind,
        np.asarray(data["values"], dtype=dtype).reshape(-1),
        np.asarray(data["counts"], dtype=np.int64).reshape(-1),
        int(data["nan_count"]),
    )


def _order_statistics(acc: SortedCountsAcc, positions: np.ndarray) -> np.ndarray:
    """Values at 0-based ``positions`` of the sorted data (``-1`` = last), in acc's dtype."""
    cum = np.cumsum(acc.counts)
    n = int(cum[-1])
    pos = np.where(positions < 0, positions + n, positions)
    return acc.values[np.searchsorted(cum, pos, side="right")]


def _numpy_linear_percentiles(acc: SortedCountsAcc, q: np.ndarray) -> np.ndarray:
    """Replay ``numpy.percentile(data, q * 100, method="linear")`` (array ``q``) on ``acc``."""
    n = acc.count
    # numpy: method_props["get_virtual_index"](values_count, quantiles)
    virtual_indexes = np.asanyarray((n - 1) * q)
    # numpy: _get_indexes
    previous_indexes = np.floor(virtual_indexes)
    next_indexes = np.add(previous_indexes, 1)
    above = virtual_indexes >= n - 1
    if above.any():
        previous_indexes[above] = -1
        next_indexes[above] = -1
    below = virtual_indexes < 0
    if below.any():
        previous_indexes[below] = 0
        next_indexes[below] = 0
    previous_indexes = previous_indexes.astype(np.intp)
    next_indexes = next_indexes.astype(np.intp)
    previous = _order_statistics(acc, previous_indexes)
    nxt = _order_statistics(acc, next_indexes)
    # numpy: _get_gamma (fix_gamma is the identity for "linear")
    gamma = np.asanyarray(virtual_indexes - previous_indexes)
    gamma = np.asanyarray(gamma, dtype=virtual_indexes.dtype)
    # numpy: _lerp
    with np.errstate(all="ignore"):
        diff_b_a = nxt - previous
        lerp = np.add(previous, diff_b_a * gamma)
        np.subtract(nxt, diff_b_a * (1 - gamma), out=lerp, where=gamma >= 0.5, casting="unsafe", dtype=type(lerp.dtype))
    return lerp


def _normalize_percentiles(percentiles: Any) -> tuple[float, ...]:
    if isinstance(percentiles, (int, float, np.integer, np.floating)):
        percentiles = (percentiles,)
    out = []
    for p in percentiles:
        if isinstance(p, (bool, np.bool_)):
            raise TypeError("percentiles must be numbers in [0, 100]")
        f = float(p)
        if not (0.0 <= f <= 100.0):
            raise ValueError(f"percentiles must be in [0, 100], got {p!r}")
        out.append(f)
    return tuple(out)


class _SortedCountsAnalyzer(Analyzer[SortedCountsAcc]):
    """Shared plumbing of the order-statistic analyzers: an exact sorted (value, count) accumulator."""

    def create(self) -> SortedCountsAcc:
        return SortedCountsAcc()

    def update(self, acc: SortedCountsAcc, values: Any) -> SortedCountsAcc:
        return _merge([acc, _batch_acc(values)])

    def merge(self, accs: Sequence[SortedCountsAcc]) -> SortedCountsAcc:
        return _merge(list(accs))

    def acc_to_json(self, acc: SortedCountsAcc) -> Any:
        return _acc_to_json(acc)

    def acc_from_json(self, data: Any) -> SortedCountsAcc:
        return _acc_from_json(data)


@dataclass(frozen=True)
class Quantiles(_SortedCountsAnalyzer):
    """Exact percentiles (NumPy ``method="linear"``), ``percentiles`` in percent [0, 100].

    State: ``{"count": int, "values": [float, ...] | None}`` with ``values[i]`` bit-equal to
    ``numpy.percentile(all_non_nan_values, percentiles, method="linear")[i]``.
    """

    percentiles: tuple[float, ...]
    exact_merge: ClassVar[bool] = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "percentiles", _normalize_percentiles(self.percentiles))

    def finalize(self, acc: SortedCountsAcc) -> dict:
        n = acc.count
        if n == 0:
            return {"count": 0, "values": None}
        q = np.true_divide(np.asarray(self.percentiles, dtype=np.float64), 100)
        return {"count": n, "values": [float(v) for v in _numpy_linear_percentiles(acc, q).tolist()]}


@dataclass(frozen=True)
class Median(_SortedCountsAnalyzer):
    """Exact median, bit-equal to ``numpy.median`` of all non-NaN values.

    Shares the :class:`Quantiles` accumulator.  State: ``{"count": int, "median": float|None}``.
    """

    exact_merge: ClassVar[bool] = True

    def finalize(self, acc: SortedCountsAcc) -> dict:
        n = acc.count
        if n == 0:
            return {"count": 0, "median": None}
        half = n // 2
        positions = np.array([half] if n % 2 else [half - 1, half], dtype=np.intp)
        middle = _order_statistics(acc, positions)
        # numpy.median: ``mean(part[indexer])`` of the middle one or two order statistics.
        with np.errstate(all="ignore"):
            med = np.mean(middle)
        value = float(med)
        if math.isnan(value):
            value = math.nan
        return {"count": n, "median": value}
