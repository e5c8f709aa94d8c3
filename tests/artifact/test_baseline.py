"""Training baseline statistics: correct on a known frame, identical chunked and whole."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import featurekit as fk
from featurekit.baseline import (
    baseline_accumulate,
    baseline_create,
    baseline_finalize,
    baseline_merge,
    compute_baseline,
)

SPEC = fk.spec_from_yaml("""
featurekit: 1
name: base
version: 1.0.0
inputs:
  x: {type: float}
  n: {type: int}
  c: {type: category}
  s: {type: str}
  b: {type: bool}
  t: {type: timestamp}
features:
  x_imp: impute(x, value=0.0)
  x_z: zscore(x)
  c_idx: vocab(c)
  n_log: log1p(n)
""")


def known_frame() -> pd.DataFrame:
    x = [float(i) for i in range(1, 101)]  # 1..100
    x[0] = None  # one null: 2..100
    x[1] = float("nan")  # NaN is null too: 3..100
    return pd.DataFrame(
        {
            "x": x,
            "n": np.arange(100, dtype=np.int64) % 10,  # 0..9, ten each
            "c": ["a"] * 50 + ["b"] * 30 + ["c"] * 15 + [None] * 5,
            "s": [""] * 20 + [f"v{i % 7}" for i in range(80)],
            "b": [True] * 25 + [False] * 75,
            "t": pd.to_datetime(["2024-01-01T00:00:00Z"] * 50 + ["2024-06-30T12:00:00Z"] * 50),
        }
    )


@pytest.fixture(scope="module")
def fitted():
    return SPEC.fit(known_frame())


def test_fit_stores_a_baseline(fitted):
    b = fitted.baseline_
    assert b["rows"] == 100 and b["sample"] == {"stride": 1, "rows": 100}
    assert set(b["inputs"]) == {"x", "n", "c", "s", "b", "t"}
    assert set(b["outputs"]) == {"x_imp", "x_z", "c_idx", "n_log"}
    json.dumps(b, allow_nan=False)


def test_numeric_stats_are_correct(fitted):
    x = fitted.baseline_["inputs"]["x"]
    values = np.arange(3, 101, dtype=float)
    assert x["count"] == 100 and x["null_count"] == 2 and x["null_rate"] == 0.02
    assert x["min"] == 3.0 and x["max"] == 100.0
    assert x["mean"] == pytest.approx(values.mean()) and x["std"] == pytest.approx(values.std())
    hist = x["histogram"]
    assert 3 <= len(hist["edges"]) <= 21 and hist["edges"][0] == 3.0 and hist["edges"][-1] == 100.0
    assert sum(hist["counts"]) == 98 and len(hist["counts"]) == len(hist["edges"]) - 1
    # counts are exact for the edges: bin i holds edges[i] < v <= edges[i+1] (first bin closed)
    e = hist["edges"]
    expect = [
        int(np.count_nonzero(((values > lo) | ((values == lo) & (i == 0))) & (values <= hi)))
        for i, (lo, hi) in enumerate(zip(e, e[1:]))
    ]
    assert hist["counts"] == expect
    # the inner edges are near the deciles (log-bucket rounding, <= 2% relative)
    deciles = np.percentile(values, np.arange(10, 100, 10))
    assert all(any(abs(edge - d) <= 0.03 * d + 1 for edge in e) for d in deciles)


def test_int_stats_and_int_histogram(fitted):
    n = fitted.baseline_["inputs"]["n"]
    assert (n["count"], n["null_count"], n["min"], n["max"]) == (100, 0, 0, 9)
    assert n["mean"] == 4.5
    assert all(isinstance(e, int) for e in n["histogram"]["edges"])
    assert sum(n["histogram"]["counts"]) == 100
    assert n["histogram"]["counts"][0] == 20  # 0 and 1 (first bin [0, 1])


def test_categorical_and_string_stats(fitted):
    c = fitted.baseline_["inputs"]["c"]
    assert c["null_count"] == 5 and c["null_rate"] == 0.05
    assert c["top"] == [["a", 50], ["b", 30], ["c", 15]]
    assert c["distinct"] == 3 and c["distinct_capped"] is False and c["empty_rate"] == 0.0
    s = fitted.baseline_["inputs"]["s"]
    assert s["empty_rate"] == 0.2 and s["distinct"] == 8 and s["top"][0] == ["", 20]


def test_bool_and_timestamp_stats(fitted):
    b = fitted.baseline_["inputs"]["b"]
    assert b["true_count"] == 25 and b["true_rate"] == 0.25
    t = fitted.baseline_["inputs"]["t"]
    assert t["min"] == "2024-01-01T00:00:00+00:00" and t["max"] == "2024-06-30T12:00:00+00:00"


def test_output_stats(fitted):
    out = fitted.baseline_["outputs"]
    assert out["x_imp"]["null_count"] == 0 and out["x_imp"]["min"] == 0.0
    assert out["x_z"]["mean"] == pytest.approx(0.0, abs=1e-12) and out["x_z"]["std"] == pytest.approx(1.0)
    assert out["c_idx"]["count"] == 100


@pytest.mark.parametrize("sizes", [[100], [1, 99], [33, 33, 34], [7] * 14 + [2], [50, 0, 50]])
def test_chunked_equals_whole(fitted, sizes):
    frame = known_frame()
    bounds = np.cumsum([0] + sizes)
    chunks = [frame.iloc[a:b] for a, b in zip(bounds, bounds[1:])]
    whole = fitted.baseline_
    chunked = compute_baseline(SPEC, fitted.state_, lambda: iter(chunks), 100)
    _assert_same(whole, chunked)
    # any merge tree and order
    parts = [baseline_accumulate(SPEC, fitted.state_, c, offset=int(o), stride=1) for c, o in zip(chunks, bounds)]
    reordered = baseline_merge(
        [
            baseline_merge(parts[len(parts) // 2 :][::-1]),
            baseline_merge(parts[: len(parts) // 2] or [baseline_create(SPEC, fitted.state_)]),
        ]
    )
    _assert_same(whole, baseline_finalize(reordered))


def test_fit_on_chunks_gives_the_same_baseline(fitted):
    frame = known_frame()
    again = SPEC.fit([frame.iloc[:40], frame.iloc[40:]])
    _assert_same(fitted.baseline_, again.baseline_)


def test_sampled_chunks_sample_the_same_rows():
    """With a sampling stride, chunk offsets keep the sample identical to a whole-frame run."""
    from featurekit.datasets import make_churn

    spec = fk.load_spec(__import__("pathlib").Path(__file__).resolve().parents[2] / "specs" / "churn.yaml")
    df = make_churn(3000, seed=4)
    fitted = spec.fit(df)
    whole = [baseline_accumulate(spec, fitted.state_, df, offset=0, stride=7)]
    parts = [
        baseline_accumulate(spec, fitted.state_, df.iloc[a : a + 1000], offset=a, stride=7) for a in (0, 1000, 2000)
    ]
    a, b = baseline_finalize(baseline_merge(whole)), baseline_finalize(baseline_merge(parts))
    assert a["sample"] == b["sample"] == {"stride": 7, "rows": 429}
    _assert_same(a, b)


def _assert_same(a: dict, b: dict) -> None:
    """Equal, except mean/std which agree to rounding."""

    def strip(d):
        return {
            side: {col: {k: v for k, v in st.items() if k not in ("mean", "std")} for col, st in d[side].items()}
            for side in ("inputs", "outputs")
        }

    assert strip(a) == strip(b)
    assert a["rows"] == b["rows"] and a["sample"] == b["sample"]
    for side in ("inputs", "outputs"):
        for col, st in a[side].items():
            for k in ("mean", "std"):
                if k in st:
                    assert st[k] == pytest.approx(b[side][col][k], rel=1e-12, abs=1e-12), (side, col, k)


def test_baseline_is_saved_hashed_and_loaded(fitted, tmp_path):
    path = fitted.save(tmp_path / "a")
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert "baseline.json" in manifest["files"]
    assert fk.load(path).baseline_ == fitted.baseline_
    data = bytearray((tmp_path / "a" / "baseline.json").read_bytes())
    data[len(data) // 2] ^= 0x01
    (tmp_path / "a" / "baseline.json").write_bytes(bytes(data))
    with pytest.raises(fk.ArtifactError, match="baseline.json was altered"):
        fk.load(path)
    (tmp_path / "a" / "baseline.json").unlink()
    with pytest.raises(fk.ArtifactError, match="baseline.json is missing"):
        fk.load(path)


def test_extreme_and_negative_values_do_not_break_the_baseline():
    spec = fk.spec_from_yaml("""
