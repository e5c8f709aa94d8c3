"""FastAPI app serving churn predictions through featurekit's row path.

    MODEL_DIR=examples/churn_end_to_end/_work/model \
        uvicorn --app-dir examples/churn_end_to_end app:app --port 8000

    curl -s localhost:8000/predict -H 'content-type: application/json' \
        -d '{"rows": [{"monthly_spend": 12.5, "tenure_days": 30, "num_support_tickets": 0, ...}]}'

``POST /features`` takes one row and answers its feature values (what the model sees), so the
served features can be checked against training with
``featurekit parity ARTIFACT --data eval.parquet --serving-url http://127.0.0.1:8000/features``.

Environment: ``MODEL_DIR`` (written by run.py), optional ``SERVING_LOG`` (a JSONL file of every
served input and feature output, for ``featurekit parity --log`` and skew reports).
Timestamps in requests are ISO 8601 text. A request that breaks the spec's input contract
gets HTTP 422 with featurekit's message (input, rule, value, fix). Startup loads the features
with ``verify=True`` (serving.py): on a host that computes any golden vector differently from
the training host the app does not start, and the error names the column, both values and
both environments.
"""

from __future__ import annotations

import json
import os
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Response
from pydantic import BaseModel
from serving import Predictor, decode_request_row

import featurekit as fk

STATE: dict[str, Predictor] = {}


@asynccontextmanager
async def lifespan(_: FastAPI):
    STATE["predictor"] = Predictor(os.environ["MODEL_DIR"], log_path=os.environ.get("SERVING_LOG"))
    yield
    STATE.pop("predictor").close()


app = FastAPI(title="churn", lifespan=lifespan)


class PredictRequest(BaseModel):
    rows: list[dict[str, Any]]


@app.get("/health")
def health() -> dict[str, Any]:
    predictor = STATE["predictor"]
    return {"ok": True, "pin": predictor.pin, "features": len(predictor.columns)}


@app.post("/predict")
def predict(request: PredictRequest) -> dict[str, Any]:
    predictor = STATE["predictor"]
    try:
        probabilities = [
            predictor.predict_row(decode_request_row(row, predictor.features.spec)) for row in request.rows
        ]
    except (fk.FeaturekitError, ValueError, TypeError) as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    return {"pin": predictor.pin, "churn_probability": probabilities}


@app.post("/features")
def features(row: dict[str, Any]) -> Response:
    """One request row's feature values (NaN and infinities as JSON's NaN/Infinity literals)."""
    predictor = STATE["predictor"]
    try:
        out = predictor.features_row(decode_request_row(row, predictor.features.spec))
    except (fk.FeaturekitError, ValueError, TypeError) as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    return Response(json.dumps(out, allow_nan=True), media_type="application/json")
