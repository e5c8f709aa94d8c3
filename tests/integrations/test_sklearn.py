"""featurekit.sklearn.FeatureTransformer: scikit-learn's own checks, Pipeline, GridSearchCV,
clone, set_output, joblib round trips and serve_row (row path) against the batch pipeline."""

from __future__ import annotations

import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import featurekit as fk
from featurekit.sklearn import FeatureTransformer, serve_row

NUMERIC_YAML = """\
featurekit: 1
name: numeric5
version: 1.0.0
inputs:
  x0: {type: float}
  x1: {type: float}
  x2: {type: float}
  x3: {type: float}
  x4: {type: float}
features:
  x0_imp: {expr: 'impute(x0, strategy="median")', on_empty_fit: fallback}
  x1_z: {expr: 'coalesce(zscore(x1), 0.0)', on_empty_fit: fallback}
  x2_clip: {expr: 'clip(impute(x2, strategy="mean"), lower_pct=5, upper_pct=95)', on_empty_fit: fallback}
  x3_log: log1p(abs(coalesce(x3, 0.0)))
  x4_sum: coalesce(x4, 0.0) + coalesce(x0, 0.0)
"""

# Every check passes: a 2-D array's column i is read as input ``x{i}`` (scikit-learn's own
# name for an unnamed column), columns the spec does not read are ignored and inputs past the
# array's width are null columns. The checks' arrays of 1..10 columns therefore fit this x0..x4
# spec; its analyzed features declare on_empty_fit: fallback, since a 1-column array leaves
# x1 and x2 without values. Nothing is expected to fail; the dict is kept so a new failure must
# be argued here.
EXPECTED_FAILED_CHECKS: dict[str, str] = {}


