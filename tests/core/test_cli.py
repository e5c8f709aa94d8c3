"""The command line: every command, its exit codes, and errors without tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from featurekit.datasets import make_churn

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "featurekit.cli", *args], cwd=cwd, capture_output=True, text=True)


def test_validate_ok_and_json():
    done = run("validate", "specs/churn.yaml")
    assert done.returncode == 0 and done.stdout.startswith("ok: churn_features@1.0.0")
    done = run("validate", "specs/churn.yaml", "--format", "json")
    assert '"fingerprint"' in done.stdout


def test_bad_spec_exits_2_with_location_and_no_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("featurekit: 1\nname: b\nversion: 1.0.0\ninputs: {x: {type: float}}\nfeatures:\n  y: lgo(x)\n")
    done = run("validate", str(bad))
    assert done.returncode == 2
    assert f"{bad}:6: feature 'y': unknown op 'lgo'" in done.stderr
    assert "did you mean 'log'?" in done.stderr
    assert "Traceback" not in done.stderr


def test_usage_error_exits_2():
    assert run("fit").returncode == 2
    assert run("nonsense").returncode == 2


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_fit_then_transform_round_trip(tmp_path, suffix):
    train = make_churn(2_000, seed=1)
    data = tmp_path / f"train{suffix}"
    if suffix == ".csv":
        train.to_csv(data, index=False)
    elif suffix == ".parquet":
        train.to_parquet(data)
    else:
        train.to_json(data, orient="records", lines=True, date_format="iso")
    done = run("--quiet", "fit", "specs/churn.yaml", "--data", str(data), "--out", str(tmp_path / "art"))
    assert done.returncode == 0, done.stderr
    out = tmp_path / f"features{suffix}"
    done = run(
        "--quiet", "transform", str(tmp_path / "art"), "--data", str(data), "--out", str(out), "--keep", "customer_id"
    )
    assert done.returncode == 0, done.stderr
    features = (
        pd.read_parquet(out)
        if suffix == ".parquet"
        else (pd.read_csv(out) if suffix == ".csv" else pd.read_json(out, lines=True))
    )
    assert len(features) == 2_000 and features.shape[1] == 31


def test_csv_and_parquet_fit_give_the_same_state(tmp_path):
    train = make_churn(2_000, seed=2)
    train.to_csv(tmp_path / "t.csv", index=False)
    train.to_parquet(tmp_path / "t.parquet")
    for kind in ("csv", "parquet"):
        assert (
            run(
                "-q", "fit", "specs/churn.yaml", "--data", str(tmp_path / f"t.{kind}"), "--out", str(tmp_path / kind)
            ).returncode
            == 0
        )
    a = (tmp_path / "csv" / "state.json").read_text()
    b = (tmp_path / "parquet" / "state.json").read_text()
    assert a == b


def test_describe_and_ops():
    done = run("describe", "specs/churn.yaml")
    assert done.returncode == 0 and "spend_z" in done.stdout and "fingerprint" in done.stdout
    done = run("ops")
    assert done.returncode == 0 and "zscore" in done.stdout and "analyzed" in done.stdout


def test_missing_data_file_exits_2(tmp_path):
    done = run("fit", "specs/churn.yaml", "--data", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "a"))
    assert done.returncode == 2 and "does not exist" in done.stderr


def test_import_option_registers_udfs_for_the_cli(tmp_path):
    (tmp_path / "my_udfs.py").write_text(
        "import featurekit as fk\n\n@fk.udf(dtype='float', args=['float'])\ndef halve(x):\n    return x / 2.0\n"
    )
    spec = tmp_path / "u.yaml"
    spec.write_text(
        'featurekit: 1\nname: u\nversion: 1.0.0\ninputs: {x: {type: float}}\nfeatures:\n  h: udf(x, fn="halve")\n'
    )
    assert run("validate", str(spec), cwd=tmp_path).returncode == 2
    done = run("--import", "my_udfs", "validate", str(spec), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert run("--import", "no_such_module", "validate", str(spec), cwd=tmp_path).returncode == 2
