"""Deterministic synthetic data for specs/fraud.yaml and specs/listings.yaml.

``make_fraud(n, seed)`` and ``make_listings(n, seed)`` return pandas DataFrames with the
spec's input columns (same seed, same frame), including missing values, unseen categories
and awkward text, so fitting and parity checks exercise the null and out-of-vocabulary paths.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MCCS = [
    "grocery",
    "fuel",
    "restaurants",
    "travel",
    "electronics",
    "fashion",
    "gaming",
    "pharmacy",
    "gift_cards",
    "crypto",
    "telecom",
    "utilities",
    "hotels",
    "airlines",
    "marketplace",
    "jewelry",
]
COUNTRIES = ["US", "GB", "DE", "FR", "NL", "SE", "NO", "ES", "IT", "BR", "IN", "NG"]


def _mask(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    return rng.random(n) < rate


def _zipf_choice(rng: np.random.Generator, values: list[str], n: int, a: float = 1.3) -> np.ndarray:
    weights = 1.0 / np.arange(1, len(values) + 1) ** a
    return rng.choice(np.array(values, dtype=object), size=n, p=weights / weights.sum())


def make_fraud(n: int, seed: int = 0) -> pd.DataFrame:
    """Card transactions. ``txn_ts`` is tz-aware in mixed zones (converted to UTC on input);
    ``merchant_local_ts`` is naive Berlin wall-clock time and ``account_created_ts`` naive New York
    wall-clock time, as the spec declares."""
    rng = np.random.default_rng(seed)
    base = pd.Timestamp("2026-01-01T00:00:00Z")
    seconds = np.sort(rng.integers(0, 30 * 86400, n))
    txn_utc = base + pd.to_timedelta(seconds, unit="s")
    amount = np.round(rng.lognormal(3.5, 1.2, n), 2)
    round_rows = _mask(rng, n, 0.08)
    amount[round_rows] = np.round(amount[round_rows], -1)
    count_24h = rng.poisson(3, n) + 1
    count_1h = np.minimum(count_24h, rng.poisson(0.6, n) + 1)
    card_country = _zipf_choice(rng, COUNTRIES, n)
    ip_country = np.where(_mask(rng, n, 0.9), card_country, _zipf_choice(rng, COUNTRIES, n))
    # the gateway sends aware times in whatever zone its region uses: convert per row
    zones = rng.choice(["UTC", "America/New_York", "Asia/Tokyo"], size=n)
    txn_ts = pd.Series([t.tz_convert(z) for t, z in zip(txn_utc, zones)], dtype=object)
    # the acquirer logs naive Berlin wall-clock times (a few seconds of clock skew)
    skew = pd.to_timedelta(rng.integers(-5, 6, n), unit="s")
    merchant_local = (txn_utc + skew).tz_convert("Europe/Berlin").tz_localize(None)
    age_days = rng.exponential(400, n)
    account_created = (txn_utc - pd.to_timedelta(age_days, unit="D")).tz_convert("America/New_York")
    account_created = account_created.tz_localize(None).floor("s")
    df = pd.DataFrame(
        {
            "transaction_id": [f"TX{seed:02d}{i:09d}" for i in range(n)],
            "amount": amount,
            "currency": pd.Categorical(
                rng.choice(["USD", "EUR", "GBP", "JPY", "CHF"], size=n, p=[0.45, 0.3, 0.15, 0.08, 0.02])
            ),
            "merchant_id": [f"M{x:05d}" for x in rng.zipf(1.5, n) % 50_000],
            "merchant_category": pd.Categorical(_zipf_choice(rng, MCCS, n)),
            "card_country": pd.Categorical(card_country),
            "ip_country": pd.Categorical(np.where(_mask(rng, n, 0.03), None, ip_country)),
            "txn_ts": txn_ts,
            "merchant_local_ts": pd.Series(merchant_local),
            "account_created_ts": pd.Series(account_created),
            "txn_count_1h": count_1h.astype("int64"),
            "txn_count_24h": count_24h.astype("int64"),
            "amount_sum_24h": np.round(amount * count_24h * rng.uniform(0.5, 1.5, n), 2),
            "avg_amount_30d": np.where(_mask(rng, n, 0.1), np.nan, np.round(rng.lognormal(3.5, 0.8, n), 2)),
            "is_card_present": pd.array(np.where(_mask(rng, n, 0.02), None, rng.random(n) < 0.3), dtype="boolean"),
        }
    )
    df.loc[_mask(rng, n, 0.02), "amount"] = np.nan
    df.loc[_mask(rng, n, 0.05), "merchant_local_ts"] = pd.NaT
    return df


CITIES = ["Berlin", "Paris", "Madrid", "Rome", "Amsterdam", "Lisbon", "Vienna", "Prague", "Stockholm", "Oslo"]
CITY_GEO = {
    "Berlin": (52.52, 13.40),
    "Paris": (48.86, 2.35),
    "Madrid": (40.42, -3.70),
    "Rome": (41.90, 12.50),
    "Amsterdam": (52.37, 4.90),
    "Lisbon": (38.72, -9.14),
    "Vienna": (48.21, 16.37),
    "Prague": (50.08, 14.44),
    "Stockholm": (59.33, 18.07),
    "Oslo": (59.91, 10.75),
}
WORDS = [
    "cosy",
    "bright",
    "luxury",
    "Luxury",
    "quiet",
    "central",
    "studio",
    "loft",
    "garden",
    "view",
    "café",
    "naïve",
    "old\u00a0town",
    "near",
    "metro",
    "balcony",
    "spacious",
    "modern",
    "charming",
    "🌞",
]
AMENITIES = ["wifi", "kitchen", "parking", "washer", "ac", "heating", "tv", "pool", "gym", "elevator"]


def _texts(rng: np.random.Generator, n: int, lo: int, hi: int) -> list[str]:
    lengths = rng.integers(lo, hi, n)
    words = rng.choice(np.array(WORDS, dtype=object), size=(n, hi))
    seps = rng.choice(np.array([" ", " ", " ", "  ", "\t", "\n"], dtype=object), size=(n, hi))
    return ["".join(w + s for w, s in zip(words[i, :k], seps[i, :k])).strip() for i, k in enumerate(lengths)]


def make_listings(n: int, seed: int = 0) -> pd.DataFrame:
    """Rental listings in ten European cities, with a long neighbourhood tail and dirty text."""
    rng = np.random.default_rng(seed)
    city = _zipf_choice(rng, CITIES, n, a=0.8)
    lat = np.array([CITY_GEO[c][0] for c in city]) + rng.normal(0, 0.05, n)
    lon = np.array([CITY_GEO[c][1] for c in city]) + rng.normal(0, 0.08, n)
    bedrooms = rng.poisson(1.3, n)
    area = np.round(18 + 22 * bedrooms + rng.gamma(2.0, 10.0, n), 1)
    price = np.round(area * rng.lognormal(1.0, 0.35, n), 0)
    neighbourhood = [f"{c[:3].lower()}-{k}" for c, k in zip(city, rng.zipf(1.6, n) % 400)]
    df = pd.DataFrame(
        {
            "listing_id": [f"L{seed:02d}{i:08d}" for i in range(n)],
            "title": _texts(rng, n, 2, 8),
            "description": _texts(rng, n, 5, 40),
            "amenities": [" ".join(rng.choice(AMENITIES, size=k, replace=False)) for k in rng.integers(0, 8, n)],
            "price": price,
            "area_sqm": area,
            "bedrooms": bedrooms.astype("int64"),
            "lat": lat,
            "lon": lon,
            "city": pd.Categorical(city),
            "neighbourhood": pd.Categorical(neighbourhood),
            "property_type": pd.Categorical(
                rng.choice(
                    ["apartment", "house", "studio", "loft", "villa", "room", "boat"],
                    size=n,
                    p=[0.55, 0.12, 0.15, 0.06, 0.03, 0.08, 0.01],
                )
            ),
            "room_type": pd.Categorical(
                rng.choice(["entire", "private", "shared", "hotel"], size=n, p=[0.6, 0.3, 0.07, 0.03])
            ),
            "cancellation_policy": pd.Categorical(rng.choice(["flexible", "moderate", "strict"], size=n)),
            "host_id": [f"H{x:06d}" for x in rng.integers(0, max(n // 3, 1), n)],
            "listed_ts": pd.Timestamp("2024-01-01T00:00:00Z")
            + pd.to_timedelta(rng.integers(0, 730 * 86400, n), unit="s"),
            "instant_bookable": pd.array(rng.random(n) < 0.4, dtype="boolean"),
        }
    )
    df["description"] = df["description"].where(~_mask(rng, n, 0.1), None)
    df.loc[_mask(rng, n, 0.03), "price"] = np.nan
    df.loc[_mask(rng, n, 0.05), ["lat", "lon"]] = np.nan
    df.loc[_mask(rng, n, 0.02), "area_sqm"] = np.nan
    return df
