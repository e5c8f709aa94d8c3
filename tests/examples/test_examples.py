"""Every example runs (small sizes) so it cannot rot; the spec schema is current and validates specs."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PY = sys.executable


def run(args: list[str], timeout: float = 240, **kw) -> subprocess.CompletedProcess:
    env = dict(os.environ, MLFLOW_ALLOW_FILE_STORE="true", PYTHONWARNINGS="ignore")
    return subprocess.run([PY, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env, **kw)


def test_schema_file_is_current():
    from featurekit.schema import schema_json

    assert (ROOT / "docs" / "spec.schema.json").read_text(encoding="utf-8") == schema_json(), (
        "regenerate: featurekit schema --out docs/spec.schema.json"
    )


def test_schema_cli_prints_it():
    done = run(["-m", "featurekit.cli", "schema"])
    assert done.returncode == 0
    assert json.loads(done.stdout)["title"] == "featurekit spec"


@pytest.mark.parametrize(
    "spec", sorted((ROOT / "specs").glob("*.yaml")) + [EXAMPLES / "legacy_serving" / "spec.yaml"], ids=lambda p: p.name
)
def test_specs_validate_against_schema(spec):
    jsonschema = pytest.importorskip("jsonschema")
    from featurekit.schema import spec_schema
    from featurekit.spec.load_yaml import _StrictLoader

    text = spec.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=")
    jsonschema.Draft7Validator.check_schema(spec_schema())
    jsonschema.validate(yaml.load(text, Loader=_StrictLoader), spec_schema())  # noqa: S506 (safe loader)


def test_schema_rejects_a_bad_spec():
    jsonschema = pytest.importorskip("jsonschema")
    from featurekit.schema import spec_schema

    bad = {"featurekit": 1, "name": "x", "version": "1.0", "inputs": {"a": {"type": "double"}}, "features": {"f": "a"}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, spec_schema())


def test_specs_validate_with_the_cli():
    assert run(["-m", "featurekit.cli", "validate", "specs/listings.yaml"]).returncode == 0
    done = run(["-m", "examples.spec_gallery.fraud_udfs", "validate", "specs/fraud.yaml"])
    assert done.returncode == 0, done.stderr
    unregistered = run(["-m", "featurekit.cli", "validate", "specs/fraud.yaml"])
    assert unregistered.returncode == 2 and "round_amount_score" in unregistered.stderr


def test_spec_gallery_fits_and_has_parity():
    done = run(["examples/spec_gallery/run.py", "--rows", "1500", "--fuzz", "200"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("parity ok") == 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str, body: dict) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def test_churn_end_to_end_and_http_serving(tmp_path):
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    pytest.importorskip("mlflow")
    done = run(["examples/churn_end_to_end/run.py", "--rows", "3000", "--day-rows", "40", "--out", str(tmp_path)])
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "agrees with the pipeline" in done.stdout  # MLflow model
    assert "equal to featurekit.sklearn.serve_row: True" in done.stdout  # row path = pipeline
    junit = (tmp_path / "parity.xml").read_text()
    assert 'failures="0"' in junit and "<testcase" in junit
    assert "parity ok" in done.stdout.split("a week of served traffic")[1]  # logged traffic replays
    assert len((tmp_path / "serving.jsonl").read_text().splitlines()) == 7 * 40

    port = _free_port()
    env = dict(os.environ, MODEL_DIR=str(tmp_path / "model"))
    server = subprocess.Popen(
        [
            PY,
            "-m",
            "uvicorn",
            "--app-dir",
            str(EXAMPLES / "churn_end_to_end"),
            "app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/health", timeout=2) as resp:
                    health = json.loads(resp.read())
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(server.stderr.read().decode()[-2000:]) from None
                time.sleep(0.3)
        requests = json.loads((tmp_path / "requests.json").read_text())
        assert health["pin"] == json.loads((tmp_path / "model" / "meta.json").read_text())["pin"]
        answer = _post(base + "/predict", {"rows": requests["rows"]})
        assert answer["churn_probability"] == requests["expected"]  # exactly the local row path
        bad = dict(requests["rows"][0], tenure_days=None)  # nullable: false
        with pytest.raises(urllib.error.HTTPError) as err:
            _post(base + "/predict", {"rows": [bad]})
        assert err.value.code == 422
        # the parity tester against the running app's POST /features, over HTTP (issue 16, item 9)
        gate = run(
            [
                "-m",
                "featurekit.cli",
                "parity",
                str(tmp_path / "model" / "features"),
                "--data",
                str(tmp_path / "parity_sample.parquet"),
                "--fuzz",
                "100",
                "--serving-url",
                base + "/features",
                "--format",
                "json",
                "--output",
                str(tmp_path / "http_parity.json"),
            ]
        )
        assert gate.returncode == 0, gate.stdout[-3000:] + gate.stderr[-3000:]
        verdict = json.loads((tmp_path / "http_parity.json").read_text())
        assert verdict["ok"] and verdict["generated_rows"] > 0 and verdict["columns"], verdict
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_legacy_serving_finds_the_bugs(tmp_path):
    done = run(["examples/legacy_serving/run.py", "--rows", "400", "--fuzz", "150", "--json", str(tmp_path / "r.json")])
    assert done.returncode == 1, done.stdout + done.stderr  # 1 = disagreements found
    failing = json.loads(done.stdout.rsplit("failing columns: ", 1)[1])
    assert {"country_idx", "desc_tokens", "login_hour", "spend_imputed"} <= set(failing)
    report = json.loads((tmp_path / "r.json").read_text())
    assert not report["ok"] and "minimal input" in done.stdout


def test_dask_scale(tmp_path):
    pytest.importorskip("distributed")
    done = run(["examples/dask_scale/run.py", "--rows", "4000", "--files", "3", "--out", str(tmp_path)])
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "identical: True" in done.stdout and "equal to the pandas batch path: True" in done.stdout


def test_ci_workflow_runs_parity_with_junit():
    workflow = yaml.safe_load((EXAMPLES / "ci" / "parity.yml").read_text())
    steps = " ".join(str(s.get("run", "")) for s in workflow["jobs"]["parity"]["steps"])
    assert "featurekit parity" in steps and "--format junit" in steps
