"""Smoke test for benchmarks/quantile_sketch.py: it runs end to end, checks its errors against
the declared bound and writes the expected JSON (no timing assertions)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quantile_sketch_benchmark_quick(tmp_path):
    out = tmp_path / "q.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "quantile_sketch.py"),
            "--rows",
            "50000",
            "--chunk",
            "7000",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    doc = json.loads(out.read_text())
    assert doc["within_bound"] is True
    assert [f["family"] for f in doc["families"]] == ["lognormal", "bimodal", "heavy_tailed", "many_ties", "constant"]
    for family in doc["families"]:
        assert [a["eps"] for a in family["approx"]] == [0.01, 0.001, 0.0001]
        assert all(0 <= a["max_fraction_of_bound"] <= 1 for a in family["approx"])
    assert [r["approx"] for r in doc["spec_fit"]] == [None, 0.01, 0.001, 0.0001]