featurekit: 1
name: extreme
version: 1.0.0
inputs: {x: {type: float}, n: {type: int}}
features:
  x2: coalesce(x, 0.0)
  n2: n + 1
""")
    x = [1.7e308, -1.7e308, float("inf"), float("-inf"), 0.0, -0.0, 1e-300, -5.5, 2.5, None]
    n = [-(2**62), 2**62, -3, 0, 0, 1, 2, 3, 4, 5]
    fitted = spec.fit(pd.DataFrame({"x": x, "n": n}))
    b = fitted.baseline_["inputs"]
    assert b["x"]["inf_count"] == 2 and b["x"]["null_count"] == 1
    assert b["x"]["min"] == -1.7e308 and b["x"]["max"] == 1.7e308
    assert sum(b["x"]["histogram"]["counts"]) == 7
    assert b["n"]["min"] == -(2**62) and b["n"]["max"] == 2**62 and sum(b["n"]["histogram"]["counts"]) == 10
    from featurekit.values import codec

    json.loads(codec.dumps(fitted.baseline_), parse_constant=lambda c: pytest.fail(f"bare {c}"))


def test_log_buckets_hold_their_values_exactly():
    """``gamma**(k-1) < x <= gamma**k`` in float64 for every value, including the powers
    themselves and their float neighbours (where a computed logarithm can round either way)."""
    from featurekit.analyzers.columns import _GAMMA, _log_bucket

    powers = np.power(_GAMMA, np.arange(-1046, 35800, dtype=np.float64))
    powers = powers[(powers >= 1e-9) & np.isfinite(powers)]
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [
            powers,
            np.nextafter(powers, 0.0),
            np.nextafter(powers, np.inf),
            10.0 ** rng.uniform(-9, 308, 200_000),
            [1e-9, 1.0, 1.7976931348623157e308],
        ]
    )
    x = x[(x >= 1e-9) & np.isfinite(x)]
    k = _log_bucket(x).astype(np.float64)
    with np.errstate(over="ignore"):
        assert (np.power(_GAMMA, k - 1) < x).all() and (x <= np.power(_GAMMA, k)).all()
