"""Shrinking: minimal reproducers, in few batch calls, that never go back and forth."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import featurekit as fk
from featurekit import parity
from featurekit.parity.shrinking import shrink


class Judge:
    """A ``still_fail`` that counts its calls and the trial rows it saw."""

    def __init__(self, fails: Any) -> None:
        self.fails, self.calls, self.rows = fails, 0, 0

    def __call__(self, trials: list[dict[str, Any]]) -> list[bool]:
        self.calls += 1
        self.rows += len(trials)
        return [self.fails(t) for t in trials]


def test_irrelevant_keys_go_in_one_round() -> None:
    row = {f"k{n}": float(n) + 0.5 for n in range(12)} | {"a": 7}
    judge = Judge(lambda r: isinstance(r.get("a"), int) and r["a"] >= 0)
    assert shrink(row, judge) == {"a": 0}
    assert judge.calls <= 6, judge.calls  # rounds, not trials: 13 keys x 4 steps would be 52 calls one by one


def test_values_only_move_down_their_ladder() -> None:
    # fails for 0 and for 1: a shrinker that tries 1 from 0 (and 0 from 1) would loop until its budget
    judge = Judge(lambda r: r.get("n") in (0, 1))
    assert shrink({"n": 1}, judge, budget=400) == {"n": 0}
    assert judge.rows < 10


@given(st.dictionaries(st.sampled_from("abcdef"), st.one_of(st.none(), st.booleans(), st.integers(), st.text())))
def test_the_reproducer_still_fails_and_is_no_larger(row: dict[str, Any]) -> None:
    def fails(r: dict[str, Any]) -> bool:
        return len(r) >= min(2, len(row))

    out = shrink(row, Judge(fails))
    assert fails(out) and set(out) <= set(row)


def test_compare_shrinks_a_planted_bug_to_the_input_that_matters() -> None:
    spec = fk.spec_from_yaml(
        """
featurekit: 1
name: shrink_demo
version: 1.0.0
inputs:
  spend: {type: float}
  plan: {type: category}
  tenure: {type: int}
features:
  spend_filled: impute(spend, strategy="median")
  plan_idx: vocab(plan)
  tenure_x2: tenure * 2
"""
    )
    fitted = spec.fit([{"spend": float(n), "plan": "pro" if n % 2 else "free", "tenure": n} for n in range(1, 50)])

    def serve(row: dict[str, Any]) -> dict[str, Any]:
        out = fitted.transform_row(row)
        if row.get("spend") is None:
            out["spend_filled"] = 0.0  # the planted bug: missing spend served as 0.0, not the median
        return out

    rows = [{"spend": float(n), "plan": "pro", "tenure": n} for n in range(10)]
    report = parity.compare(fitted.transform, serve, rows, contract=fitted, fuzz=50, invalid=False)
    (flagged,) = [c for c in report.columns if c.mismatches]
    assert flagged.column == "spend_filled"
    reproducers = [e.reproducer for e in flagged.examples if e.reproducer is not None]
    assert reproducers and all("spend" not in r or r["spend"] is None for r in reproducers)
    assert all(len(r) <= 1 for r in reproducers), reproducers
