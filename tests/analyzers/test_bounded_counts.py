"""Bounded value counts (``bounded=C``): identical state for every split, exact counts for
what it keeps, and every value it leaves out seen at most ``count_bound`` times."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from featurekit.analyzers import BoundedValueCounts, ValueCounts, vocabulary
from featurekit.analyzers.topk import DEPTH, sketch_width
from featurekit.values import codec

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WORDS = ["", "a", "b", "é", "e\u0301", "日本", "\U0001f600", "zz", "a b"] + [f"w{i}" for i in range(40)]


@st.composite
def categorical(draw):
    """(kind, values): skewed draws from a small or large domain, strings, ints or bools."""
    kind = draw(st.sampled_from(["str", "int", "bool"]))
    n = draw(st.integers(0, 600))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "bool":
        return kind, (rng.random(n) < rng.random()).tolist()
    ranks = np.minimum(rng.zipf(draw(st.floats(1.05, 3.0)), n), 10**6)
    if kind == "int":
        return kind, (ranks * draw(st.sampled_from([1, -7, 2**40]))).tolist()
    return kind, [WORDS[r % len(WORDS)] if r < 100 else f"v{r}" for r in ranks.tolist()]


def array(kind: str, values: list):
    if kind == "str":
        return pa.array(values, type=pa.string())
    return np.array(values, dtype=np.bool_ if kind == "bool" else np.int64)


def fit_split(capacity: int, data, cuts: list[int], rnd: random.Random) -> dict:
    """Both passes over chunks of ``data`` cut at ``cuts``, merged in a random tree, with JSON
    round trips of the accumulators (as partial fits travel between processes)."""
    bounds = [0, *sorted(min(c, len(data)) for c in cuts), len(data)]
    chunks = [data[a:b] for a, b in zip(bounds, bounds[1:])]
    an = BoundedValueCounts(capacity)
    result = None
    while an is not None:
        accs = [an.update(an.create(), c) for c in chunks]
        rnd.shuffle(accs)
        while len(accs) > 1:
            k = rnd.randint(2, len(accs))
            merged = an.merge(accs[:k])
            if rnd.random() < 0.3:
                merged = an.acc_from_json(codec.loads(codec.dumps(an.acc_to_json(merged))))
            accs = [merged, *accs[k:]]
        result = an.finalize(accs[0])
        an = an.next_stage(result)
    return result


@SETTINGS
@given(categorical(), st.integers(1, 30), st.lists(st.integers(0, 600), max_size=8), st.randoms(use_true_random=False))
def test_identical_for_every_split_exact_counts_and_the_bound(kv, capacity, cuts, rnd):
    kind, values = kv
    data = array(kind, values)
    whole = BoundedValueCounts(capacity).fit(data)
    assert fit_split(capacity, data, cuts, rnd) == whole
    truth = Counter(values)
    kept = dict(map(tuple, whole["counts"]))
    assert whole["count"] == len(values)
    assert len(kept) <= capacity
    assert all(truth[v] == c for v, c in kept.items())  # kept counts are exact
    assert all(c <= whole["count_bound"] for v, c in truth.items() if v not in kept)
    assert [v for v, _ in whole["counts"]] == sorted(kept)  # value order, as ValueCounts
    if len(truth) <= capacity:
        assert whole["count_bound"] == 0
        assert whole["counts"] == ValueCounts().fit(data)["counts"]


def test_heavy_values_of_a_skewed_column_are_exact():
    rng = np.random.default_rng(5)
    z = rng.zipf(1.2, 200_000)
    data = pa.array([f"id{v}" for v in z.tolist()])
    exact = ValueCounts().fit(data)
    state = BoundedValueCounts(2_000).fit(data)
    assert len({v for v, _ in exact["counts"]}) > 10_000  # high cardinality
    top = vocabulary(state, top_k=100)
    assert top == vocabulary(exact, top_k=100)
    hundredth = dict(map(tuple, state["counts"]))[top[-1]]
    assert hundredth > state["count_bound"]  # so the top 100 is certainly exact


def test_memory_figures():
    assert sketch_width(1) == 1024 and sketch_width(100_000) == 262_144
    an = BoundedValueCounts(100_000)
    assert an.create().table.shape == (DEPTH, 262_144)


def test_kinds_and_validation():
    with pytest.raises(ValueError, match="capacity"):
        BoundedValueCounts(0)
    an = BoundedValueCounts(3)
    with pytest.raises(TypeError, match="one value type"):
        an.merge([an.update(an.create(), np.array([1, 2])), an.update(an.create(), pa.array(["a"]))])
    assert an.fit(np.array([True, False, True])) == {"count": 3, "counts": [[False, 1], [True, 2]], "count_bound": 0}
    assert an.fit(np.array([], dtype=np.int64)) == {"count": 0, "counts": [], "count_bound": 0}
