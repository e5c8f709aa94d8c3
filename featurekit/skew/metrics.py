"""The skew metrics: one table of definitions, evaluated per column in one loop.

A metric compares the training statistics of a column (its entry in the artifact's baseline,
see :mod:`featurekit.baseline`) with the serving statistics of the same column (the serving
summary of :class:`featurekit.analyzers.columns.ColumnStats`). Each :class:`Metric` in
:data:`METRICS` says which columns it applies to, how it measures them (one or more
:class:`Measure`, each against ``min_effect + noise bound``, see :mod:`featurekit.skew.stats`),
its default thresholds, and the finding it raises when a measure fails. The report records
every measure under the column's ``metrics``; chart data go to the column entry too.

Record-level checks (another artifact's fingerprint, unparseable lines, undeclared fields) are
:func:`record_findings`; the transformation recheck is :mod:`featurekit.skew.recheck`.

>>> sorted(DEFAULT_THRESHOLDS)[:4]
['columns', 'fingerprint_mismatch', 'js', 'linf']
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from featurekit.analyzers.columns import kind_of_type, most_common
from featurekit.serving_log import SkewInputError
from featurekit.skew import remedies, stats
from featurekit.skew.report import Finding
from featurekit.spec import monitoring

__all__ = [
    "DEFAULT_THRESHOLDS",
    "METRICS",
    "Column",
    "Measure",
    "Metric",
    "evaluate",
    "load_thresholds",
    "merge_thresholds",
    "with_severity",
]


@dataclasses.dataclass
class Column:
    """One column as the metrics see it: training and serving statistics, who reads it, settings."""

    role: str  # input | output
    name: str
    type_name: str
    serving: dict[str, Any]  # ColumnStats serving summary
    training: Mapping[str, Any]  # the baseline's column entry ({} when the baseline has none)
    baseline: Mapping[str, Any]  # the whole baseline (its sample size)
    consumers: list[dict[str, Any]]  # op uses reading this input (featurekit.skew.lineage)
    vocabularies: list[tuple[dict[str, Any], frozenset]]  # op uses with a fitted vocabulary, aligned with "unseen"
    nullable: bool
    thresholds: Mapping[str, Any]
    info: dict[str, Any]  # the report's entry for the column (metrics, chart data)

    @property
    def kind(self) -> str:
        return kind_of_type(self.type_name)

    @property
    def features(self) -> list[str]:
        return sorted({c["feature"] for c in self.consumers})

    def min_effect(self, key: str) -> float:
        """The threshold ``key`` for this column (a per-column override or the global value)."""
        t = self.thresholds
        return float(t.get("columns", {}).get(self.name, {}).get(key, t[key]))

    @property
    def z(self) -> float:
        return float(self.thresholds["z"])

    @property
    def training_present(self) -> int:
        """Non-null training values (at least 1)."""
        n_t, p_t = int(self.training.get("count") or 0), self.training.get("null_rate") or 0.0
        return max(int(round(n_t * (1 - p_t))), 1)


@dataclasses.dataclass
class Measure:
    """One measured value against its threshold; ``extra`` goes to the report with it."""

    key: str
    value: float
    threshold: float
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.value > self.threshold


@dataclasses.dataclass(frozen=True)
class Metric:
    """A metric definition: ``applies(column)``, ``measure(column)`` and the ``finding`` of its
    failed measures; ``thresholds`` the threshold keys it reads with their defaults.
    ``training``: needs the column's baseline entry; ``unless``: no finding when one of these
    metrics failed on the same column (it explains this one)."""

    name: str
    doc: str
    thresholds: tuple[str, ...]
    applies: Callable[[Column], bool]
    measure: Callable[[Column], list[Measure]]
    finding: Callable[[Column, list[Measure]], list[Finding]]
    training: bool = True
    unless: tuple[str, ...] = ()


def _finding(col: Column, m: Measure, severity: str, kind: str, message: str, remedy: tuple[str, str]) -> Finding:
    return Finding(severity, kind, col.name, col.role, m.key, m.value, m.threshold, message, *remedy)


# ------------------------------------------------------------------------------ schema


def _missing_field(col: Column) -> list[Measure]:
    return [Measure("missing_field", col.serving["missing"] / col.serving["n"], col.min_effect("missing_field"))]


def _missing_field_finding(col: Column, failed: list[Measure]) -> list[Finding]:
    m = failed[0]
    remedy = remedies.missing_field(col.name, col.nullable, col.features)
    return [_finding(col, m, "warning", "schema", f"input {col.name} is missing from {m.value:.1%} of records", remedy)]


def _type_change(col: Column) -> list[Measure]:
    bad = col.serving["bad"]
    return [Measure("type_change", sum(bad.values()) / col.serving["n"], col.min_effect("type_change"), {"types": bad})]


def _type_change_finding(col: Column, failed: list[Measure]) -> list[Finding]:
    m, s = failed[0], col.serving
    got = ", ".join(f"{k} ({c:,})" for k, c in most_common(s["bad"]))
    examples = ", ".join(repr(v)[:40] for v in s["bad_examples"][:3])
    message = f"{col.role} {col.name}: {m.value:.2%} of values are {got}, not {col.type_name} (e.g. {examples})"
    severity = "critical" if col.role == "output" else "warning"
    return [_finding(col, m, severity, "schema", message, remedies.type_change(col.name, col.role, col.type_name))]


# ------------------------------------------------------------------------------ data


def _null_rate(col: Column) -> list[Measure]:
    s, b = col.serving, col.training
    p_s, p_t = s["nulls"] / s["n"], b.get("null_rate") or 0.0
    col.info["null_rate"] = {"training": p_t, "serving": p_s}
    bound = stats.rate_bound(p_t, p_s, s["n"], int(b.get("count") or 0), col.z)
    return [
        Measure("null_rate", abs(p_s - p_t), col.min_effect("null_rate") + bound, {"training": p_t, "serving": p_s})
    ]


def _null_rate_finding(col: Column, failed: list[Measure]) -> list[Finding]:
    m = failed[0]
    p_t, p_s = m.extra["training"], m.extra["serving"]
    message = f"{col.role} {col.name}: null rate {p_s:.1%} in serving vs {p_t:.1%} in training"
    return [
        _finding(col, m, "warning", "data", message, remedies.null_rate(col.name, p_s, col.consumers, col.features))
    ]


def _out_of_range(col: Column) -> list[Measure]:
    s, b = col.serving, col.training
    share = s["out_of_range"] / s["present"]
    bound = stats.rate_bound(0.0, share, s["present"], col.training_present, col.z)
    extra = {
        "training_min": b.get("min"),
        "training_max": b.get("max"),
        "serving_min": s["min"],
        "serving_max": s["max"],
    }
    return [Measure("out_of_range", share, col.min_effect("out_of_range") + bound, extra)]


def _out_of_range_finding(col: Column, failed: list[Measure]) -> list[Finding]:
    m, e = failed[0], failed[0].extra
    message = (
        f"{col.role} {col.name}: {m.value:.1%} of values outside the training range "
        f"[{e['training_min']}, {e['training_max']}] (serving [{e['serving_min']}, {e['serving_max']}])"
    )
    return [_finding(col, m, "warning", "data", message, remedies.out_of_range(col.name, col.consumers, col.features))]


def _distribution(col: Column) -> list[Measure]:
    s, b = col.serving, col.training
    train = [0] + list(b["histogram"]["counts"]) + [0]
    serve = s["bins"]
    n_tr = sum(train)
    k = sum(1 for a, c in zip(train, serve) if a or c)
    col.info["histogram"] = {"edges": list(b["histogram"]["edges"]), "training": train, "serving": serve}
    if s["min"] is not None:
        col.info["mean"] = {"training": b.get("mean"), "serving": s["mean"]}
    psi, js = stats.psi(train, serve), stats.js_distance(train, serve)
    return [
        Measure("psi", psi, col.min_effect("psi") + stats.psi_bound(k, s["present"], n_tr, col.z)),
        Measure("js", js, col.min_effect("js") + stats.js_bound(k, s["present"], n_tr, col.z)),
    ]


def _distribution_finding(col: Column, failed: list[Measure]) -> list[Finding]:
    psi, js = (col.info["metrics"][k] for k in ("psi", "js"))
    message = (
        f"{col.role} {col.name}: distribution shift, PSI {psi['value']:.3f} (threshold {psi['threshold']:.3f}), "
        f"JS distance {js['value']:.3f} (threshold {js['threshold']:.3f})"
    )
    return [_finding(col, failed[0], "warning", "data", message, remedies.distribution(col.name, col.consumers))]


def _true_rate(col: Column) -> list[Measure]:
    s = col.serving
    r_s, r_t = s["trues"] / s["present"], col.training["true_rate"]
    bound = stats.rate_bound(r_t, r_s, s["present"], col.training_present, col.z)
    return [Measure("linf", abs(r_s - r_t), col.min_effect("linf") + bound, {"training": r_t, "serving": r_s})]


def _true_rate_finding(col: Column, failed: list[Measure]) -> list[Finding]:
    m = failed[0]
    message = f"{col.role} {col.name}: true rate {m.extra['serving']:.1%} vs {m.extra['training']:.1%} in training"
    return [_finding(col, m, "warning", "data", message, remedies.true_rate())]


def _training_top(col: Column) -> tuple[list[list[Any]], int, bool, float]:
    """The baseline's top values, the non-null rows they were counted on, whether they are every
    value, and (if not) the largest share a value outside them can have had."""
    b, sample = col.training, col.baseline.get("sample", {})
    top = b.get("top") or []
    rows = max(int(round((sample.get("rows") or int(b.get("count") or 0)) * (1 - (b.get("null_rate") or 0.0)))), 1)
    complete = (b.get("distinct") or 0) <= len(top)
    return top, rows, complete, 0.0 if complete else top[-1][1] / rows


def _category_shares(col: Column) -> list[Measure]:
    s = col.serving
    top, rows_t, complete, bound = _training_top(col)
    t_share = {v: c / rows_t for v, c in top}
    values, present = s["values"], s["present"]
    rows = []
    worst, worst_v = 0.0, None
    for v, c in most_common(values, 50):
        share = c / present
        tr = t_share.get(v)
        gap = abs(share - tr) if tr is not None else max(share - bound, 0.0)  # the least change it can be
        rows.append([v, tr if tr is not None or not complete else 0.0, share])
        if gap > worst:
            worst, worst_v = gap, v
    for v, tr in t_share.items():
        share = values.get(v, 0) / present
        if abs(share - tr) > worst:
            worst, worst_v = abs(share - tr), v
        if v not in values:
            rows.append([v, tr, 0.0])
    col.info["top"] = sorted(rows, key=lambda r: -max(r[1] or 0.0, r[2]))[:30]
    col.info["top_training"] = {
        "rows": rows_t,
        "sampled": (col.baseline.get("sample", {}).get("stride") or 1) > 1,
        "complete": complete,
        "bound": None if complete else bound,
    }
    threshold = col.min_effect("linf") + stats.linf_bound(present, rows_t, col.z)
    return [Measure("linf", worst, threshold, {"value_of": worst_v})]


def _category_shares_finding(col: Column, failed: list[Measure]) -> list[Finding]:
    m = failed[0]
    message = f"{col.role} {col.name}: category shares moved, largest change {m.value:.1%} for {m.extra['value_of']!r}"
    return [_finding(col, m, "warning", "data", message, remedies.category_shares(col.consumers))]


def _unseen(col: Column) -> list[Measure]:
    s = col.serving
    top, rows_t, _, _ = _training_top(col)
    out = []
    for i, (use, vocab) in enumerate(col.vocabularies):
        u_s = s["unseen"][i] / s["present"]
        # values outside ``top`` count as unseen: exact when it is complete, else an upper bound
        u_t = max(0.0, 1.0 - sum(c for v, c in top if v in vocab) / rows_t) if top else 0.0
        threshold = col.min_effect("unseen_rate") + stats.rate_bound(u_t, u_s, s["present"], rows_t, col.z)
        col.info["unseen"] = [[v, c] for v, c in most_common(s["unseen_values"], 20)]
        key = "unseen_rate" if i == 0 else f"unseen_rate[{use['feature']}]"
        out.append(Measure(key, u_s - u_t, threshold, {"training": u_t, "serving": u_s, "feature": use["feature"]}))
    return out


def _unseen_finding(col: Column, failed: list[Measure]) -> list[Finding]:
    uses = {use["feature"]: (use, vocab) for use, vocab in col.vocabularies}
    examples = ", ".join(repr(v)[:40] for v, _ in most_common(col.serving["unseen_values"], 5))
    out = []
    for m in failed:
        use, vocab = uses[m.extra["feature"]]
        message = (
            f"input {col.name}: {m.extra['serving']:.1%} values neither in its known values nor seen in "
            f"training (training {m.extra['training']:.1%})"
            if use["role"] == "known"
            else f"feature {use['feature']}: {m.extra['serving']:.1%} unseen categories of {col.name} "
            f"(training {m.extra['training']:.1%}; e.g. {examples})"
        )
        m = dataclasses.replace(m, key="unseen_rate")
        out.append(_finding(col, m, "warning", "data", message, remedies.unseen(use, len(vocab))))
    return out


METRICS: tuple[Metric, ...] = (
    Metric(
        "missing_field",
        "share of records without a declared input field",
        ("missing_field",),
        lambda c: c.role == "input" and c.serving["missing"] > 0,
        _missing_field,
        _missing_field_finding,
        training=False,
    ),
    Metric(
        "type_change",
        "share of values of a type the contract does not take",
        ("type_change",),
        lambda c: sum(c.serving["bad"].values()) > 0,
        _type_change,
        _type_change_finding,
        training=False,
    ),
    Metric(
        "null_rate",
        "|change| of the null rate (NaN counts as null)",
        ("null_rate",),
        lambda c: True,
        _null_rate,
        _null_rate_finding,
    ),
    Metric(
        "out_of_range",
        "increase of the share outside the training [min, max] (numbers, timestamps)",
        ("out_of_range",),
        lambda c: c.kind in ("num", "ts") and c.serving["present"] > 0,
        _out_of_range,
        _out_of_range_finding,
    ),
    Metric(
        "distribution",
        "population stability index and Jensen-Shannon distance (base 2) on the training histogram bins",
        ("psi", "js"),
        lambda c: c.kind == "num" and bool(c.serving["bins"]) and c.serving["present"] > 0,
        _distribution,
        _distribution_finding,
    ),
    Metric(
        "true_rate",
        "|change| of the share of true values (bool)",
        ("linf",),
        lambda c: c.kind == "bool" and c.serving["present"] > 0 and c.training.get("true_rate") is not None,
        _true_rate,
        _true_rate_finding,
    ),
    Metric(
        "category_shares",
        "L-infinity distance of category shares",
        ("linf",),
        lambda c: c.kind == "str" and c.serving["present"] > 0,
        _category_shares,
        _category_shares_finding,
        unless=("unseen_rate",),
    ),
    Metric(
        "unseen_rate",
        "increase of the share of values outside a fitted vocabulary (one measure per vocabulary; "
        "open known values with the training values count as one)",
        ("unseen_rate",),
        lambda c: c.kind == "str" and c.serving["present"] > 0 and bool(c.vocabularies),
        _unseen,
        _unseen_finding,
    ),
)

DEFAULT_THRESHOLDS: dict[str, Any] = monitoring.defaults()
"""Every threshold key with its default (:mod:`featurekit.spec.monitoring`); per-column overrides
under ``columns: {column: {metric: value, min_samples: N, severity: ...}}``."""


def evaluate(col: Column) -> tuple[list[Finding], bool]:
    """Every metric of :data:`METRICS` on ``col``: its findings, and whether any measure failed.
    Measures are recorded in ``col.info["metrics"]``."""
    failed_metrics: set[str] = set()
    findings: list[Finding] = []
    pending: list[tuple[Metric, list[Measure]]] = []
    for metric in METRICS:
        if (metric.training and not col.training) or not metric.applies(col):
            continue
        measures = metric.measure(col)
        for m in measures:
            col.info["metrics"][m.key] = {"value": m.value, "threshold": m.threshold, "failed": m.failed, **m.extra}
        failed = [m for m in measures if m.failed]
        if failed:
            failed_metrics.add(metric.name)
            pending.append((metric, failed))
    for metric, failed in sorted(pending, key=lambda p: bool(p[0].unless)):  # explained ones decide last
        if not failed_metrics & set(metric.unless):
            findings += metric.finding(col, failed)
    min_samples = col.thresholds.get("columns", {}).get(col.name, {}).get("min_samples")
    if min_samples is not None and col.serving["n"] < min_samples:
        n = col.serving["n"]
        message = f"{col.role} {col.name}: {n:,} serving record(s), fewer than min_samples {min_samples:,}; " + (
            f"{len(findings)} failing finding(s) held back" if findings else "no measure failed"
        )
        remedy = f"wait for {min_samples:,} records of {col.name}, or lower its min_samples under monitoring: columns:"
        note = Finding(
            "info", "data", col.name, col.role, "min_samples", float(n), float(min_samples), message, "monitor", remedy
        )
        return [note], False
    return with_severity(findings, col.thresholds), bool(failed_metrics)


def with_severity(findings: list[Finding], thresholds: Mapping[str, Any]) -> list[Finding]:
    """``findings`` with the ``severity`` of their column's entry (under ``columns:``) when failing."""
    columns = thresholds.get("columns", {})
    for f in findings:
        severity = columns.get(f.column, {}).get("severity")
        if severity is not None and f.failing:
            f.severity = severity
    return findings


