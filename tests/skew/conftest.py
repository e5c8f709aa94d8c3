"""Shared fixtures: the churn spec fitted once, and three weeks of simulated serving logs."""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest

import featurekit as fk
from featurekit.datasets import make_churn, to_rows

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
START = dt.datetime(2026, 1, 5, tzinfo=dt.UTC).timestamp()
DAY = 86400.0
ROWS_PER_DAY = 600
BUG_COLUMN = "tickets_log1p"


@pytest.fixture(scope="session")
def fitted():
    spec = fk.load_spec(os.path.join(ROOT, "specs", "churn.yaml"))
    return spec.fit(make_churn(20_000, seed=0))


def serve(fitted, rows, path, *, drift=None, days=21, per_day=ROWS_PER_DAY, sample_rate=1.0):
    """Serve ``rows`` through ``transform_row(row, log=logger)`` over ``days`` simulated days."""
    clock = {"t": START}
    logger = fk.ServingLogger(path, sample_rate=sample_rate, seed=0, clock=lambda: clock["t"])
    for i, row in enumerate(rows[: days * per_day]):
        day = i // per_day
        clock["t"] = START + day * DAY + (i % per_day) * (DAY / per_day)
        if drift is not None:
            row = drift(day, i, dict(row))
        fitted.transform_row(row, log=logger)
    logger.close()
    assert logger.dropped == 0, logger.last_error
    return logger


def drift_week3(day, i, row):
    """Week 3: a new country, a shifted session length, a null spike in device."""
    if day >= 14:
        if i % 4 == 0:
            row["country"] = "XQ"  # a category never seen in training
        if row.get("avg_session_minutes") is not None:
            row["avg_session_minutes"] = row["avg_session_minutes"] * 2.0 + 10.0  # shifted mean
        if i % 2 == 0:
            row["device"] = None  # null spike
    return row


def patch_bug(path, column=BUG_COLUMN):
    """A serving-side bug in one feature: from day 7 on, serving computes log instead of log1p."""
    import math

    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            t = dt.datetime.fromisoformat(rec["time"]).timestamp()
            if t >= START + 7 * DAY:
                v = rec["output"][column]
                if isinstance(v, float) and v > 0:
                    rec["output"][column] = math.log(math.expm1(v)) if v > math.log(2) else 0.0
            out.append(json.dumps(rec))
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(out) + "\n")


@pytest.fixture(scope="session")
def rows():
    return to_rows(make_churn(21 * ROWS_PER_DAY, seed=1))


@pytest.fixture(scope="session")
def clean_log(fitted, rows, tmp_path_factory):
    path = str(tmp_path_factory.mktemp("logs") / "serving.jsonl")
    serve(fitted, rows, path)
    return path


@pytest.fixture(scope="session")
def drifted_log(fitted, rows, tmp_path_factory):
    path = str(tmp_path_factory.mktemp("drift") / "serving.jsonl")
    serve(fitted, rows, path, drift=drift_week3)
    patch_bug(path)
    return path
