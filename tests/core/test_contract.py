"""Input contracts: both paths accept, replace or refuse exactly the same values."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

import featurekit as fk
from featurekit import parity
from featurekit.values.equality import Equality

BY_VALUE = Equality(mode="value")


def make(inputs: str, features: str = "out: x"):
    text = f"featurekit: 1\nname: c\nversion: 1.0.0\ninputs:\n{inputs}\nfeatures:\n  {features}\n"
    return fk.spec_from_yaml(text).fit(pd.DataFrame({"x": pd.Series([], dtype=object)}))


def both(fitted, values):
    """Row-path and batch-path results (or the error class) for each value of ``x``."""
    rows = [{"x": v} for v in values]
    out = []
    for row in rows:
        try:
            out.append(fitted.transform_row(row)["out"])
        except fk.ContractError as exc:
            out.append(type(exc))
    frame = pd.DataFrame({"x": pd.Series(values, dtype=object)})
    batch = []
    for i in range(len(values)):
        try:
            value = fitted.transform(frame.iloc[i : i + 1])["out"].iloc[0]
            batch.append(None if value is pd.NA else value)
        except fk.ContractError as exc:
            batch.append(type(exc))
    return out, batch


def same(a, b):
    """The paths agree by value (the batch side here is a pandas cell: numpy scalars, NaN for null)."""
    return BY_VALUE.same(a, b)


@pytest.mark.parametrize(
    "contract, values",
    [
        ("  x: {type: float}", [1.5, 2, None, float("nan"), True, "1.5", 2**53, 2**53 + 1, b"1", [1.0]]),
        (
            "  x: {type: int}",
            [
                1,
                2.0,
                2.5,
                None,
                True,
                "3",
                2**63,
                -(2**63),
                float("inf"),
                2**30 - 1,
                2**30,
                -(2**30),
                -(2**30) - 1,
                2**63 - 1,
                -(2**63) - 1,
            ],
        ),
        ("  x: {type: str}", ["a", "", "ß", None, 1, "\ud800", "é\udfff", b"a"]),
        ("  x: {type: str, nullable: false}", ["a", "ß", None, "\ud800", 1]),
        ("  x: {type: category, values: [a, é]}", ["a", "é", "ß", "\ud800", None]),
        ("  x: {type: bool}", [True, False, None, 1, "true"]),
        ("  x: {type: float, min: 0, max: 10, on_violation: clip}", [-1.0, 5.0, 11.0, None, "x"]),
        ("  x: {type: float, min: 0, on_violation: null}", [-1.0, 5.0, "bad", None]),
        ("  x: {type: int, nullable: false, on_violation: default, default: 7}", [1, None, "x", 2.5]),
        ("  x: {type: category, values: [a, b], on_violation: raise}", ["a", "c", None]),
    ],
)
def test_both_paths_accept_replace_or_refuse_the_same_values(contract, values):
    fitted = make(contract)
    row, batch = both(fitted, values)
    for v, r, b in zip(values, row, batch):
        assert same(r, b), (v, r, b)


def test_violation_messages_name_input_rule_value_and_fix():
    fitted = make("  x: {type: float, min: 0}")
    with pytest.raises(fk.ContractError) as info:
        fitted.transform_row({"x": -3.0})
    text = str(info.value)
    assert "input 'x' = -3.0 (float) violates range x >= 0.0 (on_violation: raise)" in text
    assert "Fix:" in text
    assert info.value.input == "x" and info.value.value == -3.0


def test_batch_violation_lists_count_and_row_positions():
    fitted = make("  x: {type: float, min: 0}")
    with pytest.raises(fk.ContractError) as info:
        fitted.transform(pd.DataFrame({"x": [1.0, -1.0, 2.0, -5.0, -6.0]}))
    text = str(info.value)
    assert "violates range x >= 0.0 (on_violation: raise) in 3 row(s) (positions 1, 3, 4)" in text
    assert info.value.rows == [1, 3, 4]


def test_mixed_object_column_gets_the_row_rule_per_value():
    fitted = make("  x: {type: float, on_violation: null}")
    out = fitted.transform(pd.DataFrame({"x": pd.Series([1.0, "2", None, 3, True], dtype=object)}))
    assert out["out"].tolist()[0] == 1.0 and out["out"].tolist()[3] == 3.0
    assert all(math.isnan(v) for v in (out["out"][1], out["out"][2], out["out"][4]))


def test_missing_required_column_and_key_are_named():
    spec = fk.spec_from_yaml(
        "featurekit: 1\nname: c\nversion: 1.0.0\ninputs:\n  x: {type: float, nullable: false}\n"
        "  other: {type: float}\nfeatures:\n  out: x\n"
    )
    with pytest.raises(fk.FitError, match=r"lacks input column\(s\) \['other'\]"):  # every declared input
        spec.fit(pd.DataFrame({"x": [1.0]}))
    fitted = spec.fit(pd.DataFrame({"x": [1.0], "other": [None]}))
    with pytest.raises(fk.ContractError, match="input column 'x' is missing"):
        fitted.transform(pd.DataFrame({"y": [1.0]}))
    with pytest.raises(fk.ContractError, match="input 'x' = None .*nullable: false"):
        fitted.transform_row({})


def test_extra_keys_are_ignored_and_duplicate_columns_refused():
    fitted = make("  x: {type: float}")
    assert fitted.transform_row({"x": 1.0, "unused": object()}) == {"out": 1.0}
    frame = pd.DataFrame([[1.0, 2.0]], columns=["x", "x"])
    with pytest.raises(fk.ContractError, match="duplicate columns"):
        fitted.transform(frame)


def test_timestamps_aware_naive_and_zones_agree():
    fitted = make("  x: {type: timestamp}", "out: hour(x)")
    berlin = dt.timezone(dt.timedelta(hours=2))
    values = [
        dt.datetime(2026, 3, 29, 1, 30),
        dt.datetime(2026, 3, 29, 3, 30, tzinfo=berlin),
        "2026-10-25T01:00:00+00:00",
        None,
    ]
    row, batch = both(fitted, values)
    assert row == [1, 1, 1, None]
    assert batch == row
    frame = pd.DataFrame({"x": pd.to_datetime(["2026-03-29 03:30"]).tz_localize("Europe/Berlin")})
    assert fitted.transform(frame)["out"].tolist() == [1]


def test_naive_timestamps_in_a_declared_zone():
    fitted = make("  x: {type: timestamp, timezone: America/New_York}", "out: hour(x)")
    frame = pd.DataFrame({"x": pd.to_datetime(["2026-07-01 09:00", "2026-01-01 09:00"])})
    assert fitted.transform(frame)["out"].tolist() == [13, 14]
    assert [fitted.transform_row({"x": v.to_pydatetime()})["out"] for v in frame["x"]] == [13, 14]


def test_csv_style_int_column_with_nans_is_read_exactly():
    fitted = make("  x: {type: int}", "out: x + 1")
    frame = pd.DataFrame({"x": [1.0, np.nan, 2.0**52]})
    report = parity.check(fitted, frame, edges=False, shrink=False)
    assert report.ok and report.rows == 3, report.to_text(color=False)
