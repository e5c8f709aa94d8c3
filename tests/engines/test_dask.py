"""Engine parity: the Dask engine fits the same state and transforms to the same frame as pandas.

Runs on a real ``distributed.LocalCluster`` with two worker processes (the ``client`` fixture
of ``tests/engines/conftest.py``). Every built-in analyzer
merges exactly (exact sums, sorted-count quantiles, vocabularies, extrema), so parity is
*equality* of state and fingerprint, not a tolerance.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe")
pytest.importorskip("distributed")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import featurekit as fk  # noqa: E402
from featurekit.datasets import make_churn  # noqa: E402

SPEC_PATH = "specs/churn.yaml"
ROWS = 20_000


@pytest.fixture(scope="module")
def spec():
    return fk.load_spec(SPEC_PATH)


@pytest.fixture(scope="module")
def churn():
    return make_churn(ROWS, seed=11)


@pytest.fixture(scope="module")
def pandas_fit(spec, churn):
    return spec.fit(churn)


def test_core_does_not_import_dask():
    code = (
        "import sys, featurekit, featurekit.fit, featurekit.transform, featurekit.engines, featurekit.engines.dask;"
        "assert not any(m == 'dask' or m.startswith('dask.') for m in sys.modules), 'dask imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_chunked_fit_equals_pandas(spec, churn, pandas_fit):
    chunks = [churn.iloc[i : i + 3_001] for i in range(0, len(churn), 3_001)]
    fitted = spec.fit(chunks)
    assert fitted.state_ == pandas_fit.state_
    assert fitted.fingerprint == pandas_fit.fingerprint


@pytest.mark.parametrize("npartitions", [1, 3, 7, 16])
def test_dask_fit_and_transform_equal_pandas(client, spec, churn, pandas_fit, npartitions):
    ddf = dd.from_pandas(churn, npartitions=npartitions, sort=False)
    assert ddf.npartitions == npartitions
    messages: list[str] = []
    fitted = spec.fit(ddf, progress=messages.append)
    assert fitted.state_ == pandas_fit.state_
    assert fitted.fingerprint == pandas_fit.fingerprint
    assert fitted.fit_info_["engine"] == "dask"
    assert fitted.fit_info_["rows"] == ROWS
    assert any("fit pass 1" in m for m in messages)

    lazy = fitted.transform(ddf)
    assert type(lazy).__module__.startswith("dask")  # lazy, not computed
    expected = pandas_fit.transform(churn)
    assert list(lazy.columns) == list(expected.columns)
    assert dict(lazy.dtypes) == dict(expected.dtypes)  # meta = the exact output dtypes
    got = lazy.compute()
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True), check_exact=True)


def _partitions(ddf) -> list[pd.DataFrame]:
    return [ddf.partitions[i].compute() for i in range(ddf.npartitions)]


def _assert_same_baseline(got: dict, want: dict, path: str = "") -> None:
    """Equal, except ``mean``/``std`` (merged with Chan et al.'s pairwise update: equal up to
    floating-point rounding for another chunking or merge order, as :mod:`featurekit.baseline`
    documents) and ``distinct`` of a capped text column (a documented lower bound)."""
    assert got.keys() == want.keys(), path
    for key, value in want.items():
        where = f"{path}.{key}"
        if isinstance(value, dict):
            _assert_same_baseline(got[key], value, where)
        elif key in ("mean", "std") and value is not None:
            assert got[key] == pytest.approx(value, rel=1e-12, abs=1e-15), where
        elif key == "distinct" and want.get("distinct_capped"):
            assert got["distinct_capped"] and got[key] >= min(value, 10_000), where
        else:
            assert got[key] == value, where


def test_fit_dask_tree_shape_does_not_matter(client, spec, churn, pandas_fit):
    from featurekit.engines.dask import DaskEngine

    ddf = dd.from_pandas(churn, npartitions=9, sort=False)
    for split_every in (2, 3):
        fitted = spec.fit(ddf, engine=DaskEngine(split_every=split_every))
        assert fitted.state_ == pandas_fit.state_
        _assert_same_baseline(fitted.baseline_, pandas_fit.baseline_)


@pytest.mark.parametrize("npartitions", [1, 3, 7])
def test_dask_fit_baseline_equals_pandas(client, spec, churn, pandas_fit, npartitions):
    """The baseline pass runs through the engine like every fit pass, with the output sample
    chosen by global row position (from the partitions' offsets). Up to 8 partitions are merged
    in one call, in order, as the pandas engine merges chunks: the baseline equals that of a
    pandas fit of the same chunks exactly, and of one frame up to the documented rounding."""
    ddf = dd.from_pandas(churn, npartitions=npartitions, sort=False)
    fitted = spec.fit(ddf)
    chunked = spec.fit(_partitions(ddf))
    assert fitted.baseline_ is not None
    assert fitted.baseline_ == chunked.baseline_
    _assert_same_baseline(fitted.baseline_, pandas_fit.baseline_)
    if npartitions == 1:
        assert fitted.baseline_ == pandas_fit.baseline_
    assert fitted.state_ == pandas_fit.state_ == chunked.state_
    assert fitted.fingerprint == pandas_fit.fingerprint
    assert fitted.sample_ == pandas_fit.sample_
    assert fitted.fit_info_["partitions"] == npartitions
    assert spec.fit(ddf, baseline=False).baseline_ is None


SMALL_SPEC = fk.spec_from_yaml("""
featurekit: 1
name: small
version: 0.1.0
inputs: {x: {type: float}, n: {type: int}, c: {type: category}}
features:
  x_z: coalesce(zscore(clip(x, lower_pct=5, upper_pct=95)), 0.0)
  x_b: bucketize(impute(x, strategy="median"), quantiles=[25, 50, 75])
  n_mm: minmax(n)
  c_idx: vocab(c, top_k=3, order="frequency")
""")


def _small_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n).round(2)
    x[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame(
        {"x": x, "n": rng.integers(-50, 50, n), "c": rng.choice(list("abcdef"), n, p=[0.3, 0.25, 0.2, 0.1, 0.1, 0.05])}
    )


@settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_partition_boundaries(client, data):
    n = data.draw(st.integers(1, 300), label="rows")
    df = _small_frame(n, data.draw(st.integers(0, 2**16), label="seed"))
    cuts = sorted(set(data.draw(st.lists(st.integers(1, max(n - 1, 1)), max_size=8), label="cuts")) - {n})
    bounds = [0, *cuts, n]
    parts = [df.iloc[a:b] for a, b in zip(bounds, bounds[1:])]
    ddf = dd.from_delayed([_delayed(p) for p in parts], meta=df.iloc[:0], verify_meta=False)
    expected = SMALL_SPEC.fit(df)
    fitted = SMALL_SPEC.fit(ddf)
    assert fitted.state_ == expected.state_
    assert fitted.fingerprint == expected.fingerprint
    pd.testing.assert_frame_equal(
        fitted.transform(ddf).compute().reset_index(drop=True),
        expected.transform(df).reset_index(drop=True),
        check_exact=True,
    )


def _delayed(part: pd.DataFrame):
    import dask

    return dask.delayed(part)


def test_cli_fit_dask_equals_pandas(tmp_path, spec):
    from featurekit.cli import main

    small = make_churn(4_000, seed=5)
    data = tmp_path / "data"
    data.mkdir()
    for i in range(4):
        small.iloc[i * 1_000 : (i + 1) * 1_000].to_parquet(data / f"part-{i}.parquet")
    art, art_pd, out = tmp_path / "art", tmp_path / "art_pd", tmp_path / "out"
    # dask with its own 2-worker cluster in a subprocess (the module's client stays untouched)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "featurekit.cli",
            "-q",
            "fit",
            SPEC_PATH,
            "--data",
            f"{data}/*.parquet",
            "--engine",
            "dask",
            "--workers",
            "2",
            "--out",
            str(art),
        ],
        check=True,
    )
    assert main(["-q", "fit", SPEC_PATH, "--data", f"{data}/*.parquet", "--out", str(art_pd)]) == 0
    got, want = fk.load(str(art)), fk.load(str(art_pd))
    assert got.state_ == want.state_
    assert got.fingerprint == want.fingerprint == spec.fit(small).fingerprint

    # transform --engine dask (default local scheduler) writes a directory of parquet files
    assert (
        main(["-q", "transform", str(art), "--data", f"{data}/*.parquet", "--engine", "dask", "--out", str(out)]) == 0
    )
    assert len(list(out.glob("*.parquet"))) == 4
    pd.testing.assert_frame_equal(
        pd.read_parquet(out).reset_index(drop=True), want.transform(small).reset_index(drop=True), check_exact=True
    )
