"""The self-contained HTML skew report: inline CSS and SVG only (no scripts, no network).

It reads a :class:`featurekit.skew.report.SkewReport` by its attributes and does not import it
(the report imports this module for :meth:`~featurekit.skew.report.SkewReport.to_html`).
"""

from __future__ import annotations

import html
import json
from typing import Any

from featurekit.skew.text import printable

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}.critical{color:#b00020;font-weight:bold}.warning{color:#b36b00;font-weight:bold}
.info{color:#666}.ok{color:#1b7f3b;font-weight:bold}.fail{color:#b00020}
section.finding{border-left:4px solid #ccc;padding:.3em 1em;margin:1em 0}
section.finding.critical{border-color:#b00020}section.finding.warning{border-color:#e09000}
section.finding.info{border-color:#aaa}.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}
code,pre{font:12px ui-monospace,monospace;background:#f7f7f7}pre{padding:.5em;overflow:auto}
"""

_TRAIN, _SERVE = "#4c78a8", "#f58518"


def _e(v: Any) -> str:
    return html.escape(str(v), quote=True)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return _e(v)


def _bars_svg(
    labels: list[str],
    train: list[float | None],
    serve: list[float],
    title: str,
    *,
    shares: bool = False,
    bound: float | None = None,
) -> str:
    """Grouped bars, training vs serving, on one scale.

    ``shares``: the values are shares of all records already and are drawn as they are (a
    subset of categories must not be rescaled to sum to 1); otherwise they are counts, drawn
    as shares of their sum. A training share of None (a value outside the baseline's kept top
    values) is drawn as a dashed outline up to ``bound``, the most it can have been.
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
    w, h, pad = max(320, 36 * k), 170, 30
    bw = (w - pad) / k
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h + 40}" role="img" '
        f'aria-label="{_e(title)}"><title>{_e(title)}</title>'
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
        parts.append(
            f'<text x="{x + bw / 2:.1f}" y="{h + 14}" font-size="9" text-anchor="middle">{_e(labels[i][:9])}</text>'
        )
    parts.append(f'<line x1="{pad}" y1="{h}" x2="{w}" y2="{h}" stroke="#999"/>')
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


def _hist_labels(edges: list[float]) -> list[str]:
    out = [f"<{edges[0]:.3g}"]
    out += [f"≤{e:.3g}" for e in edges[1:]]
    out.append(f">{edges[-1]:.3g}")
    return out


def _column_block(key: str, info: dict[str, Any], report: Any) -> str:
    parts = []
    hist = info.get("histogram")
    if hist:
        parts.append(
            _bars_svg(
                _hist_labels(hist["edges"]),
                hist["training"],
                hist["serving"],
                f"{key}: training vs serving histogram on training edges",
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
        else f'<span class="critical">FAILED: {len(report.failing)} finding(s) over threshold</span>'
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
                f'<tr><td class="{_e(f.severity)}">{_e(f.severity)}</td><td>{_e(f.kind)}</td>'
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