def record_findings(
    records: int,
    unparseable: int,
    unparseable_examples: Sequence[str],
    other_fingerprints: Mapping[str, int],
    extra_fields: Mapping[str, int],
    thresholds: Mapping[str, Any],
    pin: str,
) -> list[Finding]:
    """Record-level checks: records served by another artifact, unparseable lines, undeclared fields."""
    out = []
    fp_share = sum(other_fingerprints.values()) / records
    thr = float(thresholds["fingerprint_mismatch"])
    if fp_share > thr:
        shown = ", ".join(f"{f[:12]} ({c:,})" for f, c in most_common(other_fingerprints, 3))
        message = f"{fp_share:.1%} of records were served by another artifact: {shown}"
        out.append(
            Finding(
                "critical",
                "state",
                "<records>",
                "record",
                "fingerprint_mismatch",
                fp_share,
                thr,
                message,
                *remedies.fingerprint_mismatch(pin),
            )
        )
    if unparseable:
        share = unparseable / (records + unparseable)
        message = f"{unparseable:,} log line(s) are not valid records and were skipped, e.g. " + "; ".join(
            unparseable_examples[:3]
        )
        out.append(
            Finding(
                "warning",
                "schema",
                "<records>",
                "record",
                "unparseable_records",
                share,
                0.0,
                message,
                *remedies.unparseable_records(),
            )
        )
    columns = thresholds.get("columns", {})
    for field, c in sorted(extra_fields.items()):
        share = c / records
        thr = float(columns.get(field, {}).get("unexpected_field", thresholds["unexpected_field"]))
        if share > thr:
            message = f"input field {field!r} is not declared by the spec ({share:.1%} of records)"
            out.append(
                Finding(
                    "warning",
                    "schema",
                    field,
                    "input",
                    "unexpected_field",
                    share,
                    thr,
                    message,
                    *remedies.unexpected_field(field),
                )
            )
    return out


