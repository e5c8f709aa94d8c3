"""The parity tester against the corpus of training/serving pairs (issue 16, item 11).

Every pair runs twice through :func:`run_compare`: (a) ordinary rows plus the tester's
generated edge rows, (b) the ordinary rows only, a replay of ordinary traffic. Today's
``compare`` compares strictly (types, None vs NaN, -0.0 all count); the corpus also re-reads
each reported cell by value (:func:`same_by_value`, the issue's ``equality="value"``) so that a
skewed pair only counts as found for a real difference, and a correct pair's alarms can be told
apart by cause. The scoreboard is printed and written to
``.pytest_cache/parity_corpus_scoreboard.json``.
"""

from __future__ import annotations

import collections
import datetime as dt
import doctest
import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest

from featurekit import parity

from . import pair as pair_module
from . import registry
from .registry import CATEGORIES, PAIRS, Pair

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

FUZZ = 200  # seeded random mixes on top of the one-value-at-a-time edge rows
ULPS = 4  # a foreign implementation may differ by a few ULPs (1-ULP formula differences are correct code)


def run_compare(pair: Pair, rows: list[dict[str, Any]], *, edges: bool) -> parity.ParityReport:
    """The corpus's only call of the parity tester: adapt this one place when the API changes.

    Valid-only semantics (``invalid=False``: the hand-written servers do not validate input),
    every mismatching cell kept as an example (``max_examples``), no shrinking (not scored),
    compare's default boundary search (with edge rows only).
    """
    return parity.compare(
        pair.train,
        pair.serve,
        rows,
        contract=pair.spec,
        edges=edges,
        invalid=False,
        fuzz=FUZZ if edges else 0,
        seed=0,
        ulps=ULPS,
        equality="value",
        shrink=False,
        max_examples=10**9,
        label=pair.name,
    )


# ------------------------------------------------------------------------------ value equality


def _is_null(v: Any) -> bool:
    return v is None or (isinstance(v, float) and v != v) or type(v).__name__ in ("NaTType", "NAType")


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _ulps_apart(a: float, b: float) -> float:
    if not (math.isfinite(a) and math.isfinite(b)):
        return math.inf
    steps, x = 0, min(a, b)
    while x < max(a, b) and steps <= ULPS:
        x, steps = math.nextafter(x, math.inf), steps + 1
    return steps


def same_by_value(batch: Any, served: Any) -> bool:
    """Equal as features, whatever the Python types (issue 16's value mode).

    Null forms are one (None, NaN, NaT, pd.NA); numbers compare by value (1 == 1.0,
    -0.0 == 0.0) within ``ULPS``; a pandas Timestamp equals the same datetime; bool vs number
    and str vs number still differ; a side that raised differs unless both raised.

    >>> same_by_value(1, 1.0), same_by_value(None, float("nan")), same_by_value(-0.0, 0.0)
    (True, True, True)
    >>> same_by_value(True, 1), same_by_value("1", 1), same_by_value({"raised": "E"}, 0)
    (False, False, False)
    """
    raised = [isinstance(v, dict) and "raised" in v for v in (batch, served)]
    if any(raised) or any(isinstance(v, dict) and "missing" in v for v in (batch, served)):
        return all(raised)
    if _is_null(batch) or _is_null(served):
        return _is_null(batch) and _is_null(served)
    if _is_number(batch) and _is_number(served):
        if batch == served:
            return True
        return isinstance(batch, float) and isinstance(served, float) and _ulps_apart(batch, served) <= ULPS
    if isinstance(batch, dt.datetime) and isinstance(served, dt.datetime):
        try:
            return bool(batch == served)
        except TypeError:  # naive vs aware
            return False
    return type(batch) is type(served) and batch == served


# ------------------------------------------------------------------------------ scoring


