"""The quantile sketch (``approx=ε``): its state is identical for every split of the data, and
every fitted percentile / median is within the declared bound of numpy's exact value.

The bound (featurekit.analyzers.sketch): for ``q = x[j] + g·(x[j+1] - x[j])`` (numpy's linear
method; numpy.median: ``g = 1/2`` for an even count) with finite neighbours,
``|q̂ - q| <= ε·((1-g)·|x[j]| + g·|x[j+1]|) + F``; with an infinite neighbour ``q̂ == q``.
Checked in exact rational arithmetic, so no float rounding in the test itself.
"""

from __future__ import annotations

import json
import math
import random
import struct
from fractions import Fraction

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from featurekit.analyzers import ApproxMedian, ApproxQuantiles, Median, Quantiles
from featurekit.analyzers.sketch import EPS_MAX, EPS_MIN, MAX_BUCKETS, bucket_ordinals, mantissa_bits
from featurekit.values import codec

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
FAMILIES = (
    "lognormal",
    "bimodal",
    "heavy_tailed",
    "many_ties",
    "constant",
    "negatives",
    "zeros",
    "subnormals",
    "specials",
)
TINY = 5e-324
MAXF = Fraction(1.7976931348623157e308)
eps_st = st.one_of(st.sampled_from([EPS_MIN, 0.001, 0.01, 0.05, EPS_MAX]), st.floats(EPS_MIN, EPS_MAX))
percentiles_st = st.lists(
    st.one_of(st.floats(0, 100), st.sampled_from([0, 1, 5, 25, 50, 75, 95, 99, 100])), min_size=1, max_size=6
).map(tuple)


def family_data(family: str, n: int, seed: int, constant: float) -> np.ndarray:
    """``n`` float64 values of one named shape (the benchmark's families and the edge cases)."""
    rng = np.random.default_rng(seed)
    if family == "lognormal":
        return rng.lognormal(rng.uniform(-5, 5), rng.uniform(0.1, 4), n)
    if family == "bimodal":
        low = rng.normal(-3, 1, n) if rng.random() < 0.5 else rng.lognormal(0, 0.3, n)
        return np.where(rng.random(n) < 0.6, low, rng.normal(1000, 50, n))
    if family == "heavy_tailed":
        return rng.standard_t(rng.uniform(0.5, 3), n) * 10.0 ** rng.integers(-3, 4)
    if family == "many_ties":
        return rng.integers(-5, 6, n) * rng.choice([0.25, 1.0, 7.5, 1e-3])
    if family == "constant":
        return np.full(n, constant)
    if family == "negatives":
        return -rng.lognormal(0, 2, n)
    if family == "zeros":
        z = np.where(rng.random(n) < 0.5, 0.0, -0.0)
        return np.where(rng.random(n) < 0.7, z, rng.normal(0, 1e-300, n))
    if family == "subnormals":
        bits = rng.integers(1, 1 << 52, n) >> rng.integers(0, 52, n)
        x = bits.view(np.float64)
        return np.where(rng.random(n) < 0.5, -x, x)
    special = np.array(
        [
            0.0,
            -0.0,
            np.inf,
            -np.inf,
            np.nan,
            TINY,
            -TINY,
            1.7976931348623157e308,
            -1.7976931348623157e308,
            2.2250738585072014e-308,
            1.0,
            -1.0,
        ]
    )
    return np.where(rng.random(n) < 0.3, rng.choice(special, n), rng.normal(0, 10, n))


@st.composite
def datasets(draw) -> np.ndarray:
    family = draw(st.sampled_from(FAMILIES))
    n = draw(st.integers(1, 400))
    constant = draw(st.floats(allow_nan=False, allow_infinity=False))
    x = family_data(family, n, draw(st.integers(0, 2**32 - 1)), constant)
    extra = draw(st.lists(st.floats(), max_size=5))  # hypothesis' own float edge cases
    return np.concatenate([x, np.array(extra, dtype=np.float64)])


