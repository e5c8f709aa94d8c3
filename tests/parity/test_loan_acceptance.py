"""Acceptance: a team's own loan features, hand-written twice (issue 16, "Done means").

An 11-input loan contract, a pandas training function and a plain-Python serving function
written the way a team writes them. The correct pair must give no finding at all (value
equality, valid-only rows: the server does not validate); each planted bug must be found,
in the right column, with a shrunk reproducer that still shows it:

* NaN not treated as missing (``income is None`` only),
* rounding at a round number (Python's ``round`` where training used numpy's),
* an off-by-one edge (``>=`` where training used ``>``),
* ``lower`` where training used ``casefold``,
* the wall-clock hour of the zone a timestamp arrived in, where training used UTC.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

import featurekit as fk
from featurekit import parity
from featurekit.parity.generation import row_accepted
from featurekit.values import codec

CONTRACT = fk.spec_from_yaml(
    """
featurekit: 1
name: loan_features
version: 1.0.0
inputs:
  income: {type: float, nullable: true, min: 0}
  loan_amount: {type: float, nullable: false, min: 500, max: 100000}
  term_months: {type: int, nullable: false, min: 6, max: 360}
  credit_score: {type: int, nullable: true, min: 300, max: 850}
  num_accounts: {type: int, nullable: false, min: 0, max: 1000}
  age: {type: int, nullable: false, min: 18, max: 120}
  employment: {type: category, values: [employed, self_employed, unemployed, retired]}
  employer: {type: str, nullable: true}
  state: {type: category, values: [CA, NY, TX, WA]}
  debt: {type: float, nullable: true, min: 0, max: 10000000}
  applied_at: {type: timestamp, nullable: false}
features:
  income_filled: coalesce(income, 50000.0)
