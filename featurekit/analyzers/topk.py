"""Value counts in bounded memory: exact counts of the (at most) ``capacity`` heaviest values.

Algorithm (two passes over the data)
------------------------------------
1. A count-min sketch (Cormode & Muthukrishnan 2005): ``DEPTH`` rows of ``W`` exact integer
   counters, ``W`` the power of two ``>= 2·capacity`` (at least 1024).  Each value adds its
   count to one counter per row, chosen by a fixed hash (CRC-32 of the UTF-8 bytes and the
   byte length for strings, the int64 value for integers, mixed by SplitMix64); its
   *estimate* is the smallest of its counters, never below its true count.  Counters add,
   so the sketch is the same for every partitioning.
2. Exact counts of the ``capacity`` values that rank first by (estimate descending, value
   ascending).  That order depends on the value alone (the sketch is global), so each part
   keeps its own first ``capacity`` values and merges keep the first ``capacity`` of the
   union: a value kept globally ranks among the first ``capacity`` of every part it occurs
   in, so its count is complete (the bottom-k argument of KMV sketches).  The state is the
   same for every partitioning and merge tree.

Guarantee: every value *not* in the table occurred at most ``count_bound`` times, where
``count_bound`` is the smallest estimate among the kept values when some value was left out,
else 0 (the table is then the exact frequency table).  The kept counts are exact.  So every
value seen more than ``count_bound`` times is in the table with its exact count, and a top-k
selection from the table is the exact top k whenever its k-th count exceeds ``count_bound``.

Memory: pass 1 holds ``DEPTH·W`` int64 counters (about ``64·capacity`` bytes); pass 2 at
most ``capacity`` values with their counts and estimates, plus one batch's distinct values.

State: ``{"count": int, "counts": [[value, count], ...], "count_bound": int}``, pairs sorted
by value (the :class:`~featurekit.analyzers.counts.ValueCounts` form).

>>> import pyarrow as pa
>>> BoundedValueCounts(2).fit(pa.array(["a", "b", "a", "c", "a", "b"]))
{'count': 6, 'counts': [['a', 3], ['b', 2]], 'count_bound': 2}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from featurekit.analyzers.base import Analyzer, coerce_values, from_json, to_json

__all__ = ["BoundedValueCounts", "DEPTH", "sketch_width"]

#: Rows of the count-min sketch.
DEPTH = 4
_MIN_WIDTH = 1024
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def sketch_width(capacity: int) -> int:
    """Counters per sketch row: the power of two ``>= 2·capacity``, at least 1024.

    >>> sketch_width(10), sketch_width(100_000)
    (1024, 262144)
    """
    return max(_MIN_WIDTH, 1 << (2 * capacity - 1).bit_length())


def _distinct(kind: str, arr: Any) -> tuple[Any, np.ndarray]:
    """Distinct values of one batch (numpy array or pyarrow large_string) and their counts."""
    if kind == "str":
        vc = pc.value_counts(arr)
        return vc.field("values").cast(pa.large_string()), vc.field("counts").to_numpy().astype(np.int64)
    if kind == "float":
        arr = arr[~np.isnan(arr)] + 0.0  # NaN is not a value; -0.0 counts as +0.0 (as ValueCounts)
    values, counts = np.unique(arr, return_counts=True)
    return values, counts.astype(np.int64)


def _hashes(kind: str, values: Any) -> np.ndarray:
    """A 64-bit SplitMix64-mixed hash per value (deterministic on every platform)."""
    if kind == "str":
        from featurekit._kernels.strings import crc32

        crc = np.asarray(crc32(values), dtype=np.uint64)
        lengths = pc.binary_length(values).to_numpy(zero_copy_only=False).astype(np.uint64)
        z = crc | (lengths << np.uint64(32))
    else:  # int64 / float64 bits; bools as 0 / 1
        z = np.ascontiguousarray(values, dtype=np.float64 if kind == "float" else np.int64).view(np.uint64)
    with np.errstate(over="ignore"):
        z = z + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def _rows(h: np.ndarray, width: int) -> list[np.ndarray]:
    """Counter index of each hash in each sketch row (double hashing, Kirsch & Mitzenmacher)."""
    h1 = h & np.uint64(0xFFFF_FFFF)
    h2 = (h >> np.uint64(32)) | np.uint64(1)
    mask = np.uint64(width - 1)
    with np.errstate(over="ignore"):
        return [((h1 + np.uint64(i) * h2) & mask).astype(np.intp) for i in range(DEPTH)]


def _same_kind(a: str | None, b: str | None) -> str | None:
    if a is not None and b is not None and a != b:
        raise TypeError(f"bounded value counts take one value type; got {a!r} and {b!r} values")
    return a if a is not None else b


# ----------------------------------------------------------------------------- pass 1


@dataclass(frozen=True, eq=False)
class CountSketchAcc:
    """Count-min counters (``DEPTH x width`` int64) and the number of values counted."""

    kind: str | None
    table: np.ndarray
    n: int = 0


@dataclass(frozen=True)
class BoundedValueCounts(Analyzer[CountSketchAcc]):
    """Exact counts of the ``capacity`` heaviest values, in two passes (module docstring).

    This is pass 1 (the count-min sketch); :meth:`next_stage` returns pass 2.
    """

    capacity: int
    exact_merge: ClassVar[bool] = True
    passes: ClassVar[int] = 2

    def __post_init__(self) -> None:
        if isinstance(self.capacity, bool) or not isinstance(self.capacity, int) or self.capacity < 1:
            raise ValueError(f"capacity must be an int >= 1; got {self.capacity!r}")

    @property
    def width(self) -> int:
        return sketch_width(self.capacity)

    def create(self) -> CountSketchAcc:
        return CountSketchAcc(None, np.zeros((DEPTH, self.width), dtype=np.int64))

    def update(self, acc: CountSketchAcc, values: Any) -> CountSketchAcc:
        kind, arr = coerce_values(values)
        if kind is None:
            return acc
        kind = _same_kind(acc.kind, kind)
        assert kind is not None  # this batch's kind is set
        distinct, counts = _distinct(kind, arr)
        table = acc.table.copy()
        weights = counts.astype(np.float64)  # exact: a batch count is far below 2**53
        for row, idx in zip(table, _rows(_hashes(kind, distinct), self.width)):
            row += np.bincount(idx, weights=weights, minlength=self.width).astype(np.int64)
        return CountSketchAcc(kind, table, acc.n + int(counts.sum()))

    def merge(self, accs: Sequence[CountSketchAcc]) -> CountSketchAcc:
        out = self.create()
        kind = None
        for a in accs:
            kind = _same_kind(kind, a.kind)
        table = out.table
        for a in accs:
            table = table + a.table
        return CountSketchAcc(kind, table, sum(a.n for a in accs))

    def finalize(self, acc: CountSketchAcc) -> dict:
        """Pass 1's result (not a fitted state: it feeds :meth:`next_stage`)."""
        return {"kind": acc.kind, "count": acc.n, "table": acc.table}

    def next_stage(self, result: dict) -> TopCounts:
        return TopCounts(self.capacity, result["kind"], result["count"], result["table"])

    def acc_to_json(self, acc: CountSketchAcc) -> Any:
        return to_json({"kind": acc.kind, "table": acc.table.tolist(), "n": acc.n})

    def acc_from_json(self, data: Any) -> CountSketchAcc:
        data = from_json(data)
        table = np.asarray(data["table"], dtype=np.int64).reshape(DEPTH, self.width)
        return CountSketchAcc(data["kind"], table, int(data["n"]))


