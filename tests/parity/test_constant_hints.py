"""compare(fitted=) points at the fitted constants behind value mismatches (featurekit/parity/constants.py)."""

from __future__ import annotations

import doctest
import json
import math
import subprocess
import sys

import pytest

import featurekit as fk
from featurekit import parity
from featurekit.datasets import make_churn
from featurekit.parity import constants
from featurekit.parity.constants import solve_affine

SPEC = """
featurekit: 1
name: spend
version: 1.0.0
inputs:
  monthly_spend: {type: float}
  tenure_days: {type: int, nullable: false}
features:
  spend_z: zscore(monthly_spend)
  spend_filled_z: zscore(impute(monthly_spend, strategy="median"))
  tenure_minmax: minmax(tenure_days)
  spend_bucket: bucketize(monthly_spend, quantiles=[25, 50, 75])
"""


@pytest.fixture(scope="module")
def fitted_and_data():
    train = make_churn(3_000, seed=5)
    fitted = fk.spec_from_yaml(SPEC).fit(train)
    return fitted, train, make_churn(300, seed=6, evaluation=True)


def _state(fitted, feature, op):
    return next(item["state"] for item in fitted.state_by_feature()[feature] if item["op"] == op)


def _serving(fitted, *, mean, std, fn=lambda x: x):
    """A hand-written serving function: featurekit's row path, except spend_z, recomputed."""

    def row_fn(row):
        out = fitted.transform_row(row)
        x = row.get("monthly_spend")
        out["spend_z"] = None if x is None or x != x else (fn(float(x)) - mean) / std
        return out

    return row_fn


def _compare(fitted, data, row_fn):
    return parity.compare(fitted.transform, row_fn, data, contract=fitted, invalid=False, fuzz=200)


def test_replay_of_logged_outputs_points_at_the_constants_too(fitted_and_data):
    """A serving log whose spend_z was served with a rounded mean: replay lists the constants."""
    fitted, _, data = fitted_and_data
    zs = _state(fitted, "spend_z", "zscore")
    serve = _serving(fitted, mean=round(zs["mean"], 2), std=zs["std"])
    rows = [
        {k: (None if v != v else v) for k, v in r.items()}
        for r in data[["monthly_spend", "tenure_days"]].to_dict("records")
    ]
    records = [{"input": row, "output": serve(row)} for row in rows]
    report = parity.replay(fitted, records, equality="value")
    assert [c.column for c in report.failing] == ["spend_z"]
    (hint,) = report.failing[0].constant_hints
    assert hint.implied is not None and _close(hint.implied["mean"], round(zs["mean"], 2))


def _close(a, b, rel=1e-9):
    return abs(a - b) <= rel * abs(b)


def test_a_rounded_mean_is_reported_with_the_mean_serving_implies(fitted_and_data):
    fitted, _, data = fitted_and_data
    zs = _state(fitted, "spend_z", "zscore")
    served_mean = round(zs["mean"], 2)  # the mean as a config file kept it
    report = _compare(fitted, data, _serving(fitted, mean=served_mean, std=zs["std"]))
    assert [c.column for c in report.failing] == ["spend_z"]
    (hint,) = report.failing[0].constant_hints
    assert (hint.op, hint.feature) == ("zscore", "spend_z")
    assert hint.constants == {"mean": zs["mean"], "std": zs["std"]}  # exact, no bookkeeping count
    assert hint.implied is not None and hint.solved_from >= 2
    assert _close(hint.implied["mean"], served_mean) and _close(hint.implied["std"], zs["std"])
    assert hint.relative_difference["mean"] > 1e-12
    text = report.to_text(color=False)
    assert f"the artifact has mean={zs['mean']!r}" in text and "state_by_feature()" in text


def test_a_sample_std_is_reported_with_the_std_serving_implies(fitted_and_data):
    fitted, train, data = fitted_and_data
    zs = _state(fitted, "spend_z", "zscore")
    served_std = float(train["monthly_spend"].std())  # pandas: ddof=1; the artifact's is ddof=0
    report = _compare(fitted, data, _serving(fitted, mean=zs["mean"], std=served_std))
    (hint,) = report.failing[0].constant_hints
    assert _close(hint.implied["std"], served_std) and _close(hint.implied["mean"], zs["mean"])
    assert not _close(served_std, zs["std"], rel=1e-6)
    payload = json.loads(report.to_json())
    (col,) = [c for c in payload["columns"] if c["column"] == "spend_z"]
    assert col["constant_hints"][0]["implied"]["std"] == hint.implied["std"]
    assert col["constant_hints"][0]["constants"]["std"] == zs["std"]
    assert all(c["constant_hints"] == [] for c in payload["columns"] if c["column"] != "spend_z")


def test_a_non_affine_bug_lists_the_constants_but_implies_nothing(fitted_and_data):
    fitted, _, data = fitted_and_data
    zs = _state(fitted, "spend_z", "zscore")
    report = _compare(fitted, data, _serving(fitted, mean=zs["mean"], std=zs["std"], fn=math.log1p))
    (hint,) = report.failing[0].constant_hints
    assert hint.constants == {"mean": zs["mean"], "std": zs["std"]}
    assert hint.implied is None and hint.relative_difference is None
    assert hint.verdict.startswith("not an affine difference")
    text = report.to_text(color=False)
    assert "not an affine difference" in text and "imply" not in text


