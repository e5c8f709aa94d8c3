"""Smoke test for benchmarks/run.py: it runs end to end and writes the expected JSON.

No timing assertions: only structure and the correctness check (featurekit batch == row bit
for bit; featurekit vs the hand-written baseline differs only by ~1 ULP in spend_z/session_z).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / "benchmarks" / "run.py"
HANDWRITTEN = ROOT / "benchmarks" / "churn_handwritten.py"


@pytest.mark.skipif(not HANDWRITTEN.exists(), reason="benchmarks/churn_handwritten.py not present")
def test_run_quick(tmp_path):
    out = tmp_path / "bench.json"
    cmd = [
        sys.executable,
        str(RUN),
        "--quick",
        "--sizes",
        "2000",
        "--no-onnx",
        "--repeats",
        "2",
        "--sklearn-row-calls",
        "10",
        "--out",
        str(out),
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "row p50" in proc.stdout
    doc = json.loads(out.read_text())
    assert {"machine", "method", "results", "correctness_passed"} <= set(doc)
    assert {"platform", "cpu_count", "python", "numpy", "pandas"} <= set(doc["machine"])
    (res,) = doc["results"]
    assert res["n"] == 2000
    for impl in ("featurekit", "handwritten"):
        assert {"fit_s", "batch_s", "batch_rows_per_s", "batch_memory", "row"} <= set(res[impl])
        assert {"p50_us", "p99_us", "calls"} <= set(res[impl]["row"])
        assert res[impl]["row"]["calls"] >= 5000
    assert "transform_rows_32" in res["featurekit"]
    assert "artifact_load" in res["featurekit"]
    assert res["sklearn"]["status"] == "ok", res["sklearn"]
    assert res["onnx"]["status"] == "skipped"
    for key in (
        "fk_over_hw_row_p50",
        "fk_over_hw_row_p99",
        "fk_over_hw_batch_throughput",
        "fk_over_hw_fit_time",
        "sklearn_over_fk_row_p50",
        "fk_over_sklearn_batch_throughput",
        "onnx_over_fk_row_p50",
    ):
        assert key in res["ratios"]
    co = res["correctness"]
    assert co["batch_equals_row_bit_exact"], co["batch_vs_row"]
    # log1p columns differ only on CPUs where numpy's SIMD log1p is not the C library's
    assert set(co["fk_vs_handwritten_differing_columns"]) <= {"spend_z", "session_z", "spend_log1p", "tickets_log1p"}, (
        co["fk_vs_handwritten"]
    )
    assert co["passed"], co
    assert doc["correctness_passed"]
