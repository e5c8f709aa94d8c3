"""Ordering and ties: argmax tie-breaks, min/max around NaN, stable vs unstable orders."""

from __future__ import annotations

import math

import pandas as pd

from .pair import corpus_pair

CHANNELS = ["email", "push", "sms"]


@corpus_pair
class FavouriteChannelTieBreak:
    """Serving breaks ties in the argmax by channel name (`max` over (count, name)); pandas `idxmax` takes the first."""

    category = "ordering"
    skewed = True
    edge_only = False
    inputs = "email: {type: int, nullable: false, min: 0}\npush: {type: int, nullable: false, min: 0}\nsms: {type: int, nullable: false, min: 0}"
    witness = {"email": 2, "push": 2, "sms": 0}

    def ordinary(rng):
        return {c: rng.randint(0, 3) for c in CHANNELS}

    def train(df):
        return pd.DataFrame({"favourite": df[CHANNELS].astype("int64").idxmax(axis=1)})

    def serve(row):
        return {"favourite": max(CHANNELS, key=lambda c: (row[c], c))}


@corpus_pair
class MinWithNan:
    """Serving's `min(a, b)` depends on argument order around NaN; pandas `min(axis=1)` skips NaN."""

    category = "ordering"
    skewed = True
    edge_only = True
    inputs = "price_web: {type: float}\nprice_app: {type: float}"
    witness = {"price_web": math.nan, "price_app": 9.99}

    def ordinary(rng):
        web = round(rng.uniform(5, 100), 2)
        return {"price_web": web, "price_app": round(web * rng.choice([0.9, 1.0, 1.05]), 2)}

    def train(df):
        return pd.DataFrame({"best_price": df[["price_web", "price_app"]].astype("float64").min(axis=1)})

    def serve(row):
        prices = [p for p in (row.get("price_web"), row.get("price_app")) if p is not None]
        return {"best_price": min(prices) if prices else math.nan}


@corpus_pair
class LatestEventSortedLast:
    """Serving picks the last event type with `sorted(...)[-1]` on timestamps, taking the later one on ties."""

    category = "ordering"
    skewed = True
    edge_only = True
    inputs = "cart_ts: {type: float, nullable: false}\nsearch_ts: {type: float, nullable: false}"
    witness = {"cart_ts": 100.0, "search_ts": 100.0}

    def ordinary(rng):
        return {"cart_ts": rng.uniform(1.7e9, 1.8e9), "search_ts": rng.uniform(1.7e9, 1.8e9)}

    def train(df):
        last = df[["cart_ts", "search_ts"]].idxmax(axis=1).str.removesuffix("_ts")
        return pd.DataFrame({"last_event": last})

    def serve(row):
        events = sorted([("cart", row["cart_ts"]), ("search", row["search_ts"])], key=lambda e: e[1])
        return {"last_event": events[-1][0]}


@corpus_pair
class MaxOfTwoCounts:
    """Correct: `max(axis=1)` over two int columns and the builtin `max`."""

    category = "ordering"
    skewed = False
    edge_only = False
    inputs = "orders_web: {type: int, nullable: false, min: 0, max: 1000000}\norders_app: {type: int, nullable: false, min: 0, max: 1000000}"

    def ordinary(rng):
        return {"orders_web": rng.randint(0, 40), "orders_app": rng.randint(0, 40)}

    def train(df):
        return pd.DataFrame({"max_orders": df[["orders_web", "orders_app"]].max(axis=1)})

    def serve(row):
        return {"max_orders": max(row["orders_web"], row["orders_app"])}


@corpus_pair
class RankOfThreeStable:
    """Correct: the rank of the push channel among three counts, by a stable descending sort on both sides."""

    category = "ordering"
    skewed = False
    edge_only = False
    inputs = "email: {type: int, nullable: false, min: 0, max: 1000000}\npush: {type: int, nullable: false, min: 0, max: 1000000}\nsms: {type: int, nullable: false, min: 0, max: 1000000}"

    def ordinary(rng):
        return {c: rng.randint(0, 5) for c in CHANNELS}

    def train(df):
        ranks = df[CHANNELS].astype("int64").rank(axis=1, method="first", ascending=False)
        return pd.DataFrame({"push_rank": ranks["push"].astype("int64")})

    def serve(row):
        order = sorted(CHANNELS, key=lambda c: -row[c])
        return {"push_rank": order.index("push") + 1}


PAIRS = [FavouriteChannelTieBreak, MinWithNan, LatestEventSortedLast, MaxOfTwoCounts, RankOfThreeStable]
