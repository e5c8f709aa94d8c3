"""Serving logger reliability (issue 17 items 2, 3, 20, 23): one bad record, a full disk, a
raising ``log=`` sink and the logged fields.

Every file here is real: the logger writes to ``tmp_path`` and the file-size limit is the
kernel's (``RLIMIT_FSIZE`` in a subprocess).
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
import threading
import warnings

import numpy as np
import pytest

import featurekit as fk
from featurekit import logger as logger_module
from featurekit.logger import LogSinkWarning, ServingLogger, sink_failures
from featurekit.parity import replay
from featurekit.skew import skew_report

from ._common import churn_fitted, churn_rows

SPEC = """
featurekit: 1
name: logged
version: 0.1.0
inputs:
  n: {type: int, max: 1000, on_violation: "null"}
  plan: {type: category}
features:
  n_plus: coalesce(n, 0) + 1
  plan_h: hash_bucket(plan, num_buckets=8)
"""


def _lines(path):
    """Every line of ``path`` parsed as JSON (fails on a torn or glued line)."""
    with open(path, "rb") as fh:
        data = fh.read()
    assert data == b"" or data.endswith(b"\n"), data[-80:]
    return [json.loads(line) for line in data.splitlines()]


@pytest.fixture(scope="module")
def small():
    spec = fk.spec_from_yaml(SPEC)
    return spec.fit([{"n": i, "plan": "abc"[i % 3]} for i in range(30)])


# -- item 2: one unencodable record costs only itself -------------------------------------------


def test_unencodable_record_drops_alone_file_sink(small, tmp_path):
    path = tmp_path / "s.jsonl"
    log = ServingLogger(str(path), extra_fields="*", flush_rows=1000, background=False)
    for i in range(100):
        row = {"n": i, "plan": "a"}
        if i == 30:
            row["n"] = 10**5000  # on_violation: null serves it; its digits cannot be printed
        if i == 60:
            row["blob"] = np.arange(3)  # an array in an extra field
        if i == 90:
            row["note"] = "lone \ud800 surrogate"  # encodable with \u escapes: kept
        assert small.transform_row(row, log=log)["n_plus"] == (1 if i == 30 else i + 1)
    log.close()
    recs = _lines(path)
    assert [r["input"]["n"] for r in recs] == [i for i in range(100) if i not in (30, 60)]
    assert recs[-10]["input"]["note"] == "lone \ud800 surrogate"
    assert (log.logged, log.unencodable, log.dropped) == (98, 2, 2)
    assert log.stats()["unencodable"] == 2 and log.last_error is not None


def test_unencodable_record_drops_alone_callable_sink(small):
    got = []
    log = ServingLogger(got.append, flush_rows=1000, background=False)
    for i in range(10):
        small.transform_row({"n": 10**5000 if i == 3 else i, "plan": "b"}, log=log)
    log.close()
    # a callable sink receives the record dict: a long int is a valid Python value there
    assert len(got) == 10 and log.unencodable == 0
    bad = ServingLogger(got.append, extra_fields="*", flush_rows=1000, background=False)

    class Unprintable:
        def __str__(self):
            raise RuntimeError("no str")

    for i in range(10):
        small.transform_row({"n": i, "plan": "b", "x": Unprintable() if i == 4 else 1}, log=bad)
    bad.close()
    assert (bad.logged, bad.unencodable, bad.dropped) == (9, 1, 1)


def test_one_clients_bad_records_never_keep_others_out(small, tmp_path):
    path = tmp_path / "s.jsonl"
    log = ServingLogger(str(path), extra_fields="*", flush_rows=16)

    def client(k):
        for i in range(200):
            row = {"n": i, "plan": "c", "client": k}
            if k == 0:
                row["blob"] = np.ones(2)  # every record of client 0 is unencodable
            small.transform_row(row, log=log)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.close()
    recs = _lines(path)
    assert sorted((r["input"]["client"], r["input"]["n"]) for r in recs) == [
        (k, i) for k in (1, 2, 3) for i in range(200)
    ]
    assert (log.logged, log.unencodable, log.dropped) == (600, 200, 200)


# -- item 3: a failing write never tears a line ---------------------------------------------------


class _DiskFull:
    """``os`` with a disk that holds ``budget`` more bytes: writes are cut short, then ENOSPC."""

    def __init__(self, budget):
        self.budget = budget

    def __getattr__(self, name):
        return getattr(os, name)

    def write(self, fd, data):
        if self.budget <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        n = os.write(fd, bytes(data[: self.budget]))
        self.budget -= n
        return n


def test_disk_full_rolls_back_to_the_last_whole_record(monkeypatch, tmp_path):
    disk = _DiskFull(3000)
    monkeypatch.setattr(logger_module, "os", disk)
    path = tmp_path / "s.jsonl"
    log = ServingLogger(str(path), flush_rows=7, background=False, max_bytes=0)
    for i in range(100):
        log({"i": i, "pad": "x" * (i % 37)}, {"o": i}, "fp")
    log.flush()
    recs = _lines(path)
    assert 0 < len(recs) == log.logged < 100
    assert log.logged + log.dropped == 100 and log.unencodable == 0
    assert os.path.getsize(path) <= 3000 and log.last_error.errno == errno.ENOSPC
    disk.budget = 10**9  # space again: the next records start on a line of their own
    for i in range(100, 120):
        log({"i": i}, {"o": i}, "fp")
    log.close()
    recs = _lines(path)
    assert len(recs) == log.logged and log.logged + log.dropped == 120
    assert [r["input"]["i"] for r in recs][-20:] == list(range(100, 120))


_FSIZE_CHILD = textwrap.dedent("""
    import json, resource, sys
    from featurekit.logger import ServingLogger

    path, limit = sys.argv[1], int(sys.argv[2])
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    log = ServingLogger(path, flush_rows=7, background=False, max_bytes=0)
    for i in range(400):
        log({"i": i, "pad": "x" * (i % 41)}, {"o": i}, "fp")
    log.flush()
    first = log.stats()
    first["errno"] = getattr(log.last_error, "errno", None)
    resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))
    for i in range(400, 410):
        log({"i": i}, {"o": i}, "fp")
    log.close()
    print(json.dumps({"first": first, "final": log.stats()}))
