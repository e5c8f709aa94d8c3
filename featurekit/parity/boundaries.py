"""Boundary search: where the batch side's outputs change along one numeric or time input.

Edge values (:mod:`featurekit.parity.generation`) know the thresholds written in the spec and
the fitted state; a threshold that lives only in code (a serving ``x > 1000`` where training
has ``x >= 1000``, a team's own bucket edges) is hit by none of them. For each int, float and
timestamp input, :func:`search_boundaries` takes a base row (the first given row, else an
all-null row), sweeps a **ladder** of values for that input (the given values, the contract
bounds, fitted numbers and spec literals, a 1-2-5 log ladder, a few seeded random values),
runs the batch side once on all ladder rows, and between every two adjacent ladder values whose
outputs differ, bisects down to the change: to adjacent doubles for floats (in the ordered
integer representation of doubles, so about 64 halvings at most), to one integer step for
ints, to one microsecond for timestamps (in the base value's zone, or naive if it is naive).
Each round splits every open interval at ``segments - 1`` points, and all probes of a round,
across inputs, go into **one** batch call, so a search costs a few dozen batch calls.

Outputs are compared with :class:`~featurekit.values.equality.Equality` (the run's mode) on
the columns that behave like steps along the input (they change between at most half of the
adjacent ladder pairs): a continuous feature (``log1p(x)``) changes everywhere and has no
boundary to find. A column that changes in every segment of an interval is continuous there
(a clipped value between its bounds) and stops counting in that interval; the rarest changes
are searched first. A column that changes between most ladder values (continuous, or steps
finer than the ladder: 5-minute slots of a timestamp) is searched only in the two narrowest
intervals where it changes. A row on which the batch side raises has no output: no interval is
searched across it.

Each boundary yields rows for both sides: the last value before the change, the first value
after it, and one more neighbour on each side. The search is deterministic for a seed and
bounded: at most ``budget`` boundaries per input, ``max_calls`` batch calls and
``max_probe_rows`` probe rows overall.

>>> from featurekit.spec.model import InputSpec
>>> def batch(rows):  # a threshold that lives only in the code
...     return [{"big": int(r["x"] >= 1234.5678)} for r in rows]
>>> found = search_boundaries(batch, [InputSpec(name="x", type="float", min=0)], [{"x": 10.0}])
>>> [(b.input, b.before, b.after) for b in found.boundaries]
[('x', 1234.5677999999998, 1234.5678)]
>>> [r["x"] for r in found.rows]
[1234.5677999999996, 1234.5677999999998, 1234.5678, 1234.5678000000003]
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import random
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from featurekit.parity.generation import Stated, numbers_in, spec_literals
from featurekit.values.equality import MISSING, Equality, Mode, Raised, float_at, float_order

if TYPE_CHECKING:
    from featurekit.spec.model import InputSpec

BatchRunner = Callable[[Sequence[Mapping[str, Any]]], list[Any]]
"""Rows -> per row the batch side's output dict or a :class:`Raised` (one batch call)."""

BUDGET = 8
"""Default: at most this many boundaries per input."""
MAX_CALLS = 32
"""Default: at most this many batch calls per search (the ladder call included)."""
MAX_PROBE_ROWS = 12_000
"""Default: at most this many probe rows per search, over all calls."""
SEGMENTS = 16
"""Each round splits an open interval into this many segments (4 bits per round)."""
GIVEN_CAP = 64
"""At most this many given values (evenly spread over their sorted order) per ladder."""
NUMBERS_CAP = 64
"""At most this many fitted numbers and spec literals per ladder."""
RANDOM_POINTS = 16
"""Seeded random ladder values per input."""
BUSY_PAIRS = 2
"""Per input, the columns that change between most ladder values are searched only in this many
of the narrowest intervals where they change."""

_MAX_FLOAT = 1.7976931348623157e308
_EPOCH_UTC = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_EPOCH_NAIVE = dt.datetime(1970, 1, 1)
_US = dt.timedelta(microseconds=1)
_TIME_LO = (dt.datetime(1700, 1, 1) - _EPOCH_NAIVE) // _US
_TIME_HI = (dt.datetime(2250, 1, 1) - _EPOCH_NAIVE) // _US
_TIME_STEPS = [
    dt.timedelta(seconds=s)
    for s in (1, 60, 3600, 86400, 7 * 86400, 30 * 86400, 365 * 86400, 3650 * 86400, 36500 * 86400)
]
_TIME_ANCHORS = [dt.datetime(y, 1, 1) for y in (1900, 1950, 1970, 2000, 2010, 2020, 2024, 2025, 2026, 2027, 2030, 2100)]


