"""The parity tester earns its keep: real skews that ordinary data hides are found by edge rows.

A "legacy" serving function implements the spec below by hand. Each case swaps in one
realistic bug; plain replay of ordinary data misses it (``edges=False``), while ``compare``
with generated edge rows finds it in exactly that feature. Truly equal rewrites raise nothing.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import zlib

import numpy as np
import pandas as pd
import pytest

import featurekit as fk
from featurekit import parity

SPEC = fk.spec_from_yaml("""
featurekit: 1
name: legacy
version: 1.0.0
inputs:
  amount: {type: float}
  qty: {type: int}
  city: {type: str}
  ts: {type: timestamp}
features:
  amount_filled: coalesce(amount, 0.0)
  city_norm: lower(strip(coalesce(city, "")))
  amount_round: round(coalesce(amount, 0.0))
  amount_bucket: bucketize(coalesce(amount, 0.0), edges=[10.0, 100.0])
  hour_utc: coalesce(hour(ts), -1)
  city_idx: vocab(city)
  city_hash: hash_bucket(coalesce(city, ""), num_buckets=100)
  qty_third: qty / 3
  per_qty: if_else(qty != 0, coalesce(amount, 0.0) / qty, 0.0)
""")
CITIES = ["paris", "berlin", "oslo", "rome", "lima"]
RNG = np.random.default_rng(0)
N = 400
ORDINARY = pd.DataFrame(
    {
        "amount": RNG.uniform(1.0, 300.0, N).round(3) + 0.0001,  # never on an edge or a .5 midpoint
        "qty": RNG.integers(1, 50, N),
        "city": pd.array([CITIES[i] for i in RNG.integers(0, 5, N)], dtype="str"),
        "ts": pd.to_datetime(RNG.integers(1_700_000_000, 1_800_000_000, N), unit="s", utc=True).astype(
            "datetime64[us, UTC]"
        ),
    }
)
FITTED = SPEC.fit(ORDINARY)
VOCAB = {v: i for i, v in enumerate(FITTED.state_by_feature()["city_idx"][0]["state"]["vocab"])}


def legacy(row, bug=None):
    """The team's hand-written serving code; ``bug`` switches in one realistic mistake."""
    amount, qty, city, ts = row.get("amount"), row.get("qty"), row.get("city"), row.get("ts")
    if isinstance(amount, float) and amount != amount:
        amount = None
    if isinstance(amount, int):
        amount = float(amount)  # the contract accepts exact ints for a float input
    if isinstance(qty, float) and qty != qty:
        qty = None  # an int column with missing values arrives as float NaN
    if isinstance(ts, str):
        ts = dt.datetime.fromisoformat(ts)
    if bug == "null_nan":
        amount = row.get("amount")  # forgets that NaN counts as missing
    a = amount if amount is not None else 0.0
    c = city if city is not None else ""
    out = {"amount_filled": a}
    out["city_norm"] = c.casefold().strip() if bug == "casefold" else c.strip().lower()
    out["amount_round"] = (
        float(math.floor(a + 0.5)) if bug == "round_half_up" else float(round(a)) if math.isfinite(a) else a
    )
    if bug != "round_half_up" and out["amount_round"] == 0.0:
        out["amount_round"] = math.copysign(0.0, a)
    out["amount_bucket"] = (bisect.bisect_left if bug == "bisect_left" else bisect.bisect_right)([10.0, 100.0], a)
    if ts is None:
        out["hour_utc"] = -1
    elif bug == "local_hour":
        out["hour_utc"] = ts.hour  # ignores the time zone of aware values
    else:
        out["hour_utc"] = ts.astimezone(dt.UTC).hour if ts.tzinfo else ts.hour
    default = -1 if bug == "unseen_minus_one" else len(VOCAB)
    out["city_idx"] = VOCAB.get(city, default)
    key = c.lower() if bug == "hash_lowercase" else c
    out["city_hash"] = zlib.crc32(key.encode("utf-8")) % 100
    if qty is None:
        out["qty_third"], out["per_qty"] = math.nan, 0.0
        return out
    # int / int in Python rounds once; numpy converts to float first: they differ above 2**53
    out["qty_third"] = qty / 3 if bug == "int_true_div" else float(qty) / 3.0
    if bug == "no_zero_guard":
        out["per_qty"] = a / qty
    else:
        out["per_qty"] = a / float(qty) if qty != 0 else 0.0
    return out


CASES = [
    ("null_nan", "amount_filled"),
    ("casefold", "city_norm"),
    ("round_half_up", "amount_round"),
    ("bisect_left", "amount_bucket"),
    ("local_hour", "hour_utc"),
    ("unseen_minus_one", "city_idx"),
    ("hash_lowercase", "city_hash"),
    ("int_true_div", "qty_third"),
    ("no_zero_guard", "per_qty"),
]


def test_the_correct_legacy_function_agrees_on_every_valid_input():
    report = parity.compare(FITTED.transform, legacy, ORDINARY, contract=FITTED, fuzz=1500, seed=1, invalid=False)
    assert report.ok, report.to_text(color=False)


def test_inputs_the_contract_refuses_but_serving_accepts_are_reported_as_raises():
    report = parity.compare(FITTED.transform, legacy, ORDINARY, contract=FITTED, fuzz=200, seed=1)
    assert not report.ok
    assert all(set(c.kinds) == {"raises"} for c in report.failing), report.to_text(color=False)


@pytest.mark.parametrize("bug, feature", CASES, ids=[c[0] for c in CASES])
def test_bug_is_missed_by_plain_replay_and_found_with_edge_rows(bug, feature):
    def serving(row):
        return legacy(row, bug)

    plain = parity.compare(FITTED.transform, serving, ORDINARY, contract=FITTED, edges=False, shrink=False)
    assert plain.ok, f"ordinary data already shows {bug}: {plain.to_text(color=False)}"
    report = parity.compare(FITTED.transform, serving, ORDINARY, contract=FITTED, fuzz=1500, seed=1, invalid=False)
    assert not report.ok
    failing = {c.column for c in report.failing}
    assert feature in failing, report.to_text(color=False)
    column = next(c for c in report.failing if c.column == feature)
    example = column.examples[0]
    assert example.reproducer is not None and len(example.reproducer) <= len(example.input)


def test_report_formats_carry_the_findings():
    report = parity.compare(
        FITTED.transform, lambda r: legacy(r, "bisect_left"), ORDINARY, contract=FITTED, fuzz=300, seed=2, invalid=False
    )
    assert '"schema_version": 1' in report.to_json()
    junit = report.to_junit()
    assert "<failure" in junit and 'name="amount_bucket"' in junit
    assert report.to_github().startswith("::error title=parity amount_bucket::")
    assert "\x1b[" not in report.to_text(color=False)


def test_type_and_null_kinds_are_distinguished():
    strict = parity.Equality()
    assert strict.mismatch(1, 1.0) == "type"
    assert strict.mismatch(2**60 + 1, float(2**60)) == "type"
    assert strict.mismatch(None, math.nan) == "null_vs_nan"
    assert strict.mismatch(0.0, -0.0) == "value"
    assert strict.mismatch(math.nan, math.nan) is None
    assert parity.Equality(ulps=1).mismatch(1.0, 1.0 + 2**-52) is None
    assert strict.mismatch(1.0, 1.0 + 2**-52) == "value"