def test_a_correct_serving_function_gets_no_hints(fitted_and_data):
    fitted, _, data = fitted_and_data
    report = _compare(fitted, data, fitted.transform_row)
    assert report.ok and all(c.constant_hints == () for c in report.columns)
    assert "fitted constants" not in report.to_text(color=False)


def test_the_solve_goes_through_impute_and_lists_every_fitted_op(fitted_and_data):
    fitted, _, data = fitted_and_data
    zs = _state(fitted, "spend_filled_z", "zscore")
    fill = _state(fitted, "spend_filled_z", "impute")["fill"]

    def row_fn(row):
        out = fitted.transform_row(row)
        x = row.get("monthly_spend")
        x = fill if x is None or x != x else float(x)
        out["spend_filled_z"] = (x - zs["mean"]) / (zs["std"] * 1.001)
        return out

    report = _compare(fitted, data, row_fn)
    hints = {h.op: h for h in report.failing[0].constant_hints}
    assert set(hints) == {"impute", "zscore"} and hints["impute"].constants == {"fill": fill}
    assert hints["impute"].implied is None and hints["impute"].verdict == ""
    assert _close(hints["zscore"].implied["std"], zs["std"] * 1.001)


def test_minmax_solves_min_and_range(fitted_and_data):
    fitted, train, data = fitted_and_data
    lo, hi = int(train["tenure_days"].min()), int(train["tenure_days"].max())

    def row_fn(row):
        out = fitted.transform_row(row)
        out["tenure_minmax"] = (row["tenure_days"] - lo) / (hi - lo + 1)  # an off-by-one range
        return out

    report = _compare(fitted, data, row_fn)
    (hint,) = report.failing[0].constant_hints
    assert hint.constants == {"min": float(lo), "range": float(hi - lo)}
    assert abs(hint.implied["min"] - lo) <= 1e-9 * hi and _close(hint.implied["range"], hi - lo + 1)


def test_features_without_a_solve_list_their_constants(fitted_and_data):
    fitted, _, data = fitted_and_data
    edges = _state(fitted, "spend_bucket", "bucketize")["edges"]

    def row_fn(row):
        out = fitted.transform_row(row)
        x = row.get("monthly_spend")
        out["spend_bucket"] = None if x is None or x != x else sum(e < x for e in edges)  # < for <=
        return out

    report = _compare(fitted, data, row_fn)
    (hint,) = report.failing[0].constant_hints
    assert hint.constants == {"edges": edges} and hint.implied is None and hint.verdict == ""
    text = report.to_text(color=False)
    assert f"edges={edges!r}" in text and "state_by_feature()" in text


def test_one_distinct_input_claims_no_implied_constants(fitted_and_data):
    fitted, _, _ = fitted_and_data
    zs = _state(fitted, "spend_z", "zscore")
    rows = [{"monthly_spend": 40.0, "tenure_days": 100}] * 3
    row_fn = _serving(fitted, mean=zs["mean"] + 1.0, std=zs["std"])
    report = parity.compare(fitted.transform, row_fn, rows, contract=fitted, edges=False)
    (hint,) = report.failing[0].constant_hints
    assert hint.implied is None and hint.verdict.startswith("fewer than 2 distinct inputs")


def test_solve_affine_refuses_what_it_cannot_determine():
    assert solve_affine([(1.0, 2.0), (3.0, 2.0)]) is None  # one distinct output
    assert solve_affine([(1.0, 0.5)]) is None
    center, scale = solve_affine([(x, (x - 14856.6925112) / 3.25) for x in (1e4, 1.5e4, 2e4)])
    assert _close(center, 14856.6925112, 1e-12) and _close(scale, 3.25, 1e-12)


def test_doctests():
    assert doctest.testmod(constants).failed == 0


def test_cli_serving_report_names_the_constants(fitted_and_data, tmp_path):
    fitted, train, data = fitted_and_data
    art = fitted.save(tmp_path / "art")
    data.to_parquet(tmp_path / "eval.parquet")
    served_std = float(train["monthly_spend"].std())
    (tmp_path / "serving_std.py").write_text(
        "import featurekit as fk\n"
        f"_f = fk.load({str(art)!r})\n"
        f"MEAN, STD = {_state(fitted, 'spend_z', 'zscore')['mean']!r}, {served_std!r}\n"
        "def features(row):\n"
        "    out = _f.transform_row(row)\n"
        "    x = row.get('monthly_spend')\n"
        "    out['spend_z'] = None if x is None or x != x else (float(x) - MEAN) / STD\n"
        "    return out\n"
    )
    base = [sys.executable, "-m", "featurekit.cli", "parity", str(art), "--data", str(tmp_path / "eval.parquet")]
    run = subprocess.run(
        base + ["--fuzz", "100", "--serving", "serving_std:features"], capture_output=True, text=True, cwd=tmp_path
    )
    assert run.returncode == 1, run.stderr
    assert "fitted constants of feature 'spend_z'" in run.stdout
    assert "serving's outputs (20 mismatching example(s)) imply mean=" in run.stdout
    assert "state_by_feature()" in run.stdout
    out = tmp_path / "p.json"
    run = subprocess.run(
        base + ["--fuzz", "100", "--serving", "serving_std:features", "--format", "json", "--output", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 1, run.stderr
    (col,) = [c for c in json.loads(out.read_text())["columns"] if c["column"] == "spend_z"]
    assert _close(col["constant_hints"][0]["implied"]["std"], served_std)
