"""Edge values derived from the given data (issue 16 item 4): they reach the serving side and
find the skews that live near the data, deterministically and under their cap."""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import featurekit as fk
from featurekit import parity
from featurekit.parity.data_values import DATA_CAP, data_values
from featurekit.parity.generation import _SPECIALS, edge_rows, ranked_edge_values
from featurekit.spec.model import InputSpec
from featurekit.values.codec import decode_row

UTC = dt.UTC


def _spec(inputs: str) -> fk.Spec:
    lines = "".join(f"  {line.strip()}\n" for line in inputs.strip().splitlines())
    name = next(line.split(":")[0].strip() for line in inputs.strip().splitlines())
    return fk.spec_from_yaml(
        f"featurekit: 1\nname: dv\nversion: 1.0.0\ninputs:\n{lines}features:\n  f: is_null({name})\n"
    )


def _recording(received: list[dict[str, Any]], serve: Any) -> Any:
    def serving(row: dict[str, Any]) -> dict[str, Any]:
        received.append(dict(row))
        return serve(row)

    return serving


def _failing_inputs(report: parity.ParityReport, name: str) -> list[Any]:
    return [decode_row(ex.input).get(name) for col in report.failing for ex in col.examples]


def test_numpy_rounding_vs_round_is_found_from_cents_in_the_data():
    """Training rounds with pandas (numpy's scaled rounding), serving with ``round(x, 1)``; the
    data only has cents and the contract keeps the catalogue's own values out of range, so the
    finding comes from the x.x5 ties derived from the data."""
    spec = _spec("price: {type: float, nullable: false, min: 100, max: 200}")
    rng = random.Random(1)
    rows = [{"price": round(rng.uniform(101, 199), 2) + 0.001} for _ in range(200)]  # never a tie
    train = lambda df: pd.DataFrame({"p1": df["price"].round(1)})  # noqa: E731
    serve = lambda row: {"p1": round(row["price"], 1)}  # noqa: E731
    plain = parity.compare(train, serve, rows, contract=spec, edges=False)
    assert plain.ok  # ordinary rows hide it
    # boundary search off: it finds ties too, and this test is about the data-derived ones
    report = parity.compare(train, serve, rows, contract=spec, invalid=False, fuzz=0, max_examples=10**6, boundaries=0)
    assert not report.ok
    ties = [
        x for x in _failing_inputs(report, "price") if round(x * 100) % 10 == 5 and abs(x * 100 - round(x * 100)) < 1e-6
    ]
    assert ties, _failing_inputs(report, "price")
    derived = set(data_values(spec.inputs[0], [r["price"] for r in rows]))
    assert set(ties) <= derived


def test_round_numbers_inside_the_observed_range_find_a_threshold_written_differently():
    spec = _spec("amount: {type: float, min: 0}")
    rng = random.Random(2)
    rows = [{"amount": round(rng.uniform(5, 5000), 2) + 0.003} for _ in range(300)]
    train = lambda df: pd.DataFrame({"large": (df["amount"] >= 1000).astype(int)})  # noqa: E731
    serve = lambda row: {"large": int(row["amount"] is not None and row["amount"] > 1000)}  # noqa: E731
    report = parity.compare(train, serve, rows, contract=spec, invalid=False, fuzz=0)
    assert 1000.0 in _failing_inputs(report, "amount")


def test_frequent_string_variants_reach_the_serving_side():
    spec = _spec("city: {type: str}")
    rows = [{"city": "new york"}] * 5 + [{"city": "paris"}] * 3 + [{"city": "oslo"}]
    received: list[dict[str, Any]] = []
    parity.compare(
        lambda df: pd.DataFrame({"n": df["city"].str.len()}),
        _recording(received, lambda row: {"n": None if row.get("city") is None else len(row["city"])}),
        rows,
        contract=spec,
        fuzz=0,
        shrink=False,
        invalid=False,
    )
    seen = {r.get("city") for r in received}
    want = {" new york", "new york ", "\u00a0new york", "new york\u00a0", "\tnew york", "new york\t"}
    want |= {
        "new  york",
        "new\u00a0york",
        "new\tyork",
        "NEW YORK",
        "New York",
        "ｎｅｗ\u3000ｙｏｒｋ",
        " paris",
        "PARIS",
    }
    assert want <= seen, sorted(want - seen)


