"""Gzip-compressed JSONL and parquet serving logs read through the same reader as JSONL."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from featurekit.serving_log import LogStats, SkewInputError, iter_records, log_paths
from featurekit.skew import skew_report
from featurekit.values.codec import decode_row


def _comparable(report):
    data = report.to_dict()
    return data["columns"], data["findings"], data["records"], data["transformation"]["sampled"]


@pytest.fixture(scope="module")
def jsonl_report(fitted, drifted_log):
    return skew_report(fitted, drifted_log)


@pytest.fixture(scope="module")
def gz_log(drifted_log, tmp_path_factory):
    path = str(tmp_path_factory.mktemp("gz") / "serving.jsonl.gz")
    with open(drifted_log, "rb") as src, gzip.open(path, "wb") as dst:
        shutil.copyfileobj(src, dst)
    return path


def write_parquet(records, path, *, time_as_timestamp=True):
    """The documented parquet layout: input/output structs, fingerprint string, time timestamp."""
    rows = []
    for r in records:
        t = dt.datetime.fromisoformat(r["time"]) if time_as_timestamp else r["time"]
        rows.append(
            {"time": t, "fingerprint": r["fingerprint"], "input": decode_row(r["input"]), "output": r["output"]}
        )
    pq.write_table(pa.Table.from_pylist(rows), path)


@pytest.fixture(scope="module")
def parquet_log(drifted_log, tmp_path_factory):
    with open(drifted_log, encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh]
    path = str(tmp_path_factory.mktemp("pq") / "serving.parquet")
    write_parquet(records, path)
    return path


def test_gzip_jsonl_gives_the_same_report(fitted, gz_log, jsonl_report):
    report = skew_report(fitted, gz_log)
    assert report.files == [gz_log]
    assert _comparable(report) == _comparable(jsonl_report)


def test_gzip_blocks_match_plain_blocks(drifted_log, gz_log):
    plain = [r for chunk in iter_records(drifted_log, LogStats()) for r in chunk]
    packed = [r for chunk in iter_records(gz_log, LogStats()) for r in chunk]
    assert packed == plain and len(plain) == 21 * 600


def test_parquet_gives_the_same_report(fitted, parquet_log, jsonl_report):
    report = skew_report(fitted, parquet_log)
    assert report.files == [parquet_log] and report.records == jsonl_report.records
    assert _comparable(report) == _comparable(jsonl_report)
    assert report.period == jsonl_report.period


def test_parquet_windows_match_jsonl(fitted, parquet_log, drifted_log):
    a, b = skew_report(fitted, parquet_log, by="day"), skew_report(fitted, drifted_log, by="day")
    assert a.windows == b.windows
    assert a.columns["input:device"]["windows"] == b.columns["input:device"]["windows"]


def test_parquet_bad_rows_are_counted(fitted, drifted_log, tmp_path):
    with open(drifted_log, encoding="utf-8") as fh:
        records = [json.loads(line) for _, line in zip(range(50), fh)]
    path = str(tmp_path / "bad.parquet")
    rows = [{"time": r["time"], "fingerprint": r["fingerprint"], "input": decode_row(r["input"])} for r in records]
    rows[3]["input"] = None
    pq.write_table(pa.Table.from_pylist(rows), path)
    stats = LogStats()
    got = [r for chunk in iter_records(path, stats) for r in chunk]
    assert len(got) == 49 and stats.unparseable == 1
    assert stats.examples == [f"{path}:row 4: 'input' is not an object"]


def test_parquet_without_input_column_is_an_error(tmp_path):
    path = str(tmp_path / "x.parquet")
    pq.write_table(pa.table({"a": [1]}), path)
    with pytest.raises(SkewInputError, match="no 'input' column"):
        list(iter_records(path, LogStats()))


def test_directory_reads_every_log_format(drifted_log, gz_log, parquet_log, tmp_path):
    for src in (drifted_log, gz_log, parquet_log):
        shutil.copy(src, tmp_path / os.path.basename(src).replace("serving", os.path.basename(os.path.dirname(src))))
    (tmp_path / "notes.txt").write_text("not a log")
    paths = log_paths(str(tmp_path))
    assert paths == sorted(paths) and len(paths) == 3
    assert sum(len(chunk) for chunk in iter_records(str(tmp_path), LogStats())) == 3 * 21 * 600
    assert sorted(os.path.splitext(p)[1] for p in log_paths(str(tmp_path))) == [".gz", ".jsonl", ".parquet"]


def test_truncated_gzip_is_an_input_error(gz_log, tmp_path):
    path = str(tmp_path / "cut.jsonl.gz")
    with open(gz_log, "rb") as fh:
        data = fh.read()
    with open(path, "wb") as fh:
        fh.write(data[: len(data) // 2])
    with pytest.raises(SkewInputError, match="cannot read log"):
        list(iter_records(path, LogStats()))


def test_cli_progress_bar_only_on_a_terminal(fitted, drifted_log, tmp_path, monkeypatch, capsys):
    """A tqdm bar counts every record when stderr is a TTY; nothing when it is not."""
    import sys
    import types

    from featurekit.cli import main

    counted = []

    class Bar:
        def __init__(self, **kwargs):
            assert kwargs["file"] is sys.stderr

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def update(self, n):
            counted.append(n)

    monkeypatch.setitem(sys.modules, "tqdm", types.SimpleNamespace(tqdm=Bar))
    art = fitted.save(str(tmp_path / "art"))
    main(["skew", art, "--log", drifted_log, "--format", "json"])
    assert counted == []  # pytest's stderr is not a terminal
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    main(["skew", art, "--log", drifted_log, "--format", "json"])
    assert sum(counted) == 21 * 600
    capsys.readouterr()
