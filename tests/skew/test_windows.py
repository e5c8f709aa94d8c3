"""Skew per time window (``by="day"|"hour"``): the conftest drift starts on day 14."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from featurekit.serving_log import SkewInputError
from featurekit.skew import skew_report
from featurekit.skew.prometheus import render_prometheus

from .conftest import START

DRIFT_DAY = (dt.datetime.fromtimestamp(START, dt.UTC) + dt.timedelta(days=14)).isoformat()


@pytest.fixture(scope="module")
def by_day(fitted, drifted_log):
    return skew_report(fitted, drifted_log, by="day")


def test_windows_cover_every_day_and_record(by_day):
    assert len(by_day.windows) == 21
    assert [w["records"] for w in by_day.windows] == [600] * 21
    assert by_day.windows[0]["start"] == dt.datetime.fromtimestamp(START, dt.UTC).isoformat()
    assert by_day.windows[14]["start"] == DRIFT_DAY


@pytest.mark.parametrize(
    ("column", "metric"),
    [("input:avg_session_minutes", "psi"), ("input:device", "null_rate"), ("input:country", "unseen_rate")],
)
def test_drift_is_within_threshold_before_day_14_and_over_after(by_day, column, metric):
    series = by_day.columns[column]["windows"][metric]
    assert [p["start"] for p in series] == [w["start"] for w in by_day.windows]
    assert [p["failed"] for p in series] == [False] * 14 + [True] * 7
    assert all(p["records"] == 600 and p["value"] <= p["threshold"] for p in series[:14])


def test_whole_log_report_is_unchanged_by_windows(fitted, drifted_log, by_day):
    plain = skew_report(fitted, drifted_log)
    strip = {k: {m: v for m, v in c.items() if m != "windows"} for k, c in by_day.to_dict()["columns"].items()}
    assert strip == plain.to_dict()["columns"]
    assert [f.message for f in plain.sorted_findings()] == [f.message for f in by_day.sorted_findings()]
    assert "windows" not in plain.to_dict() and "windows" not in plain.to_dict()["columns"]["input:device"]


def test_text_names_the_first_failed_window(by_day):
    text = by_day.to_text()
    assert "windows by day: 21" in text
    assert f"input:device null_rate: first failed in window {DRIFT_DAY}" in text


def test_json_carries_the_series(by_day):
    data = json.loads(by_day.to_json())
    assert data["by"] == "day" and len(data["windows"]) == 21
    point = data["columns"]["input:device"]["windows"]["null_rate"][14]
    assert point["start"] == DRIFT_DAY and set(point) == {"start", "records", "value", "threshold", "failed"}


def test_records_without_time_go_to_unknown(fitted, drifted_log):
    with open(drifted_log, encoding="utf-8") as fh:
        recs = [json.loads(line) for _, line in zip(range(1500), fh)]
    for r in recs[:100]:
        del r["time"]
    report = skew_report(fitted, recs, by="hour")
    assert report.windows[-1] == {"start": "unknown", "records": 100}
    assert sum(w["records"] for w in report.windows) == 1500
    # 25 records an hour; the first 100 (hours 0-3) lost their time
    assert report.windows[:2] == [
        {"start": "2026-01-05T04:00:00+00:00", "records": 25},
        {"start": "2026-01-05T05:00:00+00:00", "records": 25},
    ]
    assert "100 record(s) without a time in 'unknown'" in report.to_text()


def test_unknown_window_size_is_an_error(fitted, drifted_log):
    with pytest.raises(SkewInputError, match="unknown window"):
        skew_report(fitted, drifted_log, by="week")


def test_prometheus_has_one_sample_per_window(by_day):
    from prometheus_client.parser import text_string_to_metric_families

    text = render_prometheus(by_day.to_dict())
    samples = [
        s
        for fam in text_string_to_metric_families(text.replace("# EOF\n", ""))
        for s in fam.samples
        if s.name == "featurekit_skew_null_rate" and s.labels["column"] == "device"
    ]
    windows = {s.labels["window"]: s.value for s in samples}
    assert set(windows) == {"all"} | {w["start"] for w in by_day.windows}
    assert windows[DRIFT_DAY] == by_day.columns["input:device"]["windows"]["null_rate"][14]["value"]


def test_cli_by_day(fitted, drifted_log, tmp_path, capsys):
    from featurekit.cli import main

    fitted.save(str(tmp_path / "model"))
    code = main(["skew", str(tmp_path / "model"), "--log", drifted_log, "--by", "day", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1 and data["by"] == "day"
    assert [p["failed"] for p in data["columns"]["input:device"]["windows"]["null_rate"]] == [False] * 14 + [True] * 7


def test_html_has_a_sparkline_per_windowed_metric(by_day):
    page = by_day.to_html()
    assert "<script" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    block = page.split('id="col-input:device"')[1].split("</details>")[0]
    spark = block.split('data-metric="null_rate"')[1].split("</div>")[0]
    assert spark.count("<circle") == 21 and spark.count('class="over"') == 7
    assert f"first over in {DRIFT_DAY}" in spark


@pytest.mark.parametrize("module", ["featurekit.skew.windows", "featurekit.skew.html", "featurekit.skew.prometheus"])
def test_docstring_examples_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
