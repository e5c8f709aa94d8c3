"""compare's batch side gets frames shaped like training data (issue 16 item 1): accepted values
coerced as the contract coerces them, in canonical dtypes; refused values in frames of their own
shape; the row side gets every raw variant."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

import featurekit as fk
from featurekit import parity

SPEC = fk.spec_from_yaml(
    """
featurekit: 1
name: frames
version: 0.1.0
inputs:
  x: {type: float}
  n: {type: int, nullable: false}
  t: {type: timestamp}
  s: {type: str}
features:
  y: coalesce(x, 0.0) + n
"""
)
AWARE = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)
ROWS = [{"x": float(i), "n": i, "t": AWARE, "s": "a"} for i in range(10)]
ODD = [
    {"x": 1, "n": 2.0, "t": AWARE.replace(tzinfo=None), "s": "ß"},  # accepted variants: coerced
    {"x": "1.5", "n": 3, "t": AWARE, "s": "b"},  # refused by the contract
    {"x": "2.5", "n": 4, "t": AWARE, "s": "c"},  # same shape as the row above
    {"x": b"1", "n": 5, "t": AWARE, "s": "d"},  # refused, another shape
]


def _recording_batch(frames: list[pd.DataFrame]):
    def batch(df: pd.DataFrame) -> pd.DataFrame:
        frames.append(df)
        return pd.DataFrame({"y": np.log1p(df["x"].abs()) + df["t"].dt.hour})

    return batch


def _serve(row):
    x = row.get("x")
    if not isinstance(x, (int, float)) or isinstance(x, bool):
        raise TypeError(f"x: {x!r}")
    return {"y": math.log1p(abs(float(x))) + row["t"].hour}


def test_one_odd_value_never_changes_the_dtype_other_rows_see():
    frames: list[pd.DataFrame] = []
    served: list[dict] = []

    def serve(row):
        served.append(row)
        return _serve(row)

    report = parity.compare(_recording_batch(frames), serve, ROWS + ODD, contract=SPEC, edges=False, shrink=False)
    main = frames[0]
    assert len(main) == len(ROWS) + 1  # the accepted variant runs with the ordinary rows
    assert [str(t) for t in main.dtypes] == ["float64", "int64", "datetime64[us, UTC]", "str"]
    assert main["x"].iloc[-1] == 1.0 and main["n"].iloc[-1] == 2 and main["t"].iloc[-1] == pd.Timestamp(AWARE)
    refused = [f for f in frames[1:] if len(f) == 2]
    assert refused and list(refused[0]["x"]) == ["1.5", "2.5"] and str(refused[0]["x"].dtype) == "object"
    assert str(refused[0]["n"].dtype) == "int64"  # the other columns of an odd row stay canonical
    assert {type(r["x"]) for r in served} == {float, int, str, bytes}  # the row side gets the raw variants
    assert served[len(ROWS)]["t"].tzinfo is None
    # only the refused rows differ (both sides raise, neither with a featurekit input error)
    assert {e.row for e in report.columns[0].examples} == {11, 12, 13}, report.to_text(color=False)
