"""Null forms: None, NaN, an absent key and the empty string, and which of them count as missing."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .pair import corpus_pair

MEDIAN_INCOME = 41_250.0


@corpus_pair
class IncomeOrZero:
    """Serving fills a missing income with `income or 0.0`, but NaN is truthy and passes through."""

    category = "nulls"
    skewed = True
    edge_only = True
    inputs = "income: {type: float}"

    witness = {"income": math.nan}

    def ordinary(rng):
        return {"income": None if rng.random() < 0.1 else round(rng.lognormvariate(10.5, 0.6), 2)}

    def train(df):
        return pd.DataFrame({"income_filled": df["income"].fillna(0.0)})

    def serve(row):
        return {"income_filled": float(row.get("income") or 0.0)}


@corpus_pair
class MissingFlagIsNone:
    """The serving missing-flag tests `is None` only: a NaN spend is flagged as present."""

    category = "nulls"
    skewed = True
    edge_only = True
    inputs = "monthly_spend: {type: float}"

    witness = {"monthly_spend": math.nan}

    def ordinary(rng):
        return {"monthly_spend": None if rng.random() < 0.05 else round(rng.uniform(5, 300), 2)}

    def train(df):
        spend = df["monthly_spend"]
        return pd.DataFrame({"spend_missing": spend.isna().astype(int), "spend": spend.fillna(MEDIAN_INCOME / 1000)})

    def serve(row):
        spend = row.get("monthly_spend")
        missing = spend is None
        return {"spend_missing": int(missing), "spend": MEDIAN_INCOME / 1000 if missing else spend}


@corpus_pair
class DefaultOnlyForAbsentKey:
    """`row.get("device", "unknown")` defaults an absent key but not an explicit null."""

    category = "nulls"
    skewed = True
    edge_only = True
    inputs = "device: {type: category}"

    witness = {"device": None}

    def ordinary(rng):
        # optional fields are left out of the request when unknown
        return {} if rng.random() < 0.1 else {"device": rng.choice(["ios", "android", "web"])}

    def train(df):
        return pd.DataFrame({"device_clean": df["device"].fillna("unknown")})

    def serve(row):
        return {"device_clean": row.get("device", "unknown")}


@corpus_pair
class EmptyReferralIsMissing:
    """Training turns "" into NaN before filling with "none"; serving keeps "" as its own value."""

    category = "nulls"
    skewed = True
    edge_only = False
    inputs = "referral_code: {type: str}"

    witness = {"referral_code": ""}

    def ordinary(rng):
        r = rng.random()
        return {"referral_code": "" if r < 0.4 else None if r < 0.45 else f"REF{rng.randrange(1000):03d}"}

    def train(df):
        code = df["referral_code"].replace("", np.nan).fillna("none")
        return pd.DataFrame({"referral": code})

    def serve(row):
        code = row.get("referral_code")
        return {"referral": "none" if code is None else code}


@corpus_pair
class PromoFlagKeyPresent:
    """Serving sets the flag when the key is present (`"is_promo" in row`): an explicit false or null counts as a promo."""

    category = "nulls"
    skewed = True
    edge_only = True
    inputs = "is_promo: {type: bool}"
    witness = {"is_promo": False}

    def ordinary(rng):
        return {"is_promo": True} if rng.random() < 0.3 else {}

    def train(df):
        return pd.DataFrame({"promo": df["is_promo"].fillna(False).astype(int)})

    def serve(row):
        return {"promo": 1 if "is_promo" in row else 0}


@corpus_pair
class RatioNanVsNone:
    """Correct: training leaves NaN for a missing balance where serving returns None."""

    category = "nulls"
    skewed = False
    edge_only = False
    inputs = "balance: {type: float}"

    def ordinary(rng):
        return {"balance": None if rng.random() < 0.1 else round(rng.uniform(-500, 5000), 2)}

    def train(df):
        return pd.DataFrame({"balance_k": df["balance"] / 1000.0})

    def serve(row):
        balance = row.get("balance")
        if balance is None or math.isnan(balance):
            return {"balance_k": None}
        return {"balance_k": balance / 1000.0}


@corpus_pair
class FillMedianTwoWays:
    """Correct: `fillna(median)` in training, an explicit None/NaN check with the same constant in serving."""

    category = "nulls"
    skewed = False
    edge_only = False
    inputs = "income: {type: float}"

    def ordinary(rng):
        return {"income": None if rng.random() < 0.1 else round(rng.lognormvariate(10.5, 0.6), 2)}

    def train(df):
        return pd.DataFrame({"income_imputed": df["income"].fillna(MEDIAN_INCOME)})

    def serve(row):
        income = row.get("income")
        if income is None or income != income:
            income = MEDIAN_INCOME
        return {"income_imputed": float(income)}


PAIRS = [
    IncomeOrZero,
    MissingFlagIsNone,
    DefaultOnlyForAbsentKey,
    EmptyReferralIsMissing,
    PromoFlagKeyPresent,
    RatioNanVsNone,
    FillMedianTwoWays,
]
