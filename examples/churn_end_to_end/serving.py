"""Serving-side code shared by app.py and run.py: load the model directory, predict one row.

Imports neither pandas nor scikit-learn's training code paths at request time: the features
come from the row path (``FittedTransform.transform_row``), the model is a fitted
scaler + ``LogisticRegression`` applied to one feature vector.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import featurekit as fk


def decode_request_row(row: Mapping[str, Any], spec: Any) -> dict[str, Any]:
    """JSON request values -> row-path values: ISO text -> datetime for timestamp inputs."""
    types = {i.name: i.type for i in spec.inputs}
    out = {}
    for key, value in row.items():
        if types.get(key) == "timestamp" and isinstance(value, str):
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        out[key] = value
    return out


def encode_json_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row dict as JSON-able values (datetimes as ISO text, NaN as None)."""
    out = {}
    for key, value in row.items():
        if isinstance(value, dt.datetime):
            value = value.isoformat()
        elif isinstance(value, float) and math.isnan(value):
            value = None
        out[key] = value
    return out


class _JsonlLog:
    """Fallback serving log (same record format as featurekit.logger.ServingLogger)."""

    def __init__(self, path: str) -> None:
        self._fh = open(path, "a", encoding="utf-8")
        self._lock = threading.Lock()

    def __call__(self, row: Mapping[str, Any], out: Mapping[str, Any], fingerprint: str) -> None:
        def enc(v: Any) -> Any:
            if isinstance(v, dt.datetime):
                return {"datetime": v.isoformat()}
            if isinstance(v, float) and not math.isfinite(v):
                return {"float": "nan" if v != v else ("inf" if v > 0 else "-inf")}
            return v

        record = {
            "time": dt.datetime.now(dt.UTC).isoformat(),
            "fingerprint": fingerprint,
            "input": {k: enc(v) for k, v in row.items()},
            "output": {k: enc(v) for k, v in out.items()},
        }
        with self._lock:
            self._fh.write(json.dumps(record) + "\n")
            self._fh.flush()

    def close(self) -> None:
        self._fh.close()


def open_log(path: str) -> Any:
    """featurekit's ServingLogger when this featurekit has it, else a simple JSONL writer."""
    try:
        from featurekit.logger import ServingLogger
    except ImportError:
        return _JsonlLog(path)
    return ServingLogger(path)


class Predictor:
    """The model directory written by run.py: ``features/`` (featurekit artifact, hash-checked and
    pinned) + ``model.joblib`` (scaler + classifier, a scikit-learn Pipeline) + ``meta.json`` (the pin the model was trained with)."""

    def __init__(self, model_dir: str | os.PathLike, log_path: str | None = None) -> None:
        import joblib

        root = Path(model_dir)
        meta = json.loads((root / "meta.json").read_text(encoding="utf-8"))
        self.pin = meta["pin"]
        # expect: refuses any other transform; verify: replays the artifact's golden vectors here and
        # refuses to start on a host that computes any feature bit differently from the training host
        self.features = fk.load(root / "features", expect=self.pin, verify=True)
        self.columns = self.features.output_columns
        self.model = joblib.load(root / "model.joblib")
        self.log = open_log(log_path) if log_path else None

    def features_row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        out = self.features.transform_row(row)
        if self.log is not None:
            self.log(row, out, self.features.fingerprint)
        return out

    def predict_row(self, row: Mapping[str, Any]) -> float:
        """P(churn) for one request row, through the row path."""
        import numpy as np

        out = self.features_row(row)
        vector = [math.nan if out[c] is None else float(out[c]) for c in self.columns]
        return float(self.model.predict_proba(np.asarray([vector], dtype=np.float64))[0, 1])

    def close(self) -> None:
        if self.log is not None:
            self.log.close()
