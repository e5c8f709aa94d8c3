"""Time the parity tester's shrinking on the churn workload (issue 16: "at least 10x faster").

A serving function that is the churn artifact's own row path with one planted bug (a missing
``monthly_spend`` serves 0.0 for ``spend_log1p`` instead of the fitted fallback) is compared with
the batch path on ordinary rows plus generated edge rows, once with shrinking and once
without; the difference is what shrinking the first three mismatches of each flagged column
costs. Prints medians of ``--repeat`` runs.

Usage::

    .venv/bin/python benchmarks/parity_shrinking.py [--rows 500] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import featurekit as fk
from featurekit import parity
from featurekit.datasets import make_churn, to_rows

SPEC = Path(__file__).resolve().parents[1] / "specs" / "churn.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500, help="ordinary rows given to compare (default 500)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per setting; medians are printed (default 5)")
    args = parser.parse_args()

    spec = fk.load_spec(SPEC)
    train = make_churn(20_000, seed=0)
    fitted = spec.fit(train[[i.name for i in spec.inputs]])
    rows = to_rows(make_churn(args.rows, seed=1, evaluation=True)[[i.name for i in spec.inputs]])
    row_path = fitted.transform_row

    def buggy_serving(row: dict[str, Any]) -> dict[str, Any]:
        out = row_path(row)
        if row.get("monthly_spend") is None:
            out["spend_log1p"] = 0.0
        return out

    def run(shrink: bool) -> tuple[float, parity.ParityReport]:
        started = time.perf_counter()
        report = parity.compare(
            fitted.transform, buggy_serving, rows, contract=fitted, fuzz=200, seed=0, shrink=shrink, invalid=False
        )
        return time.perf_counter() - started, report

    timings: dict[bool, list[float]] = {True: [], False: []}
    report = None
    for _ in range(args.repeat):
        for shrink in (False, True):
            seconds, rep = run(shrink)
            timings[shrink].append(seconds)
            if shrink:
                report = rep
    assert report is not None
    flagged = [c for c in report.columns if c.mismatches]
    reproducers = [e.reproducer for c in flagged for e in c.examples if e.reproducer is not None]
    without, with_ = statistics.median(timings[False]), statistics.median(timings[True])
    print(f"rows compared: {report.rows:,}; columns flagged: {[c.column for c in flagged]}")
    print(f"shrunk reproducers: {len(reproducers)}; first: {reproducers[0] if reproducers else None}")
    print(f"compare without shrinking: median {without:.2f} s over {args.repeat} runs")
    print(f"compare with shrinking:    median {with_:.2f} s")
    print(
        f"shrinking itself:          {with_ - without:.2f} s ({(with_ - without) / max(len(reproducers), 1):.3f} s per reproducer)"
    )


if __name__ == "__main__":
    main()
