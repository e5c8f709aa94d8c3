"""The transformation check: recompute sampled logged records through the batch path.

The systematic sample of records served by this artifact (:class:`featurekit.skew.serving.Sample`)
is replayed with :func:`featurekit.parity.replay`; a column whose served values differ from the
batch path's on more than ``mismatch_rate`` of them is a critical finding.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from featurekit.parity import replay
from featurekit.serving_log import record_problem
from featurekit.skew import remedies
from featurekit.skew.report import Finding
from featurekit.values.codec import to_jsonable

__all__ = ["recheck"]


def recheck(
    fitted: Any, sample: list[dict[str, Any]], stride: int, thresholds: Mapping[str, Any], columns: dict[str, Any]
) -> tuple[dict[str, Any], list[Finding]]:
    """The report's ``transformation`` section and its findings; adds ``mismatch_rate`` to the
    output entries of ``columns``."""
    sample = [r for r in sample if record_problem(r) is None]  # what replay reads: every sampled record
    transformation: dict[str, Any] = {"sampled": len(sample), "stride": stride, "columns": {}}
    findings: list[Finding] = []
    if not sample:
        return transformation, findings
    parity = replay(fitted, sample, max_examples=int(thresholds["max_examples"]))
    thr = float(thresholds["mismatch_rate"])
    overrides = thresholds.get("columns", {})
    for col in parity.columns:
        rate = col.mismatches / len(sample)
        ex = [
            {"input": e.input, "kind": e.kind, "batch": e.batch, "served": e.served, "time": sample[e.row].get("time")}
            for e in col.examples
        ]
        transformation["columns"][col.column] = {
            "mismatches": col.mismatches,
            "rate": rate,
            "kinds": dict(col.kinds),
            "examples": [to_jsonable(e, default=str) for e in ex],
        }
        failed = rate > float(overrides.get(col.column, {}).get("mismatch_rate", thr))
        entry = columns.setdefault(f"output:{col.column}", {"role": "output", "metrics": {}})
        entry["metrics"]["mismatch_rate"] = {"value": rate, "threshold": thr, "failed": failed}
        if failed:
            first = ex[0]
            message = (
                f"feature {col.column}: {rate:.1%} of {len(sample):,} recomputed records differ from the served value "
                f"({', '.join(f'{k} {c}' for k, c in col.kinds.items())}; e.g. batch {first['batch']!r} vs served "
                f"{first['served']!r})"
            )
            findings.append(
                Finding(
                    "critical",
                    "transformation",
                    col.column,
                    "output",
                    "mismatch_rate",
                    rate,
                    thr,
                    message,
                    *remedies.mismatch(col.column, fitted.fingerprint),
                )
            )
    return transformation, findings
