"""The column-wise readers (Arrow blocks of JSONL, parquet record batches) give the same report
as reading the same records one dict at a time (the straightforward path)."""

from __future__ import annotations

import datetime as dt
import json
import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from featurekit.serving_log import LogStats
from featurekit.skew import reading, skew_report
from featurekit.skew.api import read_log
from featurekit.skew.reading import ArrowBlock, ParquetBlock, iter_blocks
from featurekit.values.codec import decode_row

from .conftest import serve


def _report(fitted, source, by=None):
    data = skew_report(fitted, source, thresholds={"transform_sample": 500}, by=by).to_dict()
    data.pop("seconds")
    data.pop("files")
    return data


def _odd(day, i, row):
    """Nulls, NaN and +-inf, unseen categories, datetimes with offsets and fractions."""
    k = i % 23
    if k == 0:
        row["monthly_spend"] = math.nan
    elif k == 1:
        row["monthly_spend"] = math.inf
    elif k == 2:
        row["avg_session_minutes"] = -math.inf
    elif k == 3:
        row["country"] = "ZZ"  # never seen in training
    elif k == 4:
        row["device"] = None
    elif k == 5:
        row["last_login_ts"] = None
    elif k == 6:
        row["signup_ts"] = dt.datetime(2021, 3, 4, 5, 6, 7, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    elif k == 7:
        row["monthly_spend"] = 1e300
    return row


@pytest.fixture(scope="module")
def odd_log(fitted, rows, tmp_path_factory):
    """A logged churn stream with odd values, some records of another fingerprint, some without a
    field, one with an undeclared field and one output of the wrong type."""
    path = str(tmp_path_factory.mktemp("odd") / "serving.jsonl")
    serve(fitted, rows, path, drift=_odd, days=3, per_day=700)
    out = []
    with open(path, encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            rec = json.loads(line)
            if i % 97 == 0:
                rec["fingerprint"] = "0" * 64
            if i % 89 == 5:
                del rec["input"]["plan"]
            if i % 131 == 7:
                rec["input"]["extra_field"] = i
            out.append(json.dumps(rec))
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(out) + "\n")
    return path


def _records(path):
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def _arrow_blocks(path, kind=ArrowBlock):
    return sum(isinstance(b, kind) for b in iter_blocks(path, LogStats()))


def test_jsonl_blocks_give_the_report_of_record_dicts(fitted, odd_log):
    assert _arrow_blocks(odd_log) == 1  # read column-wise
    assert _report(fitted, odd_log) == _report(fitted, _records(odd_log))


def test_legacy_tags_give_the_report_of_record_dicts(fitted, odd_log, tmp_path):
    records = _records(odd_log)
    for rec in records:
        for name in ("signup_ts", "last_login_ts"):
            if isinstance(rec["input"][name], dict):  # the tags of logs written before the codec
                rec["input"][name] = {"datetime": rec["input"][name]["$datetime"]}
        if isinstance(rec["input"]["monthly_spend"], dict):
            rec["input"]["monthly_spend"] = {"float": rec["input"]["monthly_spend"]["$float"]}
    path = str(tmp_path / "legacy.jsonl")
    with open(path, "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in records)
    assert _arrow_blocks(path) == 1
    assert _report(fitted, path) == _report(fitted, records)


def test_mixed_tags_and_the_largest_double_give_the_report_of_record_dicts(fitted, odd_log, tmp_path):
    records = _records(odd_log)
    records[3]["input"]["signup_ts"] = {"datetime": records[3]["input"]["signup_ts"]["$datetime"]}
    records[4]["input"]["avg_session_minutes"] = 1.7976931348623157e308  # the number +inf tags are read as
    path = str(tmp_path / "mixed.jsonl")
    with open(path, "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in records)
    assert _arrow_blocks(path) == 0  # read line by line
    assert _report(fitted, path) == _report(fitted, records)


def test_jsonl_with_a_bad_line_gives_the_report_of_record_dicts(fitted, odd_log, tmp_path):
    path = str(tmp_path / "bad.jsonl")
    with open(odd_log, encoding="utf-8") as fh:
        lines = fh.readlines()
    lines[10] = '{"input": {"x": {"$float": "abc"}}}\n'  # a malformed tag: the line is not a record
    with open(path, "w", encoding="utf-8") as fh:
        fh.writelines(lines)
    got = _report(fitted, path)
    assert got["unparseable"] == 1
    want = _report(fitted, [json.loads(line) for i, line in enumerate(lines) if i != 10])
    assert {k: v for k, v in got.items() if k not in ("unparseable", "findings")} == {
        k: v for k, v in want.items() if k not in ("unparseable", "findings")
    }


def _parquet(records, path, **kw):
    rows = [
        {
            "time": dt.datetime.fromisoformat(r["time"]),
            "fingerprint": r["fingerprint"],
            "input": decode_row(r["input"]),
            "output": decode_row(r["output"]),
        }
        for r in records
    ]
    pq.write_table(pa.Table.from_pylist(rows), path, **kw)


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(reading, "PARQUET_BATCH", 500)


def _parquet_by_records(fitted, path, monkeypatch, by=None):
    """The report of the same batches read record by record."""
    with monkeypatch.context() as m:
        m.setattr(reading, "_records_only", lambda batch: False)
        return _report(fitted, path, by)


@pytest.mark.parametrize("by", ["day", "hour"])
def test_windows_of_jsonl_blocks_give_the_report_of_record_dicts(fitted, odd_log, by):
    got = _report(fitted, odd_log, by)
    assert got == _report(fitted, _records(odd_log), by)
    assert len(got["windows"]) >= 3 and sum(w["records"] for w in got["windows"]) == got["records"]


def test_windows_of_parquet_batches_give_the_report_of_record_dicts(
    fitted, odd_log, tmp_path, small_batches, monkeypatch
):
    path = str(tmp_path / "odd.parquet")
    _parquet(_records(odd_log), path, row_group_size=700)
    got = _report(fitted, path, "day")
    assert got == _parquet_by_records(fitted, path, monkeypatch, "day")
    assert len(got["windows"]) == 3


def test_parquet_batches_give_the_report_of_record_dicts(fitted, odd_log, tmp_path, small_batches, monkeypatch):
    path = str(tmp_path / "odd.parquet")
    _parquet(_records(odd_log), path, row_group_size=700)
    assert _arrow_blocks(path, ParquetBlock) == 5
    got = _report(fitted, path)
    assert got == _parquet_by_records(fitted, path, monkeypatch)
    assert got["records"] == len(list(read_log(path)))


def test_parquet_with_null_outputs_and_bad_rows(fitted, odd_log, tmp_path, small_batches, monkeypatch):
    records = _records(odd_log)
    path = str(tmp_path / "odd.parquet")
    rows = [
        {
            "time": r["time"],  # ISO text
            "fingerprint": r["fingerprint"] if i % 50 else None,
            "input": None if i == 33 else decode_row(r["input"]),
            "output": None if i % 40 == 1 else decode_row(r["output"]),
            "omitted": ["secret"] if i % 60 == 2 else None,
        }
        for i, r in enumerate(records)
    ]
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=500)
    assert _arrow_blocks(path, ParquetBlock) == 4  # the batch with a null input is read record by record
    got = _report(fitted, path)
    assert got["unparseable"] == 1
    assert got == _parquet_by_records(fitted, path, monkeypatch)


def test_read_ahead_keeps_the_order_of_bad_lines_and_files(odd_log, tmp_path):
    """Blocks are read one ahead on a thread; what reading finds is still counted in read order."""
    with open(odd_log, encoding="utf-8") as fh:
        lines = fh.readlines()
    paths = []
    for k in range(3):
        path = str(tmp_path / f"part{k}.jsonl")
        part = lines[k * 100 : (k + 1) * 100]
        part[7 + k] = "not json\n"
        part[50] = '{"input": 1}\n'
        with open(path, "w", encoding="utf-8") as fh:
            fh.writelines(part)
        paths.append(path)
    paths.insert(1, odd_log)  # read column-wise
    ahead, plain = LogStats(), LogStats()
    got = [len(b.lines) if isinstance(b, ArrowBlock) else len(b) for b in iter_blocks(paths, ahead)]
    want = [len(b) for b in iter_blocks(paths, plain, arrow=False)]
    assert got == want == [98, 2100, 98, 98]
    assert ahead == plain and plain.unparseable == 6 and plain.files == paths
    assert plain.examples[0].startswith(f"{paths[0]}:8: not JSON")


def test_read_ahead_stops_when_the_reader_stops(odd_log):
    blocks = iter_blocks([odd_log, odd_log], LogStats())
    next(blocks)
    blocks.close()  # joins the reading thread
