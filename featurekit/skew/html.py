"""The self-contained HTML skew report: inline CSS and SVG only (no scripts, no network).

It reads a :class:`featurekit.skew.report.SkewReport` by its attributes and does not import it
(the report imports this module for :meth:`~featurekit.skew.report.SkewReport.to_html`).
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

from featurekit.skew.text import printable

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}.sev-critical{color:#b00020;font-weight:bold}.sev-warning{color:#b36b00;font-weight:bold}
.sev-info,.info{color:#666}.ok{color:#1b7f3b;font-weight:bold}.fail{color:#b00020}
section.finding{border-left:4px solid #ccc;padding:.3em 1em;margin:1em 0}
section.finding.critical{border-color:#b00020}section.finding.warning{border-color:#e09000}
section.finding.info{border-color:#aaa}.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}
.spark{display:flex;align-items:center;gap:.6em}.spark code{min-width:9em}
code,pre{font:12px ui-monospace,monospace;background:#f7f7f7}pre{padding:.5em;overflow:auto}
"""

_TRAIN, _SERVE = "#4c78a8", "#f58518"


def _e(v: Any) -> str:
    return html.escape(str(v), quote=True)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return _e(v)


# x-axis labels: monospace, so their width is known without a browser (0.6 em per character in
# the common monospace fonts; 0.62 leaves room), and a page never depends on a font being there.
_LABEL_FONT = 10
_CHAR_W = 0.62 * _LABEL_FONT
_LABEL_MAX = 24  # characters shown before a label is cut (the full text is in its tooltip)
_MAX_WIDTH = 1100  # wider charts turn their labels upright instead of growing


def _axis_label(text: str) -> tuple[str, bool]:
    """The shown label and whether it was cut (then the full text goes in a tooltip); a blank
    value (``""``, spaces) is shown quoted so it is visible.

    >>> _axis_label("DE"), _axis_label(""), _axis_label("x" * 30)
    (('DE', False), ("''", False), ('xxxxxxxxxxxxxxxxxxxxxxx…', True))
    """
    if not text.strip():
        return repr(text), False
    return (text, False) if len(text) <= _LABEL_MAX else (text[: _LABEL_MAX - 1] + "…", True)


