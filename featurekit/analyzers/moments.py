"""Exact, partition-invariant mean and variance.

Algorithm
---------
The accumulator keeps *exact* sufficient statistics: the count, the exact sum
``S1 = sum(x)`` and the exact sum of squares ``S2 = sum(x*x)`` of the finite values (plus
counts of ``+inf``, ``-inf`` and ignored NaN).  Classical floating-point summation (naive,
pairwise, Welford/Chan's parallel update) is *not* associative, so two partitionings of the
same data give results differing in the last bits.  Exact sums are associative and
commutative, hence ``merge`` is exact for any chunking and any merge tree.

Representing exact sums.  The textbook tools are error-free transformations: Dekker's
TwoProduct (Dekker 1971, "A floating-point technique for extending the available
precision", Numer. Math. 18) writes ``x*x`` exactly as ``p + e`` of two doubles, and
Shewchuk's expansions (Shewchuk 1997, "Adaptive Precision Floating-Point Arithmetic and
Fast Robust Geometric Predicates", DCG 18; the algorithm behind ``math.fsum``) keep a sum
of doubles exactly as a list of non-overlapping partials.  We use the equivalent, simpler
to vectorise form of the same idea, a *long accumulator* (Kulisch & Miranker 1981): every
finite double is ``M * 2**(E - 1126)`` with a signed 53-bit integer mantissa ``M`` and
``0 <= E <= 2097`` (``numpy.frexp``; this covers subnormals), so

* ``S1`` is stored as one Python integer in units of ``2**-1126``;
* ``x*x = M*M * 2**(2E - 2252)`` is an exact integer product (it is the TwoProduct
  ``p + e`` written in integers, without TwoProduct's overflow / underflow caveats) and
  ``S2`` is stored as one Python integer in units of ``2**-2252``.

``update`` is vectorised: mantissas are split into <=27-bit limbs and summed per exponent
with ``numpy.bincount`` in float64, which is exact because every partial sum stays below
2**53 (batches are processed in slices of 2**24 values); only the <= 4196 per-exponent
totals are combined with Python integers.  ``merge`` adds integers.  ``finalize`` computes

* ``mean = S1 / n``           correctly rounded (Python int/int true division),
* ``var  = (n*S2 - S1**2) / n**2``  correctly rounded (population variance, ddof=0),
  which is ``>= 0`` exactly and overflows to ``inf`` only if the exact value does,
* ``std  = math.sqrt(var)``  (correctly rounded square root *of the rounded var*).

So mean/var are the correctly rounded values of the exact statistics of the data (e.g. the
mean of ``[1.7e308, 1.7e308]`` is ``1.7e308``, where ``numpy.mean`` overflows to ``inf``),
and they are bit-identical for any partitioning.

Non-finite and non-float input
------------------------------
NaN is ignored (``nan_count``).  ``+inf``/``-inf`` are values: the mean is ``nan`` if both
occur, else ``+inf``/``-inf``; var and std are ``nan`` whenever an infinity occurs.  int64
input is converted to float64 exactly as ``numpy`` does (``astype(float64)``: values beyond
2**53 round to nearest-even), bool as 0.0/1.0.  Empty input gives
``{"count": 0, "mean": None, "var": None, "std": None}``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from featurekit.analyzers.base import Analyzer, coerce_values

__all__ = ["MeanVar", "MomentsAcc"]

_S1_SHIFT = 1126  # S1 is in units of 2**-1126
_S2_SHIFT = 2252  # S2 is in units of 2**-2252
_N_EXP = 2098  # E in [0, 2097]
_MASK27 = np.int64((1 << 27) - 1)
_TWO53 = float(1 << 53)
_SLICE = 1 << 14  # per-slice float64 bincount partial sums < 2**42 (exact)
_FOLD = 1 << 16  # int64 bin accumulators stay < 2**58


@dataclass(frozen=True)
class MomentsAcc:
    """Exact sufficient statistics of the non-NaN values seen.

    ``s1``/``s2`` are exact integers: sum(x) = s1 * 2**-1126 and
    sum(x*x) = s2 * 2**-2252 over the finite values.
    """

    finite: int = 0
    pos_inf: int = 0
    neg_inf: int = 0
    nan_count: int = 0
    s1: int = 0
    s2: int = 0

    @property
    def count(self) -> int:
        return self.finite + self.pos_inf + self.neg_inf


def _combine_bins(limbs: Sequence[tuple[np.ndarray, int]]) -> int:
    """sum over exponent bins b of (sum_j limb_j[b] << shift_j) << b, as a Python int."""
    nz = limbs[0][0] != 0
    for arr, _ in limbs[1:]:
        nz |= arr != 0
    idx = np.flatnonzero(nz)
    if idx.size == 0:
        return 0
    cols = [(arr[idx].astype(np.int64).tolist(), shift) for arr, shift in limbs]
    total = 0
    for i, b in enumerate(idx.tolist()):
        v = 0
        for col, shift in cols:
            c = col[i]
            if c:
                v += c << shift
        total += v << b
    return total


def exact_sums(x: np.ndarray) -> tuple[int, int]:
    """Exact ``(S1, S2)`` of the finite float64 array ``x``.

    ``sum(x) == S1 * 2**-1126`` and ``sum(x*x) == S2 * 2**-2252`` exactly.
    """
    S1 = 0
    S2 = 0
    # Per-exponent int64 limb sums; each slice adds < 2**42 per bin, so they are folded
    # into Python ints every _FOLD slices, long before int64 could overflow.
    s1_acc = np.zeros((2, _N_EXP), dtype=np.int64)
    s2_acc = np.zeros((4, 2 * _N_EXP), dtype=np.int64)
    for i, start in enumerate(range(0, x.size, _SLICE)):
        part = x[start : start + _SLICE]  # small slices stay in cache: ~3x faster
        m, e = np.frexp(part)
        mant = (m * _TWO53).astype(np.int64)  # exact: |mant| < 2**53
        exp = (e + 1073).astype(np.intp)  # value = mant * 2**(exp - 1126), exp in [0, 2097]
        # S1: mant = hi * 2**27 + lo with |hi| <= 2**26, 0 <= lo < 2**27.  Per-bin float64
        # sums of <= _SLICE such limbs stay far below 2**53, so bincount is exact.
        s1_acc[0] += np.bincount(exp, weights=(mant >> 27).astype(np.float64), minlength=_N_EXP).astype(np.int64)
        s1_acc[1] += np.bincount(exp, weights=(mant & _MASK27).astype(np.float64), minlength=_N_EXP).astype(np.int64)
        # S2: |mant| = a * 2**27 + b, a < 2**26, b < 2**27;
        # mant**2 = a*a * 2**54 + 2ab * 2**27 + b*b, each product < 2**54; regrouped into
        # limbs < 2**28 (weights 2**81, 2**54, 2**27, 1).
        am = np.abs(mant)
        a = am >> 27
        b = am & _MASK27
        p1 = a * a
        p2 = (a * b) << 1
        p3 = b * b
        exp2 = exp << 1
        limbs = (
            p1 >> 27,
            (p1 & _MASK27) + (p2 >> 27),
            (p2 & _MASK27) + (p3 >> 27),
            p3 & _MASK27,
        )
        for j, limb in enumerate(limbs):
            s2_acc[j] += np.bincount(exp2, weights=limb.astype(np.float64), minlength=2 * _N_EXP).astype(np.int64)
        if (i + 1) % _FOLD == 0:
            S1 += _combine_bins(list(zip(s1_acc, (27, 0))))
            S2 += _combine_bins(list(zip(s2_acc, (81, 54, 27, 0))))
            s1_acc[:] = 0
            s2_acc[:] = 0
    S1 += _combine_bins(list(zip(s1_acc, (27, 0))))
    S2 += _combine_bins(list(zip(s2_acc, (81, 54, 27, 0))))
    return S1, S2


def _div(num: int, den: int) -> float:
    """Correctly rounded num/den (den > 0); overflow rounds to +-inf as IEEE would."""
    try:
        return num / den
    except OverflowError:
        return math.inf if num > 0 else -math.inf


@dataclass(frozen=True)
class MeanVar(Analyzer[MomentsAcc]):
    """Exact count / mean / population variance / std (see module docstring).

    State: ``{"count": int, "mean": float|None, "var": float|None, "std": float|None}``.
    """

    exact_merge: ClassVar[bool] = True

    def create(self) -> MomentsAcc:
        return MomentsAcc()

    def update(self, acc: MomentsAcc, values: Any) -> MomentsAcc:
        kind, arr = coerce_values(values)
        if kind is None:
            return acc
        if kind == "str":
            raise TypeError("MeanVar needs numeric values, got strings")
        x = arr.astype(np.float64, copy=False)
        finite_mask = np.isfinite(x)
        n_finite = int(np.count_nonzero(finite_mask))
        nan_count = pos_inf = neg_inf = 0
        if n_finite != x.size:
            nan_count = int(np.count_nonzero(np.isnan(x)))
            pos_inf = int(np.count_nonzero(x == np.inf))
            neg_inf = int(np.count_nonzero(x == -np.inf))
            x = x[finite_mask]
        s1, s2 = exact_sums(x)
        return MomentsAcc(
            finite=acc.finite + n_finite,
            pos_inf=acc.pos_inf + pos_inf,
            neg_inf=acc.neg_inf + neg_inf,
            nan_count=acc.nan_count + nan_count,
            s1=acc.s1 + s1,
            s2=acc.s2 + s2,
        )

    def merge(self, accs: Sequence[MomentsAcc]) -> MomentsAcc:
        return MomentsAcc(
            finite=sum(a.finite for a in accs),
            pos_inf=sum(a.pos_inf for a in accs),
            neg_inf=sum(a.neg_inf for a in accs),
            nan_count=sum(a.nan_count for a in accs),
            s1=sum(a.s1 for a in accs),
            s2=sum(a.s2 for a in accs),
        )

    def finalize(self, acc: MomentsAcc) -> dict:
        count = acc.count
        if count == 0:
            return {"count": 0, "mean": None, "var": None, "std": None}
        if acc.pos_inf or acc.neg_inf:
            if acc.pos_inf and acc.neg_inf:
                mean = math.nan
            else:
                mean = math.inf if acc.pos_inf else -math.inf
            return {"count": count, "mean": mean, "var": math.nan, "std": math.nan}
        n = acc.finite
        mean = _div(acc.s1, n << _S1_SHIFT)
        var = _div(n * acc.s2 - acc.s1 * acc.s1, (n * n) << _S2_SHIFT)
        return {"count": count, "mean": mean, "var": var, "std": math.sqrt(var)}

    def acc_to_json(self, acc: MomentsAcc) -> Any:
        return {
            "finite": acc.finite,
            "pos_inf": acc.pos_inf,
            "neg_inf": acc.neg_inf,
            "nan_count": acc.nan_count,
            # Thousands of bits: hex strings keep them exact for any JSON reader.
            "s1": hex(acc.s1),
            "s2": hex(acc.s2),
        }

    def acc_from_json(self, data: Any) -> MomentsAcc:
        return MomentsAcc(
            finite=int(data["finite"]),
            pos_inf=int(data["pos_inf"]),
            neg_inf=int(data["neg_inf"]),
            nan_count=int(data["nan_count"]),
            s1=int(data["s1"], 16),
            s2=int(data["s2"], 16),
        )
