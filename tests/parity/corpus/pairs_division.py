"""Division: zero and NaN denominators, guards that test the wrong thing, inf from pandas."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .pair import corpus_pair


@corpus_pair
class CtrZeroImpressions:
    """Training divides blindly (0/0 is NaN in pandas); serving returns 0.0 for zero impressions."""

    category = "division"
    skewed = True
    edge_only = False
    inputs = "clicks: {type: int, nullable: false, min: 0}\nimpressions: {type: int, nullable: false, min: 0}"
    witness = {"clicks": 0, "impressions": 0}

    def ordinary(rng):
        impressions = rng.choice([0, 0, rng.randint(1, 5000)])
        return {"clicks": rng.randint(0, impressions // 10) if impressions else 0, "impressions": impressions}

    def train(df):
        return pd.DataFrame({"ctr": df["clicks"].astype("float64") / df["impressions"].astype("float64")})

    def serve(row):
        return {"ctr": row["clicks"] / row["impressions"] if row["impressions"] else 0.0}


@corpus_pair
class CtrNanDenominatorGuard:
    """Serving's `if impressions` guard lets a NaN denominator through (NaN is truthy); training maps it to 0."""

    category = "division"
    skewed = True
    edge_only = True
    inputs = "clicks: {type: float, min: 0}\nimpressions: {type: float, min: 0}"
    witness = {"clicks": 3.0, "impressions": math.nan}

    def ordinary(rng):
        impressions = float(rng.randint(0, 5000))
        return {"clicks": float(rng.randint(0, int(impressions) // 10)), "impressions": impressions}

    def train(df):
        ctr = (df["clicks"] / df["impressions"]).replace([np.inf, -np.inf], np.nan).fillna(0.0)
        return pd.DataFrame({"ctr": ctr})

    def serve(row):
        clicks, impressions = row.get("clicks") or 0.0, row.get("impressions")
        return {"ctr": clicks / impressions if impressions else 0.0}


@corpus_pair
class SpendPerDayNanTenure:
    """Training clips tenure to at least 1 (NaN stays NaN); serving's `tenure >= 1` fallback returns the spend."""

    category = "division"
    skewed = True
    edge_only = True
    inputs = "spend: {type: float, nullable: false, min: 0, max: 1000000}\ntenure_days: {type: float}"
    witness = {"spend": 50.0, "tenure_days": math.nan}

    def ordinary(rng):
        return {"spend": round(rng.uniform(0, 500), 2), "tenure_days": float(rng.randint(0, 2000))}

    def train(df):
        return pd.DataFrame({"spend_per_day": df["spend"] / df["tenure_days"].clip(lower=1)})

    def serve(row):
        tenure = row.get("tenure_days")
        if tenure is None:
            return {"spend_per_day": math.nan}
        return {"spend_per_day": row["spend"] / tenure if tenure >= 1 else row["spend"]}


@corpus_pair
class NegativeRefundShare:
    """Serving guards `den > 0` but training guards `den != 0`: a negative net amount (refunds) differs."""

    category = "division"
    skewed = True
    edge_only = True
    inputs = "refunds: {type: float, nullable: false, min: 0, max: 1000000}\nnet_amount: {type: float, nullable: false}"
    witness = {"refunds": 10.0, "net_amount": -5.0}

    def ordinary(rng):
        return {"refunds": round(rng.uniform(0, 50), 2), "net_amount": round(rng.uniform(50, 900), 2)}

    def train(df):
        den = df["net_amount"]
        return pd.DataFrame({"refund_share": np.where(den != 0, df["refunds"] / den.replace(0, 1), 0.0)})

    def serve(row):
        den = row["net_amount"]
        return {"refund_share": row["refunds"] / den if den > 0 else 0.0}


@corpus_pair
class PerUnitNanVsNone:
    """Correct: pandas yields NaN for a zero quantity (after replacing 0 by NaN); serving returns None."""

    category = "division"
    skewed = False
    edge_only = False
    inputs = "price: {type: float, nullable: false, min: 0, max: 1000000}\nquantity: {type: int, nullable: false, min: 0, max: 100000}"

    def ordinary(rng):
        return {"price": round(rng.uniform(1, 200), 2), "quantity": rng.choice([0, 1, 2, 3, 6, 12])}

    def train(df):
        return pd.DataFrame({"unit_price": df["price"] / df["quantity"].replace(0, np.nan)})

    def serve(row):
        qty = row["quantity"]
        return {"unit_price": row["price"] / qty if qty else None}


PAIRS = [CtrZeroImpressions, CtrNanDenominatorGuard, SpendPerDayNanTenure, NegativeRefundShare, PerUnitNanVsNone]
