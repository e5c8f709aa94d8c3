"""parity.check / replay / assert_parity on the compiled paths, and the CLI."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import featurekit as fk
from featurekit import parity
from featurekit.datasets import make_churn, to_rows

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def churn():
    spec = fk.load_spec(ROOT / "specs" / "churn.yaml")
    return spec.fit(make_churn(3_000, seed=5)), make_churn(500, seed=6, evaluation=True)


def test_check_agrees_on_churn_with_generated_edges(churn):
    fitted, evaluation = churn
    report = parity.check(fitted, evaluation, fuzz=1000, seed=0)
    assert report.ok, report.to_text(color=False)
    assert report.generated_rows > 1000 and report.given_rows == 500
    parity.assert_parity(fitted, evaluation, fuzz=200)


def test_replay_finds_a_patched_serving_output(churn, tmp_path):
    fitted, evaluation = churn
    log = tmp_path / "serving.jsonl"
    with log.open("w") as fh:
        for i, row in enumerate(to_rows(evaluation[:50])):
            out = fitted.transform_row(row)
            if i == 7:
                out["country_idx"] = 3  # a serving-side patch
            record = {
                "input": {k: ({"datetime": v.isoformat()} if hasattr(v, "isoformat") else v) for k, v in row.items()},
                "output": out,
            }
            fh.write(json.dumps(record) + "\n")
    report = parity.replay(fitted, str(log))
    assert [c.column for c in report.failing] == ["country_idx"]
    assert report.failing[0].mismatches == 1 and report.failing[0].examples[0].row == 7


def test_cli_parity_exit_codes_and_junit(churn, tmp_path):
    fitted, evaluation = churn
    art = fitted.save(tmp_path / "art")
    evaluation.to_parquet(tmp_path / "eval.parquet")
    (tmp_path / "serving_bug.py").write_text(
        "import featurekit as fk\n"
        f"_f = fk.load({str(art)!r})\n"
        "def features(row):\n"
        "    out = _f.transform_row(row)\n"
        "    out['device_missing'] = 0\n"
        "    return out\n"
    )
    base = [
        sys.executable,
        "-m",
        "featurekit.cli",
        "parity",
        str(art),
        "--data",
        str(tmp_path / "eval.parquet"),
        "--fuzz",
        "200",
    ]
    ok = subprocess.run(
        base + ["--format", "junit", "--output", str(tmp_path / "p.xml")], capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    assert 'failures="0"' in (tmp_path / "p.xml").read_text()
    bad = subprocess.run(
        base + ["--serving", "serving_bug:features", "--format", "json"], capture_output=True, text=True, cwd=tmp_path
    )
    assert bad.returncode == 1, bad.stderr
    payload = json.loads(bad.stdout)
    assert not payload["ok"] and any(c["column"] == "device_missing" and c["mismatches"] for c in payload["columns"])
    usage = subprocess.run(base + ["--serving", "nomodule:x"], capture_output=True, text=True, cwd=tmp_path)
    assert usage.returncode == 2 and "cannot import" in usage.stderr


def _half_up(x):
    return x / 2.0


def _half_up_vectorized(x):  # deliberately skewed: 1 ULP up wherever x > 10
    import numpy as np

    half = x / 2.0
    return np.where(x > 10.0, np.nextafter(half, np.inf), half)


def test_first_divergent_op_is_named_for_a_broken_op(monkeypatch):
    udf_module = importlib.import_module("featurekit.udf")  # featurekit.udf is also the decorator
    monkeypatch.setattr(udf_module, "_UDFS", dict(udf_module._UDFS))  # the skewed function stays in this test
    fk.register_udf(_half_up, name="fk_test_half_skewed", dtype="float", args=["float"], vectorized=_half_up_vectorized)
    spec = fk.spec_from_yaml(
        "featurekit: 1\nname: broken\nversion: 1.0.0\ninputs: {x: {type: float}}\n"
        'features:\n  ok: x * 2.0\n  h: udf(x, fn="fk_test_half_skewed") * 3.0\n'
    )
    fitted = spec.fit([{"x": float(i)} for i in range(30)])
    report = parity.check(fitted, [{"x": 3.0}, {"x": 25.0}], fuzz=0)
    assert [c.column for c in report.failing] == ["h"], report.to_text(color=False)
    example = report.failing[0].examples[0]
    assert example.kind == "value" and example.reproducer is not None
    # named at the udf where the difference starts, not at the mul that carries it to the output
    assert re.fullmatch(
        r"udf\(code_sha256='[0-9a-f]{64}', fn='fk_test_half_skewed'\) in feature 'h': batch 12.500000000000002 vs row 12.5",
        example.first_divergent_op,
    ), example
