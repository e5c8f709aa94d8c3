"""Thresholds from the spec's ``monitoring:`` section: defaults < spec < --thresholds, per key and
per column; ``min_samples`` and ``severity`` per column (churn logs, drift from day 14)."""

from __future__ import annotations

import copy
import json
import os

import pytest

import featurekit as fk
from featurekit.cli import main
from featurekit.skew import DEFAULT_THRESHOLDS, skew_report

from .conftest import ROOT


def _with_monitoring(fitted, monitoring):
    """``fitted`` with its spec carrying ``monitoring`` (same fingerprint, same state)."""
    data = fitted.spec.to_dict()
    data["monitoring"] = monitoring
    spec = fk.spec_from_dict(data)
    assert spec.fingerprint == fitted.spec.fingerprint
    out = copy.copy(fitted)
    out.spec = spec
    return out


def _failing(report):
    return {(f.column, f.metric): f.severity for f in report.failing}


def test_spec_thresholds_apply_and_the_file_wins(tmp_path, fitted, drifted_log):
    watched = _with_monitoring(fitted, {"null_rate": 0.9, "columns": {"country": {"unseen_rate": 0.9}}})
    report = skew_report(watched, drifted_log)
    assert report.thresholds["null_rate"] == 0.9
    assert report.thresholds["psi"] == DEFAULT_THRESHOLDS["psi"]
    failing = _failing(report)
    assert ("device", "null_rate") not in failing and ("country", "unseen_rate") not in failing
    assert any(c == "avg_session_minutes" for c, _ in failing)  # untouched thresholds still fire
    side = tmp_path / "t.yaml"
    side.write_text("monitoring:\n  columns: {country: {unseen_rate: 0.01}}\n")
    report = skew_report(watched, drifted_log, str(side))
    assert report.thresholds["null_rate"] == 0.9  # the spec's global key survives the file
    assert report.thresholds["columns"]["country"] == {"unseen_rate": 0.01}
    assert ("country", "unseen_rate") in _failing(report)


def test_per_column_keys_merge(fitted, drifted_log):
    watched = _with_monitoring(fitted, {"columns": {"country": {"unseen_rate": 0.9, "severity": "critical"}}})
    report = skew_report(watched, drifted_log, {"columns": {"country": {"unseen_rate": 0.001}}})
    assert report.thresholds["columns"]["country"] == {"unseen_rate": 0.001, "severity": "critical"}
    assert _failing(report)[("country", "unseen_rate")] == "critical"


def test_severity_of_a_column(fitted, drifted_log):
    default = _failing(skew_report(fitted, drifted_log))
    assert default[("device", "null_rate")] == "warning"
    report = skew_report(_with_monitoring(fitted, {"columns": {"device": {"severity": "critical"}}}), drifted_log)
    failing = _failing(report)
    assert failing[("device", "null_rate")] == "critical"
    assert failing[("country", "unseen_rate")] == default[("country", "unseen_rate")]


def test_min_samples_holds_back_failing_findings(fitted, drifted_log):
    watched = _with_monitoring(fitted, {"columns": {"country": {"min_samples": 10**9}, "device": {"min_samples": 5}}})
    report = skew_report(watched, drifted_log)
    assert not [f for f in report.failing if f.column == "country"]
    (note,) = [f for f in report.findings if f.column == "country"]
    assert (note.severity, note.metric, note.threshold) == ("info", "min_samples", 10.0**9)
    assert note.value == report.columns["input:country"]["records"]
    assert "held back" in note.message
    assert report.columns["input:country"]["metrics"]["unseen_rate"]["failed"]  # still measured
    assert ("device", "null_rate") in _failing(report)  # enough records: judged as usual


def test_monitoring_is_not_in_the_fingerprint_and_survives_save_and_load(tmp_path):
    text = open(os.path.join(ROOT, "specs", "churn.yaml"), encoding="utf-8").read()
    plain = fk.spec_from_yaml(text)
    section = "monitoring:\n  psi: 0.3\n  z: 3\n  columns:\n    country: {unseen_rate: 0.2, min_samples: 50, severity: critical}\n"
    spec = fk.spec_from_yaml(text + section)
    assert spec.fingerprint == plain.fingerprint and spec.feature_fingerprints == plain.feature_fingerprints
    expected = {
        "psi": 0.3,
        "z": 3.0,
        "columns": {"country": {"unseen_rate": 0.2, "min_samples": 50, "severity": "critical"}},
    }
    assert spec.monitoring == expected
    assert fk.spec_from_yaml(spec.to_yaml()).monitoring == expected
    assert "monitoring" not in plain.to_dict()
    data = fk.datasets.make_churn(500, seed=0)
    fitted = spec.fit(data)
    assert fitted.fingerprint == plain.fit(data).fingerprint  # the artifact fingerprint too
    path = fitted.save(str(tmp_path / "artifact"))
    loaded = fk.load(path)
    assert loaded.spec.monitoring == expected
    assert loaded.spec.fingerprint == plain.fingerprint and loaded.fingerprint == fitted.fingerprint
    shown = loaded.describe()
    assert "monitoring (skew report thresholds; not part of the fingerprint):" in shown
    assert "psi                      0.3" in shown
    assert "country                  unseen_rate 0.2, min_samples 50, severity critical" in shown
    assert "monitoring" not in plain.describe()


