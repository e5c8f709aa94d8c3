"""Regenerate the golden artifact (only when the format changes on purpose, with a new name).

    .venv/bin/python tests/artifact/make_golden.py

Writes ``golden/churn_v1/`` (the churn spec fitted on ``make_churn(2000, seed=0)``) and
``golden/churn_v1_expected.json`` (20 input rows and the outputs this version gives them).
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
GOLDEN = HERE / "golden" / "churn_v1"
EXPECTED = HERE / "golden" / "churn_v1_expected.json"


def encode_row(row: dict) -> dict:
    return {k: {"$datetime": v.isoformat()} if isinstance(v, _dt.datetime) else v for k, v in row.items()}


def decode_row(row: dict) -> dict:
    return {k: _dt.datetime.fromisoformat(v["$datetime"]) if isinstance(v, dict) else v for k, v in row.items()}


def main() -> None:
    import featurekit as fk
    from featurekit.datasets import make_churn, to_rows
    from featurekit.values import codec

    fitted = fk.load_spec(ROOT / "specs" / "churn.yaml").fit(make_churn(2000, seed=0))
    fitted.save(GOLDEN)
    rows = to_rows(make_churn(20, seed=123, evaluation=True))
    payload = {
        "pin": fitted.pin,
        "output_columns": fitted.output_columns,
        "rows": [encode_row(r) for r in rows],
        "outputs": fitted.transform_rows(rows),
    }
    EXPECTED.write_text(codec.dumps(payload, indent=1) + "\n")
    print(f"wrote {GOLDEN} and {EXPECTED} ({fitted.pin})")


if __name__ == "__main__":
    main()
