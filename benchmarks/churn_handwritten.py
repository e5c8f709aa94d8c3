"""Hand-written baselines for the churn reference workload.

What a skilled engineer would write by hand for ``churn-features.md`` without
featurekit: a fit function (numpy/pandas), a pure-Python row function written
for speed (the lower bound for per-row serving latency) and a vectorized
pandas/numpy batch function (the practical bound for batch throughput).  The
row and batch functions agree bit for bit; ``tests/datasets`` checks it.

Examples
--------
>>> from featurekit.datasets import make_churn, to_rows
>>> c = fit_handwritten(make_churn(2_000, seed=0))
>>> ev = make_churn(100, seed=1, evaluation=True)
>>> out = transform_batch_handwritten(ev, c)
>>> list(out.columns) == OUTPUT_COLUMNS
True
>>> transform_row_handwritten(to_rows(ev)[0], c) == out.iloc[0].to_dict()
True
"""

from __future__ import annotations

import bisect
import datetime
import math
import sys
import zlib
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "OUTPUT_COLUMNS",
    "fit_handwritten",
    "transform_batch_handwritten",
    "transform_row_handwritten",
]

# --------------------------------------------------------------------------- constants
K_COUNTRY = 50
N_SPEND_BUCKETS = 10
CLIP_PCT = (1, 99)
REFERRAL_BUCKETS = 1000
CUSTOMER_BUCKETS = 1024
CROSS_BUCKETS = 2048

_UTC = datetime.UTC
AS_OF = datetime.datetime(2026, 1, 1, tzinfo=_UTC)
_AS_OF_NAIVE = datetime.datetime(2026, 1, 1)
_US_PER_S = 1_000_000
_US_PER_HOUR = 3_600 * _US_PER_S
_US_PER_DAY = 86_400 * _US_PER_S
_AS_OF_US = int(AS_OF.timestamp()) * _US_PER_S  # µs since the epoch

#: The 30 output columns, in order (the plan one-hots follow the sorted plan_vocab
#: of the reference data).
OUTPUT_COLUMNS: list[str] = [
    "spend_imputed",
    "spend_missing",
    "spend_clipped",
    "spend_log1p",
    "spend_z",
    "spend_bucket",
    "tenure_minmax",
    "session_z",
    "tickets_log1p",
    "spend_per_tenure_day",
    "tickets_per_tenure_month",
    "signup_dow",
    "signup_hour",
    "login_hour",
    "days_signup_to_login",
    "days_since_last_login",
    "plan_basic",
    "plan_enterprise",
    "plan_free",
    "plan_premium",
    "plan_standard",
    "country_idx",
    "device_idx",
    "device_missing",
    "referral_hash",
    "customer_hash",
    "plan_country_cross",
    "desc_token_count",
    "desc_char_len",
    "is_promo_int",
]

_INT_COLUMNS = frozenset(
    [
        "spend_missing",
        "spend_bucket",
        "signup_dow",
        "signup_hour",
        "login_hour",
        "country_idx",
        "device_idx",
        "device_missing",
        "referral_hash",
        "customer_hash",
        "plan_country_cross",
        "desc_token_count",
        "desc_char_len",
        "is_promo_int",
    ]
)

# Python's str.isspace() set (29 code points).  Arrow/RE2 ``\s`` is ASCII-only and
# Arrow's utf8_split_whitespace misses U+001C..U+001F and U+0085, so the batch path
# classifies the UTF-8 bytes itself (see _token_counts).
_WHITESPACE = "".join(chr(i) for i in range(sys.maxunicode + 1) if chr(i).isspace())
_ASCII_WS = np.zeros(256, dtype=bool)
_ASCII_WS[[ord(ch) for ch in _WHITESPACE if ord(ch) < 0x80]] = True
# The multi-byte ones, as UTF-8: C2 85, C2 A0 (2 bytes); E1 9A 80, E2 80 80..8A,
# E2 80 A8, E2 80 A9, E2 80 AF, E2 81 9F, E3 80 80 (3 bytes).
assert {ch.encode("utf-8") for ch in _WHITESPACE if ord(ch) >= 0x80} == (
    {
        b"\xc2\x85",
        b"\xc2\xa0",
        b"\xe1\x9a\x80",
        b"\xe2\x80\xa8",
        b"\xe2\x80\xa9",
        b"\xe2\x80\xaf",
        b"\xe2\x81\x9f",
        b"\xe3\x80\x80",
    }
    | {bytes([0xE2, 0x80, b]) for b in range(0x80, 0x8B)}
)


