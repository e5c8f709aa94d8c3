"""Quantiles in bounded memory with a declared relative value error (``approx=ε``).

Algorithm
---------
A DDSketch (Masson, Rim & Lee, "DDSketch: a fast and fully-mergeable quantile sketch with
relative-error guarantees", VLDB 2019) with *exact integer counts* and a log-linear bucket
mapping read off the bits of the float, as HdrHistogram does: a finite non-zero value's
bucket is its sign, its binary exponent and the top ``b`` bits of its mantissa.  A bucket is
therefore an interval ``[L, U)`` of magnitudes with ``L >= 2**e`` and ``U - L = 2**(e - b)``,
and its representative, the midpoint ``L + 2**(e - b - 1)`` (exactly representable), is
within ``α = 2**-(b + 1)`` of every value in it, relatively.  ``b`` is the smallest integer
with ``α <= ε·(1 - 2**-20)``; the slack absorbs the rounding of the interpolation below.
Subnormal magnitudes are bucketed the same way by their significant bits (computed on the
value times ``2**64``, exactly), so the relative bound holds down to the smallest subnormal;
zeros, ``+inf`` and ``-inf`` have buckets of their own and are exact.  No transcendental
function is used: the mapping is integer arithmetic on the bit pattern, identical on every
CPU.

The accumulator is the sorted bucket ordinals (an int64 whose order is the value order) with
exact counts.  ``merge`` adds counts of equal ordinals, so the accumulator, like the exact
one, is a function of the multiset of values only: every chunking, partitioning and merge
tree gives the identical state, bit for bit.

``finalize`` replays NumPy's ``method="linear"`` percentile (or ``numpy.median``) on the
representatives, weighted by the exact counts (:mod:`featurekit.analyzers.quantiles`).
Because the counts are exact, the order statistics ``x[j]`` and ``x[j+1]`` that NumPy
interpolates between are located in their buckets exactly, whatever the ties; only their
values are replaced by representatives.

Guarantee
---------
For percentile ``p`` let ``q`` be ``numpy.percentile(x, p)`` of the non-NaN values,
``q = x[j] + g·(x[j+1] - x[j])`` with ``j = floor((n-1)·p/100)`` and ``g`` its fraction
(for ``numpy.median`` of an even count, ``g = 1/2``).  Then the fitted ``q̂`` satisfies

* ``|q̂ - q| <= ε·((1-g)·|x[j]| + g·|x[j+1]|) + F`` when both neighbours are finite;
  when they have the same sign (a zero counts as either) the bracket is ``|q|``, so
  ``|q̂ - q| <= ε·|q| + F``; across zero (``x[j] < 0 < x[j+1]``) the error is relative to
  the neighbours, at most ``ε·max(|x[j]|, |x[j+1]|) + F``;
* a zero result is exact (``+0.0``), and where a neighbour is ``±inf`` ``q̂`` equals ``q``
  (the same infinity, or NaN where NumPy's interpolation gives NaN);
* ``F`` (``error_floor`` in the result) is ``0.0`` unless the bucket cap was reached.

Excluded, where exact mode's own arithmetic breaks down: int64 neighbours that differ by
``2**63`` or more (NumPy's int64 subtraction wraps), and neighbours with
``(|x[j]| + |x[j+1]|)·(1 + ε)`` beyond the largest float64 (NumPy's ``x[j+1] - x[j]``, or
``numpy.median``'s sum, overflows there or nearly; a sketch median of two finite values is
never ``inf``).

Memory and the cap
------------------
A column spanning magnitudes ``[m, M]`` needs at most ``2**b·(log2(M/m) + 1)`` buckets per
sign (``ε = 0.001``: ``b = 9``, 512 buckets per factor of two), 16 bytes each, whatever the
number of rows.  At most :data:`MAX_BUCKETS` distinct magnitude buckets are kept: beyond
that, the buckets of the *smallest* magnitudes are merged into one bucket per sign, below
the threshold ``τ`` (the lower edge of the smallest kept bucket), whose representative is
``±τ/2``; then ``F = τ/2``, an absolute error floor for values below ``τ``.  The
threshold is the cap-th largest magnitude bucket of the whole data, so merging at the cap
stays partition-invariant (a part's own threshold is never above the global one).

States: ``ApproxQuantiles(p, ε).finalize`` -> ``{"count", "values", "error_floor"}``;
``ApproxMedian(ε).finalize`` -> ``{"count", "median", "error_floor"}``.

>>> import numpy as np
>>> ApproxQuantiles((50.0,), 0.01).fit(np.array([1.0, 2.0, 3.0, 1000.0]))["values"]
[2.515625]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from featurekit.analyzers.base import Analyzer, aggregate_sorted, coerce_values, from_json, to_json
from featurekit.analyzers.quantiles import (
    Median,
    Quantiles,
    SortedCountsAcc,
    _normalize_percentiles,
    _order_statistics,
)

__all__ = ["ApproxQuantiles", "ApproxMedian", "SketchAcc", "MAX_BUCKETS", "EPS_MIN", "EPS_MAX", "mantissa_bits"]

#: Smallest and largest accepted ``approx=ε``.
EPS_MIN, EPS_MAX = 1e-4, 0.5
#: Most distinct magnitude buckets an accumulator keeps (per sign at most this many, 16 bytes
#: each); beyond it the smallest magnitudes share one bucket per sign (module docstring).
#: Used when an analyzer's ``max_buckets`` is None (the ops' case).
MAX_BUCKETS = 1 << 18

_INF_ORD = 1 << 62  # ordinal of +inf (-inf: its negative); finite ordinals stay below 2**28
_COLLAPSED = 1  # ordinal of the positive values below the cap threshold (negatives: -1)
_SUBNORMAL_BITS = 1 << 52  # bit patterns below this are zero or subnormal
_INF_BITS = 0x7FF0_0000_0000_0000
_SCALE = 2.0**64  # makes every subnormal a normal float, exactly
_SCALE_BUCKETS = 64  # binades that scaling shifts: subnormal keys lie below the normal ones
_BLOCK = 1 << 20  # values mapped at a time


def mantissa_bits(eps: float) -> int:
    """Mantissa bits ``b`` kept per bucket: the smallest with ``2**-(b+1) <= ε·(1 - 2**-20)``.

    >>> mantissa_bits(0.001), mantissa_bits(0.01), mantissa_bits(0.5)
    (9, 6, 1)
    """
    target = eps * (1.0 - 2.0**-20)
    b = 0
    while 2.0 ** -(b + 1) > target:
        b += 1
    return b


def _check_eps(eps: Any) -> float:
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.integer, np.floating)):
        raise TypeError(f"approx must be a number in [{EPS_MIN:g}, {EPS_MAX:g}]; got {eps!r}")
    eps = float(eps)
    if not EPS_MIN <= eps <= EPS_MAX:
        raise ValueError(f"approx must be in [{EPS_MIN:g}, {EPS_MAX:g}]; got {eps!r}")
    return eps


def _check_cap(cap: Any) -> None:
    if cap is None:
        return
    if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
        raise ValueError(f"max_buckets must be an int >= 1; got {cap!r}")


# ----------------------------------------------------------------------------- mapping


def bucket_ordinals(x: np.ndarray, b: int) -> np.ndarray:
    """The bucket ordinal of each non-NaN float64 value; ordinals sort like the values.

    ``0`` is zero (either sign), ``±(key + 1)`` a finite bucket of magnitude key ``key``
    (``>= 13·2**b``), ``±2**62`` infinity.

    >>> bucket_ordinals(np.array([-1.0, 0.0, 1.0, 1.01, 1.02, np.inf]), 6).tolist()
    [-69569, 0, 69569, 69569, 69570, 4611686018427387904]
    """
    shift = 52 - b
    a = np.abs(x)
    u = a.view(np.int64)
    key = (u >> shift) + (_SCALE_BUCKETS << b)
    small = u < _SUBNORMAL_BITS
    if small.any():
        key[small] = (a[small] * _SCALE).view(np.int64) >> shift
    ords = key + 1
    ords[u == 0] = 0
    ords[u == _INF_BITS] = _INF_ORD
    return np.where(np.signbit(x), -ords, ords)


def _bucket_bits(key: np.ndarray, b: int, mid: bool) -> np.ndarray:
    """Bit patterns of the lower edge (``mid=False``) or midpoint of magnitude buckets ``key``.

    Normal buckets: the kept bits, then zeros (edge) or a single one bit (midpoint). Subnormal
    buckets, in units of the smallest subnormal: ``sig·2**s`` for the kept significand ``sig``;
    where ``s <= 0`` the bucket holds exactly one value, which is returned for both.
    """
    shift = 52 - b
    out = np.empty(key.shape, dtype=np.int64)
    normal = key >= ((_SCALE_BUCKETS + 1) << b)
    if normal.any():
        out[normal] = (key[normal] - (_SCALE_BUCKETS << b)) << shift
        if mid:
            out[normal] |= 1 << (shift - 1)
    sub = ~normal
    if sub.any():
        k = key[sub]
        sig = (k & ((1 << b) - 1)) | (1 << b)
        s = (k >> b) - 13 - b  # 2**-1010 (the smallest subnormal scaled) has biased exponent 13
        up = np.clip(s, 0, None)
        down = np.clip(-s, 0, None)
        wide = (sig << up) + ((1 << np.clip(up - 1, 0, None)) if mid else 0)
        edge = np.where(s >= 1, wide, np.where(s == 0, sig, -(-sig >> down)))
        out[sub] = edge
    return out


def _representatives(ords: np.ndarray, b: int, floor_key: int | None) -> tuple[np.ndarray, float]:
    """Representative value of each ordinal, and the absolute error floor ``F``."""
    mag = np.abs(ords)
    reps = np.zeros(ords.shape, dtype=np.float64)
    finite = (mag > _COLLAPSED) & (mag < _INF_ORD)
    reps[finite] = _bucket_bits(mag[finite] - 1, b, mid=True).view(np.float64)
    reps[mag == _INF_ORD] = np.inf
    floor = 0.0
    if floor_key is not None:
        tau = float(_bucket_bits(np.array([floor_key], dtype=np.int64), b, mid=False).view(np.float64)[0])
        half = tau / 2
        # the slack covers the interpolation's rounding relative to tau/2; tau/2 itself rounds
        # only for a subnormal threshold
        floor = (half if half * 2 == tau else tau) * (1 + 2.0**-20)
        reps[mag == _COLLAPSED] = half
    return np.where(ords < 0, -reps, reps), floor


# ----------------------------------------------------------------------------- accumulator


@dataclass(frozen=True, eq=False)
class SketchAcc:
    """Sorted bucket ordinals with exact counts; ``floor_key`` is the cap threshold (or None)."""

    ordinals: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    counts: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    floor_key: int | None = None
    nan_count: int = 0

    @property
    def count(self) -> int:
        return int(self.counts.sum()) if self.counts.size else 0


def _capped(ords: np.ndarray, counts: np.ndarray, floor_key: int | None, cap: int) -> SketchAcc:
    """Apply the bucket cap: merge magnitude buckets below the cap-th largest into ``±1``.

    ``floor_key`` set means some part already reached the cap, which implies that at least
    ``cap`` distinct magnitudes are present here too.
    """
    mag = np.abs(ords)
    finite = (mag > _COLLAPSED) & (mag < _INF_ORD)
    keys = np.unique(mag[finite] - 1)
    if floor_key is None and keys.size <= cap:
        return SketchAcc(ords, counts)
    threshold = int(keys[-cap])
    low = finite & (mag - 1 < threshold)
    if low.any():
        ords = np.where(low, np.sign(ords) * _COLLAPSED, ords)
        ords, counts = aggregate_sorted(ords, counts)
    return SketchAcc(ords, counts, threshold)


def _batch_acc(values: Any, b: int, cap: int) -> SketchAcc:
    kind, arr = coerce_values(values)
    if kind is None:
        return SketchAcc(nan_count=0)
    if kind == "str":
        raise TypeError("quantiles need numeric values, got strings")
    arr = arr.astype(np.float64, copy=False)  # bool -> 0/1; int64 -> nearest float64, as numpy promotes
    nan = np.isnan(arr)
    n_nan = int(np.count_nonzero(nan))
    if n_nan:
        arr = arr[~nan]
    if arr.size == 0:
        return SketchAcc(nan_count=n_nan)
    # blocks bound the temporary memory (a few int64 arrays of one block) for any batch size
    blocks = []
    for start in range(0, arr.size, _BLOCK):
        ords, counts = np.unique(bucket_ordinals(arr[start : start + _BLOCK], b), return_counts=True)
        blocks.append(_capped(ords, counts.astype(np.int64), None, cap))
    acc = _merge(blocks, cap)
    return SketchAcc(acc.ordinals, acc.counts, acc.floor_key, n_nan)


def _merge(accs: Sequence[SketchAcc], cap: int) -> SketchAcc:
    nan_count = sum(a.nan_count for a in accs)
    parts = [a for a in accs if a.ordinals.size]
    if not parts:
        return SketchAcc(nan_count=nan_count)
    if len(parts) == 1:
        p = parts[0]
        return SketchAcc(p.ordinals, p.counts, p.floor_key, nan_count)
    ords, counts = aggregate_sorted(
        np.concatenate([p.ordinals for p in parts]), np.concatenate([p.counts for p in parts])
    )
    floors = [p.floor_key for p in parts if p.floor_key is not None]
    acc = _capped(ords, counts, max(floors) if floors else None, cap)
    return SketchAcc(acc.ordinals, acc.counts, acc.floor_key, nan_count)


class _SketchAnalyzer(Analyzer[SketchAcc]):
    """Shared plumbing of the sketch analyzers (``approx`` is ε)."""

    approx: float
    max_buckets: int | None
    exact_merge: ClassVar[bool] = True  # the *state* is partition-invariant; its values are approximate

    @property
    def bits(self) -> int:
        return mantissa_bits(self.approx)

    @property
    def cap(self) -> int:
        return MAX_BUCKETS if self.max_buckets is None else self.max_buckets

    def create(self) -> SketchAcc:
        return SketchAcc()

    def update(self, acc: SketchAcc, values: Any) -> SketchAcc:
        return _merge([acc, _batch_acc(values, self.bits, self.cap)], self.cap)

    def merge(self, accs: Sequence[SketchAcc]) -> SketchAcc:
        return _merge(list(accs), self.cap)

    def acc_to_json(self, acc: SketchAcc) -> Any:
        return to_json(
            {
                "ordinals": acc.ordinals.tolist(),
                "counts": acc.counts.tolist(),
                "floor_key": acc.floor_key,
                "nan_count": acc.nan_count,
            }
        )

    def acc_from_json(self, data: Any) -> SketchAcc:
        data = from_json(data)
        floor = data["floor_key"]
        return SketchAcc(
            np.asarray(data["ordinals"], dtype=np.int64).reshape(-1),
            np.asarray(data["counts"], dtype=np.int64).reshape(-1),
            None if floor is None else int(floor),
            int(data["nan_count"]),
        )

    def histogram(self, acc: SketchAcc) -> tuple[SortedCountsAcc, float]:
        """The representatives with their exact counts, as the exact analyzers' accumulator,
        and the error floor ``F``."""
        if not acc.ordinals.size:
            return SortedCountsAcc(nan_count=acc.nan_count), 0.0
        reps, floor = _representatives(acc.ordinals, self.bits, acc.floor_key)
        return SortedCountsAcc("float", reps, acc.counts, acc.nan_count), floor


@dataclass(frozen=True)
class ApproxQuantiles(_SketchAnalyzer):
    """Percentiles within relative value error ``approx`` (module docstring: the guarantee).

    State: ``{"count": int, "values": [float, ...] | None, "error_floor": float}``.
    """

    percentiles: tuple[float, ...]
    approx: float
    max_buckets: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "percentiles", _normalize_percentiles(self.percentiles))
        object.__setattr__(self, "approx", _check_eps(self.approx))
        _check_cap(self.max_buckets)

    def finalize(self, acc: SketchAcc) -> dict:
        hist, floor = self.histogram(acc)
        return {**Quantiles(self.percentiles).finalize(hist), "error_floor": floor}


@dataclass(frozen=True)
class ApproxMedian(_SketchAnalyzer):
    """``numpy.median`` within relative value error ``approx``.

    State: ``{"count": int, "median": float | None, "error_floor": float}``.
    """

    approx: float
    max_buckets: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "approx", _check_eps(self.approx))
        _check_cap(self.max_buckets)

    def finalize(self, acc: SketchAcc) -> dict:
        hist, floor = self.histogram(acc)
        state = Median().finalize(hist)
        if state["median"] is not None and math.isinf(state["median"]) and hist.count % 2 == 0:
            # two finite representatives whose sum overflows: halve first (the exact values
            # may not overflow, and the bound must hold wherever numpy.median is finite)
            half = hist.count // 2
            a, b = _order_statistics(hist, np.array([half - 1, half], dtype=np.intp)).tolist()
            if math.isfinite(a) and math.isfinite(b):
                state["median"] = a / 2 + b / 2
        return {**state, "error_floor": floor}
