"""Bucket edges and thresholds: which side of an edge the edge itself falls on, and NaN."""

from __future__ import annotations

import bisect
import math

import numpy as np
import pandas as pd

from .pair import corpus_pair

RISK_EDGES = [0.25, 0.5, 0.75]
AGE_BINS = [0, 18, 35, 65, 200]
LATENCY_EDGES = [50.0, 100.0, 250.0, 1000.0]
SPEND_QUANTILE_EDGES = [12.7, 48.3, 131.9]  # the 25/50/75th percentiles from the training notebook


@corpus_pair
class RiskBandStrictGreater:
    """Training bins with `np.digitize` (an edge opens the next band); serving counts `p > edge`."""

    category = "buckets"
    skewed = True
    edge_only = True
    inputs = "risk_score: {type: float, nullable: false, min: 0, max: 1}"
    witness = {"risk_score": 0.5}

    def ordinary(rng):
        return {"risk_score": rng.betavariate(2, 5)}

    def train(df):
        return pd.DataFrame({"risk_band": np.digitize(df["risk_score"], RISK_EDGES)})

    def serve(row):
        return {"risk_band": sum(row["risk_score"] > edge for edge in RISK_EDGES)}


@corpus_pair
class AgeBandsRightClosed:
    """Training's `pd.cut` bins are right-closed (18 is a minor); serving's if-chain puts 18 in the next band."""

    category = "buckets"
    skewed = True
    edge_only = False
    inputs = "age: {type: int, nullable: false, min: 0, max: 130}"
    witness = {"age": 18}

    def ordinary(rng):
        return {"age": rng.randint(16, 90)}

    def train(df):
        return pd.DataFrame(
            {"age_band": pd.cut(df["age"], AGE_BINS, labels=False, include_lowest=True).astype("int64")}
        )

    def serve(row):
        age = row["age"]
        if age < 18:
            return {"age_band": 0}
        if age < 35:
            return {"age_band": 1}
        if age < 65:
            return {"age_band": 2}
        return {"age_band": 3}


@corpus_pair
class LargeTxnThreshold:
    """The "large transaction" flag is `>= 1000` in training and `> 1000` in serving."""

    category = "buckets"
    skewed = True
    edge_only = True
    inputs = "amount: {type: float, min: 0}"
    witness = {"amount": 1000.0}

    def ordinary(rng):
        return {"amount": round(rng.lognormvariate(4, 1.2), 2)}

    def train(df):
        return pd.DataFrame({"is_large": (df["amount"] >= 1000).astype(int)})

    def serve(row):
        amount = row.get("amount")
        return {"is_large": int(amount is not None and amount > 1000)}


@corpus_pair
class LatencyBucketNan:
    """Serving checks only None before `bisect`; a NaN latency lands in the top bucket instead of -1."""

    category = "buckets"
    skewed = True
    edge_only = True
    inputs = "latency_ms: {type: float, min: 0, max: 600000}"
    witness = {"latency_ms": math.nan}

    def ordinary(rng):
        return {"latency_ms": None if rng.random() < 0.05 else round(rng.lognormvariate(4.5, 1), 1)}

    def train(df):
        codes = pd.cut(df["latency_ms"], [-np.inf, *LATENCY_EDGES, np.inf], labels=False, right=False)
        return pd.DataFrame({"latency_bucket": codes.fillna(-1).astype("int64")})

    def serve(row):
        latency = row.get("latency_ms")
        if latency is None:
            return {"latency_bucket": -1}
        return {"latency_bucket": bisect.bisect_right(LATENCY_EDGES, latency)}


@corpus_pair
class QuantileEdgesRightClosed:
    """Training's `pd.cut` on the notebook's quantile edges is right-closed; serving's `bisect_right` is not."""

    category = "buckets"
    skewed = True
    edge_only = True
    inputs = "monthly_spend: {type: float, nullable: false, min: 0, max: 1000000}"
    witness = {"monthly_spend": 48.3}

    def ordinary(rng):
        return {"monthly_spend": round(rng.lognormvariate(3.8, 1), 2)}

    def train(df):
        bins = [-np.inf, *SPEND_QUANTILE_EDGES, np.inf]
        return pd.DataFrame({"spend_quartile": pd.cut(df["monthly_spend"], bins, labels=False).astype("int64")})

    def serve(row):
        return {"spend_quartile": bisect.bisect_right(SPEND_QUANTILE_EDGES, row["monthly_spend"])}


@corpus_pair
class SearchsortedVsBisect:
    """Correct: `np.searchsorted(side="right")` with a null mask, and `bisect_right` with a None/NaN check."""

    category = "buckets"
    skewed = False
    edge_only = False
    inputs = "latency_ms: {type: float}"

    def ordinary(rng):
        return {"latency_ms": None if rng.random() < 0.05 else round(rng.lognormvariate(4.5, 1), 1)}

    def train(df):
        latency = df["latency_ms"]
        codes = np.searchsorted(LATENCY_EDGES, latency.to_numpy(), side="right")
        return pd.DataFrame({"latency_bucket": np.where(latency.isna(), -1, codes)})

    def serve(row):
        latency = row.get("latency_ms")
        if latency is None or math.isnan(latency):
            return {"latency_bucket": -1}
        return {"latency_bucket": bisect.bisect_right(LATENCY_EDGES, latency)}


PAIRS = [
    RiskBandStrictGreater,
    AgeBandsRightClosed,
    LargeTxnThreshold,
    LatencyBucketNan,
    QuantileEdgesRightClosed,
    SearchsortedVsBisect,
]
