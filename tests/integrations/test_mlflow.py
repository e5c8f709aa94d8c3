"""featurekit.mlflow: one pyfunc model (transform + model) logged to a local file store, loaded
back, and predicting on raw rows exactly as the local transform / pipeline does."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

import featurekit as fk
from featurekit.sklearn import FeatureTransformer, serve_row

# mlflow is imported by a fixture, not at collection: importing it takes seconds, and only the
# worker that runs these tests should pay for it
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("mlflow") is None, reason="mlflow is not installed (pip install featurekit[mlflow])"
)


@pytest.fixture(scope="module")
def mlflow():
    return importlib.import_module("mlflow")


@pytest.fixture(scope="module")
def fkm(mlflow):
    return importlib.import_module("featurekit.mlflow")


_ENV = {"MLFLOW_ALLOW_FILE_STORE": "true", "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}


@pytest.fixture(scope="module")
def store(tmp_path_factory, mlflow):
    """A local file store in a temporary folder (restores the tracking URI and env afterwards)."""
    root = tmp_path_factory.mktemp("mlflow")
    saved = {k: os.environ.get(k) for k in _ENV}
    os.environ.update(_ENV)
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"file:{root}/mlruns")
    mlflow.set_registry_uri(f"file:{root}/mlruns")
    try:
        yield root
    finally:
        mlflow.set_tracking_uri(previous)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="module")
def data(make_frame, make_target):
    df = make_frame(300, seed=1)
    return df, make_target(df)


@pytest.fixture(scope="module")
def features_only(store, data, mixed_yaml, fkm):
    df, _ = data
    fitted = fk.spec_from_yaml(mixed_yaml).fit(df)
    info = fkm.log_model(fitted, input_example=df.head(5))
    return fitted, info


@pytest.fixture(scope="module")
def pipeline_logged(store, data, mixed_yaml, fkm):
    df, y = data
    pipe = Pipeline([("features", FeatureTransformer(mixed_yaml)), ("model", LogisticRegression(max_iter=1000))]).fit(
        df, y
    )
    info = fkm.log_model(pipe, method="predict_proba", input_example=df.head(3), registered_model_name="fk_churn_test")
    return pipe, info


def test_features_only_round_trip_bit_exact(features_only, data, mlflow, fkm):
    df, _ = data
    fitted, info = features_only
    pyfunc = mlflow.pyfunc.load_model(info.model_uri)
    out = pyfunc.predict(fkm.serving_frame(df, fitted.spec))
    pd.testing.assert_frame_equal(out, fitted.transform(df), check_exact=True)
    # load_model is the same pyfunc
    again = fkm.load_model(info.model_uri).predict(fkm.serving_frame(df.head(7), fitted.spec))
    pd.testing.assert_frame_equal(again, fitted.transform(df.head(7)), check_exact=True)


def test_signature_from_input_contract(features_only, mlflow, fkm):
    fitted, info = features_only
    inputs = {c.name: (c.type.name, c.required) for c in info.signature.inputs.inputs}
    assert inputs == {
        "spend": ("double", False),
        "tenure": ("long", True),  # int, nullable: false
        "country": ("string", False),  # category
        "active": ("boolean", False),
        "last_ts": ("datetime", False),
    }
    outputs = {c.name: c.type.name for c in info.signature.outputs.inputs}
    assert outputs == {
        "spend_imp": "double",
        "spend_z": "double",
        "per_day": "double",
        "country_idx": "long",
        "is_active": "boolean",
        "days_since": "double",
    }


def test_aware_only_timestamps_survive_mlflows_naive_datetime(store, mlflow, fkm):
    """MLflow's ``datetime`` has no zone: a ``tz: aware`` input still gets aware instants."""
    spec = fk.spec_from_yaml("""\
featurekit: 1
name: aware
version: 0.1.0
inputs:
  t: {type: timestamp, tz: aware, timezone: Europe/Paris}
features:
  hour: hour(t)
  day: day_of_week(t)
""")
    df = pd.DataFrame({"t": pd.date_range("2026-03-28 20:00", periods=40, freq="37min", tz="America/New_York")})
    fitted = spec.fit(df)
    info = fkm.log_model(fitted, input_example=df.head(3))
    served = fkm.serving_frame(df, spec)
    assert served["t"].dt.tz is None  # what MLflow's schema can hold
    out = mlflow.pyfunc.load_model(info.model_uri).predict(served)
    pd.testing.assert_frame_equal(out, fitted.transform(df), check_exact=True)


