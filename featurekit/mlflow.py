"""MLflow integration: log a fitted transform (and optionally a model) as ONE pyfunc model.

>>> import featurekit.mlflow as fkm                                       # doctest: +SKIP
>>> info = fkm.log_model(fitted, model=clf, input_example=train_df.head(5))  # doctest: +SKIP
>>> fkm.load_model(info.model_uri).predict(raw_rows_df)                 # doctest: +SKIP

How it is packaged: MLflow "models from code". The logged python model is a five-line script
that builds :class:`FeaturekitModel` (a ``mlflow.pyfunc.PythonModel`` defined here), its settings
are the ``model_config`` (pin, whether there is a model, the prediction method), and
``artifacts={"features": <featurekit artifact directory>, "model": <model.joblib>}``. The
featurekit artifact is the plain, hash-checked directory written by ``fitted.save`` (manifest,
spec.json, state.json; no pickle); at load time it is opened with ``featurekit.load`` pinned to
the exact ``name@version#fingerprint`` that was logged. The downstream model (any object with
``predict``/``predict_proba``, e.g. a scikit-learn estimator or the post-feature part of a
``Pipeline``) is stored with joblib, since scikit-learn models have no other format.

``predict`` takes raw input rows (a DataFrame, a list of row dicts or one dict), runs the batch
path, and returns the model's predictions, or the feature DataFrame when no model was logged.
The input signature comes from the spec's input contract (float -> double, int -> long,
str/category -> string, bool -> boolean, timestamp -> datetime; nullable inputs are
``required=False``).

Requires the ``mlflow`` extra (``pip install featurekit[mlflow]``, which installs mlflow-skinny).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from typing import Any

import mlflow
import mlflow.pyfunc
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.pyfunc import PythonModel
from mlflow.types import ColSpec, Schema, TensorSpec

from featurekit.spec.model import Spec
from featurekit.transform import FittedTransform

__all__ = ["log_model", "load_model", "serving_frame", "input_schema", "output_schema", "FeaturekitModel"]

_INPUT_TYPES = {
    "float": "double",
    "int": "long",
    "str": "string",
    "category": "string",
    "bool": "boolean",
    "timestamp": "datetime",
}
_OUTPUT_TYPES = {"float": "double", "int": "long", "str": "string", "bool": "boolean", "timestamp": "datetime"}


def input_schema(spec: Spec) -> Schema:
    """The MLflow input schema of a spec's input contract.

    A nullable ``int`` input is ``double``, not ``long``: MLflow cannot hold a missing value in a
    ``long`` column (its documented advice for integers with missing values); featurekit still
    accepts only integral values there (``3.0`` is read as ``3``; ``3.5`` violates the contract).
    """
    cols: list[ColSpec | TensorSpec] = []
    for i in spec.inputs:
        typ = "double" if i.type == "int" and i.nullable else _INPUT_TYPES[i.type]
        cols.append(ColSpec(typ, i.name, required=not i.nullable))
    return Schema(cols)


def output_schema(fitted: FittedTransform) -> Schema:
    """The MLflow schema of the feature columns (nullable columns are ``required=False``)."""
    cols: list[ColSpec | TensorSpec] = []
    for name, typ in fitted.output_types.items():
        base = typ.rstrip("?")
        cols.append(ColSpec(_OUTPUT_TYPES[base], name, required=not typ.endswith("?")))
    return Schema(cols)


class FeaturekitModel(PythonModel):
    """pyfunc: raw rows -> featurekit batch path -> model (or the features when there is no model).

    Logged "from code": MLflow stores the small script :data:`_MODEL_CODE` (which builds this
    class) and ``model_config={"pin", "has_model", "method"}``, never a pickle of this object.
    """

    def load_context(self, context: Any) -> None:
        import featurekit as fk

        config = dict(getattr(context, "model_config", None) or {})
        self.method = config.get("method") or "predict"
        self._fitted = fk.load(context.artifacts["features"], expect=config.get("pin"))
        self._model = None
        if config.get("has_model"):
            import joblib

            self._model = joblib.load(context.artifacts["model"])

    def predict(self, context, model_input: pd.DataFrame, params=None):
        # (a DataFrame hint: MLflow infers nothing from it; the signature comes from the contract)
        if isinstance(model_input, Mapping):
            model_input = [dict(model_input)]
        features = self._fitted.transform(aware_again(model_input, self._fitted.spec))
        if self._model is None:
            return features
        from featurekit.sklearn import apply_model, frame_to_float

        matrix = frame_to_float(features, self._fitted)
        method = (params or {}).get("method") or self.method
        return apply_model(self._model, matrix, self._fitted.output_columns, method)


_MODEL_CODE = """\
# featurekit pyfunc (MLflow "models from code"): the settings are in the model_config.
import mlflow
from featurekit.mlflow import FeaturekitModel

