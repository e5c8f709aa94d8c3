"""Categorical values: unseen values, case, stale lists of known values, one-hot encodings."""

from __future__ import annotations

import pandas as pd

from .pair import corpus_pair

PLANS = ["basic", "enterprise", "free", "premium", "standard"]
PLAN_IDX = {p: i for i, p in enumerate(PLANS)}
TOP_COUNTRIES = ["US", "DE", "GB", "FR", "IN", "BR"]
TOP_COUNTRIES_SERVING = ["US", "DE", "GB", "FR", "IN"]  # copied before BR was added to the list
COUNTRY_WEIGHTS = [40, 15, 12, 10, 8, 7, 3, 3, 2]
COUNTRY_POOL = [*TOP_COUNTRIES, "NL", "SE", "PL"]


@corpus_pair
class UnseenPlanIsZero:
    """An unseen plan gets index 0 (the first plan) in serving, `len(PLANS)` in training."""

    category = "categorical"
    skewed = True
    edge_only = True
    inputs = "plan: {type: category}"
    witness = {"plan": "student"}

    def ordinary(rng):
        return {"plan": rng.choice(PLANS)}

    def train(df):
        return pd.DataFrame({"plan_idx": df["plan"].map(PLAN_IDX).fillna(len(PLANS)).astype("int64")})

    def serve(row):
        return {"plan_idx": PLAN_IDX.get(row.get("plan"), 0)}


@corpus_pair
class PlanCaseNotFolded:
    """Training lower-cases the plan before the lookup; serving looks up the raw value ("Premium" is unseen)."""

    category = "categorical"
    skewed = True
    edge_only = True
    inputs = "plan: {type: category}"
    witness = {"plan": "Premium"}

    def ordinary(rng):
        return {"plan": rng.choice(PLANS)}

    def train(df):
        idx = df["plan"].str.lower().map(PLAN_IDX)
        return pd.DataFrame({"plan_idx": idx.fillna(len(PLANS)).astype("int64")})

    def serve(row):
        return {"plan_idx": PLAN_IDX.get(row.get("plan"), len(PLANS))}


@corpus_pair
class StaleTopCountries:
    """Serving's copy of the top-country list lacks "BR", which it maps to OTHER."""

    category = "categorical"
    skewed = True
    edge_only = False
    inputs = "country: {type: category}"
    witness = {"country": "BR"}

    def ordinary(rng):
        return {"country": rng.choices(COUNTRY_POOL, COUNTRY_WEIGHTS)[0]}

    def train(df):
        country = df["country"].where(df["country"].isin(TOP_COUNTRIES), "OTHER")
        return pd.DataFrame({"country_top": country})

    def serve(row):
        country = row.get("country")
        return {"country_top": country if country in TOP_COUNTRIES_SERVING else "OTHER"}


@corpus_pair
class NullPlanIndex:
    """Training gives a missing plan its own index via `fillna("unknown")`; serving returns -1."""

    category = "categorical"
    skewed = True
    edge_only = True
    inputs = "plan: {type: category}"
    witness = {"plan": None}

    def ordinary(rng):
        return {"plan": rng.choice(PLANS)}

    def train(df):
        idx = df["plan"].fillna("unknown").map({**PLAN_IDX, "unknown": len(PLANS)})
        return pd.DataFrame({"plan_idx": idx.fillna(-1).astype("int64")})

    def serve(row):
        return {"plan_idx": PLAN_IDX.get(row.get("plan"), -1)}


@corpus_pair
class OneHotDummiesVsLoop:
    """Correct: `pd.get_dummies` reindexed to the known plans (bool, cast to int) and a dict comprehension."""

    category = "categorical"
    skewed = False
    edge_only = False
    inputs = "plan: {type: category}"

    def ordinary(rng):
        return {"plan": None if rng.random() < 0.05 else rng.choice(PLANS)}

    def train(df):
        dummies = pd.get_dummies(df["plan"]).reindex(columns=PLANS, fill_value=False).astype(int)
        return dummies.add_prefix("plan_")

    def serve(row):
        plan = row.get("plan")
        return {f"plan_{p}": int(plan == p) for p in PLANS}


@corpus_pair
class VocabMapVsDict:
    """Correct: `Series.map` + `fillna` (float64 until cast back) and `dict.get` with the OOV index."""

    category = "categorical"
    skewed = False
    edge_only = False
    inputs = "plan: {type: category}"

    def ordinary(rng):
        return {"plan": None if rng.random() < 0.05 else rng.choice(PLANS)}

    def train(df):
        return pd.DataFrame({"plan_idx": df["plan"].map(PLAN_IDX).fillna(len(PLANS))})

    def serve(row):
        return {"plan_idx": PLAN_IDX.get(row.get("plan"), len(PLANS))}


PAIRS = [UnseenPlanIsZero, PlanCaseNotFolded, StaleTopCountries, NullPlanIndex, OneHotDummiesVsLoop, VocabMapVsDict]