""")


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_file_size_limit_in_a_subprocess_keeps_the_file_line_valid(tmp_path):
    path = tmp_path / "s.jsonl"
    limit = 20_000
    proc = subprocess.run(
        [sys.executable, "-c", _FSIZE_CHILD, str(path), str(limit)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(proc.stdout)
    first, final = report["first"], report["final"]
    assert first["errno"] == errno.EFBIG
    assert 0 < first["logged"] < 400 and first["logged"] + first["dropped"] == 400
    assert final["logged"] == first["logged"] + 10 and final["dropped"] == first["dropped"]
    recs = _lines(path)
    assert len(recs) == final["logged"]
    ids = [r["input"]["i"] for r in recs]
    # whole records only, in order; a later, shorter record may still fit where a longer one did not
    assert ids == sorted(set(ids)) and ids[-10:] == list(range(400, 410))
    assert (
        ids[:100] == list(range(100))
        and os.path.getsize(path) - sum(len(json.dumps(r)) + 1 for r in recs[-10:]) <= limit
    )


def test_a_torn_tail_left_by_a_crashed_writer_stays_apart(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_bytes(b'{"time": "t", "input": {"i": 0}}\n{"time": "t", "inp')
    with ServingLogger(str(path), background=False) as log:
        log({"i": 1}, {"o": 1}, "fp")
    lines = path.read_bytes().splitlines()
    assert lines[1] == b'{"time": "t", "inp' and json.loads(lines[2])["input"] == {"i": 1}


_WRITER = textwrap.dedent("""
    import sys
    from featurekit.logger import ServingLogger

    log = ServingLogger(sys.argv[1], flush_rows=3, background=False, max_bytes=0)
    for i in range(1500):
        log({"w": sys.argv[2], "i": i, "pad": "y" * (i % 300)}, {"o": i}, "fp")
    log.close()
    assert log.logged == 1500, log.stats()