"""
)
"""The input contract both sides were written against (the one feature only makes it a spec)."""

FEATURES = [
    "income_filled",
    "amount_k",
    "big_loan",
    "term_years",
    "accounts_per_year",
    "debt_filled",
    "employer_key",
    "applied_hour",
]


def train(df: pd.DataFrame) -> pd.DataFrame:
    """The training features, in pandas."""
    return pd.DataFrame(
        {
            "income_filled": df["income"].fillna(50000.0),
            "amount_k": np.round(df["loan_amount"] / 1000.0, 1),
            "big_loan": (df["loan_amount"] > 25000.0).astype("int64"),
            "term_years": df["term_months"] / 12,
            "accounts_per_year": df["num_accounts"] / (df["age"] - 17),
            "debt_filled": df["debt"].fillna(0.0),
            "employer_key": df["employer"].str.casefold(),
            "applied_hour": df["applied_at"].dt.tz_convert("UTC").dt.hour,
        }
    )


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _utc(ts: Any) -> dt.datetime:
    if isinstance(ts, str):
        ts = dt.datetime.fromisoformat(ts)
    return ts.replace(tzinfo=dt.UTC) if ts.tzinfo is None else ts.astimezone(dt.UTC)


def serve(row: dict[str, Any]) -> dict[str, Any]:
    """The serving features, hand-written in plain Python (correct)."""
    income, employer = row.get("income"), row.get("employer")
    return {
        "income_filled": 50000.0 if _missing(income) else float(income),
        "amount_k": round(row["loan_amount"] / 1000.0 * 10) / 10,  # numpy's round: scale, round half even
        "big_loan": int(row["loan_amount"] > 25000.0),
        "term_years": row["term_months"] / 12,
        "accounts_per_year": row["num_accounts"] / (row["age"] - 17),
        "debt_filled": 0.0 if _missing(row.get("debt")) else float(row["debt"]),
        "employer_key": None if employer is None else employer.casefold(),
        "applied_hour": _utc(row["applied_at"]).hour,
    }


def _nan_is_not_missing(row: dict[str, Any]) -> dict[str, Any]:
    income = row.get("income")
    return serve(row) | {"income_filled": 50000.0 if income is None else float(income)}


def _python_round(row: dict[str, Any]) -> dict[str, Any]:
    return serve(row) | {"amount_k": round(row["loan_amount"] / 1000.0, 1)}


def _off_by_one_edge(row: dict[str, Any]) -> dict[str, Any]:
    return serve(row) | {"big_loan": int(row["loan_amount"] >= 25000.0)}


def _lower_not_casefold(row: dict[str, Any]) -> dict[str, Any]:
    employer = row.get("employer")
    return serve(row) | {"employer_key": None if employer is None else employer.lower()}


def _local_hour(row: dict[str, Any]) -> dict[str, Any]:
    ts = row["applied_at"]
    return serve(row) | {"applied_hour": (dt.datetime.fromisoformat(ts) if isinstance(ts, str) else ts).hour}


BUGS: dict[str, tuple[Callable[[dict[str, Any]], dict[str, Any]], str, str]] = {
    # bug: (serving function, the column it breaks, the input its reproducer must keep)
    "NaN not missing": (_nan_is_not_missing, "income_filled", "income"),
    "rounding at a round number": (_python_round, "amount_k", "loan_amount"),
    "off-by-one edge": (_off_by_one_edge, "big_loan", "loan_amount"),
    "lower vs casefold": (_lower_not_casefold, "employer_key", "employer"),
    "local vs UTC hour": (_local_hour, "applied_hour", "applied_at"),
}

_EMPLOYERS = ["Acme Corp", "Globex", "Initech", "Umbrella Health", "Stark Industries", None]


def ordinary_rows(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """Realistic applications: amounts in hundreds (none exactly at the 25,000 threshold, so
    ordinary traffic cannot show the edge bug), incomes with cents, aware timestamps in UTC."""
    rng = random.Random(seed)
    start = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    return [
        {
            "income": None if rng.random() < 0.05 else round(rng.lognormvariate(11, 0.5), 2),
            "loan_amount": float(rng.choice([a for a in range(1000, 60000, 100) if a != 25000])),
            "term_months": rng.choice([12, 24, 36, 60]),
            "credit_score": None if rng.random() < 0.1 else rng.randrange(450, 820),
            "num_accounts": rng.randrange(0, 15),
            "age": rng.randrange(21, 75),
            "employment": rng.choice(["employed", "employed", "self_employed", "retired"]),
            "employer": rng.choice(_EMPLOYERS),
            "state": rng.choice(["CA", "NY", "TX", "WA"]),
            "debt": None if rng.random() < 0.2 else round(rng.uniform(0, 40000), 2),
            "applied_at": start + dt.timedelta(seconds=rng.randrange(0, 60 * 86_400)),
        }
        for _ in range(n)
    ]


ROWS = ordinary_rows(300)


def _compare(row_fn: Callable[[dict[str, Any]], dict[str, Any]]) -> parity.ParityReport:
    return parity.compare(train, row_fn, ROWS, contract=CONTRACT, columns=FEATURES, invalid=False, fuzz=300, seed=0)


def test_the_correct_pair_gives_no_finding() -> None:
    report = _compare(serve)
    assert report.ok, report.to_text()
    assert report.rows > len(ROWS) and len(report.columns) == len(FEATURES)
    assert report.batch_raised == 0 and report.row_raised == 0


def test_ordinary_traffic_alone_shows_none_of_the_planted_bugs() -> None:
    for name, (row_fn, _, _) in BUGS.items():
        report = parity.compare(train, row_fn, ROWS, contract=CONTRACT, columns=FEATURES, edges=False, shrink=False)
        assert report.ok, f"{name}: visible on ordinary rows, so it does not test the edge rows"


@pytest.mark.parametrize("bug", list(BUGS))
def test_each_planted_bug_is_found_with_a_shrunk_reproducer(bug: str) -> None:
    row_fn, column, cause = BUGS[bug]
    report = _compare(row_fn)
    flagged = {c.column: c for c in report.columns if c.mismatches}
    assert set(flagged) == {column}, report.to_text()
    shrunk = [e for e in flagged[column].examples if e.reproducer is not None]
    assert shrunk, report.to_text()
    accepted = row_accepted(CONTRACT)
    for example in shrunk:
        assert example.reproducer is not None and cause in example.reproducer, example
        assert set(example.reproducer) <= set(example.input) | {cause}, example
        reproducer = codec.decode_row(example.reproducer)
        assert accepted(reproducer), f"valid-only run, reproducer outside the contract: {reproducer}"
        assert parity.compare(train, row_fn, [reproducer], contract=CONTRACT, edges=False, shrink=False).failing
