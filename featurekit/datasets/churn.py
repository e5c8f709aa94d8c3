"""Synthetic data for the churn reference workload.

The generator follows ``churn-features.md`` (the reference spec): 13 raw columns
with the dtypes, missing rates and quirks listed there (tz-aware and tz-naive
timestamps, a Zipf long tail of countries, lognormal spend with zeros and
outliers, free text with irregular and non-ASCII whitespace).  Generation is
deterministic for a given ``seed`` and fully vectorized, so a million rows take
a few seconds.

Examples
--------
>>> from featurekit.datasets import make_churn, to_rows
>>> df = make_churn(1_000, seed=0)
>>> df.shape
(1000, 13)
>>> rows = to_rows(df.head(2))
>>> sorted(rows[0]) == sorted(df.columns)
True
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from featurekit.values.frames import input_rows

__all__ = [
    "AS_OF",
    "COLUMNS",
    "COUNTRIES",
    "DEVICES",
    "PLANS",
    "UNSEEN_COUNTRIES",
    "make_churn",
    "to_rows",
]

#: The snapshot instant of the dataset (tz-aware UTC).
AS_OF: _dt.datetime = _dt.datetime(2026, 1, 1, tzinfo=_dt.UTC)

#: The 13 raw columns, in order.
COLUMNS: list[str] = [
    "customer_id",
    "signup_ts",
    "last_login_ts",
    "plan",
    "country",
    "device",
    "monthly_spend",
    "tenure_days",
    "num_support_tickets",
    "avg_session_minutes",
    "referral_code",
    "is_promo",
    "description",
]

PLANS: list[str] = ["free", "basic", "standard", "premium", "enterprise"]
_PLAN_P = [0.40, 0.25, 0.20, 0.10, 0.05]

DEVICES: list[str] = ["android", "ios", "web", "desktop", "tv"]
_DEVICE_P = [0.35, 0.30, 0.20, 0.10, 0.05]

#: 150 ISO 3166-1 alpha-2 codes, most frequent first (Zipf rank order).  No code
#: starts with "X", so the evaluation-only codes "XA".."XJ" never occur in training.
COUNTRIES: list[str] = (
    "US GB DE FR IN BR CA AU JP ES IT MX NL SE PL KR TR ID RU CH BE AR AT NO DK "
    "FI IE PT NZ SG ZA CO CL PH MY TH VN EG NG SA AE IL GR CZ RO HU UA PK BD PE "
    "KE MA DZ TW HK VE EC GT CU BO DO HN PY SV NI CR PA UY JM TT BS BB HT LK NP "
    "MM KH LA MN KZ UZ AZ GE AM BY LT LV EE SK SI HR RS BA ME MK AL BG MD IS LU "
    "MT CY QA KW BH OM JO LB IQ IR SY YE AF TN LY SD ET GH CI SN CM UG TZ RW ZM "
    "ZW MZ AO NA BW MG MU SC GA CG CD ML NE BF BJ TG GN SL LR MW LS SZ GM GW MR"
).split()
_ZIPF_S = 1.1

#: Country codes that appear only in evaluation data (1% of rows).
UNSEEN_COUNTRIES: list[str] = [f"X{c}" for c in "ABCDEFGHIJ"]

# Description vocabulary: plain words, accented words (NFC), one NFD word
# (combining diaeresis), an astral emoji and a word with a zero-width space
# (U+200B, which is *not* whitespace).
_WORDS: list[str] = [
    "account",
    "billing",
    "cancel",
    "upgrade",
    "support",
    "slow",
    "app",
    "login",
    "error",
    "great",
    "price",
    "plan",
    "mobile",
    "renew",
    "refund",
    "feature",
    "request",
    "the",
    "a",
    "to",
    "is",
    "not",
    "very",
    "with",
    "and",
    "my",
    "please",
    "thanks",
    "issue",
    "broken",
    "café",
    "naïve",
    "résumé",
    "crème",
    "brûlée",
    "façade",
    "jalapeño",
    "über",
    "déjà",
    "vu",
    "nai\u0308ve",
    "\U0001f44d",
    "zero\u200bwidth",
]
# Relative word frequencies: plain words 10, accented words 3, the odd ones 1.
_WORD_WEIGHTS: list[int] = [10] * 30 + [3] * 10 + [1] * 3
assert len(_WORD_WEIGHTS) == len(_WORDS)
# Separators between tokens.  U+001F, U+00A0, U+2003 and U+3000 are whitespace
# for str.split(); U+200B is not (it glues its neighbours into one token).
_SEPS: list[str] = [
    " ",
    "  ",
    "\t",
    "\n",
    " \t",
    "\r\n",
    "\x1f",
    "\u00a0",
    "\u3000",
    "\u2003",
    "\u200b",
]
_SEP_P = [0.86, 0.05, 0.03, 0.02, 0.01, 0.01, 0.002, 0.006, 0.003, 0.003, 0.006]
# Leading / trailing padding of a description.
_PADS: list[str] = ["", " ", "\n", "\t", "  ", "\u00a0", "\u3000"]
_PAD_P = [0.91, 0.04, 0.02, 0.01, 0.01, 0.005, 0.005]
_MAX_TOKENS = 15

_ALNUM = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", dtype=np.uint8)
_DIGITS = np.frombuffer(b"0123456789", dtype=np.uint8)

_US_PER_S = 1_000_000
_AS_OF_S = int(AS_OF.timestamp())
_SPAN_DAYS = 8 * 365  # signups spread over the 8 years before AS_OF


def _str_series(values: pa.Array, mask: np.ndarray | None = None) -> pd.Series:
    """Arrow string array (+ optional missing mask) -> pandas default ``str`` Series."""
    if mask is not None and mask.any():
        values = pc.if_else(pa.array(mask), pa.scalar(None, values.type), values)
    return pd.Series(values, dtype="str")


def _fixed_width(prefix: bytes, body: np.ndarray) -> pa.Array:
    """Build ASCII strings ``prefix + body[i]`` (body: uint8 matrix) as an Arrow array."""
    n, w = body.shape
    head = np.broadcast_to(np.frombuffer(prefix, dtype=np.uint8), (n, len(prefix)))
    buf = np.ascontiguousarray(np.concatenate([head, body], axis=1))
    width = len(prefix) + w
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(buf))


_SEP_RES = 1000  # every separator probability is a multiple of 1/1000


def _sep_table() -> np.ndarray:
    """Map a uniform draw in ``[0, _SEP_RES)`` to a separator index (by ``_SEP_P``)."""
    counts = np.round(np.asarray(_SEP_P) * _SEP_RES).astype(np.int64)
    assert counts.sum() == _SEP_RES
    return np.repeat(np.arange(len(_SEPS)), counts)


def _descriptions(rng: np.random.Generator, n: int) -> pa.Array:
    """Vectorized free text: 0-15 tokens joined by irregular whitespace.

    Each token position draws a (word, following separator) pair in one go from
    a pool of ``word + sep`` strings; positions past the row's token count are
    "" and the last token of a row has no separator.
    """
    n_seps = len(_SEPS)
    k = rng.integers(0, _MAX_TOKENS + 1, size=n)
    # Pool: index 0 is ""; then for each word, the word alone and word + each sep.
    pool = [""] + [w + s for w in _WORDS for s in [""] + _SEPS]
    stride = n_seps + 1
    # Draw r uniform over word-bins x separator-bins (bins encode the weights);
    # lut[r] = pool index of word + sep.
    word_of_bin = np.repeat(np.arange(len(_WORDS)), _WORD_WEIGHTS)
    sep_of_bin = _sep_table()
    n_bins = len(word_of_bin) * _SEP_RES
    r_words = word_of_bin[np.arange(n_bins) // _SEP_RES]
    lut = (1 + r_words * stride + 1 + sep_of_bin[np.arange(n_bins) % _SEP_RES]).astype(np.int32)
    r = rng.integers(0, n_bins, size=(n, _MAX_TOKENS), dtype=np.int32)
    cell = lut[r]
    pos = np.arange(_MAX_TOKENS)
    last = pos[None, :] == (k[:, None] - 1)
    # Last token: the word alone (pool index 1 + word * stride).
    cell[last] = (1 + r_words[r[last]] * stride).astype(np.int32)
    cell[pos[None, :] >= k[:, None]] = 0
    pool_arr = pa.array(pool, type=pa.large_string())
    pads = pa.array(_PADS, type=pa.large_string())
    lead = rng.choice(len(_PADS), size=n, p=_PAD_P)
    trail = rng.choice(len(_PADS), size=n, p=_PAD_P)
    parts: list[pa.Array] = [pads.take(pa.array(lead))]
    parts += [pool_arr.take(pa.array(cell[:, i])) for i in range(_MAX_TOKENS)]
    parts.append(pads.take(pa.array(trail)))
    return pc.binary_join_element_wise(*parts, pa.scalar("", pa.large_string()))


def make_churn(n_rows: int, seed: int = 0, *, evaluation: bool = False) -> pd.DataFrame:
    """Generate the churn reference dataset.

    Parameters
    ----------
    n_rows : int
        Number of rows.
    seed : int, default 0
        Seed for ``numpy.random.default_rng``; equal seeds give equal frames.
    evaluation : bool, default False
        If true, inject unseen categories into 1% of the rows of each of
        ``plan`` ("trial"), ``country`` ("XA".."XJ") and ``device`` ("watch"),
        drawn independently per column.  The other values are identical to
        ``make_churn(n_rows, seed)``.

    Returns
    -------
    pandas.DataFrame
        The 13 columns of :data:`COLUMNS` with the dtypes of the reference:
        ``str`` (missing = NaN), ``datetime64[us, UTC]`` (``signup_ts``),
        tz-naive ``datetime64[us]`` meaning UTC (``last_login_ts``, NaT when
        missing), ``float64``, ``int64`` and ``bool``.

    Examples
    --------
    >>> df = make_churn(5, seed=1)
    >>> list(df.dtypes.astype(str))[:3]
    ['str', 'datetime64[us, UTC]', 'datetime64[us]']
    """
    n = int(n_rows)
    if n < 0:
        raise ValueError("n_rows must be >= 0")
    rng = np.random.default_rng(seed)

    # customer_id: "CUST-" + 9 digits, unique (an affine permutation of 0..1e9-1).
    start = int(rng.integers(0, 10**9))
    ids = (np.arange(n, dtype=np.int64) * 387_420_489 + start) % 10**9
    lut3 = _DIGITS[(np.arange(1000)[:, None] // np.array([100, 10, 1])) % 10]
    body = np.concatenate([lut3[ids // 1_000_000], lut3[(ids // 1000) % 1000], lut3[ids % 1000]], axis=1)
    customer_id = _fixed_width(b"CUST-", body)

    # signup_ts: whole seconds before AS_OF; ~1% within the last day (tenure 0).
    recent = rng.random(n) < 0.01
    secs_before = np.where(
        recent,
        rng.integers(1, 86_400, size=n),
        rng.integers(86_400, _SPAN_DAYS * 86_400, size=n),
    )
    signup_s = _AS_OF_S - secs_before
    tenure_days = (secs_before // 86_400).astype(np.int64)

    # last_login_ts: strictly after signup, skewed towards AS_OF; ~4% missing.
    login_before = np.floor(rng.random(n) ** 2 * secs_before).astype(np.int64)
    login_before = np.minimum(login_before, secs_before - 1)
    login_us = (_AS_OF_S - login_before) * _US_PER_S
    login_missing = rng.random(n) < 0.04

    plan_idx = rng.choice(len(PLANS), size=n, p=_PLAN_P).astype(np.int32)
    zipf_w = 1.0 / np.arange(1, len(COUNTRIES) + 1) ** _ZIPF_S
    country_idx = rng.choice(len(COUNTRIES), size=n, p=zipf_w / zipf_w.sum()).astype(np.int32)
    device_idx = rng.choice(len(DEVICES), size=n, p=_DEVICE_P).astype(np.int32)
    device_missing = rng.random(n) < 0.08

    # monthly_spend: lognormal in cents; ~5% NaN, ~2% zeros, ~0.5% outliers x20-100.
    spend = np.round(rng.lognormal(mean=3.0, sigma=0.8, size=n), 2)
    u = rng.random(n)
    factor = rng.uniform(20.0, 100.0, size=n)
    spend = np.where((u >= 0.07) & (u < 0.075), np.round(spend * factor, 2), spend)
    spend[(u >= 0.05) & (u < 0.07)] = 0.0
    spend[u < 0.05] = np.nan

    tickets = rng.poisson(1.2, size=n).astype(np.int64)
    session = rng.gamma(2.0, 6.0, size=n)

    # referral_code: ~65% "", ~5% missing, else "REF" + 6 chars.
    ref_codes = _fixed_width(b"REF", _ALNUM[rng.integers(0, len(_ALNUM), size=(n, 6))])
    ru = rng.random(n)
    referral = pc.if_else(pa.array(ru < 0.65), pa.scalar("", pa.large_string()), ref_codes)
    referral_missing = (ru >= 0.65) & (ru < 0.70)

    is_promo = rng.random(n) < 0.15

    desc = _descriptions(rng, n)
    desc_missing = rng.random(n) < 0.03

    if evaluation:
        # Unseen values sit at the end of each pool (see below).
        k = int(round(0.01 * n))
        plan_idx[rng.choice(n, size=k, replace=False)] = len(PLANS)
        rows = rng.choice(n, size=k, replace=False)
        country_idx[rows] = len(COUNTRIES) + rng.integers(0, len(UNSEEN_COUNTRIES), size=k)
        rows = rng.choice(n, size=k, replace=False)
        device_idx[rows] = len(DEVICES)
        device_missing[rows] = False
    large = pa.large_string()
    plan = pa.array(PLANS + ["trial"], type=large).take(pa.array(plan_idx))
    country = pa.array(COUNTRIES + UNSEEN_COUNTRIES, type=large).take(pa.array(country_idx))
    device = pa.array(DEVICES + ["watch"], type=large).take(pa.array(device_idx))

    signup = pd.Series(pd.DatetimeIndex((signup_s * _US_PER_S).astype("datetime64[us]")).tz_localize("UTC"))
    login_arr = login_us.astype("datetime64[us]")
    login_arr[login_missing] = np.datetime64("NaT", "us")

    return pd.DataFrame(
        {
            "customer_id": _str_series(customer_id),
            "signup_ts": signup,
            "last_login_ts": pd.Series(login_arr),
            "plan": _str_series(plan),
            "country": _str_series(country),
            "device": _str_series(device, device_missing),
            "monthly_spend": pd.Series(spend, dtype="float64"),
            "tenure_days": pd.Series(tenure_days, dtype="int64"),
            "num_support_tickets": pd.Series(tickets, dtype="int64"),
            "avg_session_minutes": pd.Series(session, dtype="float64"),
            "referral_code": _str_series(referral, referral_missing),
            "is_promo": pd.Series(is_promo, dtype="bool"),
            "description": _str_series(desc, desc_missing),
        }
    )


def to_rows(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Convert a frame to the row-dict form used by the row path.

    Every value is a plain Python object: ``str``, ``int``, ``float``,
    ``bool`` or ``datetime.datetime`` (tz-aware with ``datetime.timezone.utc``
    for tz-aware columns such as ``signup_ts``, naive for naive columns such as
    ``last_login_ts``).  Every missing value (NaN, NaT, NA) becomes ``None``.
    The conversion is vectorized per column, then zipped into dicts.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame such as the output of :func:`make_churn`.

    Returns
    -------
    list of dict
        One dict per row, keys in column order.

    Examples
    --------
    >>> rows = to_rows(make_churn(3, seed=0))
    >>> type(rows[0]["tenure_days"]).__name__, rows[0]["signup_ts"].tzinfo
    ('int', datetime.timezone.utc)
    """
    return input_rows(df)
