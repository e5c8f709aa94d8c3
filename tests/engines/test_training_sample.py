"""The training sample fit keeps for the golden vectors: systematic, bounded, deterministic.

One frame, the same rows in chunks of any size, and a Dask frame of any partitioning give the
same sample.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import featurekit as fk
from featurekit.datasets import make_churn
from featurekit.sample import SAMPLE_ROWS, python_value, step_for, take, thin

SPEC = fk.spec_from_yaml("""
featurekit: 1
name: s
version: 1.0.0
inputs: {i: {type: int}, x: {type: float}, t: {type: timestamp}, c: {type: category}}
features:
  x_z: coalesce(zscore(x), 0.0)
  c_idx: vocab(c)
""")


def _frame(n: int) -> pd.DataFrame:
    i = np.arange(n)
    return pd.DataFrame(
        {
            "i": i,
            "x": np.where(i % 7 == 3, np.nan, i * 0.5),
            "t": pd.to_datetime(i, unit="s", utc=True),
            "c": pd.Series(np.where(i % 5 == 4, None, (i % 3).astype(str)), dtype=object),
        }
    )


@pytest.mark.parametrize("n", [0, 1, 255, 256, 257, 1000, 65_537])
def test_the_sample_is_every_step_th_row_within_the_bound(n):
    fitted = SPEC.fit(_frame(n))
    step = step_for(n, SAMPLE_ROWS)
    assert [r["i"] for r in fitted.sample_] == list(range(0, n, step))
    assert len(fitted.sample_) <= SAMPLE_ROWS and (n <= SAMPLE_ROWS or len(fitted.sample_) > SAMPLE_ROWS // 2)


def test_sample_rows_are_plain_python_values_with_missing_as_none():
    sample = SPEC.fit(_frame(300)).sample_
    row = next(r for r in sample if r["i"] % 7 == 3 and r["i"] % 5 == 4)  # x is NaN there, c is None
    i = row["i"]
    assert row == {"i": i, "x": None, "t": dt.datetime.fromtimestamp(i, dt.UTC), "c": None}
    assert type(row["i"]) is int and type(row["t"]) is dt.datetime


@settings(max_examples=30, deadline=None)
@given(n=st.integers(0, 3_000), cuts=st.lists(st.integers(0, 3_000), max_size=6))
def test_chunks_of_any_size_give_the_one_frame_sample(n, cuts):
    frame = _frame(n)
    bounds = [0, *sorted(c for c in cuts if c <= n), n]
    chunks = [frame.iloc[a:b] for a, b in zip(bounds, bounds[1:])]
    assert SPEC.fit(chunks).sample_ == SPEC.fit(frame).sample_


def test_a_chunk_function_streams_the_same_sample():
    frame = _frame(5_000)
    assert SPEC.fit(lambda: (frame.iloc[a : a + 777] for a in range(0, 5_000, 777))).sample_ == SPEC.fit(frame).sample_


def test_a_row_with_a_value_that_cannot_be_stored_exactly_is_left_out():
    kept = take(pd.DataFrame({"v": pd.Series([1, {"a": 1}, 3], dtype=object)}), ["v"], 0, limit=4)
    assert thin([kept], 3, limit=4) == [(0, {"v": 1}), (2, {"v": 3})]


def test_nanosecond_timestamps_are_not_sampled():
    from featurekit.sample import Unencodable

    with pytest.raises(Unencodable, match="nanoseconds"):
        python_value(pd.Timestamp("2026-01-01 00:00:00.000000001", tz="UTC"))


def test_the_churn_sample_does_not_depend_on_how_missing_text_is_spelled():
    """pandas' str dtype marks missing with NaN, Dask's with NA: both are None in the sample."""
    df = make_churn(1_000, seed=2)
    spec = fk.load_spec("specs/churn.yaml")
    as_object = df.astype({c: object for c in ("device", "referral_code", "description")})
    assert spec.fit(df).sample_ == spec.fit(as_object).sample_


@pytest.fixture
def dd():
    return pytest.importorskip("dask.dataframe")


def test_one_dask_partition_gives_the_pandas_sample(dd):
    df = make_churn(3_000, seed=6)
    spec = fk.load_spec("specs/churn.yaml")
    assert spec.fit(dd.from_pandas(df, npartitions=1)).sample_ == spec.fit(df).sample_


@pytest.mark.parametrize("parts", [3, 300])
def test_several_dask_partitions_give_the_pandas_sample(dd, parts):
    df = _frame(20_000)
    sample = SPEC.fit(dd.from_pandas(df, npartitions=parts)).sample_
    assert sample == SPEC.fit(df).sample_
    assert [r["i"] for r in sample] == list(range(0, 20_000, step_for(20_000, SAMPLE_ROWS)))


def test_a_dask_fit_without_analyzers_still_samples(dd):
    spec = fk.spec_from_yaml("""
featurekit: 1
name: plain
version: 1.0.0
inputs: {i: {type: int}}
features: {j: i + 1}
""")
    df = pd.DataFrame({"i": np.arange(1_000)})
    assert spec.fit(dd.from_pandas(df, npartitions=1)).sample_ == spec.fit(df).sample_
    assert spec.fit(dd.from_pandas(df, npartitions=4)).sample_ == spec.fit(df).sample_
