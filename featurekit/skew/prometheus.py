"""Skew metrics in the Prometheus text exposition format, for monitoring systems to scrape.

One gauge family per skew metric (``featurekit_skew_psi``, ``featurekit_skew_null_rate``, ...),
one sample per checked column, labelled with the column, its role, the transform fingerprint and
the window (``window`` for the whole report, and one sample per time window of a report
made with ``by``, labelled with the window's start); ``featurekit_skew_threshold`` and ``featurekit_skew_over_threshold`` carry each
check's threshold and verdict, and a few report-level gauges (records, findings per severity,
``ok``, the end of the logged period) let an alert fire on a stale or failing report.

The text is valid for both the Prometheus text format and OpenMetrics (it ends with
``# EOF``, which the Prometheus format reads as a comment), so the same file serves a node
exporter textfile collector (write it with :func:`write_textfile`, which renames into place) and
an OpenMetrics scraper.

>>> text = render_prometheus({"fingerprint": "ab12", "records": 10, "ok": True, "findings": [],
...     "period": None, "columns": {"input:x": {"role": "input", "metrics": {"null_rate":
...     {"value": 0.25, "threshold": 0.1, "failed": True}}}}})
>>> print(text.splitlines()[2])
featurekit_skew_null_rate{column="x",role="input",fingerprint="ab12",window="all"} 0.25
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from typing import Any

PREFIX = "featurekit_skew_"
SEVERITIES = ("critical", "warning", "info")

_HELP = {
    "null_rate": "absolute change of the null rate, serving vs training",
    "missing_field": "share of records without the field",
    "type_change": "share of records whose value has another type than the contract's",
    "psi": "population stability index of the binned distribution",
    "js": "Jensen-Shannon distance of the binned distribution",
    "linf": "largest absolute change of one category's share",
    "out_of_range": "share of values outside the training range",
    "unseen_rate": "share of values never seen in training",
    "mismatch_rate": "share of sampled records whose logged output the batch path does not reproduce",
}


def _name(metric: str) -> str:
    return PREFIX + re.sub(r"[^a-zA-Z0-9_]", "_", metric)


def _label_value(text: Any) -> str:
    return str(text).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(pairs: Mapping[str, Any]) -> str:
    return "{" + ",".join(f'{k}="{_label_value(v)}"' for k, v in pairs.items()) + "}"


def _number(value: Any) -> str | None:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isnan(value):
            return "NaN"
        if isinstance(value, float) and math.isinf(value):
            return "+Inf" if value > 0 else "-Inf"
        return repr(float(value)) if isinstance(value, float) else str(value)
    if value in ("inf", "-inf"):  # the report's JSON form of infinities
        return "+Inf" if value == "inf" else "-Inf"
    return None


def _family(name: str, help_text: str, samples: Iterable[tuple[Mapping[str, Any], str]]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
    lines += [f"{name}{_labels(labels)} {value}" for labels, value in samples]
    return lines


def render_prometheus(report: Mapping[str, Any], *, window: str = "all") -> str:
    """The exposition text of one skew report (``SkewReport.to_dict()``) for one ``window``."""
    base = {"fingerprint": report.get("fingerprint", ""), "window": window}
    per_metric: dict[str, list[tuple[dict[str, Any], str]]] = {}
    thresholds: list[tuple[dict[str, Any], str]] = []
    verdicts: list[tuple[dict[str, Any], str]] = []
    for key in sorted(report.get("columns", {})):
        info = report["columns"][key]
        role, _, column = key.partition(":")
        for metric in sorted(info.get("metrics", {})):
            check = info["metrics"][metric]
            family, _, feature = metric.partition("[")  # "unseen_rate[feature]": one per consumer
            labels = {"column": column, "role": info.get("role", role), **base}
            if feature or "feature" in check:
                labels["feature"] = feature.rstrip("]") or check["feature"]
            points = [(labels, check)] + [
                ({**labels, "window": p["start"]}, p) for p in info.get("windows", {}).get(metric, [])
            ]  # the report's time windows (``by``), one sample each
            for point_labels, point in points:
                value = _number(point.get("value"))
                if value is None:
                    continue
                per_metric.setdefault(family, []).append((point_labels, value))
                threshold = _number(point.get("threshold"))
                if threshold is not None:
                    thresholds.append(({**point_labels, "metric": family}, threshold))
                verdicts.append(({**point_labels, "metric": family}, "1" if point.get("failed") else "0"))
    lines: list[str] = []
    for metric in sorted(per_metric):
        lines += _family(_name(metric), _HELP.get(metric, f"skew metric {metric}"), per_metric[metric])
    lines += _family(PREFIX + "threshold", "threshold of each check (same labels plus metric)", thresholds)
    lines += _family(PREFIX + "over_threshold", "1 where the check is over its threshold", verdicts)
    counts = {s: 0 for s in SEVERITIES}
    for finding in report.get("findings", []):
        counts[finding.get("severity", "info")] = counts.get(finding.get("severity", "info"), 0) + 1
    lines += _family(PREFIX + "records", "serving records read", [(base, str(int(report.get("records", 0))))])
    lines += _family(
        PREFIX + "findings", "findings per severity", [({**base, "severity": s}, str(n)) for s, n in counts.items()]
    )
    lines += _family(
        PREFIX + "ok", "1 when no finding is over its threshold", [(base, "1" if report.get("ok") else "0")]
    )
    period = report.get("period")
    if period:
        end = dt.datetime.fromisoformat(period[1]).timestamp()
        lines += _family(PREFIX + "period_end_timestamp_seconds", "time of the last logged record", [(base, repr(end))])
    return "\n".join(lines) + "\n# EOF\n"


def write_textfile(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically (a temporary file in the same directory, then a rename),
    so a reader (a node exporter textfile collector, a CI step) never sees half a file."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".featurekit-", suffix=".prom.tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
