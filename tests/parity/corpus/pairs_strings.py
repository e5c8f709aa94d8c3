"""Strings and Unicode: whitespace, case mapping, normal forms, tokenization."""

from __future__ import annotations

import unicodedata

import pandas as pd

from .pair import corpus_pair

CITIES = ["berlin", "paris", "lisbon", "new york", "oslo", "madrid"]
WORDS = ["fast", "delivery", "great", "price", "item", "broken", "late", "ok", "would", "buy", "again"]


def _sentence(rng):
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 9)))


@corpus_pair
class TokensSplitOnSpace:
    """Serving counts tokens with `split(" ")`: wrong for "", repeated spaces, tabs and newlines."""

    category = "strings"
    skewed = True
    edge_only = True
    inputs = "review: {type: str}"
    witness = {"review": "great\tprice"}

    def ordinary(rng):
        return {"review": _sentence(rng)}

    def train(df):
        return pd.DataFrame({"review_tokens": df["review"].str.split().str.len().fillna(0).astype(int)})

    def serve(row):
        review = row.get("review")
        return {"review_tokens": len(review.split(" ")) if review is not None else 0}


@corpus_pair
class CasefoldVsLower:
    """Training keys cities with `str.casefold()`, serving with `lower()`: differs for "ß" and other folds."""

    category = "strings"
    skewed = True
    edge_only = True
    inputs = "city: {type: str}"
    witness = {"city": "Straße"}

    def ordinary(rng):
        city = rng.choice(CITIES)
        return {"city": city.title() if rng.random() < 0.5 else city}

    def train(df):
        return pd.DataFrame({"city_key": df["city"].str.casefold().str.strip()})

    def serve(row):
        city = row.get("city")
        return {"city_key": city.lower().strip() if city is not None else None}


@corpus_pair
class LengthWithoutNfc:
    """Training measures NFC-normalized names; serving measures the raw string (decomposed accents count twice)."""

    category = "strings"
    skewed = True
    edge_only = True
    inputs = "display_name: {type: str}"
    witness = {"display_name": "Rene\u0301"}

    def ordinary(rng):
        return {"display_name": rng.choice(["anna", "bob", "chloe", "dmitri", "eve"]) + str(rng.randrange(100))}

    def train(df):
        return pd.DataFrame({"name_len": df["display_name"].str.normalize("NFC").str.len().fillna(0).astype(int)})

    def serve(row):
        name = row.get("display_name") or ""
        return {"name_len": len(name)}


@corpus_pair
class QueryNotStripped:
    """Training strips search queries before measuring them; serving measures the raw query."""

    category = "strings"
    skewed = True
    edge_only = False
    inputs = "query: {type: str, nullable: false}"
    witness = {"query": "red shoes "}

    def ordinary(rng):
        q = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3)))
        return {"query": q + " " if rng.random() < 0.15 else q}

    def train(df):
        return pd.DataFrame({"query_len": df["query"].str.strip().str.len()})

    def serve(row):
        return {"query_len": len(row["query"])}


@corpus_pair
class StripOnlyAsciiSpace:
    """Serving trims with `strip(" ")`; training's `str.strip()` also removes NBSP, tabs and ideographic spaces."""

    category = "strings"
    skewed = True
    edge_only = True
    inputs = "sku: {type: str}"
    witness = {"sku": "AB-123\u00a0"}

    def ordinary(rng):
        sku = f"{rng.choice('ABCDEF')}{rng.choice('XYZ')}-{rng.randrange(1000):03d}"
        return {"sku": f" {sku}" if rng.random() < 0.2 else sku}

    def train(df):
        return pd.DataFrame({"sku_clean": df["sku"].str.strip().str.upper()})

    def serve(row):
        sku = row.get("sku")
        return {"sku_clean": sku.strip(" ").upper() if sku is not None else None}


@corpus_pair
class TokenCountTwoWays:
    """Correct: pandas `.str.split().str.len()` (float64 with NaN, then filled) and `len(s.split())`."""

    category = "strings"
    skewed = False
    edge_only = False
    inputs = "review: {type: str}"

    def ordinary(rng):
        return {"review": None if rng.random() < 0.05 else _sentence(rng)}

    def train(df):
        return pd.DataFrame({"n_words": df["review"].str.split().str.len().fillna(0).astype("int64")})

    def serve(row):
        review = row.get("review")
        return {"n_words": len(review.split()) if review else 0}


@corpus_pair
class NormalizeThenLower:
    """Skewed: NFKC then lower in pandas and in serving; pandas 3's `str` dtype lowers "İ" to "i"
    and a word-final "Σ" to "σ", Python's `str.lower` to "i̇" and "ς".

    Written as a correct pair; the tester flagged it, and the difference is real: the `str`
    dtype (what training data read from CSV or Parquet has) lowers through Arrow's case tables,
    not Python's. Relabelled skewed, edge-only (ordinary brands are ASCII).
    """

    category = "strings"
    skewed = True
    edge_only = True
    inputs = "brand: {type: str}"
    witness = {"brand": "İstanbul"}

    def ordinary(rng):
        return {"brand": rng.choice(["Acme", "Globex", "Initech", "Umbrella", "Hooli"])}

    def train(df):
        return pd.DataFrame({"brand_key": df["brand"].str.normalize("NFKC").str.lower()})

    def serve(row):
        brand = row.get("brand")
        return {"brand_key": None if brand is None else unicodedata.normalize("NFKC", brand).lower()}


PAIRS = [
    TokensSplitOnSpace,
    CasefoldVsLower,
    LengthWithoutNfc,
    QueryNotStripped,
    StripOnlyAsciiSpace,
    TokenCountTwoWays,
    NormalizeThenLower,
]
