"""The pandas engine evaluates the graph in row blocks: same result as one block, no aliasing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import featurekit as fk
from featurekit.datasets import make_churn
from featurekit.engines.pandas import transform_frame

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def churn():
    spec = fk.load_spec(ROOT / "specs" / "churn.yaml")
    fitted = spec.fit(make_churn(3_000, seed=0), baseline=False)
    return fitted, make_churn(2_500, seed=1, evaluation=True)


@pytest.mark.parametrize("block_rows", [1, 7, 1000, 2_499, 2_500, 10_000])
def test_any_block_size_gives_the_whole_frame_result(churn, block_rows):
    fitted, frame = churn
    whole = transform_frame(fitted, frame, block_rows=len(frame))
    blocked = transform_frame(fitted, frame, block_rows=block_rows)
    pd.testing.assert_frame_equal(blocked, whole, check_exact=True)
    assert list(blocked.dtypes) == list(whole.dtypes)


def test_blocks_keep_nulls_strings_timestamps_and_masked_ints():
    spec = fk.spec_from_yaml("""
featurekit: 1
name: kinds
version: 1.0.0
inputs: {x: {type: float}, s: {type: str}, t: {type: timestamp}, k: {type: int}}
features:
  x2: x * 2.0
  s_up: upper(s)
  t_same: t
  k_plus: k + 1
  k_big: k > 2
""")
    rng = np.random.default_rng(0)
    n = 1_001
    frame = pd.DataFrame(
        {
            "x": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)),
            "s": pd.array([None if i % 5 == 0 else f"v{i}é" for i in range(n)], dtype="str"),
            "t": pd.Series(pd.to_datetime(rng.integers(0, 10**15, n), unit="us", utc=True)).mask(
                pd.Series(rng.random(n) < 0.1)
            ),
            "k": pd.array([None if i % 7 == 0 else i for i in range(n)], dtype="Int64"),
        }
    )
    fitted = spec.fit(frame)
    whole = transform_frame(fitted, frame, block_rows=n)
    for block_rows in (1, 10, 333):
        pd.testing.assert_frame_equal(transform_frame(fitted, frame, block_rows=block_rows), whole, check_exact=True)
    assert whole["x2"].isna().sum() == frame["x"].isna().sum()
    assert whole["k_plus"].dtype == "Int64" and whole["k_plus"].isna().sum() == frame["k"].isna().sum()


@pytest.mark.parametrize("block_rows", [4, 1_000])
def test_outputs_never_share_memory_with_the_input_frame_or_each_other(block_rows):
    spec = fk.spec_from_yaml("""
featurekit: 1
name: alias
version: 1.0.0
inputs: {x: {type: float, nullable: false}, n: {type: int, nullable: false}}
features:
  same_x: x
  same_n: n
  doubled: x * 2.0
  doubled_again: x * 2.0
""")
    frame = pd.DataFrame({"x": np.arange(10.0), "n": np.arange(10)})
    before = frame.copy()
    out = transform_frame(spec.fit(frame), frame, block_rows=block_rows)
    arrays = [out[c].to_numpy() for c in out.columns]
    for i, a in enumerate(arrays):
        assert not np.may_share_memory(a, frame["x"].to_numpy())
        assert not np.may_share_memory(a, frame["n"].to_numpy())
        for b in arrays[i + 1 :]:
            assert not np.may_share_memory(a, b)
    out.loc[0, "same_x"] = 99.0
    out.loc[0, "doubled"] = 99.0
    pd.testing.assert_frame_equal(frame, before)
    assert out.loc[0, "doubled_again"] == 0.0
