"""Float precision: log1p vs log(1 + x), float32 in serving, overflow, 1-ULP formula differences."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .pair import corpus_pair

SPEND_MEAN = 84.31207
SPEND_STD = 61.90458


@corpus_pair
class LogOnePlus:
    """Serving computes `math.log(1 + x)`: 0 for tiny amounts where training's `np.log1p` keeps them; -1 raises."""

    category = "floats"
    skewed = True
    edge_only = True
    inputs = "spend: {type: float, nullable: false, min: -1}"
    witness = {"spend": 1e-20}

    def ordinary(rng):
        return {"spend": round(rng.lognormvariate(3, 1), 2)}

    def train(df):
        return pd.DataFrame({"spend_log": np.log1p(df["spend"])})

    def serve(row):
        return {"spend_log": math.log(1 + row["spend"])}


@corpus_pair
class Float32ForTheModel:
    """Serving casts to float32 for the model runtime before scaling; training scales in float64."""

    category = "floats"
    skewed = True
    edge_only = False
    inputs = "spend: {type: float, nullable: false}"
    witness = {"spend": 0.1}

    def ordinary(rng):
        return {"spend": round(rng.lognormvariate(3, 1), 2)}

    def train(df):
        return pd.DataFrame({"spend_scaled": df["spend"] / 100.0})

    def serve(row):
        return {"spend_scaled": float(np.float32(row["spend"])) / 100.0}


@corpus_pair
class SigmoidOverflow:
    """Serving's `1 / (1 + math.exp(-x))` raises OverflowError for x < -709; numpy saturates to 0.0."""

    category = "floats"
    skewed = True
    edge_only = True
    inputs = "logit: {type: float, nullable: false}"
    witness = {"logit": -1000.0}

    def ordinary(rng):
        return {"logit": rng.gauss(0, 3)}

    def train(df):
        return pd.DataFrame({"prob": 1.0 / (1.0 + np.exp(-df["logit"]))})

    def serve(row):
        return {"prob": 1.0 / (1.0 + math.exp(-row["logit"]))}


@corpus_pair
class DistanceHypotOverflow:
    """Serving's `sqrt(dx*dx + dy*dy)` overflows to inf for large offsets where `np.hypot` does not."""

    category = "floats"
    skewed = True
    edge_only = True
    inputs = "dx: {type: float, nullable: false}\ndy: {type: float, nullable: false}"
    witness = {"dx": 1e200, "dy": 1e200}

    def ordinary(rng):
        return {"dx": rng.uniform(-5, 5), "dy": rng.uniform(-5, 5)}

    def train(df):
        return pd.DataFrame({"dist": np.hypot(df["dx"], df["dy"])})

    def serve(row):
        dx, dy = row["dx"], row["dy"]
        return {"dist": math.sqrt(dx * dx + dy * dy)}


@corpus_pair
class ZscoreTimesInverse:
    """Correct: serving multiplies by a precomputed 1/std, training divides by std (they differ by an ULP)."""

    category = "floats"
    skewed = False
    edge_only = False
    inputs = "spend: {type: float, nullable: false, min: 0, max: 1000000}"

    def ordinary(rng):
        return {"spend": round(rng.lognormvariate(4, 0.8), 2)}

    def train(df):
        return pd.DataFrame({"spend_z": (df["spend"] - SPEND_MEAN) / SPEND_STD})

    def serve(row):
        inv_std = 1.0 / SPEND_STD
        return {"spend_z": (row["spend"] - SPEND_MEAN) * inv_std}


@corpus_pair
class LogSpendNumpyVsMath:
    """Correct: `np.log1p` on the column and `math.log1p` per row (at most an ULP apart)."""

    category = "floats"
    skewed = False
    edge_only = False
    inputs = "spend: {type: float, nullable: false, min: 0, max: 1000000}"

    def ordinary(rng):
        return {"spend": round(rng.lognormvariate(3, 1), 2)}

    def train(df):
        return pd.DataFrame({"spend_log": np.log1p(df["spend"])})

    def serve(row):
        return {"spend_log": math.log1p(row["spend"])}


@corpus_pair
class ReluSignedZero:
    """Correct: `clip(lower=0)` keeps -0.0 where serving's `max(0.0, x)` returns 0.0."""

    category = "floats"
    skewed = False
    edge_only = False
    inputs = "net_flow: {type: float, nullable: false, min: -1000000, max: 1000000}"

    def ordinary(rng):
        return {"net_flow": -0.0 if rng.random() < 0.05 else round(rng.uniform(-100, 100), 2)}

    def train(df):
        return pd.DataFrame({"inflow": df["net_flow"].clip(lower=0.0)})

    def serve(row):
        return {"inflow": max(0.0, row["net_flow"])}


@corpus_pair
class MeanOfTwoFsum:
    """Correct within 1 ULP: `(a + b) / 2` in pandas and `math.fsum` / 2 in serving."""

    category = "floats"
    skewed = False
    edge_only = False
    inputs = "a: {type: float, nullable: false, min: 0, max: 1000000}\nb: {type: float, nullable: false, min: 0, max: 1000000}"

    def ordinary(rng):
        return {"a": rng.uniform(0, 1000), "b": rng.uniform(0, 1000)}

    def train(df):
        return pd.DataFrame({"mean_ab": (df["a"] + df["b"]) / 2})

    def serve(row):
        return {"mean_ab": math.fsum((row["a"], row["b"])) / 2}


PAIRS = [
    LogOnePlus,
    Float32ForTheModel,
    SigmoidOverflow,
    DistanceHypotOverflow,
    ZscoreTimesInverse,
    LogSpendNumpyVsMath,
    ReluSignedZero,
    MeanOfTwoFsum,
]