def score(report: parity.ParityReport) -> dict[str, Any]:
    """Strict flags (what the tester reports today) and the value differences among them.

    A difference where the batch side raised is counted apart (``batch_raised``): the training
    functions handle every input their contract accepts, so these come from the frame the
    tester built (one ``object`` column for all rows), not from the pair.
    """
    kinds: collections.Counter[str] = collections.Counter()
    cells, batch_raised = [], 0
    for column in report.failing:
        kinds.update(column.kinds)
        for ex in column.examples:
            if not same_by_value(ex.batch, ex.served):
                raised = isinstance(ex.batch, dict) and "raised" in ex.batch
                batch_raised += raised
                cells.append(
                    (raised, {"column": column.column, "input": ex.input, "batch": ex.batch, "served": ex.served})
                )
    first = sorted(cells, key=lambda c: c[0])[0][1] if cells else None
    return {
        "flagged_strict": not report.ok,
        "strict_kinds": dict(kinds),
        "differences": len(cells),
        "batch_raised": batch_raised,
        "first_difference": _jsonable(first),
        "rows": report.rows,
    }


def found(result: dict[str, Any]) -> bool:
    """A skew counts as found for a value difference whose batch side returned a value."""
    return result["differences"] > result["batch_raised"]


def _jsonable(v: Any) -> Any:
    return json.loads(json.dumps(v, default=repr))


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, Any]]:
    out = {}
    for pair in PAIRS:
        rows = pair.rows()
        out[pair.name] = {
            "full": score(run_compare(pair, rows, edges=True)),
            "ordinary": score(run_compare(pair, rows, edges=False)),
        }
    return out


