"""Edge values derived from the given data: near what the data holds, where code disagrees.

The catalogue (:mod:`featurekit.values.edges`) knows where implementations disagree in
general; the given rows tell where *this* feature's inputs live. Per input, from the observed
values of its column (once per parity run):

* text: the most frequent strings in other case (upper, lower, title, casefold), with
  leading, trailing and inner whitespace (space, NBSP, tab, doubled spaces), in the other
  Unicode normal forms (NFC, NFD, NFKC) and in full-width forms; and every declared known
  category (the input's ``values``);
* numbers: the extremes and quantiles and their neighbours 1 ULP away (1 for ints), values
  just beyond the extremes, round numbers inside the observed range (integers, multiples of 5,
  10, 100 and 1000) and rounding ties at every precision the data shows and one more
  (``x.5``, ``x.x5``, ``x.xx5``: cents in the data give ``12.35``, where ``round(x, 1)`` and
  numpy's scaled rounding disagree);
* timestamps: the extremes 1 µs either side, rounding ties near the median hour (``hh:00:30``,
  ``hh:m2:30``, ``hh:m7:30``, quarter and half hours, half seconds), midnights and month and
  year starts inside the observed span with the microsecond before each, and the DST changes
  inside the span (the instant before and after, the repeated half hour) when the data or the
  input's time zone has them.

Everything is derived in order and deterministically (same rows, same values); at most
``cap`` values per input besides the known categories. Values outside the contract are
filtered later, as for every edge value, when only valid rows are asked for.

>>> from featurekit.spec.model import InputSpec
>>> cents = [9.99, 12.34, 14.5]
>>> [v for v in data_values(InputSpec(name="x", type="float"), cents) if 12.3 < v < 12.36]
[12.35, 12.345, 12.355, 12.339999999999998, 12.34, 12.340000000000002]
>>> data_values(InputSpec(name="s", type="str"), ["gold", "gold", "blue"], cap=6)
['GOLD', 'BLUE', 'Gold', 'Blue', ' gold', ' blue']
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from featurekit.spec.model import InputSpec

DATA_CAP = 64
"""At most this many data-derived values per input (the known categories come on top)."""
FREQUENT = 4
"""How many of the most frequent strings get variants."""
TIES_PER_PRECISION = 6
"""Consecutive rounding ties generated at each decimal precision (from the median down)."""
MAX_DECIMALS = 3
"""Ties are generated at precisions 0 .. min(the data's decimals, this)."""
SAMPLE = 50_000
"""Larger numeric and timestamp columns are read through an evenly strided sample of this size
(numbers keep their true extremes), so that deriving stays cheap for large given data."""
_FULL_WIDTH = {cp: cp + 0xFEE0 for cp in range(0x21, 0x7F)} | {0x20: 0x3000}


def column(rows: Iterable[Mapping[str, Any]], name: str) -> list[Any]:
    """The values of ``name`` in ``rows`` (rows without the key skipped)."""
    return [r[name] for r in rows if name in r]


def _sample(values: Sequence[Any]) -> Sequence[Any]:
    """Every ``k``-th value when there are more than :data:`SAMPLE` (deterministic)."""
    return values if len(values) <= SAMPLE else values[:: -(-len(values) // SAMPLE)]


def frequent_strings(values: Iterable[Any], k: int = FREQUENT) -> list[str]:
    """The ``k`` most frequent non-blank strings, ties in order of first appearance."""
    counts = Counter(v for v in values if isinstance(v, str) and v.strip())
    return [s for s, _ in counts.most_common(k)]


def _string_variants(s: str) -> list[list[str]]:
    """Variants of ``s`` by kind, most telling kinds first."""
    inner = [s.replace(" ", w, 1) for w in ("  ", "\u00a0", "\t")] if " " in s.strip() else []
    return [
        [s.upper(), s.lower(), s.title(), s.casefold()],
        [f" {s}", f"{s} ", f"\u00a0{s}", f"{s}\u00a0", f"\t{s}", f"{s}\t"],
        inner,
        [unicodedata.normalize(form, s) for form in ("NFC", "NFD", "NFKC")],
        [s.translate(_FULL_WIDTH)],
    ]


def _text_values(values: Sequence[Any]) -> list[Any]:
    frequent = frequent_strings(values)
    by_kind = [_string_variants(s) for s in frequent]
    out: list[Any] = []
    for kind in range(len(by_kind[0]) if by_kind else 0):
        for i in range(max(len(v[kind]) for v in by_kind)):
            for s, variants in zip(frequent, by_kind, strict=True):
                if i < len(variants[kind]) and variants[kind][i] != s:
                    out.append(variants[kind][i])
    return out


def _decimals(x: float) -> int:
    """Decimal places in the shortest repr of ``x`` (0 for an integer, capped at 6)."""
    text = repr(float(x))
    if "e" in text or "." not in text:
        return 0 if "e-" not in text else 6
    fraction = text.split(".")[1].rstrip("0")
    return min(len(fraction), 6)


def _ties(median: float, precision: int, count: int) -> list[float]:
    """``count`` consecutive ties at ``precision`` decimals from just below ``median``:
    ``k.5`` (precision 0), ``k.d5`` (1), ...; exact decimal text parsed once, no drift."""
    scale = 10**precision
    base = math.floor(median * scale)
    return [float(f"{(base + j) * 10 + 5}e-{precision + 1}") for j in range(count)]


def _round_numbers(lo: float, hi: float, median: float) -> list[float]:
    out: list[float] = []
    for step in (1, 5, 10, 100, 1000):
        for m in (math.ceil(lo / step), round(median / step), math.floor(hi / step)):
            if lo <= m * step <= hi:
                out.append(float(m * step))
    return out


def _quantiles(ordered: Sequence[Any]) -> list[Any]:
    n = len(ordered)
    return [ordered[int(q * (n - 1))] for q in (0.5, 0.25, 0.75, 0.05, 0.95, 0.01, 0.99)]


def _number_values(spec: InputSpec, values: Sequence[Any]) -> list[Any]:
    finite = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]
    if not finite:
        return []
    ordered = sorted([*_sample(finite), min(finite), max(finite)])
    lo, hi = ordered[0], ordered[-1]
    median = ordered[(len(ordered) - 1) // 2]
    if spec.type == "int":
        ints = [int(x) for x in ordered if abs(x) < 2**62]
        if not ints:
            return []
        a, b, m = ints[0], ints[-1], ints[(len(ints) - 1) // 2]
        out: list[Any] = [a - 1, a, a + 1, b - 1, b, b + 1, a - 10, b + 10]
        out += [int(x) for x in _round_numbers(a, b, m)]
        out += [v + d for v in _quantiles(ints) for d in (-1, 0, 1)]
        return out
    out = [math.nextafter(lo, -math.inf), math.nextafter(lo, math.inf)]
    out += [math.nextafter(hi, -math.inf), math.nextafter(hi, math.inf), lo - 1.0, hi + 1.0]
    precision = min(max(map(_decimals, ordered)), MAX_DECIMALS)
    for p in range(precision + 1 if abs(median) < 1e15 else 0):
        out += [t for t in _ties(median, p, TIES_PER_PRECISION) if lo <= t <= hi]
    out += _round_numbers(lo, hi, median)
    out += [y for q in _quantiles(ordered) for y in (math.nextafter(q, -math.inf), q, math.nextafter(q, math.inf))]
    return out


def _as_datetime(v: Any) -> dt.datetime | None:
    if hasattr(v, "to_pydatetime") and not (v != v):  # pandas Timestamp (not NaT)
        v = v.to_pydatetime()
    return v if isinstance(v, dt.datetime) else None


def _elapsed(t: dt.datetime) -> dt.datetime:
    """``t`` as a point in elapsed time: aware in UTC (aware datetimes sharing a zone compare by
    wall time, which repeats and skips at DST changes), naive as is."""
    return t if t.tzinfo is None else t.astimezone(dt.UTC)


def _shift(t: dt.datetime, delta: dt.timedelta) -> dt.datetime:
    """``t + delta`` in elapsed time (aware datetimes add wall time in their own zone)."""
    if t.tzinfo is None:
        return t + delta
    return (t.astimezone(dt.UTC) + delta).astimezone(t.tzinfo)


_TIE_OFFSETS = tuple(
    dt.timedelta(minutes=m, seconds=s)
    for m, s in ((0, 30), (2, 30), (7, 30), (12, 30), (17, 30), (22, 30), (15, 0), (30, 0), (45, 0), (52, 30))
) + (dt.timedelta(seconds=1.5), dt.timedelta(minutes=1, seconds=0.5))
"""Offsets from a whole hour where rounding to 1 min, 5 min, 15 min, 30 min, 1 h, 1 s ties."""


def _calendar_edges(lo: dt.datetime, hi: dt.datetime, median: dt.datetime) -> list[dt.datetime]:
    """Midnights and month and year starts inside ``[lo, hi]`` (wall time; one a DST gap skips
    becomes the instant it stands for), each with the microsecond before it: the first one, the
    one at the median and the last one."""
    starts = []
    day = lambda t: t.replace(hour=0, minute=0, second=0, microsecond=0, fold=0)  # noqa: E731
    month = lambda t: day(t).replace(day=1)  # noqa: E731
    year = lambda t: month(t).replace(month=1)  # noqa: E731
    for floor, after in ((day, dt.timedelta(days=1)), (month, dt.timedelta(days=32)), (year, dt.timedelta(days=366))):
        first = floor(lo) if floor(lo) == lo else floor(floor(lo) + after)
        starts += [first, floor(median), floor(hi)]
    starts = [s if s.tzinfo is None else _elapsed(s).astimezone(s.tzinfo) for s in starts]  # a skipped midnight
    micro = dt.timedelta(microseconds=1)
    return [t for s in starts for t in (s, _shift(s, -micro)) if _elapsed(lo) <= _elapsed(s) <= _elapsed(hi)]


def _transitions(zone: dt.tzinfo, lo: dt.datetime, hi: dt.datetime, limit: int = 3) -> list[dt.datetime]:
    """UTC instants where ``zone``'s offset changes inside ``[lo, hi]`` (at most ``limit``)."""
    start, end = lo.astimezone(dt.UTC), min(hi.astimezone(dt.UTC), lo.astimezone(dt.UTC) + dt.timedelta(days=3660))
    out: list[dt.datetime] = []
    t = start
    while t < end and len(out) < limit:
        nxt = min(t + dt.timedelta(days=1), end)
        if t.astimezone(zone).utcoffset() != nxt.astimezone(zone).utcoffset():
            a, b = t, nxt
            while b - a > dt.timedelta(minutes=1):
                mid = a + (b - a) / 2
                a, b = (mid, b) if mid.astimezone(zone).utcoffset() == a.astimezone(zone).utcoffset() else (a, mid)
            out.append(b.replace(second=0, microsecond=0))
        t = nxt
    return out


def _dst_values(zone: dt.tzinfo, lo: dt.datetime, hi: dt.datetime, naive: bool) -> list[dt.datetime]:
    out: list[dt.datetime] = []
    for change in _transitions(zone, lo, hi):
        instants = [change - dt.timedelta(microseconds=1), change, change + dt.timedelta(minutes=30)]
        local = [i.astimezone(zone) for i in instants]
        if naive:  # wall times, including the one a gap skips or an overlap repeats
            before = local[0]
            walls = [t.replace(tzinfo=None) for t in local]
            walls.append((before.replace(tzinfo=None) + dt.timedelta(minutes=30, microseconds=1)).replace(second=0))
            out += walls
        else:
            out += local
    return out


def _timestamp_values(spec: InputSpec, values: Sequence[Any]) -> list[Any]:
    try:
        return _instants_near(spec, values)
    except (OverflowError, ValueError):  # data at the ends of the datetime range: none derived
        return []


def _instants_near(spec: InputSpec, values: Sequence[Any]) -> list[Any]:
    instants = [t for t in map(_as_datetime, _sample(values)) if t is not None]
    aware = [t for t in instants if t.tzinfo is not None]
    naive = len(aware) * 2 < len(instants)
    chosen = [t for t in instants if t.tzinfo is None] if naive else aware
    if not chosen:
        return []
    zone = chosen[0].tzinfo
    if not naive:  # via UTC: a wall time a DST gap skips becomes the instant it stands for
        chosen = [t.astimezone(dt.UTC).astimezone(zone) for t in chosen]
    ordered = sorted(chosen, key=_elapsed)
    lo, hi, median = ordered[0], ordered[-1], ordered[(len(ordered) - 1) // 2]
    micro = dt.timedelta(microseconds=1)
    out: list[Any] = []
    hour = median.replace(minute=0, second=0, microsecond=0)
    for h in (hour, _shift(hour, dt.timedelta(hours=1))):
        out += [t for t in (_shift(h, d) for d in _TIE_OFFSETS) if _elapsed(lo) <= _elapsed(t) <= _elapsed(hi)]
    out += [_shift(lo, -micro), _shift(lo, micro), _shift(hi, -micro), _shift(hi, micro)]
    out += _calendar_edges(lo, hi, median)
    dst_zone: dt.tzinfo | None = zone if isinstance(zone, ZoneInfo) else None
    if naive and spec.timezone not in ("UTC", "Etc/UTC"):
        dst_zone = ZoneInfo(spec.timezone)
    if dst_zone is not None:
        as_utc = (lambda t: t.replace(tzinfo=dst_zone)) if naive else (lambda t: t)
        out += _dst_values(dst_zone, as_utc(lo), as_utc(hi), naive)
    out += _quantiles(ordered)
    return out


def data_values(spec: InputSpec, values: Sequence[Any], *, cap: int = DATA_CAP) -> list[Any]:
    """Edge values for one input derived from its observed ``values`` (see the module
    docstring): the declared known categories, then at most ``cap`` others, no duplicates."""
    kind = spec.type
    known: list[Any] = list(spec.values or ()) if kind in ("str", "category") else []
    if kind in ("str", "category"):
        derived = _text_values(values)
    elif kind in ("float", "int"):
        derived = _number_values(spec, values)
    elif kind == "timestamp":
        derived = _timestamp_values(spec, values)
    else:
        derived = []
    seen = {(type(v).__name__, repr(v)) for v in known}
    out: list[Any] = []
    for v in derived:
        key = (type(v).__name__, repr(v))
        if key not in seen:
            seen.add(key)
            out.append(v)
    return known + out[:cap]
