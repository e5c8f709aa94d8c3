"""`featurekit skew --format prometheus`: gauges validated by prometheus_client's own parsers."""

from __future__ import annotations

import math

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_prometheus

from featurekit.cli import main
from featurekit.skew import skew_report
from featurekit.skew.prometheus import render_prometheus

from .conftest import BUG_COLUMN


@pytest.fixture(scope="module")
def drifted(fitted, drifted_log):
    report = skew_report(fitted, drifted_log)
    return report, render_prometheus(report.to_dict(), window="2026-01-05")


def _samples(text: str, parser=parse_prometheus) -> dict[tuple[str, frozenset], float]:
    return {(s.name, frozenset(s.labels.items())): s.value for fam in parser(text) for s in fam.samples}


def test_every_check_is_one_sample_with_its_value_threshold_and_verdict(drifted):
    report, text = drifted
    samples = _samples(text)
    doc = report.to_dict()
    checked = 0
    for key, info in doc["columns"].items():
        role, _, column = key.partition(":")
        for metric, check in info["metrics"].items():
            family, _, feature = metric.partition("[")
            labels = {"column": column, "role": role, "fingerprint": report.fingerprint, "window": "2026-01-05"}
            if feature or "feature" in check:
                labels["feature"] = feature.rstrip("]") or check["feature"]
            value = samples[(f"featurekit_skew_{family}", frozenset(labels.items()))]
            assert value == check["value"] or (math.isnan(value) and check["value"] is None)
            with_metric = frozenset({**labels, "metric": family}.items())
            assert samples[("featurekit_skew_threshold", with_metric)] == check["threshold"]
            assert samples[("featurekit_skew_over_threshold", with_metric)] == float(check["failed"])
            checked += 1
    assert checked > 20
    base = frozenset({"fingerprint": report.fingerprint, "window": "2026-01-05"}.items())
    assert samples[("featurekit_skew_records", base)] == report.records
    assert samples[("featurekit_skew_ok", base)] == 0.0
    critical = frozenset({*base, ("severity", "critical")})
    assert samples[("featurekit_skew_findings", critical)] == sum(f.severity == "critical" for f in report.findings)


def test_the_injected_bug_is_over_threshold(drifted):
    report, text = drifted
    labels = {"column": BUG_COLUMN, "role": "output", "fingerprint": report.fingerprint, "window": "2026-01-05"}
    samples = _samples(text)
    assert samples[("featurekit_skew_over_threshold", frozenset({**labels, "metric": "mismatch_rate"}.items()))] == 1


def test_text_is_valid_openmetrics_too(drifted):
    _, text = drifted
    assert text.endswith("# EOF\n")
    assert _samples(text, parse_openmetrics) == _samples(text)


def test_label_values_are_escaped():
    odd = 'a"b\\c\nd'
    doc = {"fingerprint": "f", "records": 1, "ok": True, "findings": [], "period": None}
    doc["columns"] = {f"input:{odd}": {"role": "input", "metrics": {"null_rate": {"value": 0.5, "threshold": 1.0}}}}
    [sample] = [
        s for fam in parse_prometheus(render_prometheus(doc)) if fam.name.endswith("null_rate") for s in fam.samples
    ]
    assert sample.labels["column"] == odd and sample.value == 0.5


def test_cli_writes_a_textfile_atomically(fitted, drifted_log, tmp_path, capsys):
    art = fitted.save(str(tmp_path / "art"))
    out = tmp_path / "featurekit_skew.prom"
    code = main(["skew", art, "--log", drifted_log, "--format", "prometheus", "--output", str(out)])
    assert code == 1  # drift found: the exit code still says so
    samples = _samples(out.read_text())
    assert any(name == "featurekit_skew_psi" for name, _ in samples)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".featurekit-")] == []
    assert main(["skew", art, "--log", drifted_log, "--format", "prometheus"]) == 1
    assert _samples(capsys.readouterr().out) == samples
