"""Hashing: what exactly is hashed (null text, whitespace, number formatting) and how digests are read."""

from __future__ import annotations

import hashlib
import zlib

import pandas as pd

from .pair import corpus_pair

BUCKETS = 1000


def _md5_bucket(text: str) -> int:
    return int(hashlib.md5(text.encode("utf-8")).hexdigest()[:8], 16) % BUCKETS


def _merchant(rng):
    return rng.choice(["amazon", "ikea", "zalando", "uber", "lidl", "shell"]) + f"_{rng.randrange(500)}"


@corpus_pair
class HashOfNoneText:
    """Serving hashes `str(row.get("merchant"))`, so a null merchant hashes "None"; training hashes ""."""

    category = "hashing"
    skewed = True
    edge_only = True
    inputs = "merchant: {type: str}"
    witness = {"merchant": None}

    def ordinary(rng):
        return {"merchant": _merchant(rng)}

    def train(df):
        return pd.DataFrame({"merchant_bucket": df["merchant"].fillna("").map(_md5_bucket).astype("int64")})

    def serve(row):
        return {"merchant_bucket": _md5_bucket(str(row.get("merchant")))}


@corpus_pair
class DigestByteOrder:
    """The serving port reads the first 4 digest bytes little-endian; training parses the hex big-endian."""

    category = "hashing"
    skewed = True
    edge_only = False
    inputs = "merchant: {type: str, nullable: false}"
    witness = {"merchant": "ikea_1"}

    def ordinary(rng):
        return {"merchant": _merchant(rng)}

    def train(df):
        return pd.DataFrame({"merchant_bucket": df["merchant"].map(_md5_bucket).astype("int64")})

    def serve(row):
        digest = hashlib.md5(row["merchant"].encode("utf-8")).digest()
        return {"merchant_bucket": int.from_bytes(digest[:4], "little") % BUCKETS}


@corpus_pair
class HashWithoutStrip:
    """Training hashes the stripped, lower-cased email; serving only lower-cases it."""

    category = "hashing"
    skewed = True
    edge_only = True
    inputs = "email: {type: str, nullable: false}"
    witness = {"email": " a@b.com"}

    def ordinary(rng):
        user = rng.choice(["ann", "bo", "cy", "dee"]) + str(rng.randrange(1000))
        return {"email": f"{user}@{rng.choice(['gmail.com', 'Example.org'])}"}

    def train(df):
        return pd.DataFrame({"email_bucket": df["email"].str.strip().str.lower().map(_md5_bucket).astype("int64")})

    def serve(row):
        return {"email_bucket": _md5_bucket(row["email"].lower())}


@corpus_pair
class StoreIdAsText:
    """Serving hashes `str(store_id)`; an integral float id (accepted by the int contract) hashes "42.0"."""

    category = "hashing"
    skewed = True
    edge_only = True
    inputs = "store_id: {type: int, nullable: false, min: 0}"
    witness = {"store_id": 42.0}

    def ordinary(rng):
        return {"store_id": rng.randrange(1, 5000)}

    def train(df):
        ids = df["store_id"].astype("int64").astype(str)
        return pd.DataFrame({"store_bucket": ids.map(_md5_bucket).astype("int64")})

    def serve(row):
        return {"store_bucket": _md5_bucket(str(row["store_id"]))}


@corpus_pair
class Crc32TwoWays:
    """Correct: `zlib.crc32` mapped over the column and the same checksum masked to 32 bits in serving."""

    category = "hashing"
    skewed = False
    edge_only = False
    inputs = "merchant: {type: str}"

    def ordinary(rng):
        return {"merchant": None if rng.random() < 0.05 else _merchant(rng)}

    def train(df):
        codes = df["merchant"].fillna("").map(lambda m: zlib.crc32(m.encode("utf-8")) % 512)
        return pd.DataFrame({"merchant_crc": codes.astype("int64")})

    def serve(row):
        merchant = row.get("merchant") or ""
        return {"merchant_crc": (zlib.crc32(merchant.encode("utf-8")) & 0xFFFFFFFF) % 512}


@corpus_pair
class Sha1HexVsBytes:
    """Correct: `int(hexdigest, 16)` in training and `int.from_bytes(digest, "big")` in serving."""

    category = "hashing"
    skewed = False
    edge_only = False
    inputs = "device_id: {type: str, nullable: false}"

    def ordinary(rng):
        return {"device_id": f"{rng.getrandbits(64):016x}"}

    def train(df):
        bucket = df["device_id"].map(lambda d: int(hashlib.sha1(d.encode("utf-8")).hexdigest(), 16) % 4096)
        return pd.DataFrame({"device_bucket": bucket.astype("int64")})

    def serve(row):
        digest = hashlib.sha1(row["device_id"].encode("utf-8")).digest()
        return {"device_bucket": int.from_bytes(digest, "big") % 4096}


PAIRS = [HashOfNoneText, DigestByteOrder, HashWithoutStrip, StoreIdAsText, Crc32TwoWays, Sha1HexVsBytes]
