"""A parity run that compares nothing is an error naming the side, never "parity ok"."""

from __future__ import annotations

import pandas as pd
import pytest

import featurekit as fk
from featurekit.cli import main

SPEC = fk.spec_from_yaml(
    """
featurekit: 1
name: v
version: 0.1.0
inputs: {x: {type: float}, t: {type: timestamp}}
features:
  y: coalesce(x, 0.0) * 2.0
"""
)
FITTED = SPEC.fit([{"x": 1.0, "t": "2026-01-01T00:00:00Z"}])
ROWS = [{"x": float(i), "t": "2026-01-01T00:00:00Z"} for i in range(20)]


def _serve(row):
    x = row.get("x")
    return {"y": 0.0 if x is None or x != x else x * 2.0}


def test_a_batch_side_raising_on_every_row_is_an_error_naming_it():
    def batch(df: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"y": df["t"].dt.hour + df["hour_offset"]})  # a column the frame lacks: raises

    with pytest.raises(fk.errors.ParityError, match="the batch side raised on every one of .* KeyError"):
        fk.parity.compare(batch, _serve, ROWS, contract=SPEC, edges=False)


def test_a_row_side_raising_on_every_row_is_an_error_naming_it():
    def serve(row):
        raise KeyError("feature_store_client")

    with pytest.raises(fk.errors.ParityError, match="the row side raised .* KeyError"):
        fk.parity.compare(FITTED.transform, serve, ROWS, contract=FITTED)


def test_no_column_or_no_row_is_an_error():
    with pytest.raises(fk.errors.ParityError, match="no output column"):
        fk.parity.compare(lambda df: pd.DataFrame(index=df.index), _serve, ROWS, contract=SPEC, edges=False)
    with pytest.raises(fk.errors.ParityError, match="no rows"):
        fk.parity.compare(FITTED.transform, _serve, [], contract=SPEC, edges=False)


def test_the_report_states_what_was_compared():
    report = fk.parity.compare(FITTED.transform, FITTED.transform_row, ROWS, contract=FITTED, fuzz=50)
    assert report.ok and report.rows > len(ROWS) and len(report.columns) == 1, report.to_text(color=False)
    head = report.to_text(color=False).splitlines()[1]
    assert "x 1 columns, value equality" in head and "batch side" in head and "row side" in head
    assert report.to_dict()["batch_raised"] == report.batch_raised > 0  # the invalid edge rows, refused
    assert report.row_raised == report.batch_raised
    strict = fk.parity.check(FITTED, ROWS)
    assert strict.equality == "strict" and strict.ok


def test_cli_exit_2_when_nothing_is_compared(tmp_path, capsys, monkeypatch):
    art = FITTED.save(str(tmp_path / "art"))
    data = tmp_path / "d.jsonl"
    data.write_text("".join(f'{{"x": {i}, "t": "2026-01-01T00:00:00Z"}}\n' for i in range(5)))
    (tmp_path / "broken_server.py").write_text("def features(row):\n    raise ImportError('model not loaded')\n")
    monkeypatch.chdir(tmp_path)
    assert main(["parity", art, "--data", str(data), "--serving", "broken_server:features"]) == 2
    err = capsys.readouterr().err
    assert "row side raised on every one" in err and "ImportError: model not loaded" in err
    assert main(["parity", art, "--log", str(tmp_path / "nothing-*.jsonl")]) == 2
    assert main(["parity", art, "--log", str(tmp_path / "missing.jsonl")]) == 2


def test_cli_summary_line_with_output_names_the_failing_columns(tmp_path, capsys, monkeypatch):
    art = FITTED.save(str(tmp_path / "art"))
    data = tmp_path / "d.jsonl"
    data.write_text("".join(f'{{"x": {i}, "t": "2026-01-01T00:00:00Z"}}\n' for i in range(5)))
    (tmp_path / "off_server.py").write_text("def features(row):\n    return {'y': (row.get('x') or 0.0) * 3.0}\n")
    monkeypatch.chdir(tmp_path)
    code = main(["parity", art, "--data", str(data), "--serving", "off_server:features", "--output", "r.txt"])
    assert code == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("FAILED:") and "(y)" in last and "minimal input" not in last


def test_replay_of_served_inputs_the_batch_path_refuses_is_a_finding_not_an_error():
    """Logged outputs were served: a batch path refusing every logged input is skew to report."""
    records = [{"input": {"x": "7", "t": "2026-01-01T00:00:00Z"}, "output": {"y": 14.0}}] * 3
    report = fk.parity.replay(FITTED, records)
    assert not report.ok and report.batch_raised == 3 and report.columns[0].kinds == {"raises": 3}