def test_dsl_takes_monitoring():
    from featurekit import dsl

    spec = dsl.spec(
        "tiny",
        "1.0.0",
        inputs={"x": "float"},
        features={"y": dsl.log1p(dsl.col("x"))},
        monitoring={"columns": {"y": {"psi": 1}}},
    )
    assert spec.monitoring == {"columns": {"y": {"psi": 1.0}}}
    with pytest.raises(fk.SpecError, match="did you mean 'psi'"):
        dsl.spec("tiny", "1.0.0", inputs={"x": "float"}, features={"y": "log1p(x)"}, monitoring={"pis": 1})


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("  pis: 0.3\n", "unknown threshold 'pis'.*did you mean 'psi'"),
        ("  columns:\n    contry: {psi: 1}\n", "'contry' is not an input or output column.*did you mean 'country'"),
        ("  columns:\n    country: {unseen_rat: 0.1}\n", "unknown threshold 'unseen_rat'.*did you mean 'unseen_rate'"),
        ("  columns:\n    country: {severity: loud}\n", "severity must be one of critical, warning, info"),
        ("  columns:\n    country: {min_samples: many}\n", "min_samples must be an integer"),
        ("  columns:\n    country: {unexpected_field: 0.1}\n", "unknown threshold 'unexpected_field'"),
        ("  psi: true\n", "psi must be a number"),
        ("  z: -1\n", "z must be at least 0"),
        ("  columns: [country]\n", "columns must map column"),
    ],
)
def test_monitoring_errors_name_file_line_key_and_fix(section, message):
    text = open(os.path.join(ROOT, "specs", "churn.yaml"), encoding="utf-8").read()
    with pytest.raises(fk.SpecError, match=f"(?s)churn.yaml:[0-9]+: monitoring: .*{message}") as info:
        fk.spec_from_yaml(text + "monitoring:\n" + section, path="churn.yaml")
    assert "Fix:" in str(info.value)


def test_one_hot_columns_and_intermediates():
    text = """featurekit: 1
name: t
version: 1.0.0
inputs: {c: {type: str, values: [a, b]}, x: float}
features:
  oh: one_hot(c, prefix="cc")
  hidden: x * 2
  y: hidden + 1
outputs: [oh, y]
monitoring:
  columns: {cc_a: {psi: 1}, c: {severity: info}, y: {min_samples: 3}}
"""
    assert set(fk.spec_from_yaml(text).monitoring["columns"]) == {"cc_a", "c", "y"}
    with pytest.raises(fk.SpecError, match="'hidden' is not an input or output column"):
        fk.spec_from_yaml(text.replace("y: {min_samples", "hidden: {min_samples"))


def test_cli_reads_the_saved_spec_monitoring(fitted, drifted_log, tmp_path, capsys):
    quiet = {"null_rate": 0.9, "psi": 9, "js": 1, "linf": 1, "unseen_rate": 1, "mismatch_rate": 1}
    art = _with_monitoring(fitted, quiet).save(str(tmp_path / "art"))
    assert main(["skew", art, "--log", drifted_log]) == 0  # every drift under the spec's thresholds
    side = tmp_path / "t.yaml"
    side.write_text("columns: {device: {null_rate: 0.02, severity: critical}}\n")
    out = tmp_path / "r.json"
    assert (
        main(["skew", art, "--log", drifted_log, "--thresholds", str(side), "--format", "json", "--output", str(out)])
        == 1
    )
    report = json.loads(out.read_text(encoding="utf-8"))
    failing = [(f["column"], f["metric"], f["severity"]) for f in report["findings"] if f["severity"] != "info"]
    assert failing == [("device", "null_rate", "critical")]
    assert report["thresholds"]["psi"] == 9
    capsys.readouterr()