@dataclasses.dataclass(frozen=True)
class Boundary:
    """One change of the batch side's outputs along ``input``, from ``before`` to ``after``
    (adjacent values: 1 ULP, 1, or 1 µs apart), in the step-like ``columns`` that changed."""

    input: str
    before: Any
    after: Any
    columns: tuple[str, ...]


@dataclasses.dataclass
class Search:
    """What a search found and what it cost."""

    boundaries: list[Boundary]
    rows: list[dict[str, Any]]
    calls: int
    probe_rows: int


# ------------------------------------------------------------------------------ value axes


class _Axis:
    """An input's values as integer keys: ordered, adjacent keys are adjacent values."""

    lo: int
    hi: int

    def key(self, value: Any) -> int | None:
        raise NotImplementedError

    def value(self, key: int) -> Any:
        raise NotImplementedError

    def ladder(self, base: Any) -> list[int]:
        raise NotImplementedError


def _log_ladder(exponents: range) -> list[float]:
    out = [0.0]
    for e in exponents:
        for m in (1, 2, 5):
            out += [m * 10.0**e, -m * 10.0**e]
    return out


class _FloatAxis(_Axis):
    def __init__(self, spec: InputSpec) -> None:
        self.lo = float_order(float(spec.min) if spec.min is not None else -_MAX_FLOAT)
        self.hi = float_order(float(spec.max) if spec.max is not None else _MAX_FLOAT)

    def key(self, value: Any) -> int | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        try:
            x = float(value)
        except OverflowError:
            return None
        return float_order(x) if math.isfinite(x) else None

    def value(self, key: int) -> float:
        return float_at(key)

    def ladder(self, base: Any) -> list[int]:
        return [float_order(x) for x in _log_ladder(range(-3, 13))]


class _IntAxis(_Axis):
    def __init__(self, spec: InputSpec) -> None:
        self.lo = math.ceil(spec.min) if spec.min is not None else -(2**63)
        self.hi = math.floor(spec.max) if spec.max is not None else 2**63 - 1

    def key(self, value: Any) -> int | None:
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, float) and math.isfinite(value):
            return math.floor(value)
        return None

    def value(self, key: int) -> int:
        return key

    def ladder(self, base: Any) -> list[int]:
        return [int(x) for x in _log_ladder(range(0, 19))]