def _input_error(key: str, what: str, fix: str, hint: str | None) -> SkewInputError:
    return SkewInputError(f"thresholds: {what}\n  Fix: {fix}" + (f"\n  Hint: {hint}" if hint else ""))


def merge_thresholds(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with the keys of ``override`` (checked thresholds) replacing its own: global keys,
    and per column each key of a column entry.

    >>> merge_thresholds(DEFAULT_THRESHOLDS, {"psi": 0.3, "columns": {"age": {"js": 0.2}}})["columns"]
    {'age': {'js': 0.2}}
    """
    out = {**base, **{k: v for k, v in override.items() if k != "columns"}}
    columns = {name: dict(entry) for name, entry in base.get("columns", {}).items()}
    for name, entry in override.get("columns", {}).items():
        columns[name] = {**columns.get(name, {}), **entry}
    out["columns"] = columns
    return out


def load_thresholds(
    source: str | os.PathLike | Mapping[str, Any] | None, spec_monitoring: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Defaults, overridden by the spec's ``monitoring:`` section, overridden by a mapping or a
    YAML file (top level or under ``monitoring:``); later wins per key and per column key."""
    out = merge_thresholds(DEFAULT_THRESHOLDS, spec_monitoring or {})
    if source is None:
        return out
    if isinstance(source, (str, os.PathLike)):
        import yaml

        try:
            with open(source, encoding="utf-8") as fh:
                data = yaml.safe_load(fh) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise SkewInputError(
                f"thresholds {os.fspath(source)!r}: {exc}\n  Fix: pass a YAML mapping such as 'psi: 0.25'"
            ) from None
    else:
        data = dict(source)
    if isinstance(data, Mapping) and isinstance(data.get("monitoring"), Mapping):
        data = data["monitoring"]
    return merge_thresholds(out, monitoring.check(data, _input_error))