def _bars_svg(
    labels: list[str],
    train: list[float | None],
    serve: list[float],
    title: str,
    *,
    shares: bool = False,
    bound: float | None = None,
    kind: str = "category",
) -> str:
    """Grouped bars, training vs serving, on one scale.

    ``shares``: the values are shares of all records already and are drawn as they are (a
    subset of categories must not be rescaled to sum to 1); otherwise they are counts, drawn
    as shares of their sum. A training share of None (a value outside the baseline's kept top
    values) is drawn as a dashed outline up to ``bound``, the most it can have been.

    Each bar group is at least as wide as its label, so labels never overlap; when that would
    make the chart wider than ``_MAX_WIDTH`` the labels stand upright instead. A label longer than
    ``_LABEL_MAX`` characters is cut with "…" and carries the full text as a tooltip.
    """
    k = len(labels)
    if not k:
        return ""
    if shares:
        pt, ps = list(train), list(serve)
    else:
        ts, ss = sum(t or 0 for t in train) or 1, sum(serve) or 1
        pt, ps = [(c or 0) / ts for c in train], [c / ss for c in serve]
    unknown = bound or 0.0
    top = max([p if p is not None else unknown for p in pt] + ps) or 1
    shown = [_axis_label(label) for label in labels]
    longest = max(len(text) for text, _ in shown) * _CHAR_W
    pad, h = 34, 170
    upright = pad + k * max(24.0, longest + 8) > _MAX_WIDTH
    bw = max(24.0, _LABEL_FONT + 6) if upright else max(24.0, longest + 8)
    w = pad + k * bw
    below = (longest + 10) if upright else 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0f}" height="{h + below:.0f}" role="img" '
        f'class="bars" data-kind="{_e(kind)}" aria-label="{_e(title)}"><title>{_e(title)}</title>'
    ]
    for i in range(k):
        x = pad + i * bw
        for j, (p, color) in enumerate(((pt[i], _TRAIN), (ps[i], _SERVE))):
            side = "training" if j == 0 else "serving"
            bh = (p if p is not None else unknown) / top * (h - 10)
            box = f'x="{x + 2 + j * (bw - 4) / 2:.1f}" y="{h - bh:.1f}" width="{(bw - 4) / 2:.1f}" height="{bh:.1f}"'
            if p is None:
                parts.append(
                    f'<rect {box} fill="none" stroke="{color}" stroke-dasharray="3,2"><title>'
                    f"{_e(labels[i])}: training share unknown, not among the kept top values "
                    f"(at most {unknown:.2%})</title></rect>"
                )
            else:
                parts.append(f'<rect {box} fill="{color}"><title>{_e(labels[i])}: {side} {p:.2%}</title></rect>')
        text, cut = shown[i]
        tip = f"<title>{_e(labels[i])}</title>" if cut else ""
        cx = x + bw / 2
        place = (
            f'x="{cx:.1f}" y="{h + 6}" text-anchor="end" dominant-baseline="middle" '
            f'transform="rotate(-90 {cx:.1f} {h + 6})"'
            if upright
            else f'x="{cx:.1f}" y="{h + 14}" text-anchor="middle"'
        )
        parts.append(
            f'<text class="xlabel" {place} font-size="{_LABEL_FONT}" font-family="monospace">{tip}{_e(text)}</text>'
        )
    parts.append(f'<line x1="{pad}" y1="{h}" x2="{w:.0f}" y2="{h}" stroke="#999"/>')
    parts.append(f'<text x="0" y="10" font-size="9">{top:.0%}</text></svg>')
    return "".join(parts)


def _shares_table(top: list[list[Any]], about: dict[str, Any]) -> str:
    """Category shares as numbers, with what a training share of 0 or "unknown" means."""
    rows = []
    for value, tr, sv in top:
        if tr is None:
            shown = f"unknown (not in the training top values; at most {about.get('bound') or 0.0:.2%})"
        elif tr == 0.0:
            shown = "0 (not in the training" + (" sample)" if about.get("sampled") else " data)")
        else:
            shown = f"{tr:.2%}"
        rows.append(f"<tr><td><code>{_e(value)}</code></td><td>{_e(shown)}</td><td>{sv:.2%}</td></tr>")
    note = (
        f"Training shares are over {about.get('rows', 0):,} "
        + ("sampled " if about.get("sampled") else "")
        + "non-null training rows"
        + (
            "."
            if about.get("complete", True)
            else "; only the most frequent values were kept, so a value outside them has "
            "an unknown share below the last kept one."
        )
    )
    return (
        f'<table class="shares"><tr><th>value</th><th>training</th><th>serving</th></tr>{"".join(rows)}</table>'
        f'<p class="info">{_e(note)}</p>'
    )


def _hist_labels(edges: list[float], integers: bool = False) -> list[str]:
    """Bin labels for the training edges plus an underflow and an overflow bin.

    Bins are ``(e[i-1], e[i]]``; for an integer column they are stated in integers (``x < 3.5``
    is ``x ≤ 3``), so an integer axis never shows fractions.

    >>> _hist_labels([0.5, 2.0, 10.0]), _hist_labels([0.5, 2.0, 10.0], integers=True)
    (['<0.5', '≤2', '≤10', '>10'], ['≤0', '≤2', '≤10', '>10'])
    """
    if integers:
        return (
            [f"≤{math.ceil(edges[0]) - 1}"] + [f"≤{math.floor(e)}" for e in edges[1:]] + [f">{math.floor(edges[-1])}"]
        )
    return [f"<{edges[0]:.3g}"] + [f"≤{e:.3g}" for e in edges[1:]] + [f">{edges[-1]:.3g}"]