def _crc_table() -> np.ndarray:
    """The byte table of the reflected CRC-32 (polynomial 0xEDB88320), as zlib uses."""
    table = np.zeros(256, dtype=np.uint32)
    for i in range(256):
        v = i
        for _ in range(8):
            v = (v >> 1) ^ 0xEDB88320 if v & 1 else v >> 1
        table[i] = v
    return table


_CRC_TABLE = _crc_table()


# --------------------------------------------------------------------------- helpers
def _to_arrow(s: pd.Series | pa.Array) -> pa.Array:
    """A string column as one Arrow (large_)string array (zero-copy for the
    pyarrow-backed pandas ``str`` dtype)."""
    a = s if isinstance(s, (pa.Array, pa.ChunkedArray)) else pa.array(s, from_pandas=True)
    if isinstance(a, pa.ChunkedArray):
        a = a.combine_chunks()
    if a.type not in (pa.string(), pa.large_string()):
        a = a.cast(pa.large_string())
    return a


def _arrow_strings(s: pd.Series | pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A string column as (int64 offsets, uint8 UTF-8 data, valid mask)."""
    a = _to_arrow(s)
    if a.type == pa.large_string():
        odt = np.int64
    else:
        odt = np.int32
    _, obuf, dbuf = a.buffers()
    off = np.frombuffer(obuf, dtype=odt)[a.offset : a.offset + len(a) + 1].astype(np.int64)
    data = np.frombuffer(dbuf, dtype=np.uint8) if dbuf is not None else np.zeros(1, np.uint8)
    valid = np.ones(len(a), dtype=bool) if a.null_count == 0 else ~a.is_null().to_numpy(zero_copy_only=False)
    return off, data, valid


def _crc32_strings(s: pd.Series | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """zlib.crc32 of the UTF-8 bytes of every value, vectorized byte position by
    byte position (table-driven CRC-32).  Missing values hash as "" (crc 0).

    Meant for short strings (ids, codes); returns (int64 crc, int64 UTF-8 byte
    length with 0 for missing).
    """
    off, data, valid = _arrow_strings(s)
    start = off[:-1]
    length = np.where(valid, off[1:] - start, 0)
    crc = np.full(len(length), 0xFFFFFFFF, dtype=np.uint32)
    table = _CRC_TABLE
    for j in range(int(length.max()) if len(length) else 0):
        active = length > j
        if active.all():
            crc = table[(crc ^ data[start + j]) & 0xFF] ^ (crc >> 8)
        else:
            idx = np.flatnonzero(active)
            cur = crc[idx]
            crc[idx] = table[(cur ^ data[start[idx] + j]) & 0xFF] ^ (cur >> 8)
    return (crc ^ np.uint32(0xFFFFFFFF)).astype(np.int64), length


def _token_counts(s: pd.Series) -> np.ndarray:
    """``len(value.split())`` per value (missing -> 0), on the UTF-8 bytes.

    A byte is whitespace if it is one of the ASCII whitespace bytes of
    ``str.isspace()`` or part of one of its multi-byte whitespace sequences; a
    token starts at a non-whitespace byte whose predecessor (in the same value) is
    whitespace.  Continuation bytes (0x80-0xBF) are never ASCII whitespace, so
    multi-byte characters never start spurious tokens.
    """
    off, data, valid = _arrow_strings(s)
    end = int(off[-1]) if len(off) else 0
    data = data[:end]
    ws = _ASCII_WS[data]
    lead = np.flatnonzero((data == 0xC2) | ((data >= 0xE1) & (data <= 0xE3)))
    if len(lead):
        last = max(end - 1, 0)
        b0 = data[lead]
        b1 = data[np.minimum(lead + 1, last)]
        b2 = data[np.minimum(lead + 2, last)]
        two = (b0 == 0xC2) & ((b1 == 0x85) | (b1 == 0xA0))
        three = (
            ((b0 == 0xE1) & (b1 == 0x9A) & (b2 == 0x80))
            | ((b0 == 0xE2) & (b1 == 0x80) & ((b2 <= 0x8A) | (b2 == 0xA8) | (b2 == 0xA9) | (b2 == 0xAF)))
            | ((b0 == 0xE2) & (b1 == 0x81) & (b2 == 0x9F))
            | ((b0 == 0xE3) & (b1 == 0x80) & (b2 == 0x80))
        )
        hit = lead[two | three]
        ws[hit] = True
        ws[hit + 1] = True
        ws[lead[three] + 2] = True
    start = ~ws
    start[1:] &= ws[:-1]
    row_start = off[:-1][off[:-1] < off[1:]]  # first byte of each non-empty value
    start[row_start] = ~ws[row_start]
    counts = np.diff(np.searchsorted(np.flatnonzero(start), off))
    return np.where(valid, counts, 0).astype(np.int64)


def _ts_utc_us(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A timestamp column as int64 µs since the epoch in UTC, and its missing mask.

    Aware values are converted to UTC; naive values are taken to be UTC already.
    """
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    elif not (isinstance(s.dtype, np.dtype) and s.dtype.kind == "M"):
        s = pd.to_datetime(s, utc=True).dt.tz_localize(None)
    arr = s.to_numpy(dtype="datetime64[us]")
    return arr.view(np.int64), np.isnat(arr)


def _float_values(s: pd.Series) -> np.ndarray:
    return s.to_numpy(dtype=np.float64, na_value=np.nan)


def _int_values(s: pd.Series) -> np.ndarray:
    return s.to_numpy(dtype=np.int64)


def _median(x: np.ndarray) -> float:
    return float(np.median(x)) if len(x) else 0.0


# --------------------------------------------------------------------------- fit
def fit_handwritten(df: pd.DataFrame) -> dict[str, Any]:
    """Compute the fitted state of the reference on a training frame.

    Parameters
    ----------
    df : pandas.DataFrame
        Training data with the 13 raw columns (e.g. ``make_churn(n)``).

    Returns
    -------
    dict
        The 15 fitted constants of the reference (``spend_median`` ...
        ``device_vocab``) as plain Python floats, lists and str, plus
        ``"_lookups"``: a tuple of derived lookup tables (dicts and scalars)
        that :func:`transform_row_handwritten` unpacks in one step.  It is
        rebuilt on the fly when absent.

    Examples
    --------
    >>> from featurekit.datasets import make_churn
    >>> c = fit_handwritten(make_churn(1_000, seed=0))
    >>> c["plan_vocab"]
    ['basic', 'enterprise', 'free', 'premium', 'standard']
    """
    spend = _float_values(df["monthly_spend"])
    valid = ~np.isnan(spend)
    spend_median = _median(spend[valid])
    imputed = np.where(valid, spend, spend_median)
    p01 = float(np.percentile(imputed, CLIP_PCT[0]))
    p99 = float(np.percentile(imputed, CLIP_PCT[1]))
    clipped = np.clip(imputed, p01, p99)
    clip_mean = float(np.mean(clipped))
    clip_std = float(np.std(clipped))
    if clip_std == 0.0:
        clip_std = 1.0
    pcts = [100 * i // N_SPEND_BUCKETS for i in range(1, N_SPEND_BUCKETS)]  # 10, 20, ..., 90
    bounds = [float(v) for v in np.percentile(imputed, pcts)]

    tenure = _int_values(df["tenure_days"])
    tenure_min = float(tenure.min())
    tenure_range = float(tenure.max() - tenure.min())
    if tenure_range == 0.0:
        tenure_range = 1.0

    session = _float_values(df["avg_session_minutes"])
    session = session[~np.isnan(session)]
    session_mean = float(np.mean(session)) if len(session) else 0.0
    session_std = float(np.std(session)) if len(session) else 1.0
    if session_std == 0.0:
        session_std = 1.0

    login_us, login_miss = _ts_utc_us(df["last_login_ts"])
    recency = ((_AS_OF_US - login_us[~login_miss]) / 1e6) / 86400.0
    login_recency_median = _median(recency)

    plan_vocab = sorted(set(df["plan"].dropna().tolist()))

    counts = df["country"].dropna().value_counts(sort=False)
    ranked = sorted(zip(counts.index.tolist(), counts.tolist()), key=lambda kv: (-kv[1], kv[0]))
    country_vocab = [v for v, _ in ranked[:K_COUNTRY]]

    dcounts = df["device"].dropna().value_counts(sort=False)
    dranked = sorted(zip(dcounts.index.tolist(), dcounts.tolist()), key=lambda kv: (-kv[1], kv[0]))
    device_mode = dranked[0][0] if dranked else None
    device_vocab = sorted(dcounts.index.tolist())

    c: dict[str, Any] = {
        "spend_median": spend_median,
        "spend_p01": p01,
        "spend_p99": p99,
        "spend_clip_mean": clip_mean,
        "spend_clip_std": clip_std,
        "spend_bounds": bounds,
        "tenure_min": tenure_min,
        "tenure_range": tenure_range,
        "session_mean": session_mean,
        "session_std": session_std,
        "login_recency_median": login_recency_median,
        "plan_vocab": plan_vocab,
        "country_vocab": country_vocab,
        "device_mode": device_mode,
        "device_vocab": device_vocab,
    }
    c["_lookups"] = _build_lookups(c)
    return c


def _build_lookups(c: dict[str, Any]) -> tuple[Any, ...]:
    """Derived tables for the row function, in the order it unpacks them."""
    plan_cols = ["plan_" + v for v in c["plan_vocab"]]
    # The output dict is a copy of this template (all 30 keys, in order), filled in
    # place: on CPython 3.11 that is ~2x faster than a 30-key dict display.
    template = dict.fromkeys(OUTPUT_COLUMNS[:16] + plan_cols + OUTPUT_COLUMNS[21:], 0)
    device_vocab = c["device_vocab"]
    device_index = {v: i for i, v in enumerate(device_vocab)}
    mode = c["device_mode"]
    return (
        c["spend_median"],
        c["spend_p01"],
        c["spend_p99"],
        c["spend_clip_mean"],
        c["spend_clip_std"],
        list(c["spend_bounds"]),
        c["tenure_min"],
        c["tenure_range"],
        c["session_mean"],
        c["session_std"],
        c["login_recency_median"],
        template,
        dict(zip(c["plan_vocab"], plan_cols)),
        {v: i for i, v in enumerate(c["country_vocab"])},
        device_index,
        device_index.get(mode, len(device_vocab)),
        len(device_vocab),
    )


# --------------------------------------------------------------------------- row path
_crc32 = zlib.crc32
_log1p = math.log1p
_bisect_right = bisect.bisect_right


def transform_row_handwritten(row: dict[str, Any], c: dict[str, Any]) -> dict[str, Any]:
    """Transform one row dict into the 30 output columns (pure Python).

    Missing is ``None`` or a float NaN.  Timestamps: aware values are converted
    to UTC, naive values are taken as UTC.  Int outputs are Python ints and float
    outputs Python floats.

    Parameters
    ----------
    row : dict
        One input row, as produced by :func:`featurekit.datasets.to_rows`.
    c : dict
        Fitted state from :func:`fit_handwritten`.

    Returns
    -------
    dict
        The 30 output columns in :data:`OUTPUT_COLUMNS` order.

    Examples
    --------
    >>> from featurekit.datasets import make_churn, to_rows
    >>> df = make_churn(1_000, seed=0)
    >>> out = transform_row_handwritten(to_rows(df)[0], fit_handwritten(df))
    >>> len(out)
    30
    """
    lk = c.get("_lookups") or _build_lookups(c)
    (
        med,
        p01,
        p99,
        cmean,
        cstd,
        bounds,
        tmin,
        trange,
        smean,
        sstd,
        lrec,
        template,
        plan_col,
        country_index,
        device_index,
        dmode_idx,
        n_dev,
    ) = lk

    ms = row["monthly_spend"]
    if ms is None or ms != ms:
        si = med
        smiss = 1
    else:
        si = float(ms)
        smiss = 0
    sc = p01 if si < p01 else (p99 if si > p99 else si)

    tn = row["tenure_days"]
    tk = row["num_support_tickets"]
    if tn > 0:
        sptd = si / tn
        tptm = tk / (tn / 30.0)
    else:
        sptd = 0.0
        tptm = 0.0

    x = row["avg_session_minutes"]
    sz = 0.0 if (x is None or x != x) else (x - smean) / sstd

    # Timestamps: work with exact timedeltas to AS_OF.  Aware minus aware honours
    # the offsets (any zone); a naive value is UTC, so it is subtracted from the
    # naive AS_OF.  (l - s) == (AS_OF - s) - (AS_OF - l) exactly, in integer µs.
    s = row["signup_ts"]
    if s is None or s != s:
        ts = None
        sdow = shour = -1
    else:
        tz = s.tzinfo
        if tz is None:
            ts = _AS_OF_NAIVE - s
        else:
            ts = AS_OF - s
            if tz is not _UTC:
                s = s.astimezone(_UTC)
        sdow = s.weekday()
        shour = s.hour
    lg = row["last_login_ts"]
    if lg is None or lg != lg:
        lhour = -1
        d2l = -1.0
        dsl = lrec
    else:
        tz = lg.tzinfo
        if tz is None:
            tl = _AS_OF_NAIVE - lg
        else:
            tl = AS_OF - lg
            if tz is not _UTC:
                lg = lg.astimezone(_UTC)
        lhour = lg.hour
        dsl = tl.total_seconds() / 86400.0
        d2l = -1.0 if ts is None else (ts - tl).total_seconds() / 86400.0

    plan = row["plan"]
    country = row["country"]
    dv = row["device"]
    if dv is None or dv != dv:
        didx = dmode_idx
        dmiss = 1
    else:
        didx = device_index.get(dv, n_dev)
        dmiss = 0

    rc = row["referral_code"]
    rh = 0 if (not rc or rc != rc) else 1 + _crc32(rc.encode()) % 999

    cid = row["customer_id"]
    if cid is None or cid != cid:
        cid = ""
    p = "" if (plan is None or plan != plan) else plan
    ct = "" if (country is None or country != country) else country

    d = row["description"]
    if d is None or d != d:
        ntok = nchar = 0
    else:
        ntok = len(d.split())
        nchar = len(d)

    ip = row["is_promo"]

    out = template.copy()
    out["spend_imputed"] = si
    out["spend_missing"] = smiss
    out["spend_clipped"] = sc
    out["spend_log1p"] = _log1p(sc)
    out["spend_z"] = (sc - cmean) / cstd
    out["spend_bucket"] = _bisect_right(bounds, si)
    out["tenure_minmax"] = (tn - tmin) / trange
    out["session_z"] = sz
    out["tickets_log1p"] = _log1p(tk)
    out["spend_per_tenure_day"] = sptd
    out["tickets_per_tenure_month"] = tptm
    out["signup_dow"] = sdow
    out["signup_hour"] = shour
    out["login_hour"] = lhour
    out["days_signup_to_login"] = d2l
    out["days_since_last_login"] = dsl
    pcol = plan_col.get(plan)  # unseen or missing: the template's zeros stay
    if pcol is not None:
        out[pcol] = 1
    out["country_idx"] = country_index.get(country, K_COUNTRY)
    out["device_idx"] = didx
    out["device_missing"] = dmiss
    out["referral_hash"] = rh
    out["customer_hash"] = _crc32(cid.encode()) % 1024
    out["plan_country_cross"] = _crc32((p + "|" + ct).encode()) % 2048
    out["desc_token_count"] = ntok
    out["desc_char_len"] = nchar
    out["is_promo_int"] = 1 if (ip and ip == ip) else 0
    return out


# --------------------------------------------------------------------------- batch path
def _index_in(s: pd.Series, vocab: list[str]) -> np.ndarray:
    """Position of each value in ``vocab``; -1 if absent or missing (Arrow hash lookup)."""
    a = _to_arrow(s)
    idx = pc.index_in(a, value_set=pa.array(vocab, type=a.type))
    return idx.fill_null(-1).to_numpy().astype(np.int64)


def transform_batch_handwritten(df: pd.DataFrame, c: dict[str, Any]) -> pd.DataFrame:
    """Transform a frame into the 30 output columns (vectorized pandas/numpy).

    No per-row Python code: crc32 is a table-driven CRC over the UTF-8 bytes
    (one numpy step per byte position, for the short id/code columns) and token
    counts classify the UTF-8 bytes with Python's whitespace set, including the
    multi-byte code points (U+00A0, U+3000, ...) that Arrow/RE2 ``\\s`` miss, so
    they match ``str.split()`` exactly.  ``df`` is not modified.

    Parameters
    ----------
    df : pandas.DataFrame
        Input frame with the 13 raw columns.
    c : dict
        Fitted state from :func:`fit_handwritten`.

    Returns
    -------
    pandas.DataFrame
        The 30 output columns (int64 / float64), same index as ``df``.

    Examples
    --------
    >>> from featurekit.datasets import make_churn
    >>> df = make_churn(1_000, seed=0)
    >>> transform_batch_handwritten(df, fit_handwritten(df)).shape
    (1000, 30)
    """
    n = len(df)
    out: dict[str, np.ndarray] = {}

    ms = _float_values(df["monthly_spend"])
    smiss = np.isnan(ms)
    si = np.where(smiss, c["spend_median"], ms)
    sc = np.clip(si, c["spend_p01"], c["spend_p99"])
    out["spend_imputed"] = si
    out["spend_missing"] = smiss.astype(np.int64)
    out["spend_clipped"] = sc
    out["spend_log1p"] = np.log1p(sc)
    out["spend_z"] = (sc - c["spend_clip_mean"]) / c["spend_clip_std"]
    out["spend_bucket"] = np.searchsorted(np.asarray(c["spend_bounds"], dtype=np.float64), si, side="right").astype(
        np.int64
    )

    tn = _int_values(df["tenure_days"])
    tk = _int_values(df["num_support_tickets"])
    out["tenure_minmax"] = (tn - c["tenure_min"]) / c["tenure_range"]
    x = _float_values(df["avg_session_minutes"])
    sz = (x - c["session_mean"]) / c["session_std"]
    sz[np.isnan(x)] = 0.0
    out["session_z"] = sz
    tkf = tk.astype(np.float64)
    out["tickets_log1p"] = np.log1p(tkf)
    pos = tn > 0
    tnf = tn.astype(np.float64)
    out["spend_per_tenure_day"] = np.divide(si, tnf, out=np.zeros(n), where=pos)
    months = np.divide(tnf, 30.0, out=np.ones(n), where=pos)
    out["tickets_per_tenure_month"] = np.divide(tkf, months, out=np.zeros(n), where=pos)

    s_us, s_miss = _ts_utc_us(df["signup_ts"])
    l_us, l_miss = _ts_utc_us(df["last_login_ts"])
    out["signup_dow"] = np.where(s_miss, -1, (s_us // _US_PER_DAY + 3) % 7)  # 1970-01-01: Thu
    out["signup_hour"] = np.where(s_miss, -1, (s_us // _US_PER_HOUR) % 24)
    out["login_hour"] = np.where(l_miss, -1, (l_us // _US_PER_HOUR) % 24)
    both = ~(s_miss | l_miss)
    diff = np.where(both, l_us - s_us, 0)
    out["days_signup_to_login"] = np.where(both, (diff / 1e6) / 86400.0, -1.0)
    since = np.where(l_miss, 0, _AS_OF_US - l_us)
    out["days_since_last_login"] = np.where(l_miss, c["login_recency_median"], (since / 1e6) / 86400.0)

    plan = df["plan"]
    plan_vocab = c["plan_vocab"]
    pidx = _index_in(plan, plan_vocab)
    for j, v in enumerate(plan_vocab):
        out["plan_" + v] = (pidx == j).astype(np.int64)

    country = df["country"]
    cidx = _index_in(country, c["country_vocab"])
    out["country_idx"] = np.where(cidx < 0, K_COUNTRY, cidx)

    device = df["device"]
    device_vocab = c["device_vocab"]
    didx = _index_in(device, device_vocab)
    dmiss = device.isna().to_numpy()
    mode = c["device_mode"]
    mode_idx = device_vocab.index(mode) if mode in device_vocab else len(device_vocab)
    didx = np.where(didx < 0, len(device_vocab), didx)
    out["device_idx"] = np.where(dmiss, mode_idx, didx).astype(np.int64)
    out["device_missing"] = dmiss.astype(np.int64)

    # crc32 hashes, vectorized over the UTF-8 bytes (missing -> "").
    rcrc, rlen = _crc32_strings(df["referral_code"])
    out["referral_hash"] = np.where(rlen > 0, 1 + rcrc % (REFERRAL_BUCKETS - 1), 0)
    ccrc, _ = _crc32_strings(df["customer_id"])
    out["customer_hash"] = ccrc % CUSTOMER_BUCKETS
    pa_plan = _to_arrow(plan).cast(pa.large_string())
    cross = pc.binary_join_element_wise(
        pa_plan,
        _to_arrow(country).cast(pa.large_string()),
        pa.scalar("|", type=pa.large_string()),
        null_handling="replace",
        null_replacement="",
    )
    xcrc, _ = _crc32_strings(cross)
    out["plan_country_cross"] = xcrc % CROSS_BUCKETS

    desc = df["description"]
    if not isinstance(desc.dtype, pd.StringDtype):
        desc = desc.astype("str")
    out["desc_token_count"] = _token_counts(desc)
    out["desc_char_len"] = desc.str.len().fillna(0).to_numpy(np.int64)

    promo = df["is_promo"]
    if promo.dtype != np.bool_:
        promo = promo.fillna(False).astype(bool)
    out["is_promo_int"] = promo.to_numpy().astype(np.int64)

    cols = OUTPUT_COLUMNS[:16] + ["plan_" + v for v in plan_vocab] + OUTPUT_COLUMNS[21:]
    # copy=False: keep one block per column instead of stacking 30 columns.
    result = pd.DataFrame({k: out[k] for k in cols}, index=df.index, copy=False)
    for k in cols:
        want = np.int64 if (k in _INT_COLUMNS or k.startswith("plan_")) else np.float64
        if result[k].dtype != want:
            result[k] = result[k].astype(want)
    return result