class _TimeAxis(_Axis):
    """Microseconds since the epoch: UTC for aware values (kept in ``tz``), wall time for naive."""

    def __init__(self, base: Any) -> None:
        self.lo, self.hi = _TIME_LO, _TIME_HI
        self.tz: dt.tzinfo | None = dt.UTC
        if isinstance(base, dt.datetime):
            self.tz = base.tzinfo

    def key(self, value: Any) -> int | None:
        if not isinstance(value, dt.datetime):
            return None
        to_py = getattr(value, "to_pydatetime", None)
        value = to_py() if callable(to_py) else value
        if value.tzinfo is None:
            return (
                (value - _EPOCH_NAIVE) // _US if self.tz is None else (value.replace(tzinfo=dt.UTC) - _EPOCH_UTC) // _US
            )
        return (value - _EPOCH_UTC) // _US if self.tz is not None else None

    def value(self, key: int) -> dt.datetime:
        if self.tz is None:
            return _EPOCH_NAIVE + key * _US
        return (_EPOCH_UTC + key * _US).astimezone(self.tz)

    def ladder(self, base: Any) -> list[int]:
        anchors = [a if self.tz is None else a.replace(tzinfo=dt.UTC) for a in _TIME_ANCHORS]
        out = [self.key(a) for a in anchors]
        b = self.key(base)
        if b is not None:
            out += [b + sign * (step // _US) for step in _TIME_STEPS for sign in (-1, 1)]
        return [k for k in out if k is not None]


def _axis(spec: InputSpec, base: Any) -> _Axis | None:
    if spec.type == "float":
        return _FloatAxis(spec)
    if spec.type == "int":
        return _IntAxis(spec)
    if spec.type == "timestamp":
        return _TimeAxis(base)
    return None


# ------------------------------------------------------------------------------ comparing outputs


class _Outputs:
    """Whether two batch results differ, on a set of columns, under an :class:`Equality`."""

    def __init__(self, equality: Equality) -> None:
        self.equality = equality

    def changed(self, a: Any, b: Any, columns: Sequence[str]) -> list[str] | None:
        """The columns that differ; None if either side raised (no output to compare)."""
        if isinstance(a, Raised) or isinstance(b, Raised):
            return None
        out = []
        for col in columns:
            x, y = a.get(col, MISSING), b.get(col, MISSING)
            if type(x) is type(y) and x == y and (type(x) is not float or x != 0.0):
                continue
            if self.equality.mismatch(x, y) is not None:
                out.append(col)
        return out


def _step_columns(
    results: Sequence[Any], outputs: _Outputs, watched: Sequence[str] | None = None
) -> tuple[list[str], list[str]]:
    """The columns that change between at most half of the adjacent ladder results (steps),
    and those that change between more (busy: continuous, or steps closer than the ladder)."""
    done = [r for r in results if not isinstance(r, Raised)]
    columns = list(watched) if watched is not None else list(dict.fromkeys(c for r in done for c in r))
    pairs = max(len(done) - 1, 1)
    steps, busy = [], []
    for col in columns:
        changes = sum(bool(outputs.changed(a, b, [col])) for a, b in zip(done, done[1:]))
        if 0 < changes <= pairs / 2:
            steps.append(col)
        elif changes:
            busy.append(col)
    return steps, busy


# ------------------------------------------------------------------------------ the search


def _spread(values: Sequence[int], cap: int) -> list[int]:
    if len(values) <= cap:
        return list(values)
    return [values[round(i * (len(values) - 1) / (cap - 1))] for i in range(cap)]


@dataclasses.dataclass
class _Interval:
    lo: int
    hi: int
    lo_out: Any
    hi_out: Any
    columns: list[str]


@dataclasses.dataclass
class _Line:
    """One input's search: its axis, base row, step columns, open intervals and findings."""

    name: str
    axis: _Axis
    base: dict[str, Any]
    columns: list[str] = dataclasses.field(default_factory=list)
    queue: list[_Interval] = dataclasses.field(default_factory=list)
    found: list[Boundary] = dataclasses.field(default_factory=list)

    def row(self, key: int) -> dict[str, Any]:
        return {**self.base, self.name: self.axis.value(key)}


def _ladder(line: _Line, given: Sequence[Mapping[str, Any]], numbers: Sequence[float], rng: random.Random) -> list[int]:
    axis = line.axis
    keys = sorted({k for k in (axis.key(r.get(line.name)) for r in given) if k is not None})
    out = set(_spread(keys, GIVEN_CAP))
    if not isinstance(axis, _TimeAxis):
        nums = sorted({k for k in (axis.key(x) for x in numbers) if k is not None})
        out.update(_spread(nums, NUMBERS_CAP))
    out.update(axis.ladder(line.base.get(line.name)))
    out.update((axis.lo, axis.hi))
    inside = sorted(k for k in out if axis.lo <= k <= axis.hi)
    if len(inside) >= 2:
        out.update(rng.randint(inside[0], inside[-1]) for _ in range(RANDOM_POINTS))
    return sorted(k for k in out if axis.lo <= k <= axis.hi)


def search_boundaries(
    batch: BatchRunner,
    inputs: Sequence[InputSpec],
    base_rows: Sequence[Mapping[str, Any]] = (),
    *,
    numbers: Sequence[float] = (),
    budget: int = BUDGET,
    seed: int = 0,
    equality: Mode = "value",
    max_calls: int = MAX_CALLS,
    max_probe_rows: int = MAX_PROBE_ROWS,
    segments: int = SEGMENTS,
    columns: Sequence[str] | None = None,
) -> Search:
    """Boundaries of ``batch`` along each int, float and timestamp input (module docstring).

    ``base_rows``: the given rows (the first is the base row; all give ladder values);
    ``numbers``: fitted numbers and spec literals for the ladder (:func:`stated_numbers`);
    ``columns``: the output columns to watch (default: every column the batch side returns).
    """
    base = dict(base_rows[0]) if base_rows else {i.name: None for i in inputs}
    rng = random.Random(seed)
    outputs = _Outputs(Equality(mode=equality))
    lines = []
    for spec in inputs:
        axis = _axis(spec, base.get(spec.name))
        if axis is not None and axis.lo < axis.hi and budget > 0:
            lines.append(_Line(spec.name, axis, base))
    search = Search([], [], 0, 0)
    if not lines or max_calls < 1:
        return search
    ladders = [_ladder(line, base_rows, numbers, rng) for line in lines]
    # ladders take at most half the probe rows (inputs in order; the rest is for bisection)
    fits = [sum(map(len, ladders[: n + 1])) <= max_probe_rows // 2 for n in range(len(ladders))]
    lines, ladders = [x for x, ok in zip(lines, fits) if ok], [x for x, ok in zip(ladders, fits) if ok]
    if not lines:
        return search
    results = _call(batch, [line.row(k) for line, keys in zip(lines, ladders) for k in keys], search)
    at = 0
    for line, keys in zip(lines, ladders):
        outs, at = results[at : at + len(keys)], at + len(keys)
        line.columns, busy = _step_columns(outs, outputs, columns)
        pairs, busy_pairs = [], []
        for a, b, x, y in zip(keys, keys[1:], outs, outs[1:]):
            changed = outputs.changed(x, y, line.columns) if line.columns else None
            if changed:
                pairs.append(_Interval(a, b, x, y, changed))
            changed = outputs.changed(x, y, busy) if busy else None
            if changed:
                busy_pairs.append(_Interval(a, b, x, y, changed))
        # the rarest changes first (steps before a clipped or piecewise continuous column's
        # changes), ties in a seeded order
        count = {c: sum(c in iv.columns for iv in pairs) for c in line.columns}
        rng.shuffle(pairs)
        line.queue = sorted(pairs, key=lambda iv: min(count[c] for c in iv.columns))
        # busy columns: only in the narrowest intervals where they change (one round shows a
        # continuous column; steps finer than the ladder, such as 5-minute slots, remain)
        for iv in sorted(busy_pairs, key=lambda iv: iv.hi - iv.lo)[:BUSY_PAIRS]:
            same = next((p for p in line.queue if (p.lo, p.hi) == (iv.lo, iv.hi)), None)
            if same is None:
                line.queue.append(iv)
            else:
                same.columns = same.columns + iv.columns
    while search.calls < max_calls:
        plan = _plan(lines, budget, segments, max_probe_rows - search.probe_rows, outputs)
        if not plan:
            break
        probes = [line.row(k) for line, _, points in plan for k in points]
        results = _call(batch, probes, search) if probes else []
        at = 0
        for line, interval, points in plan:
            outs, at = results[at : at + len(points)], at + len(points)
            _split(line, interval, points, outs, outputs)
    for line in lines:
        for boundary in line.found:
            lo, hi = line.axis.key(boundary.before), line.axis.key(boundary.after)
            assert lo is not None and hi is not None
            for k in (lo - 1, lo, hi, hi + 1):
                if line.axis.lo <= k <= line.axis.hi:
                    search.rows.append(line.row(k))
        search.boundaries += line.found
    return search


def stated_numbers(stated: Stated) -> list[float]:
    """The finite numbers in a fitted state and the spec's literals (ladder values)."""
    literals = [v for v in spec_literals(stated.spec) if isinstance(v, float)]
    return [x for x in [*numbers_in(stated.state_), *literals] if math.isfinite(x)]


def _call(batch: BatchRunner, rows: list[dict[str, Any]], search: Search) -> list[Any]:
    search.calls += 1
    search.probe_rows += len(rows)
    return batch(rows)


def _plan(
    lines: Sequence[_Line], budget: int, segments: int, rows_left: int, outputs: _Outputs
) -> list[tuple[_Line, _Interval, list[int]]]:
    """This round's probes: per open interval (at most the budget left per input), its split
    points; adjacent intervals become boundaries first. Inputs take turns for the row budget."""
    for line in lines:
        for interval in [iv for iv in line.queue if iv.hi - iv.lo == 1]:
            if len(line.found) < budget:
                line.found.append(
                    Boundary(
                        line.name, line.axis.value(interval.lo), line.axis.value(interval.hi), tuple(interval.columns)
                    )
                )
            line.queue.remove(interval)
    open_ = [line.queue[: max(budget - len(line.found), 0)] for line in lines]
    plan: list[tuple[_Line, _Interval, list[int]]] = []
    for depth in range(max(map(len, open_), default=0)):
        for line, intervals in zip(lines, open_):
            if depth < len(intervals):
                iv = intervals[depth]
                n = min(segments, iv.hi - iv.lo)
                points = sorted({iv.lo + (iv.hi - iv.lo) * j // n for j in range(1, n)} - {iv.lo, iv.hi})
                if len(points) > rows_left:
                    return plan
                rows_left -= len(points)
                plan.append((line, iv, points))
    return plan


def _split(line: _Line, interval: _Interval, points: list[int], outs: list[Any], outputs: _Outputs) -> None:
    """Replace ``interval`` in its line's queue by its sub-intervals whose ends differ.

    A column that changes in every segment (of four or more) is continuous here, not a step:
    it no longer counts in this interval's sub-intervals.
    """
    keys, results = [interval.lo, *points, interval.hi], [interval.lo_out, *outs, interval.hi_out]
    segments = [
        (a, b, x, y, outputs.changed(x, y, interval.columns))
        for a, b, x, y in zip(keys, keys[1:], results, results[1:])
    ]
    columns = interval.columns
    if len(segments) >= 4:
        columns = [c for c in columns if not all(ch and c in ch for *_, ch in segments)]
    children = []
    for a, b, x, y, changed in segments:
        still = [c for c in changed or () if c in columns]
        if still:
            children.append(_Interval(a, b, x, y, still))
    at = line.queue.index(interval)
    line.queue[at : at + 1] = children