def _sparkline(key: str, metric: str, series: list[dict[str, Any]]) -> str:
    """One metric over the report's time windows: a line of its value, the threshold dashed, a red
    dot on each window over it (each dot's tooltip names the window, value and threshold).

    >>> svg = _sparkline("input:x", "psi", [{"start": "d1", "records": 5, "value": 0.1, "threshold": 0.2,
    ...     "failed": False}, {"start": "d2", "records": 5, "value": 0.4, "threshold": 0.2, "failed": True}])
    >>> svg.count("<circle"), 'class="over"' in svg
    (2, True)
    """
    w, h, pad = 160, 28, 3
    finite = [p for p in series if isinstance(p["value"], (int, float)) and math.isfinite(p["value"])]
    top = max(
        [p["value"] for p in finite] + [p["threshold"] for p in finite if math.isfinite(p["threshold"])] + [1e-12]
    )
    step = (w - 2 * pad) / max(len(series) - 1, 1)

    def y(v: float) -> float:
        return h - pad - (h - 2 * pad) * min(max(v, 0.0), top) / top

    pts, dots, limit = [], [], []
    for i, p in enumerate(series):
        x = pad + i * step
        v = p["value"] if p in finite else top
        pts.append(f"{x:.1f},{y(v):.1f}")
        if isinstance(p["threshold"], (int, float)) and math.isfinite(p["threshold"]):
            limit.append(f"{x:.1f},{y(p['threshold']):.1f}")
        tip = f"{p['start']}: {_fmt(p['value'])} (threshold {_fmt(p['threshold'])}, {p['records']:,} records)"
        dots.append(
            f'<circle cx="{x:.1f}" cy="{y(v):.1f}" r="{2.2 if p["failed"] else 1.4}" '
            f'class="{"over" if p["failed"] else "within"}" fill="{"#b00020" if p["failed"] else _TRAIN}">'
            f"<title>{_e(tip)}</title></circle>"
        )
    first = next((p["start"] for p in series if p["failed"]), None)
    return (
        f'<div class="spark" data-metric="{_e(metric)}"><code>{_e(metric)}</code> '
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" '
        f'aria-label="{_e(key)}: {_e(metric)} per window">'
        f'<polyline points="{" ".join(limit)}" fill="none" stroke="#999" stroke-dasharray="3,2"/>'
        f'<polyline points="{" ".join(pts)}" fill="none" stroke="{_TRAIN}"/>{"".join(dots)}</svg> '
        + (f'<span class="fail">first over in {_e(first)}</span>' if first else '<span class="ok">within</span>')
        + "</div>"
    )


def _column_block(key: str, info: dict[str, Any], report: Any) -> str:
    parts = []
    windows = info.get("windows") or {}
    if windows:
        parts.append(
            f'<div class="windows"><p>Per {_e(report.by or "window")}:</p>'
            + "".join(_sparkline(key, m, windows[m]) for m in sorted(windows))
            + "</div>"
        )
    hist = info.get("histogram")
    if hist:
        parts.append(
            _bars_svg(
                _hist_labels(hist["edges"], integers=info.get("type") == "int"),
                hist["training"],
                hist["serving"],
                f"{key}: training vs serving histogram on training edges",
                kind=info.get("type") or "float",
            )
        )
    top = info.get("top")
    if top:
        about = info.get("top_training") or {}
        parts.append(
            _bars_svg(
                [str(r[0]) for r in top[:20]],
                [r[1] for r in top[:20]],
                [r[2] for r in top[:20]],
                f"{key}: category shares, training vs serving",
                shares=True,
                bound=about.get("bound"),
            )
        )
        parts.append(_shares_table(top[:20], about))
    metrics = info.get("metrics") or {}
    if metrics:
        rows = "".join(
            f"<tr><td>{_e(m)}</td><td>{_fmt(v.get('value'))}</td><td>{_fmt(v.get('threshold'))}</td>"
            f'<td class="{"fail" if v.get("failed") else "ok"}">{"over" if v.get("failed") else "within"}'
            f"</td></tr>"
            for m, v in metrics.items()
        )
        parts.append(
            f'<table class="metrics"><tr><th>metric</th><th>value</th><th>threshold</th><th></th></tr>{rows}</table>'
        )
    unseen = info.get("unseen")
    if unseen:
        parts.append("<p>Unseen categories: " + ", ".join(f"<code>{_e(v)}</code> ({c:,})" for v, c in unseen) + "</p>")
    return "".join(parts)


