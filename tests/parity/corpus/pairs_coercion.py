"""Type coercion: what the contract accepts (ints for floats, integral floats for ints, ISO text)
versus what the serving code assumes it receives."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from .pair import corpus_pair

DEFAULT_DISCOUNT = 0.05
UTC = dt.UTC


@corpus_pair
class IsinstanceFloatCheck:
    """Serving validates with `isinstance(x, float)` and falls back to the default for an int discount."""

    category = "coercion"
    skewed = True
    edge_only = True
    inputs = "discount: {type: float, min: 0, max: 1}"
    witness = {"discount": 1}

    def ordinary(rng):
        return {"discount": rng.choice([0.0, 0.1, 0.15, 0.2, 0.25, 0.5])}

    def train(df):
        return pd.DataFrame({"discount": pd.to_numeric(df["discount"]).fillna(DEFAULT_DISCOUNT).astype("float64")})

    def serve(row):
        discount = row.get("discount")
        return {"discount": discount if isinstance(discount, float) and discount == discount else DEFAULT_DISCOUNT}


@corpus_pair
class IsoTextTimestamp:
    """Serving calls `.weekday()` on the timestamp; an ISO-text timestamp (accepted by the contract) raises."""

    category = "coercion"
    skewed = True
    edge_only = True
    inputs = "booking_ts: {type: timestamp, nullable: false}"
    witness = {"booking_ts": "2026-06-30T12:00:00+00:00"}

    def ordinary(rng):
        return {"booking_ts": dt.datetime(2025, 1, 1, tzinfo=UTC) + dt.timedelta(minutes=rng.randrange(525_600))}

    def train(df):
        return pd.DataFrame(
            {"booking_dow": pd.to_datetime(df["booking_ts"], utc=True, format="ISO8601").dt.day_of_week}
        )

    def serve(row):
        return {"booking_dow": row["booking_ts"].astimezone(UTC).weekday()}


@corpus_pair
class RatingTruncatedToInt:
    """Serving converts the rating with `int()` (the old API sent whole stars); training keeps the float."""

    category = "coercion"
    skewed = True
    edge_only = False
    inputs = "rating: {type: float, nullable: false, min: 0, max: 5}"
    witness = {"rating": 4.5}

    def ordinary(rng):
        return {"rating": rng.choice([1.0, 2.0, 3.0, 3.5, 4.0, 4.5, 5.0])}

    def train(df):
        return pd.DataFrame({"rating_centered": df["rating"] - 3.0})

    def serve(row):
        return {"rating_centered": float(int(row["rating"]) - 3)}


@corpus_pair
class HouseNumberIsdigit:
    """Serving parses house numbers with `int(s) if s.isdigit()`: "²" raises, "٣" parses, " 12" is dropped."""

    category = "coercion"
    skewed = True
    edge_only = True
    inputs = "house_no: {type: str}"
    witness = {"house_no": "\u0663"}

    def ordinary(rng):
        number = str(rng.randint(1, 250))
        return {"house_no": number + "a" if rng.random() < 0.1 else number}

    def train(df):
        return pd.DataFrame({"house_number": pd.to_numeric(df["house_no"], errors="coerce")})

    def serve(row):
        text = row.get("house_no")
        return {"house_number": float(int(text)) if text is not None and text.isdigit() else None}


@corpus_pair
class QuantityAsFloat:
    """Correct: training casts the int quantity to float64 (NaN when missing); serving `float(q)` or None."""

    category = "coercion"
    skewed = False
    edge_only = False
    inputs = "quantity: {type: int, min: 0, max: 100000}"

    def ordinary(rng):
        return {"quantity": None if rng.random() < 0.05 else rng.randint(1, 20)}

    def train(df):
        return pd.DataFrame({"quantity_f": df["quantity"].astype("float64")})

    def serve(row):
        quantity = row.get("quantity")
        return {"quantity_f": None if quantity is None else float(quantity)}


@corpus_pair
class PromoFlagNumpyBool:
    """Correct: training returns numpy booleans cast to int64; serving `int(bool)` with False for missing."""

    category = "coercion"
    skewed = False
    edge_only = False
    inputs = "is_promo: {type: bool}"

    def ordinary(rng):
        return {"is_promo": None if rng.random() < 0.1 else rng.random() < 0.3}

    def train(df):
        return pd.DataFrame({"promo": df["is_promo"].fillna(False).astype("int64")})

    def serve(row):
        return {"promo": int(row.get("is_promo") or False)}


PAIRS = [
    IsinstanceFloatCheck,
    IsoTextTimestamp,
    RatingTruncatedToInt,
    HouseNumberIsdigit,
    QuantityAsFloat,
    PromoFlagNumpyBool,
]
