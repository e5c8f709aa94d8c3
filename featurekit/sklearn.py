"""scikit-learn integration: :class:`FeatureTransformer`, a real estimator around a spec.

>>> from sklearn.pipeline import Pipeline                        # doctest: +SKIP
>>> from sklearn.linear_model import LogisticRegression          # doctest: +SKIP
>>> pipe = Pipeline([("features", FeatureTransformer("specs/churn.yaml")),
...                  ("model", LogisticRegression())]).fit(train_df, y)   # doctest: +SKIP
>>> serve_row(pipe, {"monthly_spend": 12.5, ...})                # row path, no pandas  # doctest: +SKIP

``transform`` runs the batch path and returns a float64 numpy array (nulls become NaN,
bools 0.0/1.0), or a DataFrame of the featurekit output after ``set_output(transform="pandas")``.
:func:`serve_row` sends one dict through the fitted pipeline via the *row* path.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from featurekit.spec.model import Spec
from featurekit.transform import FittedTransform

__all__ = ["FeatureTransformer", "serve_row", "resolve_spec", "fitted_transform_of"]

_NUMERIC_OUT = {"float", "int", "bool"}


def resolve_spec(spec: Any) -> Spec:
    """A :class:`Spec` from a ``Spec``, a ``dict`` (``Spec.to_dict()``), a YAML path or YAML text."""
    from featurekit.spec.load_yaml import load_spec, spec_from_dict, spec_from_yaml

    if isinstance(spec, Spec):
        return spec
    if isinstance(spec, Mapping):
        return spec_from_dict(spec)
    if isinstance(spec, os.PathLike):
        return load_spec(os.fspath(spec))
    if isinstance(spec, str):
        if "\n" not in spec and spec.strip().endswith((".yaml", ".yml")) or ("\n" not in spec and os.path.isfile(spec)):
            return load_spec(spec)
        return spec_from_yaml(spec)
    raise TypeError(
        f"FeatureTransformer: spec must be a featurekit Spec, a YAML path or YAML text; got {type(spec).__name__}"
    )


def _output_config(estimator: Any) -> str:
    """``set_output`` on the estimator, else ``sklearn.set_config(transform_output=...)``."""
    own = getattr(estimator, "_sklearn_output_config", {}).get("transform")
    if own is not None:
        return own
    from sklearn import get_config

    return get_config().get("transform_output", "default")


def _positional_names(names: list[str]) -> bool:
    """True when the inputs are named ``x0..x{n-1}`` (scikit-learn's names for unnamed columns)."""
    return names == [f"x{i}" for i in range(len(names))]


class FeatureTransformer(TransformerMixin, BaseEstimator):
    """Fit a featurekit spec inside scikit-learn.

    Parameters
    ----------
    spec : Spec, str or path
        A :class:`featurekit.Spec`, a path to a YAML spec, or YAML text. Stored unchanged.

    Attributes
    ----------
    fitted_ : FittedTransform
        The fitted transform (save it with ``fitted_.save(dir)``; both paths available).
    feature_names_in_ : ndarray of str
        The spec's input names (the columns read from ``X``; other columns are ignored).
    n_features_in_ : int
        Number of spec inputs.

    Input ``X`` is a DataFrame or a list of row dicts. A 2-D numpy array is accepted only
    when the spec's inputs are named ``x0, x1, ...`` (scikit-learn's convention for unnamed
    columns): column *i* is input ``x{i}``, and inputs past the array's width are null (a
    DataFrame lacking a declared column is refused instead). Nulls (NaN/None) follow the
    spec's contracts.
    """

    def __init__(self, spec: Any = None) -> None:
        self.spec = spec

    # -- scikit-learn protocol --------------------------------------------------------------

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.input_tags.dict = True
        tags.requires_fit = True
        tags.transformer_tags.preserves_dtype = []  # always float64 (or the featurekit frame)
        return tags

    def _spec(self) -> Spec:
        if self.spec is None:
            raise ValueError(
                "FeatureTransformer: spec is None\n  Fix: FeatureTransformer(spec=<Spec, YAML path or YAML text>)"
            )
        return resolve_spec(self.spec)

    def _as_frame(self, X: Any, spec: Spec, *, fitting: bool) -> Any:
        """``X`` as a DataFrame or list of dicts, plus its array width (None for named input)."""
        names = [i.name for i in spec.inputs]
        if isinstance(X, pd.DataFrame):
            if X.shape[0] == 0:
                raise ValueError(
                    f"FeatureTransformer: Found array with 0 sample(s) (shape={X.shape}) while a "
                    "minimum of 1 is required."
                )
            return X, None
        if isinstance(X, list) and X and all(isinstance(r, Mapping) for r in X):
            return X, None
        if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
            raise TypeError(
                "FeatureTransformer: sparse input is not supported (sparse matrix or array); pass a "
                "dense DataFrame with the spec's input columns"
            )
        if isinstance(X, Mapping):
            raise TypeError(
                "FeatureTransformer: got one dict; pass a list of row dicts (or use serve_row / "
                "fitted_.transform_row for one row)"
            )
        if not (hasattr(X, "__array__") or isinstance(X, (list, tuple))):
            raise TypeError(
                f"FeatureTransformer: unsupported input type {type(X).__name__}; pass a DataFrame or "
                "a list of row dicts"
            )
        arr = np.asarray(X)
        if arr.ndim != 2:
            raise ValueError(
                f"FeatureTransformer: Expected 2D array, got {arr.ndim}D array instead. Reshape your data "
                "or pass named input.\n  Fix: pass a DataFrame (or a list of row dicts) with the spec's input columns, "
                "or reshape with array.reshape(-1, 1) / array.reshape(1, -1)"
            )
        if arr.dtype.kind == "c":
            raise ValueError("FeatureTransformer: Complex data not supported")
        if arr.shape[0] == 0:
            raise ValueError(
                f"FeatureTransformer: Found array with 0 sample(s) (shape={arr.shape}) while a "
                "minimum of 1 is required."
            )
        if arr.shape[1] == 0:
            raise ValueError(
                f"FeatureTransformer: Found array with 0 feature(s) (shape={arr.shape}) while a "
                "minimum of 1 is required."
            )
        if not _positional_names(names):
            raise ValueError(
                f"FeatureTransformer: got an array without column names; spec {spec.name!r} reads inputs "
                f"{names} by name\n  Fix: pass a DataFrame (or a list of row dicts) with those columns"
            )
        if not fitting and arr.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {arr.shape[1]} features, but FeatureTransformer is expecting "
                f"{self.n_features_in_} features as input."
            )
        # column i is input ``x{i}`` (scikit-learn's name for an unnamed column); columns the
        # spec does not read are ignored, and inputs past the array's width are explicit null
        # columns (positions, unlike names, cannot be misspelt: scikit-learn fits 1..n columns)
        n = arr.shape[0]
        data = {name: arr[:, i] if i < arr.shape[1] else np.full(n, None, dtype=object) for i, name in enumerate(names)}
        return pd.DataFrame(data, index=range(n)), arr.shape[1]

    def fit(self, X: Any, y: Any = None, **fit_params: Any) -> FeatureTransformer:
        """Fit the spec's analyzers on ``X`` (``y`` is ignored); sets ``fitted_``.

        ``feature_names_in_``/``n_features_in_`` are the spec's inputs for named input (a
        DataFrame or row dicts); for a 2-D array ``n_features_in_`` is its width (later arrays
        must have the same width) and ``feature_names_in_`` is not set, as in scikit-learn.
        """
        spec = self._spec()
        data, width = self._as_frame(X, spec, fitting=True)
        self.fitted_ = spec.fit(data, **fit_params)
        if width is None:
            self.feature_names_in_ = np.asarray([i.name for i in spec.inputs], dtype=object)
            self.n_features_in_ = len(spec.inputs)
        else:
            self.__dict__.pop("feature_names_in_", None)
            self.n_features_in_ = width
        return self

    def _features(self, X: Any) -> pd.DataFrame:
        check_is_fitted(self, "fitted_")
        data, _ = self._as_frame(X, self.fitted_.spec, fitting=False)
        return self.fitted_.transform(data)

    def transform(self, X: Any) -> Any:
        """Batch path. A float64 array by default; a DataFrame with ``set_output(transform="pandas")``."""
        out = self._features(X)
        config = _output_config(self)
        if config == "pandas":
            return out
        if config not in ("default", None):
            raise ValueError(
                f"FeatureTransformer: set_output(transform={config!r}) is not supported; use 'default' or 'pandas'"
            )
        return frame_to_float(out, self.fitted_)

    def set_output(self, *, transform: str | None = None) -> FeatureTransformer:
        """``transform="pandas"``: return the featurekit DataFrame; ``"default"``: float64 array."""
        if transform is None:
            return self
        if transform not in ("default", "pandas"):
            raise ValueError(
                f"FeatureTransformer: set_output(transform={transform!r}) is not supported; use 'default' or 'pandas'"
            )
        if not hasattr(self, "_sklearn_output_config"):
            self._sklearn_output_config = {}
        self._sklearn_output_config["transform"] = transform
        return self

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The featurekit output columns, in order."""
        check_is_fitted(self, "fitted_")
        if input_features is not None and hasattr(self, "feature_names_in_"):
            given = [str(c) for c in input_features]
            if given != list(self.feature_names_in_):
                raise ValueError(
                    f"input_features {given} is not equal to feature_names_in_ {list(self.feature_names_in_)}"
                )
        return np.asarray(self.fitted_.output_columns, dtype=object)

    # -- pickling: spec dict + state JSON, never generated code ------------------------------

    def __getstate__(self) -> dict:
        state = super().__getstate__() if hasattr(super(), "__getstate__") else self.__dict__.copy()
        state = dict(state)
        if isinstance(state.get("spec"), Spec):
            state["spec"] = {"__featurekit_spec__": state["spec"].to_dict()}
        fitted = state.get("fitted_")
        if isinstance(fitted, FittedTransform):
            from featurekit.values import codec

            state["fitted_"] = {
                "__featurekit_fitted__": {
                    "spec": fitted.spec.to_dict(),
                    "state": codec.dumps(fitted.state_),
                    "fit_info": codec.dumps(fitted.fit_info_),
                    "fingerprint": fitted.fingerprint,
                }
            }
        return state

    def __setstate__(self, state: dict) -> None:
        from featurekit.spec.load_yaml import spec_from_dict

        state = dict(state)
        spec = state.get("spec")
        if isinstance(spec, dict) and "__featurekit_spec__" in spec:
            state["spec"] = spec_from_dict(spec["__featurekit_spec__"])
        fitted = state.get("fitted_")
        if isinstance(fitted, dict) and "__featurekit_fitted__" in fitted:
            from featurekit.errors import ArtifactError
            from featurekit.values import codec

            payload = fitted["__featurekit_fitted__"]
            rebuilt = FittedTransform(
                spec_from_dict(payload["spec"]),
                codec.loads(payload["state"]),
                fit_info=codec.loads(payload["fit_info"]),
            )
            if rebuilt.fingerprint != payload["fingerprint"]:
                raise ArtifactError(
                    "FeatureTransformer: unpickled transform's fingerprint differs from the one "
                    "recorded when it was pickled\n  Fix: unpickle with the featurekit version "
                    "that pickled it, or refit"
                )
            state["fitted_"] = rebuilt
        if hasattr(super(), "__setstate__"):
            super().__setstate__(state)
        else:  # pragma: no cover
            self.__dict__.update(state)


# -- helpers shared with featurekit.mlflow ---------------------------------------------------


def frame_to_float(frame: pd.DataFrame, fitted: FittedTransform) -> np.ndarray:
    """The batch output as float64: nulls -> NaN, bools -> 0/1; refuses str/timestamp columns."""
    types = fitted.output_types
    bad = [c for c in frame.columns if types.get(c, "float").rstrip("?") not in _NUMERIC_OUT]
    if bad:
        raise TypeError(
            f"FeatureTransformer: output column(s) {bad} are not numeric "
            f"({[types[c] for c in bad]}); a numeric array cannot hold them\n"
            "  Fix: encode them in the spec (vocab/one_hot/...) or use set_output(transform='pandas')"
        )
    if frame.shape[1] == 0:
        return np.empty((len(frame), 0), dtype=np.float64)
    return frame.to_numpy(dtype=np.float64, na_value=np.nan)


def row_vector(fitted: FittedTransform, row: Mapping[str, Any]) -> list[float]:
    """Row path: one dict -> features in ``output_columns`` order as floats (None -> NaN)."""
    out = fitted.transform_row(row)
    vec = []
    for col in fitted.output_columns:
        v = out[col]
        if v is None:
            vec.append(float("nan"))
        elif isinstance(v, (bool, int, float)):
            vec.append(float(v))
        else:
            raise TypeError(f"serve_row: feature {col!r} is {type(v).__name__}, not numeric")
    return vec


def fitted_transform_of(obj: Any) -> FittedTransform:
    """The FittedTransform in a FittedTransform, a fitted FeatureTransformer or a Pipeline's first step."""
    if isinstance(obj, FittedTransform):
        return obj
    if isinstance(obj, FeatureTransformer):
        check_is_fitted(obj, "fitted_")
        return obj.fitted_
    steps = getattr(obj, "steps", None)
    if steps and isinstance(steps[0][1], FeatureTransformer):
        return fitted_transform_of(steps[0][1])
    raise TypeError(
        f"expected a FittedTransform, a fitted FeatureTransformer or a Pipeline whose first step is "
        f"one; got {type(obj).__name__}"
    )