def test_every_declared_category_reaches_the_serving_side_beyond_the_catalogue_cap():
    known = [f"tier_{i:03d}" for i in range(150)]
    spec = _spec("tier: {type: category, values: [" + ", ".join(known) + "]}")
    rows = [{"tier": "tier_000"}, {"tier": "tier_001"}]
    received: list[dict[str, Any]] = []
    parity.compare(
        lambda df: pd.DataFrame({"t": df["tier"].astype(object)}),
        _recording(received, lambda row: {"t": row.get("tier")}),
        rows,
        contract=spec,
        fuzz=0,
        shrink=False,
        invalid=False,
    )
    assert set(known) <= {r.get("tier") for r in received}


def test_five_minute_ties_in_the_observed_span_find_half_up_vs_half_even():
    spec = _spec("ts: {type: timestamp, nullable: false}")
    rng = random.Random(3)
    start = dt.datetime(2025, 5, 1, tzinfo=UTC)
    rows = [
        {"ts": start + dt.timedelta(seconds=rng.randrange(0, 30 * 86400), microseconds=rng.randrange(1, 10**6))}
        for _ in range(100)
    ]

    def train(df: pd.DataFrame) -> pd.DataFrame:
        slot = pd.to_datetime(df["ts"], utc=True).dt.round("5min")
        return pd.DataFrame({"slot": slot.dt.hour * 12 + slot.dt.minute // 5})

    def serve(row: dict[str, Any]) -> dict[str, Any]:
        ts = row["ts"].astimezone(UTC)
        seconds = ts.hour * 3600 + ts.minute * 60 + ts.second + ts.microsecond / 1e6
        return {"slot": int((seconds + 150) // 300) % 288}

    assert parity.compare(train, serve, rows, contract=spec, edges=False).ok
    report = parity.compare(train, serve, rows, contract=spec, invalid=False, fuzz=0, max_examples=10**6)
    failing = _failing_inputs(report, "ts")
    assert any(t.second == 30 and t.minute % 5 == 2 and t.microsecond == 0 for t in failing), failing


def test_timestamps_at_calendar_edges_and_dst_changes_inside_the_span():
    berlin = ZoneInfo("Europe/Berlin")
    observed = [dt.datetime(2026, 2, 20, 9, 13, 7, tzinfo=berlin) + dt.timedelta(days=d) for d in range(0, 60, 3)]
    values = data_values(InputSpec(name="ts", type="timestamp"), observed)
    lo, hi = min(observed), max(observed)
    assert all(lo - dt.timedelta(seconds=1) <= v <= hi + dt.timedelta(seconds=1) for v in values)
    utc = {v.astimezone(UTC) for v in values}
    change = dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # CET -> CEST
    assert {change, change - dt.timedelta(microseconds=1)} <= utc
    assert dt.datetime(2026, 3, 1, tzinfo=berlin) in values  # a month start inside the span
    assert any(v.minute % 5 == 2 and v.second == 30 for v in values)


def test_the_first_year_start_after_new_years_eve_is_inside_the_span():
    observed = [dt.datetime(2024, 12, 31, 12, tzinfo=UTC), dt.datetime(2025, 3, 1, tzinfo=UTC)]
    assert dt.datetime(2025, 1, 1, tzinfo=UTC) in data_values(InputSpec(name="ts", type="timestamp"), observed)


def test_naive_timestamps_get_the_wall_times_of_the_inputs_zone():
    observed = [dt.datetime(2026, 10, 1, 8) + dt.timedelta(days=d, minutes=7 * d) for d in range(60)]
    values = data_values(InputSpec(name="ts", type="timestamp", timezone="America/New_York"), observed)
    assert all(v.tzinfo is None for v in values)
    assert dt.datetime(2026, 11, 1, 1, 30) in values  # the repeated half hour of the fall change


def test_a_large_column_is_sampled_but_keeps_its_extremes():
    xs = [(i * 7919 % 300_007) / 100 for i in range(300_007)]
    xs[123_457] = -5.5
    values = data_values(InputSpec(name="x", type="float"), xs)
    assert {math.nextafter(-5.5, math.inf), math.nextafter(max(xs), -math.inf)} <= set(values)


def test_specials_stay_first_and_the_data_class_has_its_own_cap():
    spec = InputSpec(name="x", type="float")
    data = [i / 7 for i in range(5000)]
    ranked = ranked_edge_values(spec, [float(n) for n in range(500)], (), data)
    assert ranked[: len(_SPECIALS["float"])] == pytest.approx(list(_SPECIALS["float"]), nan_ok=True)
    without = ranked_edge_values(spec, [float(n) for n in range(500)], ())
    assert 0 < len(ranked) - len(without) <= DATA_CAP


def test_valid_only_rows_hold_only_values_the_contract_accepts():
    spec = _spec("price: {type: float, nullable: false, min: 10, max: 20}")
    rows = [{"price": 10.0}, {"price": 19.99}, {"price": 15.25}]
    generated = edge_rows(spec.fit(pd.DataFrame(rows)), rows, fuzz=50, invalid=False)
    values = [r["price"] for r in generated if "price" in r]
    assert values and all(isinstance(v, (int, float)) and 10 <= v <= 20 for v in values)
    assert 15.35 in values and 15.0 in values


def test_the_same_rows_and_seed_give_the_same_edge_rows():
    spec = _spec("city: {type: str}\nts: {type: timestamp}\nx: {type: float}")
    rng = np.random.default_rng(4)
    frame = pd.DataFrame(
        {
            "city": rng.choice(["a b", "c", "Dé"], 50),
            "ts": pd.to_datetime(rng.integers(1_700_000_000, 1_710_000_000, 50), unit="s", utc=True),
            "x": rng.normal(size=50).round(2),
        }
    )
    fitted = spec.fit(frame)
    rows = frame.to_dict("records")
    first = edge_rows(fitted, rows, fuzz=100, seed=7)
    assert repr(first) == repr(edge_rows(fitted, [dict(r) for r in rows], fuzz=100, seed=7))


finite = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(finite, min_size=1, max_size=40), st.integers(0, 80))
def test_float_values_are_deterministic_capped_and_round_numbers_stay_inside_the_range(xs, cap):
    spec = InputSpec(name="x", type="float")
    values = data_values(spec, xs, cap=cap)
    assert values == data_values(spec, list(xs), cap=cap)
    assert len(values) <= cap and len({repr(v) for v in values}) == len(values)
    assert all(isinstance(v, float) and not math.isnan(v) for v in values)
    lo, hi = min(xs), max(xs)
    below, above = min(lo - 1.0, math.nextafter(lo, -math.inf)), max(hi + 1.0, math.nextafter(hi, math.inf))
    assert all(below <= v <= above for v in values)  # just beyond the extremes, never further


@settings(max_examples=60, deadline=None)
@given(st.lists(st.datetimes(timezones=st.sampled_from([UTC, ZoneInfo("Europe/Berlin")])), min_size=1, max_size=20))
def test_timestamp_values_are_deterministic_and_inside_the_span_give_or_take_a_microsecond(ts):
    values = data_values(InputSpec(name="ts", type="timestamp"), ts)
    assert values == data_values(InputSpec(name="ts", type="timestamp"), list(ts))
    utc = [t.astimezone(UTC) for t in ts]  # elapsed time: wall times repeat and skip at DST changes
    lo, hi, micro = min(utc), max(utc), dt.timedelta(microseconds=1)
    assert all(lo - micro <= v.astimezone(UTC) <= hi + micro for v in values)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=12), max_size=30), st.integers(0, 80))
def test_text_values_are_deterministic_capped_and_start_with_the_known_categories(xs, cap):
    spec = InputSpec(name="s", type="category", values=("gold", "silver"))
    values = data_values(spec, xs, cap=cap)
    assert values[:2] == ["gold", "silver"] and len(values) <= cap + 2
    assert values == data_values(spec, xs, cap=cap)
    assert all(isinstance(v, str) for v in values)
