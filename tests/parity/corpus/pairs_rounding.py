"""Rounding: half-even vs half-up, numpy's scaled rounding vs Python's correctly rounded `round`, time ties."""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from .pair import corpus_pair
from .pairs_time import UTC, as_utc, utc_instant


@corpus_pair
class PandasRoundVsBuiltin:
    """Training rounds prices to 10 cents with pandas (scale, rint, unscale); serving uses `round(x, 1)`."""

    category = "rounding"
    skewed = True
    edge_only = False
    inputs = "price: {type: float, min: 0}"
    witness = {"price": 0.15}

    def ordinary(rng):
        return {"price": rng.randrange(100, 20000) / 100}

    def train(df):
        return pd.DataFrame({"price_dimes": df["price"].round(1)})

    def serve(row):
        price = row.get("price")
        return {"price_dimes": round(price, 1) if price is not None and price == price else math.nan}


@corpus_pair
class StarsHalfUp:
    """Training rounds ratings half up (`floor(x + 0.5)`); serving's `round()` rounds half to even."""

    category = "rounding"
    skewed = True
    edge_only = True
    inputs = "avg_rating: {type: float, nullable: false, min: 0, max: 5}"
    witness = {"avg_rating": 2.5}

    def ordinary(rng):
        return {"avg_rating": sum(rng.randint(1, 5) for _ in range(7)) / 7}

    def train(df):
        return pd.DataFrame({"stars": np.floor(df["avg_rating"] + 0.5).astype("int64")})

    def serve(row):
        return {"stars": int(round(row["avg_rating"]))}


@corpus_pair
class DecimalHalfUpCents:
    """Serving quantizes with `Decimal(str(x))` ROUND_HALF_UP; training's pandas round sees the binary value."""

    category = "rounding"
    skewed = True
    edge_only = True
    inputs = "fx_amount: {type: float, min: 0, max: 1000000}"
    witness = {"fx_amount": 0.125}

    def ordinary(rng):
        return {"fx_amount": round(rng.uniform(1, 500), 2)}

    def train(df):
        return pd.DataFrame({"amount_cents": df["fx_amount"].round(2)})

    def serve(row):
        amount = row.get("fx_amount")
        if amount is None or amount != amount:
            return {"amount_cents": math.nan}
        return {"amount_cents": float(Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))}


@corpus_pair
class FiveMinuteSlotTies:
    """Training's `.dt.round("5min")` rounds an exact half (10:02:30) to even; serving's `(s + 150) // 300` rounds it up."""

    category = "rounding"
    skewed = True
    edge_only = True
    inputs = "pickup_ts: {type: timestamp, nullable: false}"
    witness = {"pickup_ts": dt.datetime(2025, 5, 1, 10, 2, 30, tzinfo=UTC)}

    def ordinary(rng):
        return {"pickup_ts": utc_instant(rng) + dt.timedelta(microseconds=rng.randrange(1, 10**6))}

    def train(df):
        slot = pd.to_datetime(df["pickup_ts"], utc=True).dt.round("5min")
        return pd.DataFrame({"pickup_slot": (slot.dt.hour * 60 + slot.dt.minute) // 5})

    def serve(row):
        ts = as_utc(row["pickup_ts"])
        seconds = ts.hour * 3600 + ts.minute * 60 + ts.second + ts.microsecond / 1e6
        return {"pickup_slot": int((seconds + 150) // 300) % 288}


@corpus_pair
class WholeUnitsSignedZero:
    """Correct: pandas keeps -0.0 and NaN when rounding small negatives; serving returns 0.0 and None."""

    category = "rounding"
    skewed = False
    edge_only = False
    inputs = "delta_days: {type: float, min: -3650, max: 3650}"

    def ordinary(rng):
        return {"delta_days": None if rng.random() < 0.05 else round(rng.uniform(-30, 30), 3)}

    def train(df):
        return pd.DataFrame({"delta_whole": df["delta_days"].round(0)})

    def serve(row):
        delta = row.get("delta_days")
        if delta is None or math.isnan(delta):
            return {"delta_whole": None}
        return {"delta_whole": float(round(delta))}


PAIRS = [PandasRoundVsBuiltin, StarsHalfUp, DecimalHalfUpCents, FiveMinuteSlotTies, WholeUnitsSignedZero]
