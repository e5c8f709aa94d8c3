"""Skew report: findings (severity, kind, metric, value, threshold, remedy) and per-column statistics.

Formats: :meth:`SkewReport.to_text` (table sorted by severity), :meth:`to_json` (with
``schema_version``), :meth:`to_junit` (one testcase per column checked), :meth:`to_html`
(one self-contained page: inline CSS and SVG, no network).

A finding explained by another one has severity ``info`` and does not fail the report:

>>> Finding("info", "data", "x", "input", "null_rate", 0.1, 0.05, "...", "monitor", "...").failing
False
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from featurekit.skew.html import render_html
from featurekit.skew.text import printable

SCHEMA_VERSION = 1
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


@dataclasses.dataclass
class Finding:
    severity: str  # critical | warning | info (info: explained by another finding; not failing)
    kind: str  # schema | data | transformation | state
    column: str
    role: str  # input | output | record
    metric: str
    value: float
    threshold: float
    message: str
    remedy_kind: str  # close | restrict | robustify | monitor
    remedy: str
    derived_from: list[str] = dataclasses.field(default_factory=list)

    @property
    def failing(self) -> bool:
        return self.severity != "info"


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None if v != v else ("inf" if v > 0 else "-inf")
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)


@dataclasses.dataclass
class SkewReport:
    label: str
    fingerprint: str
    records: int
    files: list[str]
    seconds: float
    thresholds: dict[str, Any]
    findings: list[Finding]
    columns: dict[str, dict[str, Any]]
    transformation: dict[str, Any]
    period: list[str] | None = None
    lineage: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    unparseable: int = 0  # log lines skipped (not valid records); the finding names a few
    by: str | None = None  # day | hour: metrics are also measured per window (columns' "windows")
    windows: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # [{start, records}], "unknown" last

    def first_failed_windows(self) -> list[tuple[str, str, str]]:
        """(column, metric, window start) of the first window each failing column's metric failed in."""
        failing = {f"{f.role}:{f.column}" for f in self.failing}
        out = []
        for key in sorted(failing & set(self.columns)):
            for metric, series in sorted(self.columns[key].get("windows", {}).items()):
                first = next((p["start"] for p in series if p["failed"]), None)
                if first is not None:
                    out.append((key, metric, first))
        return out

    @property
    def ok(self) -> bool:
        return not any(f.failing for f in self.findings)

    @property
    def failing(self) -> list[Finding]:
        return [f for f in self.sorted_findings() if f.failing]

    def sorted_findings(self) -> list[Finding]:
        return sorted(self.findings, key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), f.kind, f.column, f.metric))

    # -- text --------------------------------------------------------------------------------

    def to_text(self) -> str:
        head = (
            f"{self.label}\n{self.records:,} records"
            + (f" from {len(self.files)} file(s)" if self.files else "")
            + (f", {self.period[0]} .. {self.period[1]}" if self.period else "")
            + (f" ({self.unparseable:,} unparseable line(s) skipped)" if self.unparseable else "")
            + f"; {self.transformation.get('sampled', 0):,} recomputed through the batch path; "
            f"{self.seconds:.1f}s"
        )
        if not self.findings:
            return printable(
                head + (f"\n{self._windows_text()}" if self.by else "") + "\nok: every check is within its threshold"
            )
        rows = [("SEVERITY", "KIND", "COLUMN", "METRIC", "VALUE", "THRESHOLD", "REMEDY")]
        for f in self.sorted_findings():
            rows.append(
                (f.severity, f.kind, f.column, f.metric, f"{f.value:.4g}", f"{f.threshold:.4g}", f"{f.remedy_kind}")
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = [head, ""]
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        lines.append("")
        for f in self.sorted_findings():
            lines.append(f"[{f.severity}] {f.message}\n    → {f.remedy_kind}: {f.remedy}")
        if self.by:
            lines += ["", self._windows_text()]
        n_fail = len(self.failing)
        lines.append("")
        lines.append(
            f"FAILED: {n_fail} finding(s) over threshold"
            if n_fail
            else "ok: every check is within its threshold (info findings only)"
        )
        return printable("\n".join(lines))

    def _windows_text(self) -> str:
        """The window count, records without a time, and per failing column the first failed window."""
        unknown = sum(w["records"] for w in self.windows if w["start"] == "unknown")
        lines = [
            f"windows by {self.by}: {len(self.windows)}"
            + (f" ({unknown:,} record(s) without a time in 'unknown')" if unknown else "")
        ]
        return "\n".join(lines + [f"  {c} {m}: first failed in window {w}" for c, m, w in self.first_failed_windows()])

    # -- json ----------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return _clean(
            {
                "schema_version": SCHEMA_VERSION,
                "label": self.label,
                "ok": self.ok,
                "fingerprint": self.fingerprint,
                "records": self.records,
                "unparseable": self.unparseable,
                "files": self.files,
                "period": self.period,
                "seconds": self.seconds,
                "thresholds": self.thresholds,
                "findings": [dataclasses.asdict(f) for f in self.sorted_findings()],
                "columns": self.columns,
                "transformation": self.transformation,
                **({"by": self.by, "windows": self.windows} if self.by else {}),
            }
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False)

    # -- junit ---------------------------------------------------------------------------------

    def to_junit(self) -> str:
        by_col: dict[str, list[Finding]] = {}
        for f in self.findings:
            by_col.setdefault(f"{f.role}:{f.column}", []).append(f)
        names = sorted(set(self.columns) | set(by_col))
        failures = sum(1 for c in names if any(f.failing for f in by_col.get(c, [])))
        out = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<testsuite name={quoteattr("featurekit skew: " + self.label)} tests="{len(names)}" '
            f'failures="{failures}" time="{self.seconds:.3f}">',
        ]
        for c in names:
            out.append(f'  <testcase classname="featurekit.skew" name={quoteattr(c)}>')
            bad = [f for f in by_col.get(c, []) if f.failing]
            if bad:
                msg = "; ".join(f"{f.kind}/{f.metric} {f.value:.4g} > {f.threshold:.4g}" for f in bad)
                body = "\n".join(f"[{f.severity}] {f.message}\n  -> {f.remedy_kind}: {f.remedy}" for f in bad)
                out.append(f'    <failure message={quoteattr(msg)} type="skew">{escape(body)}</failure>')
            info = [f for f in by_col.get(c, []) if not f.failing]
            if info:
                out.append(
                    "    <system-out>"
                    + escape("\n".join(f"[info] {f.message} ({f.remedy})" for f in info))
                    + "</system-out>"
                )
            out.append("  </testcase>")
        out.append("</testsuite>")
        return printable("\n".join(out))

    def to_html(self) -> str:
        return render_html(self)

    def render(self, fmt: str) -> str:
        return {"text": self.to_text, "json": self.to_json, "junit": self.to_junit, "html": self.to_html}[fmt]()
