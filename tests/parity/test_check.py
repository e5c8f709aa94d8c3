"""parity.check / replay / assert_parity on the compiled paths, and the CLI."""

from __future__ import annotations

import json
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
