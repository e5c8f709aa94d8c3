"""The HTML skew report laid out by a real browser (headless Chromium): layout facts from the DOM.

The page itself has no scripts; the test adds one that opens every ``<details>``, measures each
chart's axis labels with ``getBoundingClientRect`` and writes what it found into the page, which
Chromium's ``--dump-dom`` prints after layout. A screenshot of the same page is taken too.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess

import pytest

from featurekit.skew import skew_report

from .conftest import serve

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium on PATH: install Debian's `chromium` package (make test does, as root with apt-get)",
)

# flags for a sandboxed machine without network: no sandbox (root), no background connections
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]

MEASURE = """
<pre id="fk-layout"></pre>
<script>
document.querySelectorAll('details').forEach(d => { d.open = true; });
const box = e => { const r = e.getBoundingClientRect(); return {l: r.left, r: r.right, t: r.top, b: r.bottom}; };
const charts = [...document.querySelectorAll('svg.bars')].map(svg => ({
  title: svg.getAttribute('aria-label'), kind: svg.dataset.kind, box: box(svg),
  labels: [...svg.querySelectorAll('text.xlabel')].map(t => ({
    shown: [...t.childNodes].filter(n => n.nodeType === 3).map(n => n.data).join(''),
    tooltip: t.querySelector('title') ? t.querySelector('title').textContent : null,
    box: box(t)}))}));
const sections = [...document.querySelectorAll('section.finding')].map(s =>
  [s.dataset.kind, s.dataset.column, s.dataset.metric]);
const rows = [...document.querySelectorAll('tr.finding-row')].map(r =>
  [...r.cells].map(c => c.textContent));
document.getElementById('fk-layout').textContent = JSON.stringify({charts, sections, rows});
</script>
"""


def _run(args: list[str], tmp_path) -> str:
    cmd = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _lay_out(report, tmp_path):
    page = report.to_html()
    assert "<script" not in page  # the report itself stays script-free
    (tmp_path / "report.html").write_text(page, encoding="utf-8")
    measured = tmp_path / "measured.html"
    measured.write_text(page.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    dom = _run(["--window-size=1300,2000", "--dump-dom", measured.as_uri()], tmp_path)
    found = re.search(r'<pre id="fk-layout">(.*?)</pre>', dom, re.S)
    assert found, "the measuring script did not run"
    shot = tmp_path / "report.png"
    _run(["--window-size=1300,2400", f"--screenshot={shot}", (tmp_path / "report.html").as_uri()], tmp_path)
    return report, json.loads(html.unescape(found.group(1))), shot


@pytest.fixture(scope="module")
def laid_out(fitted, drifted_log, tmp_path_factory):
    """The churn drift fixture's report (tests/skew/conftest.py), laid out."""
    return _lay_out(skew_report(fitted, drifted_log), tmp_path_factory.mktemp("browser"))


LONG = "Saint Helena, Ascension and Tristan da Cunha"


@pytest.fixture(scope="module")
def long_labels(fitted, rows, tmp_path_factory):
    """A day of traffic where every third country is a long name training never saw."""
    tmp_path = tmp_path_factory.mktemp("long")
    log = str(tmp_path / "serving.jsonl")
    serve(fitted, rows, log, days=1, drift=lambda day, i, row: {**row, "country": LONG} if i % 3 == 0 else row)
    return _lay_out(skew_report(fitted, log), tmp_path)


def test_screenshot_is_taken(laid_out):
    _, _, shot = laid_out
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


@pytest.mark.parametrize("page", ["laid_out", "long_labels"])
def test_axis_labels_do_not_overlap_and_stay_inside_their_chart(page, request):
    _, facts, _ = request.getfixturevalue(page)
    assert len(facts["charts"]) > 30
    for chart in facts["charts"]:
        boxes = sorted((label["box"] for label in chart["labels"]), key=lambda b: b["l"])
        assert boxes, chart["title"]
        for a, b in zip(boxes, boxes[1:]):
            assert a["r"] <= b["l"] + 0.5 or a["b"] <= b["t"] + 0.5, (chart["title"], a, b)
        frame = chart["box"]
        for b in boxes:
            assert frame["l"] - 0.5 <= b["l"] and b["r"] <= frame["r"] + 0.5, (chart["title"], b, frame)
            assert frame["t"] - 0.5 <= b["t"] and b["b"] <= frame["b"] + 0.5, (chart["title"], b, frame)


@pytest.mark.parametrize("page", ["laid_out", "long_labels"])
def test_no_category_label_is_cut_without_a_tooltip_holding_all_of_it(page, request):
    report, facts, _ = request.getfixturevalue(page)
    cut = []
    for chart in facts["charts"]:
        key, _, what = chart["title"].partition(": ")
        if not what.startswith("category shares"):
            continue
        values = [str(v) for v, _, _ in report.columns[key]["top"][:20]]
        assert len(values) == len(chart["labels"]), key
        for value, label in zip(values, chart["labels"]):
            if label["tooltip"] is None:  # shown whole; a blank value quoted so it is visible
                assert label["shown"] == (value if value.strip() else repr(value)), (key, label)
            else:
                assert label["tooltip"] == value and label["shown"].endswith("…"), (key, label)
                assert value.startswith(label["shown"][:-1]), (key, label)
                cut.append(value)
    assert (LONG in cut) == (page == "long_labels")


def test_integer_axes_are_labelled_with_integers(laid_out):
    _, facts, _ = laid_out
    integer_charts = [c for c in facts["charts"] if c["kind"] == "int"]
    assert integer_charts  # tenure_days, num_support_tickets, ...
    for chart in integer_charts:
        for label in chart["labels"]:
            assert re.fullmatch(r"[<>≤]-?\d+", label["shown"]), (chart["title"], label["shown"])


def test_each_finding_is_shown_once(laid_out):
    report, facts, _ = laid_out
    expected = sorted([f.kind, f.column, f.metric] for f in report.findings)
    assert sorted(facts["sections"]) == expected
    assert len({tuple(r) for r in facts["rows"]}) == len(facts["rows"]) == len(report.findings)