def test_schema_type_mapping_all_types(mlflow, fkm):
    spec = fk.spec_from_yaml("""\
featurekit: 1
name: types
version: 0.1.0
inputs:
  f: {type: float, nullable: false}
  i: {type: int, nullable: false}
  ni: {type: int}
  s: {type: str}
  c: {type: category}
  b: {type: bool, nullable: false}
  t: {type: timestamp}
features:
  out: coalesce(f, 0.0)
""")
    got = {c.name: (c.type.name, c.required) for c in fkm.input_schema(spec).inputs}
    assert got == {
        "f": ("double", True),
        "i": ("long", True),
        "ni": ("double", False),
        "s": ("string", False),
        "c": ("string", False),
        "b": ("boolean", True),
        "t": ("datetime", False),
    }


def test_featurekit_artifact_is_a_plain_directory(features_only, mlflow, fkm):
    fitted, info = features_only
    local = Path(mlflow.artifacts.download_artifacts(info.model_uri))
    features_dir = next(p for p in local.rglob("manifest.json")).parent
    names = {p.name for p in features_dir.iterdir()}
    assert {"manifest.json", "spec.json", "state.json"} <= names
    assert all(p.is_file() and p.suffix == ".json" for p in features_dir.iterdir())
    assert fk.load(features_dir, expect=fitted.pin).fingerprint == fitted.fingerprint
    # models from code: no pickled python model anywhere in the logged model
    assert not [p for p in local.rglob("*") if p.suffix in (".pkl", ".pickle", ".joblib")]
    mlmodel = (local / "MLmodel").read_text()
    assert fitted.pin in mlmodel
    assert "featurekit_pyfunc.py" in mlmodel
    assert (local / "input_example.json").is_file()


def test_pipeline_predictions_match_local(pipeline_logged, data, mlflow, fkm):
    df, _ = data
    pipe, info = pipeline_logged
    spec = pipe.named_steps["features"].fitted_.spec
    pyfunc = mlflow.pyfunc.load_model(info.model_uri)
    got = pyfunc.predict(fkm.serving_frame(df, spec))
    np.testing.assert_array_equal(got, pipe.predict_proba(df))
    # and one raw row agrees with the local row path
    row = df.iloc[[4]]
    np.testing.assert_array_equal(
        pyfunc.predict(fkm.serving_frame(row, spec))[0], serve_row(pipe, row.iloc[0].to_dict())
    )
    assert info.registered_model_version == 1  # registered in the file-store registry


def test_transform_plus_separate_model(store, data, mixed_yaml, mlflow, fkm):
    df, y = data
    fitted = fk.spec_from_yaml(mixed_yaml).fit(df)
    X = fitted.transform(df).to_numpy(dtype=float)
    clf = LogisticRegression(max_iter=1000).fit(X, y)
    info = fkm.log_model(fitted, model=clf, artifact_path="clf", input_example=df.head(2))
    got = fkm.load_model(info.model_uri).predict(fkm.serving_frame(df, fitted.spec))
    np.testing.assert_array_equal(np.asarray(got), clf.predict(X))


def test_serving_input_example_validates(features_only, data, mlflow, fkm):
    fitted, info = features_only
    validate = getattr(mlflow.models, "validate_serving_input", None)
    if validate is None:
        pytest.skip("mlflow.models.validate_serving_input is not in this MLflow version")
    local = Path(mlflow.artifacts.download_artifacts(info.model_uri))
    example = local / "serving_input_example.json"
    assert example.is_file()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # deprecated in MLflow 3.13 in favour of models.predict
        out = validate(info.model_uri, example.read_text())
    rows = json.loads((local / "input_example.json").read_text())
    assert len(out) == len(rows["data"]) == 5
    pd.testing.assert_frame_equal(
        pd.DataFrame(out).reset_index(drop=True),
        fitted.transform(data[0].head(5)).reset_index(drop=True),
        check_exact=True,
    )
