"""Hostile DataFrames: clear errors naming column, rule, rows and values, or coercion as declared.

The reference for every accepted column is the row path on the same values as Python
objects: the batch path must give exactly what ``transform_row`` gives, row by row.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import featurekit as fk

from ._common import COUNTS, churn_fitted, churn_rows, same_output

SPEC = """
featurekit: 1
name: batchin
version: 1.0.0
inputs:
  f: {type: float}
  i: {type: int, nullable: false}
  n: {type: int, on_violation: null}
  b: {type: bool}
  s: {type: category}
  t: {type: timestamp}
  local: {type: timestamp, timezone: Europe/Stockholm}
features:
  of: f
  oi: i
  on: n
  ob: b
  os: s
  ot: t
  oh: coalesce(hour(t), -1)
  olocal: local
"""


@pytest.fixture(scope="module")
def fitted():
    return fk.spec_from_yaml(SPEC).fit([{"i": 1}])


UTC = dt.UTC
GOOD = {
    "f": [1.5, None, -0.0],
    "i": [1, 2, 3],
    "n": [4, None, 6],
    "b": [True, None, False],
    "s": ["x", None, "é"],
    "t": [dt.datetime(2026, 1, 1, 5, tzinfo=UTC), None, dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)],
    "local": [dt.datetime(2026, 3, 29, 2, 30), None, dt.datetime(2026, 10, 25, 2, 30)],
}


def frame(**cols):
    data = {k: pd.Series(v, dtype=object) for k, v in GOOD.items()}
    data.update(cols)
    return pd.DataFrame(data)


def rows_of(df):
    out = []
    for i in range(len(df)):
        row = {}
        for c in df.columns:
            v = df[c].iloc[i]
            if v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
                v = None
            elif isinstance(v, pd.Timestamp):
                v = v.to_pydatetime()
            elif hasattr(v, "item") and not isinstance(v, (str, bytes)):
                v = v.item()
            row[c] = v
        out.append(row)
    return out


def assert_same_as_rows(fitted, df, rows=None):
    COUNTS["batch frames"] += 1
    got = fitted.transform(df)
    from featurekit.values.frames import frame_rows

    for i, (b, row) in enumerate(zip(frame_rows(got), rows or rows_of(df))):
        r = fitted.transform_row(row)
        assert same_output(r, b) == [], (i, row, r, b)
    return got


def assert_refused(fitted, df, column, rule, rows, value):
    COUNTS["batch frames"] += 1
    with pytest.raises(fk.ContractError) as info:
        fitted.transform(df)
    msg = str(info.value)
    assert repr(column) in msg and rule in msg and "Fix:" in msg, msg
    assert f"positions {', '.join(map(str, rows))}" in msg, msg
    assert repr(value) in msg, msg
    return msg


def test_object_columns_of_good_python_values_equal_the_row_path(fitted):
    assert_same_as_rows(fitted, frame())


def test_mixed_object_float_column_names_column_rule_rows_and_first_value(fitted):
    df = frame(
        f=pd.Series([1.0, "2", True, 3, b"4", None, [1]], dtype=object),
        **{k: pd.Series((v * 3)[:7], dtype=object) for k, v in GOOD.items() if k != "f"},
    )
    msg = assert_refused(fitted, df, "f", "type float", [1, 2, 4, 6], "2")
    assert "4 row(s)" in msg


def test_strings_in_an_int64_object_column(fitted):
    df = frame(i=pd.Series([1, "2", "3"], dtype=object))
    assert_refused(fitted, df, "i", "type int", [1, 2], "2")


def test_strings_in_a_null_policy_column_become_null_exactly_as_rows_do(fitted):
    df = frame(n=pd.Series(["4", 5.0, 2**70], dtype=object))
    out = assert_same_as_rows(fitted, df)
    assert out["on"].tolist()[1] == 5 and out["on"].isna().tolist() == [True, False, True]


@pytest.mark.parametrize("strings", ["str", "string[python]", "string[pyarrow]", object])
def test_a_text_column_for_a_float_input_is_refused(fitted, strings):
    df = frame(f=pd.Series(["1.5", "x", None], dtype=strings))
    assert_refused(fitted, df, "f", "type float", [0, 1], "1.5")


def test_a_missing_column_is_named_even_when_the_input_is_nullable(fitted):
    """Issue 17 item 11: a frame without a declared column is refused (it used to read as all
    null); an all-null column is still a column of nulls."""
    with pytest.raises(fk.ContractError, match=r"input columns \['f', 'b', 't'\] are missing(.|\n)*Fix:") as info:
        fitted.transform(frame().drop(columns=["f", "b", "t"]))
    assert info.value.input == "f"
    with pytest.raises(fk.ContractError, match=r"input column 'i' is missing(.|\n)*Fix:(.|\n)*did you mean 'I'"):
        fitted.transform(frame().rename(columns={"i": "I"}))
    out = assert_same_as_rows(
        fitted, frame(f=pd.Series([None] * 3, dtype=object), t=pd.Series([None] * 3, dtype=object))
    )
    assert out["of"].isna().all() and out["oh"].tolist() == [-1, -1, -1]


def test_duplicate_columns_are_refused_naming_them(fitted):
    df = pd.concat([frame(), frame()[["t", "s"]]], axis=1)
    with pytest.raises(fk.ContractError, match=r"duplicate columns \['s', 't'\](.|\n)*Fix:"):
        fitted.transform(df)


@pytest.mark.parametrize("tz", ["US/Eastern", "Asia/Kolkata", "Pacific/Chatham", "UTC", "Etc/GMT+12"])
@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_any_time_zone_and_unit_is_converted_exactly_to_utc(fitted, tz, unit):
    local = pd.Series(
        pd.to_datetime(["2026-03-08 01:30", None, "1900-01-01 12:00:00.123456"], format="ISO8601").tz_localize(tz)
    )
    local = local.astype(f"datetime64[{unit}, {tz}]")
    out = assert_same_as_rows(fitted, frame(t=local))
    want = [None if v is pd.NaT else v.tz_convert("UTC").hour for v in local]
    assert out["oh"].tolist() == [-1 if w is None else w for w in want]


def test_an_object_column_mixing_zones_and_naive_values(fitted):
    values = [
        dt.datetime(2026, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        dt.datetime(2026, 1, 1),
        pd.Timestamp("2026-01-01T12:00", tz="Asia/Tokyo"),
    ]
    out = assert_same_as_rows(fitted, frame(t=pd.Series(values, dtype=object)))
    assert out["oh"].tolist() == [5, 0, 3]


def test_naive_values_in_a_non_utc_contract_use_its_zone_through_dst(fitted):
    naive = pd.Series(pd.to_datetime(["2026-03-29 02:30", None, "2026-10-25 02:30"]))
    out = assert_same_as_rows(fitted, frame(local=naive))
    assert str(out["olocal"].dtype) == "datetime64[us, UTC]"


def test_nanosecond_timestamps_are_refused_naming_the_rows(fitted):
    ts = pd.Series(
        pd.to_datetime(
            ["2026-01-01T00:00:00.000000001", "2026-01-01", "2026-01-01T00:00:00.000001999"], format="ISO8601", utc=True
        )
    )
    msg = assert_refused(
        fitted, frame(t=ts), "t", "type timestamp", [0, 2], pd.Timestamp("2026-01-01T00:00:00.000000001", tz="UTC")
    )
    # whole microseconds in a nanosecond column are exact, not refused
    assert_same_as_rows(
        fitted,
        frame(
            t=pd.Series(pd.to_datetime(["2026-01-01T00:00:00.000001"], utc=True).repeat(3).to_numpy())
            .dt.tz_localize(None)
            .dt.tz_localize("UTC")
        ),
    )
    assert "2 row(s)" in msg


@pytest.mark.parametrize(
    "col,values",
    [
        ("s", ["x", None, "y"]),
        ("f", [1.5, None, 2.0]),
        ("i", [1, 2, 3]),
        ("b", [True, None, False]),
    ],
)
def test_categorical_dtype_columns_equal_the_row_path(fitted, col, values):
    assert_same_as_rows(fitted, frame(**{col: pd.Series(values, dtype="category")}))


def test_categorical_with_a_string_category_in_a_numeric_column_is_refused(fitted):
    assert_refused(fitted, frame(f=pd.Series([1.0, "a", 2.0], dtype="category")), "f", "type float", [1], "a")


@pytest.mark.parametrize(
    "col,values,dtype",
    [
        ("f", [1.5, None, -0.0], "Float64"),
        ("f", [1, None, 2**53], "Int64"),
        ("f", [1.5, None, 2.5], "Float32"),
        ("i", [1, 2, 3], "Int64"),
        ("i", [1, 2, 3], "UInt8"),
        ("i", [1.0, 2.0, -3.0], "Float64"),
        ("n", [1, None, 3], "Int32"),
        ("b", [True, None, False], "boolean"),
        ("s", ["x", None, "é"], "string[python]"),
        ("s", ["x", None, "é"], "string[pyarrow]"),
        ("s", ["x", None, "é"], "str"),
    ],
)
def test_nullable_extension_dtypes_equal_the_row_path(fitted, col, values, dtype):
    assert_same_as_rows(fitted, frame(**{col: pd.Series(values, dtype=dtype)}))


@pytest.mark.parametrize(
    "col,values,dtype,rule,bad,first",
    [
        ("i", [1, None, 3], "Int64", "nullable: false", [1], None),
        ("i", [1.5, 2.0, 3.0], "Float64", "type int", [0], 1.5),
        ("f", [1, 2**53 + 1, 3], "Int64", "type float", [1], 2**53 + 1),
        ("i", [1, 2**64 - 1, 3], "UInt64", "type int", [1], 2**64 - 1),
    ],
)
def test_nullable_extension_dtypes_that_break_the_contract_are_named(fitted, col, values, dtype, rule, bad, first):
    df = frame(**{col: pd.Series(values, dtype=dtype)})
    COUNTS["batch frames"] += 1
    with pytest.raises(fk.ContractError) as info:
        fitted.transform(df)
    msg = str(info.value)
    assert repr(col) in msg and rule in msg and "Fix:" in msg and f"positions {bad[0]}" in msg, msg


@pytest.mark.parametrize(
    "col,values,atype",
    [
        ("f", [1.5, None, -0.0], pa.float64()),
        ("f", [1.5, None, 2.5], pa.float32()),
        ("f", [1, None, 3], pa.int64()),
        ("i", [1, 2, 3], pa.int64()),
        ("i", [1, 2, 3], pa.int8()),
        ("n", [1, None, 3], pa.int32()),
        ("b", [True, None, False], pa.bool_()),
        ("s", ["x", None, "é"], pa.string()),
        ("s", ["x", None, "é"], pa.large_string()),
        ("s", ["x", None, "x"], pa.dictionary(pa.int32(), pa.string())),
        (
            "t",
            [dt.datetime(2026, 1, 1, 5, tzinfo=UTC), None, dt.datetime(1500, 1, 1, tzinfo=UTC)],
            pa.timestamp("us", "UTC"),
        ),
        ("t", [dt.datetime(2026, 1, 1, 5), None, dt.datetime(1970, 1, 1)], pa.timestamp("ms")),
        (
            "t",
            [dt.datetime(2026, 1, 1, 5, tzinfo=UTC), None, dt.datetime(1970, 1, 1, tzinfo=UTC)],
            pa.timestamp("ns", "America/New_York"),
        ),
    ],
)
def test_pyarrow_backed_columns_equal_the_row_path(fitted, col, values, atype):
    series = pd.Series(
        pa.array(values, type=atype if not pa.types.is_dictionary(atype) else None)
        if not pa.types.is_dictionary(atype)
        else pa.array(values).dictionary_encode(),
        dtype=pd.ArrowDtype(atype),
    )
    assert_same_as_rows(fitted, frame(**{col: series}))


def test_a_pyarrow_string_column_for_an_int_input_is_refused(fitted):
    df = frame(i=pd.Series(pa.array(["1", "2", "3"]), dtype=pd.ArrowDtype(pa.string())))
    assert_refused(fitted, df, "i", "type int", [0, 1, 2], "1")


def test_the_churn_frame_in_every_column_layout_equals_the_row_path():
    """The churn evaluation rows as object, native, Arrow and categorical columns."""
    fitted = churn_fitted()
    rows = churn_rows()[:60]
    df = pd.DataFrame({k: pd.Series([r[k] for r in rows], dtype=object) for k in rows[0]})
    layouts = {
        "object": df,
        "convert_dtypes": df.infer_objects().convert_dtypes(),
        "arrow": df.infer_objects().convert_dtypes(dtype_backend="pyarrow"),
        "categorical": df.infer_objects().astype({c: "category" for c in ("plan", "country", "device")}),
    }
    for frame_ in layouts.values():
        assert_same_as_rows(fitted, frame_, rows)


def test_a_list_of_row_dicts_keeps_object_semantics():
    """``fitted.transform(list_of_dicts)`` builds object columns that stay object (pandas 3 would
    infer str/datetime dtypes), so a lone surrogate or a ``np.datetime64`` is refused by both paths."""
    fitted = churn_fitted()
    for bad in (
        dict(churn_rows()[0], country="SE\ud800"),
        dict(churn_rows()[0], signup_ts=np.datetime64("2025-01-01")),
    ):
        with pytest.raises(fk.ContractError):
            fitted.transform_row(bad)
        with pytest.raises(fk.ContractError):
            fitted.transform([bad])
