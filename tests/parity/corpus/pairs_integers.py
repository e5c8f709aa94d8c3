"""Integer range and precision: int64 wrap-around, ids through float, floor vs truncating division."""

from __future__ import annotations

import pandas as pd

from .pair import corpus_pair


@corpus_pair
class OrderValueWraps:
    """Training multiplies int64 columns, which wrap around silently; serving's Python ints do not."""

    category = "integers"
    skewed = True
    edge_only = True
    inputs = "qty: {type: int, nullable: false, min: 0}\nunit_price_cents: {type: int, nullable: false, min: 0}"
    witness = {"qty": 2**40, "unit_price_cents": 2**30}

    def ordinary(rng):
        return {"qty": rng.randint(1, 12), "unit_price_cents": rng.randint(99, 250_000)}

    def train(df):
        total = df["qty"].astype("int64") * df["unit_price_cents"].astype("int64")
        return pd.DataFrame({"order_value_cents": total})

    def serve(row):
        return {"order_value_cents": row["qty"] * row["unit_price_cents"]}


@corpus_pair
class ShardThroughFloat:
    """Serving parses the user id through `float()` before `% 1000`: ids above 2**53 land in the wrong shard."""

    category = "integers"
    skewed = True
    edge_only = True
    inputs = "user_id: {type: int, nullable: false}"
    witness = {"user_id": 2**53 + 1}

    def ordinary(rng):
        return {"user_id": rng.randrange(10**6, 10**12)}

    def train(df):
        return pd.DataFrame({"ab_shard": df["user_id"].astype("int64") % 1000})

    def serve(row):
        return {"ab_shard": int(float(row["user_id"])) % 1000}


@corpus_pair
class OverdraftDollars:
    """Training floors cents to dollars (`// 100`); serving's `int(c / 100)` truncates overdrafts toward zero."""

    category = "integers"
    skewed = True
    edge_only = False
    inputs = "balance_cents: {type: int, nullable: false}"
    witness = {"balance_cents": -150}

    def ordinary(rng):
        return {"balance_cents": rng.randint(-20_000, 500_000)}

    def train(df):
        return pd.DataFrame({"balance_dollars": df["balance_cents"] // 100})

    def serve(row):
        return {"balance_dollars": int(row["balance_cents"] / 100)}


@corpus_pair
class LoyaltyPointsNullableInt:
    """Correct: a nullable `Int64` column (pd.NA when missing) and Python ints or None."""

    category = "integers"
    skewed = False
    edge_only = False
    inputs = "visits: {type: int, min: 0, max: 1000000}"

    def ordinary(rng):
        return {"visits": None if rng.random() < 0.05 else rng.randint(0, 300)}

    def train(df):
        return pd.DataFrame({"points": df["visits"].astype("Int64") * 10 + 5})

    def serve(row):
        visits = row.get("visits")
        return {"points": None if visits is None else visits * 10 + 5}


@corpus_pair
class BonusIntVsFloat:
    """Correct: training's bonus comes out float64 (tenure was cast to float before capping); serving returns int."""

    category = "integers"
    skewed = False
    edge_only = False
    inputs = "tenure_months: {type: int, nullable: false, min: 0, max: 1200}"

    def ordinary(rng):
        return {"tenure_months": rng.randint(0, 120)}

    def train(df):
        months = df["tenure_months"].astype("float64")
        return pd.DataFrame({"bonus": months.where(months < 24, 24.0) * 5})

    def serve(row):
        return {"bonus": min(row["tenure_months"], 24) * 5}


PAIRS = [OrderValueWraps, ShardThroughFloat, OverdraftDollars, LoyaltyPointsNullableInt, BonusIntVsFloat]