def render_html(report: Any) -> str:
    findings = report.sorted_findings()
    status = (
        '<span class="ok">OK: every check within its threshold</span>'
        if report.ok
        else f'<span class="sev-critical">FAILED: {len(report.failing)} finding(s) over threshold</span>'
    )
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>featurekit skew report: {_e(report.label)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Skew report: {_e(report.label)}</h1>",
        f'<p id="summary">{status}<br>{report.records:,} records'
        + (f", {_e(report.period[0])} .. {_e(report.period[1])}" if report.period else "")
        + f"; artifact fingerprint <code>{_e(report.fingerprint[:16])}</code>; "
        f"{report.transformation.get('sampled', 0):,} records recomputed through the batch path.</p>",
        f'<p class="legend">training<span style="background:{_TRAIN}"></span> serving'
        f'<span style="background:{_SERVE}"></span></p>',
        '<h2 id="findings">Findings</h2>',
    ]
    if findings:
        out.append(
            "<table><tr><th>severity</th><th>kind</th><th>column</th><th>metric</th><th>value</th>"
            "<th>threshold</th><th>remedy</th></tr>"
        )
        for i, f in enumerate(findings):
            out.append(
                f'<tr class="finding-row"><td class="sev-{_e(f.severity)}">{_e(f.severity)}</td><td>{_e(f.kind)}</td>'
                f'<td><a href="#finding-{i}">{_e(f.column)}</a></td><td>{_e(f.metric)}</td>'
                f"<td>{_fmt(f.value)}</td><td>{_fmt(f.threshold)}</td><td>{_e(f.remedy_kind)}</td></tr>"
            )
        out.append("</table>")
    else:
        out.append("<p>No findings.</p>")
    for i, f in enumerate(findings):
        key = f"{f.role}:{f.column}"
        info = report.columns.get(key, {})
        out.append(
            f'<section class="finding {_e(f.severity)}" id="finding-{i}" data-kind="{_e(f.kind)}" '
            f'data-column="{_e(f.column)}" data-metric="{_e(f.metric)}">'
        )
        out.append(f"<h3>[{_e(f.severity)}] {_e(f.kind)}: {_e(f.column)} — {_e(f.metric)}</h3>")
        out.append(f"<p>{_e(f.message)}</p><p><b>{_e(f.remedy_kind)}</b>: {_e(f.remedy)}</p>")
        if f.derived_from:
            out.append(f'<p class="info">Explained by: {_e(", ".join(f.derived_from))}</p>')
        out.append(_column_block(key, info, report))
        tr = report.transformation.get("columns", {}).get(f.column) if f.kind == "transformation" else None
        if tr and tr.get("examples"):
            out.append('<table class="examples"><tr><th>kind</th><th>batch</th><th>served</th><th>input</th></tr>')
            for ex in tr["examples"]:
                out.append(
                    f"<tr><td>{_e(ex['kind'])}</td><td><code>{_e(json.dumps(ex['batch'], default=str))}</code>"
                    f"</td><td><code>{_e(json.dumps(ex['served'], default=str))}</code></td>"
                    f"<td><pre>{_e(json.dumps(ex['input'], default=str, indent=1))}</pre></td></tr>"
                )
            out.append("</table>")
        out.append("</section>")
    out.append('<h2 id="columns">All columns</h2>')
    for key in sorted(report.columns):
        info = report.columns[key]
        out.append(
            f'<details class="column" id="col-{_e(key)}"><summary>{_e(key)}</summary>'
            f"{_column_block(key, info, report)}</details>"
        )
    out.append("</body></html>")
    return printable("\n".join(out))