mlflow.models.set_model(FeaturekitModel())
"""


def serving_frame(data: Any, spec: Spec | None = None) -> Any:
    """Raw rows in the shape MLflow's schema enforcement accepts (and a JSON request produces).

    Values are unchanged for featurekit (it gives the same features for the result as for
    ``data``): pandas ``category`` columns become plain strings, nullable ``boolean``/``Int64``
    columns become object/float columns with None/NaN for missing values (MLflow cannot hold a
    missing value in a ``boolean`` or ``long`` column), and time-zone-aware timestamps become
    naive wall-clock times in the input's declared ``timezone`` (MLflow's ``datetime`` is naive;
    featurekit reads naive timestamps in that zone, so the instant is the same).
    """
    import pandas as pd

    if isinstance(data, list):
        data = pd.DataFrame(data)
    if not isinstance(data, pd.DataFrame):
        return data
    zones = {i.name: i.timezone for i in spec.inputs} if spec is not None else {}
    out = data.copy()
    for col in out.columns:
        series = out[col]
        dtype = series.dtype
        if (
            isinstance(dtype, pd.CategoricalDtype)
            or isinstance(dtype, pd.BooleanDtype)
            or (isinstance(dtype, pd.StringDtype))
        ):
            out[col] = series.astype(object).where(series.notna(), None)
        elif isinstance(dtype, pd.api.extensions.ExtensionDtype) and dtype.kind in "iuf":
            out[col] = series.astype("float64") if series.isna().any() else series.to_numpy(dtype.numpy_dtype)  # type: ignore[attr-defined]  # masked int/float dtypes
        elif isinstance(dtype, pd.DatetimeTZDtype):
            out[col] = series.dt.tz_convert(zones.get(col, "UTC")).dt.tz_localize(None)
    return out


def aware_again(frame: Any, spec: Spec) -> Any:
    """Undo what MLflow does to ``tz: aware`` inputs: their naive ``datetime`` columns (wall-clock
    times in the input's ``timezone``, as :func:`serving_frame` writes them) become aware again,
    the same instants, so the contract that demands aware timestamps accepts them."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        return frame
    aware = [i for i in spec.inputs if i.tz == "aware" and i.name in frame.columns]
    naive = [i for i in aware if pd.api.types.is_datetime64_dtype(frame[i.name].dtype)]
    if not naive:
        return frame
    return frame.assign(**{i.name: frame[i.name].dt.tz_localize(i.timezone) for i in naive})


def _split(fitted: Any, model: Any) -> tuple[FittedTransform, Any]:
    """Accept a FittedTransform, a fitted FeatureTransformer, or a fitted Pipeline starting with one."""
    if isinstance(fitted, FittedTransform):
        return fitted, model
    from featurekit.sklearn import FeatureTransformer, fitted_transform_of

    steps = getattr(fitted, "steps", None)
    if steps and isinstance(steps[0][1], FeatureTransformer):
        if model is not None:
            raise TypeError(
                "log_model: pass either a Pipeline(FeatureTransformer, model) or a transform plus model=, not both"
            )
        rest = fitted[1:] if len(steps) > 1 else None
        return fitted_transform_of(fitted), rest
    return fitted_transform_of(fitted), model


def _requirements(model: Any) -> list[str]:
    from importlib import metadata

    def pinned(dist: str) -> str | None:
        try:
            return f"{dist}=={metadata.version(dist)}"
        except metadata.PackageNotFoundError:
            return None

    reqs = [pinned("featurekit") or "featurekit"]
    for dist in ("mlflow-skinny", "numpy", "pandas", "pyarrow", "pyyaml", "cloudpickle", "joblib"):
        reqs.append(pinned(dist) or dist)
    if model is not None:
        root = type(model).__module__.split(".")[0]
        dist = {"sklearn": "scikit-learn"}.get(root, root)
        req = pinned(dist)
        if req and req not in reqs:
            reqs.append(req)
    return [r for r in dict.fromkeys(reqs)]


def log_model(
    fitted: Any,
    model: Any = None,
    artifact_path: str = "model",
    input_example: Any = None,
    registered_model_name: str | None = None,
    *,
    method: str | None = None,
    **kwargs: Any,
) -> Any:
    """Log ``fitted`` (+ ``model``) as one pyfunc model in the active run (one is started if none is).

    ``fitted``: a :class:`FittedTransform`, a fitted ``FeatureTransformer``, or a fitted
    ``Pipeline`` whose first step is one (its remaining steps become the model).
    ``model``: anything with ``predict`` (``method`` picks another, e.g. ``"predict_proba"``);
    ``None`` logs the transform alone and ``predict`` returns the features.
    ``input_example``: raw rows (DataFrame); also used to infer the output schema when a model is
    logged. Other keyword arguments go to ``mlflow.pyfunc.log_model`` (e.g. ``pip_requirements``,
    ``code_paths``). Returns MLflow's ``ModelInfo`` (``.model_uri`` is what :func:`load_model` takes).
    """
    fitted, model = _split(fitted, model)
    if model is not None and method is not None and not hasattr(model, method) and not hasattr(model, "steps"):
        raise TypeError(f"log_model: model {type(model).__name__} has no method {method!r}")
    if input_example is not None:
        input_example = serving_frame(input_example, fitted.spec)
    config = {"pin": fitted.pin, "has_model": model is not None, "method": method or "predict"}
    with tempfile.TemporaryDirectory(prefix="fk-mlflow-") as tmp:
        code = os.path.join(tmp, "featurekit_pyfunc.py")
        with open(code, "w", encoding="utf-8") as fh:
            fh.write(_MODEL_CODE)
        artifacts = {"features": fitted.save(os.path.join(tmp, "features"))}
        if model is not None:
            import joblib

            artifacts["model"] = os.path.join(tmp, "model.joblib")
            joblib.dump(model, artifacts["model"])
        outputs = output_schema(fitted) if model is None else None
        if model is not None and input_example is not None:
            from mlflow.models import infer_signature

            local = FeaturekitModel()
            local._fitted, local._model, local.method = fitted, model, config["method"]
            outputs = infer_signature(None, local.predict(None, input_example)).outputs
        signature = ModelSignature(inputs=input_schema(fitted.spec), outputs=outputs)
        kwargs.setdefault("pip_requirements", _requirements(model))
        meta = dict(kwargs.pop("metadata", None) or {})
        meta.setdefault("featurekit_pin", fitted.pin)
        meta.setdefault("featurekit_output_columns", fitted.output_columns)
        active = mlflow.active_run()
        run = mlflow.start_run() if active is None else None
        try:
            return mlflow.pyfunc.log_model(
                name=artifact_path,
                python_model=code,
                artifacts=artifacts,
                model_config=config,
                signature=signature,
                input_example=input_example,
                registered_model_name=registered_model_name,
                metadata=meta,
                **kwargs,
            )
        finally:
            if run is not None:
                mlflow.end_run()


def load_model(uri: str) -> Any:
    """``mlflow.pyfunc.load_model(uri)``: a pyfunc whose ``predict`` takes raw rows."""
    return mlflow.pyfunc.load_model(uri)
