"""The one wire codec: strict JSON, tags, legacy log tags, artifact bytes unchanged."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pytest

from featurekit.values import codec

GOLDEN = Path(__file__).parent.parent / "artifact" / "golden" / "churn_v1"


def test_state_bytes_of_the_golden_artifact_are_reproduced():
    # state.json and baseline.json were written by the codec's predecessor: same bytes now
    for name in ("state.json", "baseline.json"):
        data = (GOLDEN / name).read_bytes()
        assert codec.dumps(codec.loads(data), indent=1).encode("utf-8") == data


@pytest.mark.parametrize(
    "value",
    [
        math.nan,
        math.inf,
        -math.inf,
        -0.0,
        5e-324,
        2**100,
        "é\u2028",
        dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 1, 5, 10, 0, 0, 123456),
        b"\x00\xff{",
        [1, None, True, {"k": [math.nan]}],
    ],
)
def test_round_trip(value):
    text = codec.dumps({"v": value})
    json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c}"))
    back = codec.loads(text)["v"]
    assert codec.dumps(back) == codec.dumps(value)
    if isinstance(value, float):
        assert math.copysign(1, back) == math.copysign(1, value) and (back == value or back != back)
    else:
        assert type(back) is type(value)


def test_tags():
    assert codec.to_jsonable(
        {"f": math.nan, "t": dt.datetime(2026, 1, 5), "b": b"a", "d": dt.date(2026, 1, 5), "n": np.int64(3)}
    ) == {
        "f": {"$float": "nan"},
        "t": {"$datetime": "2026-01-05T00:00:00"},
        "b": {"$bytes": "YQ=="},
        "d": {"$datetime": "2026-01-05T00:00:00"},
        "n": 3,
    }
    assert codec.to_jsonable(np.array([1.5, np.inf])) == [1.5, {"$float": "inf"}]
    with pytest.raises(TypeError, match="cannot store object"):
        codec.to_jsonable({"x": object()})


def test_strict_reading():
    with pytest.raises(ValueError, match="non-finite floats must be tagged"):
        codec.loads('{"x": NaN}')


def test_state_reading_leaves_legacy_and_malformed_tags_alone():
    assert codec.loads('{"x": {"float": "nan"}}') == {"x": {"float": "nan"}}
    assert codec.loads('{"x": {"$float": "abc"}}') == {"x": {"$float": "abc"}}
    assert codec.loads('{"x": {"$float": "nan", "y": 1}}')["x"]["y"] == 1


def test_a_legacy_log_line_is_read():
    line = (
        '{"time": "2026-01-05T10:00:00+00:00", "fingerprint": "fp", "input": {"x": {"float": "-inf"}, '
        '"t": {"datetime": "2026-01-05T10:00:00+00:00"}, "raw": {"bytes": "\\u00ff\\u0000"}, "n": 1}, '
        '"output": {"y": {"float": "nan"}}}'
    )
    rec = json.loads(line)
    inp, out = codec.decode_row(rec["input"]), codec.decode_row(rec["output"])
    assert inp == {"x": -math.inf, "t": dt.datetime(2026, 1, 5, 10, tzinfo=dt.UTC), "raw": b"\xff\x00", "n": 1}
    assert math.isnan(out["y"])


def test_new_log_tags_are_read_and_malformed_ones_kept():
    row = codec.to_jsonable({"x": math.inf, "t": dt.datetime(2026, 1, 5), "b": b"\x01"})
    assert codec.decode_row(row) == {"x": math.inf, "t": dt.datetime(2026, 1, 5), "b": b"\x01"}
    for bad in ({"float": "abc"}, {"datetime": "not a date"}, {"$bytes": "***"}, {"bytes": 3}, {"other": 1}):
        assert codec.decode_logged(bad) == bad
