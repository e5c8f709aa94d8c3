"""Exact value counts (frequency table), with vocabulary and mode helpers.

Algorithm
---------
The accumulator is the exact frequency table (sorted distinct values and their counts), a
commutative monoid under "add counts of equal keys" (the word-count combiner of Dean &
Ghemawat 2004, "MapReduce"), so merging is exact for any partitioning and merge tree.
Batches are counted with ``pyarrow.compute.value_counts`` (strings) or ``numpy.unique``
(numbers); merges concatenate and re-aggregate (``pyarrow`` group-by for strings, a stable
sort + ``numpy.add.reduceat`` for numbers).  Memory is O(number of distinct values).

Values
------
* strings (pyarrow ``string``/``large_string``): sorted by Unicode code point (UTF-8 byte
  order, identical to Python ``str`` ordering);
* int64 exact; bool with ``False < True``; numeric kinds promote like ``numpy.concatenate``
  (``bool < int < float``; distinct ints that round to the same float64 merge);
* float64: NaN is ignored (``nan_count``), ``+-inf`` are values, and ``-0.0`` is counted as
  ``+0.0`` (they compare equal, as in Python dict lookups and pandas ``value_counts``).

State: ``{"count": int, "counts": [[value, count], ...]}`` sorted by value ascending; the
pairs form is used because JSON object keys can only be strings (floats go through
:mod:`featurekit.values.codec`, which tags ``inf``).

The pure helpers :func:`vocabulary` and :func:`mode` work on that finalized state (or directly
on its ``counts`` list).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from featurekit.analyzers.base import (
    Analyzer,
    aggregate_sorted,
    coerce_values,
    from_json,
    promote_kinds,
    to_json,
)

__all__ = ["ValueCounts", "ValueCountsAcc", "vocabulary", "mode"]

_NUMPY_DTYPES = {"bool": np.bool_, "int": np.int64, "float": np.float64}


@dataclass(frozen=True, eq=False)
class ValueCountsAcc:
    """Sorted distinct values and counts.

    ``values`` is a numpy array (kind ``"bool"``/``"int"``/``"float"``) or a pyarrow
    ``large_string`` array (kind ``"str"``); ``counts`` is int64.  ``kind`` None = no values.
    """

    kind: str | None = None
    values: Any = field(default_factory=lambda: np.empty(0, dtype=np.float64))
    counts: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    nan_count: int = 0

    @property
    def count(self) -> int:
        return int(self.counts.sum()) if len(self.counts) else 0


def _sort_strings(values: pa.Array, counts: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    order = pc.sort_indices(values)  # binary (UTF-8 byte) order == code point order
    return values.take(order), counts[order.to_numpy()]


def _batch_acc(values: Any) -> ValueCountsAcc:
    kind, arr = coerce_values(values)
    if kind is None:
        return ValueCountsAcc()
    if kind == "str":
        vc = pc.value_counts(arr)
        vals = vc.field("values").cast(pa.large_string())
        counts = vc.field("counts").to_numpy().astype(np.int64)
        vals, counts = _sort_strings(vals, counts)
        return ValueCountsAcc("str", vals, counts, 0)
    if kind == "bool":
        n_true = int(np.count_nonzero(arr))
        c = np.array([arr.size - n_true, n_true], dtype=np.int64)
        keep = c > 0
        return ValueCountsAcc("bool", np.array([False, True])[keep], c[keep], 0)
    n_nan = 0
    if kind == "float":
        nan = np.isnan(arr)
        n_nan = int(np.count_nonzero(nan))
        if n_nan:
            arr = arr[~nan]
        if arr.size == 0:
            return ValueCountsAcc(None, nan_count=n_nan)
        arr = arr + 0.0  # -0.0 + 0.0 == +0.0: count both zeros as +0.0
    v, c = np.unique(arr, return_counts=True)
    return ValueCountsAcc(kind, v, c.astype(np.int64), n_nan)


def _merge(accs: Sequence[ValueCountsAcc]) -> ValueCountsAcc:
    kind = None
    for a in accs:
        kind = promote_kinds(kind, a.kind)
    nan_count = sum(a.nan_count for a in accs)
    parts = [a for a in accs if a.kind is not None and len(a.values)]
    if kind is None or not parts:
        return ValueCountsAcc(None, nan_count=nan_count)
    if len(parts) == 1 and parts[0].kind == kind:
        p = parts[0]
        return ValueCountsAcc(kind, p.values, p.counts, nan_count)
    counts = np.concatenate([p.counts for p in parts])
    if kind == "str":
        vals = pa.concat_arrays([p.values for p in parts])
        grouped = pa.table({"v": vals, "c": counts}).group_by("v").aggregate([("c", "sum")])
        vals = grouped.column("v").combine_chunks()
        counts = grouped.column("c_sum").to_numpy().astype(np.int64)
        vals, counts = _sort_strings(vals, counts)
        return ValueCountsAcc("str", vals, counts, nan_count)
    dtype = _NUMPY_DTYPES[kind]
    keys = np.concatenate([p.values.astype(dtype) for p in parts])
    keys, counts = aggregate_sorted(keys, counts)
    return ValueCountsAcc(kind, keys, counts, nan_count)


@contextlib.contextmanager
def _gc_paused():
    """Pause the cyclic GC while allocating many acyclic containers (pure speed-up)."""
    enabled = gc.isenabled()
    if enabled:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _values_list(acc: ValueCountsAcc) -> list:
    if acc.kind == "str":
        return acc.values.to_pylist()
    return acc.values.tolist()


@dataclass(frozen=True)
class ValueCounts(Analyzer[ValueCountsAcc]):
    """Exact frequency table.  State: ``{"count": int, "counts": [[value, count], ...]}``."""

    exact_merge: ClassVar[bool] = True

    def create(self) -> ValueCountsAcc:
        return ValueCountsAcc()

    def update(self, acc: ValueCountsAcc, values: Any) -> ValueCountsAcc:
        return _merge([acc, _batch_acc(values)])

    def merge(self, accs: Sequence[ValueCountsAcc]) -> ValueCountsAcc:
        return _merge(list(accs))

    def finalize(self, acc: ValueCountsAcc) -> dict:
        if acc.kind is None:
            return {"count": 0, "counts": []}
        values, counts = _values_list(acc), acc.counts.tolist()
        with _gc_paused():  # building 10**6 small lists otherwise triggers repeated GC passes
            pairs = [[v, c] for v, c in zip(values, counts)]
        return {"count": acc.count, "counts": pairs}

    def acc_to_json(self, acc: ValueCountsAcc) -> Any:
        values = _values_list(acc) if acc.kind is not None else []
        return to_json(
            {
                "kind": acc.kind,
                "values": values,
                "counts": acc.counts.tolist(),
                "nan_count": acc.nan_count,
            }
        )

    def acc_from_json(self, data: Any) -> ValueCountsAcc:
        data = from_json(data)
        kind = data["kind"]
        counts = np.asarray(data["counts"], dtype=np.int64).reshape(-1)
        if kind is None:
            return ValueCountsAcc(None, nan_count=int(data["nan_count"]))
        if kind == "str":
            values = pa.array(data["values"], type=pa.large_string())
        else:
            values = np.asarray(data["values"], dtype=_NUMPY_DTYPES[kind]).reshape(-1)
        return ValueCountsAcc(kind, values, counts, int(data["nan_count"]))


# ----------------------------------------------------------------------------- helpers


def _pairs(counts: Any) -> list:
    if isinstance(counts, dict):
        counts = counts["counts"]
    return [(v, int(c)) for v, c in counts]


def vocabulary(
    counts: Any,
    *,
    top_k: int | None = None,
    min_frequency: int = 1,
    order: Literal["frequency", "lexical"] = "frequency",
) -> list:
    """Select a vocabulary from finalized :class:`ValueCounts` state.

    ``counts`` is the finalized state dict or its ``"counts"`` list of ``[value, count]``.

    1. Keep values with ``count >= min_frequency``.
    2. Rank them by frequency: count descending, ties by value ascending.
    3. If ``top_k`` is given, keep the first ``top_k`` of that ranking.  This truncation is
       *always by frequency*, also for ``order="lexical"``.
    4. Return them in ``order``: ``"frequency"`` keeps the ranking of step 2;
       ``"lexical"`` sorts by value ascending (code point order for strings, numeric order
       for numbers, ``False < True``).

    So ``order="lexical", top_k=k`` means "the k most frequent values, listed in lexical
    order" (not "the first k values alphabetically").
    """
    if order not in ("frequency", "lexical"):
        raise ValueError(f"order must be 'frequency' or 'lexical', got {order!r}")
    if top_k is not None and top_k < 0:
        raise ValueError("top_k must be >= 0")
    kept = [(v, c) for v, c in _pairs(counts) if c >= min_frequency]
    kept.sort(key=lambda vc: vc[0])
    kept.sort(key=lambda vc: vc[1], reverse=True)  # stable: ties stay value-ascending
    if top_k is not None:
        kept = kept[:top_k]
    values = [v for v, _ in kept]
    if order == "lexical":
        values.sort()
    return values


def mode(counts: Any) -> Any:
    """Most frequent value of finalized :class:`ValueCounts` state (ties: smallest value).

    ``None`` when there are no values.
    """
    best = None
    best_count = 0
    for v, c in _pairs(counts):
        if c > best_count or (c == best_count and c > 0 and v < best):
            best, best_count = v, c
    return best
