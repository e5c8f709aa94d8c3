"""Time ops over timestamps held as integer microseconds since the Unix epoch, in UTC.

Every calendar field is computed with exact integer arithmetic (floor division; H. Hinnant's
civil-from-days algorithm) in both paths, so results agree bit for bit for any instant from
year 1 to 9999. Inputs are normalized to UTC at the contract boundary: aware values are
converted, naive values are taken to be in the contract's time zone (UTC by default).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from featurekit._lazy import lazy
from featurekit.ir.ops._util import errstate, fixed, map_distinct, map_floats
from featurekit.registry import NUMERIC, Op, Param, ParamError, register
from featurekit.types import DType
from featurekit.values import rowlib
from featurekit.values.column import Column
from featurekit.values.parse import is_time_zone, parse_timestamp

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy("numpy")

TS = frozenset({DType.TIMESTAMP})
STR = frozenset({DType.STR})
US_PER_HOUR = 3_600_000_000
US_PER_DAY = 86_400_000_000


_FIELD_RANGES = {
    "hour": (0, 23),
    "day_of_week": (0, 6),
    "day_of_month": (1, 31),
    "month": (1, 12),
    "year": (-300_000, 300_000),
}


def _field(name: str, doc: str, batch, row, dtype: DType = DType.INT, attribute: str | None = None) -> None:
    """Register a calendar field op; ``attribute`` reads the same number off a UTC datetime,
    which the row path uses when the argument is a timestamp input (``ctx.datetime_of``)."""
    rng = _FIELD_RANGES.get(name)

    def row_expr(ctx, a, p, s, t):
        dt = ctx.datetime_of(0) if attribute else None
        return f"({dt}.{attribute} if {dt} is not None else {row(a[0])})" if dt else row(a[0])

    register(
        Op(
            name=name,
            doc=doc + "\n\n    Null rule: propagate. Tolerance: exact.",
            args=(TS,),
            dtype_rule=fixed(dtype),
            int_range=(lambda p, r: rng) if rng else None,
            batch=lambda args, p, s: batch(args[0].values),
            row=row_expr,
            reads_datetime=attribute is not None,
        )
    )


_field(
    "hour",
    "``hour(ts)``: hour of the day in UTC, 0-23: ``(us // 3600e6) % 24``.",
    lambda v: (v // US_PER_HOUR) % 24,
    lambda a: f"(({a} // {US_PER_HOUR}) % 24)",
    attribute="hour",
)
_field(
    "day_of_week",
    "``day_of_week(ts)``: day of the week in UTC, Monday = 0 ... Sunday = 6.",
    lambda v: (v // US_PER_DAY + 3) % 7,
    lambda a: f"(({a} // {US_PER_DAY} + 3) % 7)",
    attribute="weekday()",
)
_field(
    "is_weekend",
    "``is_weekend(ts)``: Saturday or Sunday in UTC.",
    lambda v: (v // US_PER_DAY + 3) % 7 >= 5,
    lambda a: f"(({a} // {US_PER_DAY} + 3) % 7 >= 5)",
    DType.BOOL,
    attribute="weekday() >= 5",
)
_field(
    "day_of_month",
    "``day_of_month(ts)``: day of the month in UTC, 1-31.",
    lambda v: rowlib.civil_date(v)[2],
    lambda a: f"_civil({a})[2]",
    attribute="day",
)
_field(
    "month",
    "``month(ts)``: month in UTC, 1-12.",
    lambda v: rowlib.civil_date(v)[1],
    lambda a: f"_civil({a})[1]",
    attribute="month",
)
_field(
    "year",
    "``year(ts)``: calendar year in UTC.",
    lambda v: rowlib.civil_date(v)[0],
    lambda a: f"_civil({a})[0]",
    attribute="year",
)
_field(
    "epoch_seconds",
    "``epoch_seconds(ts)``: seconds since 1970-01-01T00:00:00Z as a float, ``float(us) / 1e6``.",
    lambda v: v / 1e6,
    lambda a: f"({a} / 1e6)",
    DType.FLOAT,
)


def _between(name: str, divisor: str, doc: str) -> None:
    def batch(args, p, s):
        seconds = (args[1].values - args[0].values) / 1e6
        return seconds if divisor == "1" else seconds / 86400.0

    def row(ctx, a, p, s, t):
        seconds = f"(({a[1]} - {a[0]}) / 1e6)"
        return seconds if divisor == "1" else f"({seconds} / 86400.0)"

    register(
        Op(
            name=name,
            doc=doc + "\n\n    Null rule: propagate. Tolerance: exact.",
            args=(TS, TS),
            dtype_rule=fixed(DType.FLOAT),
            batch=batch,
            row=row,
        )
    )


_between(
    "seconds_between",
    "1",
    """``seconds_between(start, end)``: ``end - start`` in seconds,
    as a float: the exact microsecond difference converted to float, divided by ``1e6`` (equal
    to ``timedelta.total_seconds()`` for spans under 285 years).""",
)
_between(
    "days_between",
    "86400",
    """``days_between(start, end)``: ``seconds_between(start, end) / 86400.0``
    (a fractional number of days; negative when ``end`` is earlier).""",
)


def _cyclical(args, p, s):
    with errstate():
        angle = (2.0 * math.pi) * args[0].values / p.period
    return map_floats(rowlib._sin if p.part == "sin" else rowlib._cos, angle)


register(
    Op(
        name="cyclical",
        doc="""``cyclical(x, period, part="sin")``: ``sin`` or ``cos`` of ``2*pi*x/period``, e.g.
    ``cyclical(hour(ts), period=24)`` so 23:00 and 00:00 are neighbours. Computed as
    ``(2*pi) * x / period``. Null rule: propagate. Tolerance: exact (both paths call CPython's
    ``math.sin``/``math.cos``; the angle is IEEE arithmetic in the same order).""",
        args=(NUMERIC,),
        float_args=True,
        dtype_rule=fixed(DType.FLOAT),
        params={
            "period": Param("number", min=1e-300, finite=True),
            "part": Param("str", default="sin", choices=("sin", "cos")),
        },
        batch=_cyclical,
        row=lambda ctx, a, p, s, t: f"_{p.part}({2.0 * math.pi!r} * {a[0]} / {ctx.lit(p.period)})",
        test_params=({"period": 24.0}, {"period": 7.0, "part": "cos"}),
    )
)


def _parse_batch(args, p, s):
    values, none = map_distinct(args[0].values, lambda text: parse_timestamp(text, p.format, p.tz), np.int64)
    return Column(values, none)


def _check_tz(p) -> None:
    if not is_time_zone(p.tz):
        raise ParamError(
            f"tz {p.tz!r} is not a time zone this host knows", fix="use an IANA name like Europe/Berlin (or UTC)"
        )


register(
    Op(
        name="parse_timestamp",
        doc="""``parse_timestamp(s, format=, tz="UTC")``: text to a timestamp.

    Without ``format``, ISO 8601 as ``datetime.fromisoformat`` reads it; with ``format``,
    ``datetime.strptime(s, format)``. A value without a UTC offset is taken to be in ``tz``
    (an IANA name). Unparseable text gives null. Both paths run the same Python parser (the
    batch path once per distinct value). Null rule: propagate, plus null on a parse failure.
    Tolerance: exact.""",
        args=(STR,),
        dtype_rule=fixed(DType.TIMESTAMP),
        may_yield_null=lambda n, p, t, r=None: True,
        params={"format": Param("str", default=None), "tz": Param("str", default="UTC")},
        check_params=_check_tz,
        batch=_parse_batch,
        row=lambda ctx, a, p, s, t: f"_parse_ts({a[0]}, {p.format!r}, {p.tz!r})",
        test_params=({}, {"format": "%Y-%m-%d %H:%M", "tz": "Europe/Berlin"}),
    )
)
