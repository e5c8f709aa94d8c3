"""Exact minimum and maximum.

Algorithm
---------
``min``/``max`` form a commutative, associative, idempotent monoid (a semilattice), so the
accumulator ``(count, min, max)`` merges exactly for any partitioning and merge tree (the
classic combiner example, e.g. Dean & Ghemawat 2004, "MapReduce").  Batches are reduced with
``numpy.min``/``numpy.max`` (numbers) and ``pyarrow.compute.min_max`` (strings).

Ordering
--------
* floats: NaN is ignored (``nan_count``); ``+-inf`` are values; ``-0.0`` and ``+0.0`` are
  ordered by IEEE totalOrder (``-0.0 < +0.0``), so the sign of a zero extremum does not depend
  on which partition saw which zero (``numpy.min`` returns either, depending on order);
* ints: exact int64 (returned as Python ``int``, exact beyond 2**53);
* bool: ``False < True``; strings: Unicode code point order (= UTF-8 byte order, which is
  what ``pyarrow.compute.min_max`` uses, and Python's ``str`` order).

Numeric kinds promote like ``numpy.concatenate`` (``bool < int < float``; rounding to float64
is monotone, so the extrema of the promoted data are the promoted extrema).

State: ``{"count": int, "min": value | None, "max": value | None}`` (``None`` when empty).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pyarrow.compute as pc

from featurekit.analyzers.base import Analyzer, coerce_values, from_json, promote_kinds, to_json

__all__ = ["MinMax", "MinMaxAcc"]


@dataclass(frozen=True)
class MinMaxAcc:
    """Count and extrema of the non-NaN values seen (``kind`` None = none yet)."""

    kind: str | None = None
    count: int = 0
    min: Any = None
    max: Any = None
    nan_count: int = 0


def _convert(value: Any, kind: str) -> Any:
    if kind == "float":
        return float(np.float64(value))  # int64 -> float64 exactly as numpy rounds
    if kind == "int":
        return int(value)
    return value


def _float_lt(a: float, b: float) -> bool:
    """IEEE totalOrder on non-NaN floats (-0.0 < +0.0)."""
    if a == b:
        return math.copysign(1.0, a) < math.copysign(1.0, b)
    return a < b


def _lt(a: Any, b: Any, kind: str) -> bool:
    return _float_lt(a, b) if kind == "float" else a < b


def _batch_acc(values: Any) -> MinMaxAcc:
    kind, arr = coerce_values(values)
    if kind is None:
        return MinMaxAcc()
    if kind == "str":
        mm = pc.min_max(arr)
        return MinMaxAcc("str", len(arr), mm["min"].as_py(), mm["max"].as_py())
    if kind == "float":
        nan = np.isnan(arr)
        n_nan = int(np.count_nonzero(nan))
        if n_nan:
            arr = arr[~nan]
        if arr.size == 0:
            return MinMaxAcc(None, 0, None, None, n_nan)
        lo = float(arr.min())
        hi = float(arr.max())
        if lo == 0.0 or hi == 0.0:
            zeros = arr[arr == 0.0]
            neg = np.signbit(zeros)
            if lo == 0.0:
                lo = -0.0 if neg.any() else 0.0
            if hi == 0.0:
                hi = 0.0 if not neg.all() else -0.0
        return MinMaxAcc("float", int(arr.size), lo, hi, n_nan)
    if kind == "bool":
        return MinMaxAcc("bool", int(arr.size), bool(arr.min()), bool(arr.max()))
    return MinMaxAcc("int", int(arr.size), int(arr.min()), int(arr.max()))


@dataclass(frozen=True)
class MinMax(Analyzer[MinMaxAcc]):
    """Exact count / min / max.  State: ``{"count", "min", "max"}`` (None when empty)."""

    exact_merge: ClassVar[bool] = True

    def create(self) -> MinMaxAcc:
        return MinMaxAcc()

    def update(self, acc: MinMaxAcc, values: Any) -> MinMaxAcc:
        return self.merge([acc, _batch_acc(values)])

    def merge(self, accs: Sequence[MinMaxAcc]) -> MinMaxAcc:
        kind = None
        for a in accs:
            kind = promote_kinds(kind, a.kind)
        nan_count = sum(a.nan_count for a in accs)
        lo = hi = None
        count = 0
        for a in accs:
            if a.kind is None:
                continue
            count += a.count
            assert kind is not None  # promoted from a.kind, which is set
            amin, amax = _convert(a.min, kind), _convert(a.max, kind)
            if lo is None or _lt(amin, lo, kind):
                lo = amin
            if hi is None or _lt(hi, amax, kind):
                hi = amax
        return MinMaxAcc(kind, count, lo, hi, nan_count)

    def finalize(self, acc: MinMaxAcc) -> dict:
        if acc.kind is None:
            return {"count": 0, "min": None, "max": None}
        return {"count": acc.count, "min": acc.min, "max": acc.max}

    def acc_to_json(self, acc: MinMaxAcc) -> Any:
        return to_json(
            {
                "kind": acc.kind,
                "count": acc.count,
                "min": acc.min,
                "max": acc.max,
                "nan_count": acc.nan_count,
            }
        )

    def acc_from_json(self, data: Any) -> MinMaxAcc:
        data = from_json(data)
        kind = data["kind"]
        lo, hi = data["min"], data["max"]
        if kind == "float":
            lo, hi = float(lo), float(hi)
        return MinMaxAcc(kind, int(data["count"]), lo, hi, int(data["nan_count"]))
