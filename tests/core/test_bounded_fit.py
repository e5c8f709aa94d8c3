"""Bounded fitting through specs: ``approx=`` / ``bounded=`` are in the fingerprint (and absent
from it at their default), the fitted state keeps the declared bound, and ``fit`` warns —
as filterable warning classes, and on the command line — with the memory and the fix."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import featurekit as fk
import featurekit.fit as fit_module
from featurekit.cli import main

HEAD = """featurekit: 1
name: b
version: 1.0.0
inputs: {x: {type: float}, c: {type: category}}
features:
"""


def spec(*features: str) -> fk.Spec:
    return fk.spec_from_yaml(HEAD + "".join(f"  f{i}: {f}\n" for i, f in enumerate(features)))


def frame(n: int = 5_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.lognormal(2, 1.5, n)
    x[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame({"x": x, "c": [f"v{int(z)}" for z in np.minimum(rng.zipf(1.4, n), 10**6)]})


@pytest.mark.parametrize(
    "exact,bounded",
    [
        ("clip(x, lower_pct=1, upper_pct=99)", "clip(x, lower_pct=1, upper_pct=99, approx=0.001)"),
        ("bucketize(x, quantiles=[10, 50, 90])", "bucketize(x, quantiles=[10, 50, 90], approx=0.001)"),
        ("robust_scale(x)", "robust_scale(x, approx=0.001)"),
        ('impute(x, strategy="median")', 'impute(x, strategy="median", approx=0.001)'),
        ("vocab(c, top_k=5)", "vocab(c, top_k=5, bounded=50)"),
        ("one_hot(c, top_k=3)", "one_hot(c, top_k=3, bounded=50)"),
        ("frequency(c)", "frequency(c, bounded=50)"),
    ],
)
def test_bounded_modes_are_part_of_the_fingerprint(exact, bounded):
    a, b = spec(exact), spec(bounded)
    assert a.fingerprint != b.fingerprint
    other = spec(bounded.replace("0.001", "0.01").replace("bounded=50", "bounded=60"))
    assert other.fingerprint not in (a.fingerprint, b.fingerprint)
    node = a.graph.features["f0"]
    # the node still carries the parameter at its default, for the op code to read
    assert ("approx", None) in node.params or ("bounded", None) in node.params


def test_fitted_quantile_states_keep_the_declared_bound():
    data = frame(20_000)
    exact = spec("robust_scale(x)", "clip(x, lower_pct=1, upper_pct=99)").fit(data)
    approx = spec("robust_scale(x, approx=0.001)", "clip(x, lower_pct=1, upper_pct=99, approx=0.001)").fit(data)
    (e_rs, e_clip), (a_rs, a_clip) = (
        [f.state_[f.spec.graph.features[n].key] for n in ("f0", "f1")] for f in (exact, approx)
    )
    # positive data: every neighbour pair has one sign, so the bound is relative to the value itself
    assert abs(a_rs["median"] - e_rs["median"]) <= 0.001 * e_rs["median"]
    for side in ("lower", "upper"):
        assert abs(a_clip[side] - e_clip[side]) <= 0.001 * e_clip[side]
    assert a_clip != e_clip  # approximated, not silently exact


def test_exact_quantile_over_many_distinct_values_warns_with_memory_and_fix(monkeypatch):
    monkeypatch.setattr(fit_module, "EXACT_QUANTILE_WARN_DISTINCT", 1_000)
    data = frame(5_000)
    with pytest.warns(fk.FitMemoryWarning) as caught:
        spec('impute(x, strategy="median")').fit(data)
    text = str(caught[0].message)
    assert "feature 'f0' (impute(strategy='median'))" in text
    assert "held 4,7" in text and "MB per copy" in text  # ~4,750 distinct non-null values
    assert "Fix: add approx=0.001 to impute(...)" in text and "KB on this data" in text
    assert issubclass(fk.FitMemoryWarning, fk.FeaturekitWarning) and issubclass(fk.FeaturekitWarning, UserWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # approx mode: bounded, nothing to warn about
        spec('impute(x, strategy="median", approx=0.001)').fit(data)
        spec("vocab(c, top_k=3)").fit(data)  # counts are not quantiles


def test_uncertain_bounded_vocabulary_warns_and_says_so_in_the_state():
    data = frame(5_000)
    with pytest.warns(fk.ApproximationWarning, match="not certainly the exact top 40"):
        fitted = spec("vocab(c, top_k=40, bounded=40)").fit(data)
    state = fitted.state_[fitted.spec.graph.features["f0"].key]
    assert state["certain"] is False and state["count_bound"] > 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sure = spec("vocab(c, top_k=3, bounded=200)").fit(data)
    state = sure.state_[sure.spec.graph.features["f0"].key]
    assert state["certain"] is True
    exact = spec("vocab(c, top_k=3)").fit(data)
    assert state["vocab"] == exact.state_[exact.spec.graph.features["f0"].key]["vocab"]


def test_sketch_at_its_bucket_cap_warns_with_the_floor(monkeypatch):
    import featurekit.analyzers.sketch as sketch

    monkeypatch.setattr(sketch, "MAX_BUCKETS", 4)  # the cap the ops' analyzers use
    with pytest.warns(fk.ApproximationWarning, match=r"reached its bucket cap; values below .* share one bucket"):
        fitted = spec("bucketize(x, quantiles=[1, 50, 99], approx=0.01)").fit(frame(2_000))
    assert len(fitted.state_[fitted.spec.graph.features["f0"].key]["edges"]) == 3


def test_bounded_fit_takes_one_more_pass():
    messages: list[str] = []
    spec("vocab(c, top_k=3, bounded=100)", "robust_scale(x)").fit(frame(100), progress=messages.append)
    passes = [m for m in messages if m.startswith("fit pass")]
    assert len(passes) == 2 and "2 analyzer(s)" in passes[0] and "1 analyzer(s)" in passes[1]
    assert fit_module.count_passes(spec("vocab(c, top_k=3, bounded=100)", "robust_scale(x)")) == 2


def test_cli_fit_prints_the_warning(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(fit_module, "EXACT_QUANTILE_WARN_DISTINCT", 1_000)
    path = tmp_path / "s.yaml"
    path.write_text(HEAD + '  m: impute(x, strategy="median")\n', encoding="utf-8")
    frame(3_000).to_parquet(tmp_path / "d.parquet")
    assert main(["-q", "fit", str(path), "--data", str(tmp_path / "d.parquet"), "--out", str(tmp_path / "a")]) == 0
    err = capsys.readouterr().err
    assert err.startswith("warning: fit: feature 'm' (impute(strategy='median')): the exact quantile accumulator")
    assert "Fix: add approx=0.001" in err
