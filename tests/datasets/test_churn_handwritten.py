"""The churn dataset generator and the hand-written baselines (row vs batch parity)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import math
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from featurekit.datasets import make_churn, to_rows
from featurekit.values.equality import STRICT

_ROOT = Path(__file__).resolve().parents[2]


def _load_handwritten():
    name = "churn_handwritten_under_test"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, _ROOT / "benchmarks" / "churn_handwritten.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


hw = _load_handwritten()

UTC = dt.UTC
INPUT_DTYPES = {
    "customer_id": "str",
    "signup_ts": "datetime64[us, UTC]",
    "last_login_ts": "datetime64[us]",
    "plan": "str",
    "country": "str",
    "device": "str",
    "monthly_spend": "float64",
    "tenure_days": "int64",
    "num_support_tickets": "int64",
    "avg_session_minutes": "float64",
    "referral_code": "str",
    "is_promo": "bool",
    "description": "str",
}
INT_COLS = {
    "spend_missing",
    "spend_bucket",
    "signup_dow",
    "signup_hour",
    "login_hour",
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
}


@pytest.fixture(scope="module")
def big() -> pd.DataFrame:
    return make_churn(50_000, seed=7)


@pytest.fixture(scope="module")
def train() -> pd.DataFrame:
    return make_churn(20_000, seed=0)


@pytest.fixture(scope="module")
def evaluation() -> pd.DataFrame:
    return make_churn(10_000, seed=1, evaluation=True)


@pytest.fixture(scope="module")
def fitted(train: pd.DataFrame) -> dict:
    return hw.fit_handwritten(train)


def _frame(rows: list[dict]) -> pd.DataFrame:
    """One- or few-row frames from dicts, cast to the training dtypes."""
    df = pd.DataFrame(rows, columns=list(INPUT_DTYPES))
    out = {}
    for col, dtype in INPUT_DTYPES.items():
        s = df[col]
        if dtype.startswith("datetime64[us, UTC]"):
            s = pd.to_datetime(s, utc=True).dt.as_unit("us")
        elif dtype.startswith("datetime64"):
            s = pd.to_datetime(s).astype(dtype)
        else:
            s = s.astype(dtype)
        out[col] = s
    return pd.DataFrame(out)


_same = STRICT.same  # bit-for-bit equality with matching Python types (NaN == NaN)


# ----------------------------------------------------------------------------- (a)
def test_make_churn_schema(big: pd.DataFrame) -> None:
    assert list(big.columns) == list(INPUT_DTYPES)
    assert {c: str(t) for c, t in big.dtypes.items()} == INPUT_DTYPES
    assert len(big) == 50_000
    assert big["customer_id"].str.fullmatch(r"CUST-\d{9}").all()
    assert big["customer_id"].is_unique
    assert set(big["plan"]) == {"free", "basic", "standard", "premium", "enterprise"}
    assert big["country"].nunique() == 150
    assert big["country"].str.fullmatch(r"[A-Z]{2}").all()
    assert not big["country"].str.startswith("X").any()
    assert set(big["device"].dropna()) == {"android", "ios", "web", "desktop", "tv"}
    assert big["referral_code"].dropna().str.fullmatch(r"(REF[A-Z0-9]{6})?").all()


def test_make_churn_rates(big: pd.DataFrame) -> None:
    def near(x: float, target: float, tol: float) -> bool:
        return abs(float(x) - target) <= tol

    assert near(big["last_login_ts"].isna().mean(), 0.04, 0.006)
    assert near(big["device"].isna().mean(), 0.08, 0.008)
    assert near(big["monthly_spend"].isna().mean(), 0.05, 0.006)
    assert near((big["monthly_spend"] == 0).mean(), 0.02, 0.004)
    assert near((big["monthly_spend"] > 500).mean(), 0.005, 0.002)  # the x20-100 outliers
    assert near((big["tenure_days"] == 0).mean(), 0.01, 0.003)
    assert near((big["referral_code"] == "").mean(), 0.65, 0.01)
    assert near(big["referral_code"].isna().mean(), 0.05, 0.006)
    assert near(big["is_promo"].mean(), 0.15, 0.01)
    assert near(big["description"].isna().mean(), 0.03, 0.005)
    assert (big["description"] == "").sum() > 0
    plan_p = big["plan"].value_counts(normalize=True)
    for v, p in {"free": 0.40, "basic": 0.25, "standard": 0.20, "premium": 0.10, "enterprise": 0.05}.items():
        assert near(plan_p[v], p, 0.015)
    counts = big["country"].value_counts()
    assert counts.iloc[0] > 10 * counts.iloc[50] > 0  # long tail
    assert near(big["num_support_tickets"].mean(), 1.2, 0.05)
    assert near(big["avg_session_minutes"].mean(), 12.0, 0.3)
    assert big["avg_session_minutes"].notna().all()


def test_make_churn_timestamps(big: pd.DataFrame) -> None:
    as_of = pd.Timestamp("2026-01-01", tz="UTC")
    signup = big["signup_ts"]
    assert (signup.dt.microsecond == 0).all() and (signup < as_of).all()
    tenure = ((as_of - signup) // pd.Timedelta(days=1)).astype("int64")
    assert (tenure == big["tenure_days"]).all()
    login = big["last_login_ts"].dropna()
    assert login.dt.tz is None and (login.dt.microsecond == 0).all()
    assert (login.dt.tz_localize("UTC") > signup[login.index]).all()
    assert (login <= pd.Timestamp("2026-01-01")).all()


def test_make_churn_descriptions(big: pd.DataFrame) -> None:
    d = big["description"].dropna()
    text = "".join(d.tolist())
    for ch in ["\t", "\n", "  ", "\u00a0", "\u3000", "\u2003", "\u200b", "café", "naïve", "résumé"]:
        assert ch in text, repr(ch)
    assert d.map(lambda s: len(s.split())).max() <= 15
    assert d.str.contains("\u00a0|\u3000|\u2003").mean() < 0.2  # occasional


def test_make_churn_deterministic() -> None:
    a = make_churn(3_000, seed=11)
    pd.testing.assert_frame_equal(a, make_churn(3_000, seed=11))
    assert not a.equals(make_churn(3_000, seed=12))
    assert make_churn(0).shape == (0, 13)


# ----------------------------------------------------------------------------- (b)
def test_evaluation_unseen_values() -> None:
    base = make_churn(20_000, seed=3)
    ev = make_churn(20_000, seed=3, evaluation=True)
    assert {c: str(t) for c, t in ev.dtypes.items()} == INPUT_DTYPES
    trial = ev["plan"] == "trial"
    unseen_country = ev["country"].isin([f"X{c}" for c in "ABCDEFGHIJ"])
    watch = ev["device"] == "watch"
    assert trial.sum() == unseen_country.sum() == watch.sum() == 200
    assert set(ev.loc[unseen_country, "country"]) == {f"X{c}" for c in "ABCDEFGHIJ"}
    # Drawn independently per column.
    assert (trial & unseen_country).sum() < 20 and (trial & watch).sum() < 20
    # Everything else is the training-like data of the same seed.
    changed = trial | unseen_country | watch
    pd.testing.assert_frame_equal(
        ev.loc[~changed, ["plan", "country", "device"]], base.loc[~changed, ["plan", "country", "device"]]
    )
    others = [c for c in ev.columns if c not in ("plan", "country", "device")]
    pd.testing.assert_frame_equal(ev[others], base[others])


# ----------------------------------------------------------------------------- (c)
LIBRARY_MATH_COLS = {"spend_log1p", "tickets_log1p"}
LIBRARY_MATH_ULPS = 4


def test_row_and_batch_agree_bit_for_bit(evaluation: pd.DataFrame, fitted: dict) -> None:
    before = evaluation.copy()
    batch = hw.transform_batch_handwritten(evaluation, fitted)
    pd.testing.assert_frame_equal(evaluation, before)  # not mutated
    assert list(batch.columns) == hw.OUTPUT_COLUMNS
    for col in hw.OUTPUT_COLUMNS:
        assert batch[col].dtype == (np.int64 if col in INT_COLS else np.float64), col

    rows = [hw.transform_row_handwritten(r, fitted) for r in to_rows(evaluation)]
    assert all(list(r) == hw.OUTPUT_COLUMNS for r in rows)
    for col in hw.OUTPUT_COLUMNS:
        want_type = int if col in INT_COLS else float
        got = [r[col] for r in rows]
        assert all(type(v) is want_type for v in got), col
        expected = batch[col].tolist()
        if want_type is float:
            a = np.array(got, dtype=np.float64).view(np.int64)
            b = np.array(expected, dtype=np.float64).view(np.int64)
            # The hand-written batch takes log1p from numpy, whose SIMD kernel differs from the C
            # library's math.log1p by 1 ULP on some inputs on AVX-512 CPUs (and equals it on
            # others): the reason featurekit's own batch path calls math.log1p. Everything else
            # in this reference pair is IEEE arithmetic and agrees bit for bit on any CPU.
            allowed = LIBRARY_MATH_ULPS if col in LIBRARY_MATH_COLS else 0
            bad = np.flatnonzero(np.abs(a - b) > allowed)
        else:
            bad = np.flatnonzero(np.array(got, dtype=np.int64) != np.array(expected, dtype=np.int64))
        assert len(bad) == 0, (col, bad[:5], [got[i] for i in bad[:5]], [expected[i] for i in bad[:5]])

    # The unseen categories are exercised.
    assert (batch["country_idx"] == 50).sum() >= 100
    assert (batch["device_idx"] == 5).sum() == 100
    plan_cols = [c for c in hw.OUTPUT_COLUMNS if c.startswith("plan_") and c != "plan_country_cross"]
    assert (batch[plan_cols].sum(axis=1) == 0).sum() == 100


def test_fitted_constants(train: pd.DataFrame, fitted: dict) -> None:
    spend = train["monthly_spend"].to_numpy()
    med = float(np.median(spend[~np.isnan(spend)]))
    assert fitted["spend_median"] == med
    imputed = np.where(np.isnan(spend), med, spend)
    assert fitted["spend_p01"] == float(np.percentile(imputed, 1))
    assert fitted["spend_p99"] == float(np.percentile(imputed, 99))
    assert len(fitted["spend_bounds"]) == 9 and fitted["spend_bounds"] == sorted(fitted["spend_bounds"])
    assert fitted["plan_vocab"] == ["basic", "enterprise", "free", "premium", "standard"]
    assert fitted["device_vocab"] == ["android", "desktop", "ios", "tv", "web"]
    assert fitted["device_mode"] == train["device"].value_counts().idxmax()
    counts = train["country"].value_counts()
    assert len(fitted["country_vocab"]) == 50
    assert [counts[v] for v in fitted["country_vocab"]] == sorted(counts.tolist(), reverse=True)[:50]
    for name in (
        "spend_median",
        "spend_p01",
        "spend_p99",
        "spend_clip_mean",
        "spend_clip_std",
        "tenure_min",
        "tenure_range",
        "session_mean",
        "session_std",
        "login_recency_median",
    ):
        assert type(fitted[name]) is float, name
    assert all(type(v) is float for v in fitted["spend_bounds"])


def test_fit_ties_and_degenerate_stats() -> None:
    base = make_churn(8, seed=5).drop(columns=["device", "country"])
    df = base.assign(
        device=pd.Series(["web", "ios", "web", "ios", None, "tv", "tv", "android"], dtype="str"),
        country=pd.Series(["b", "a", "b", "a", "c", "c", "d", "e"], dtype="str"),
        monthly_spend=[5.0] * 8,
        avg_session_minutes=[3.0] * 8,
        tenure_days=[4] * 8,
    )[list(INPUT_DTYPES)]
    c = hw.fit_handwritten(df)
    assert c["device_mode"] == "ios"  # ios, tv and web tie at 2: smallest wins
    assert c["country_vocab"][:3] == ["a", "b", "c"]  # ties broken by value
    assert c["spend_clip_std"] == 1.0 and c["session_std"] == 1.0 and c["tenure_range"] == 1.0
    assert c["spend_bounds"] == [5.0] * 9  # duplicates kept


# ----------------------------------------------------------------------------- (d)
def test_to_rows_plain_values(evaluation: pd.DataFrame) -> None:
    df = evaluation.head(3_000)
    rows = to_rows(df)
    assert len(rows) == len(df) and list(rows[0]) == list(df.columns)
    types = {
        "customer_id": str,
        "plan": str,
        "country": str,
        "device": str,
        "referral_code": str,
        "description": str,
        "monthly_spend": float,
        "avg_session_minutes": float,
        "tenure_days": int,
        "num_support_tickets": int,
        "is_promo": bool,
        "signup_ts": dt.datetime,
        "last_login_ts": dt.datetime,
    }
    missing = {col: df[col].isna().to_numpy() for col in df.columns}
    for i, r in enumerate(rows):
        for col, t in types.items():
            v = r[col]
            if missing[col][i]:
                assert v is None, (i, col, v)
            else:
                assert type(v) is t, (i, col, type(v))
    assert all(r["signup_ts"].tzinfo is UTC for r in rows)
    assert all(r["last_login_ts"] is None or r["last_login_ts"].tzinfo is None for r in rows)
    for col in ("last_login_ts", "device", "monthly_spend", "referral_code", "description"):
        assert any(r[col] is None for r in rows), col
    r0 = rows[0]
    assert r0["signup_ts"] == df["signup_ts"].iloc[0].to_pydatetime()
    assert r0["customer_id"] == df["customer_id"].iloc[0]


# ----------------------------------------------------------------------------- (e)
def _hand_row(**kw) -> dict:
    row = {
        "customer_id": "CUST-000000001",
        "signup_ts": dt.datetime(2025, 6, 2, 13, 30, 0, tzinfo=UTC),  # a Monday
        "last_login_ts": dt.datetime(2025, 6, 3, 19, 30, 0),
        "plan": "basic",
        "country": "US",
        "device": "ios",
        "monthly_spend": 10.0,
        "tenure_days": 213,
        "num_support_tickets": 3,
        "avg_session_minutes": 12.0,
        "referral_code": "REFABC123",
        "is_promo": True,
        "description": "hello world",
    }
    row.update(kw)
    return row


def test_hand_checked_rows(fitted: dict) -> None:
    c = fitted
    rows = [
        _hand_row(),
        _hand_row(
            tenure_days=0,
            monthly_spend=None,
            device=None,
            description="a\u00a0b\u200bc",
            referral_code="",
            is_promo=False,
            last_login_ts=None,
            country="XA",
            plan="trial",
        ),
        _hand_row(
            description=None,
            referral_code=None,
            avg_session_minutes=float("nan"),
            monthly_spend=float("nan"),
            device="watch",
            num_support_tickets=0,
        ),
        _hand_row(description=" \t\n\x1c\x1f\x85\u2028\u3000 x\u180ey\u2007z ", tenure_days=30),
    ]
    out = [hw.transform_row_handwritten(r, c) for r in rows]
    o = out[0]
    assert o["spend_imputed"] == 10.0 and o["spend_missing"] == 0
    assert o["spend_per_tenure_day"] == 10.0 / 213
    assert o["tickets_per_tenure_month"] == 3 / (213 / 30.0)
    assert o["tickets_log1p"] == math.log1p(3)
    assert (o["signup_dow"], o["signup_hour"], o["login_hour"]) == (0, 13, 19)
    assert o["days_signup_to_login"] == 30.0 / 24.0
    assert (
        o["days_since_last_login"]
        == (dt.datetime(2026, 1, 1) - dt.datetime(2025, 6, 3, 19, 30)).total_seconds() / 86400.0
    )
    assert o["plan_basic"] == 1 and o["plan_free"] == 0
    assert o["country_idx"] == c["country_vocab"].index("US") == 0
    assert o["device_idx"] == c["device_vocab"].index("ios") and o["device_missing"] == 0
    assert o["referral_hash"] == 1 + zlib.crc32(b"REFABC123") % 999
    assert o["customer_hash"] == zlib.crc32(b"CUST-000000001") % 1024
    assert o["plan_country_cross"] == zlib.crc32(b"basic|US") % 2048
    assert (o["desc_token_count"], o["desc_char_len"], o["is_promo_int"]) == (2, 11, 1)
    assert o["session_z"] == (12.0 - c["session_mean"]) / c["session_std"]

    o = out[1]
    assert o["spend_per_tenure_day"] == 0.0 and o["tickets_per_tenure_month"] == 0.0
    assert struct.pack("<d", o["spend_per_tenure_day"]) == struct.pack("<d", 0.0)
    assert o["spend_imputed"] == c["spend_median"] and o["spend_missing"] == 1
    assert o["desc_token_count"] == 2 and o["desc_char_len"] == 5
    assert o["device_idx"] == c["device_vocab"].index(c["device_mode"]) and o["device_missing"] == 1
    assert o["referral_hash"] == 0 and o["is_promo_int"] == 0
    assert o["login_hour"] == -1 and o["days_signup_to_login"] == -1.0
    assert o["days_since_last_login"] == c["login_recency_median"]
    assert o["country_idx"] == 50
    assert sum(o[k] for k in o if k.startswith("plan_") and k != "plan_country_cross") == 0
    assert o["plan_country_cross"] == zlib.crc32(b"trial|XA") % 2048

    o = out[2]
    assert (o["desc_token_count"], o["desc_char_len"], o["referral_hash"]) == (0, 0, 0)
    assert o["session_z"] == 0.0 and o["spend_missing"] == 1
    assert o["device_idx"] == 5 and o["device_missing"] == 0
    assert o["tickets_log1p"] == 0.0 and type(o["tickets_log1p"]) is float

    o = out[3]
    # U+180E is not whitespace for str.split(), U+2007 is.
    assert o["desc_token_count"] == 2 and o["tickets_per_tenure_month"] == 3.0

    # The batch path gives the same on frames built from the same dicts.
    batch = hw.transform_batch_handwritten(_frame(rows), c)
    for i, r in enumerate(out):
        assert list(batch.columns) == list(r)
        for col, v in r.items():
            assert _same(v, batch[col].iloc[i].item()), (i, col, v, batch[col].iloc[i])


def test_timestamp_conventions(fitted: dict) -> None:
    """Aware values in another zone are converted to UTC; naive values are UTC."""
    c = fitted
    ref = hw.transform_row_handwritten(_hand_row(), c)
    plus2 = dt.timezone(dt.timedelta(hours=2))
    other = hw.transform_row_handwritten(
        _hand_row(
            signup_ts=dt.datetime(2025, 6, 2, 15, 30, 0, tzinfo=plus2),
            last_login_ts=dt.datetime(2025, 6, 3, 19, 30, 0, tzinfo=UTC),
        ),
        c,
    )
    naive = hw.transform_row_handwritten(_hand_row(signup_ts=dt.datetime(2025, 6, 2, 13, 30, 0)), c)
    assert other == ref and naive == ref
    # Sub-second differences use µs / 1e6, like timedelta.total_seconds().
    r = hw.transform_row_handwritten(_hand_row(last_login_ts=dt.datetime(2025, 6, 3, 19, 30, 0, 123457)), c)
    assert r["days_signup_to_login"] == dt.timedelta(hours=30, microseconds=123457).total_seconds() / 86400.0
    batch = hw.transform_batch_handwritten(
        _frame([_hand_row(last_login_ts=dt.datetime(2025, 6, 3, 19, 30, 0, 123457))]), c
    )
    assert _same(batch["days_signup_to_login"].iloc[0].item(), r["days_signup_to_login"])
    assert _same(batch["days_since_last_login"].iloc[0].item(), r["days_since_last_login"])


_TEXT = st.text(
    alphabet=st.sampled_from(
        list("ab é\t\n\r\x0b\x0c\x1c\x1f\x85\xa0")
        + ["\u1680", "\u2000", "\u200a", "\u200b", "\u2028", "\u202f", "\u205f", "\u3000", "\u180e", "\U0001f44d"]
    ),
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(
    desc=st.lists(st.one_of(st.none(), _TEXT), min_size=1, max_size=6),
    codes=st.lists(st.one_of(st.none(), st.text(max_size=6)), min_size=6, max_size=6),
)
def test_text_and_hash_kernels_match_python(fitted: dict, desc: list, codes: list) -> None:
    rows = [
        _hand_row(description=d, referral_code=codes[i], customer_id=codes[-1 - i] or "") for i, d in enumerate(desc)
    ]
    batch = hw.transform_batch_handwritten(_frame(rows), fitted)
    for i, r in enumerate(rows):
        o = hw.transform_row_handwritten(r, fitted)
        for col in ("desc_token_count", "desc_char_len", "referral_hash", "customer_hash"):
            assert o[col] == batch[col].iloc[i], (col, r)