def split(x: np.ndarray, cuts: list[int]) -> list[np.ndarray]:
    bounds = [0, *sorted(min(max(c, 0), len(x)) for c in cuts), len(x)]
    return [x[a:b] for a, b in zip(bounds, bounds[1:])]


def roundtrip(an, acc):
    data = an.acc_to_json(acc)
    json.dumps(data, allow_nan=False)  # strict JSON as is
    return an.acc_from_json(codec.loads(codec.dumps(data)))


def fits(an, x: np.ndarray, cuts: list[int], rnd: random.Random) -> list:
    """Accumulators of ``x`` by three schedules: one batch, chunks in sequence, a random
    merge tree of per-chunk accumulators with JSON round trips."""
    chunks = split(x, cuts)
    whole = an.update(an.create(), x)
    seq = an.create()
    for c in chunks:
        seq = an.update(seq, c)
    accs = [an.update(an.create(), c) for c in chunks]
    rnd.shuffle(accs)
    while len(accs) > 1:
        size = rnd.randint(2, len(accs))
        start = rnd.randint(0, len(accs) - size)
        merged = an.merge(accs[start : start + size])
        accs[start : start + size] = [roundtrip(an, merged) if rnd.random() < 0.3 else merged]
    return [whole, seq, accs[0]]


def canon(x):
    if isinstance(x, float):
        return "nan" if x != x else struct.pack("<d", x)
    if isinstance(x, list):
        return [canon(v) for v in x]
    if isinstance(x, dict):
        return {k: canon(v) for k, v in x.items()}
    return x


def assert_identical(an, accs) -> None:
    states = [canon(an.finalize(a)) for a in accs]
    assert all(s == states[0] for s in states[1:]), states
    raw = [codec.dumps(an.acc_to_json(a)) for a in accs]
    assert all(r == raw[0] for r in raw[1:])  # the accumulator itself, not only its result


def neighbours(sorted_x: np.ndarray, p: float) -> tuple[float, float, float]:
    """numpy's linear-method neighbours ``x[j], x[j+1]`` and fraction ``g`` for percentile ``p``."""
    n = len(sorted_x)
    virtual = (n - 1) * (p / 100)
    if virtual >= n - 1:
        return float(sorted_x[-1]), float(sorted_x[-1]), 0.0
    j = math.floor(virtual)
    return float(sorted_x[j]), float(sorted_x[j + 1]), virtual - j


def assert_within_bound(got: float, ref: float, lo: float, hi: float, g: float, eps: float, floor: float):
    if not (math.isfinite(lo) and math.isfinite(hi)):
        assert got == ref or (math.isnan(got) and math.isnan(ref)), (got, ref, lo, hi)
        return
    if (abs(Fraction(lo)) + abs(Fraction(hi))) * (1 + Fraction(eps)) > MAXF:
        return  # excluded: numpy's b - a (or median's a + b) overflows there or nearly
    weighted = (1 - Fraction(g)) * abs(Fraction(lo)) + Fraction(g) * abs(Fraction(hi))
    error = abs(Fraction(got) - Fraction(ref))
    assert error <= Fraction(eps) * weighted + Fraction(floor), (got, ref, lo, hi, g, eps, floor)
    if (lo >= 0 and hi >= 0) or (lo <= 0 and hi <= 0):  # same side of zero: a relative bound on q itself
        assert error <= Fraction(eps) * abs(Fraction(ref)) + Fraction(floor) + 4 * Fraction(math.ulp(ref))