@parametrize_with_checks(
    [FeatureTransformer(spec=fk.spec_from_yaml(NUMERIC_YAML))],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_spec_forms_are_equivalent(tmp_path, mixed_df, mixed_yaml):
    path = tmp_path / "mixed.yaml"
    path.write_text(mixed_yaml)
    spec = fk.spec_from_yaml(mixed_yaml)
    fps = {FeatureTransformer(s).fit(mixed_df).fitted_.fingerprint for s in (spec, mixed_yaml, str(path), path)}
    assert len(fps) == 1
    assert fps == {spec.fit(mixed_df).fingerprint}


def test_params_unchanged_and_clone_refit_identical(mixed_spec, mixed_df):
    est = FeatureTransformer(spec=mixed_spec)
    assert est.get_params() == {"spec": mixed_spec}
    assert est.get_params()["spec"] is mixed_spec
    est.fit(mixed_df)
    twin = clone(est)
    assert not hasattr(twin, "fitted_")
    twin.fit(mixed_df)
    assert twin.fitted_.fingerprint == est.fitted_.fingerprint
    assert list(est.feature_names_in_) == ["spend", "tenure", "country", "active", "last_ts"]
    assert est.n_features_in_ == 5


def test_transform_numpy_default_and_pandas_output(mixed_spec, mixed_df):
    est = FeatureTransformer(mixed_spec).fit(mixed_df)
    batch = est.fitted_.transform(mixed_df)
    arr = est.transform(mixed_df)
    assert isinstance(arr, np.ndarray) and arr.dtype == np.float64
    assert arr.shape == batch.shape
    np.testing.assert_array_equal(arr, batch.to_numpy(dtype=float))
    assert list(est.get_feature_names_out()) == est.fitted_.output_columns
    est.set_output(transform="pandas")
    frame = est.transform(mixed_df)
    pd.testing.assert_frame_equal(frame, batch)
    # list of dicts is accepted too
    rows = mixed_df.head(5).to_dict("records")
    assert est.transform(rows).shape == (5, len(est.fitted_.output_columns))


def test_array_input_refused_for_named_spec(mixed_spec, mixed_df):
    est = FeatureTransformer(mixed_spec).fit(mixed_df)
    with pytest.raises(ValueError, match="without column names"):
        est.transform(np.zeros((2, 5)))


def _fit_pipeline(spec, df, y, output=None):
    pipe = Pipeline([("features", FeatureTransformer(spec)), ("model", LogisticRegression(max_iter=1000))])
    if output:
        pipe.set_output(transform=output)
    return pipe.fit(df, y)


@pytest.mark.parametrize("output", [None, "pandas"])
def test_pipeline_and_serve_row(mixed_spec, mixed_df, output, make_target):
    y = make_target(mixed_df)
    pipe = _fit_pipeline(mixed_spec, mixed_df, y, output)
    proba = pipe.predict_proba(mixed_df)
    for i in range(0, len(mixed_df), 40):
        row = {k: (None if pd.isna(v) else v) for k, v in mixed_df.iloc[i].to_dict().items()}
        one = pipe.predict_proba(mixed_df.iloc[[i]])
        served = serve_row(pipe, row)
        np.testing.assert_array_equal(served, one[0])  # same input, same one-row matrix: bit-exact
        # the whole-frame product may differ by an ulp (BLAS blocks n rows differently from 1)
        np.testing.assert_allclose(served, proba[i], rtol=1e-12, atol=0)
    assert serve_row(pipe, mixed_df.iloc[0].to_dict(), method="predict") == pipe.predict(mixed_df.iloc[[0]])[0]


def test_serve_row_through_intermediate_step(mixed_spec, mixed_df, make_target):
    y = make_target(mixed_df)
    pipe = Pipeline(
        [
            ("features", FeatureTransformer(mixed_spec)),
            ("scale", StandardScaler()),
            ("model", LogisticRegression(max_iter=1000)),
        ]
    ).fit(mixed_df, y)
    row = mixed_df.iloc[3].to_dict()
    np.testing.assert_allclose(serve_row(pipe, row), pipe.predict_proba(mixed_df.iloc[[3]])[0], rtol=0, atol=0)


def test_grid_search_over_model_param(mixed_spec, mixed_df, make_target):
    y = make_target(mixed_df)
    pipe = Pipeline([("features", FeatureTransformer(mixed_spec)), ("model", LogisticRegression(max_iter=1000))])
    grid = GridSearchCV(pipe, {"model__C": [0.1, 1.0]}, cv=2).fit(mixed_df, y)
    assert grid.best_params_["model__C"] in (0.1, 1.0)
    best = grid.best_estimator_
    np.testing.assert_array_equal(
        best.predict_proba(mixed_df.head(3)),
        np.asarray([serve_row(best, r) for r in mixed_df.head(3).to_dict("records")]),
    )


def test_joblib_round_trip_stores_no_code(tmp_path, mixed_spec, mixed_df, make_target):
    y = make_target(mixed_df)
    pipe = _fit_pipeline(mixed_spec, mixed_df, y)
    est = pipe.named_steps["features"]
    state = est.__getstate__()
    blob = pickle.dumps(state)
    assert b"featurekit.compile" not in blob and b"<fk-row" not in blob
    assert set(state["fitted_"]) == {"__featurekit_fitted__"}
    path = tmp_path / "pipe.joblib"
    joblib.dump(pipe, path)
    back = joblib.load(path)
    fe = back.named_steps["features"]
    assert fe.fitted_.fingerprint == est.fitted_.fingerprint
    assert fe.spec == mixed_spec
    np.testing.assert_array_equal(back.predict_proba(mixed_df), pipe.predict_proba(mixed_df))
    row = mixed_df.iloc[5].to_dict()
    assert fe.fitted_.transform_row(row) == est.fitted_.transform_row(row)
    np.testing.assert_array_equal(serve_row(back, row), serve_row(pipe, row))


def test_joblib_round_trip_with_yaml_text_param(tmp_path, mixed_df, mixed_yaml):
    est = FeatureTransformer(mixed_yaml).fit(mixed_df)
    joblib.dump(est, tmp_path / "e.joblib")
    back = joblib.load(tmp_path / "e.joblib")
    assert back.spec == mixed_yaml
    np.testing.assert_array_equal(back.transform(mixed_df), est.transform(mixed_df))


def test_spec_none_is_a_clear_error(mixed_df):
    with pytest.raises(ValueError, match="spec is None"):
        FeatureTransformer().fit(mixed_df)


def test_global_set_config_pandas(mixed_spec, mixed_df):
    import sklearn

    est = FeatureTransformer(mixed_spec).fit(mixed_df)
    with sklearn.config_context(transform_output="pandas"):
        out = est.transform(mixed_df)
    assert isinstance(out, pd.DataFrame) and list(out.columns) == est.fitted_.output_columns
    assert isinstance(est.transform(mixed_df), np.ndarray)
