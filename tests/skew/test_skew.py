"""Skew report: three weeks of simulated churn serving logs with injected drift."""

from __future__ import annotations

import json
import os
from html.parser import HTMLParser

import pytest

import featurekit as fk
from featurekit.cli import main
from featurekit.skew import SCHEMA_VERSION, load_thresholds, read_log, skew_report

from .conftest import BUG_COLUMN, serve

EXPECTED = {
    ("country", "data", "unseen_rate"),  # a new category
    ("avg_session_minutes", "data"),  # a shifted mean (psi or js)
    ("device", "data", "null_rate"),  # a null spike
    (BUG_COLUMN, "transformation", "mismatch_rate"),  # a serving-side bug
}


def _key(f):
    if f.column == "avg_session_minutes":
        return (f.column, f.kind)
    return (f.column, f.kind, f.metric)


@pytest.fixture(scope="module")
def clean_report(fitted, clean_log):
    return skew_report(fitted, clean_log)


@pytest.fixture(scope="module")
def drifted_report(fitted, drifted_log):
    return skew_report(fitted, drifted_log)


def test_undrifted_log_raises_nothing(clean_report):
    assert clean_report.records == 21 * 600
    assert clean_report.findings == [], clean_report.to_text()
    assert clean_report.ok


def test_injected_drift_is_found_exactly(drifted_report):
    failing = {_key(f) for f in drifted_report.failing}
    assert failing == EXPECTED, drifted_report.to_text()
    kinds = {f.column: f.kind for f in drifted_report.failing}
    assert kinds[BUG_COLUMN] == "transformation"
    bug = next(f for f in drifted_report.failing if f.kind == "transformation")
    assert bug.severity == "critical" and bug.remedy_kind == "close"
    ex = drifted_report.transformation["columns"][BUG_COLUMN]["examples"]
    assert ex and ex[0]["kind"] == "value"
    # downstream findings are explained, not failing
    for f in drifted_report.findings:
        if not f.failing:
            assert f.derived_from and f.remedy_kind == "monitor"
    unseen = next(f for f in drifted_report.failing if f.metric == "unseen_rate")
    assert "country_idx" in unseen.message and "XQ" in unseen.message
    assert "OOV" in unseen.remedy


def test_small_sample_does_not_alarm_where_large_does_not(fitted, rows, tmp_path):
    # a mild shift: below the large-sample threshold; the small sample must stay quiet too
    def mild(day, i, row):
        if row.get("avg_session_minutes") is not None:
            row["avg_session_minutes"] *= 1.03
        return row

    big = str(tmp_path / "big.jsonl")
    small = str(tmp_path / "small.jsonl")
    serve(fitted, rows, big, drift=mild)
    serve(fitted, rows, small, drift=mild, days=1, per_day=200)
    r_big, r_small = skew_report(fitted, big), skew_report(fitted, small)
    assert r_big.ok, r_big.to_text()
    assert r_small.ok, r_small.to_text()
    # the noise bound shrinks with n: the small sample's thresholds are larger
    m_small = r_small.columns["input:avg_session_minutes"]["metrics"]["psi"]["threshold"]
    m_big = r_big.columns["input:avg_session_minutes"]["metrics"]["psi"]["threshold"]
    assert m_small > m_big


def test_other_fingerprint_is_a_state_finding(fitted, clean_log):
    records = list(read_log(clean_log))[:2000]
    for r in records[:100]:
        r["fingerprint"] = "0" * 64
    rep = skew_report(fitted, records)
    assert {(f.kind, f.metric) for f in rep.failing} == {("state", "fingerprint_mismatch")}


def test_schema_findings(fitted, clean_log):
    records = list(read_log(clean_log))[:3000]
    for r in records[:300]:
        r["input"].pop("tenure_days")
        r["input"]["new_field"] = 1
        r["input"]["monthly_spend"] = "12.5"
    rep = skew_report(fitted, records)
    found = {(f.column, f.kind, f.metric) for f in rep.failing}
    assert ("tenure_days", "schema", "missing_field") in found
    assert ("new_field", "schema", "unexpected_field") in found
    assert ("monthly_spend", "schema", "type_change") in found


def test_thresholds_yaml(tmp_path, fitted, drifted_log):
    p = tmp_path / "t.yaml"
    p.write_text("monitoring:\n  null_rate: 0.5\n  columns: {country: {unseen_rate: 0.9}}\n")
    t = load_thresholds(str(p))
    assert t["null_rate"] == 0.5
    rep = skew_report(fitted, drifted_log, t)
    metrics = {f.metric for f in rep.failing}
    assert "null_rate" not in metrics and "unseen_rate" not in metrics
    with pytest.raises(fk.FeaturekitError):
        load_thresholds({"nope": 1})


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sections, self.urls, self.svgs, self.tags = [], [], 0, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "section" and "finding" in (a.get("class") or ""):
            self.sections.append(a)
        if tag == "svg":
            self.svgs += 1
        for k in ("href", "src"):
            v = a.get(k) or ""
            if v and not v.startswith("#"):
                self.urls.append(v)
        if tag in ("script", "link", "img", "iframe"):
            self.urls.append(tag)


def test_html_report_structure(drifted_report):
    page = drifted_report.to_html()
    p = _Collector()
    p.feed(page)
    assert len(p.sections) == len(drifted_report.findings)
    assert {(s["data-column"], s["data-kind"]) for s in p.sections} >= {(c[0], c[1]) for c in EXPECTED}
    assert p.svgs >= 3
    assert (
        p.urls == []
        and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
        and "https://" not in page
    )
    assert "XQ" in page  # unseen categories shown


def test_formats(drifted_report):
    doc = json.loads(drifted_report.to_json())
    assert doc["schema_version"] == SCHEMA_VERSION and doc["ok"] is False
    assert doc["findings"][0]["severity"] == "critical"
    import xml.etree.ElementTree as ET

    suite = ET.fromstring(drifted_report.to_junit())
    assert int(suite.get("failures")) == len({(f.role, f.column) for f in drifted_report.failing})
    text = drifted_report.to_text()
    assert text.index("critical") < text.index("warning")


def test_cli(fitted, clean_log, drifted_log, tmp_path, capsys):
    art = fitted.save(str(tmp_path / "art"))
    html = tmp_path / "r.html"
    assert main(["skew", art, "--log", clean_log]) == 0
    assert (
        main(
            [
                "skew",
                art,
                "--log",
                os.path.join(os.path.dirname(drifted_log), "*.jsonl"),
                "--format",
                "json",
                "--html",
                str(html),
            ]
        )
        == 1
    )
    assert html.exists()
    assert main(["skew", art, "--log", str(tmp_path / "nothing-*.jsonl")]) == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("psi: [1\n")
    assert main(["skew", art, "--log", clean_log, "--thresholds", str(bad)]) == 2
    capsys.readouterr()
