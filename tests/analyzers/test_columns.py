"""ColumnStats: one analyzer for the training baseline and the serving side of the skew report."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pyarrow as pa
import pytest

from featurekit.analyzers.columns import MISSING, ColumnStats, Reference


def _tree_merge(stats: ColumnStats, accs: list, rng: random.Random) -> dict:
    """Merge ``accs`` in a random tree shape and order."""
    accs = list(accs)
    while len(accs) > 1:
        i, j = sorted(rng.sample(range(len(accs)), 2))
        b, a = accs.pop(j), accs.pop(i)
        accs.append(stats.merge([a, b] if rng.random() < 0.5 else [b, a]))
    return accs[0]


def _cuts(n: int, rng: random.Random) -> list[int]:
    return sorted({0, n, *rng.sample(range(1, n), 5)})


def _finalized_without_mean(col: dict) -> dict:
    return {k: v for k, v in col.items() if k not in ("mean", "std")}


@pytest.mark.parametrize("seed", range(5))
def test_training_stats_are_the_same_for_any_chunking_and_merge_tree(seed):
    rng = random.Random(seed)
    nums = np.array([rng.choice([rng.gauss(0, 50), rng.randint(-3, 3), math.inf, math.nan]) for _ in range(400)])
    null = np.array([rng.random() < 0.1 for _ in range(400)])
    strs = [rng.choice(["a", "b", "", "ccc", "d"]) for _ in range(400)]
    for type_name, values in (("float", nums), ("str", strs)):
        stats = ColumnStats(type_name)
        whole = stats.finalize(stats.accumulate(values, null, 400))
        cuts = _cuts(400, rng)
        parts = [stats.accumulate(values[a:b], null[a:b], b - a) for a, b in zip(cuts, cuts[1:])]
        merged = stats.finalize(_tree_merge(stats, parts, rng))
        assert _finalized_without_mean(merged) == _finalized_without_mean(whole)
        if type_name == "float":
            assert merged["mean"] == pytest.approx(whole["mean"], rel=1e-12)
            assert merged["std"] == pytest.approx(whole["std"], rel=1e-9)


def test_training_stats_of_a_known_column():
    stats = ColumnStats("int")
    col = stats.finalize(stats.accumulate(np.arange(10, dtype=np.int64), np.array([False] * 9 + [True]), 10))
    assert (col["count"], col["null_count"], col["min"], col["max"], col["mean"]) == (10, 1, 0, 8, 4.0)
    assert sum(col["histogram"]["counts"]) == 9 and col["histogram"]["edges"][0] == 0


def _reference() -> Reference:
    base = {"min": 0.0, "max": 10.0, "histogram": {"edges": [0.0, 5.0, 10.0], "counts": [5, 5]}}
    return Reference(base, ())


def test_serving_stats_count_against_the_training_column():
    stats = ColumnStats("float", sketch=False, reference=_reference())
    values = [1.0, 7, -1.0, 12.0, math.inf, None, MISSING, "x", math.nan, 0.0]
    summary = stats.finalize(stats.accumulate_logged(values))
    assert summary["n"] == 10 and summary["missing"] == 1
    assert summary["nulls"] == 3  # None, MISSING, NaN
    assert summary["bad"] == {"str": 1} and summary["bad_examples"] == ["x"]
    assert summary["present"] == 6  # 1.0, 7, -1.0, 12.0, inf, 0.0
    assert summary["out_of_range"] == 3  # -1, 12, inf
    # bins: below 0 | [0, 5] | (5, 10] | above 10 (the first edge belongs to the first bin)
    assert summary["bins"] == [1, 2, 1, 2]
    assert (summary["min"], summary["max"]) == (-1.0, 12.0)


@pytest.mark.parametrize("seed", range(3))
def test_serving_stats_merge_like_one_pass(seed):
    rng = random.Random(seed)
    vocab = frozenset({"a", "b"})
    stats = ColumnStats("category", sketch=False, reference=Reference({}, (vocab,)))
    values = [rng.choice(["a", "b", "c", "d", None, MISSING, 3]) for _ in range(300)]
    whole = stats.finalize(stats.accumulate_logged(values))
    cuts = _cuts(300, rng)
    parts = [stats.accumulate_logged(values[a:b]) for a, b in zip(cuts, cuts[1:])]
    merged = stats.finalize(stats.merge([stats.create(), *parts]))  # in log order, as the report folds
    assert merged == whole
    assert whole["unseen"] == [sum(1 for v in values if v in ("c", "d"))]
    tree = stats.finalize(_tree_merge(stats, parts, rng))
    assert {k: v for k, v in tree.items() if k not in ("values", "unseen_values", "bad_examples", "bad")} == {
        k: v for k, v in whole.items() if k not in ("values", "unseen_values", "bad_examples", "bad")
    }
    assert dict(tree["values"]) == dict(whole["values"])  # equal counts, in another first-seen order


def test_arrow_and_logged_values_give_the_same_summary():
    stats = ColumnStats("str", sketch=False, reference=Reference({}, (frozenset({"a"}),)))
    values = ["a", "b", None, "b", ""]
    logged = stats.finalize(stats.accumulate_logged(values))
    arrow = stats.finalize(stats.accumulate_arrow(pa.array(values), 0))
    assert logged == arrow


def test_accumulators_round_trip_through_json():
    stats = ColumnStats("float")
    acc = stats.accumulate(np.array([1.5, -2.0, math.inf, 0.0]), None, 4)
    back = stats.acc_from_json(json.loads(json.dumps(stats.acc_to_json(acc), allow_nan=False)))
    assert stats.finalize(back) == stats.finalize(acc)