def check_bound(x: np.ndarray, eps: float, percentiles: tuple, state_q: dict, state_m: dict) -> None:
    clean = np.sort(x[~np.isnan(x)], kind="stable")
    assert state_q["count"] == state_m["count"] == clean.size
    if clean.size == 0:
        assert state_q["values"] is None and state_m["median"] is None
        return
    with np.errstate(all="ignore"):
        exact = np.percentile(clean, list(percentiles), method="linear").tolist()
        median = float(np.median(clean))
    for p, got, ref in zip(percentiles, state_q["values"], exact):
        lo, hi, g = neighbours(clean, p)
        assert_within_bound(got, ref, lo, hi, g, eps, state_q["error_floor"])
    n = clean.size
    lo, hi = float(clean[(n - 1) // 2]), float(clean[n // 2])
    assert_within_bound(state_m["median"], median, lo, hi, 0.5 if n % 2 == 0 else 0.0, eps, state_m["error_floor"])


# ------------------------------------------------------------------ properties


@SETTINGS
@given(datasets(), eps_st, percentiles_st, st.lists(st.integers(0, 500), max_size=8), st.randoms(use_true_random=False))
def test_state_is_identical_for_every_split_and_within_the_bound(x, eps, percentiles, cuts, rnd):
    q, m = ApproxQuantiles(percentiles, eps), ApproxMedian(eps)
    accs = fits(q, x, cuts, rnd)
    assert_identical(q, accs)
    assert_identical(m, accs)  # both analyzers share the accumulator
    state_q, state_m = q.finalize(accs[0]), m.finalize(accs[0])
    assert state_q["error_floor"] == state_m["error_floor"] == 0.0
    check_bound(x, eps, percentiles, state_q, state_m)


@SETTINGS
@given(
    datasets(),
    eps_st,
    percentiles_st,
    st.integers(1, 40),
    st.lists(st.integers(0, 500), max_size=8),
    st.randoms(use_true_random=False),
)
def test_at_the_bucket_cap_the_state_stays_identical_and_the_floor_bounds_the_rest(x, eps, percentiles, cap, cuts, rnd):
    q, m = ApproxQuantiles(percentiles, eps, max_buckets=cap), ApproxMedian(eps, max_buckets=cap)
    accs = fits(q, x, cuts, rnd)
    assert_identical(q, accs)
    acc = accs[0]
    finite = np.abs(acc.ordinals)
    kept = np.unique(finite[(finite > 1) & (finite < 2**62)])
    assert kept.size <= cap
    check_bound(x, eps, percentiles, q.finalize(acc), m.finalize(acc))


@SETTINGS
@given(
    st.lists(st.integers(-(2**62) + 1, 2**62 - 1), min_size=1, max_size=200),
    eps_st,
    percentiles_st,
    st.lists(st.integers(0, 200), max_size=5),
    st.randoms(use_true_random=False),
)
def test_int_data_within_the_bound_of_numpy_int_percentiles(data, eps, percentiles, cuts, rnd):
    # neighbours differ by less than 2**63, where numpy's own int64 subtraction would wrap
    x = np.array(data, dtype=np.int64)
    q = ApproxQuantiles(percentiles, eps)
    accs = fits(q, x, cuts, rnd)
    assert_identical(q, accs)
    clean = np.sort(x)
    exact = np.percentile(clean, list(percentiles)).tolist()
    for p, got, ref in zip(percentiles, q.finalize(accs[0])["values"], exact):
        lo, hi, g = neighbours(clean, p)
        assert_within_bound(got, ref, lo, hi, g, eps, 0.0)


# ------------------------------------------------------------------ examples


def test_zeros_and_infinities_are_exact_and_subnormals_keep_the_relative_bound():
    ps = (0, 10, 50, 100)
    x = np.array([0.0] * 5 + [-0.0] * 4 + [np.inf, -np.inf, 7.0])
    got = ApproxQuantiles(ps, 0.01).fit(x)["values"]
    with np.errstate(invalid="ignore"):
        ref = np.percentile(x, ps).tolist()
    # equal values, numpy's own nan for -inf + (0 - -inf) * 0 included; a zero is +0.0
    assert all(g == r or (g != g and r != r) for g, r in zip(got, ref)), (got, ref)
    assert canon(got[1:3]) == canon([0.0, 0.0])
    sub = np.array([TINY, 3 * TINY, 1e-310, 2e-310, 2.2e-308])
    got = ApproxQuantiles((0, 25, 50, 75, 100), 0.01).fit(sub)["values"]
    for g, e in zip(got, np.percentile(sub, [0, 25, 50, 75, 100])):
        assert abs(g - e) <= 0.01 * abs(e)
    assert got[0] == TINY  # a bucket of one subnormal is that value


def test_ties_locate_the_order_statistics_exactly():
    # 999 copies of 1.0 and one 1e6: the 99th percentile lies between two copies of 1.0
    x = np.array([1.0] * 999 + [1e6])
    got = ApproxQuantiles((50, 99, 99.95), 0.001).fit(x)["values"]
    ref = np.percentile(x, [50, 99, 99.95])
    assert abs(got[0] - 1.0) <= 0.001 and abs(got[1] - 1.0) <= 0.001
    assert abs(got[2] - ref[2]) <= 0.001 * (0.05 * 1.0 + 0.95 * 1e6)  # g = 0.95 of the way to 1e6


def test_across_zero_the_bound_is_relative_to_the_neighbours():
    x = np.array([-1000.0, 1000.0])
    got = ApproxQuantiles((50.0,), 0.01).fit(x)["values"][0]
    assert np.percentile(x, 50) == 0.0
    assert abs(got) <= 0.01 * 1000.0  # not 0.01 * |0|


def test_constant_column_fits_one_bucket():
    an = ApproxQuantiles((1, 50, 99), 0.001)
    acc = an.update(an.create(), np.full(100_000, 123.456))
    assert acc.ordinals.size == 1 and acc.counts.tolist() == [100_000]
    assert all(abs(v - 123.456) <= 0.001 * 123.456 for v in an.finalize(acc)["values"])


def test_mapping_is_fixed_bit_arithmetic():
    # regression pins: the bucket of a value must never change between versions or CPUs
    x = np.array([1.0, 1.5, 3.0, -3.0, 1e-310, TINY, 1.7976931348623157e308])
    assert bucket_ordinals(x, 9).tolist() == [556545, 556801, 557313, -557313, 29262, 6657, 1080832]
    assert [mantissa_bits(e) for e in (EPS_MIN, 0.001, 0.01, 0.1, EPS_MAX)] == [13, 9, 6, 3, 1]
    assert mantissa_bits(2.0**-10) == 10  # a power of two keeps slack for the interpolation's rounding


def test_memory_is_bounded_by_the_span_not_the_rows():
    x = np.random.default_rng(3).lognormal(0, 1, 1_000_000)  # ~1e6 distinct values
    an = ApproxQuantiles((50,), 0.001)
    acc = an.update(an.create(), x)
    binades = math.log2(x.max() / x.min()) + 1
    assert acc.ordinals.size <= 2 ** mantissa_bits(0.001) * binades
    assert acc.ordinals.size < 20_000


def test_validation_and_strings():
    with pytest.raises(ValueError, match="approx must be in"):
        ApproxQuantiles((50,), 0.0)
    with pytest.raises(ValueError, match="approx must be in"):
        ApproxMedian(0.6)
    with pytest.raises(TypeError):
        ApproxMedian(True)
    with pytest.raises(ValueError, match="max_buckets"):
        ApproxMedian(0.01, max_buckets=0)
    with pytest.raises(TypeError, match="numeric"):
        ApproxMedian(0.01).fit(pa.array(["a"]))
    assert MAX_BUCKETS == 1 << 18


def test_empty_and_all_nan():
    an = ApproxQuantiles((50,), 0.01)
    assert an.fit(np.array([], dtype=np.float64)) == {"count": 0, "values": None, "error_floor": 0.0}
    assert ApproxMedian(0.01).fit(np.array([np.nan, np.nan])) == {"count": 0, "median": None, "error_floor": 0.0}


def test_exact_analyzers_unchanged_by_the_sketch():
    x = np.random.default_rng(0).normal(size=1000)
    assert Quantiles((50,)).fit(x)["values"] == [float(np.percentile(x, 50))]
    assert Median().fit(x)["median"] == float(np.median(x))


def test_op_parameter_range_is_the_analyzers():
    from featurekit.ir.ops._util import APPROX  # the ops' copy: the serving path must not import numpy

    assert (APPROX.min, APPROX.max) == (EPS_MIN, EPS_MAX)