# ----------------------------------------------------------------------------- pass 2


@dataclass(frozen=True, eq=False)
class TopCountsAcc:
    """The kept values (numpy or pyarrow large_string), their exact counts and estimates.

    ``pruned`` records that some value was left out (more than ``capacity`` distinct values).
    """

    values: Any = None
    counts: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    estimates: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    pruned: bool = False


@dataclass(frozen=True, eq=False)
class TopCounts(Analyzer[TopCountsAcc]):
    """Pass 2 of :class:`BoundedValueCounts`: exact counts of the first ``capacity`` values by
    (sketch estimate descending, value ascending)."""

    capacity: int
    kind: str | None
    count: int
    table: np.ndarray
    exact_merge: ClassVar[bool] = True

    def _estimates(self, values: Any) -> np.ndarray:
        width = self.table.shape[1]
        assert self.kind is not None  # estimates are asked of sketches that counted values
        rows = _rows(_hashes(self.kind, values), width)
        return np.minimum.reduce([self.table[i][idx] for i, idx in enumerate(rows)])

    def _keep(self, values: Any, counts: np.ndarray, estimates: np.ndarray, pruned: bool) -> TopCountsAcc:
        n = len(counts)
        if n > self.capacity:
            if self.kind == "str":
                order = pc.sort_indices(
                    pa.table({"e": estimates, "v": values}), [("e", "descending"), ("v", "ascending")]
                )[: self.capacity]
                values = values.take(order)
                order = order.to_numpy()
            else:
                order = np.lexsort((values, -estimates))[: self.capacity]
                values = values[order]
            counts, estimates, pruned = counts[order], estimates[order], True
        return TopCountsAcc(values, counts, estimates, pruned)

    def create(self) -> TopCountsAcc:
        return TopCountsAcc()

    def update(self, acc: TopCountsAcc, values: Any) -> TopCountsAcc:
        kind, arr = coerce_values(values)
        if kind is None:
            return acc
        _same_kind(self.kind, kind)
        distinct, counts = _distinct(kind, arr)
        batch = self._keep(distinct, counts, self._estimates(distinct), False)
        return self.merge([acc, batch])

    def merge(self, accs: Sequence[TopCountsAcc]) -> TopCountsAcc:
        pruned = any(a.pruned for a in accs)
        parts = [a for a in accs if a.values is not None and len(a.counts)]
        if not parts:
            return TopCountsAcc(pruned=pruned)
        if len(parts) == 1:
            p = parts[0]
            return TopCountsAcc(p.values, p.counts, p.estimates, pruned)
        counts = np.concatenate([p.counts for p in parts])
        estimates = np.concatenate([p.estimates for p in parts])
        if self.kind == "str":
            grouped = (
                pa.table({"v": pa.concat_arrays([p.values for p in parts]), "c": counts, "e": estimates})
                .group_by("v")
                .aggregate([("c", "sum"), ("e", "max")])
            )
            values = grouped.column("v").combine_chunks()
            counts = grouped.column("c_sum").to_numpy().astype(np.int64)
            estimates = grouped.column("e_max").to_numpy().astype(np.int64)
        else:
            values, inverse = np.unique(np.concatenate([p.values for p in parts]), return_inverse=True)
            counts = np.bincount(inverse, weights=counts.astype(np.float64)).astype(np.int64)
            estimates = np.zeros(len(values), dtype=np.int64)
            np.maximum.at(estimates, inverse, np.concatenate([p.estimates for p in parts]))
        return self._keep(values, counts, estimates, pruned)

    def finalize(self, acc: TopCountsAcc) -> dict:
        if acc.values is None or not len(acc.counts):
            return {"count": self.count, "counts": [], "count_bound": 0}
        if self.kind == "str":
            order = pc.sort_indices(acc.values).to_numpy()
            values = acc.values.take(pa.array(order)).to_pylist()
        else:
            order = np.argsort(acc.values, kind="stable")
            values = acc.values[order].tolist()
        counts = acc.counts[order].tolist()
        bound = int(acc.estimates.min()) if acc.pruned else 0
        return {"count": self.count, "counts": [[v, c] for v, c in zip(values, counts)], "count_bound": bound}

    def acc_to_json(self, acc: TopCountsAcc) -> Any:
        values = [] if acc.values is None else (acc.values.to_pylist() if self.kind == "str" else acc.values.tolist())
        return to_json(
            {"values": values, "counts": acc.counts.tolist(), "estimates": acc.estimates.tolist(), "pruned": acc.pruned}
        )

    def acc_from_json(self, data: Any) -> TopCountsAcc:
        data = from_json(data)
        if not data["counts"]:
            return TopCountsAcc(pruned=bool(data["pruned"]))
        if self.kind == "str":
            values = pa.array(data["values"], type=pa.large_string())
        else:
            values = np.asarray(
                data["values"], dtype={"float": np.float64, "bool": np.bool_}.get(self.kind or "int", np.int64)
            )
        return TopCountsAcc(
            values,
            np.asarray(data["counts"], dtype=np.int64),
            np.asarray(data["estimates"], dtype=np.int64),
            bool(data["pruned"]),
        )