def _model_input(estimator: Any, matrix: np.ndarray, columns: list[str]) -> Any:
    """Give ``estimator`` a frame when it was fitted with feature names (avoids sklearn warnings)."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None and list(names) == list(columns):
        return pd.DataFrame(matrix, columns=columns)
    return matrix


def apply_model(model: Any, matrix: np.ndarray, columns: list[str], method: str | None = None) -> Any:
    """Run the post-feature part of a pipeline (intermediate transforms then ``method``)."""
    steps = getattr(model, "steps", None)
    if steps is not None:
        X: Any = matrix
        cols = list(columns)
        for _, step in steps[:-1]:
            if step is None or step == "passthrough":
                continue
            X = step.transform(_model_input(step, np.asarray(X), cols) if isinstance(X, np.ndarray) else X)
            if hasattr(step, "get_feature_names_out"):
                try:
                    cols = list(step.get_feature_names_out(cols))
                except Exception:  # noqa: BLE001 - names only used to silence warnings
                    cols = []
        final = steps[-1][1]
        data = _model_input(final, np.asarray(X, dtype=np.float64), cols) if not isinstance(X, pd.DataFrame) else X
        return getattr(final, method or _default_method(final))(data)
    return getattr(model, method or _default_method(model))(_model_input(model, matrix, columns))


def _default_method(model: Any) -> str:
    return "predict_proba" if hasattr(model, "predict_proba") else "predict"


def serve_row(pipeline: Any, row: Mapping[str, Any], *, method: str | None = None) -> Any:
    """Predict for one dict through a fitted ``Pipeline([FeatureTransformer, ..., model])`` via the row path.

    Features come from ``FittedTransform.transform_row`` (no pandas); they are ordered as
    ``output_columns`` into a 1 x n float array, passed through any intermediate steps, and
    then to the model's ``predict_proba`` (or ``predict`` when the model has none, or ``method``).
    Returns the model's output for that one row (e.g. ``array([p0, p1])``).
    """
    steps = getattr(pipeline, "steps", None)
    if not steps or not isinstance(steps[0][1], FeatureTransformer):
        raise TypeError("serve_row: expected a fitted Pipeline whose first step is a FeatureTransformer")
    fitted = fitted_transform_of(pipeline)
    matrix = np.asarray([row_vector(fitted, row)], dtype=np.float64)
    rest = pipeline[1:]
    return apply_model(rest, matrix, fitted.output_columns, method)[0]