def scoreboard(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per category: skews found / total (edge-only apart), false alarms on correct pairs and their kinds."""
    board: dict[str, Any] = {}
    for category in CATEGORIES:
        pairs = [p for p in PAIRS if p.category == category]
        skewed = [p for p in pairs if p.skewed]
        correct = [p for p in pairs if not p.skewed]
        hits = [p for p in skewed if found(results[p.name]["full"])]
        board[category] = {
            "pairs": len(pairs),
            "skewed": len(skewed),
            "found": len(hits),
            "edge_only": sum(p.edge_only for p in skewed),
            "edge_only_found": sum(p.edge_only for p in hits),
            "missed": [p.name for p in skewed if p not in hits],
            "correct": len(correct),
            "false_alarms_strict": {
                p.name: results[p.name]["full"]["strict_kinds"]
                for p in correct
                if results[p.name]["full"]["flagged_strict"]
            },
            "false_alarms_value": [p.name for p in correct if results[p.name]["full"]["differences"]],
        }
    totals = {
        key: sum(len(c[key]) if isinstance(c[key], (list, dict)) else c[key] for c in board.values())
        for key in (
            "pairs",
            "skewed",
            "found",
            "edge_only",
            "edge_only_found",
            "correct",
            "false_alarms_strict",
            "false_alarms_value",
        )
    }
    totals["ordinary_replay_found"] = sum(1 for p in PAIRS if p.skewed and found(results[p.name]["ordinary"]))
    return {"settings": {"fuzz": FUZZ, "ulps": ULPS, "invalid": False}, "totals": totals, "categories": board}


def _table(board: dict[str, Any]) -> str:
    lines = [
        f"{'category':12s} {'skews':>5s} {'found':>5s} {'edge-only found':>15s} {'correct':>7s} {'alarms strict/value':>19s}  missed"
    ]
    for name, c in board["categories"].items():
        alarms = f"{len(c['false_alarms_strict'])}/{len(c['false_alarms_value'])}"
        lines.append(
            f"{name:12s} {c['skewed']:5d} {c['found']:5d} {c['edge_only_found']:>9d} of {c['edge_only']:<3d}"
            f" {c['correct']:7d} {alarms:>19s}  {', '.join(c['missed'])}"
        )
    t = board["totals"]
    lines.append(
        f"{'total':12s} {t['skewed']:5d} {t['found']:5d} {t['edge_only_found']:>9d} of {t['edge_only']:<3d}"
        f" {t['correct']:7d} {t['false_alarms_strict']:>9d}/{t['false_alarms_value']:<9d}"
        f"  (ordinary replay alone finds {t['ordinary_replay_found']} of {t['skewed']})"
    )
    return "\n".join(lines)


# ------------------------------------------------------------------------------ the corpus itself


def test_corpus_has_the_shape_the_issue_asks_for():
    assert len(PAIRS) >= 50
    assert len({p.name for p in PAIRS}) == len(PAIRS)
    skewed = [p for p in PAIRS if p.skewed]
    assert len(skewed) >= 35
    assert {p.category for p in skewed} == set(CATEGORIES) and len(CATEGORIES) >= 12
    assert sum(p.edge_only for p in skewed) > len(skewed) / 2
    assert sum(not p.skewed for p in PAIRS) >= 15
    assert not any(p.edge_only for p in PAIRS if not p.skewed)


@pytest.mark.parametrize("module", [pair_module, registry, sys.modules[__name__]], ids=lambda m: m.__name__)
def test_docstring_examples_run(module):
    result = doctest.testmod(module)
    assert result.attempted and not result.failed


@pytest.mark.parametrize("pair", [p for p in PAIRS if p.skewed], ids=lambda p: p.name)
def test_the_witness_row_of_a_skewed_pair_really_differs(pair):
    # with a few ordinary rows: a run where one side raises on every row is an error, not a finding
    report = run_compare(pair, [dict(pair.witness), *pair.rows(3)], edges=False)
    assert found(score(report)), f"{pair.name}: no difference on {pair.witness}"


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p.name)
def test_ordinary_replay_matches_the_label(pair, results):
    """Ordinary rows show the skews not labelled edge-only and miss the edge-only ones:
    replaying ordinary traffic is not enough, which is why edge rows matter."""
    differs = results[pair.name]["ordinary"]["differences"] > 0
    assert differs == (pair.skewed and not pair.edge_only), results[pair.name]["ordinary"]


@pytest.mark.parametrize("pair", [p for p in PAIRS if p.skewed and not p.edge_only], ids=lambda p: p.name)
def test_every_skew_visible_on_ordinary_data_is_found(pair, results):
    assert found(results[pair.name]["full"])


# Floors measured on this corpus with today's tester (regression guards, not targets; raise or
# lower them only with the scoreboard in hand). Issue 16's targets, in value mode with
# --valid-only semantics: 0 false alarms on the correct pairs, >= 95% of the edge-only skews
# found, 100% of the others (asserted per pair above).
FOUND_EDGE_ONLY_AT_LEAST = 39  # of 39 (37 with boundaries=0: QuantileEdgesRightClosed and the tie in
# LatestEventSortedLast need boundary search; the data-derived values find the rest)
# The tester runs in value mode (compare's default); "strict" counts what it reported, "value" what
# a re-read by value keeps.
FALSE_ALARMS_STRICT_AT_MOST = 0
FALSE_ALARMS_VALUE_AT_MOST = 0


def test_scoreboard(results, capsys, pytestconfig):
    board = scoreboard(results)
    board["pairs"] = [
        {
            "name": p.name,
            "category": p.category,
            "skewed": p.skewed,
            "edge_only": p.edge_only,
            "description": p.description,
            **results[p.name],
        }
        for p in PAIRS
    ]
    path = Path(pytestconfig.rootpath) / ".pytest_cache" / "parity_corpus_scoreboard.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(_jsonable(board), indent=2) + "\n", encoding="utf-8")
    with capsys.disabled():
        print(f"\nparity corpus scoreboard ({path}):\n{_table(board)}")
    totals = board["totals"]
    assert totals["edge_only_found"] >= FOUND_EDGE_ONLY_AT_LEAST
    assert totals["false_alarms_strict"] <= FALSE_ALARMS_STRICT_AT_MOST
    assert totals["false_alarms_value"] <= FALSE_ALARMS_VALUE_AT_MOST
