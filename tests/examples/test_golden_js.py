"""The Node.js port in examples/golden_js checks itself against exported golden vectors.

It passes on the real vectors, and fails (exit 1, naming vector and column) with its simulated
bug and against a copy of the vectors with one expected value moved by 1 ULP.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import pytest

import featurekit as fk
from featurekit.cli import main
from featurekit.datasets import make_churn

ROOT = Path(__file__).resolve().parents[2]
PORT = ROOT / "examples" / "golden_js" / "churn_port.js"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="node (Node.js >= 20) is not on PATH; the example needs it")


@pytest.fixture(scope="module")
def vectors(tmp_path_factory) -> Path:
    """All vectors of a churn artifact: the training sample and every edge value of every input
    (ints beyond 2**53, lone surrogates, emoji, NaN and -0.0 among them)."""
    tmp = tmp_path_factory.mktemp("js")
    fitted = fk.load_spec(ROOT / "specs" / "churn.yaml").fit(make_churn(2_000, seed=8))
    artifact = fitted.save(tmp / "churn", golden=2_000)
    out = tmp / "vectors.jsonl"
    assert main(["golden", artifact, "--out", str(out)]) == 0
    return out


def _node(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([NODE, str(PORT), *args], capture_output=True, text=True, timeout=120)


def test_the_port_matches_every_vector(vectors):
    done = _node(str(vectors))
    assert done.returncode == 0, done.stdout + done.stderr
    summary = done.stdout.splitlines()[0]
    total = sum(1 for _ in vectors.open()) - 1
    assert f"{total} vectors:" in summary and "0 problem(s)" in summary
    equal = int(summary.split(" outputs equal")[0].rsplit(" ", 1)[1])
    refused = int(summary.split(" refusals matched")[0].rsplit(" ", 1)[1])
    assert equal > 1_000 and refused >= 10  # it computed most rows and refused the invalid ones


def test_the_simulated_bug_is_caught(vectors):
    done = _node(str(vectors), "--simulate-bug")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "column tickets_per_tenure_month: expected" in done.stdout and "(bits 0x" in done.stdout


def test_a_vector_one_ulp_off_is_caught(vectors, tmp_path):
    lines = vectors.read_text(encoding="ascii").splitlines()
    for i, line in enumerate(lines[1:], start=1):
        vector = json.loads(line)
        value = vector.get("output", {}).get("tickets_per_tenure_month")
        if isinstance(value, float) and value > 0:
            vector["output"]["tickets_per_tenure_month"] = math.nextafter(value, math.inf)
            lines[i] = json.dumps(vector)
            break
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join(lines) + "\n", encoding="ascii")
    done = _node(str(broken))
    assert done.returncode == 1, done.stdout
    assert f"vector {vector['id']} ({vector['source']}) column tickets_per_tenure_month" in done.stdout


def test_the_port_refuses_what_is_not_its_file(tmp_path):
    other = tmp_path / "other.jsonl"
    other.write_text('{"kind": "header", "format": "something-else"}\n', encoding="ascii")
    done = _node(str(other))
    assert done.returncode == 2 and "not golden vectors of churn_features" in done.stderr
