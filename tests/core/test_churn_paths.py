"""The reference workload end to end: both paths agree, and agree with hand-written code."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import featurekit as fk
from featurekit import parity
from featurekit.datasets import make_churn, to_rows
from featurekit.values.equality import STRICT

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
import churn_handwritten as hw  # noqa: E402


@pytest.fixture(scope="module")
def churn():
    spec = fk.load_spec(ROOT / "specs" / "churn.yaml")
    train = make_churn(20_000, seed=11)
    evaluation = make_churn(10_000, seed=12, evaluation=True)
    return spec, train, evaluation, spec.fit(train)


def test_batch_and_row_paths_agree_on_every_cell(churn):
    spec, _, evaluation, fitted = churn
    report = parity.check(fitted, evaluation, edges=False, shrink=False)
    assert report.rows == 10_000 and len(report.columns) == 30
    assert report.ok, report.to_text(color=False)


def test_output_schema_is_the_reference_one(churn):
    _, _, evaluation, fitted = churn
    out = fitted.transform(evaluation)
    assert list(out.columns) == hw.OUTPUT_COLUMNS
    ints = [c for c in hw.OUTPUT_COLUMNS if fitted.output_types[c] == "int"]
    floats = [c for c in hw.OUTPUT_COLUMNS if fitted.output_types[c] == "float"]
    assert len(ints) == 19 and len(floats) == 11
    assert all(out[c].dtype == np.int64 for c in ints)
    assert all(out[c].dtype == np.float64 for c in floats)
    assert out.index.equals(evaluation.index)


def test_input_frame_is_not_mutated(churn):
    _, _, evaluation, fitted = churn
    before = evaluation.copy(deep=True)
    fitted.transform(evaluation)
    pd.testing.assert_frame_equal(evaluation, before)


def test_fitted_state_matches_the_hand_written_fit(churn):
    _, train, _, fitted = churn
    c = hw.fit_handwritten(train)
    state = {f: items[-1]["state"] for f, items in fitted.state_by_feature().items() if items}
    assert state["spend_imputed"]["fill"] == c["spend_median"]
    assert (state["spend_clipped"]["lower"], state["spend_clipped"]["upper"]) == (c["spend_p01"], c["spend_p99"])
    assert state["spend_bucket"]["edges"] == list(c["spend_bounds"])
    assert state["tenure_minmax"]["min"] == c["tenure_min"] and state["tenure_minmax"]["range"] == c["tenure_range"]
    assert state["days_since_last_login"]["fill"] == c["login_recency_median"]
    assert state["plan_onehot"]["vocab"] == c["plan_vocab"]
    assert state["country_idx"]["vocab"] == c["country_vocab"]
    assert state["device_idx"]["vocab"] == c["device_vocab"]
    # featurekit's mean/std are correctly rounded from exact sums; numpy's pairwise sums may
    # differ in the last bit or two.
    for ours, theirs in (
        (state["spend_z"]["mean"], c["spend_clip_mean"]),
        (state["spend_z"]["std"], c["spend_clip_std"]),
        (state["session_z"]["mean"], c["session_mean"]),
        (state["session_z"]["std"], c["session_std"]),
    ):
        assert math.isclose(ours, theirs, rel_tol=1e-14)


def test_outputs_match_hand_written_code_cell_for_cell(churn):
    _, train, evaluation, fitted = churn
    c = hw.fit_handwritten(train)
    ours = fitted.transform_rows(to_rows(evaluation[:3000]))
    theirs = [hw.transform_row_handwritten(r, c) for r in to_rows(evaluation[:3000])]
    for a, b in zip(ours, theirs):
        for col in hw.OUTPUT_COLUMNS:
            if col in ("spend_z", "session_z"):
                # only the z-scores can differ: by (last-bit difference of the mean) / std, which
                # is an absolute error (relative error grows without bound near zero)
                assert abs(a[col] - b[col]) <= 1e-13, (col, a[col], b[col])
            else:
                assert STRICT.same(a[col], b[col]), (col, a[col], b[col])


def test_fit_without_baseline_statistics_gives_the_same_state(churn):
    spec, train, _, fitted = churn
    lean = spec.fit(train, baseline=False)
    assert lean.baseline_ is None and fitted.baseline_ is not None
    assert lean.state_ == fitted.state_ and lean.fingerprint == fitted.fingerprint
