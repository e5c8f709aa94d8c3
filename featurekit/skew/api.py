"""The skew report driver: reading -> column statistics -> metrics table -> findings -> remedies.

See docs/skew.md for how the pieces fit and how to add a metric.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from featurekit.serving_log import LogStats, SkewInputError, iter_records, no_records
from featurekit.skew import remedies
from featurekit.skew.lineage import known_values, vocabularies
from featurekit.skew.lineage import lineage as spec_lineage
from featurekit.skew.metrics import Column, evaluate, load_thresholds, record_findings, with_severity
from featurekit.skew.recheck import recheck
from featurekit.skew.report import SkewReport
from featurekit.skew.serving import Sample, collect, column_stats
from featurekit.skew.windows import window_key

__all__ = ["read_log", "skew_report"]


def skew_report(
    fitted: Any,
    records: Any,
    thresholds: str | Mapping[str, Any] | None = None,
    *,
    label: str | None = None,
    by: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> SkewReport:
    """Compare logged serving ``records`` (JSONL path/glob, list of paths or iterable of dicts)
    with ``fitted.baseline_`` and with the batch path. ``thresholds`` (a YAML file or a mapping)
    override the spec's ``monitoring:`` section, which overrides the defaults; ``by`` (day | hour)
    also measures every metric per time window (each column's ``windows`` series); ``progress`` is
    told the number of records of each block read. See docs/skew.md."""
    started = time.perf_counter()
    t = load_thresholds(thresholds, fitted.spec.monitoring)
    baseline = getattr(fitted, "baseline_", None)
    if not baseline:
        raise SkewInputError(
            "the artifact has no training baseline (baseline.json)\n  Fix: refit with this "
            "featurekit version and save the artifact again"
        )
    lineage = spec_lineage(fitted)
    inputs = {i.name: i for i in fitted.spec.inputs}
    uses = vocabularies(lineage["consumers"])
    for name, known in known_values(fitted.spec, baseline).items():  # open values: after the fitted ones
        uses.setdefault(name, []).append(known)
    types = {("input", name): inp.type for name, inp in inputs.items()}
    types.update({("output", col): ty.rstrip("?") for col, ty in fitted.output_types.items()})
    stats = column_stats(types, baseline, {name: [v for _, v in u] for name, u in uses.items()})
    served = collect(
        records,
        stats,
        {name: inp.type for name, inp in inputs.items()},
        Sample(fitted.fingerprint, int(t["transform_sample"])),
        window_key(by) if by else None,
        progress,
    )
    if served.records == 0:
        raise no_records(served.read)
    pin = fitted.pin[: len(fitted.spec.name) + len(fitted.spec.version) + 14]
    read = served.read
    findings = record_findings(
        served.records, read.unparseable, read.examples, served.other_fingerprints, served.extra_fields, t, pin
    )
    columns: dict[str, dict[str, Any]] = {}
    failing_inputs: set[str] = set()

    def column(role: str, name: str, summary: dict[str, Any], info: dict[str, Any]) -> Column:
        is_input = role == "input"
        return Column(
            role=role,
            name=name,
            type_name=types[(role, name)],
            serving=summary,
            training=baseline[role + "s"].get(name) or {},
            baseline=baseline,
            consumers=lineage["consumers"].get(name, []) if is_input else [],
            vocabularies=uses.get(name, []) if is_input else [],
            nullable=is_input and inputs[name].nullable,
            thresholds=t,
            info=info,
        )

    for (role, name), summary in served.columns.items():
        info: dict[str, Any] = {"role": role, "type": types[(role, name)], "records": summary["n"], "metrics": {}}
        columns[f"{role}:{name}"] = info
        found, failed = evaluate(column(role, name, summary, info))
        findings += found
        if failed and role == "input":
            failing_inputs.add(name)
        if by:

            def measure(summary: dict[str, Any], scratch: dict[str, Any], role: str = role, name: str = name) -> Any:
                return evaluate(column(role, name, summary, scratch))

            info["windows"] = window_series(
                {w: summaries[(role, name)] for w, (_, summaries) in served.windows.items()}, measure
            )
    transformation, mismatches = recheck(fitted, served.sample.records, served.sample.stride, t, columns)
    findings += with_severity(mismatches, t)
    mismatched = {f.column for f in mismatches}
    for f in findings:  # diagnosis: an output finding explained by an input or transformation finding
        if f.role != "output" or f.kind not in ("data", "schema"):
            continue
        causes = [i for i in lineage["upstream"].get(f.column, []) if i in failing_inputs]
        if f.column in mismatched:
            causes.append(f"transformation of {f.column}")
        if causes:
            f.severity, f.derived_from = "info", causes
            f.remedy_kind, f.remedy = remedies.derived(causes)
    times = [x for x in served.times if x and x != "None"]
    return SkewReport(
        label=label or f"{fitted.spec.name}@{fitted.spec.version}: serving log vs training baseline",
        fingerprint=fitted.fingerprint,
        records=served.records,
        files=served.read.files,
        seconds=time.perf_counter() - started,
        thresholds=t,
        findings=findings,
        columns=columns,
        transformation=transformation,
        period=[min(times), max(times)] if times else None,
        lineage=lineage["upstream"],
        unparseable=served.read.unparseable,
        by=by,
        windows=[{"start": w, "records": n} for w, (n, _) in served.windows.items()],
    )


def window_series(
    summaries: Mapping[str, dict[str, Any]], measure: Callable[[dict[str, Any], dict[str, Any]], Any]
) -> dict[str, list[dict[str, Any]]]:
    """Per metric, its measure in each window (``summaries``: window start -> the column's serving
    summary there; ``measure(summary, info)`` records the measures in ``info["metrics"]``). A
    window where a metric does not apply (no value of the column, say) has no point for it."""
    series: dict[str, list[dict[str, Any]]] = {}
    for start, summary in summaries.items():
        if not summary["n"]:
            continue
        scratch: dict[str, Any] = {"metrics": {}}
        measure(summary, scratch)
        for key, m in scratch["metrics"].items():
            point = {"start": start, "records": summary["n"], "value": m["value"], "threshold": m["threshold"]}
            series.setdefault(key, []).append({**point, "failed": m["failed"]})
    return series


def read_log(source: Any) -> Iterable[dict[str, Any]]:
    """All records of a log (paths/globs or iterable), for small logs and tests."""
    for chunk in iter_records(source, LogStats()):
        yield from chunk
