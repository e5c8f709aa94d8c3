"""ServingLogger: records, tags, sampling, rotation, threads, failing sinks."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import threading

import pytest

import featurekit as fk
from featurekit.logger import LogSinkWarning, ServingLogger
from featurekit.values.codec import decode_row


def test_record_format_and_tags(fitted, tmp_path):
    path = tmp_path / "s.jsonl"
    row = {
        "monthly_spend": math.nan,
        "tenure_days": 10,
        "num_support_tickets": 1,
        "signup_ts": dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    }
    with ServingLogger(str(path)) as log:
        out = fitted.transform_row(row, log=log)
    assert out == fitted.transform_row(row)
    (rec,) = [json.loads(x) for x in path.read_text().splitlines()]
    assert set(rec) == {"time", "fingerprint", "input", "output"}
    assert rec["fingerprint"] == fitted.fingerprint
    assert rec["input"]["monthly_spend"] == {"$float": "nan"}
    assert decode_row(rec["input"])["signup_ts"] == row["signup_ts"]
    assert rec["output"]["spend_imputed"] == out["spend_imputed"]


def test_sampling_and_callable_sink(fitted):
    got = []
    log = ServingLogger(got.append, sample_rate=0.1, seed=1)
    for _ in range(2000):
        fitted.transform_row({"tenure_days": 1, "num_support_tickets": 0}, log=log)
    log.close()
    assert 120 < len(got) < 280 and log.logged == len(got)


def test_rotation(tmp_path):
    path = str(tmp_path / "s.jsonl")
    log = ServingLogger(path, max_bytes=2000, backups=2, flush_rows=5, background=False)
    for i in range(200):
        log({"x": i}, {"y": i}, "fp")
    log.close()
    files = sorted(os.listdir(tmp_path))
    assert files == ["s.1.jsonl", "s.2.jsonl", "s.jsonl"]
    assert all(os.path.getsize(tmp_path / f) <= 2000 for f in files)


def test_threads(tmp_path):
    path = str(tmp_path / "s.jsonl")
    log = ServingLogger(path, flush_rows=64)

    def work(k):
        for i in range(500):
            log({"k": k, "i": i}, {"o": i}, "fp")

    ts = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    log.close()
    lines = open(path).read().splitlines()
    assert (
        len(lines) == 4000 and len({(json.loads(x)["input"]["k"], json.loads(x)["input"]["i"]) for x in lines}) == 4000
    )


def test_failing_sink_never_raises(fitted, tmp_path):
    os.makedirs(tmp_path / "ro")
    target = tmp_path / "ro" / "dir-not-file"
    os.makedirs(target)  # opening a directory as a file fails (like a permission error)
    log = ServingLogger(str(target), flush_rows=1, background=False)
    out = fitted.transform_row({"tenure_days": 1, "num_support_tickets": 0}, log=log)
    assert out
    log.close()
    assert log.dropped == 1 and isinstance(log.last_error, OSError)

    def broken(rec):
        raise OSError(28, "No space left on device")

    log = ServingLogger(broken, background=False, flush_rows=1)
    fitted.transform_row({"tenure_days": 1, "num_support_tickets": 0}, log=log)
    log.close()
    assert log.dropped == 1 and "No space" in str(log.last_error)
    # a plain callable that raises does not break serving either (it is warned about instead)
    with pytest.warns(LogSinkWarning, match="ZeroDivisionError"):
        assert fitted.transform_row({"tenure_days": 1, "num_support_tickets": 0}, log=lambda *a: 1 / 0)


def test_exported():
    assert fk.ServingLogger is ServingLogger