""")


def test_two_processes_append_whole_records(tmp_path):
    path = tmp_path / "s.jsonl"
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(path), w]) for w in "ab"]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    recs = _lines(path)
    assert sorted((r["input"]["w"], r["input"]["i"]) for r in recs) == [(w, i) for w in "ab" for i in range(1500)]


# -- item 20: the log= sink protocol ---------------------------------------------------------------


def test_sink_protocol_arguments(small):
    calls = []

    def sink(row, out, fingerprint, inputs):
        calls.append((row, out, fingerprint, inputs))

    row = {"n": 3, "plan": "a", "extra": 1}
    out = small.transform_row(row, log=sink)
    ((r, o, fp, inputs),) = calls
    assert r is row and o == out and fp == small.fingerprint and type(fp) is str
    assert inputs == ("n", "plan") == tuple(i.name for i in small.spec.inputs)


def test_a_raising_sink_warns_once_and_is_counted(small):
    got = []

    def one_arg_sink(record):  # the wrong signature: a ServingLogger path-sink, passed as log=
        got.append(record)

    name = f"{__name__}.test_a_raising_sink_warns_once_and_is_counted.<locals>.one_arg_sink"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(3):
            row = {"n": i, "plan": "a"}
            assert small.transform_row(row, log=one_arg_sink) == small.transform_row(row)
    mine = [w for w in caught if issubclass(w.category, LogSinkWarning)]
    assert len(mine) == 1 and not got
    msg = str(mine[0].message)
    assert name in msg and "TypeError" in msg and "sink(row, out, fingerprint, inputs)" in msg and "Fix:" in msg
    assert mine[0].filename == __file__  # points at the caller's transform_row line
    assert sink_failures()[name] == 3


# -- item 23: which request fields reach the disk ---------------------------------------------------


def test_default_logs_declared_inputs_only(tmp_path):
    fitted = churn_fitted()
    path = tmp_path / "s.jsonl"
    rows = churn_rows()[:120]
    with ServingLogger(str(path), background=False) as log:
        for i, row in enumerate(rows):
            fitted.transform_row(dict(row, email=f"user{i}@example.com", session_token="secret"), log=log)
    recs = _lines(path)
    declared = {i.name for i in fitted.spec.inputs}
    assert len(recs) == 120
    assert all(set(r["input"]) <= declared for r in recs)
    assert all(r["omitted"] == ["email", "session_token"] for r in recs)
    assert "example.com" not in path.read_text() and "secret" not in path.read_text()
    # the skew report still counts the undeclared fields, and parity --log still replays the log
    report = skew_report(fitted, str(path))
    found = {(f.column, f.metric) for f in report.failing}
    assert {("email", "unexpected_field"), ("session_token", "unexpected_field")} <= found
    assert not [f for f in report.failing if f.metric in ("missing_field", "mismatch_rate", "unparseable_records")]
    assert replay(fitted, str(path)).ok


def test_extra_fields_opt_in(small, tmp_path):
    path = tmp_path / "s.jsonl"
    with ServingLogger(str(path), extra_fields=["request_id"], background=False) as log:
        small.transform_row({"n": 1, "plan": "a", "request_id": "r1", "email": "e"}, log=log)
    with ServingLogger(str(path), extra_fields="*", background=False) as log:
        small.transform_row({"n": 2, "plan": "a", "request_id": "r2", "email": "e"}, log=log)
    first, second = _lines(path)
    assert first["input"] == {"n": 1, "plan": "a", "request_id": "r1"} and first["omitted"] == ["email"]
    assert second["input"] == {"n": 2, "plan": "a", "request_id": "r2", "email": "e"} and "omitted" not in second
    with pytest.raises(ValueError, match=r"extra_fields=\['request_id'\]"):
        ServingLogger(str(path), extra_fields="request_id")


def test_omitted_names_are_bounded(small, tmp_path):
    path = tmp_path / "s.jsonl"
    row = {"n": 1, "plan": "a", **{f"f{i}" * 100: i for i in range(1000)}}
    with ServingLogger(str(path), background=False) as log:
        small.transform_row(row, log=log)
    (rec,) = _lines(path)
    assert len(rec["omitted"]) == logger_module.OMITTED_NAMES and max(map(len, rec["omitted"])) == 200
